#![deny(warnings)]
// Hash collections in a workflow body: lookups, inserts and lengths are deterministic and allowed;
// ordered collections may be iterated; a reviewed iteration goes through `unchecked`.
use durable_runtime::{durable_step, durable_workflow, unchecked, DurableContext, Error};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[durable_step]
async fn price(item: String) -> Result<u32, Error> {
    Ok(item.len() as u32)
}

fn parts(name: String) -> Vec<String> {
    name.split('-').map(str::to_owned).collect()
}

#[durable_workflow]
async fn total(ctx: DurableContext, orders: HashMap<String, u32>) -> Result<u32, Error> {
    let _ = &ctx;
    let mut sorted: Vec<(&String, &u32)> = unchecked(orders.iter()).into_inner().collect();
    sorted.sort();
    let mut sum = 0;
    for (item, quantity) in sorted {
        sum += price(item.clone()).await? * quantity;
    }
    let ordered: BTreeMap<String, u32> = BTreeMap::from([("a".to_owned(), 1)]);
    for (item, quantity) in &ordered {
        sum += price(item.clone()).await? * quantity;
    }
    let tags: BTreeSet<u32> = ordered.values().copied().collect();
    // An iterated call that moves its argument: it is evaluated once, as written.
    let label = String::from("a-b");
    for part in parts(label) {
        sum += part.len() as u32;
    }
    let mut seen: HashSet<u32> = HashSet::new();
    seen.insert(sum);
    let known = orders.get("a").copied().unwrap_or(0) + u32::from(orders.contains_key("b"));
    Ok(sum + known + seen.len() as u32 + tags.len() as u32 + orders.len() as u32)
}

fn main() {
    let _ = total;
}

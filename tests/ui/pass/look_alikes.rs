#![deny(warnings)]
// Names that look like the determinism rules but are deterministic: no false alarms.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::collections::{BTreeMap, HashMap};

struct Clock {
    now: u64,
}

struct Timers {
    sleep: u64,
    spawn: u64,
}

fn now() -> u64 {
    7
}

fn spawn_label(n: u64) -> String {
    format!("label-{n}")
}

mod my {
    pub fn random() -> u64 {
        4 // chosen by a fair dice roll
    }
}

#[durable_workflow]
async fn run(ctx: DurableContext, input: u64) -> Result<u64, Error> {
    let _ = &ctx;
    let clock = Clock { now: now() };
    let timers = Timers { sleep: 1, spawn: 2 };
    let label = spawn_label(clock.now);
    let mut totals: BTreeMap<u64, u64> = BTreeMap::new();
    let mut seen: HashMap<u64, bool> = HashMap::new();
    let items: Vec<u64> = vec![input, my::random(), timers.sleep, timers.spawn];
    for (i, item) in items.iter().enumerate() {
        match item % 2 {
            0 => {
                totals.insert(i as u64, *item);
            }
            _ => {
                seen.insert(*item, true);
            }
        }
    }
    let mut n = 0;
    while n < 3 {
        n += 1;
    }
    let closure = |x: u64| x + label.len() as u64;
    Ok(closure(totals.values().sum::<u64>() + seen.len() as u64 + n))
}

fn main() {
    let _ = run;
}

// Collecting the keys of a `HashMap` keeps hash order, which reaches the steps started per key.
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use std::collections::HashMap;

#[durable_step]
async fn notify(user: String) -> Result<(), Error> {
    let _ = user;
    Ok(())
}

#[durable_workflow]
async fn notify_all(ctx: DurableContext, users: Vec<String>) -> Result<usize, Error> {
    let _ = ctx;
    let mut unique: HashMap<String, ()> = HashMap::new();
    for user in users {
        unique.insert(user, ());
    }
    let ids: Vec<String> = unique.keys().cloned().collect();
    for id in &ids {
        notify(id.clone()).await?;
    }
    Ok(ids.len())
}

fn main() {}

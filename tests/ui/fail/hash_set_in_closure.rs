// A `HashSet` iterated inside a closure of the workflow body is hash order all the same.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::collections::HashSet;

#[durable_workflow]
async fn first_tag(ctx: DurableContext, tags: Vec<String>) -> Result<Option<String>, Error> {
    let _ = ctx;
    let set: HashSet<String> = tags.into_iter().collect();
    let pick = |s: &HashSet<String>| s.iter().next().cloned();
    Ok(pick(&set))
}

fn main() {}

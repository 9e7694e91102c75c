use durable_runtime::durable_step;

#[durable_step]
async fn count(id: u32) -> u32 {
    id
}

fn main() {}

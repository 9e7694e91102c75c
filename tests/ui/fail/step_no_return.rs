use durable_runtime::durable_step;

#[durable_step]
async fn notify(id: u32) {
    let _ = id;
}

fn main() {}

use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let conn = std::net::TcpStream::connect("example.com:80");
    let _ = conn;
    Ok(id)
}

fn main() {}

use durable_runtime::{durable_step, Error};

pub struct Shop;

impl Shop {
    #[durable_step]
    async fn charge(self, id: u32) -> Result<u32, Error> {
        Ok(id)
    }
}

fn main() {}

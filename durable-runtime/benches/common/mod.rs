//! What the replay benchmarks share: the workflow they replay and the envelope it is replayed from.

use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::protocol::InvocationStatus;
use durable_runtime::{invoke_envelope, DurableContext, Error, Options};
use std::sync::Arc;
use std::time::Duration;

/// `n` steps, then a wait.
pub(crate) async fn workflow(ctx: DurableContext, n: u32) -> Result<u64, Error> {
    let mut sum = 0u64;
    for i in 0..n {
        sum += ctx.step(move |_| async move { Ok::<_, Error>(u64::from(i)) }).await?;
    }
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(sum)
}

/// Runs the first invocation live and returns the bytes of the second one's envelope (`n` completed
/// steps, one completed wait), with a client of the service it ran on.
pub(crate) fn envelope(rt: &tokio::runtime::Runtime, n: u32) -> (Vec<u8>, Arc<dyn CheckpointClient>) {
    rt.block_on(async {
        let service = MemoryService::new();
        let client: Arc<dyn CheckpointClient> = Arc::new(service.clone());
        let arn = service.start_execution("bench", Some(n.to_string()));
        let first = service.invocation_input(&arn).unwrap();
        let out = invoke_envelope(&workflow, first, client.clone(), &Options::default()).await.unwrap();
        assert_eq!(out.status, InvocationStatus::Pending);
        service.complete_invocation(&arn, Ok(out)).unwrap();
        let due = service.next_timer(&arn).unwrap();
        service.advance_to(&arn, due);
        (serde_json::to_vec(&service.invocation_input(&arn).unwrap()).unwrap(), client)
    })
}

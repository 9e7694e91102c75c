//! The chained-invoke targets of the invoke suite (5-x), as in the SDK conformance repositories:
//! an echo target that waits 1 s and returns its input, a target that always throws, and a tenant
//! echo. The invoke handlers name them by these constants (the requirement inputs carry no function
//! names); a host deploys them under the same names, and [`register`] registers them on a test
//! runner.

use durable_runtime::testing::TestRunner;
use durable_runtime::{DurableContext, DurableError, Error, Handler};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The echo target: a durable function that waits 1 s, then returns its input.
pub const ECHO: &str = "conformance-target-echo";

/// The throwing target: a durable function that fails with [`FAILURE_TYPE`].
pub const FAIL: &str = "conformance-target-fail";

/// The tenant echo: a durable function that returns its input (invoked with a tenant id).
pub const TENANT_ECHO: &str = "conformance-target-tenant-echo";

/// The `ErrorType` of the throwing target's failure.
pub const FAILURE_TYPE: &str = "TargetError";

/// The `ErrorMessage` of the throwing target's failure.
pub const FAILURE_MESSAGE: &str = "the invoked target function failed";

/// The echo target ([`ECHO`]).
pub async fn echo(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(input)
}

/// The throwing target ([`FAIL`]).
pub async fn fail(_ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    Err(DurableError::with_type(FAILURE_TYPE, FAILURE_MESSAGE).into())
}

/// The tenant echo ([`TENANT_ECHO`]).
pub async fn tenant_echo(_ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(input)
}

/// `runner` with the three targets registered under their names.
pub fn register<H, I, O>(runner: TestRunner<H, I, O>) -> TestRunner<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    runner.register_workflow(ECHO, echo).register_workflow(FAIL, fail).register_workflow(TENANT_ECHO, tenant_echo)
}

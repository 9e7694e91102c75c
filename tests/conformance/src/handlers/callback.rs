//! Suite `callback` (4-x): `create_callback`, answered by the requirement's `CallbackActions` or
//! left to time out.

use super::workflow;
use crate::ConformanceHandler;
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("4-1", callback_basic),
        workflow("4-2", callback_named),
        workflow("4-3", callback_timeout),
        workflow("4-4", heartbeat_timeout),
        workflow("4-5", heartbeat_keeps_alive),
        workflow("4-6", external_failure),
        workflow("4-7", callback_step_then_result),
        workflow("4-8", callback_step_then_timeout),
        workflow("4-9", callback_wait_then_result),
        workflow("4-10", callback_wait_then_result),
        workflow("4-11", callback_timeout_during_wait),
        workflow("4-12", callback_then_wait),
        workflow("4-13", caught_failure_then_wait),
        workflow("4-14", caught_timeout_then_wait),
        workflow("4-15", custom_date_deserializer),
        workflow("4-16", custom_number_deserializer),
        workflow("4-17", two_callbacks_in_sequence),
        workflow("4-18", two_callbacks_awaited_in_order),
        workflow("4-19", two_callbacks_awaited_in_reverse),
    ]
}

/// 4-1: a callback named after the input; returns its result.
#[durable_workflow]
async fn callback_basic(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    Ok(callback.result().await?)
}

/// 4-2: a callback named `approval`; returns its result.
#[durable_workflow]
async fn callback_named(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name("approval").await?;
    Ok(callback.result().await?)
}

/// 4-3: a callback with a 5 s timeout that nobody answers: it times out with `Callback.Timeout`
/// and the execution fails.
#[durable_workflow]
async fn callback_timeout(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).timeout(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-4: a callback with a 5 s heartbeat timeout that nobody heartbeats: it times out with
/// `Callback.Heartbeat` and the execution fails.
#[durable_workflow]
async fn heartbeat_timeout(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).heartbeat_timeout(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-5: a callback with a 10 s heartbeat timeout, heartbeaten and then answered.
#[durable_workflow]
async fn heartbeat_keeps_alive(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).heartbeat_timeout(Duration::from_secs(10)).await?;
    Ok(callback.result().await?)
}

/// 4-6: the sender fails the callback; the error is not caught, so the execution fails with the
/// sender's message.
#[durable_workflow]
async fn external_failure(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    Ok(callback.result().await?)
}

/// The step of 4-7 and 4-8: hands the callback id to the "external system".
#[durable_step]
async fn submit_callback_id(callback_id: String) -> Result<String, Error> {
    Ok(format!("submitted {callback_id}"))
}

/// 4-7: create a callback, run a step, then await the result (the sender fails it).
#[durable_workflow]
async fn callback_step_then_result(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    submit_callback_id(callback.id().to_owned()).await?;
    Ok(callback.result().await?)
}

/// 4-8: create a callback with a 5 s timeout, run a step, then await the result; nobody answers,
/// so the callback times out and the execution fails.
#[durable_workflow]
async fn callback_step_then_timeout(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).timeout(Duration::from_secs(5)).await?;
    submit_callback_id(callback.id().to_owned()).await?;
    Ok(callback.result().await?)
}

/// 4-9 and 4-10: create a callback, wait 5 s, then await the result; the answer (success in 4-9,
/// failure in 4-10) arrives during the wait.
#[durable_workflow]
async fn callback_wait_then_result(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-11: a callback with a 3 s timeout, a 6 s wait, then the result: the callback times out during
/// the wait.
#[durable_workflow]
async fn callback_timeout_during_wait(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).timeout(Duration::from_secs(3)).await?;
    ctx.wait(Duration::from_secs(6)).await?;
    Ok(callback.result().await?)
}

/// 4-12: await a callback, then wait 2 s, then return the callback's result.
#[durable_workflow]
async fn callback_then_wait(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    let result = callback.result().await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(result)
}

/// 4-13: the sender fails the callback; the error is caught and kept as a message, then a 2 s wait,
/// then the message is returned.
#[durable_workflow]
async fn caught_failure_then_wait(ctx: DurableContext, name: String) -> Result<String, Error> {
    let callback = ctx.create_callback::<Value>().name(name).await?;
    let outcome = match callback.result().await {
        Ok(value) => format!("answered: {value}"),
        Err(error) => format!("caught: {}", error.message()),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(outcome)
}

/// 4-14: a callback with a 3 s timeout that times out; the error is caught, then a 2 s wait.
#[durable_workflow]
async fn caught_timeout_then_wait(ctx: DurableContext, name: String) -> Result<String, Error> {
    let callback = ctx.create_callback::<Value>().name(name).timeout(Duration::from_secs(3)).await?;
    let outcome = match callback.result().await {
        Ok(value) => format!("answered: {value}"),
        Err(error) => format!("caught: {}", error.message()),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(outcome)
}

/// The typed answer of 4-15: its `timestamp` arrives as an ISO-8601 string and is deserialized
/// into epoch seconds.
#[derive(Debug, Serialize, Deserialize)]
struct Received {
    id: String,
    message: String,
    #[serde(deserialize_with = "epoch_seconds")]
    timestamp: i64,
}

/// 4-15: the callback's answer deserialized into a typed object by a custom deserializer (a serde
/// `deserialize_with` on the date field), returned as `{received: ...}`.
///
/// The "custom deserializer" of the requirement is the serde deserializer of the callback's result
/// type: the runtime hands it the sender's JSON bytes, exactly what a per-operation serdes would get,
/// and nothing custom goes on the wire, so the history is the requirement's.
#[durable_workflow]
async fn custom_date_deserializer(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let callback = ctx.create_callback::<Received>().name(name).await?;
    let received = callback.result().await?;
    Ok(json!({ "received": received }))
}

/// A count deserialized from a bare number, with its double.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "i64")]
struct Count {
    count: i64,
    doubled: i64,
}

impl From<i64> for Count {
    fn from(count: i64) -> Self {
        Self { count, doubled: count.saturating_mul(2) }
    }
}

/// 4-16: the callback's answer (a number) deserialized by a custom deserializer into
/// `{count, doubled}` (serde's `from`, on the JSON bytes the sender posted; see 4-15).
#[durable_workflow]
async fn custom_number_deserializer(ctx: DurableContext, name: String) -> Result<Count, Error> {
    let callback = ctx.create_callback::<Count>().name(name).await?;
    Ok(callback.result().await?)
}

/// 4-17: callback A (named `input[0]`) created and awaited, then callback B (`input[1]`).
#[durable_workflow]
async fn two_callbacks_in_sequence(ctx: DurableContext, names: (String, String)) -> Result<Value, Error> {
    let (a, b) = names;
    let a = ctx.create_callback::<Value>().name(a).await?.result().await?;
    let b = ctx.create_callback::<Value>().name(b).await?.result().await?;
    Ok(json!([a, b]))
}

/// 4-18: callbacks A (named `input[0]`) and B (`input[1]`) both created, then A awaited before B.
#[durable_workflow]
async fn two_callbacks_awaited_in_order(ctx: DurableContext, names: (String, String)) -> Result<Value, Error> {
    let (a, b) = names;
    let a = ctx.create_callback::<Value>().name(a).await?;
    let b = ctx.create_callback::<Value>().name(b).await?;
    let a = a.result().await?;
    let b = b.result().await?;
    Ok(json!([a, b]))
}

/// 4-19: callbacks A and B both created, then B awaited before A.
#[durable_workflow]
async fn two_callbacks_awaited_in_reverse(ctx: DurableContext, names: (String, String)) -> Result<Value, Error> {
    let (a, b) = names;
    let a = ctx.create_callback::<Value>().name(a).await?;
    let b = ctx.create_callback::<Value>().name(b).await?;
    let b = b.result().await?;
    let a = a.result().await?;
    Ok(json!([a, b]))
}

/// Epoch seconds of an ISO-8601 UTC timestamp (`2026-01-01T00:00:00.000Z`).
fn epoch_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_iso8601(&text).ok_or_else(|| de::Error::custom(format!("`{text}` is not an ISO-8601 UTC timestamp")))
}

fn parse_iso8601(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut date = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let time = time.split('.').next()?;
    let mut time = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (time.next()?.ok()?, time.next()?.ok()?, time.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_become_epoch_seconds() {
        assert_eq!(parse_iso8601("2026-01-01T00:00:00.000Z"), Some(1_767_225_600));
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("2000-02-29T12:30:15.5Z"), Some(951_827_415));
        assert_eq!(parse_iso8601("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("yesterday"), None);
    }
}

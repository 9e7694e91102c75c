//! Combinators (all, all-settled, any, race), `with_retry`, `wait_until` and the replay-safe
//! `now` / `uuid` / `random`, driven through the in-process test runner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::ops::{OneOf2, OneOf3, Settled, ALL_FAILED_ERROR_TYPE};
use durable_runtime::protocol::{Operation, OperationStatus, OperationType};
use durable_runtime::retry::{Jitter, RetryStrategy};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, DurableError, Error};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

type Counter = Arc<AtomicUsize>;

fn counter() -> Counter {
    Arc::new(AtomicUsize::new(0))
}

fn named<'a>(ops: &'a [Operation], name: &str) -> Vec<&'a Operation> {
    ops.iter().filter(|o| o.name.as_deref() == Some(name)).collect()
}

fn children<'a>(ops: &'a [Operation], parent: &Operation) -> Vec<&'a Operation> {
    ops.iter().filter(|o| o.parent_id.as_deref() == Some(parent.id.as_str())).collect()
}

fn declined() -> DurableError {
    DurableError::with_type("Declined", "card expired")
}

#[tokio::test]
async fn all_over_a_step_a_wait_and_a_child_records_one_context_and_replays_it() {
    let (steps, closures) = (counter(), counter());
    let seen: Arc<Mutex<Vec<(u32, (), String)>>> = Arc::default();
    let (s, c, out) = (steps.clone(), closures.clone(), seen.clone());
    let handler = move |ctx: DurableContext, _: Value| {
        let (s, c, out) = (s.clone(), c.clone(), out.clone());
        async move {
            let values = ctx
                .all(move |ctx| {
                    c.fetch_add(1, Ordering::SeqCst);
                    let s2 = s.clone();
                    (
                        ctx.step(move |_| async move {
                            s.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Error>(7u32)
                        })
                        .name("seven"),
                        ctx.wait(Duration::from_secs(5)),
                        ctx.run_in_child_context(move |ctx| async move {
                            ctx.step(move |_| async move {
                                s2.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, Error>("inner".to_owned())
                            })
                            .await
                        }),
                    )
                })
                .await?;
            out.lock().unwrap().push(values.clone());
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(values)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<(u32, (), String)>().unwrap(), (7, (), "inner".to_owned()));
    assert_eq!(steps.load(Ordering::SeqCst), 2, "each step body ran once");
    assert_eq!(closures.load(Ordering::SeqCst), 2, "the closure ran live and once resuming the STARTED context");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "after the combinator's wait, on replay after the outer wait, and in the replay audit");
    assert_eq!(seen[0], seen[1]);
    let ops = result.operations();
    let all = named(ops, "all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].op_type, OperationType::Context);
    assert_eq!(all[0].status, OperationStatus::Succeeded);
    assert_eq!(children(ops, all[0]).len(), 3, "the constituents live in the combinator's namespace");
}

#[tokio::test]
async fn all_fails_with_the_first_error_and_replays_it_identically() {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let out = seen.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let out = out.clone();
        async move {
            let err = ctx
                .all(|ctx| {
                    (
                        ctx.wait(Duration::from_secs(30)),
                        ctx.step(|_| async { Err::<u8, _>(declined()) }).retry(RetryStrategy::none()),
                    )
                })
                .name("both")
                .await
                .unwrap_err();
            out.lock().unwrap().push((err.error_type().to_owned(), err.message().to_owned()));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "live, replay, and the replay audit");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], ("Declined".to_owned(), "card expired".to_owned()));
    let both = named(result.operations(), "both");
    assert_eq!(both[0].status, OperationStatus::Failed);
    let pending: Vec<_> =
        children(result.operations(), both[0]).into_iter().filter(|o| o.op_type == OperationType::Wait).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, OperationStatus::Started, "the dropped wait stays STARTED");
}

#[tokio::test]
async fn race_returns_the_recorded_winner_on_replay() {
    let calls = counter();
    let seen: Arc<Mutex<Vec<OneOf2<String, ()>>>> = Arc::default();
    let (c, out) = (calls.clone(), seen.clone());
    let handler = move |ctx: DurableContext, _: Value| {
        let (c, out) = (c.clone(), out.clone());
        async move {
            let winner = ctx
                .race(move |ctx| {
                    // A different winner on every call of the closure: only the first call may count.
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    (
                        ctx.step(move |_| async move { Ok::<_, Error>(format!("call {n}")) }),
                        ctx.wait(Duration::from_secs(60)),
                    )
                })
                .await?;
            out.lock().unwrap().push(winner.clone());
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "replay does not call the closure");
    let seen = seen.lock().unwrap();
    assert_eq!(*seen, vec![OneOf2::A("call 0".to_owned()); 3], "live, replay, and the replay audit");
    assert_eq!(named(result.operations(), "race").len(), 1);
}

#[tokio::test]
async fn race_fails_when_an_error_settles_first() {
    let handler = |ctx: DurableContext, _: Value| async move {
        ctx.race(|ctx| {
            (
                ctx.step(|_| async { Err::<u8, _>(declined()) }).retry(RetryStrategy::none()),
                ctx.wait(Duration::from_secs(60)),
            )
        })
        .await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("Declined"));
}

#[tokio::test]
async fn any_skips_failures_and_reports_when_all_fail() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let first = ctx
            .any(|ctx| {
                (
                    ctx.step(|_| async { Err::<u8, _>(declined()) }).retry(RetryStrategy::none()),
                    ctx.run_in_child_context(|ctx| async move {
                        ctx.wait(Duration::from_secs(2)).await?;
                        Ok::<_, Error>(true)
                    }),
                    ctx.step(|_| async { Err::<String, _>(declined()) }).retry(RetryStrategy::none()),
                )
            })
            .await?;
        assert_eq!(first, OneOf3::B(true));
        let err = ctx
            .any(|ctx| {
                (
                    ctx.step(|_| async { Err::<u8, _>(declined()) }).retry(RetryStrategy::none()),
                    ctx.step(|_| async { Err::<u8, _>(DurableError::with_type("Other", "nope")) })
                        .retry(RetryStrategy::none()),
                )
            })
            .await
            .unwrap_err();
        Ok::<_, Error>((err.error_type().to_owned(), err.message().to_owned(), err.error_data().map(str::to_owned)))
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let (error_type, message, data) = result.output::<(String, String, Option<String>)>().unwrap();
    assert_eq!(error_type, ALL_FAILED_ERROR_TYPE);
    assert!(message.contains("Declined: card expired") && message.contains("Other: nope"), "{message}");
    let data: Value = serde_json::from_str(&data.unwrap()).unwrap();
    assert_eq!(data[1]["ErrorType"], "Other");
}

#[tokio::test]
async fn all_settled_keeps_every_outcome_across_replay() {
    type Outcome = (Settled<u32>, Settled<String>, Settled<()>);
    let seen: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let out = seen.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let out = out.clone();
        async move {
            let settled = ctx
                .all_settled(|ctx| {
                    (
                        ctx.step(|_| async { Ok::<_, Error>(1u32) }),
                        ctx.step(|_| async { Err::<String, _>(declined()) }).retry(RetryStrategy::none()),
                        ctx.wait(Duration::from_secs(3)),
                    )
                })
                .await?;
            out.lock().unwrap().push(settled);
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "live, replay, and the replay audit");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, Settled::Ok(1));
    let Settled::Err(error) = &seen[0].1 else { panic!("expected a failure") };
    assert_eq!((error.error_type(), error.message()), ("Declined", "card expired"));
    assert_eq!(seen[0].2, Settled::Ok(()));
    assert_eq!(named(result.operations(), "all-settled").len(), 1);
}

#[tokio::test]
async fn vec_forms_combine_operations_of_one_type() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let all = ctx
            .all_vec(|ctx| (0..4u32).map(|i| ctx.step(move |_| async move { Ok::<_, Error>(i * 10) })).collect())
            .await?;
        let settled = ctx
            .all_settled_vec(|ctx| {
                (0..2u32)
                    .map(|i| {
                        ctx.step(move |_| async move {
                            if i == 0 {
                                Err(declined())
                            } else {
                                Ok(i)
                            }
                        })
                        .retry(RetryStrategy::none())
                    })
                    .collect()
            })
            .await?;
        let any = ctx
            .any_vec(|ctx| {
                (0..3u32)
                    .map(|i| {
                        ctx.step(move |_| async move {
                            if i < 2 {
                                Err(declined())
                            } else {
                                Ok(i)
                            }
                        })
                        .retry(RetryStrategy::none())
                    })
                    .collect()
            })
            .await?;
        let race = ctx.race_vec(|ctx| vec![ctx.wait(Duration::from_secs(9)), ctx.wait(Duration::from_secs(2))]).await?;
        Ok::<_, Error>((all, settled.iter().map(Settled::is_ok).collect::<Vec<_>>(), any, race.0))
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let (all, settled, any, race) = result.output::<(Vec<u32>, Vec<bool>, (usize, u32), usize)>().unwrap();
    assert_eq!(all, vec![0, 10, 20, 30]);
    assert_eq!(settled, vec![false, true]);
    assert_eq!(any, (2, 2));
    assert_eq!(race, 1, "the shorter wait fires first");
}

#[tokio::test]
async fn with_retry_runs_each_attempt_in_a_fresh_namespace_with_durable_delays() {
    let runs: Arc<Mutex<Vec<u32>>> = Arc::default();
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            let value = ctx
                .with_retry(move |ctx, attempt| {
                    let r = r.clone();
                    async move {
                        let n = ctx
                            .step(move |_| async move {
                                r.lock().unwrap().push(attempt);
                                Ok::<_, Error>(attempt)
                            })
                            .name("inner")
                            .await?;
                        if n < 3 {
                            return Err(DurableError::with_type("Flaky", format!("attempt {n}")));
                        }
                        Ok(n * 100)
                    }
                })
                .retry(RetryStrategy::fixed(Duration::from_secs(3)).max_attempts(5).jitter(Jitter::None))
                .name("block")
                .await?;
            Ok::<_, Error>(value)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    assert_eq!(result.output::<u32>().unwrap(), 300);
    assert_eq!(*runs.lock().unwrap(), vec![1, 2, 3], "each attempt's step ran once");
    assert_eq!(result.invocation_count(), 3, "each delay suspends the invocation");
    let ops = result.operations();
    let block = named(ops, "block")[0];
    let names: Vec<_> = children(ops, block).iter().map(|o| o.name.clone().unwrap_or_default()).collect();
    assert_eq!(names, vec!["attempt-1", "retry-delay-1", "attempt-2", "retry-delay-2", "attempt-3"]);
    let inner = named(ops, "inner");
    assert_eq!(inner.len(), 3);
    let mut ids: Vec<_> = inner.iter().map(|o| o.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "fresh ids per attempt");
    assert_eq!(named(ops, "attempt-1")[0].status, OperationStatus::Failed);
    assert_eq!(named(ops, "attempt-3")[0].status, OperationStatus::Succeeded);
    let delays: Vec<_> = ops.iter().filter(|o| o.op_type == OperationType::Wait).collect();
    for wait in delays {
        let (start, end) = (wait.start_timestamp.unwrap(), wait.end_timestamp.unwrap());
        assert!(end.as_millis() - start.as_millis() >= 3000, "{wait:?}");
    }
}

#[tokio::test]
async fn with_retry_gives_up_with_the_last_error() {
    let handler = |ctx: DurableContext, _: Value| async move {
        ctx.with_retry(|_, attempt| async move {
            Err::<(), _>(DurableError::with_type("Flaky", format!("attempt {attempt}")))
        })
        .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(2))
        .await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Flaky"));
    assert_eq!(error.error_message.as_deref(), Some("attempt 2"));
    assert_eq!(named(result.operations(), "with-retry")[0].status, OperationStatus::Failed);
}

#[tokio::test]
async fn now_uuid_and_random_are_identical_across_replays() {
    type Values = (SystemTime, String, u64, f64);
    let seen: Arc<Mutex<Vec<Values>>> = Arc::default();
    let out = seen.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let out = out.clone();
        async move {
            let now = ctx.now().await?;
            let uuid = ctx.uuid().await?;
            let n = ctx.random_u64().await?;
            let x = ctx.random_f64().name("fraction").await?;
            out.lock().unwrap().push((now, uuid, n, x));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "live, replay, and the replay audit");
    assert_eq!(seen[0], seen[1]);
    let (now, uuid, _, x) = &seen[0];
    assert!(now.elapsed().unwrap_or_default() < Duration::from_secs(60));
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.as_bytes()[14], b'4', "version 4: {uuid}");
    assert!(matches!(uuid.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "variant: {uuid}");
    assert!((0.0..1.0).contains(x));
    let ops = result.operations();
    for name in ["now", "uuid", "random", "fraction"] {
        assert_eq!(named(ops, name).len(), 1, "{name}");
    }
}

#[tokio::test]
async fn wait_until_waits_the_recorded_time_left_and_past_targets_return_at_once() {
    let target = SystemTime::now() + Duration::from_secs(90);
    let handler = move |ctx: DurableContext, _: Value| async move {
        ctx.wait_until(target).await?;
        ctx.wait_until(SystemTime::now() - Duration::from_secs(5)).name("past").await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    assert_eq!(result.invocation_count(), 2);
    let ops = result.operations();
    let until = named(ops, "wait-until")[0];
    assert_eq!(until.status, OperationStatus::Succeeded);
    let inside = children(ops, until);
    assert_eq!(inside.len(), 2, "a now step and a wait");
    let wait = inside.iter().find(|o| o.op_type == OperationType::Wait).unwrap();
    let lasted = wait.end_timestamp.unwrap().as_millis() - wait.start_timestamp.unwrap().as_millis();
    assert!((85_000..=91_000).contains(&lasted), "{lasted}");
    let past = named(ops, "past")[0];
    assert_eq!(children(ops, past).len(), 1, "no wait for a past target");
}

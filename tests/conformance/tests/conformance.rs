//! Runs every AWS conformance requirement on the in-process test runner and checks it with the
//! runner's matching rules (see `durable_conformance::matcher`).
//!
//! Requirements come from `tests/conformance/requirements/<suite>/<id>.yaml` in this repository
//! (override with `CONFORMANCE_REQUIREMENTS=<dir>`). Arguments filter by id or suite
//! (`cargo test -p durable-conformance -- 1-11 child`); `CONFORMANCE_VERBOSE=1` prints the actual
//! history of a failed requirement; `CONFORMANCE_RUN_PENDING=1` also runs the skipped requirements
//! that have a handler (their other checks only), to see how far they are.
//!
//! Each requirement runs with the chained-invoke targets of `durable_conformance::targets`
//! registered, and its `CallbackActions` applied as callback responders in virtual time (see
//! `durable_conformance::callback_actions`).
//!
//! Prints one line per requirement (`PASS`, `FAIL`, `SKIP`), then
//! `conformance: N passed, M failed, K skipped`, and exits non-zero when M > 0.

use durable_conformance::matcher::{match_history, match_result, Bindings, Pattern};
use durable_conformance::pending::{pending, Pending};
use durable_conformance::{callback_actions, handler, targets, ConformanceHandler, Host, FUNCTION_PREFIX};
use durable_runtime::logging::JsonLayer;
use durable_runtime::protocol::ErrorObject;
use durable_runtime::testing::{CallbackAction, CrashPoint, HistoryEvent, MemoryService, TestResult, TestRunner};
use durable_runtime::Handler;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

/// Real time one requirement may take (the test runner skips virtual time, so this is generous).
const TIMEOUT: Duration = Duration::from_secs(60);

/// The test runner's host: a crash is `MemoryService::crash`, once per execution.
struct TestHost {
    service: MemoryService,
    crashed: AtomicBool,
    /// The run's log lines: the runtime's JSON lines and plugin output, in emission order.
    logs: Logs,
}

/// Captured log lines.
type Logs = Arc<Mutex<Vec<String>>>;

fn push(logs: &Logs, line: &str) {
    logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line.to_owned());
}

impl Host for TestHost {
    fn crash_once(&self) -> bool {
        if self.crashed.swap(true, Ordering::SeqCst) {
            return false;
        }
        // The process dies now: whatever the invocation has not had applied yet is lost, as with a
        // process exit (an at-least-once START still queued included).
        match durable_runtime::DurableContext::current() {
            Some(ctx) => self.service.crash(ctx.execution_arn()),
            None => self.service.crash_on(CrashPoint::BeforeApply, |_| true),
        }
        true
    }

    fn log(&self, line: &str) {
        push(&self.logs, line);
    }
}

/// One requirement file.
struct Requirement {
    suite: String,
    id: String,
    path: PathBuf,
}

enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
}

fn main() {
    let dir = std::env::var_os("CONFORMANCE_REQUIREMENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements"));
    let requirements = match list(&dir) {
        Ok(list) if !list.is_empty() => list,
        Ok(_) => fatal(&format!("no requirement files under {}", dir.display())),
        Err(e) => fatal(&format!(
            "cannot read the conformance requirements at {}: {e} (they live in `tests/conformance/requirements` \
             in the repository; set CONFORMANCE_REQUIREMENTS to another directory)",
            dir.display()
        )),
    };
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let verbose = flag("CONFORMANCE_VERBOSE");
    let run_pending = flag("CONFORMANCE_RUN_PENDING");
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => fatal(&format!("cannot start a tokio runtime: {e}")),
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut logs_unchecked = Vec::new();
    for requirement in &requirements {
        if !filters.is_empty() && !filters.iter().any(|f| *f == requirement.id || *f == requirement.suite) {
            continue;
        }
        let outcome = runtime.block_on(run(requirement, verbose, run_pending, false));
        let id = &requirement.id;
        match outcome {
            Outcome::Pass(note) => {
                passed += 1;
                println!("PASS {id} {note}");
                if let Some(Pending::LogsUnchecked(_)) = pending(&requirement.suite, id) {
                    logs_unchecked.push(id.clone());
                }
            }
            Outcome::Fail(why) => {
                failed += 1;
                println!("FAIL {id} {why}");
            }
            Outcome::Skip(why) => {
                skipped += 1;
                println!("SKIP {id} {why}");
            }
        }
    }
    if !logs_unchecked.is_empty() {
        println!("note: passed without their ExpectedLogs checked: {}", logs_unchecked.join(", "));
    }
    let (mut process_passed, mut process_failed) = (0, 0);
    for requirement in requirements.iter().filter(|r| PROCESS_EXIT.contains(&r.id.as_str())) {
        if !filters.is_empty() && !filters.iter().any(|f| *f == requirement.id || *f == requirement.suite) {
            continue;
        }
        match runtime.block_on(run_in_processes(requirement, verbose)) {
            Outcome::Pass(note) => {
                process_passed += 1;
                println!("PASS {} {note}", requirement.id);
            }
            Outcome::Fail(why) | Outcome::Skip(why) => {
                process_failed += 1;
                println!("FAIL {} through real process exits: {why}", requirement.id);
            }
        }
    }
    println!("conformance with real process exits: {process_passed} passed, {process_failed} failed");
    failed += process_failed;
    // Once more with checkpoint batching on: the outcomes, histories and fault matrices must not change.
    let (mut batched_passed, mut batched_failed) = (0, 0);
    for requirement in &requirements {
        if !filters.is_empty() && !filters.iter().any(|f| *f == requirement.id || *f == requirement.suite) {
            continue;
        }
        match runtime.block_on(run(requirement, verbose, run_pending, true)) {
            Outcome::Pass(_) | Outcome::Skip(_) => batched_passed += 1,
            Outcome::Fail(why) => {
                batched_failed += 1;
                println!("FAIL {} with checkpoint batching on: {why}", requirement.id);
            }
        }
    }
    println!("conformance with checkpoint batching on: {batched_passed} passed, {batched_failed} failed");
    failed += batched_failed;
    println!("conformance: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// `options` with checkpoint batching on, when `batching` is set.
fn with_batching(options: durable_runtime::Options, batching: bool) -> durable_runtime::Options {
    if batching {
        options.batching(durable_runtime::Batching::default())
    } else {
        options
    }
}

fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

fn fatal(message: &str) -> ! {
    eprintln!("conformance: {message}");
    std::process::exit(2);
}

/// Every `<suite>/<id>.yaml` under `dir`, ordered by id (`1-2` before `1-10`).
fn list(dir: &Path) -> std::io::Result<Vec<Requirement>> {
    let mut out = Vec::new();
    for suite in std::fs::read_dir(dir)? {
        let suite = suite?;
        if !suite.file_type()?.is_dir() {
            continue;
        }
        let suite_name = suite.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(suite.path())? {
            let path = file?.path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                out.push(Requirement { suite: suite_name.clone(), id, path });
            }
        }
    }
    out.sort_by_key(|r| sort_key(&r.id));
    Ok(out)
}

fn sort_key(id: &str) -> (Vec<u64>, String) {
    (id.split('-').map(|n| n.parse().unwrap_or(u64::MAX)).collect(), id.to_owned())
}

async fn run(requirement: &Requirement, verbose: bool, run_pending: bool, batching: bool) -> Outcome {
    let spec = match load(&requirement.path) {
        Ok(spec) => spec,
        Err(e) => return Outcome::Fail(format!("cannot load {}: {e}", requirement.path.display())),
    };
    let description = match spec.get("description") {
        Some(Pattern::String(d)) => d.trim().to_owned(),
        _ => String::new(),
    };
    let function_name = format!("{FUNCTION_PREFIX}{}", requirement.id);
    let logs_note = match pending(&requirement.suite, &requirement.id) {
        Some(Pending::Skip(reason)) if run_pending && handler(&function_name).is_some() => {
            Some(format!(" [pending, run anyway: {reason}]"))
        }
        Some(Pending::Skip(reason)) => return Outcome::Skip(reason.to_owned()),
        Some(Pending::LogsUnchecked(reason)) => Some(format!(" [ExpectedLogs NOT checked: {reason}]")),
        None => None,
    };
    let Some(handler) = handler(&function_name) else {
        return Outcome::Fail(format!(
            "no handler registered as `{function_name}`, and the requirement is not pending"
        ));
    };
    let Some(Pattern::List(expected_history)) = spec.get("ExpectedExecutionHistory") else {
        return Outcome::Fail("has no ExpectedExecutionHistory list".to_owned());
    };

    let mut bindings = match spec.get("Variables") {
        Some(Pattern::Map(variables)) => Bindings::resolve_variables(variables),
        _ => Bindings::new(),
    };
    let input = spec.get("Input").map_or(Value::Null, |p| p.to_value(&bindings));
    let actions = match spec.get("CallbackActions") {
        None | Some(Pattern::Null) => Vec::new(),
        Some(Pattern::List(actions)) => match callback_actions::parse(actions, &bindings) {
            Ok(actions) => actions,
            Err(e) => return Outcome::Fail(e),
        },
        Some(_) => return Outcome::Fail("CallbackActions is not a list".to_owned()),
    };

    let service = MemoryService::new();
    let logs = Logs::default();
    let host = Arc::new(TestHost { service: service.clone(), crashed: AtomicBool::new(false), logs: logs.clone() });
    let options = with_batching(handler.options(host.clone()), batching);
    let runner =
        TestRunner::new(handler.bind(host)).with_service(service).function_name(function_name.clone()).options(options);
    let runner = targets::register(runner);
    let (runner, unanswered) = apply_callback_actions(runner, &actions);
    // The runtime's JSON log lines go to the same capture as the plugin output, for this run only.
    let sink = logs.clone();
    let layer = JsonLayer::with_writer(move |line| push(&sink, line)).max_level(tracing::Level::DEBUG);
    let subscriber = tracing_subscriber::registry().with(layer);
    let matrix_input = input.clone();
    let task = tokio::spawn(async move { runner.run(input).await }.with_subscriber(subscriber));
    let result = match tokio::time::timeout(TIMEOUT, task).await {
        Err(_) => return Outcome::Fail(format!("did not finish within {TIMEOUT:?}")),
        Ok(Err(join)) => return Outcome::Fail(format!("the run panicked: {join}")),
        Ok(Ok(Err(e))) => return Outcome::Fail(format!("the test runner failed: {e}")),
        Ok(Ok(Ok(result))) => result,
    };
    let unanswered = unanswered.lock().map(|names| names.clone()).unwrap_or_default();
    if let Some(name) = unanswered.first() {
        return Outcome::Fail(format!(
            "callback {name:?} started, but no CallbackAction answers it (the runner fails on a callback no action \
             matches when the requirement has actions)"
        ));
    }
    let observed = match Observed::of(&result, logs.lock().map(|lines| lines.clone()).unwrap_or_default()) {
        Ok(observed) => observed,
        Err(e) => return Outcome::Fail(e),
    };
    if let Some(failed) = check(&spec, expected_history, &mut bindings, &observed, verbose, logs_note.as_deref()) {
        return failed;
    }
    if FAULT_MATRIX.contains(&requirement.id.as_str()) {
        if let Some(failed) = fault_matrix(&handler, &function_name, &actions, matrix_input, batching).await {
            return failed;
        }
    }
    Outcome::Pass(format!("{description}{}", logs_note.unwrap_or_default()))
}

/// Requirements whose handlers also go through the test runner's fault matrix: a crash before and
/// after, a service error, a stale token, a lost response and latency at every checkpoint call must
/// end with the same result and a consistent history. One per suite that does not crash on purpose.
const FAULT_MATRIX: &[&str] = &["1-1", "1-11", "2-1", "3-1", "4-1", "5-1", "6-1", "7-1", "8-1", "9-1"];

/// Runs the requirement's handler through the fault matrix; the failure, if a cell failed.
async fn fault_matrix(
    handler: &ConformanceHandler,
    function_name: &str,
    actions: &[callback_actions::Action],
    input: Value,
    batching: bool,
) -> Option<Outcome> {
    let service = MemoryService::new();
    let host = Arc::new(TestHost { service: service.clone(), crashed: AtomicBool::new(false), logs: Logs::default() });
    let options = with_batching(handler.options(host.clone()), batching);
    let runner =
        TestRunner::new(handler.bind(host)).with_service(service).function_name(function_name).options(options);
    let (runner, _) = apply_callback_actions(targets::register(runner), actions);
    match tokio::time::timeout(TIMEOUT, runner.fault_matrix(input)).await {
        Err(_) => Some(Outcome::Fail(format!("the fault matrix did not finish within {TIMEOUT:?}"))),
        Ok(Err(e)) => Some(Outcome::Fail(format!("the fault matrix could not run: {e}"))),
        Ok(Ok(report)) if report.is_ok() => None,
        Ok(Ok(report)) => Some(Outcome::Fail(format!("fails the fault matrix:\n{report}"))),
    }
}

/// The requirements whose handlers crash the process. They run a second time with every
/// invocation in a process of its own (`conformance-host`, through `lambda::service` and
/// `aws-sdk-lambda` over HTTP to the local durable service), where a crash is a real
/// `std::process::exit` that loses whatever the process had not sent.
const PROCESS_EXIT: &[&str] = &["1-17", "1-18", "3-12"];

/// Bound on the invocations of one process-hosted execution.
const PROCESS_INVOCATIONS: usize = 20;

async fn run_in_processes(requirement: &Requirement, verbose: bool) -> Outcome {
    match drive_processes(requirement, verbose).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Fail(e),
    }
}

async fn drive_processes(requirement: &Requirement, verbose: bool) -> Result<Outcome, String> {
    let spec = load(&requirement.path).map_err(|e| format!("cannot load {}: {e}", requirement.path.display()))?;
    let Some(Pattern::List(expected_history)) = spec.get("ExpectedExecutionHistory") else {
        return Err("has no ExpectedExecutionHistory list".to_owned());
    };
    let mut bindings = match spec.get("Variables") {
        Some(Pattern::Map(variables)) => Bindings::resolve_variables(variables),
        _ => Bindings::new(),
    };
    let input = spec.get("Input").map_or(Value::Null, |p| p.to_value(&bindings));
    let function_name = format!("{FUNCTION_PREFIX}{}", requirement.id);

    let local =
        durable_local::LocalService::start().await.map_err(|e| format!("cannot start the local service: {e}"))?;
    let service = local.service().clone();
    let payload = serde_json::to_string(&input).map_err(|e| e.to_string())?;
    let arn = service.start_execution(&function_name, Some(payload));
    let dir = std::env::temp_dir().join(format!(
        "durable-conformance-{}-{}",
        requirement.id,
        durable_runtime::protocol::ids::random_hex(8)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (marker, output) = (dir.join("crashed"), dir.join("output.json"));
    let mut log_lines = Vec::new();
    for _ in 0..PROCESS_INVOCATIONS {
        if service.execution_status(&arn).is_none_or(|status| status.is_terminal()) {
            break;
        }
        if !service.needs_invocation(&arn) {
            match service.next_timer(&arn) {
                Some(wake) => {
                    service.advance_to(&arn, wake);
                }
                None => break,
            }
            continue;
        }
        let envelope = service.invocation_input(&arn).map_err(|e| e.to_string())?;
        let envelope = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&output);
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_conformance-host"))
            .arg(&function_name)
            // Endpoint, region and the service's own credentials: the process signs its checkpoints
            // as a deployed function does, and the service checks them.
            .envs(local.env_vars())
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CONFORMANCE_OUTPUT", &output)
            .env("CONFORMANCE_CRASH_MARKER", &marker)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start conformance-host: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt;
            stdin.write_all(&envelope).await.map_err(|e| format!("cannot send the envelope: {e}"))?;
        }
        let done = tokio::time::timeout(TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| format!("an invocation process did not finish within {TIMEOUT:?}"))?
            .map_err(|e| format!("cannot wait for conformance-host: {e}"))?;
        log_lines.extend(String::from_utf8_lossy(&done.stdout).lines().map(str::to_owned));
        let outcome = if done.status.success() {
            let text = std::fs::read(&output).map_err(|e| format!("the invocation wrote no output: {e}"))?;
            serde_json::from_slice(&text).map_err(|e| ErrorObject {
                error_type: Some("Durable.InvalidOutput".to_owned()),
                error_message: Some(format!("the output is not an envelope: {e}")),
                ..Default::default()
            })
        } else {
            // The process died: what it had not sent is lost, and the invocation counts as failed.
            service.crash(&arn);
            Err(ErrorObject::default())
        };
        service.complete_invocation(&arn, outcome).map_err(|e| e.to_string())?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let observed = Observed {
        status: service.execution_status(&arn).map(|s| s.as_str().to_owned()).unwrap_or_default(),
        raw_output: service.execution_result(&arn),
        error: service.execution_error(&arn),
        history: history_json(&service.history(&arn))?,
        log_lines,
        arn,
    };
    Ok(check(&spec, expected_history, &mut bindings, &observed, verbose, None)
        .unwrap_or_else(|| Outcome::Pass("through real process exits".to_owned())))
}

/// What a run produced, for the checks.
struct Observed {
    arn: String,
    status: String,
    raw_output: Option<String>,
    error: Option<ErrorObject>,
    history: Vec<Value>,
    log_lines: Vec<String>,
}

impl Observed {
    fn of(result: &TestResult, log_lines: Vec<String>) -> Result<Self, String> {
        Ok(Self {
            arn: result.execution_arn().to_owned(),
            status: result.status().as_str().to_owned(),
            raw_output: result.raw_output().map(str::to_owned),
            error: result.error(),
            history: history_json(result.history())?,
            log_lines,
        })
    }
}

fn history_json(events: &[HistoryEvent]) -> Result<Vec<Value>, String> {
    events
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot serialize the history: {e}"))
}

/// Checks `observed` against the requirement's history, result and logs; `None` when it passes.
fn check(
    spec: &Pattern,
    expected_history: &[Pattern],
    bindings: &mut Bindings,
    observed: &Observed,
    verbose: bool,
    logs_note: Option<&str>,
) -> Option<Outcome> {
    let dump = |why: String| {
        if verbose {
            let events: Vec<String> = observed.history.iter().map(Value::to_string).collect();
            Outcome::Fail(format!(
                "{why}\n  status: {} result: {:?} error: {:?}\n  history:\n    {}",
                observed.status,
                observed.raw_output,
                observed.error,
                events.join("\n    ")
            ))
        } else {
            Outcome::Fail(why)
        }
    };
    if let Err(mismatch) = match_history(expected_history, &observed.history, bindings) {
        return Some(dump(format!("history: {mismatch}")));
    }
    if let Some(expected) = spec.get("ExpectedResult") {
        if let Some(Pattern::String(status)) = expected.get("ExecutionStatus") {
            if observed.status != *status {
                let error = observed
                    .error
                    .as_ref()
                    .map(|e| {
                        format!(
                            " ({}: {})",
                            e.error_type.clone().unwrap_or_default(),
                            e.error_message.clone().unwrap_or_default()
                        )
                    })
                    .unwrap_or_default();
                return Some(dump(format!("ExecutionStatus: expected {status}, got {}{error}", observed.status)));
            }
        }
        if observed.status == "SUCCEEDED" {
            if let Some(expected_result) = expected.get("Result") {
                if let Err(mismatch) = match_result(expected_result, observed.raw_output.as_deref(), bindings) {
                    return Some(dump(format!("ExpectedResult.{mismatch}")));
                }
            }
        }
    }
    if let (Some(expected_logs), None) = (spec.get("ExpectedLogs"), logs_note) {
        let Pattern::List(expected_logs) = expected_logs else {
            return Some(Outcome::Fail("ExpectedLogs is not a list".to_owned()));
        };
        let records = durable_conformance::logs::records(&observed.log_lines, &observed.arn);
        if let Err(mismatch) = durable_conformance::logs::check(expected_logs, &records, bindings) {
            let why = if verbose {
                format!("logs: {mismatch}\n  log lines:\n    {}", observed.log_lines.join("\n    "))
            } else {
                format!("logs: {mismatch}")
            };
            return Some(dump(why));
        }
    }
    None
}

/// Names of the callbacks that started with no matching answering action.
type Unanswered = Arc<Mutex<Vec<String>>>;

/// `runner` answering callbacks with `actions` (see `durable_conformance::callback_actions`): one
/// responder per action, in order, so each is used once and a callback takes the first unused one
/// that matches (a heartbeat does not consume the callback: the next matching action applies too).
///
/// Without actions, callbacks are left open, so their timeouts fire. With actions, a last responder
/// that never matches records the callbacks no answering action matched: the runner fails on those.
fn apply_callback_actions<H, I, O>(
    mut runner: TestRunner<H, I, O>,
    actions: &[callback_actions::Action],
) -> (TestRunner<H, I, O>, Unanswered)
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let unanswered = Unanswered::default();
    for action in actions {
        let name = action.name.clone();
        runner = runner.on_callback_matching(move |candidate| name.matches(candidate), action.responder());
    }
    if !actions.is_empty() {
        let record = unanswered.clone();
        let sentinel = move |name: &str| {
            if let Ok(mut names) = record.lock() {
                names.push(name.to_owned());
            }
            false
        };
        runner = runner.on_callback_matching(sentinel, CallbackAction::heartbeat());
    }
    (runner, unanswered)
}

/// A requirement file as a pattern tree, with its key order kept.
fn load(path: &Path) -> Result<Pattern, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
    Ok(pattern(value))
}

fn pattern(value: serde_yaml::Value) -> Pattern {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Pattern::Null,
        Y::Bool(b) => Pattern::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Pattern::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Pattern::Number(u.into())
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Pattern::Null, Pattern::Number)
            }
        }
        Y::String(s) => Pattern::String(s),
        Y::Sequence(items) => Pattern::List(items.into_iter().map(pattern).collect()),
        Y::Mapping(map) => Pattern::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_owned(),
                    };
                    (key, pattern(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => pattern(tagged.value),
    }
}

//! The timeline on histories shaped like the service's: nesting, retries, pending operations, widths.

use super::*;
use serde_json::json;

#[test]
fn the_halves_of_a_wait_for_callback_are_named_by_role() {
    let events = vec![
        json!({"EventType": "ContextStarted", "SubType": "WaitForCallback", "EventId": 2, "Id": "a", "Name": "approval"}),
        json!({"EventType": "CallbackStarted", "SubType": "Callback", "EventId": 3, "Id": "b", "ParentId": "a"}),
        json!({"EventType": "StepStarted", "SubType": "Step", "EventId": 4, "Id": "c", "ParentId": "a"}),
        json!({"EventType": "StepStarted", "SubType": "Step", "EventId": 5, "Id": "d1234567890"}),
    ];
    let names: Vec<String> = fold(&events).rows.into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["approval", "(callback)", "(submitter)", "(d1234567…)"]);
}

/// A history in the shape of protocol §7.4 and the conformance requirements: a step that
/// retried once, a wait, a child context with a nested step, and a callback still pending.
fn sample() -> Vec<Value> {
    serde_json::from_value(json!([
        { "EventType": "ExecutionStarted", "EventId": 1, "Id": "exec", "Name": "run-1", "EventTimestamp": 1000.0,
          "ExecutionStartedDetails": { "Input": { "Payload": "\"Ada\"", "Truncated": false } } },
        { "EventType": "StepStarted", "SubType": "Step", "EventId": 2, "Id": "s1", "Name": "charge",
          "EventTimestamp": 1000.5, "StepStartedDetails": {} },
        { "EventType": "StepFailed", "SubType": "Step", "EventId": 3, "Id": "s1", "Name": "charge",
          "EventTimestamp": 1001.0, "StepFailedDetails": {
            "Error": { "Payload": { "ErrorType": "TransientError", "ErrorMessage": "busy" } },
            "RetryDetails": { "CurrentAttempt": 1, "NextAttemptDelaySeconds": 1 } } },
        { "EventType": "InvocationCompleted", "EventId": 4, "EventTimestamp": 1001.1,
          "InvocationCompletedDetails": {} },
        { "EventType": "StepStarted", "SubType": "Step", "EventId": 5, "Id": "s1", "Name": "charge",
          "EventTimestamp": 1002.0, "StepStartedDetails": {} },
        { "EventType": "StepSucceeded", "SubType": "Step", "EventId": 6, "Id": "s1", "Name": "charge",
          "EventTimestamp": 1002.25, "StepSucceededDetails": { "RetryDetails": { "CurrentAttempt": 2 } } },
        { "EventType": "WaitStarted", "SubType": "Wait", "EventId": 7, "Id": "w1", "Name": "pause",
          "EventTimestamp": 1002.3, "WaitStartedDetails": { "Duration": 30 } },
        { "EventType": "InvocationCompleted", "EventId": 8, "EventTimestamp": 1002.4 },
        { "EventType": "WaitSucceeded", "SubType": "Wait", "EventId": 9, "Id": "w1", "Name": "pause",
          "EventTimestamp": 1032.3, "WaitSucceededDetails": { "Duration": 30 } },
        { "EventType": "ContextStarted", "SubType": "RunInChildContext", "EventId": 10, "Id": "c1",
          "Name": "group", "EventTimestamp": 1032.5, "ContextStartedDetails": {} },
        { "EventType": "StepStarted", "SubType": "Step", "EventId": 11, "Id": "c1-s1", "ParentId": "c1",
          "Name": "inner-step", "EventTimestamp": 1032.6 },
        { "EventType": "StepSucceeded", "SubType": "Step", "EventId": 12, "Id": "c1-s1", "ParentId": "c1",
          "Name": "inner-step", "EventTimestamp": 1032.7 },
        { "EventType": "CallbackStarted", "SubType": "Callback", "EventId": 13, "Id": "cb-0123456789",
          "ParentId": "c1", "EventTimestamp": 1032.8, "CallbackStartedDetails": { "CallbackId": "abc" } },
    ]))
    .unwrap_or_default()
}

#[test]
fn folds_events_by_operation() {
    let timeline = fold(&sample());
    let rows: Vec<_> =
        timeline.rows.iter().map(|r| (r.name.as_str(), r.kind.as_str(), r.depth, r.attempts, r.status)).collect();
    assert_eq!(
        rows,
        [
            ("charge", "Step", 0, 2, Status::Succeeded),
            ("pause", "Wait", 0, 0, Status::Succeeded),
            ("group", "RunInChildContext", 0, 0, Status::Running),
            ("inner-step", "Step", 1, 1, Status::Succeeded),
            ("(cb-01234…)", "Callback", 1, 0, Status::Waiting),
        ]
    );
    assert_eq!(timeline.invocations, 2);
    assert_eq!(timeline.origin, Some(1000.0));
    assert_eq!(timeline.rows.iter().map(|r| r.invocation).collect::<Vec<_>>(), [1, 2, 3, 3, 3]);
    assert_eq!(timeline.outcome, None);
}

#[test]
fn renders_a_readable_table() {
    let text = fold(&sample()).render(100);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("OPERATION"), "{text}");
    assert!(lines[1].starts_with("charge") && lines[1].contains("+0.5s") && lines[1].contains("succeeded"), "{text}");
    // Started at +0.5 s, last attempt ended at +2.25 s.
    assert!(lines[1].contains("1.75s"), "{text}");
    assert!(text.contains("── invocation 2"), "{text}");
    assert!(text.contains("\n  inner-step"), "{text}");
    let callback = lines.iter().find(|l| l.contains("Callback")).copied().unwrap_or_default();
    assert!(callback.contains("waiting") && callback.contains('…'), "{text}");
    assert!(text.contains("execution running; 2 invocations, 5 operations\n"), "{text}");
    assert!(text.ends_with("`(cb-01234…)` waits: answer with `durable callback succeed abc PAYLOAD`\n"), "{text}");
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{text}");
}

#[test]
fn a_final_failure_shows_its_error_type_and_the_outcome() {
    let mut events = sample();
    events.truncate(3);
    if let Some(details) = events.get_mut(2).and_then(|e| e.get_mut("StepFailedDetails")) {
        details["RetryDetails"] = json!({ "CurrentAttempt": 1 });
    }
    events.push(json!({ "EventType": "ExecutionFailed", "EventTimestamp": 1003.5 }));
    let timeline = fold(&events);
    assert_eq!(timeline.rows[0].status, Status::Failed);
    let text = timeline.render(80);
    assert!(text.contains("failed (TransientError)"), "{text}");
    assert!(text.contains("execution failed after 3.5s"), "{text}");
}

#[test]
fn odd_or_missing_members_do_not_stop_the_rendering() {
    let events = vec![
        json!(null),
        json!({}),
        json!({ "EventType": 7, "Id": [] }),
        json!({ "EventType": "StepStarted" }),
        json!({ "EventType": "StepStarted", "Id": "x", "EventTimestamp": "soon", "Name": "ünïcödé-name-that-is-much-longer-than-any-column-should-ever-be" }),
        json!({ "EventType": "MysteryHappened", "Id": "y", "EventTimestamp": f64::MAX, "ParentId": "y" }),
        json!({ "EventType": "StepFailed", "Id": "z", "ParentId": "a", "StepFailedDetails": { "Error": 3 } }),
        json!({ "EventType": "ContextStarted", "Id": "a", "ParentId": "z" }),
    ];
    let timeline = fold(&events);
    assert_eq!(timeline.rows.len(), 4);
    for width in [0, 1, 10, 40, 200] {
        let text = timeline.render(width);
        assert!(text.contains("execution running"), "{text}");
    }
    let narrow = timeline.render(30);
    assert!(narrow.contains("ünïcödé"), "{narrow}");
    // A cycle of parents is cut at the depth limit.
    assert!(timeline.rows.iter().all(|r| r.depth <= MAX_DEPTH));
    assert_eq!(fold(&[]).render(80), "no operations yet\nexecution running; 0 invocations, 0 operations\n");
}

#[test]
fn follow_lines_report_only_what_changed() {
    let events = sample();
    let before = fold(&events[..3]);
    let after = fold(&events[..6]);
    let lines = after.changes_since(&before);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("charge Step try 2: succeeded"), "{lines:?}");
    assert!(after.changes_since(&after).is_empty());
}

#[test]
fn each_attempt_is_a_segment_with_its_error() {
    let timeline = fold(&sample());
    let charge = &timeline.rows[0];
    let segments: Vec<_> =
        charge.segments.iter().map(|s| (s.start, s.end, s.status, s.error.as_deref(), s.message.as_deref())).collect();
    assert_eq!(
        segments,
        [
            (Some(1000.5), Some(1001.0), Status::Retrying, Some("TransientError"), Some("busy")),
            (Some(1002.0), Some(1002.25), Status::Succeeded, None, None),
        ]
    );
    let pause = &timeline.rows[1];
    assert_eq!(pause.segments.len(), 1);
    assert_eq!((pause.segments[0].start, pause.segments[0].end), (Some(1002.3), Some(1032.3)));
    let callback = &timeline.rows[4];
    assert_eq!(callback.segments[0].end, None);
    assert_eq!(callback.segments[0].status, Status::Waiting);
    assert_eq!(timeline.latest, Some(1032.8));
}

#[test]
fn waits_know_their_wake_time_and_invokes_their_target() {
    let events = vec![
        json!({"EventType": "WaitStarted", "SubType": "Wait", "Id": "w", "EventTimestamp": 10.0,
               "WaitStartedDetails": {"Duration": 5, "ScheduledEndTimestamp": 15.0}}),
        json!({"EventType": "ChainedInvokeStarted", "SubType": "ChainedInvoke", "Id": "i", "EventTimestamp": 11.0,
               "ChainedInvokeStartedDetails": {"FunctionName": "payments",
                 "DurableExecutionArn": "arn:aws:lambda:us-east-1:1:function:payments:$LATEST/durable-execution/x/y"}}),
    ];
    let timeline = fold(&events);
    assert_eq!(timeline.rows[0].wake, Some(15.0));
    assert_eq!(timeline.rows[1].function.as_deref(), Some("payments"));
    assert!(timeline.rows[1].target.as_deref().is_some_and(|t| t.ends_with("/durable-execution/x/y")));
}

#[test]
fn children_follow_their_parent() {
    let events = vec![
        json!({"EventType": "ContextStarted", "Id": "a", "Name": "a"}),
        json!({"EventType": "ContextStarted", "Id": "b", "Name": "b"}),
        json!({"EventType": "StepStarted", "Id": "b1", "ParentId": "b", "Name": "b1"}),
        json!({"EventType": "StepStarted", "Id": "a1", "ParentId": "a", "Name": "a1"}),
        json!({"EventType": "StepStarted", "Id": "x", "ParentId": "y", "Name": "x"}),
        json!({"EventType": "StepStarted", "Id": "y", "ParentId": "x", "Name": "y"}),
    ];
    let timeline = fold(&events);
    let names: Vec<&str> = timeline.tree_order().into_iter().map(|i| timeline.rows[i].name.as_str()).collect();
    assert_eq!(names, ["a", "a1", "b", "b1", "x", "y"]);
}

/// The sample finished: the callback answered, the context and the execution succeeded.
fn finished_sample() -> Vec<Value> {
    let mut events = sample();
    events.extend([
        json!({ "EventType": "CallbackSucceeded", "SubType": "Callback", "EventId": 14, "Id": "cb-0123456789",
                "ParentId": "c1", "EventTimestamp": 1040.0, "CallbackSucceededDetails": {} }),
        json!({ "EventType": "ContextSucceeded", "SubType": "RunInChildContext", "EventId": 15, "Id": "c1",
                "Name": "group", "EventTimestamp": 1040.2 }),
        json!({ "EventType": "ExecutionSucceeded", "EventId": 16, "EventTimestamp": 1040.5 }),
    ]);
    events
}

/// Compares `actual` with the committed snapshot `name` (rewritten with `UPDATE_SNAPSHOTS=1`).
fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; run with UPDATE_SNAPSHOTS=1 to create it", path.display()));
    assert!(
        expected == actual,
        "the SVG differs from {}; look at both and rerun with UPDATE_SNAPSHOTS=1 if the change is meant\n{actual}",
        path.display()
    );
}

#[test]
fn svg_snapshots() {
    snapshot("timeline-running.svg", &fold(&sample()).svg());
    snapshot("timeline-finished.svg", &fold(&finished_sample()).svg());
}

#[test]
fn the_svg_is_standalone_and_shows_every_operation() {
    let svg = fold(&finished_sample()).svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!svg.contains("href") && !svg.contains("<script") && !svg.contains("url("), "{svg}");
    for name in ["charge", "pause", "group", "inner-step", "(cb-01234…)"] {
        assert!(svg.contains(&format!(">{name}<")), "{name} missing: {svg}");
    }
    assert!(svg.contains("charge attempt 1 retrying: TransientError (busy)"), "{svg}");
    assert!(svg.contains("execution succeeded after 40.5s"), "{svg}");
    assert_eq!(fold(&[]).svg().matches("no operations yet").count(), 1);
}

#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn pattern(value: Value) -> Pattern {
    Pattern::from(&value)
}

fn check(expected: Value, actual: Value) -> Result<(), Mismatch> {
    match_value(&pattern(expected), &actual, "x", &mut Bindings::new())
}

#[test]
fn empty_mapping_and_star_match_anything_but_the_key_must_be_present() {
    assert!(check(json!({"D": {}}), json!({"D": {"a": 1}})).is_ok());
    assert!(check(json!({"D": {}}), json!({"D": 5})).is_ok());
    assert!(check(json!({"D": "*"}), json!({"D": null})).is_ok());
    let missing = check(json!({"D": {}}), json!({"E": {}})).unwrap_err();
    assert_eq!(missing.path, "x.D");
    assert!(missing.message.contains("missing"), "{missing}");
    assert!(check(json!({"D": "*"}), json!({})).is_err());
    // Extra actual keys are ignored.
    assert!(check(json!({"A": 1}), json!({"A": 1, "B": 2})).is_ok());
}

#[test]
fn placeholders_bind_on_first_use_then_must_stay_equal() {
    let mut bindings = Bindings::new();
    let expected = pattern(json!({"Id": "${ID1}", "Again": "${ID1}", "Other": "${ID2}"}));
    // `${ID2}` may bind to the same value as `${ID1}`: distinctness is not enforced.
    assert!(match_value(&expected, &json!({"Id": "a", "Again": "a", "Other": "a"}), "e", &mut bindings).is_ok());
    assert_eq!(bindings.get("ID1"), Some(&json!("a")));
    let err = match_value(&pattern(json!("${ID1}")), &json!("b"), "e.Id", &mut bindings).unwrap_err();
    assert!(err.message.contains("${ID1}"), "{err}");
    // Placeholders bind non-strings too.
    assert!(match_value(&pattern(json!("${N}")), &json!(3), "n", &mut bindings).is_ok());
    assert!(match_value(&pattern(json!("${N}")), &json!(3), "n", &mut bindings).is_ok());
    assert!(match_value(&pattern(json!("${N}")), &json!("3"), "n", &mut bindings).is_err());
}

#[test]
fn placeholders_bind_in_document_order() {
    // Key order of the pattern decides which occurrence binds and which compares.
    let expected = Pattern::Map(vec![
        ("B".to_owned(), Pattern::String("${X}".to_owned())),
        ("A".to_owned(), Pattern::String("${X}".to_owned())),
    ]);
    let err = match_value(&expected, &json!({"A": 1, "B": 2}), "e", &mut Bindings::new()).unwrap_err();
    assert_eq!(err.path, "e.A", "B bound first, A compared: {err}");
}

#[test]
fn literals_substitute_bound_placeholders() {
    let mut bindings = Bindings::new();
    bindings.bind("INPUT_1", json!("abc12345"));
    let expected = pattern(json!("\"${INPUT_1}\""));
    assert!(match_value(&expected, &json!("\"abc12345\""), "p", &mut bindings).is_ok());
    assert!(match_value(&expected, &json!("abc12345"), "p", &mut bindings).is_err());
    // Unbound placeholders inside a longer string stay literal.
    assert!(match_value(&pattern(json!("a ${NOPE}")), &json!("a ${NOPE}"), "p", &mut bindings).is_ok());
    // A literal string never equals a number.
    assert!(check(json!("1"), json!(1)).is_err());
    assert!(check(json!(1), json!("1")).is_err());
    assert!(check(json!(2), json!(2.0)).is_ok());
}

#[test]
fn regexes_search_pythons_str_of_the_actual_value() {
    assert!(check(json!("${/.*TransientError$/}"), json!("my.TransientError")).is_ok());
    assert!(check(json!("${/.*TransientError$/}"), json!("TransientErrorX")).is_err());
    assert!(check(json!("${/^[0-5]$/}"), json!(3)).is_ok());
    assert!(check(json!("${/^[0-5]$/}"), json!(7)).is_err());
    assert!(check(json!("${/wrapped/}"), json!("{\"wrapped\": 1}")).is_ok());
    // `re.search`, not a full match.
    assert!(check(json!("${/ppe/}"), json!("wrapped")).is_ok());
    assert!(check(json!("${/^True$/}"), json!(true)).is_ok());
    assert!(check(json!("${/^None$/}"), json!(null)).is_ok());
    assert!(check(json!("${/(/}"), json!("x")).unwrap_err().message.contains("invalid regex"));
}

#[test]
fn lists_must_have_the_same_length() {
    assert!(check(json!([1, "*"]), json!([1, "z"])).is_ok());
    let err = check(json!([1, 2]), json!([1, 2, 3])).unwrap_err();
    assert!(err.message.contains("2 items, got 3"), "{err}");
    assert_eq!(check(json!([1, 2]), json!([1, 3])).unwrap_err().path, "x[1]");
}

#[test]
fn history_pairs_events_by_event_id_only() {
    let expected = vec![
        pattern(json!({"EventType": "StepSucceeded", "EventId": 3, "Id": "${ID1}"})),
        pattern(json!({"EventType": "StepStarted", "EventId": 2, "Id": "${ID1}"})),
    ];
    let actual = vec![
        json!({"EventType": "ExecutionStarted", "EventId": 1}),
        json!({"EventType": "StepStarted", "EventId": 2, "Id": "s"}),
        json!({"EventType": "StepSucceeded", "EventId": 3, "Id": "s"}),
        json!({"EventType": "InvocationCompleted", "EventId": 4}),
    ];
    assert!(match_history(&expected, &actual, &mut Bindings::new()).is_ok(), "order comes from EventIds only");
    // One extra event early shifts every later EventId.
    let shifted = vec![
        json!({"EventType": "ExecutionStarted", "EventId": 1}),
        json!({"EventType": "InvocationCompleted", "EventId": 2}),
        json!({"EventType": "StepStarted", "EventId": 3, "Id": "s"}),
        json!({"EventType": "StepSucceeded", "EventId": 4, "Id": "s"}),
    ];
    let err = match_history(&expected, &shifted, &mut Bindings::new()).unwrap_err();
    assert_eq!(err.path, "EventId=3 (StepSucceeded) EventType");
    let missing = vec![pattern(json!({"EventType": "InvocationCompleted", "EventId": 9}))];
    let err = match_history(&missing, &actual, &mut Bindings::new()).unwrap_err();
    assert!(err.message.contains("no actual event found for EventId=9"), "{err}");
    let err = match_history(&[pattern(json!({"EventType": "X"}))], &actual, &mut Bindings::new()).unwrap_err();
    assert!(err.message.contains("no numeric EventId"), "{err}");
}

#[test]
fn results_are_compared_after_one_json_decode() {
    let b = Bindings::new();
    assert!(match_result(&pattern(json!("Hello, World!")), Some("\"Hello, World!\""), &b).is_ok());
    assert!(match_result(&pattern(json!({"a": [1, 2]})), Some("{\"a\":[1,2.0]}"), &b).is_ok());
    // `Result: null` matches an absent result and "null".
    assert!(match_result(&Pattern::Null, None, &b).is_ok());
    assert!(match_result(&Pattern::Null, Some("null"), &b).is_ok());
    assert!(match_result(&Pattern::Null, Some("\"\""), &b).is_err());
    // Not JSON: compared as the raw string. A JSON string whose content is quoted stays quoted.
    assert!(match_result(&pattern(json!("HELLO CHILD")), Some("HELLO CHILD"), &b).is_ok());
    assert!(match_result(&pattern(json!("\"HELLO\"")), Some("\"\\\"HELLO\\\"\""), &b).is_ok());
    let mut b = Bindings::new();
    b.bind("INPUT_1", json!("abc"));
    assert!(match_result(&pattern(json!("Hello, ${INPUT_1}!")), Some("\"Hello, abc!\""), &b).is_ok());
}

#[test]
fn variables_generate_strings_and_bind_literals() {
    let vars = vec![
        ("A".to_owned(), Pattern::String("${GEN_STR:8}".to_owned())),
        ("B".to_owned(), Pattern::String("fixed".to_owned())),
        ("C".to_owned(), Pattern::Number(7.into())),
    ];
    let b = Bindings::resolve_variables(&vars);
    let a = b.get("A").and_then(Value::as_str).unwrap();
    assert_eq!(a.len(), 8);
    assert!(a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{a}");
    assert_eq!(b.get("B"), Some(&json!("fixed")));
    assert_eq!(b.get("C"), Some(&json!("7")));
    let input = pattern(json!({"name": "${A}", "n": 1, "list": ["${B}-x"]}));
    assert_eq!(input.to_value(&b), json!({"name": a, "n": 1, "list": ["fixed-x"]}));
}

#[test]
fn python_str_matches_python() {
    assert_eq!(python_str(&json!("s")), "s");
    assert_eq!(python_str(&json!(1)), "1");
    assert_eq!(python_str(&json!(1.5)), "1.5");
    assert_eq!(python_str(&json!(2.0)), "2.0");
    assert_eq!(python_str(&json!(false)), "False");
    assert_eq!(python_str(&json!(null)), "None");
    assert_eq!(python_str(&json!({"a": [1, "b", true]})), "{'a': [1, 'b', True]}");
}

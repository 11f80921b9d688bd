//! `vars:` and `set:`, through the parser and `harness::run` on the embedded server: vars are
//! evaluated once, in order, before auth (claims may use them), keeping JSON types; `set`
//! reassigns and is recorded like a capture, secrets redacted; an override replaces `vars`
//! whole, validated whole; a var that cannot be evaluated fails the run naming it, before
//! anything runs.

use std::path::Path;

use serde_json::{Value, json};
use sockspec::diagnostic::Diagnostic;
use sockspec::environment::Config;
use sockspec::harness::RunOutcome;
use sockspec::scenario::Plan;
use sockspec::transcript::{Event, Failure, Frame, Transcript};

const CONFIG: &str = "\
environments:
  sim:
    local: true
    embedded: {jwt_secret: jwt}
    secrets:
      jwt: {default: variables-test-jwt-secret}
";

fn parse(text: &str) -> Result<Plan, Vec<Diagnostic>> {
    sockspec::scenario::parse(text, Path::new("t.yaml"), "t")
}

/// Runs `scenario` in `sim`: its transcript, and its failure when it failed.
fn run(scenario: &str) -> (Transcript, Option<Failure>) {
    let config = Config::parse(CONFIG, Path::new("."), Path::new("sockspec.yaml")).expect("config");
    let plan = parse(scenario).expect("valid");
    let run = sockspec::harness::run(&plan, &config.environments["sim"], &|_| None);
    let failure = match run.outcome {
        RunOutcome::Passed => None,
        RunOutcome::Failed(f) => Some(*f),
        other => panic!("the run neither passed nor failed: {other:?}"),
    };
    (run.transcript.expect("a transcript"), failure)
}

fn sent(t: &Transcript) -> Vec<Value> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Sent {
                frame: Frame::Json(v),
                ..
            } => Some(v.clone()),
            _ => None,
        })
        .collect()
}

fn captured(t: &Transcript) -> Vec<(usize, String, Value)> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Captured { step, name, value } => Some((*step, name.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn vars_are_evaluated_once_in_order_before_auth() {
    let scenario = r#"
vars:
  msg_id: "{{ uuid }}"
  n: 3
  ping: {type: ping, id: "{{ msg_id }}", n: "{{ n }}", tag: "n={{ n }}"}
auth:
  jwt: {secret: jwt, claims: {sub: "qa-{{ msg_id }}"}}
steps:
  - send: "{{ ping }}"
  - expect: {match: {type: pong, id: "{{ msg_id }}", user_id: "qa-{{ msg_id }}"}, within: 2s}
  - set: {old: "{{ msg_id }}", msg_id: "{{ uuid }}"}
  - send: {type: ping, id: "{{ msg_id }}"}
  - expect: {match: {type: pong, id: {eq: "{{ msg_id }}", ne: "{{ old }}"}}, within: 2s}
"#;
    let plan = parse(scenario).expect("valid");
    let names: Vec<&str> = plan.vars.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["msg_id", "n", "ping"]);
    let (t, failure) = run(scenario);
    assert!(failure.is_none(), "{failure:?}");
    let frames = sent(&t);
    let first = frames[0]["id"].as_str().expect("an id").to_owned();
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert_eq!(
        frames[0],
        json!({"type": "ping", "id": first, "n": 3, "tag": "n=3"})
    );
    let caps = captured(&t);
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert_eq!((caps[0].0, caps[0].1.as_str()), (2, "old"));
    assert_eq!(caps[0].2, json!(first));
    assert_eq!(caps[1].1, "msg_id");
    assert_ne!(caps[1].2, json!(first));
    assert_eq!(frames[1]["id"], caps[1].2);
}

#[test]
fn set_values_holding_secrets_are_redacted() {
    let scenario = r#"
auth:
  jwt: {secret: jwt, claims: {sub: qa}}
steps:
  - set: {key: "k={{ secrets.jwt }}"}
  - send: {type: ping, id: "{{ key }}"}
  - expect: {match: {type: pong}, within: 2s}
"#;
    let (t, failure) = run(scenario);
    assert!(failure.is_none(), "{failure:?}");
    let text = format!("{:?}", t.entries);
    assert!(!text.contains("variables-test-jwt-secret"), "{text}");
    let caps = captured(&t);
    let shown = caps[0].2.as_str().unwrap_or_default();
    assert!(shown.starts_with("k=[secret jwt"), "{shown}");
}

#[test]
fn an_override_replaces_vars_whole_and_is_validated_whole() {
    let base = r#"
vars: {a: 1, b: "{{ a }}-x"}
steps:
  - send: {type: ping, id: "{{ b }}"}
"#;
    let inherit = format!("{base}overrides:\n  sim:\n    steps: []\n");
    let plan = parse(&inherit).expect("valid");
    assert_eq!(plan.for_environment("sim").vars.len(), 2);

    let replace = format!("{base}overrides:\n  sim:\n    vars: {{a: 2, b: y}}\n");
    let plan = parse(&replace).expect("valid");
    let values: Vec<&Value> = plan
        .for_environment("sim")
        .vars
        .iter()
        .map(|a| &a.value)
        .collect();
    assert_eq!(values, [&json!(2), &json!("y")]);
    assert_eq!(plan.vars[0].value, json!(1));

    let dropped = format!("{base}overrides:\n  sim:\n    vars: {{a: 2}}\n");
    let ds = parse(&dropped).expect_err("`b` is no longer defined for sim");
    assert!(
        ds.iter()
            .any(|d| d.message == "undefined template variable `b`"),
        "{ds:?}"
    );
}

#[test]
fn names_are_identifiers_and_not_reserved() {
    for (name, message) in [
        ("uuid", "`uuid` is reserved and cannot name a variable"),
        ("env", "`env` is reserved and cannot name a variable"),
        ("auth", "`auth` is reserved and cannot name a variable"),
        ("\"a.b\"", "`a.b` is not a valid variable name"),
        ("9lives", "`9lives` is not a valid variable name"),
    ] {
        for text in [
            format!("vars: {{{name}: 1}}\n"),
            format!("steps:\n  - set: {{{name}: 1}}\n"),
        ] {
            let ds = parse(&text).expect_err("rejected");
            // At the name: line 1 in `vars`, line 2 in the step.
            let line = if text.starts_with("vars") { 1 } else { 2 };
            assert!(
                ds.iter()
                    .any(|d| d.message == message && d.pos.line == line),
                "{text}: {ds:?}"
            );
        }
    }
}

#[test]
fn a_var_that_cannot_be_evaluated_fails_the_run_naming_it() {
    let scenario = r#"
vars:
  fine: x
  prefix: "{{ env.SOCKSPEC_T_VARIABLES_SURELY_UNSET }}-{{ fine }}"
auth:
  jwt: {secret: jwt, claims: {sub: qa}}
steps:
  - send: {type: ping}
"#;
    let (t, failure) = run(scenario);
    let failure = failure.expect("the run fails");
    assert_eq!(
        failure.message,
        "variable `prefix`: cannot read environment variable \
         `SOCKSPEC_T_VARIABLES_SURELY_UNSET`, which is not set"
    );
    assert_eq!(failure.label.as_deref(), Some("in `vars`"));
    assert_eq!(failure.pos.line, 4);
    assert!(
        !t.entries
            .iter()
            .any(|e| matches!(e.event, Event::Auth { .. } | Event::Sent { .. })),
        "nothing runs after a var fails: {:?}",
        t.entries
    );
}

//! The scenario JSON Schema: the committed `schema/scenario.schema.json` is the generated one,
//! `sockspec schema` prints it, it is a valid draft 2020-12 schema, every example scenario
//! declares it on its first line and validates against it, forms the parser accepts validate
//! too, and typical mistakes (a misspelled key, a bad duration) do not.

use std::path::{Path, PathBuf};
use std::process::Command;

use jsonschema::Validator;
use serde_json::Value;
use sockspec::harness::discover;
use sockspec::scenario::schema::{
    FRAGMENT_SCHEMA_PATH, SCHEMA_PATH, fragment_schema, fragment_schema_json, scenario_schema,
    scenario_schema_json,
};
use sockspec::scenario::{FRAGMENT_DIR, yaml_options};

const REGENERATE: &str = "cargo run -- schema > schema/scenario.schema.json";
const REGENERATE_FRAGMENT: &str = "cargo run -- schema --fragment > schema/fragment.schema.json";

fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> Validator {
    jsonschema::validator_for(&scenario_schema()).expect("the generated schema compiles")
}

/// The example scenarios: what the harness runs (`scenarios/` without `invalid/`, `failing/`).
fn examples() -> Vec<(String, PathBuf)> {
    let all = discover(&project_root().join("scenarios")).expect("scenarios/ is readable");
    assert!(!all.is_empty(), "no example scenario found");
    all
}

/// The example fragments: every `*.yaml` below `scenarios/_shared/`, as (name, path).
fn example_fragments() -> Vec<(String, PathBuf)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).expect("readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let name = path.strip_prefix(base).expect("below").with_extension("");
                out.push((name.to_string_lossy().replace('\\', "/"), path));
            }
        }
    }
    let base = project_root().join("scenarios").join(FRAGMENT_DIR);
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    assert!(!out.is_empty(), "no example fragment in {}", base.display());
    out
}

/// YAML text as the JSON value an editor validates (YAML 1.2 booleans, like the parser).
fn yaml_value(text: &str) -> Value {
    serde_saphyr::from_str_with_options::<Value>(text, yaml_options()).expect("valid YAML")
}

/// Every schema violation of `text`, one line each (`/steps/0: ...`).
fn violations(validator: &Validator, text: &str) -> Vec<String> {
    let instance = yaml_value(text);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(committed: &str, generated: &str) -> String {
    let line = committed
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
    format!(
        "first difference at line {}: committed {:?}, generated {:?}",
        line + 1,
        committed.lines().nth(line).unwrap_or("<end of file>"),
        generated.lines().nth(line).unwrap_or("<end of file>"),
    )
}

#[test]
fn committed_schema_is_the_generated_one() {
    let path = project_root().join(SCHEMA_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = scenario_schema_json();
    assert!(
        committed == generated,
        "{SCHEMA_PATH} is out of date ({}); regenerate it with `{REGENERATE}` and commit it",
        first_difference(&committed, &generated),
    );
}

#[test]
fn committed_fragment_schema_is_the_generated_one() {
    let path = project_root().join(FRAGMENT_SCHEMA_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = fragment_schema_json();
    assert!(
        committed == generated,
        "{FRAGMENT_SCHEMA_PATH} is out of date ({}); regenerate it with \
         `{REGENERATE_FRAGMENT}` and commit it",
        first_difference(&committed, &generated),
    );
}

#[test]
fn schema_command_prints_the_schema() {
    for (args, expected) in [
        (&["schema"][..], scenario_schema_json()),
        (&["schema", "--fragment"][..], fragment_schema_json()),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
            .args(args)
            .current_dir(project_root())
            .output()
            .expect("sockspec runs");
        assert!(out.status.success(), "exit status {}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    for schema in [scenario_schema(), fragment_schema()] {
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!(
                "the schema {} does not satisfy its meta-schema: {e}",
                schema["$id"]
            );
        }
    }
}

/// Fragments declare the fragment schema, validate against it, and a scenario-only key is
/// flagged by it.
#[test]
fn every_example_fragment_declares_and_validates_against_the_fragment_schema() {
    let schema_file = project_root().join(FRAGMENT_SCHEMA_PATH);
    let validator =
        jsonschema::validator_for(&fragment_schema()).expect("the fragment schema compiles");
    let mut wrong = Vec::new();
    for (name, path) in example_fragments() {
        let text = std::fs::read_to_string(&path).expect("fragment is readable");
        let first = text.lines().next().unwrap_or_default();
        let target = first.strip_prefix("# yaml-language-server: $schema=");
        let dir = path.parent().expect("a fragment lies in a directory");
        let resolves = target
            .is_some_and(|t| dir.join(t).canonicalize().ok() == schema_file.canonicalize().ok());
        if !resolves {
            wrong.push(format!(
                "{}: the first line is {first:?}; make it point at {FRAGMENT_SCHEMA_PATH}",
                path.display()
            ));
        }
        for v in violations(&validator, &text) {
            wrong.push(format!("{name}: {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        !violations(&validator, "name: x\nignore: {type: heartbeat}\n").is_empty(),
        "`name` in a fragment is not flagged"
    );
    assert!(
        violations(&validator, "include: [qa_user, auth/qa]\n").is_empty(),
        "nested includes are flagged"
    );
}

#[test]
fn every_example_scenario_declares_the_schema_on_its_first_line() {
    let schema_file = project_root().join(SCHEMA_PATH);
    let mut wrong = Vec::new();
    for (id, path) in examples() {
        let text = std::fs::read_to_string(&path).expect("scenario is readable");
        let first = text.lines().next().unwrap_or_default();
        let target = first.strip_prefix("# yaml-language-server: $schema=");
        let resolves = target.is_some_and(|t| {
            let dir = project_root().join("scenarios").join(&id);
            let dir = dir.parent().expect("a scenario lies in a directory");
            dir.join(t).canonicalize().ok() == schema_file.canonicalize().ok()
        });
        if !resolves {
            let up = "../".repeat(id.split('/').count());
            wrong.push(format!(
                "{}: the first line is {first:?}; make it \
                 `# yaml-language-server: $schema={up}{SCHEMA_PATH}`",
                path.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "example scenarios declare the schema on their first line (editor completion):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_example_scenario_validates_against_the_schema() {
    let validator = validator();
    let mut failures = Vec::new();
    for (id, path) in examples() {
        let text = std::fs::read_to_string(&path).expect("scenario is readable");
        for v in violations(&validator, &text) {
            failures.push(format!("{id}: {v}"));
        }
    }
    assert!(
        failures.is_empty(),
        "example scenarios violate the schema:\n{}",
        failures.join("\n")
    );
}

/// Forms the parser accepts must not be flagged by editors.
#[test]
fn forms_the_parser_accepts_validate() {
    let validator = validator();
    let cases = [
        "auth: none\nhandshake: accepted\n",
        "auth: none\nhandshake: {rejected: 403}\n",
        "auth: none\nhandshake: {rejected: [401, 403]}\n",
        "name: ~\nhandshake: timeout\nconnect: {timeout: 1h 30m}\n",
        "auth: {bearer: {secret: fake_token}}\n\
         connect: {query: {v: 1, debug: true}, headers: {X-Version: 2}, token_in: {query: t}}\n",
        "auth: {jwt: {secret: jwt, algorithm: hs512, expires_in: -5m, not_before: 1.5s}}\n",
        "auth: {jwt: {secret: jwt, mutate: {drop_claim: sub}}}\n\
         handshake: {rejected: {status: [401, 403], body: {detail: {regex: '^Invalid'}}}}\n",
        "auth: {chain: {fallback: warn, strategies: [{bearer: {env: T}}, none]}}\n",
        "setup:\n  - http: {method: post, path: /x, status: 201, capture: {id: /id}}\n\
         steps:\n  - send: hello\n  - expect: {match: {regex: '^echo'}, within: 500ms}\n\
         \x20 - expect_none: {match: {type: error}, within: 300ms}\n\
         \x20 - close: {code: 4000, reason: bye}\n",
        "reference_server: {event_delay: 50ms, users: [{id: u1, active: false}]}\n",
        "vars: {msg_id: '{{ uuid }}', n: 3, ping: {type: ping, id: '{{ msg_id }}'}, my-list: []}\n\
         steps:\n  - set: {old: '{{ msg_id }}', msg_id: '{{ uuid }}'}\n  - send: '{{ ping }}'\n\
         overrides: {local: {vars: {msg_id: fixed, n: 4, ping: x, my-list: [1]}}}\n",
    ];
    for text in cases {
        if let Err(ds) = sockspec::scenario::parse(text, Path::new("case.yaml"), "case") {
            let rendered: Vec<String> = ds.iter().map(|d| d.render()).collect();
            panic!("the parser rejects a case:\n{text}\n{}", rendered.join(""));
        }
        let v = violations(&validator, text);
        assert!(v.is_empty(), "{text}\nis flagged: {v:?}");
    }
}

#[test]
fn misspelled_top_level_key_fails_validation() {
    let validator = validator();
    let corpus = project_root().join("scenarios/invalid/unknown_top_level_field.yaml");
    let corpus = std::fs::read_to_string(corpus).expect("invalid corpus file is readable");
    for text in [
        "name: typo\nhandshak: accepted\nsteps: []\n",
        corpus.as_str(),
    ] {
        let v = violations(&validator, text);
        assert!(
            v.iter().any(|m| m.contains("'handshak' was unexpected")),
            "a misspelled `handshak:` must be flagged, got {v:?}\n{text}"
        );
    }
}

/// Typical mistakes the parser rejects are flagged by the schema as well.
#[test]
fn typical_mistakes_fail_validation() {
    let validator = validator();
    let cases = [
        (
            "a misspelled step field",
            "steps:\n  - expect: {match: {}, witin: 2s}\n",
        ),
        ("an unknown step kind", "steps:\n  - sned: {type: ping}\n"),
        ("an unknown auth strategy", "auth: {oauth: {}}\n"),
        ("a duration without a unit", "connect: {timeout: 5}\n"),
        (
            "a duration in words",
            "steps:\n  - expect: {match: {}, within: soon}\n",
        ),
        (
            "an unknown algorithm",
            "auth: {jwt: {secret: jwt, algorithm: HS265}}\n",
        ),
        (
            "an unknown fallback",
            "auth: {chain: {fallback: maybe, strategies: [none]}}\n",
        ),
        (
            "a status out of range",
            "handshake: {rejected: {status: 42}}\n",
        ),
        (
            "an unknown server option",
            "reference_server: {silent: true}\n",
        ),
        (
            "a bad server duration",
            "reference_server: {event_delay: fast}\n",
        ),
        (
            "a capture that is not a pointer",
            "setup:\n  - http: {path: /x, capture: {id: id}}\n",
        ),
        (
            "a variable shadowing a builtin",
            "vars: {uuid: '{{ uuid }}'}\n",
        ),
        (
            "a reserved name in `set`",
            "steps:\n  - set: {secrets: x}\n",
        ),
        ("a variable name with a dot", "vars: {a.b: 1}\n"),
        ("variables that are not a map", "vars: [a, b]\n"),
    ];
    for (what, text) in cases {
        assert!(
            sockspec::scenario::parse(text, Path::new("case.yaml"), "case").is_err(),
            "the parser accepts {what}:\n{text}"
        );
        assert!(
            !violations(&validator, text).is_empty(),
            "{what} is not flagged by the schema:\n{text}"
        );
    }
}

//! Owns the guard that the generator keeps up with the format: every step kind, auth strategy
//! and handshake outcome of the generated JSON Schema is one the generator writes (and the
//! other way round), so a new one cannot silently go unfuzzed. The keys are read from the
//! schema — the variants of the definitions that `steps`, `auth` and `handshake` refer to —
//! and compared with the generator's lists in `gen_scenario`. Likewise every property of the
//! scenario, of the expect steps, of close expectations and of repeated events is a field the
//! generator writes (its `*_fields` functions), and the other way round.
//! Likewise every top-level key of the fragment schema is one the fragment generator writes
//! (read from a sample of its documents).

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;
use sockspec::scenario::schema::{fragment_schema, scenario_schema};

use crate::gen_scenario::{
    AUTH_STRATEGIES, Fields, HANDSHAKE_OUTCOMES, STEP_KINDS, auth_strategy,
    close_expectation_fields, expect_fields, expect_none_fields, fragment, handshake_outcome,
    many_fields, repeat_fields, scenario_fields, step_of_kind,
};
use crate::gen_yaml::{CLEAN, DIRTY, Y};

/// What is compared: a name for messages, the top-level property of the schema, and the
/// generator's list (with its name, for the fix).
const COVERED: [(&str, &str, &[&str], &str); 3] = [
    ("step kind", "steps", STEP_KINDS, "STEP_KINDS"),
    ("auth strategy", "auth", AUTH_STRATEGIES, "AUTH_STRATEGIES"),
    (
        "handshake outcome",
        "handshake",
        HANDSHAKE_OUTCOMES,
        "HANDSHAKE_OUTCOMES",
    ),
];

/// The first `$ref` in `schema` (depth first), resolved against the root's `$defs`: the
/// definition behind `{"$ref": ...}`, `{"items": {"$ref": ...}}` or `{"anyOf": [{"$ref": ...},
/// {"type": "null"}]}`.
fn referenced<'a>(root: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/")?;
        return root["$defs"].get(name);
    }
    match schema {
        Value::Object(map) => map.values().find_map(|v| referenced(root, v)),
        Value::Array(items) => items.iter().find_map(|v| referenced(root, v)),
        _ => None,
    }
}

/// The keys of the variants of the definition behind the top-level `property`: a variant is
/// a string constant (`none`, `accepted`) or a one-key map (`{jwt: ...}`), named by its key.
fn variant_keys(root: &Value, property: &str) -> Vec<String> {
    let schema = &root["properties"][property];
    let definition = referenced(root, schema)
        .unwrap_or_else(|| panic!("`{property}` of the schema refers to no definition: {schema}"));
    let variants = definition
        .get("oneOf")
        .or_else(|| definition.get("anyOf"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("the definition of `{property}` has no variants: {definition}"));
    let mut keys = Vec::new();
    for variant in variants {
        if let Some(constant) = variant.get("const").and_then(Value::as_str) {
            keys.push(constant.to_owned());
        } else if let Some(constants) = variant.get("enum").and_then(Value::as_array) {
            keys.extend(
                constants
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        } else if let Some(required) = variant.get("required").and_then(Value::as_array)
            && let [key] = required.as_slice()
            && let Some(key) = key.as_str()
        {
            keys.push(key.to_owned());
        } else {
            panic!(
                "a variant of `{property}` is neither a constant nor a one-key map, so this \
                 guard cannot name it: {variant}"
            );
        }
    }
    keys
}

#[test]
fn the_generator_writes_every_step_kind_auth_strategy_and_handshake_outcome_of_the_schema() {
    let schema = scenario_schema();
    let mut problems = Vec::new();
    for (what, property, generated, list) in COVERED {
        let keys = variant_keys(&schema, property);
        assert!(!keys.is_empty(), "the schema lists no {what}");
        for key in &keys {
            if !generated.contains(&key.as_str()) {
                problems.push(format!(
                    "{what} `{key}` is in the schema but the fuzz generator never writes it: \
                     add it to `{list}` in tests/fuzz/gen_scenario.rs"
                ));
            }
        }
        for key in generated {
            if !keys.iter().any(|k| k == key) {
                problems.push(format!(
                    "the fuzz generator writes {what} `{key}`, which the schema does not have: \
                     remove it from `{list}` in tests/fuzz/gen_scenario.rs (the dirty mode \
                     writes unknown ones on purpose)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The maps whose every property the generator writes: a name for messages, the schema
/// definition that holds the properties (`None`: the scenario itself), the function of
/// `gen_scenario` that lists the generator's fields, and those fields.
fn field_lists() -> Vec<(&'static str, Option<&'static str>, &'static str, Fields)> {
    let g = CLEAN;
    vec![
        ("the scenario", None, "scenario_fields", scenario_fields(g)),
        (
            "`expect`",
            Some("Expect"),
            "expect_fields",
            expect_fields(g),
        ),
        (
            "`expect_sequence`",
            Some("ExpectMany"),
            "many_fields",
            many_fields(g, true),
        ),
        (
            "`expect_unordered`",
            Some("ExpectMany"),
            "many_fields",
            many_fields(g, false),
        ),
        (
            "`expect_none`",
            Some("ExpectNone"),
            "expect_none_fields",
            expect_none_fields(g),
        ),
        (
            "a close expectation",
            Some("CloseExpectation"),
            "close_expectation_fields",
            close_expectation_fields(g),
        ),
        (
            "a repeated event",
            Some("SequenceEvent"),
            "repeat_fields",
            repeat_fields(g),
        ),
    ]
}

/// The property names of the schema's root (`definition` `None`) or of a definition in
/// `$defs`: its own `properties`, or those of its one variant that has any (the repeated form
/// of `SequenceEvent`).
fn property_names(root: &Value, definition: Option<&str>) -> Vec<String> {
    let schema = match definition {
        None => root,
        Some(name) => root["$defs"]
            .get(name)
            .unwrap_or_else(|| panic!("the schema has no definition `{name}`")),
    };
    let properties = schema.get("properties").or_else(|| {
        let variants = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)?;
        let mut with = variants.iter().filter_map(|v| v.get("properties"));
        match (with.next(), with.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    });
    let place = definition.unwrap_or("the root");
    properties
        .and_then(Value::as_object)
        .unwrap_or_else(|| {
            panic!(
                "{place} of the schema has no properties (or no one variant with them): {schema}"
            )
        })
        .keys()
        .cloned()
        .collect()
}

#[test]
fn the_generator_writes_every_property_of_the_scenario_expect_steps_closes_and_repeats() {
    let schema = scenario_schema();
    let mut problems = Vec::new();
    for (what, definition, function, fields) in field_lists() {
        let place = definition.map_or("its root".to_owned(), |d| format!("`$defs/{d}`"));
        let keys = property_names(&schema, definition);
        assert!(!keys.is_empty(), "the schema lists no property of {what}");
        let generated: Vec<&str> = fields
            .iter()
            .map(|(k, _)| k.strip_prefix('!').unwrap_or(k))
            .collect();
        for key in &keys {
            if !generated.contains(&key.as_str()) {
                problems.push(format!(
                    "`{key}` of {what} is in the schema ({place}) but the fuzz generator never \
                     writes it: add it to `{function}` in tests/fuzz/gen_scenario.rs"
                ));
            }
        }
        for key in generated {
            if !keys.iter().any(|k| k == key) {
                problems.push(format!(
                    "the fuzz generator writes `{key}` in {what}, which the schema does not have \
                     ({place}): remove it from `{function}` in tests/fuzz/gen_scenario.rs (the \
                     dirty mode writes unknown keys on purpose)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every key of the generator's lists has a generator with a positive weight, in both modes.
#[test]
fn every_listed_key_has_a_generator() {
    for g in [CLEAN, DIRTY] {
        for kind in STEP_KINDS {
            assert!(step_of_kind(g, kind).0 > 0, "step kind `{kind}`");
        }
        for name in AUTH_STRATEGIES {
            let (weight, _) = auth_strategy(g, 1, name)
                .unwrap_or_else(|| panic!("auth strategy `{name}` at depth 1"));
            assert!(weight > 0, "auth strategy `{name}`");
        }
        for name in HANDSHAKE_OUTCOMES {
            assert!(
                handshake_outcome(g, name).0 > 0,
                "handshake outcome `{name}`"
            );
        }
    }
}

/// The fragment generator writes every top-level key of the fragment schema, and no other
/// (besides the dirty mode's junk keys, which are never schema keys).
#[test]
fn the_fragment_generator_writes_every_top_level_key_of_the_fragment_schema() {
    let schema = fragment_schema();
    let keys: BTreeSet<String> = schema["properties"]
        .as_object()
        .expect("the fragment schema has properties")
        .keys()
        .cloned()
        .collect();
    let mut written = BTreeSet::new();
    let mut runner = TestRunner::deterministic();
    let strategy = fragment(CLEAN);
    for _ in 0..300 {
        let tree = strategy.new_tree(&mut runner).expect("a fragment");
        if let Y::Map(entries, _) = tree.current() {
            written.extend(entries.into_iter().map(|(k, _)| k));
        }
    }
    let missing: Vec<&String> = keys.difference(&written).collect();
    let extra: Vec<&String> = written.difference(&keys).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "fragment keys the generator never writes: {missing:?}; keys it writes that the \
         fragment schema does not have: {extra:?} (tests/fuzz/gen_scenario.rs `fragment`)"
    );
}

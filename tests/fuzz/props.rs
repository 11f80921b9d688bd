//! Owns the properties: the scenario parser on arbitrary text, on generated scenarios, on
//! generated one-step scenarios, generated fragments they include, and on the mutated corpus
//! (and that generated scenarios reach validation), templates, template values, patterns
//! (`explain` is empty exactly when
//! `matches`) and the diagnostic renderer.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestRunner;
use serde_json::Value;
use sockspec::diagnostic::{Diagnostic, Pos};
use sockspec::pattern::{Pattern, render_diff};
use sockspec::template::{MapResolver, RenderError, Template, parse_value, render_value};

use crate::checks::{FILE, check_parse, check_parse_at, shows_line};
use crate::gen_pattern::{json_value, pattern_json};
use crate::gen_scenario::{fragment, one_step_scenario, scenario};
use crate::gen_text::{lossy_bytes, text};
use crate::gen_yaml::{CLEAN, DIRTY};
use crate::mutate::{apply, corpus, mutation, mutations};
use crate::runner::fuzz;

#[test]
fn parse_never_panics_on_arbitrary_text() {
    let strategy = prop_oneof![
        3 => text(300),
        1 => lossy_bytes(512),
        // Line-shaped text: indentation, `key: value`, list dashes.
        2 => prop::collection::vec((0usize..6, text(6), text(6)), 0..20).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(indent, k, v)| format!("{}{k}: {v}\n", " ".repeat(indent)))
                .collect::<String>()
        }),
    ];
    fuzz("parse_arbitrary_text", 400, strategy, |text| {
        check_parse(&text)
    });
}

#[test]
fn parse_never_panics_on_generated_scenarios() {
    let corpus = corpus();
    let strategy = (prop_oneof![scenario(CLEAN), scenario(DIRTY)], mutations());
    fuzz(
        "parse_generated_scenarios",
        300,
        strategy,
        move |(doc, mutations)| {
            let text = apply(&doc.document(), &mutations, &corpus);
            check_parse(&text)
        },
    );
}

/// Small scenarios around one step (or a closed handshake): unlike whole generated
/// scenarios, many are accepted, so `check_plan` sees accepted repeated events, `where`,
/// `ignore`, `unclaimed` and close windows.
#[test]
fn parse_never_panics_on_generated_steps() {
    let corpus = corpus();
    let strategy = (
        prop_oneof![one_step_scenario(CLEAN), one_step_scenario(DIRTY)],
        mutations(),
    );
    fuzz(
        "parse_generated_steps",
        300,
        strategy,
        move |(doc, mutations)| {
            let text = apply(&doc.document(), &mutations, &corpus);
            check_parse(&text)
        },
    );
}

/// The generator is only useful if its documents get past YAML and serde into validation,
/// and some all the way to a plan: checked on a fixed sample, so that renaming a key in the
/// format cannot silently turn the scenario property into a YAML syntax fuzzer.
#[test]
fn generated_scenarios_reach_validation() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::deterministic();
    let strategy = prop_oneof![scenario(CLEAN), scenario(DIRTY)];
    let (mut accepted, mut invalid, mut malformed) = (0, 0, 0);
    for _ in 0..600 {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        match sockspec::scenario::parse(&tree.current().document(), Path::new(FILE), "x") {
            Ok(_) => accepted += 1,
            // Validation diagnostics name the field; YAML and serde ones do not.
            Err(ds) if ds.iter().any(|d| d.field.is_some()) => invalid += 1,
            Err(_) => malformed += 1,
        }
    }
    eprintln!("generated scenarios: {accepted} accepted, {invalid} invalid, {malformed} malformed");
    assert!(accepted >= 5 && invalid >= 100 && malformed >= 20);
}

/// Generated fragments, included by a few scenarios, in a scenario tree of a temporary
/// directory: every rejection is located in the file it names (the fragment's text for a
/// problem inside it), and accepted plans are runnable.
#[test]
fn parse_never_panics_on_generated_fragments() {
    let root = std::env::temp_dir().join(format!("sockspec-fuzz-fragments-{}", std::process::id()));
    std::fs::create_dir_all(root.join("_shared")).expect("a temporary directory");
    let scenario_file = root.join("case.yaml");
    let fragment_file = root.join("_shared").join("f.yaml");
    const SCENARIOS: [&str; 4] = [
        "include: [f]\n",
        "include: [f]\nsteps:\n  - send: {type: ping}\n",
        "include: [f]\nvars: {user: x}\nhandshake: {rejected: 403}\nteardown: []\n",
        "include: [f]\noverrides: {local: {vars: {a: 1}, steps: []}}\n",
    ];
    let strategy = (
        prop_oneof![fragment(CLEAN), fragment(DIRTY)],
        0..SCENARIOS.len(),
    );
    let (file, fragment_at) = (scenario_file.clone(), fragment_file.clone());
    fuzz(
        "parse_generated_fragments",
        300,
        strategy,
        move |(doc, scenario)| {
            std::fs::write(&fragment_at, doc.document()).expect("write the fragment");
            check_parse_at(SCENARIOS[scenario], &file, "case")
        },
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn parse_never_panics_on_mutated_corpus() {
    let corpus = corpus();
    let files = corpus.clone();
    let strategy = (any::<Index>(), prop::collection::vec(mutation(), 1..6));
    fuzz(
        "parse_mutated_corpus",
        300,
        strategy,
        move |(file, mutations)| {
            let source: &String = file.get(&files[..]);
            let text = apply(source, &mutations, &corpus);
            check_parse(&text)
        },
    );
}

fn resolver() -> MapResolver {
    let mut r =
        MapResolver::new("run-1").with_env(|n| n.starts_with('A').then(|| format!("v-{n}")));
    r.insert("x", Value::from(1));
    r.insert("a", serde_json::json!({"b": [1, {"c": "é"}], "0": null}));
    r.insert("auth", serde_json::json!({"token": "t0k"}));
    r.insert("auth.token", Value::from("flat"));
    r
}

#[test]
fn templates_never_panic() {
    let strategy = prop_oneof![
        3 => text(40),
        1 => lossy_bytes(64),
    ];
    let ctx = resolver();
    fuzz("template_text", 2000, strategy, move |source| {
        match Template::parse(&source) {
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert!(
                    source.is_char_boundary(e.offset),
                    "offset {} of {:?} is not a char boundary",
                    e.offset,
                    source
                );
            }
            Ok(t) => {
                for (_, offset) in t.exprs() {
                    prop_assert!(
                        source.get(offset..).is_some_and(|s| s.starts_with("{{")),
                        "offset {offset} of {source:?} is not at `{{{{`"
                    );
                }
                let rendered = t.render_string(&ctx);
                let value = t.render(&ctx);
                prop_assert_eq!(rendered.is_ok(), value.is_ok());
                if !source.contains("{{") {
                    prop_assert!(t.is_literal());
                    prop_assert_eq!(rendered.ok(), Some(source.clone()));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn template_values_never_panic() {
    let strategy = json_value();
    let ctx = resolver();
    fuzz("template_values", 600, strategy, move |value| {
        let parsed = parse_value(&value);
        let rendered = render_value(&value, &ctx);
        match parsed {
            Err((_, e)) => prop_assert!(rendered.is_err() && !e.message.is_empty()),
            Ok(_) => prop_assert!(
                !matches!(rendered, Err(RenderError::Invalid { .. })),
                "{rendered:?}"
            ),
        }
        Ok(())
    });
}

#[test]
fn patterns_never_panic_and_explain_agrees_with_matches() {
    let strategy = (pattern_json(), prop::collection::vec(json_value(), 0..4));
    fuzz("patterns", 600, strategy, |(raw, values)| {
        let pattern = match Pattern::compile(&raw) {
            Ok(p) => p,
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert!(!e.to_string().is_empty());
                return Ok(());
            }
        };
        for value in values.iter().chain([&raw]) {
            let matches = pattern.matches(value);
            let mismatches = pattern.explain(value);
            let (ok, total) = pattern.score(value);
            prop_assert_eq!(
                matches,
                mismatches.is_empty(),
                "explain of {} vs {}",
                raw,
                value
            );
            prop_assert!(ok <= total, "score {ok}/{total} of {raw} vs {value}");
            prop_assert_eq!(matches, ok == total, "score of {} vs {}", raw, value);
            prop_assert_eq!(matches, render_diff(&pattern, value).is_empty());
            for m in &mismatches {
                prop_assert!(!m.to_string().is_empty());
            }
        }
        Ok(())
    });
}

#[test]
fn diagnostics_render_anywhere() {
    let position = prop_oneof![
        Just(0usize),
        Just(1),
        2usize..40,
        Just(usize::MAX - 1),
        Just(usize::MAX)
    ];
    let strategy = (
        prop_oneof![text(60), lossy_bytes(120)],
        position.clone(),
        position,
        prop::option::of(text(6)),
        prop::option::of(text(6)),
        prop::collection::vec(text(10), 0..3),
        prop::option::of(text(6)),
        text(4),
    );
    fuzz(
        "diagnostic_render",
        1000,
        strategy,
        |(source, line, column, label, field, notes, help, message)| {
            let mut d = Diagnostic::new(message, "scenarios/x é.yaml")
                .with_source(Arc::from(source.as_str()))
                .at(Pos::new(line, column));
            d.label = label;
            d.field = field;
            d.notes = notes;
            d.help = help;
            let rendered = d.render();
            prop_assert!(rendered.starts_with("error: "));
            prop_assert!(rendered.contains(&d.location()));
            // A line that exists is shown, without its line break, above a caret.
            let lines: Vec<&str> = source
                .split("\r\n")
                .flat_map(|l| l.split(['\r', '\n']))
                .collect();
            if let Some(text) = line.checked_sub(1).and_then(|i| lines.get(i))
                && !source.is_empty()
            {
                prop_assert!(
                    shows_line(&rendered, line, text),
                    "line {line} not shown: {rendered:?}"
                );
                prop_assert!(rendered.contains('^'));
            }
            Ok(())
        },
    );
}

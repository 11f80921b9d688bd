//! JSON pattern matching: compiling a pattern written in YAML into a
//! [`Pattern`], testing received frames against it, explaining mismatches
//! and scoring how near a frame comes to matching.
//!
//! The pattern language:
//! - a **map** is a subset match against an object: each key is a dotted
//!   path (`payload.result.cost`, `items.0.name`, `a\.b` for a literal dot)
//!   whose value must match; other fields are ignored; a missing path is no
//!   match;
//! - a map whose keys are all predicate names (`eq`, `ne`, `regex`,
//!   `contains`, `gt`, `gte`, `lt`, `lte`, `exists`, `one_of`, `type`) is a
//!   **predicate** map, its predicates ANDed; a map whose only key is `type`
//!   is a predicate only when its argument is a type name (so
//!   `{type: agent_completed}` matches a `type` field); wrap literal objects
//!   in `{eq: ...}`;
//! - a **list** matches an array of the same length element by element;
//! - a **scalar** matches by equality, numbers numerically (`1 == 1.0`).

use serde_json::Value;

use super::json_path::{JsonPath, join};
use super::predicate::{Predicate, is_predicate_map, json_eq};

pub(super) use super::mismatch::Mismatch;

/// Why a pattern could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("compile pattern{}: {message}", if path.is_empty() { String::new() } else { format!(" at `{path}`") })]
pub struct PatternError {
    /// Dotted path inside the pattern, e.g. `payload.result.name.regex`
    /// (empty for the root).
    pub path: String,
    /// What is expected, e.g. "`gt` expects a number, found string".
    pub message: String,
}

/// One field of a map pattern.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    path: JsonPath,
    node: Node,
}

/// A compiled pattern node.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// Subset match of an object (or array, through numeric keys).
    Fields(Vec<Field>),
    /// Element-wise match of an array of the same length.
    Items(Vec<Node>),
    /// Deep equality, numbers numerically.
    Equals(Value),
    /// Predicates ANDed on the value at this point.
    Predicates(Vec<Predicate>),
}

impl Node {
    /// Compiles `raw`; `path` is its location inside the whole pattern.
    pub(crate) fn compile(raw: &Value, path: &str) -> Result<Node, PatternError> {
        match raw {
            Value::Object(map) if is_predicate_map(map) => map
                .iter()
                .map(|(name, arg)| Predicate::compile(name, arg, path))
                .collect::<Result<_, _>>()
                .map(Node::Predicates),
            Value::Object(map) => map
                .iter()
                .map(|(key, sub)| {
                    let here = join(path, key);
                    let json_path = JsonPath::parse(key).map_err(|_| PatternError {
                        path: here.clone(),
                        message: format!("key `{key}` has an empty path segment"),
                    })?;
                    Ok(Field {
                        path: json_path,
                        node: Node::compile(sub, &here)?,
                    })
                })
                .collect::<Result<_, _>>()
                .map(Node::Fields),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Node::compile(item, &join(path, &i.to_string())))
                .collect::<Result<_, _>>()
                .map(Node::Items),
            scalar => Ok(Node::Equals(scalar.clone())),
        }
    }

    /// Whether the value found here (`None` = absent) matches. Allocation
    /// free.
    pub(crate) fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Node::Fields(fields) => match value {
                Some(v @ (Value::Object(_) | Value::Array(_))) => {
                    fields.iter().all(|f| f.node.matches(f.path.get(v)))
                }
                _ => false,
            },
            Node::Items(items) => match value {
                Some(Value::Array(values)) => {
                    values.len() == items.len()
                        && items
                            .iter()
                            .zip(values)
                            .all(|(node, v)| node.matches(Some(v)))
                }
                _ => false,
            },
            Node::Equals(expected) => value.is_some_and(|v| json_eq(expected, v)),
            Node::Predicates(predicates) => predicates.iter().all(|p| p.test(value)),
        }
    }

    /// Number of leaf conditions: scalars, predicates, the length of a list,
    /// and an empty map (which only requires an object).
    fn leaves(&self) -> usize {
        match self {
            Node::Fields(fields) => fields.iter().map(|f| f.node.leaves()).sum::<usize>().max(1),
            Node::Items(items) => 1 + items.iter().map(Node::leaves).sum::<usize>(),
            Node::Equals(_) => 1,
            Node::Predicates(predicates) => predicates.len(),
        }
    }

    /// Satisfied leaf conditions for the value found here.
    fn satisfied(&self, value: Option<&Value>) -> usize {
        match (self, value) {
            (Node::Fields(fields), Some(v @ (Value::Object(_) | Value::Array(_)))) => {
                if fields.is_empty() {
                    1
                } else {
                    fields.iter().map(|f| f.node.satisfied(f.path.get(v))).sum()
                }
            }
            (Node::Items(items), Some(Value::Array(values))) => {
                usize::from(values.len() == items.len())
                    + items
                        .iter()
                        .enumerate()
                        .map(|(i, node)| node.satisfied(values.get(i)))
                        .sum::<usize>()
            }
            (Node::Fields(_) | Node::Items(_), _) => 0,
            (Node::Equals(_), _) => usize::from(self.matches(value)),
            (Node::Predicates(predicates), _) => {
                predicates.iter().filter(|p| p.test(value)).count()
            }
        }
    }

    /// Appends one [`Mismatch`] per failed condition under `path`.
    fn explain(&self, path: &str, value: Option<&Value>, out: &mut Vec<Mismatch>) {
        let mismatch = |expected: String| Mismatch {
            path: path.to_owned(),
            expected,
            actual: value.cloned(),
        };
        match (self, value) {
            (Node::Fields(fields), Some(v @ (Value::Object(_) | Value::Array(_)))) => {
                for field in fields {
                    let here = join(path, field.path.as_str());
                    field.node.explain(&here, field.path.get(v), out);
                }
            }
            (Node::Fields(_), _) => out.push(mismatch("an object".to_owned())),
            (Node::Items(items), Some(Value::Array(values))) => {
                if values.len() != items.len() {
                    out.push(mismatch(format!("an array of {} items", items.len())));
                }
                for (i, (node, v)) in items.iter().zip(values).enumerate() {
                    node.explain(&join(path, &i.to_string()), Some(v), out);
                }
            }
            (Node::Items(items), _) => {
                out.push(mismatch(format!("an array of {} items", items.len())));
            }
            (Node::Equals(expected), _) => {
                if !self.matches(value) {
                    out.push(mismatch(expected.to_string()));
                }
            }
            (Node::Predicates(predicates), _) => {
                for p in predicates.iter().filter(|p| !p.test(value)) {
                    out.push(mismatch(p.describe()));
                }
            }
        }
    }
}

/// A compiled JSON pattern; see the module documentation for the language.
#[derive(Clone, Debug)]
pub struct Pattern {
    raw: Value,
    root: Node,
}

impl Pattern {
    /// Compiles a pattern, checking predicate arguments and regexes.
    ///
    /// # Errors
    /// A [`PatternError`] naming the path inside the pattern of the first
    /// invalid predicate argument, regex or key.
    pub fn compile(raw: &Value) -> Result<Pattern, PatternError> {
        Ok(Pattern {
            raw: raw.clone(),
            root: Node::compile(raw, "")?,
        })
    }

    /// Whether `value` (a received frame) matches. Does not allocate.
    pub fn matches(&self, value: &Value) -> bool {
        self.root.matches(Some(value))
    }

    /// One [`Mismatch`] per failed condition; empty if and only if
    /// [`Pattern::matches`] is true.
    pub fn explain(&self, value: &Value) -> Vec<Mismatch> {
        let mut out = Vec::new();
        self.root.explain("", Some(value), &mut out);
        out
    }

    /// `(satisfied, total)` leaf conditions, used to pick the received frame
    /// nearest to the pattern in a failure report. `satisfied == total` if
    /// and only if the value matches.
    pub fn score(&self, value: &Value) -> (usize, usize) {
        (self.root.satisfied(Some(value)), self.root.leaves())
    }

    /// The pattern as written.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(raw: Value) -> Pattern {
        match Pattern::compile(&raw) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    fn paths(p: &Pattern, v: &Value) -> Vec<String> {
        p.explain(v).into_iter().map(|m| m.path).collect()
    }

    #[test]
    fn map_is_a_subset_match() {
        let p = pattern(json!({"type": "agent_completed", "payload": {"ok": true}}));
        assert!(p.matches(
            &json!({"type": "agent_completed", "id": 3, "payload": {"ok": true, "n": 1}})
        ));
        assert!(!p.matches(&json!({"type": "agent_completed", "payload": {"ok": false}})));
        assert!(!p.matches(&json!({"type": "agent_completed"})));
        assert!(!p.matches(&json!("agent_completed")));
    }

    #[test]
    fn dotted_keys_walk_objects_and_arrays() {
        let p = pattern(json!({"payload.result.savings_usd": 12, "items.1.name": "b", r"a\.b": 1}));
        let v = json!({"payload": {"result": {"savings_usd": 12.0}}, "items": [{"name": "a"}, {"name": "b"}], "a.b": 1});
        assert!(p.matches(&v));
        assert!(!p.matches(&json!({"payload": {"result": {}}, "items": [], "a.b": 1})));
    }

    #[test]
    fn lists_match_element_by_element_with_same_length() {
        let p = pattern(json!([1, {"gt": 1}, {"name": "x"}]));
        assert!(p.matches(&json!([1.0, 2, {"name": "x", "id": 1}])));
        assert!(!p.matches(&json!([1, 2, {"name": "x"}, 4])));
        assert!(!p.matches(&json!([1, 0, {"name": "x"}])));
        assert!(!p.matches(&json!({"0": 1})));
    }

    #[test]
    fn text_frames() {
        assert!(pattern(json!("pong")).matches(&json!("pong")));
        assert!(!pattern(json!("pong")).matches(&json!("pong!")));
        assert!(pattern(json!({"regex": "^pong"})).matches(&json!("pong 42")));
        assert!(!pattern(json!({"regex": "^pong"})).matches(&json!({"regex": "pong"})));
    }

    #[test]
    fn predicates_are_anded_and_exists_false_accepts_missing() {
        let p = pattern(json!({"n": {"gte": 1, "lt": 10}, "error": {"exists": false}}));
        assert!(p.matches(&json!({"n": 1})));
        assert!(!p.matches(&json!({"n": 10})));
        assert!(!p.matches(&json!({"n": 5, "error": null})));
        assert!(!p.matches(&json!({"error": null})));
    }

    #[test]
    fn eq_wraps_objects_with_predicate_keys() {
        let p = pattern(json!({"filter": {"eq": {"gt": 3}}}));
        assert!(p.matches(&json!({"filter": {"gt": 3}})));
        assert!(!p.matches(&json!({"filter": {"gt": 3, "lt": 1}})));
    }

    #[test]
    fn compile_errors_carry_the_pattern_path() {
        let err = Pattern::compile(&json!({"payload": {"result": {"name": {"regex": "("}}}})).err();
        assert_eq!(
            err.as_ref().map(|e| e.path.as_str()),
            Some("payload.result.name.regex")
        );
        assert!(err.is_some_and(|e| e.message.starts_with("invalid regex")));
        let err = Pattern::compile(&json!([{"n": {"gt": "x"}}])).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("compile pattern at `0.n.gt`: `gt` expects a number, found string".to_owned())
        );
        let err = Pattern::compile(&json!({"a..b": 1})).err();
        assert_eq!(err.map(|e| e.path), Some("a..b".to_owned()));
        let err = Pattern::compile(&json!({"contains": {"x": {"regex": "["}}})).err();
        assert_eq!(err.map(|e| e.path), Some("contains.x.regex".to_owned()));
    }

    #[test]
    fn explain_lists_every_failure() {
        let p = pattern(
            json!({"type": "agent_completed", "payload.x": {"exists": true}, "payload.n": {"gt": 100}}),
        );
        let v = json!({"type": "agent_thinking", "payload": {"n": 5}});
        let m = p.explain(&v);
        let lines: Vec<String> = m.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                r#"type: expected "agent_completed", found "agent_thinking""#,
                "payload.x: expected present, missing",
                "payload.n: expected > 100, found 5",
            ]
        );
        assert!(
            p.explain(&json!({"type": "agent_completed", "payload": {"x": 0, "n": 101}}))
                .is_empty()
        );
    }

    #[test]
    fn explain_reports_wrong_shapes_once() {
        let p = pattern(json!({"payload": {"a": 1, "b": 2}, "list": [1, 2]}));
        assert_eq!(
            paths(&p, &json!({"payload": "x", "list": [1]})),
            ["payload", "list"]
        );
        assert_eq!(paths(&p, &json!({"list": [1, 3]})), ["payload", "list.1"]);
        assert_eq!(paths(&p, &json!(null)), [""]);
    }

    #[test]
    fn explain_is_empty_exactly_when_matching() {
        let patterns = [
            json!({"a": {"b": {"exists": false}}}),
            json!({}),
            json!([]),
            json!({"x": [1, {"y": 2}]}),
            json!({"type": ["string", "number"]}),
            json!(null),
        ];
        let values = [
            json!({}),
            json!({"a": {}}),
            json!({"a": {"b": 1}}),
            json!([]),
            json!({"x": [1, {"y": 2}]}),
            json!({"x": [1]}),
            json!("s"),
            json!(null),
            json!(3),
        ];
        for raw in &patterns {
            let p = pattern(raw.clone());
            for v in &values {
                let (ok, total) = p.score(v);
                assert_eq!(p.matches(v), p.explain(v).is_empty(), "{raw} vs {v}");
                assert_eq!(p.matches(v), ok == total, "score of {raw} vs {v}");
                assert!(ok <= total);
            }
        }
    }

    #[test]
    fn score_counts_leaf_conditions() {
        let p = pattern(
            json!({"type": "a", "payload": {"n": {"gt": 1, "lt": 9}, "s": "x"}, "l": [1, 2]}),
        );
        assert_eq!(p.score(&json!({})), (0, 7));
        assert_eq!(p.score(&json!({"type": "a", "payload": {"n": 5}})), (3, 7));
        assert_eq!(
            p.score(&json!({"type": "a", "payload": {"n": 5, "s": "x"}, "l": [1, 2, 3]})),
            (6, 7)
        );
        assert_eq!(pattern(json!({})).score(&json!(1)), (0, 1));
    }

    #[test]
    fn nested_predicates_inside_contains_and_root_arrays() {
        let p = pattern(json!({"tags": {"contains": {"regex": "^cost"}}, "0": {"exists": false}}));
        assert!(p.matches(&json!({"tags": ["x", "cost_usd"]})));
        assert!(!p.matches(&json!({"tags": ["x", "price"]})));
        assert!(!p.matches(&json!({"tags": "cost"})));
        let p = pattern(json!({"0.id": 1, "1": {"type": "string"}}));
        assert!(p.matches(&json!([{"id": 1}, "two"])));
        assert!(!p.matches(&json!([{"id": 1}])));
    }

    #[test]
    fn lone_type_key_matches_a_type_field() {
        let p = pattern(json!({"type": "tool_completed"}));
        assert!(p.matches(&json!({"type": "tool_completed", "id": 1})));
        assert!(!p.matches(&json!("tool_completed")));
        let p = pattern(json!({"type": "string"}));
        assert!(p.matches(&json!("any text frame")));
        let p = pattern(json!({"type": {"eq": "string"}}));
        assert!(p.matches(&json!({"type": "string"})));
    }

    #[test]
    fn raw_is_kept() {
        let raw = json!({"type": "x"});
        assert_eq!(pattern(raw.clone()).raw(), &raw);
    }
}

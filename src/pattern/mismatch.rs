//! Human-readable reporting of pattern mismatches: the [`Mismatch`] record,
//! its one-line display, and the multi-line [`render_diff`] used in failure
//! reports.

use std::fmt;

use serde_json::Value;

use super::matcher::Pattern;

/// Longest rendering of a found value, in characters, before it is cut.
const MAX_VALUE_CHARS: usize = 200;

/// One failed condition of a pattern against a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Dotted path of the location in the value (empty for the root).
    pub path: String,
    /// What was expected, e.g. `"tool_completed"`, `matches /^cost/`,
    /// `> 100` or `present`.
    pub expected: String,
    /// What was found there; `None` when the path is missing.
    pub actual: Option<Value>,
}

impl Mismatch {
    /// The found value as compact JSON (cut after 200 characters), or
    /// `missing`.
    pub fn found(&self) -> String {
        match &self.actual {
            Some(value) => short_json(value),
            None => "missing".to_owned(),
        }
    }
}

impl fmt::Display for Mismatch {
    /// `type: expected "agent_completed", found "agent_thinking"` or
    /// `payload.x: expected present, missing`; the path and its colon are
    /// omitted at the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        match &self.actual {
            Some(value) => write!(f, "expected {}, found {}", self.expected, short_json(value)),
            None => write!(f, "expected {}, missing", self.expected),
        }
    }
}

/// Compact JSON, cut after [`MAX_VALUE_CHARS`] characters with `…`.
fn short_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

/// A stable, colourless, multi-line diff of `value` against `pattern`: for
/// each mismatch a `- expected` line and a `+ found` line, e.g.
///
/// ```text
/// - expected type: "agent_completed"
/// + found    type: "agent_thinking"
/// - expected payload.x: present
/// + found    payload.x: missing
/// ```
///
/// Empty when the value matches.
pub fn render_diff(pattern: &Pattern, value: &Value) -> String {
    let mut out = String::new();
    for m in pattern.explain(value) {
        let prefix = if m.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", m.path)
        };
        out.push_str(&format!("- expected {prefix}{}\n", m.expected));
        out.push_str(&format!("+ found    {prefix}{}\n", m.found()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_with_and_without_value() {
        let m = Mismatch {
            path: "type".to_owned(),
            expected: "\"agent_completed\"".to_owned(),
            actual: Some(json!("agent_thinking")),
        };
        assert_eq!(
            m.to_string(),
            r#"type: expected "agent_completed", found "agent_thinking""#
        );
        let m = Mismatch {
            path: "payload.x".to_owned(),
            expected: "present".to_owned(),
            actual: None,
        };
        assert_eq!(m.to_string(), "payload.x: expected present, missing");
        let m = Mismatch {
            path: String::new(),
            expected: "\"pong\"".to_owned(),
            actual: Some(json!("ping")),
        };
        assert_eq!(m.to_string(), r#"expected "pong", found "ping""#);
    }

    #[test]
    fn long_values_are_cut_on_char_boundaries() {
        let long = json!("é".repeat(500));
        let text = short_json(&long);
        assert_eq!(text.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(text.ends_with('…'));
        assert_eq!(short_json(&json!([1, 2])), "[1,2]");
    }

    #[test]
    fn diff_lines() {
        let p =
            Pattern::compile(&json!({"type": "agent_completed", "payload.x": {"exists": true}}));
        let diff = p.map(|p| render_diff(&p, &json!({"type": "agent_thinking", "payload": {}})));
        assert_eq!(
            diff.ok().as_deref(),
            Some(concat!(
                "- expected type: \"agent_completed\"\n",
                "+ found    type: \"agent_thinking\"\n",
                "- expected payload.x: present\n",
                "+ found    payload.x: missing\n",
            ))
        );
    }

    #[test]
    fn diff_is_empty_on_match_and_pathless_at_root() {
        let p = Pattern::compile(&json!("pong"));
        assert_eq!(
            p.as_ref()
                .map(|p| render_diff(p, &json!("pong")))
                .ok()
                .as_deref(),
            Some("")
        );
        assert_eq!(
            p.map(|p| render_diff(&p, &json!(1))).ok().as_deref(),
            Some("- expected \"pong\"\n+ found    1\n")
        );
    }
}

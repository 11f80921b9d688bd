//! Templates inside scenario strings: parsing `{{ expr }}` placeholders and
//! rendering them against a [`Resolve`] (whole JSON values are handled in
//! [`super::value`]).
//!
//! An expression is `uuid` (a fresh v4 UUID), `now` (RFC 3339 UTC with
//! milliseconds), `now_unix` (integer seconds), `run_id`, `env.NAME`, or a
//! variable path `name.field.0.sub`. Identifiers are
//! `[A-Za-z_][A-Za-z0-9_-]*`; later path segments may also be array
//! indexes. `\{{` renders a literal `{{`; a lone `}}` is literal text.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::Resolve;

/// One expression inside `{{ }}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A fresh v4 UUID at each evaluation.
    Uuid,
    /// The current time, RFC 3339 UTC with milliseconds.
    Now,
    /// The current time in whole seconds since the Unix epoch (a number).
    NowUnix,
    /// The id of the scenario run.
    RunId,
    /// An environment variable.
    Env(String),
    /// A variable path: captured values, `auth.token`, ...
    Var(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    Expr { expr: Expr, offset: usize },
}

/// A parsed template: literal text and expressions.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse template at byte {offset}: {message}")]
pub struct TemplateError {
    /// Byte offset in the source string: the `{{` for unclosed or empty
    /// expressions, the expression itself for invalid names.
    pub offset: usize,
    /// What is wrong, e.g. "unclosed `{{`", "empty expression",
    /// "invalid variable name `a b`".
    pub message: String,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A variable path has no value.
    #[error("resolve undefined variable `{name}`")]
    UndefinedVariable {
        /// The dotted variable path.
        name: String,
    },
    /// An `env.NAME` expression names an unset variable.
    #[error("read environment variable `{name}`, which is not set")]
    UnsetEnv {
        /// The environment variable name.
        name: String,
    },
    /// A string inside a value given to `render_value` is not a valid
    /// template.
    #[error("{error} (in `{path}`)")]
    Invalid {
        /// Dotted path of the string inside the value.
        path: String,
        /// The parse error.
        error: TemplateError,
    },
}

/// Whether `s` is an identifier: `[A-Za-z_][A-Za-z0-9_-]*` (a variable name).
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses the trimmed text of one expression found at `offset`.
fn parse_expr(text: &str, offset: usize) -> Result<Expr, TemplateError> {
    let error = |message: String| TemplateError { offset, message };
    Ok(match text {
        "uuid" => Expr::Uuid,
        "now" => Expr::Now,
        "now_unix" => Expr::NowUnix,
        "run_id" => Expr::RunId,
        "env" => {
            return Err(error(
                "`env` needs a variable name, as in `env.API_KEY`".to_owned(),
            ));
        }
        _ => match text.strip_prefix("env.") {
            Some(name) if is_ident(name) => Expr::Env(name.to_owned()),
            Some(name) => return Err(error(format!("invalid environment variable name `{name}`"))),
            None => {
                let segments: Vec<&str> = text.split('.').collect();
                let valid = segments.first().is_some_and(|s| is_ident(s))
                    && segments.iter().skip(1).all(|s| {
                        is_ident(s) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    });
                if !valid {
                    return Err(error(format!("invalid variable name `{text}`")));
                }
                Expr::Var(segments.into_iter().map(str::to_owned).collect())
            }
        },
    })
}

/// A value as text: strings raw, anything else compact JSON.
fn to_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

impl Expr {
    /// Evaluates the expression.
    fn eval(&self, ctx: &dyn Resolve) -> Result<Value, RenderError> {
        Ok(match self {
            Expr::Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
            Expr::Now => {
                Value::String(humantime::format_rfc3339_millis(SystemTime::now()).to_string())
            }
            Expr::NowUnix => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                Value::from(secs)
            }
            Expr::RunId => Value::String(ctx.run_id()),
            Expr::Env(name) => Value::String(
                ctx.env(name)
                    .ok_or_else(|| RenderError::UnsetEnv { name: name.clone() })?,
            ),
            Expr::Var(path) => ctx
                .var(path)
                .ok_or_else(|| RenderError::UndefinedVariable {
                    name: path.join("."),
                })?,
        })
    }
}

impl Template {
    /// Parses `source`.
    ///
    /// # Errors
    /// A [`TemplateError`] for an unclosed `{{`, an empty expression or an
    /// invalid name.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while !rest.is_empty() {
            let offset = source.len() - rest.len();
            if let Some(after) = rest.strip_prefix("\\{{") {
                literal.push_str("{{");
                rest = after;
            } else if let Some(after) = rest.strip_prefix("{{") {
                let Some(close) = after.find("}}") else {
                    return Err(TemplateError {
                        offset,
                        message: "unclosed `{{`".to_owned(),
                    });
                };
                let inner = after.get(..close).unwrap_or_default();
                let text = inner.trim();
                if text.is_empty() {
                    return Err(TemplateError {
                        offset,
                        message: "empty expression".to_owned(),
                    });
                }
                let expr_offset = offset + 2 + (inner.len() - inner.trim_start().len());
                let expr = parse_expr(text, expr_offset)?;
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Expr { expr, offset });
                rest = after.get(close + 2..).unwrap_or_default();
            } else {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    literal.push(c);
                }
                rest = chars.as_str();
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Whether the template has no expression (it renders to fixed text).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The expressions with the byte offsets of their `{{`.
    pub fn exprs(&self) -> impl Iterator<Item = (&Expr, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr { expr, offset } => Some((expr, *offset)),
            Part::Literal(_) => None,
        })
    }

    /// Renders the template. A template that is exactly one `{{ expr }}`
    /// yields the expression's JSON value unchanged (a captured number stays
    /// a number); otherwise a string, non-string values written as compact
    /// JSON.
    ///
    /// # Errors
    /// [`RenderError`] for an undefined variable or unset environment
    /// variable.
    pub fn render(&self, ctx: &dyn Resolve) -> Result<Value, RenderError> {
        match self.parts.as_slice() {
            [Part::Expr { expr, .. }] => expr.eval(ctx),
            _ => self.render_string(ctx).map(Value::String),
        }
    }

    /// Renders the template as a string.
    ///
    /// # Errors
    /// As [`Template::render`].
    pub fn render_string(&self, ctx: &dyn Resolve) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Expr { expr, .. } => out.push_str(&to_text(expr.eval(ctx)?)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::MapResolver;
    use serde_json::json;

    fn ctx() -> MapResolver {
        let mut r =
            MapResolver::new("run-42").with_env(|n| (n == "API_KEY").then(|| "k3y".to_owned()));
        r.insert("tool_id", json!("t-1"));
        r.insert("count", json!(3));
        r.insert("auth", json!({"token": "tok", "user_id": 9}));
        r.insert("items", json!([{"id": "a"}]));
        r
    }

    fn parse(s: &str) -> Template {
        match Template::parse(s) {
            Ok(t) => t,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    fn err(s: &str) -> (usize, String) {
        match Template::parse(s) {
            Ok(t) => panic!("{s:?} parsed as {t:?}"),
            Err(e) => (e.offset, e.message),
        }
    }

    fn exprs(s: &str) -> Vec<(Expr, usize)> {
        parse(s).exprs().map(|(e, o)| (e.clone(), o)).collect()
    }

    #[test]
    fn parses_all_expression_kinds_with_offsets() {
        assert_eq!(
            exprs("{{uuid}} {{ now }} {{now_unix }}{{ run_id}} {{ env.API_KEY }} {{ a.b-c.0._d }}"),
            [
                (Expr::Uuid, 0),
                (Expr::Now, 9),
                (Expr::NowUnix, 19),
                (Expr::RunId, 32),
                (Expr::Env("API_KEY".to_owned()), 44),
                (
                    Expr::Var(vec!["a".into(), "b-c".into(), "0".into(), "_d".into()]),
                    62
                ),
            ]
        );
    }

    #[test]
    fn literal_text() {
        assert!(parse("plain }} text { x }").is_literal());
        assert!(parse("").is_literal());
        assert_eq!(parse("").render(&ctx()).ok(), Some(json!("")));
        assert_eq!(parse("{{x}}{{x}}").exprs().count(), 2);
        assert!(!parse("a {{x}}").is_literal());
        assert_eq!(
            parse(r"\{{ x }}").render_string(&ctx()).ok().as_deref(),
            Some("{{ x }}")
        );
        assert_eq!(
            parse(r"a\b").render_string(&ctx()).ok().as_deref(),
            Some(r"a\b")
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(err("ab {{ x"), (3, "unclosed `{{`".to_owned()));
        assert_eq!(err("{{  }}"), (0, "empty expression".to_owned()));
        assert_eq!(
            err("x {{ a b }}"),
            (5, "invalid variable name `a b`".to_owned())
        );
        assert_eq!(
            err("{{{{ x }}"),
            (2, "invalid variable name `{{ x`".to_owned())
        );
        assert_eq!(err("{{ 0a }}").1, "invalid variable name `0a`");
        assert_eq!(err("{{ a..b }}").1, "invalid variable name `a..b`");
        assert_eq!(err("{{ a.b. }}").1, "invalid variable name `a.b.`");
        assert_eq!(
            err("{{ env }}").1,
            "`env` needs a variable name, as in `env.API_KEY`"
        );
        assert_eq!(
            err("{{ env.A B }}").1,
            "invalid environment variable name `A B`"
        );
        assert_eq!(err("é{{").0, 2);
    }

    #[test]
    fn lone_expression_keeps_json_type() {
        let c = ctx();
        assert_eq!(parse("{{ count }}").render(&c).ok(), Some(json!(3)));
        assert_eq!(
            parse("{{auth}}").render(&c).ok(),
            Some(json!({"token": "tok", "user_id": 9}))
        );
        assert_eq!(parse("n={{ count }}").render(&c).ok(), Some(json!("n=3")));
        assert_eq!(
            parse("{{ auth }}!").render(&c).ok(),
            Some(json!(r#"{"token":"tok","user_id":9}!"#))
        );
        assert_eq!(
            parse(" {{ count }}").render_string(&c).ok().as_deref(),
            Some(" 3")
        );
    }

    #[test]
    fn renders_builtins() {
        let c = ctx();
        let text = parse("{{ run_id }}/{{ env.API_KEY }}/{{ items.0.id }}/{{ auth.user_id }}")
            .render_string(&c);
        assert_eq!(text.ok().as_deref(), Some("run-42/k3y/a/9"));
        let id = parse("{{uuid}}").render_string(&c).unwrap_or_default();
        assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4));
        assert_ne!(Some(id), parse("{{uuid}}").render_string(&c).ok());
        let now = parse("{{now}}").render_string(&c).unwrap_or_default();
        assert!(humantime::parse_rfc3339(&now).is_ok(), "{now}");
        assert_eq!(now.len(), "2024-01-01T00:00:00.000Z".len());
        let unix = parse("{{now_unix}}").render(&c).ok();
        assert!(
            unix.as_ref()
                .and_then(Value::as_u64)
                .is_some_and(|s| s > 1_700_000_000),
            "{unix:?}"
        );
    }

    #[test]
    fn render_errors() {
        let c = ctx();
        let e = parse("{{ tool.id }}").render(&c).err();
        assert_eq!(
            e.as_ref().map(ToString::to_string).as_deref(),
            Some("resolve undefined variable `tool.id`")
        );
        let e = parse("x{{ env.NOPE }}").render_string(&c).err();
        assert_eq!(
            e,
            Some(RenderError::UnsetEnv {
                name: "NOPE".to_owned()
            })
        );
    }
}

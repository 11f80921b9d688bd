//! Templates over whole JSON values: finding every template string inside a
//! value (for validation) and rendering all of them (for sending).

use serde_json::Value;

use super::{RenderError, Resolve, Template, TemplateError};
use crate::pattern::json_path::{escape_key, join};

/// Every string value inside `v` that contains an expression, with its
/// dotted path (keys escaped as in patterns; empty for the root). Object
/// keys are not templates.
///
/// # Errors
/// The path and error of the first string that does not parse.
pub fn parse_value(v: &Value) -> Result<Vec<(String, Template)>, (String, TemplateError)> {
    fn walk(
        v: &Value,
        path: &str,
        out: &mut Vec<(String, Template)>,
    ) -> Result<(), (String, TemplateError)> {
        match v {
            Value::String(s) => {
                let template = Template::parse(s).map_err(|e| (path.to_owned(), e))?;
                if !template.is_literal() {
                    out.push((path.to_owned(), template));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &join(path, &i.to_string()), out)?;
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    walk(item, &join(path, &escape_key(key)), out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(v, "", &mut out)?;
    Ok(out)
}

/// Renders every string value inside `v` (keys are kept as they are); see
/// [`Template::render`] for how a lone expression keeps its JSON type.
///
/// # Errors
/// [`RenderError::Invalid`] for a string that is not a valid template, or
/// the first rendering error.
pub fn render_value(v: &Value, ctx: &dyn Resolve) -> Result<Value, RenderError> {
    fn walk(v: &Value, path: &str, ctx: &dyn Resolve) -> Result<Value, RenderError> {
        Ok(match v {
            Value::String(s) => Template::parse(s)
                .map_err(|error| RenderError::Invalid {
                    path: path.to_owned(),
                    error,
                })?
                .render(ctx)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| walk(item, &join(path, &i.to_string()), ctx))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        Ok((key.clone(), walk(item, &join(path, &escape_key(key)), ctx)?))
                    })
                    .collect::<Result<_, RenderError>>()?,
            ),
            other => other.clone(),
        })
    }
    walk(v, "", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::MapResolver;
    use serde_json::json;

    fn ctx() -> MapResolver {
        let mut r = MapResolver::new("run-42");
        r.insert("tool_id", json!("t-1"));
        r.insert("count", json!(3));
        r.insert("auth", json!({"token": "tok", "user_id": 9}));
        r
    }

    #[test]
    fn parse_value_finds_templates_in_values_only() {
        let v = json!({"a": "plain", "b": ["x", "{{ count }}"], "{{ key }}": 1, "c.d": {"e": "{{uuid}}"}});
        let found =
            parse_value(&v).map(|list| list.into_iter().map(|(p, _)| p).collect::<Vec<_>>());
        assert_eq!(found, Ok(vec!["b.1".to_owned(), r"c\.d.e".to_owned()]));
        let bad = parse_value(&json!({"x": [{"y": "{{ "}]})).err();
        assert_eq!(
            bad.map(|(p, e)| (p, e.offset)),
            Some(("x.0.y".to_owned(), 0))
        );
        assert_eq!(parse_value(&json!("{{ a }}")).map(|l| l.len()), Ok(1));
    }

    #[test]
    fn render_value_is_deep() {
        let v = json!({"id": "{{ tool_id }}", "n": "{{count}}", "list": [1, "{{ auth.token }}-x", null], "{{k}}": true});
        assert_eq!(
            render_value(&v, &ctx()).ok(),
            Some(json!({"id": "t-1", "n": 3, "list": [1, "tok-x", null], "{{k}}": true}))
        );
        let e = render_value(&json!({"a": ["{{ nope }}"]}), &ctx()).err();
        assert_eq!(
            e,
            Some(RenderError::UndefinedVariable {
                name: "nope".to_owned()
            })
        );
        let e = render_value(&json!({"a": ["{{"]}), &ctx()).err();
        assert!(
            matches!(e, Some(RenderError::Invalid { ref path, .. }) if path == "a.0"),
            "{e:?}"
        );
    }
}

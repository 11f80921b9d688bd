//! Predicates of the pattern language (`eq`, `ne`, `regex`, `contains`,
//! `gt`/`gte`/`lt`/`lte`, `exists`, `one_of`, `type`): compiling their
//! arguments, testing a value, describing the expectation, and the numeric
//! deep equality shared by the whole matcher.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Number, Value};

use super::json_path::join;
use super::matcher::{Node, PatternError};

/// Every predicate name, in documentation order.
pub(crate) const NAMES: [&str; 11] = [
    "eq", "ne", "regex", "contains", "gt", "gte", "lt", "lte", "exists", "one_of", "type",
];

/// A JSON type name usable with the `type` predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Null,
}

impl JsonType {
    const ALL: [(&'static str, JsonType); 7] = [
        ("string", JsonType::String),
        ("number", JsonType::Number),
        ("integer", JsonType::Integer),
        ("boolean", JsonType::Boolean),
        ("object", JsonType::Object),
        ("array", JsonType::Array),
        ("null", JsonType::Null),
    ];

    fn parse(name: &str) -> Option<JsonType> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }

    /// `integer` accepts any number without a fractional part (`1.0` too,
    /// since numbers compare numerically).
    fn accepts(self, value: &Value) -> bool {
        match (self, value) {
            (JsonType::String, Value::String(_))
            | (JsonType::Number, Value::Number(_))
            | (JsonType::Boolean, Value::Bool(_))
            | (JsonType::Object, Value::Object(_))
            | (JsonType::Array, Value::Array(_))
            | (JsonType::Null, Value::Null) => true,
            (JsonType::Integer, Value::Number(n)) => {
                n.is_i64()
                    || n.is_u64()
                    || n.as_f64()
                        .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
            }
            _ => false,
        }
    }
}

/// A numeric comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Gt => ordering.is_gt(),
            CmpOp::Gte => ordering.is_ge(),
            CmpOp::Lt => ordering.is_lt(),
            CmpOp::Lte => ordering.is_le(),
        }
    }
}

/// One compiled predicate.
#[derive(Clone, Debug)]
pub(crate) enum Predicate {
    Eq(Value),
    Ne(Value),
    Regex(Regex),
    /// `pattern` is set when the argument is a map: array elements then
    /// match it as a pattern instead of by equality.
    Contains {
        value: Value,
        pattern: Option<Box<Node>>,
    },
    Cmp(CmpOp, Number),
    Exists(bool),
    OneOf(Vec<Value>),
    Type(Vec<JsonType>),
}

/// Whether `arg` is a valid argument for `type`: a type name or a
/// non-empty list of them.
fn is_type_spec(arg: &Value) -> bool {
    match arg {
        Value::String(s) => JsonType::parse(s).is_some(),
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str().and_then(JsonType::parse).is_some())
        }
        _ => false,
    }
}

/// Whether a pattern map is a predicate map rather than a field map.
///
/// Every key must be a predicate name. Because messages very often have a
/// `type` field, a map whose *only* key is `type` is a predicate only when
/// its argument is a type name (or a list of them): `{type: agent_completed}`
/// matches a field.
pub(crate) fn is_predicate_map(map: &Map<String, Value>) -> bool {
    if map.is_empty() || !map.keys().all(|k| NAMES.contains(&k.as_str())) {
        return false;
    }
    match map.get("type") {
        Some(arg) if map.len() == 1 => is_type_spec(arg),
        _ => true,
    }
}

/// The JSON kind of a value, as used in error messages.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Predicate {
    /// Compiles predicate `name` with argument `arg`; `path` is the
    /// pattern path of the predicate map (errors append the name).
    pub(crate) fn compile(name: &str, arg: &Value, path: &str) -> Result<Predicate, PatternError> {
        let here = join(path, name);
        let wrong = |expects: &str| PatternError {
            path: here.clone(),
            message: format!("`{name}` expects {expects}, found {}", kind_name(arg)),
        };
        Ok(match name {
            "eq" => Predicate::Eq(arg.clone()),
            "ne" => Predicate::Ne(arg.clone()),
            "regex" => {
                let source = arg.as_str().ok_or_else(|| wrong("a string"))?;
                let regex = Regex::new(source).map_err(|e| PatternError {
                    path: here.clone(),
                    message: format!("invalid regex: {e}"),
                })?;
                Predicate::Regex(regex)
            }
            "contains" => {
                let pattern = match arg {
                    Value::Object(_) => Some(Box::new(Node::compile(arg, &here)?)),
                    _ => None,
                };
                Predicate::Contains {
                    value: arg.clone(),
                    pattern,
                }
            }
            "gt" | "gte" | "lt" | "lte" => {
                let op = match name {
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Gte,
                    "lt" => CmpOp::Lt,
                    _ => CmpOp::Lte,
                };
                match arg {
                    Value::Number(n) => Predicate::Cmp(op, n.clone()),
                    _ => return Err(wrong("a number")),
                }
            }
            "exists" => Predicate::Exists(arg.as_bool().ok_or_else(|| wrong("a boolean"))?),
            "one_of" => match arg {
                Value::Array(items) => Predicate::OneOf(items.clone()),
                _ => return Err(wrong("a list")),
            },
            "type" => {
                let names: Vec<&Value> = match arg {
                    Value::Array(items) if !items.is_empty() => items.iter().collect(),
                    Value::String(_) => vec![arg],
                    _ => return Err(wrong("a type name or a non-empty list of them")),
                };
                let mut types = Vec::with_capacity(names.len());
                for n in names {
                    let parsed = n.as_str().and_then(JsonType::parse).ok_or_else(|| PatternError {
                        path: here.clone(),
                        message: format!(
                            "`type` expects one of string, number, integer, boolean, object, array, null; found {n}"
                        ),
                    })?;
                    types.push(parsed);
                }
                Predicate::Type(types)
            }
            other => {
                return Err(PatternError {
                    path: here,
                    message: format!("unknown predicate `{other}`"),
                });
            }
        })
    }

    /// Tests the value found at the predicate's location (`None` = the path
    /// is absent; only `exists: false` accepts that).
    pub(crate) fn test(&self, value: Option<&Value>) -> bool {
        let Some(value) = value else {
            return matches!(self, Predicate::Exists(false));
        };
        match self {
            Predicate::Eq(expected) => json_eq(expected, value),
            Predicate::Ne(expected) => !json_eq(expected, value),
            Predicate::Regex(regex) => value.as_str().is_some_and(|s| regex.is_match(s)),
            Predicate::Contains {
                value: needle,
                pattern,
            } => match value {
                Value::String(haystack) => needle.as_str().is_some_and(|n| haystack.contains(n)),
                Value::Array(items) => items.iter().any(|item| match pattern {
                    Some(pattern) => pattern.matches(Some(item)),
                    None => json_eq(needle, item),
                }),
                _ => false,
            },
            Predicate::Cmp(op, bound) => match value {
                Value::Number(n) => num_cmp(n, bound).is_some_and(|o| op.holds(o)),
                _ => false,
            },
            Predicate::Exists(expected) => *expected,
            Predicate::OneOf(options) => options.iter().any(|o| json_eq(o, value)),
            Predicate::Type(types) => types.iter().any(|t| t.accepts(value)),
        }
    }

    /// Human text for what is expected, e.g. `matches /^cost/` or `> 100`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Predicate::Eq(v) => v.to_string(),
            Predicate::Ne(v) => format!("not {v}"),
            Predicate::Regex(r) => format!("matches /{}/", r.as_str()),
            Predicate::Contains { value, .. } => format!("contains {value}"),
            Predicate::Cmp(op, n) => format!("{} {n}", op.symbol()),
            Predicate::Exists(true) => "present".to_owned(),
            Predicate::Exists(false) => "absent".to_owned(),
            Predicate::OneOf(options) => format!("one of {}", Value::Array(options.clone())),
            Predicate::Type(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
                format!("of type {}", names.join(" or "))
            }
        }
    }
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Compares two numbers by value: exactly when both are integers, as `f64`
/// otherwise.
pub(crate) fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_i128(a), as_i128(b)) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// Deep equality where numbers compare numerically (`1 == 1.0`) and object
/// key order does not matter.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pred(name: &str, arg: Value) -> Predicate {
        match Predicate::compile(name, &arg, "p") {
            Ok(p) => p,
            Err(e) => panic!("compile {name}: {e}"),
        }
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!(1), &json!("1")));
        assert!(!json_eq(&json!([1]), &json!([1, 1])));
        assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(json_eq(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!json_eq(&json!(u64::MAX), &json!(u64::MAX - 1)));
    }

    #[test]
    fn comparisons() {
        assert!(pred("gt", json!(100)).test(Some(&json!(100.5))));
        assert!(!pred("gt", json!(100)).test(Some(&json!(100))));
        assert!(pred("gte", json!(100)).test(Some(&json!(100.0))));
        assert!(pred("lt", json!(0.5)).test(Some(&json!(0))));
        assert!(pred("lte", json!(-1)).test(Some(&json!(-1))));
        assert!(!pred("lt", json!(5)).test(Some(&json!("1"))));
        assert!(!pred("lt", json!(5)).test(None));
    }

    #[test]
    fn exists_is_the_only_predicate_accepting_absence() {
        assert!(pred("exists", json!(false)).test(None));
        assert!(!pred("exists", json!(true)).test(None));
        assert!(pred("exists", json!(true)).test(Some(&Value::Null)));
        assert!(!pred("exists", json!(false)).test(Some(&Value::Null)));
        assert!(!pred("ne", json!(1)).test(None));
    }

    #[test]
    fn contains_on_strings_and_arrays() {
        let p = pred("contains", json!("ell"));
        assert!(p.test(Some(&json!("hello"))));
        assert!(!p.test(Some(&json!("help"))));
        assert!(p.test(Some(&json!(["x", "ell"]))));
        assert!(!p.test(Some(&json!(42))));
        let p = pred("contains", json!(2));
        assert!(p.test(Some(&json!([1, 2.0]))));
        assert!(!p.test(Some(&json!("2"))));
        let p = pred("contains", json!({"name": "b"}));
        assert!(p.test(Some(&json!([{"name": "a"}, {"name": "b", "extra": 1}]))));
        assert!(!p.test(Some(&json!([{"name": "c"}]))));
    }

    #[test]
    fn one_of_type_regex_ne() {
        assert!(pred("one_of", json!(["a", 2])).test(Some(&json!(2.0))));
        assert!(!pred("one_of", json!(["a", 2])).test(Some(&json!("b"))));
        assert!(pred("type", json!("integer")).test(Some(&json!(3.0))));
        assert!(!pred("type", json!("integer")).test(Some(&json!(3.5))));
        assert!(pred("type", json!(["string", "null"])).test(Some(&Value::Null)));
        assert!(!pred("type", json!("object")).test(Some(&json!([]))));
        assert!(pred("regex", json!("^co")).test(Some(&json!("cost"))));
        assert!(!pred("regex", json!("^co")).test(Some(&json!(12))));
        assert!(pred("ne", json!(1)).test(Some(&json!(2))));
        assert!(!pred("ne", json!(1)).test(Some(&json!(1.0))));
    }

    #[test]
    fn argument_errors_name_the_path() {
        let err = Predicate::compile("gt", &json!("x"), "a.b").err();
        let err = err.map(|e| (e.path, e.message));
        assert_eq!(
            err,
            Some((
                "a.b.gt".to_owned(),
                "`gt` expects a number, found string".to_owned()
            ))
        );
        assert!(Predicate::compile("regex", &json!("("), "").is_err());
        assert!(Predicate::compile("exists", &json!("yes"), "").is_err());
        assert!(Predicate::compile("one_of", &json!(1), "").is_err());
        assert!(Predicate::compile("type", &json!("text"), "").is_err());
        assert!(Predicate::compile("type", &json!([]), "").is_err());
    }

    #[test]
    fn descriptions() {
        assert_eq!(pred("regex", json!("^cost")).describe(), "matches /^cost/");
        assert_eq!(pred("gt", json!(100)).describe(), "> 100");
        assert_eq!(pred("exists", json!(true)).describe(), "present");
        assert_eq!(pred("eq", json!("x")).describe(), "\"x\"");
        assert_eq!(
            pred("type", json!(["string", "null"])).describe(),
            "of type string or null"
        );
    }

    #[test]
    fn lone_type_key_is_a_field_unless_it_names_a_type() {
        let map = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(!is_predicate_map(&map(json!({"type": "agent_completed"}))));
        assert!(is_predicate_map(&map(json!({"type": "string"}))));
        assert!(is_predicate_map(&map(
            json!({"type": "strng", "exists": true})
        )));
        assert!(is_predicate_map(&map(json!({"gt": 1, "lt": 5}))));
        assert!(!is_predicate_map(&map(json!({"gt": 1, "name": 5}))));
        assert!(!is_predicate_map(&map(json!({}))));
    }
}

//! Owns captures: reading a value out of a matched message by dotted path
//! (`payload.result.0.id`) so later templates can use it.

use serde_json::Value;

/// The value at a dotted path (`a.b.0.c`); numeric segments index arrays.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_objects_and_arrays() {
        let v = json!({"a": {"b": [{"c": 1}, {"c": 2}]}});
        assert_eq!(lookup(&v, "a.b.1.c"), Some(&json!(2)));
        assert_eq!(lookup(&v, "a.x"), None);
        assert_eq!(lookup(&v, "a.b.9"), None);
        assert_eq!(lookup(&v, ""), Some(&v));
    }
}

//! Owns the JSON Schema of a scenario file, the one editors use for completion, hover texts
//! and typo checks (`# yaml-language-server: $schema=...`, `sockspec schema`), and that of a
//! fragment (`sockspec schema --fragment`). They are derived by schemars from the types the
//! parser itself uses (`super::raw::RawScenario`, `super::raw::RawFragment` and the
//! reference server's `ServerOptions`), so the schema and the parser cannot drift apart. This
//! module adds the schema-only types for strings and values the validator checks after
//! parsing (algorithm and method names, status and close codes, JSON pointers),
//! built from the validator's own lists where it has one.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use super::fragments::NAME_PATTERN;
use super::plan::{Fallback, JwtAlgorithm, METHODS, RESERVED_NAMES};
use super::raw::{RawFragment, RawScenario};

/// The schema's `$id`: it names the format and its version, not a download location (the
/// file is committed as `schema/scenario.schema.json` and referenced by relative path).
pub const SCHEMA_ID: &str = "urn:sockspec:scenario:v1";

/// The schema's `title`.
pub const SCHEMA_TITLE: &str = "sockspec scenario";

/// Where the generated schema is committed, relative to the project root.
pub const SCHEMA_PATH: &str = "schema/scenario.schema.json";

/// The `$id` of the fragment schema (files in `_shared/` directories).
pub const FRAGMENT_SCHEMA_ID: &str = "urn:sockspec:fragment:v1";

/// The fragment schema's `title`.
pub const FRAGMENT_SCHEMA_TITLE: &str = "sockspec fragment";

/// Where the generated fragment schema is committed, relative to the project root.
pub const FRAGMENT_SCHEMA_PATH: &str = "schema/fragment.schema.json";

/// The JSON Schema (draft 2020-12) of a scenario file.
pub fn scenario_schema() -> Value {
    root_schema::<RawScenario>(SCHEMA_ID, SCHEMA_TITLE)
}

/// The JSON Schema (draft 2020-12) of a fragment: the scenario's top-level keys but `name`,
/// `description`, `environments` and `overrides`.
pub fn fragment_schema() -> Value {
    root_schema::<RawFragment>(FRAGMENT_SCHEMA_ID, FRAGMENT_SCHEMA_TITLE)
}

/// The schema of `T` as a document's root, identified by `id` and `title`.
fn root_schema<T: JsonSchema>(id: &str, title: &str) -> Value {
    let generated = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    let mut rest = match generated {
        Value::Object(map) => map,
        other => return other,
    };
    // Identification first, then what schemars generated (its `title` is the type name).
    let mut root = Map::new();
    if let Some(meta) = rest.remove("$schema") {
        root.insert("$schema".into(), meta);
    }
    root.insert("$id".into(), id.into());
    root.insert("title".into(), title.into());
    rest.remove("title");
    if let Some(description) = rest.remove("description") {
        root.insert("description".into(), description);
    }
    root.extend(rest);
    let mut schema = Value::Object(root);
    unwrap_descriptions(&mut schema);
    schema
}

/// Joins the lines of each `description` (doc comments are wrapped at 100 columns; hover
/// texts are not), keeping blank-line paragraph breaks.
fn unwrap_descriptions(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| {
                                paragraph
                                    .lines()
                                    .map(str::trim)
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    other => unwrap_descriptions(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// [`scenario_schema`] as the committed file holds it: pretty JSON and a trailing newline.
pub fn scenario_schema_json() -> String {
    format!("{:#}\n", scenario_schema())
}

/// [`fragment_schema`] as the committed file holds it: pretty JSON and a trailing newline.
pub fn fragment_schema_json() -> String {
    format!("{:#}\n", fragment_schema())
}

/// A pattern matching any of `names`, ignoring ASCII case (JSON Schema patterns have no flags).
fn case_insensitive(names: &[&str], trim: bool) -> String {
    let alternatives: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        regex::escape(&c.to_string())
                    }
                })
                .collect()
        })
        .collect();
    let space = if trim { r"\s*" } else { "" };
    format!("^{space}(?:{}){space}$", alternatives.join("|"))
}

/// A code (an integer in `range`) or a non-empty list of them.
fn codes_schema(what: &str, min: u16, max: u16) -> Schema {
    let code = json_schema!({"type": "integer", "minimum": min, "maximum": max});
    json_schema!({
        "description": format!("{what} ({min}–{max}), or a list of them."),
        "oneOf": [code.clone(), {"type": "array", "items": code}],
    })
}

/// Implements `JsonSchema` for a schema-only type: a named `$defs` entry.
macro_rules! schema_only {
    ($ty:ident, $name:literal, $generator:ident => $body:expr) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_id() -> Cow<'static, str> {
                concat!(module_path!(), "::", $name).into()
            }

            fn json_schema($generator: &mut SchemaGenerator) -> Schema {
                $body
            }
        }
    };
}

/// Schema-only: a JWT signing algorithm (case-insensitive, as the validator reads it).
pub enum Algorithm {}

schema_only!(Algorithm, "Algorithm", _g => json_schema!({
    "type": "string",
    "description": format!("A signing algorithm: {}.", JwtAlgorithm::NAMES.join(", ")),
    "pattern": case_insensitive(&JwtAlgorithm::NAMES, false),
    "examples": JwtAlgorithm::NAMES,
}));

/// Schema-only: an HTTP method (case-insensitive, as the validator reads it).
pub enum HttpMethod {}

schema_only!(HttpMethod, "HttpMethod", _g => json_schema!({
    "type": "string",
    "description": format!("An HTTP method: {}.", METHODS.join(", ")),
    "pattern": case_insensitive(&METHODS, true),
    "examples": METHODS,
}));

/// Schema-only: a `chain` fallback policy.
pub enum FallbackPolicy {}

schema_only!(FallbackPolicy, "FallbackPolicy", _g => json_schema!({
    "type": "string",
    "description": concat!(
        "What a chain does when a strategy fails: `forbid` (fail), `warn` (try the next one ",
        "and say so on stderr) or `allow` (try the next one).",
    ),
    "enum": Fallback::NAMES,
}));

/// Schema-only: an HTTP status or a list of them.
pub enum StatusCodes {}

schema_only!(StatusCodes, "StatusCodes", _g => codes_schema("An HTTP status", 100, 599));

/// Schema-only: a WebSocket close code or a list of them.
pub enum CloseCodes {}

schema_only!(CloseCodes, "CloseCodes", _g => codes_schema("A close code", 1000, 4999));

/// Schema-only: a header or query value. YAML scalars other than strings are taken as
/// written (`v: 1` is the text `1`), as the parser reads them.
pub enum ScalarText {}

schema_only!(ScalarText, "ScalarText", _g => json_schema!({
    "type": ["string", "number", "boolean"],
    "description": "A text value (templates allowed); a number or boolean is taken as written.",
}));

/// Schema-only: a JSON pointer (`/access_token`, `/user/id`).
pub enum JsonPointer {}

schema_only!(JsonPointer, "JsonPointer", _g => json_schema!({
    "type": "string",
    "description": concat!(
        "A JSON pointer into the answer: empty (the whole answer) or starting with `/` ",
        "(`/access_token`).",
    ),
    "pattern": "^(/|$)",
}));

/// Schema-only: one event of `expect_sequence` / `expect_unordered`: a pattern (exactly one
/// message) or a repeated event.
pub enum SequenceEvent {}

schema_only!(SequenceEvent, "SequenceEvent", _g => json_schema!({
    "description": concat!(
        "A pattern (exactly one message), or a repeated event: `{repeat: PATTERN, count: N}`, ",
        "`{repeat: PATTERN, min: A, max: B}` or `{repeat: PATTERN, until: PATTERN}`. A map ",
        "with a `repeat` key is always the repeated form.",
    ),
    "anyOf": [
        {
            "type": "object",
            "required": ["repeat"],
            "additionalProperties": false,
            "properties": {
                "repeat": {"description": "The pattern every message of the event matches."},
                "count": {"type": "integer", "minimum": 1, "description": "Exactly this many messages."},
                "min": {"type": "integer", "minimum": 0, "description": "At least this many messages."},
                "max": {"type": "integer", "minimum": 1, "description": "At most this many messages."},
                "until": {"description": "The event ends when a message matching this arrives (left for the next event)."},
            },
        },
        {"not": {"type": "object", "required": ["repeat"]}},
    ],
}));

/// Schema-only: the name of a fragment in `include:` (`qa_user`, `auth/qa_user`).
pub enum FragmentName {}

schema_only!(FragmentName, "FragmentName", _g => json_schema!({
    "type": "string",
    "description": concat!(
        "A fragment: the path of a file below a `_shared/` directory, without `.yaml` ",
        "(`qa_user` is `_shared/qa_user.yaml`).",
    ),
    "pattern": NAME_PATTERN,
}));

/// Schema-only: `vars:` and `set:`, variable names (identifiers, not reserved) to values.
pub enum Variables {}

schema_only!(Variables, "Variables", _g => json_schema!({
    "type": "object",
    "description": concat!(
        "Variable names to values (any value; strings may hold templates), assigned in the ",
        "order written and used as `{{ name }}`.",
    ),
    "propertyNames": {
        "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$",
        "not": {"enum": RESERVED_NAMES},
    },
}));

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn names_match_case_insensitively_and_nothing_else() {
        let alg = Regex::new(&case_insensitive(&JwtAlgorithm::NAMES, false)).expect("pattern");
        assert!(alg.is_match("HS256") && alg.is_match("rs256") && alg.is_match("Es256"));
        assert!(!alg.is_match("HS265") && !alg.is_match("none") && !alg.is_match(" HS256"));
        let method = Regex::new(&case_insensitive(&METHODS, true)).expect("pattern");
        assert!(method.is_match("post") && method.is_match(" GET "));
        assert!(!method.is_match("FETCH"));
    }

    #[test]
    fn the_root_names_the_format() {
        let schema = scenario_schema();
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert_eq!(schema["title"], SCHEMA_TITLE);
        assert_eq!(schema["additionalProperties"], false);
        assert!(scenario_schema_json().ends_with("}\n"));
        let fragment = fragment_schema();
        assert_eq!(fragment["$id"], FRAGMENT_SCHEMA_ID);
        assert_eq!(fragment["title"], FRAGMENT_SCHEMA_TITLE);
        assert_eq!(fragment["additionalProperties"], false);
        assert!(fragment["properties"].get("name").is_none());
        assert!(fragment["properties"].get("include").is_some());
    }
}

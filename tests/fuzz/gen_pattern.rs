//! Owns generated patterns and JSON values: patterns as JSON (for `Pattern::compile`) and as
//! YAML inside scenarios, with every predicate, path keys and regexes that break; the JSON
//! frames patterns are matched against; patterns with templates in them (`where:`, `ignore:`).

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::gen_text::text;
use crate::gen_yaml::{G, Y, from_json, junk, plain, sometimes, template_string};

pub const PREDICATES: &[&str] = &[
    "eq", "ne", "regex", "contains", "gt", "gte", "lt", "lte", "exists", "one_of", "type",
];

pub const PATH_KEYS: &[&str] = &[
    "type",
    "payload",
    "payload.result.cost",
    "items.0.name",
    "items.1",
    "result",
    "n",
    "a\\.b",
    "a\\\\.b",
    "a..b",
    ".",
    "",
    "a.",
    ".a",
    "\\",
    "é.ü",
    "0",
    "18446744073709551616",
    "gt",
    "regex",
    "eq",
    "😀",
    "a.b.c.d.e.f",
    "items.99999999999999999999",
];

pub const REGEXES: &[&str] = &[
    "^pong",
    "(",
    "[",
    ")",
    "a{1000}{1000}",
    "(?i)x",
    "\\p{Greek}+",
    "\\",
    "a**",
    "(a|b)*c",
    ".*",
    "\\d{2,1}",
    "(?P<n>x)",
    "é+",
    "",
    "^$",
    "[^\\x00-\\x7F]",
    "\\bword\\b",
    "(?u)\\w+",
    "x{4294967295}",
    "((((((((((a))))))))))",
    "\\u{110000}",
    "[z-a]",
    "(?<!a)b",
];

pub const TYPE_NAMES: &[&str] = &[
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array",
    "null",
    "strng",
    "",
    "agent_completed",
];

pub fn json_number() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => prop::sample::select(&[0i64, -1, 1, 5, 100, i64::MAX, i64::MIN][..]).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => prop::sample::select(&[0.5f64, -0.0, 1e308, -1e308, 1.0, f64::MIN_POSITIVE, 9007199254740993.0][..])
            .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
    .boxed()
}

pub fn json_string() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => prop::sample::select(&["pong", "agent_completed", "", "é", "x", "1", "{{ x }}"][..])
            .prop_map(Value::from),
        1 => text(8).prop_map(Value::String),
    ]
    .boxed()
}

pub fn json_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => json_number(),
        3 => json_string(),
    ]
    .boxed()
}

pub fn object(entries: Vec<(String, Value)>) -> Value {
    Value::Object(entries.into_iter().collect::<Map<_, _>>())
}

/// One `name: argument` of a predicate map; the argument is usually of the right kind.
pub fn predicate(arg: BoxedStrategy<Value>) -> BoxedStrategy<(String, Value)> {
    let named = |name: &'static str, right: BoxedStrategy<Value>| {
        prop_oneof![4 => right, 1 => arg.clone()]
            .prop_map(move |v| (name.to_owned(), v))
            .boxed()
    };
    let string_list = |names: &'static [&'static str]| {
        prop_oneof![
            prop::sample::select(names).prop_map(Value::from),
            prop::collection::vec(prop::sample::select(names).prop_map(Value::from), 0..3)
                .prop_map(Value::Array),
        ]
        .boxed()
    };
    prop_oneof![
        named("eq", arg.clone()),
        named("ne", arg.clone()),
        named(
            "regex",
            prop_oneof![
                3 => prop::sample::select(REGEXES).prop_map(Value::from),
                1 => text(6).prop_map(Value::String),
            ]
            .boxed()
        ),
        named("contains", arg.clone()),
        (
            prop::sample::select(&["gt", "gte", "lt", "lte"][..]),
            prop_oneof![4 => json_number(), 1 => arg.clone()]
        )
            .prop_map(|(n, v)| (n.to_owned(), v))
            .boxed(),
        named("exists", any::<bool>().prop_map(Value::Bool).boxed()),
        named(
            "one_of",
            prop::collection::vec(arg.clone(), 0..3)
                .prop_map(Value::Array)
                .boxed()
        ),
        named("type", string_list(TYPE_NAMES)),
        (text(3), arg.clone()).prop_map(|(k, v)| (k, v)).boxed(),
    ]
    .boxed()
}

pub fn predicate_map(arg: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec(predicate(arg), 1..4)
        .prop_map(object)
        .boxed()
}

pub fn path_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(PATH_KEYS).prop_map(str::to_owned),
        1 => prop::sample::select(PREDICATES).prop_map(str::to_owned),
        1 => text(4),
    ]
    .boxed()
}

pub fn pattern_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![3 => json_scalar(), 2 => predicate_map(json_scalar())];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            2 => prop::collection::vec((path_key(), inner.clone()), 0..5).prop_map(object),
            2 => predicate_map(inner.boxed()),
        ]
    })
    .boxed()
}

pub const VALUE_KEYS: &[&str] = &[
    "type", "payload", "result", "cost", "items", "name", "a.b", "a", "b", "0", "1", "n", "gt",
    "é", "",
];

/// JSON frames to match patterns against.
pub fn json_value() -> BoxedStrategy<Value> {
    json_scalar()
        .prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            4 => prop::sample::select(VALUE_KEYS).prop_map(str::to_owned),
                            1 => text(3),
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(object),
            ]
        })
        .boxed()
}

pub fn pattern_yaml(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        4 => pattern_json().prop_map(|v| from_json(&v)),
        1 => template_string(),
    ];
    sometimes(g, clean.boxed(), junk())
}

/// Patterns that are valid wherever templates are allowed: their variables are built in.
pub const TEMPLATED_PATTERNS: &[&str] = &[
    "{type: token}",
    "{type: heartbeat}",
    "{run_id: \"{{ run_id }}\"}",
    "{id: \"{{ uuid }}\", type: ack}",
    "{type: {one_of: [next, data]}}",
    "{payload.n: {gte: 1}}",
    "{type: {regex: \"^agent_\"}}",
];

/// A pattern where templates are allowed (`where:`, `ignore:`, repeated events): a pattern,
/// or a map of paths to templates and patterns (`{type: result, run_id: "{{ run }}"}`), whose
/// variables are captured earlier, or not; and often a valid one, so that some steps using
/// them are accepted.
pub fn templated_pattern_yaml(g: G) -> BoxedStrategy<Y> {
    let value = prop_oneof![
        2 => template_string(),
        1 => pattern_json().prop_map(|v| from_json(&v)),
    ];
    let templated = (
        prop::collection::vec((path_key(), value), 1..4),
        prop::bool::weighted(0.6),
    )
        .prop_map(|(mut entries, flow)| {
            let mut seen = std::collections::BTreeSet::new();
            entries.retain(|(k, _)| seen.insert(k.clone()));
            Y::Map(entries, flow)
        });
    prop_oneof![
        2 => pattern_yaml(g),
        1 => templated,
        2 => prop::sample::select(TEMPLATED_PATTERNS).prop_map(plain),
    ]
    .boxed()
}

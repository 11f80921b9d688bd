//! Owns generated YAML: a small tree (`Y`) written out by hand so that the generator controls
//! quoting, indentation and flow/block style; junk of any shape and YAML traps; the clean and
//! dirty modes (`G`); the map, sequence and scalar generators the scenario fields are made of
//! (durations, numbers, booleans, templates, environment names).

use proptest::prelude::*;
use serde_json::Value;

use crate::gen_text::text;

#[derive(Clone, Debug)]
pub enum Y {
    /// A plain scalar written as is (`5s`, `-`, `1e309`, `on`, `{{ x }}`).
    Plain(String),
    /// A double-quoted scalar.
    Quoted(String),
    /// Entries and whether the map is written in flow style.
    Map(Vec<(String, Y)>, bool),
    Seq(Vec<Y>, bool),
}

pub fn plain(s: &str) -> Y {
    Y::Plain(s.to_owned())
}

pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\\'))
    {
        k.to_owned()
    } else {
        quote(k)
    }
}

impl Y {
    fn is_block_collection(&self) -> bool {
        match self {
            Y::Map(entries, flow) => !flow && !entries.is_empty(),
            Y::Seq(items, flow) => !flow && !items.is_empty(),
            _ => false,
        }
    }

    /// Flow (one-line) text.
    fn inline(&self) -> String {
        match self {
            Y::Plain(s) => s.clone(),
            Y::Quoted(s) => quote(s),
            Y::Map(entries, _) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", key_text(k), v.inline()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Y::Seq(items, _) => {
                let inner: Vec<String> = items.iter().map(Y::inline).collect();
                format!("[{}]", inner.join(", "))
            }
        }
    }

    /// Block text of a collection at `indent`, one line per entry.
    fn block(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Y::Map(entries, _) => {
                for (k, v) in entries {
                    out.push_str(&format!("{pad}{}:", key_text(k)));
                    v.after_indicator(indent, out);
                }
            }
            Y::Seq(items, _) => {
                for item in items {
                    out.push_str(&format!("{pad}-"));
                    item.after_indicator(indent, out);
                }
            }
            scalar => out.push_str(&format!("{pad}{}\n", scalar.inline())),
        }
    }

    /// The value after `key:` or `-`: inline, or a nested block.
    fn after_indicator(&self, indent: usize, out: &mut String) {
        match self {
            Y::Map(..) if self.is_block_collection() => {
                out.push('\n');
                self.block(indent + 2, out);
            }
            Y::Seq(..) if self.is_block_collection() => {
                out.push('\n');
                self.block(indent + 2, out);
            }
            v => out.push_str(&format!(" {}\n", v.inline())),
        }
    }

    pub fn document(&self) -> String {
        let mut out = String::new();
        if self.is_block_collection() {
            self.block(0, &mut out);
        } else {
            out.push_str(&self.inline());
            out.push('\n');
        }
        out
    }
}

pub fn from_json(v: &Value) -> Y {
    match v {
        Value::Null => plain("null"),
        Value::Bool(b) => plain(&b.to_string()),
        Value::Number(n) => plain(&n.to_string()),
        Value::String(s) => Y::Quoted(s.clone()),
        Value::Array(items) => Y::Seq(items.iter().map(from_json).collect(), true),
        Value::Object(map) => Y::Map(
            map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect(),
            true,
        ),
    }
}

/// Scalars with a meaning (or a trap) in YAML, numbers, durations.
pub const WEIRD_SCALARS: &[&str] = &[
    "",
    "-",
    "~",
    "null",
    "true",
    "false",
    "on",
    "off",
    "yes",
    "no",
    "y",
    "5",
    "-1",
    "0",
    "-0",
    "1e309",
    "-1e309",
    ".inf",
    "-.inf",
    ".nan",
    "18446744073709551616",
    "99999999999999999999999999",
    "-9223372036854775809",
    "0x1F",
    "0o17",
    "1_000",
    "5s",
    "1e309s",
    "-5m",
    "é",
    "'",
    "\"",
    "&a x",
    "*a",
    "!!str 5",
    "!!binary x",
    "!custom x",
    "|",
    ">",
    "? x",
    "%YAML 1.2",
    "---",
    "...",
    "#",
    "@",
    "`",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "[]",
    "{}",
    "\"\\u0000\"",
    "'it''s'",
    "\"\\xff\"",
    "\"\\U0010FFFF\"",
];

pub fn weird_scalar() -> BoxedStrategy<Y> {
    prop::sample::select(WEIRD_SCALARS).prop_map(plain).boxed()
}

/// Deep nesting written as text: `[[[[1]]]]`, `{a: {a: 1}}`, sometimes unbalanced.
pub fn deep() -> BoxedStrategy<Y> {
    (1usize..120, any::<bool>(), any::<bool>())
        .prop_map(|(depth, map, balanced)| {
            let (open, close) = if map { ("{a: ", "}") } else { ("[", "]") };
            let closing = if balanced { depth } else { depth / 2 };
            Y::Plain(format!("{}1{}", open.repeat(depth), close.repeat(closing)))
        })
        .boxed()
}

/// Any value at all, of any shape: the "wrong type" case.
pub fn junk() -> BoxedStrategy<Y> {
    let leaf = prop_oneof![
        3 => weird_scalar(),
        2 => text(12).prop_map(Y::Quoted),
        1 => text(8).prop_map(Y::Plain),
        1 => any::<i64>().prop_map(|n| Y::Plain(n.to_string())),
        1 => any::<f64>().prop_map(|f| Y::Plain(format!("{f:e}"))),
        1 => deep(),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), any::<bool>())
                .prop_map(|(items, flow)| Y::Seq(items, flow)),
            (
                prop::collection::vec((junk_key(), inner), 0..4),
                any::<bool>()
            )
                .prop_map(|(entries, flow)| Y::Map(entries, flow)),
        ]
    })
    .boxed()
}

pub fn junk_key() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(
            &[
                "nmae", "stpes", "witin", "match", "events", "é", "ключ", "", "a b", "<<", "?",
                "type", "jwt", "status"
            ][..]
        )
        .prop_map(str::to_owned),
        text(6),
    ]
    .boxed()
}

/// How a scenario is generated: `dirty` documents also hold values of the wrong type and
/// YAML traps, which serde rejects before validation; clean ones hold well-typed values only
/// (still with bad durations, codes, templates, patterns...), so they reach validation.
#[derive(Clone, Copy, Debug)]
pub struct G {
    pub dirty: bool,
}

pub const CLEAN: G = G { dirty: false };
pub const DIRTY: G = G { dirty: true };

/// `clean`; in a dirty document sometimes `dirty` instead.
pub fn sometimes(g: G, clean: BoxedStrategy<Y>, dirty: BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    if g.dirty {
        prop_oneof![3 => clean, 1 => dirty].boxed()
    } else {
        clean
    }
}

/// `strategy`; in a dirty document sometimes any junk instead.
pub fn or_junk(g: G, strategy: BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    if g.dirty {
        prop_oneof![12 => strategy, 1 => junk()].boxed()
    } else {
        strategy
    }
}

pub fn pick(options: &'static [&'static str]) -> BoxedStrategy<Y> {
    prop::sample::select(options).prop_map(plain).boxed()
}

/// A map with a random subset of `fields` (each value possibly junk), in random order, in
/// block or flow style, sometimes with an unknown key. A field written `!name` is required:
/// it is almost always there.
pub fn map_of(g: G, fields: Vec<(&'static str, BoxedStrategy<Y>)>) -> BoxedStrategy<Y> {
    let entries: Vec<BoxedStrategy<Option<(String, Y)>>> = fields
        .into_iter()
        .map(|(k, s)| {
            let (k, p) = match k.strip_prefix('!') {
                Some(k) => (k, 0.995),
                None => (k, 0.45),
            };
            prop::option::weighted(p, or_junk(g, s))
                .prop_map(move |v| v.map(|v| (k.to_owned(), v)))
                .boxed()
        })
        .collect();
    (
        entries.prop_shuffle(),
        if g.dirty {
            prop::option::weighted(0.05, (junk_key(), junk())).boxed()
        } else {
            Just(None).boxed()
        },
        prop::bool::weighted(0.25),
    )
        .prop_map(|(entries, extra, flow)| {
            let mut entries: Vec<(String, Y)> = entries.into_iter().flatten().collect();
            if let Some(e) = extra {
                entries.push(e);
            }
            Y::Map(entries, flow)
        })
        .boxed()
}

pub fn single(key: &'static str, value: BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    (value, prop::bool::weighted(0.4))
        .prop_map(move |(v, flow)| Y::Map(vec![(key.to_owned(), v)], flow))
        .boxed()
}

pub fn seq_of(item: BoxedStrategy<Y>, max: usize) -> BoxedStrategy<Y> {
    (
        prop::collection::vec(item, 0..max),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(items, flow)| Y::Seq(items, flow))
        .boxed()
}

/// A map of names to values (headers, captures, claims, overrides), without duplicate keys
/// (junk has those).
pub fn string_map(value: BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    named_map(ident(), value)
}

pub fn named_map(name: BoxedStrategy<String>, value: BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    (
        prop::collection::vec((name, value), 0..3),
        prop::bool::weighted(0.5),
    )
        .prop_map(|(mut entries, flow)| {
            let mut seen = std::collections::BTreeSet::new();
            entries.retain(|(k, _)| seen.insert(k.clone()));
            Y::Map(entries, flow)
        })
        .boxed()
}

pub fn ident() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(&[
            "user_id", "run", "savings", "token", "X-Client", "v", "sub", "email", "id", "auth",
            "uuid", "secrets"
        ][..])
        .prop_map(str::to_owned),
        1 => junk_key(),
    ]
    .boxed()
}

pub fn duration(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        6 => pick(&["5s", "500ms", "2m", "15m", "1h", "0s", "10ms", "1m 30s"]),
        3 => pick(&[
            "\"-\"", "5", "1e309s", "-5m", "--5m",
            "18446744073709551616s", "99999999999999999999h", "18446744073709551615s",
            "584542046091y", "1.5s", "5 s", "∞", "\"\"", "2 seconds please", "1w", "1M",
            "1y", "5sec", "-0s", "٣s", "1ns", "0.000000001s", "\" 5s \"", "5s5m", "1e3s"
        ]),
        1 => (any::<u64>(), prop::sample::select(&["ns", "us", "ms", "s", "m", "h", "d", "w", "M", "y", ""][..]), any::<bool>())
            .prop_map(|(n, unit, neg)| Y::Plain(format!("{}{n}{unit}", if neg { "-" } else { "" }))),
        1 => text(6).prop_map(Y::Quoted),
    ];
    sometimes(
        g,
        clean.boxed(),
        pick(&["-", "", "- 5m", "[5s]", "{s: 5}", "5s: x", "&d 5s", "*d"]),
    )
}

/// A duration of a reference server option: serde rejects a bad one before validation, so
/// they are mostly valid (a too long one still passes serde).
pub fn server_duration(g: G) -> BoxedStrategy<Y> {
    prop_oneof![
        6 => pick(&["0s", "20ms", "2s", "15m", "24h", "25h", "100y", "18446744073709551615s"]),
        1 => duration(g),
    ]
    .boxed()
}

/// A JSON number (statuses, close codes): any value, in range or not.
pub fn number(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        12 => pick(&[
            "0", "-1", "1", "100", "200", "403", "599", "600", "999", "1000", "1005", "1006",
            "1008", "1011", "3000", "4403", "4999", "5000", "65535", "65536", "-65536",
            "4294967296", "18446744073709551616", "99999999999999999999999", "1.5", "1000.0",
            "1e3", "0x3E8", "1_000", "\"403\"", "null", "true", "-0"
        ]),
        1 => any::<i64>().prop_map(|n| Y::Plain(n.to_string())),
        1 => any::<u64>().prop_map(|n| Y::Plain(n.to_string())),
    ];
    sometimes(
        g,
        clean.boxed(),
        pick(&["1e309", "-1e309", ".inf", ".nan", "[", "- 1"]),
    )
}

/// A `u16` field (close codes).
pub fn uint16(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        4 => pick(&["0", "1", "999", "1000", "1005", "1006", "1008", "1011", "2999", "3000", "4999", "5000", "65535"]),
        1 => any::<u16>().prop_map(|n| Y::Plain(n.to_string())),
    ];
    sometimes(g, clean.boxed(), number(g))
}

/// A `u32` or `usize` field (counts, sizes).
pub fn uint(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        4 => pick(&["0", "1", "3", "4294967295", "67108864", "67108865"]),
        1 => any::<u32>().prop_map(|n| Y::Plain(n.to_string())),
    ];
    sometimes(g, clean.boxed(), number(g))
}

pub fn codes(g: G) -> BoxedStrategy<Y> {
    prop_oneof![3 => number(g), 1 => seq_of(number(g), 4)].boxed()
}

pub fn boolean(g: G) -> BoxedStrategy<Y> {
    sometimes(
        g,
        pick(&["true", "false"]),
        pick(&["yes", "on", "1", "True", "\"true\"", "null"]),
    )
}

pub fn template_string() -> BoxedStrategy<Y> {
    prop_oneof![
        3 => pick(&[
            "\"{{ uuid }}\"", "\"{{ now }}\"", "\"{{ now_unix }}\"", "\"{{ run_id }}\"",
            "\"{{ auth.token }}\"", "\"{{ secrets.jwt }}\"", "\"{{ secrets }}\"",
            "\"{{ secrets.a.b }}\"", "\"{{ env.HOME }}\"", "\"{{ env }}\"", "\"{{ env.A B }}\"",
            "\"{{ user_id }}\"", "\"{{ savings }}\"", "\"{{ run }}\"", "\"{{ nope\"",
            "\"\\\\{{ x }}\"", "\"{{}}\"", "\"{{ a..b }}\"", "\"{{ 0a }}\"", "\"x-{{ run_id }}-y\"",
            "\"{{{{ x }}\"", "\"}} {{\"", "plain", "qa@example.com", "\"é{{ x }}\"",
            "\"😀{{\"", "\"{{ items.0.id }}\""
        ]),
        1 => text(10).prop_map(Y::Quoted),
    ]
    .boxed()
}

pub fn env_name() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(&["local", "staging-sim", "staging", "prod"][..]).prop_map(str::to_owned),
        1 => junk_key(),
    ]
    .boxed()
}

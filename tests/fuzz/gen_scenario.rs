//! Owns generated scenario documents: every section of the format (include, vars, auth,
//! connect, handshake, setup/steps/teardown, overrides, reference_server, ignore, unclaimed),
//! fragment documents (`fragment`), and the lists of the step kinds, auth strategies and
//! handshake outcomes the generator writes, and the fields of the expect steps, close
//! expectations, repeated events and the scenario itself (`schema_coverage` checks they are all
//! of the schema's).

use proptest::prelude::*;

use crate::gen_pattern::{PATH_KEYS, pattern_yaml, templated_pattern_yaml};
use crate::gen_text::text;
use crate::gen_yaml::{
    G, Y, boolean, codes, duration, env_name, junk, junk_key, map_of, named_map, or_junk, pick,
    plain, seq_of, server_duration, single, sometimes, string_map, template_string, uint, uint16,
};

/// The fields of a map the generator writes, as [`map_of`] takes them (`!name` for a required
/// one). `schema_coverage` compares their names with the schema's properties.
pub type Fields = Vec<(&'static str, BoxedStrategy<Y>)>;

pub fn http(g: G) -> BoxedStrategy<Y> {
    map_of(g, vec![
        (
            "method",
            pick(&[
                "GET", "POST", "post", "DELETE", "FETCH", "\"\"", "\" get \"", "GÉT",
            ]),
        ),
        (
            "path",
            prop_oneof![
                3 => pick(&["/auth/e2e/test-auth", "/health", "no-slash", "\"/users/{{ user_id }}\"", "/"]),
                1 => template_string(),
            ]
            .boxed(),
        ),
        (
            "url",
            prop_oneof![
                3 => pick(&["http://127.0.0.1:1/x", "https://example.com", "ws://x", "\"{{ base }}/x\"", "ftp://x"]),
                1 => template_string(),
            ]
            .boxed(),
        ),
        ("headers", string_map(template_string())),
        ("body", pattern_yaml(g)),
        ("status", codes(g)),
        ("timeout", duration(g)),
        (
            "token",
            pick(&["/access_token", "access_token", ".a.b", "\"\"", "/"]),
        ),
        (
            "capture",
            string_map(pick(&["/user_id", "user_id", ".a.b", "/a/0", "\"\""])),
        ),
    ])
}

pub fn jwt(g: G) -> BoxedStrategy<Y> {
    map_of(
        g,
        vec![
            ("secret", pick(&["jwt", "\"\"", "é", "bypass_key"])),
            (
                "key_file",
                pick(&[
                    "keys/test-rsa-private.pem",
                    "missing.pem",
                    "\"\"",
                    "/etc/passwd",
                ]),
            ),
            (
                "algorithm",
                pick(&[
                    "HS256", "HS384", "HS512", "RS256", "ES256", "hs256", "none", "PS256", "\"\"",
                ]),
            ),
            ("kid", pick(&["key-1", "\"\"", "é"])),
            ("claims", string_map(template_string())),
            ("expires_in", duration(g)),
            ("not_before", duration(g)),
            (
                "mutate",
                sometimes(
                    g,
                    prop_oneof![
                        3 => pick(&[
                            "expired", "not_yet_valid", "wrong_secret", "tampered_signature",
                            "alg_none", "wrong_issuer", "wrong_audience"
                        ]),
                        1 => single("drop_claim", pick(&["sub", "\"\"", "\" \"", "é"])),
                    ]
                    .boxed(),
                    pick(&["drop_claim", "unknown_mutation", "{expired: 1}"]),
                ),
            ),
        ],
    )
}

pub fn bearer(g: G) -> BoxedStrategy<Y> {
    map_of(
        g,
        vec![
            ("secret", pick(&["fake_token", "api_key", "\"\""])),
            ("env", pick(&["MY_TOKEN", "\"\"", "A B"])),
        ],
    )
}

/// Every auth strategy the generator writes: `none`, or the key of a one-key map. The schema
/// lists the same ones (`schema_coverage`); [`auth_strategy`] generates each.
pub const AUTH_STRATEGIES: &[&str] = &["none", "jwt", "bearer", "api_key", "exchange", "chain"];

/// The auth strategy `name` and its weight among the others; `None` for `chain` when `depth`
/// allows no more nesting.
pub fn auth_strategy(g: G, depth: u32, name: &'static str) -> Option<(u32, BoxedStrategy<Y>)> {
    Some(match name {
        "none" => (2, pick(&["none"])),
        "jwt" => (4, single(name, jwt(g))),
        "bearer" | "api_key" => (2, single(name, bearer(g))),
        "exchange" => (2, single(name, http(g))),
        "chain" if depth == 0 => return None,
        "chain" => (
            2,
            single(
                name,
                map_of(
                    g,
                    vec![
                        ("!strategies", seq_of(auth(g, depth - 1), 4)),
                        (
                            "fallback",
                            pick(&["forbid", "warn", "allow", "alow", "\"\""]),
                        ),
                    ],
                ),
            ),
        ),
        other => panic!(
            "the fuzz generator writes no auth strategy `{other}`: add it to `auth_strategy`"
        ),
    })
}

pub fn auth(g: G, depth: u32) -> BoxedStrategy<Y> {
    let mut options: Vec<(u32, BoxedStrategy<Y>)> = AUTH_STRATEGIES
        .iter()
        .filter_map(|name| auth_strategy(g, depth, name))
        .collect();
    if g.dirty {
        options.push((1, pick(&["jwt", "bearer", "oauth", "\"none\""])));
        options.push((1, single("none", junk())));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

pub fn connect(g: G) -> BoxedStrategy<Y> {
    map_of(g, vec![
        (
            "path",
            prop_oneof![
                3 => pick(&["/ws", "ws", "\"/ws?x={{ run_id }}\"", "/"]),
                1 => template_string(),
            ]
            .boxed(),
        ),
        (
            "url",
            prop_oneof![
                3 => pick(&["ws://127.0.0.1:1/ws", "wss://example.com/ws", "http://x", "\"{{ base }}\""]),
                1 => template_string(),
            ]
            .boxed(),
        ),
        ("headers", string_map(template_string())),
        ("query", string_map(template_string())),
        ("subprotocols", seq_of(template_string(), 3)),
        (
            "credential_headers",
            seq_of(pick(&["X-Session-Token", "x-api-key", "Authorization", "nope", "\"\""]), 2),
        ),
        ("binary", pick(&["bytes", "json", "text", "Json", "[json]"])),
        (
            "token_in",
            sometimes(
                g,
                prop_oneof![
                    2 => pick(&["header", "message"]),
                    1 => single("query", pick(&["token", "\"\""])),
                    1 => single("subprotocol", pick(&["jwt.", "\"\""])),
                    1 => single("cookie", pick(&["token", "é"])),
                    1 => map_of(g, vec![
                        ("!header", pick(&["X-Api-Key", "Authorization", "X Api Key", "\"\""])),
                        ("scheme", pick(&["token", "Bearer", "\"two words\"", "\"\""])),
                    ]),
                ]
                .boxed(),
                prop_oneof![
                    pick(&["query", "cookie", "body"]),
                    single("header", junk()),
                    single("scheme", pick(&["token"])),
                ]
                .boxed(),
            ),
        ),
        ("timeout", duration(g)),
        ("max_message_size", size(g)),
        ("max_frame_size", size(g)),
        ("close_timeout", duration(g)),
        ("expect_clean_close", boolean(g)),
        (
            "follow_redirects",
            pick(&["0", "1", "3", "10", "11", "-1", "lots", "1.5", "\"2\"", "[1]", "true"]),
        ),
    ])
}

/// A size limit (`connect.max_message_size`): bytes or a number and a binary unit, with the
/// misuses (zero, negative, decimal units, too large, not a number) mixed in.
pub fn size(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        6 => pick(&["1024", "64KiB", "16MiB", "1GiB", "\"512 B\"", "1"]),
        3 => pick(&[
            "0", "0MiB", "-1", "16MB", "1.5MiB", "2GiB", "\"\"", "big", "18446744073709551616",
            "[1]", "true", "1e3", "\" 8KiB \"", "KiB",
        ]),
        1 => any::<u64>().prop_map(|n| Y::Plain(n.to_string())),
    ];
    or_junk(g, clean.boxed())
}

pub fn close_expectation(g: G) -> BoxedStrategy<Y> {
    map_of(g, close_expectation_fields(g))
}

/// The fields of `expect_close` and `handshake: {closed: ...}`.
pub fn close_expectation_fields(g: G) -> Fields {
    vec![
        ("code", codes(g)),
        ("reason", pattern_yaml(g)),
        ("within", duration(g)),
        ("after", duration(g)),
        ("strict", boolean(g)),
    ]
}

/// `handshake: {accepted: ...}`: the subprotocol (a name, `null`, a pattern) and header
/// patterns, with header names that differ only in case, that are not HTTP names, and values
/// that can never match a header (lists).
pub fn accepted_expectation(g: G) -> BoxedStrategy<Y> {
    map_of(
        g,
        vec![
            (
                "subprotocol",
                prop_oneof![
                    3 => pick(&["agent.v1", "graphql-ws", "jwt.", "null", "~", "\"\"", "2"]),
                    1 => pattern_yaml(g),
                ]
                .boxed(),
            ),
            (
                "headers",
                named_map(
                    prop::sample::select(
                        &[
                            "Upgrade",
                            "upgrade",
                            "sec-websocket-accept",
                            "X-Request-Id",
                            "x-request-id",
                            "set-cookie",
                            "a b",
                            "",
                            "é",
                            "x:y",
                        ][..],
                    )
                    .prop_map(str::to_owned)
                    .boxed(),
                    prop_oneof![
                        3 => pattern_yaml(g),
                        1 => pick(&["null", "websocket", "1", "true", "[a, b]", "{}"]),
                    ]
                    .boxed(),
                ),
            ),
        ],
    )
}

/// Every handshake outcome the generator writes: a plain value, or the key of a one-key map
/// (`accepted` is both). The schema lists the same ones (`schema_coverage`);
/// [`handshake_outcome`] generates each.
pub const HANDSHAKE_OUTCOMES: &[&str] = &["accepted", "timeout", "rejected", "closed"];

/// The handshake outcome `name` and its weight among the others.
pub fn handshake_outcome(g: G, name: &'static str) -> (u32, BoxedStrategy<Y>) {
    match name {
        "accepted" => (
            5,
            prop_oneof![
                3 => Just(plain(name)),
                1 => Just(Y::Map(vec![(name.to_owned(), plain("null"))], true)),
                4 => single(name, accepted_expectation(g)),
            ]
            .boxed(),
        ),
        "timeout" => (3, Just(plain(name)).boxed()),
        "rejected" => (
            4,
            single(
                name,
                map_of(g, vec![("!status", codes(g)), ("body", pattern_yaml(g))]),
            ),
        ),
        "closed" => (4, single(name, close_expectation(g))),
        other => panic!(
            "the fuzz generator writes no handshake outcome `{other}`: add it to `handshake_outcome`"
        ),
    }
}

pub fn handshake(g: G) -> BoxedStrategy<Y> {
    let clean = proptest::strategy::Union::new_weighted(
        HANDSHAKE_OUTCOMES
            .iter()
            .map(|name| handshake_outcome(g, name))
            .collect(),
    );
    sometimes(
        g,
        clean.boxed(),
        prop_oneof![
            pick(&[
                "rejected",
                "closed",
                "refused",
                "acepted",
                "[accepted]",
                "{}"
            ]),
            single("accepted", junk()),
            prop::collection::vec(prop::sample::select(HANDSHAKE_OUTCOMES), 2..3).prop_map(
                |keys| Y::Map(
                    keys.into_iter()
                        .map(|k| (k.to_owned(), plain("null")))
                        .collect(),
                    true
                )
            ),
        ]
        .boxed(),
    )
}

pub fn captures(sequence: bool) -> BoxedStrategy<Y> {
    let paths: &'static [&'static str] = if sequence {
        &[
            "0.type",
            "4.result.savings_usd",
            "99.a",
            "x",
            "\"\"",
            "-1.a",
            "1",
        ]
    } else {
        &["type", "result.savings_usd", "items.0.id", "\"\"", "a..b"]
    };
    string_map(pick(paths))
}

/// `ignore:` (of an expect step or of the scenario): a pattern or a list of them.
pub fn ignore_patterns(g: G) -> BoxedStrategy<Y> {
    prop_oneof![
        2 => templated_pattern_yaml(g),
        2 => seq_of(templated_pattern_yaml(g), 3),
    ]
    .boxed()
}

/// A count of a repeated event: mostly small, sometimes zero, over the limit, negative, not
/// whole, not a number.
pub fn repeat_number(g: G) -> BoxedStrategy<Y> {
    let clean = prop_oneof![
        8 => pick(&["1", "2", "3", "5", "10", "800"]),
        3 => pick(&[
            "0", "1000000", "1000001", "-1", "1.5", "1e3", "\"3\"", "null", "true",
            "4294967296", "18446744073709551616", "[2]", "{n: 2}"
        ]),
        1 => any::<u32>().prop_map(|n| Y::Plain(n.to_string())),
    ];
    sometimes(g, clean.boxed(), junk())
}

/// The keys of a repeated event, any subset of them: with `count` and `min`, with no end,
/// with `until` in `expect_unordered`...
pub fn repeat_fields(g: G) -> Fields {
    vec![
        ("!repeat", templated_pattern_yaml(g)),
        ("count", repeat_number(g)),
        ("min", repeat_number(g)),
        ("max", repeat_number(g)),
        ("until", templated_pattern_yaml(g)),
    ]
}

/// A map holding every one of `fields`, in that order (each value possibly junk).
fn map_with(g: G, fields: Fields) -> BoxedStrategy<Y> {
    let (keys, values): (Vec<&'static str>, Vec<BoxedStrategy<Y>>) =
        fields.into_iter().map(|(k, v)| (k, or_junk(g, v))).unzip();
    (values, prop::bool::weighted(0.5))
        .prop_map(move |(values, flow)| {
            Y::Map(
                keys.iter().map(|k| (*k).to_owned()).zip(values).collect(),
                flow,
            )
        })
        .boxed()
}

/// Keys a repeated event does not have: misspelt, or of the step.
const NOT_REPEAT_KEYS: &[&str] = &[
    "times",
    "match",
    "each_within",
    "within",
    "Count",
    "minimum",
];

/// `map` with one more entry at its end.
fn with_entry(map: Y, key: &str, value: Y) -> Y {
    match map {
        Y::Map(mut entries, flow) => {
            entries.push((key.to_owned(), value));
            Y::Map(entries, flow)
        }
        other => other,
    }
}

/// A repeated event of `expect_sequence` (`sequence`) or `expect_unordered`: mostly one of
/// the forms that end (`count`; `min`/`max`; `max`; `until`, sometimes with `min`, which only
/// a sequence accepts), also any subset of the keys, and a misspelt or misplaced key.
pub fn repeat_event(g: G, sequence: bool) -> BoxedStrategy<Y> {
    let pattern = || templated_pattern_yaml(g);
    let n = || repeat_number(g);
    let until = (
        map_with(g, vec![("repeat", pattern()), ("until", pattern())]),
        prop::option::weighted(0.3, n()),
    )
        .prop_map(|(map, min)| match min {
            Some(min) => with_entry(map, "min", min),
            None => map,
        })
        .boxed();
    let unknown = (
        map_with(g, vec![("repeat", pattern()), ("count", n())]),
        prop::sample::select(NOT_REPEAT_KEYS),
        n(),
    )
        .prop_map(|(map, key, value)| with_entry(map, key, value))
        .boxed();
    proptest::strategy::Union::new_weighted(vec![
        (3, map_with(g, vec![("repeat", pattern()), ("count", n())])),
        (
            2,
            map_with(g, vec![("repeat", pattern()), ("min", n()), ("max", n())]),
        ),
        (1, map_with(g, vec![("repeat", pattern()), ("max", n())])),
        (if sequence { 2 } else { 1 }, until),
        (3, map_of(g, repeat_fields(g))),
        (1, unknown),
    ])
    .boxed()
}

/// One event of `expect_sequence` / `expect_unordered`: a pattern or a repeated event.
pub fn event(g: G, sequence: bool) -> BoxedStrategy<Y> {
    prop_oneof![3 => pattern_yaml(g), 2 => repeat_event(g, sequence)].boxed()
}

pub fn many(g: G, sequence: bool) -> BoxedStrategy<Y> {
    map_of(g, many_fields(g, sequence))
}

/// The fields of `expect_sequence` (`sequence`) and `expect_unordered`.
pub fn many_fields(g: G, sequence: bool) -> Fields {
    vec![
        ("!events", seq_of(event(g, sequence), 5)),
        ("ignore", ignore_patterns(g)),
        ("where", templated_pattern_yaml(g)),
        ("within", duration(g)),
        ("each_within", duration(g)),
        ("capture", captures(sequence)),
        ("strict", boolean(g)),
    ]
}

/// The fields of `expect`.
pub fn expect_fields(g: G) -> Fields {
    vec![
        ("!match", pattern_yaml(g)),
        ("within", duration(g)),
        ("capture", captures(false)),
        ("strict", boolean(g)),
        ("where", templated_pattern_yaml(g)),
        ("ignore", ignore_patterns(g)),
    ]
}

/// The fields of `expect_none`.
pub fn expect_none_fields(g: G) -> Fields {
    vec![
        ("!match", pattern_yaml(g)),
        ("!within", duration(g)),
        ("where", templated_pattern_yaml(g)),
    ]
}

/// `unclaimed:`: `list` or `fail`; in a dirty document sometimes a value it is not.
pub fn unclaimed(g: G) -> BoxedStrategy<Y> {
    sometimes(
        g,
        pick(&["list", "fail"]),
        pick(&[
            "maybe",
            "List",
            "FAIL",
            "\"\"",
            "null",
            "true",
            "[list]",
            "{fail: true}",
        ]),
    )
}

/// `vars:` and `set:`: names (valid, reserved such as `uuid` and `auth`, or junk) to values
/// (templates naming builtins, earlier or later variables, or any pattern-shaped value).
pub fn variables(g: G) -> BoxedStrategy<Y> {
    string_map(prop_oneof![2 => template_string(), 1 => pattern_yaml(g)].boxed())
}

/// Every step kind the generator writes (the key of a one-key map). The schema lists the same
/// ones (`schema_coverage`); [`step_of_kind`] generates each.
pub const STEP_KINDS: &[&str] = &[
    "send",
    "expect",
    "expect_sequence",
    "expect_unordered",
    "expect_none",
    "close",
    "expect_close",
    "http",
    "set",
];

/// A step of `kind` and its weight among the others.
pub fn step_of_kind(g: G, kind: &'static str) -> (u32, BoxedStrategy<Y>) {
    let (weight, body) = match kind {
        "send" => (3, prop_oneof![template_string(), pattern_yaml(g)].boxed()),
        "expect" => (3, map_of(g, expect_fields(g))),
        "expect_sequence" => (2, many(g, true)),
        "expect_unordered" => (2, many(g, false)),
        "expect_none" => (1, map_of(g, expect_none_fields(g))),
        "close" => (
            1,
            map_of(g, vec![("code", uint16(g)), ("reason", template_string())]),
        ),
        "expect_close" => (1, close_expectation(g)),
        "http" => (2, http(g)),
        "set" => (2, variables(g)),
        other => {
            panic!("the fuzz generator writes no step of kind `{other}`: add it to `step_of_kind`")
        }
    };
    (weight, single(kind, body))
}

pub fn step(g: G) -> BoxedStrategy<Y> {
    let clean = proptest::strategy::Union::new_weighted(
        STEP_KINDS
            .iter()
            .map(|kind| step_of_kind(g, kind))
            .collect(),
    );
    let dirty = prop_oneof![
        pick(&["close", "expect_close", "sned", "send"]),
        (junk_key(), junk()).prop_map(|(k, v)| Y::Map(vec![(k, v)], false)),
        (step_kind(), junk(), step_kind(), junk())
            .prop_map(|(a, x, b, y)| Y::Map(vec![(a, x), (b, y)], false)),
    ];
    sometimes(g, clean.boxed(), dirty.boxed())
}

pub fn step_kind() -> BoxedStrategy<String> {
    prop::sample::select(STEP_KINDS)
        .prop_map(str::to_owned)
        .boxed()
}

pub fn steps(g: G, http_mostly: bool) -> BoxedStrategy<Y> {
    if http_mostly {
        seq_of(
            prop_oneof![4 => single("http", http(g)), 1 => step(g)].boxed(),
            4,
        )
    } else {
        seq_of(step(g), 6)
    }
}

pub fn reference_server(g: G) -> BoxedStrategy<Y> {
    let user = map_of(
        g,
        vec![
            ("!id", pick(&["qa-user-1", "\"\"", "é"])),
            ("email", pick(&["a@b.c", "\"\""])),
            ("name", pick(&["QA", "null"])),
            ("active", boolean(g)),
        ],
    );
    map_of(
        g,
        vec![
            ("require_known_users", boolean(g)),
            ("users", seq_of(user, 3)),
            ("users_file", pick(&["users.yaml", "\"\""])),
            ("issuer", pick(&["https://auth.example.com", "\"\""])),
            ("audience", pick(&["agents", "\"\""])),
            ("leeway", server_duration(g)),
            ("token_ttl", server_duration(g)),
            ("start_unhealthy", boolean(g)),
            ("silent_reject", boolean(g)),
            ("close_after_accept", uint16(g)),
            ("event_delay", server_duration(g)),
            ("drop_after", uint(g)),
            ("malformed_frame", boolean(g)),
            ("oversized_frame", uint(g)),
            ("close_1011", boolean(g)),
            ("heartbeat_interval", server_duration(g)),
        ],
    )
}

pub fn override_map(g: G) -> BoxedStrategy<Y> {
    map_of(
        g,
        vec![
            ("vars", variables(g)),
            ("auth", auth(g, 1)),
            ("connect", connect(g)),
            ("handshake", handshake(g)),
            ("setup", steps(g, true)),
            ("steps", steps(g, false)),
            ("teardown", steps(g, true)),
            ("reference_server", reference_server(g)),
        ],
    )
}

pub fn scenario(g: G) -> BoxedStrategy<Y> {
    let fields = map_of(g, scenario_fields(g));
    // The document itself is block style, as scenario files are.
    fields
        .prop_map(|y| match y {
            Y::Map(entries, _) => Y::Map(entries, false),
            other => other,
        })
        .boxed()
}

/// The top-level fields of a scenario.
pub fn scenario_fields(g: G) -> Fields {
    vec![
        (
            "name",
            prop_oneof![pick(&["Fuzzed", "\"\""]), text(6).prop_map(Y::Quoted)].boxed(),
        ),
        ("description", text(8).prop_map(Y::Quoted).boxed()),
        ("tags", seq_of(pick(&["smoke", "agent", "é"]), 3)),
        (
            "environments",
            seq_of(env_name().prop_map(Y::Quoted).boxed(), 3),
        ),
        ("include", includes()),
        ("vars", variables(g)),
        ("auth", auth(g, 2)),
        ("connect", connect(g)),
        ("handshake", handshake(g)),
        ("setup", steps(g, true)),
        ("steps", steps(g, false)),
        ("teardown", steps(g, true)),
        ("overrides", named_map(env_name(), override_map(g))),
        (
            "redact",
            seq_of(
                prop::sample::select(PATH_KEYS)
                    .prop_map(|k| Y::Quoted(k.to_owned()))
                    .boxed(),
                3,
            ),
        ),
        ("ignore", ignore_patterns(g)),
        ("unclaimed", unclaimed(g)),
        (
            "snapshot_frames",
            pick(&["all", "claimed", "none", "some", "All", "[all]"]),
        ),
        ("reference_server", reference_server(g)),
    ]
}

/// A small scenario around one step, or around a handshake the server closes, with the
/// top-level keys that apply to every expect step: most of these are accepted (a whole
/// generated scenario rarely is), so the checks on accepted plans see every kind of step, its
/// `where`, `ignore`, repeated events and close windows.
pub fn one_step_scenario(g: G) -> BoxedStrategy<Y> {
    let sequence = |kind| step_of_kind(g, kind).1;
    let body = prop_oneof![
        4 => step(g).prop_map(|step| ("steps", Y::Seq(vec![step], false))),
        3 => prop_oneof![sequence("expect_sequence"), sequence("expect_unordered")]
            .prop_map(|step| ("steps", Y::Seq(vec![step], false))),
        1 => single("closed", close_expectation(g)).prop_map(|closed| ("handshake", closed)),
    ];
    (
        body,
        prop::option::weighted(0.3, ignore_patterns(g)),
        prop::option::weighted(0.3, unclaimed(g)),
    )
        .prop_map(|((key, value), ignore, unclaimed)| {
            let mut entries = vec![("name".to_owned(), plain("One step"))];
            entries.extend(ignore.map(|v| ("ignore".to_owned(), v)));
            entries.extend(unclaimed.map(|v| ("unclaimed".to_owned(), v)));
            entries.push((key.to_owned(), value));
            Y::Map(entries, false)
        })
        .boxed()
}

/// `include:` lists: the example fragments of `scenarios/_shared/` (generated scenarios are
/// parsed as `scenarios/fuzz/case.yaml`, so these are found and merged), a fragment of a
/// generated tree (`f`, see `props`), and names that are wrong in every way.
pub fn includes() -> BoxedStrategy<Y> {
    seq_of(
        pick(&[
            "qa_user",
            "heartbeats",
            "e2e_user",
            "f",
            "no_such_fragment",
            "qa_user.yaml",
            "../qa_user",
            "a//b",
            "\"\"",
            "null",
            "[qa_user]",
        ]),
        3,
    )
}

/// Top-level keys a fragment may not hold (the scenario's own).
const SCENARIO_ONLY_KEYS: [&str; 5] = [
    "name",
    "description",
    "environments",
    "overrides",
    "snapshot_frames",
];

/// A fragment document: the keys a scenario shares (no `name`, `description`, `environments`
/// or `overrides`, which the dirty mode may still write as junk keys), block style.
pub fn fragment(g: G) -> BoxedStrategy<Y> {
    let fields = scenario_fields(g)
        .into_iter()
        .filter(|(key, _)| !SCENARIO_ONLY_KEYS.contains(key))
        .collect();
    map_of(g, fields)
        .prop_map(|y| match y {
            Y::Map(entries, _) => Y::Map(entries, false),
            other => other,
        })
        .boxed()
}

//! Owns validating the `auth` section and HTTP calls (`http` steps and the `exchange`
//! strategy): keys, algorithms, mutations, chains and their fallback policy, methods,
//! targets, expected statuses and JSON-pointer captures.

use serde_json::Value;

use super::plan::*;
use super::raw::*;
use super::validate::{Ctx, pos};
use super::validate_steps::codes;
use crate::diagnostic::{Pos, did_you_mean};

/// Where `exchange` finds the token when `token:` is not given.
pub(super) const DEFAULT_TOKEN_POINTER: &str = "/access_token";

pub(super) fn auth_plan(cx: &mut Ctx<'_>, a: &S<RawAuth>, field: &str) -> AuthPlan {
    let at = pos(a);
    match &a.value {
        RawAuth::None => AuthPlan::None,
        RawAuth::Jwt(j) => AuthPlan::Jwt(Box::new(jwt_plan(cx, j, at, &format!("{field}.jwt")))),
        RawAuth::Bearer(b) => AuthPlan::Bearer(bearer(cx, b, at, field, "bearer")),
        RawAuth::ApiKey(b) => AuthPlan::ApiKey(bearer(cx, b, at, field, "api_key")),
        RawAuth::Exchange(h) => AuthPlan::Exchange(Box::new(http_plan(
            cx,
            h,
            at,
            &format!("{field}.exchange"),
            true,
        ))),
        RawAuth::Chain(c) => {
            let field = format!("{field}.chain");
            if c.strategies.value.is_empty() {
                cx.error(
                    pos(&c.strategies),
                    &format!("{field}.strategies"),
                    "`strategies` is empty",
                )
                .help = Some("list the strategies to try, in order".into());
            }
            let strategies = c
                .strategies
                .value
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let f = format!("{field}.strategies[{i}]");
                    if matches!(s.value, RawAuth::Chain(_)) {
                        cx.error(pos(s), &f, "a chain cannot contain another chain");
                    }
                    (auth_plan(cx, s, &f), cx.at(pos(s)))
                })
                .collect();
            let fallback = match &c.fallback {
                None => Fallback::Forbid,
                Some(f) => Fallback::parse(&f.value).unwrap_or_else(|| {
                    let hint = did_you_mean(&f.value, Fallback::NAMES);
                    let d = cx.error(
                        pos(f),
                        &format!("{field}.fallback"),
                        format!("unknown fallback policy `{}`", f.value),
                    );
                    d.notes
                        .push(format!("expected one of {}", Fallback::NAMES.join(", ")));
                    d.help = hint.map(|h| format!("did you mean `{h}`?"));
                    Fallback::Forbid
                }),
            };
            AuthPlan::Chain {
                strategies,
                fallback,
            }
        }
    }
}

fn bearer(cx: &mut Ctx<'_>, b: &RawBearer, at: Pos, field: &str, kind: &str) -> BearerSource {
    let field = format!("{field}.{kind}");
    match (&b.secret, &b.env) {
        (Some(s), None) => {
            cx.secrets.insert(s.value.clone());
            BearerSource::Secret(s.value.clone())
        }
        (None, Some(e)) => BearerSource::Env(e.value.clone()),
        _ => {
            cx.error(
                at,
                &field,
                format!("{kind} needs exactly one of `secret` or `env`"),
            )
            .help = Some(format!(
                "write `{kind}: {{secret: api_key}}` or `{kind}: {{env: MY_TOKEN}}`"
            ));
            BearerSource::Env(String::new())
        }
    }
}

/// `15m`, `-5m`: seconds relative to now.
fn signed_secs(cx: &mut Ctx<'_>, s: &S<String>, field: &str) -> i64 {
    crate::duration::parse_signed(&s.value).unwrap_or_else(|e| {
        cx.error(pos(s), field, e.to_string()).help = Some(crate::duration::SIGNED_HELP.into());
        0
    })
}

fn jwt_plan(cx: &mut Ctx<'_>, j: &RawJwt, at: Pos, field: &str) -> JwtPlan {
    let algorithm = match &j.algorithm {
        None => JwtAlgorithm::Hs256,
        Some(name) => JwtAlgorithm::parse(&name.value).unwrap_or_else(|| {
            let d = cx.error(
                pos(name),
                &format!("{field}.algorithm"),
                format!("unsupported algorithm `{}`", name.value),
            );
            d.notes.push(format!(
                "expected one of {}",
                JwtAlgorithm::NAMES.join(", ")
            ));
            JwtAlgorithm::Hs256
        }),
    };
    let key = match (&j.secret, &j.key_file) {
        (Some(s), None) => {
            cx.secrets.insert(s.value.clone());
            KeySource::Secret(s.value.clone())
        }
        (None, Some(f)) => KeySource::File(f.value.clone().into()),
        (Some(_), Some(f)) => {
            cx.error(
                pos(f),
                &format!("{field}.key_file"),
                "give either `secret` or `key_file`, not both",
            );
            KeySource::File(f.value.clone().into())
        }
        (None, None) => {
            cx.error(at, field, "the token needs a key: `secret` or `key_file`").help = Some(
                "name a secret the environment declares (`secret: jwt`), or a PEM file (`key_file: keys/test-rsa.pem`)"
                    .into(),
            );
            KeySource::Secret(String::new())
        }
    };
    let claims = match &j.claims {
        None => Value::Object(Default::default()),
        Some(c) if c.value.is_object() => {
            cx.templates(&c.value, pos(c), &format!("{field}.claims"), true);
            c.value.clone()
        }
        Some(c) => {
            cx.error(
                pos(c),
                &format!("{field}.claims"),
                "claims must be a map of claim names to values",
            );
            Value::Null
        }
    };
    let expires_in_secs = j.expires_in.as_ref().map_or(15 * 60, |s| {
        signed_secs(cx, s, &format!("{field}.expires_in"))
    });
    let not_before_secs = j
        .not_before
        .as_ref()
        .map(|s| signed_secs(cx, s, &format!("{field}.not_before")));
    let mutate = j.mutate.as_ref().map(|m| match &m.value {
        RawMutation::Expired => Mutation::Expired,
        RawMutation::NotYetValid => Mutation::NotYetValid,
        RawMutation::WrongSecret => Mutation::WrongSecret,
        RawMutation::TamperedSignature => Mutation::TamperedSignature,
        RawMutation::AlgNone => Mutation::AlgNone,
        RawMutation::WrongIssuer => Mutation::WrongIssuer,
        RawMutation::WrongAudience => Mutation::WrongAudience,
        RawMutation::DropClaim(name) => {
            if name.trim().is_empty() {
                cx.error(
                    pos(m),
                    &format!("{field}.mutate.drop_claim"),
                    "name the claim to drop",
                );
            }
            Mutation::DropClaim(name.trim().to_string())
        }
    });
    JwtPlan {
        key,
        algorithm,
        kid: j.kid.as_ref().map(|k| k.value.clone()),
        claims,
        expires_in_secs,
        not_before_secs,
        mutate,
    }
}

fn pointer(cx: &mut Ctx<'_>, p: &S<String>, field: &str) -> String {
    if !(p.value.is_empty() || p.value.starts_with('/')) {
        cx.error(
            pos(p),
            field,
            format!("`{}` is not a JSON pointer", p.value),
        )
        .help = Some(format!(
            "JSON pointers start with `/`: write `/{}`",
            p.value.trim_start_matches('.').replace('.', "/")
        ));
    }
    p.value.clone()
}

/// An HTTP call. `exchange` calls default to POST and take a token from the answer.
pub(super) fn http_plan(
    cx: &mut Ctx<'_>,
    h: &RawHttp,
    at: Pos,
    field: &str,
    exchange: bool,
) -> HttpPlan {
    let method = match &h.method {
        None if exchange => "POST".to_string(),
        None => "GET".to_string(),
        Some(m) => {
            let up = m.value.trim().to_ascii_uppercase();
            if !METHODS.contains(&up.as_str()) {
                let hint = did_you_mean(&up, METHODS);
                let d = cx.error(
                    pos(m),
                    &format!("{field}.method"),
                    format!("unknown HTTP method `{}`", m.value),
                );
                d.notes
                    .push(format!("expected one of {}", METHODS.join(", ")));
                d.help = hint.map(|h| format!("did you mean `{h}`?"));
            }
            up
        }
    };
    let target = match (&h.path, &h.url) {
        (Some(p), None) => {
            if !p.value.starts_with('/') {
                cx.error(
                    pos(p),
                    &format!("{field}.path"),
                    format!("path `{}` must start with `/`", p.value),
                );
            }
            cx.template_str(&p.value, pos(p), &format!("{field}.path"), true);
            Target::Path(p.value.clone())
        }
        (None, Some(u)) => {
            if !(u.value.starts_with("http://")
                || u.value.starts_with("https://")
                || u.value.starts_with("{{"))
            {
                cx.error(pos(u), &format!("{field}.url"), format!("`{}` is not an HTTP URL", u.value))
                    .help = Some("start it with http:// or https://, or use `path` relative to the environment's http_url".into());
            }
            cx.template_str(&u.value, pos(u), &format!("{field}.url"), true);
            Target::Url(u.value.clone())
        }
        (Some(_), Some(u)) => {
            cx.error(
                pos(u),
                &format!("{field}.url"),
                "give either `path` or `url`, not both",
            );
            Target::Url(u.value.clone())
        }
        (None, None) => {
            cx.error(at, field, "an HTTP call needs `path` or `url`")
                .help =
                Some("write `path: /auth/e2e/test-auth` (below the environment's http_url)".into());
            Target::Path("/".into())
        }
    };
    let headers = h
        .headers
        .iter()
        .map(|(k, v)| {
            cx.template_str(&v.value, pos(v), &format!("{field}.headers.{k}"), true);
            (k.clone(), v.value.clone())
        })
        .collect();
    if let Some(b) = &h.body {
        cx.templates(&b.value, pos(b), &format!("{field}.body"), true);
    }
    let statuses = h
        .status
        .as_ref()
        .map(|s| codes(cx, &s.value, pos(s), &format!("{field}.status"), 100..=599))
        .unwrap_or_default();
    let timeout = cx.duration(
        &h.timeout,
        &format!("{field}.timeout"),
        DEFAULT_HTTP_TIMEOUT,
    );
    let token = match (&h.token, exchange) {
        (Some(t), true) => Some(pointer(cx, t, &format!("{field}.token"))),
        (None, true) => Some(DEFAULT_TOKEN_POINTER.to_string()),
        (Some(t), false) => {
            cx.error(
                pos(t),
                &format!("{field}.token"),
                "`token` applies to `auth.exchange` only",
            )
            .help = Some("capture the value instead: `capture: {name: /pointer}`".into());
            None
        }
        (None, false) => None,
    };
    let captures = h
        .capture
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                pointer(cx, p, &format!("{field}.capture.{name}")),
            )
        })
        .collect::<Vec<_>>();
    for (name, _) in &captures {
        cx.defined.insert(name.clone());
    }
    HttpPlan {
        method,
        target,
        headers,
        body: h.body.as_ref().map(|b| b.value.clone()),
        statuses,
        timeout,
        token,
        captures,
    }
}

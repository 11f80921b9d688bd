//! Owns the credential checks of `doctor`: the bypass-key exchange (which creates or finds
//! the doctor's user) and one probe handshake on `/ws` with an HS256 token minted from the
//! `jwt` secret, each failure explained with its likely cause.

use std::time::Duration;

use serde_json::json;

use super::network::{Base, HostPort, request_error, secs, shorten};
use super::report::{DEADLINE, Report};
use super::run::{Doctor, JWT_SECRET};
use crate::auth::mint;
use crate::handshake::{self, Outcome, Sent, body_detail, diagnose_rejection};
use crate::scenario::{ConnectPlan, JwtAlgorithm, JwtPlan, KeySource, Target, TokenPlacement};
use crate::template::MapResolver;

const BYPASS_PATH: &str = "/auth/e2e/test-auth";
const BYPASS_HEADER: &str = "X-E2E-Bypass-Key";
/// The user the exchange check creates (or finds again: the same email is the same user).
const DOCTOR_EMAIL: &str = "sockspec-doctor@example.com";
/// `sub` of the probe token when the exchange did not name a user.
const DOCTOR_SUB: &str = "sockspec-doctor";
const PROBE_PATH: &str = "/ws";
/// Lifetime of the probe token.
const PROBE_TOKEN_SECS: i64 = 300;

impl Doctor<'_> {
    /// The bypass-key exchange; the user id it returned, when it worked.
    pub(super) async fn exchange(
        &self,
        http: Option<&Base>,
        down: &dyn Fn(&HostPort) -> bool,
        report: &mut Report,
    ) -> Option<String> {
        let Some(name) = &self.bypass_secret else {
            report.skip("exchange", "no bypass key declared");
            return None;
        };
        let Some(key) = self.secrets.get(name) else {
            report.skip(
                "exchange",
                format!("the bypass key secret `{name}` is missing (above)"),
            );
            return None;
        };
        let Some(base) = http else {
            report.skip("exchange", "the environment has no `http_url`");
            return None;
        };
        if down(&base.at) {
            report.skip("exchange", format!("{}: not reachable (above)", base.at));
            return None;
        }
        let url = format!("{}{BYPASS_PATH}", base.url.as_str().trim_end_matches('/'));
        let call = self
            .client
            .post(&url)
            .header(BYPASS_HEADER, &key.value)
            .json(&json!({"email": DOCTOR_EMAIL, "name": "sockspec doctor"}))
            .send();
        let with = format!("with secret `{name}` (sha256:{})", key.fingerprint);
        let response = match tokio::time::timeout(DEADLINE, call).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                report.fail(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with}: {}", request_error(&e)),
                );
                return None;
            }
            Err(_) => {
                report.fail(
                    "exchange",
                    format!(
                        "POST {BYPASS_PATH} {with}: no answer within {}",
                        secs(DEADLINE)
                    ),
                );
                return None;
            }
        };
        let status = response.status().as_u16();
        let body = match tokio::time::timeout(DEADLINE, response.text()).await {
            Ok(Ok(b)) => b,
            _ => String::new(),
        };
        let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        match status {
            200..=299 => {
                let user = parsed
                    .as_ref()
                    .and_then(|v| v.get("user_id"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
                let as_user = user
                    .as_deref()
                    .map(|u| format!(" (user `{u}`)"))
                    .unwrap_or_default();
                report.pass(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with} → {status}: the bypass key works{as_user}"),
                );
                user
            }
            _ => {
                let detail = shorten(&body_detail(Some(&body)));
                let meaning = match status {
                    401 | 403 => {
                        "the key is wrong for this environment (compare its fingerprint \
                                  with the one the service expects)"
                    }
                    404 => "the bypass endpoint is not enabled in this environment",
                    _ => "the service did not issue a token",
                };
                report.fail(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with} → {status} {detail}: {meaning}"),
                );
                None
            }
        }
    }

    /// One upgrade on `/ws` with a token minted from the `jwt` secret.
    pub(super) async fn handshake(&self, ws_base: &str, user: Option<&str>, report: &mut Report) {
        let Some(name) = &self.jwt_secret else {
            report.skip(
                "handshake",
                format!("no `{JWT_SECRET}` secret declared to mint a token"),
            );
            return;
        };
        let Some(secret) = self.secrets.get(name) else {
            report.skip(
                "handshake",
                format!("the secret `{name}` is missing (above)"),
            );
            return;
        };
        let (sub, whose) = match user {
            Some(u) => (u, " (the user the exchange returned)"),
            None => (DOCTOR_SUB, ""),
        };
        let plan = JwtPlan {
            key: KeySource::Secret(name.clone()),
            algorithm: JwtAlgorithm::Hs256,
            kid: None,
            claims: json!({"sub": sub}),
            expires_in_secs: PROBE_TOKEN_SECS,
            not_before_secs: None,
            mutate: None,
        };
        let vars = MapResolver::new("doctor");
        let with = format!(
            "an HS256 token for `{sub}`{whose} signed with secret `{name}` (sha256:{})",
            secret.fingerprint
        );
        let credential = match mint(&plan, self.secrets, &self.env.root, &vars) {
            Ok(c) => c,
            Err(e) => {
                report.fail("handshake", format!("cannot mint {with}: {e}"));
                return;
            }
        };
        report
            .redactor
            .add_secret(&credential.token, credential.marker.clone());
        let connect = ConnectPlan {
            target: Target::Path(PROBE_PATH.to_owned()),
            headers: Vec::new(),
            query: Vec::new(),
            subprotocols: Vec::new(),
            token_in: TokenPlacement::Header,
            credential_headers: Vec::new(),
            timeout: DEADLINE,
            binary: crate::scenario::BinaryFrames::Bytes,
            max_message_size: None,
            max_frame_size: None,
            follow_redirects: 0,
        };
        let request = match handshake::build(&connect, ws_base, Some(&credential.token), &vars) {
            Ok(r) => r,
            Err(e) => {
                report.fail("handshake", format!("cannot {e}"));
                return;
            }
        };
        match handshake::connect(request, DEADLINE, self.env.limits).await {
            Outcome::Accepted { mut ws, .. } => {
                report.pass(
                    "handshake",
                    format!("GET {PROBE_PATH} with {with} → 101: accepted"),
                );
                let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
            }
            Outcome::Rejected { response } | Outcome::Redirected { response, .. } => {
                let detail = shorten(&body_detail(response.body.as_deref()));
                // A freshly minted, unexpired token: a signature failure means another secret.
                let (cause, hint) = diagnose_rejection(
                    response.status,
                    &detail,
                    &Sent {
                        strategy: "jwt",
                        expired: Some(false),
                        key: None,
                        in_message: false,
                        header: None,
                    },
                );
                let hint = format!("{cause}: {hint}");
                report.fail(
                    "handshake",
                    format!(
                        "GET {PROBE_PATH} with {with} → {} {detail}: {hint}",
                        response.status
                    ),
                );
            }
            Outcome::TimedOut { after, .. } => report.fail(
                "handshake",
                format!(
                    "GET {PROBE_PATH} with {with}: no answer to the upgrade within {} (a silent \
                     rejection, or the service is stuck)",
                    secs(after)
                ),
            ),
            Outcome::Failed { message, .. } => {
                report.fail(
                    "handshake",
                    format!("GET {PROBE_PATH} with {with}: {message}"),
                );
            }
        }
    }
}

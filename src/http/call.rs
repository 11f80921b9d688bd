//! Owns one HTTP call to the environment: rendering a templated [`HttpPlan`], sending it
//! with a deadline, describing it as a transcript event, checking the status, and reading
//! values out of the JSON answer by pointer. Shared by `http` steps and `exchange`.

use serde_json::Value;

use crate::scenario::{HttpPlan, Target};
use crate::template::{Resolve, render_value};
use crate::transcript::Event;

/// Longest response body kept in the transcript and in failure messages.
const SHOWN_BODY_BYTES: usize = 2048;

/// Where HTTP calls of one run go.
#[derive(Debug, Clone)]
pub(crate) struct HttpEnv {
    /// The environment's HTTP base URL (`http_url`, or the embedded server's).
    pub base: Option<String>,
    pub environment: String,
}

impl HttpEnv {
    /// The process's one client, built at the first call that needs it (see
    /// `super::client`): a run without HTTP calls never builds it.
    pub(crate) fn client(&self) -> reqwest::Client {
        super::client::shared()
    }

    pub(crate) fn new(environment: &str, base: Option<String>) -> Self {
        Self {
            base,
            environment: environment.to_string(),
        }
    }
}

/// A received answer.
#[derive(Debug, Clone)]
pub(crate) struct HttpAnswer {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub body: String,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl HttpAnswer {
    /// `401 {"detail":"Invalid E2E bypass key"}`, body shortened.
    pub(crate) fn status_and_body(&self) -> String {
        let body = shorten(self.body.trim());
        if body.is_empty() {
            format!("{} (empty body)", self.status)
        } else {
            format!("{} {body}", self.status)
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("render the HTTP request: {0}")]
    Render(String),
    #[error("resolve `{path}`: environment '{environment}' has no http_url")]
    NoBase { path: String, environment: String },
    #[error("send {method} {url}: {reason}")]
    Send {
        method: String,
        url: String,
        reason: String,
    },
    #[error("{method} {url} answered {}, expected {expected}", .answer.status_and_body())]
    Status {
        method: String,
        url: String,
        expected: String,
        answer: Box<HttpAnswer>,
    },
    #[error("read `{pointer}` from the answer of {method} {url}: {reason}")]
    Pointer {
        method: String,
        url: String,
        pointer: String,
        reason: String,
    },
}

/// The outcome of [`send`]: the event to record (always), and the answer or the error.
pub(crate) struct HttpCall {
    pub event: Event,
    pub result: Result<HttpAnswer, HttpError>,
}

/// Field names whose string values are treated as credentials in any HTTP answer.
const CREDENTIAL_FIELDS: [&str; 4] = ["token", "secret", "password", "api_key"];
/// Shorter values are not worth hiding (and would redact ordinary words).
const MIN_CREDENTIAL_LEN: usize = 8;

impl HttpCall {
    /// Records the call, after registering every credential-looking field of the answer
    /// (`access_token`, `refresh_token`, `client_secret`, …) with the recorder, so tokens an
    /// auth service hands out never reach a transcript, snapshot or failure report.
    pub(crate) fn record(
        self,
        phase: &str,
        rec: &mut crate::transcript::Recorder,
    ) -> Result<HttpAnswer, HttpError> {
        let answer = match &self.result {
            Ok(a) => Some(a),
            Err(HttpError::Status { answer, .. }) => Some(answer.as_ref()),
            Err(_) => None,
        };
        if let Some(json) = answer.and_then(|a| a.json.as_ref()) {
            let mut found = Vec::new();
            credentials(json, "", &mut found);
            for (pointer, value) in found {
                let method = answer.map_or("", |a| a.method.as_str());
                rec.add_secret(&value, format!("[{phase} {method} answer {pointer}]"));
            }
        }
        rec.record(self.event);
        self.result
    }
}

fn credentials(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let pointer = format!("{at}/{k}");
                let lower = k.to_ascii_lowercase();
                match child {
                    Value::String(s)
                        if s.len() >= MIN_CREDENTIAL_LEN
                            && CREDENTIAL_FIELDS.iter().any(|f| lower.contains(f)) =>
                    {
                        out.push((pointer, s.clone()));
                    }
                    other => credentials(other, &pointer, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                credentials(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn shorten(s: &str) -> String {
    if s.len() <= SHOWN_BODY_BYTES {
        return s.to_string();
    }
    let mut end = SHOWN_BODY_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

fn render_str(s: &str, vars: &dyn Resolve) -> Result<String, HttpError> {
    match render_value(&Value::String(s.to_string()), vars) {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(HttpError::Render(e.to_string())),
    }
}

/// Sends the call `plan` describes, with its deadline; checks the status.
pub(crate) async fn send(
    plan: &HttpPlan,
    env: &HttpEnv,
    phase: &str,
    vars: &dyn Resolve,
) -> HttpCall {
    let method = plan.method.clone();
    let mut event = Event::Http {
        phase: phase.to_string(),
        method: method.clone(),
        url: String::new(),
        headers: Vec::new(),
        body: None,
        status: None,
        response: None,
        error: None,
    };
    let result = prepare_and_send(plan, env, vars, &mut event).await;
    if let Event::Http {
        status,
        response,
        error,
        ..
    } = &mut event
    {
        let answered = match &result {
            Ok(a) => Some(a),
            Err(HttpError::Status { answer, .. }) => Some(answer.as_ref()),
            Err(e) => {
                *error = Some(e.to_string());
                None
            }
        };
        if let Some(a) = answered {
            *status = Some(a.status);
            *response = Some(
                a.json
                    .clone()
                    .unwrap_or_else(|| Value::String(shorten(&a.body))),
            );
        }
    }
    HttpCall { event, result }
}

async fn prepare_and_send(
    plan: &HttpPlan,
    env: &HttpEnv,
    vars: &dyn Resolve,
    event: &mut Event,
) -> Result<HttpAnswer, HttpError> {
    let Event::Http {
        url: ev_url,
        headers: ev_headers,
        body: ev_body,
        ..
    } = event
    else {
        return Err(HttpError::Render("internal: not an http event".into()));
    };
    let url = match &plan.target {
        Target::Url(u) => render_str(u, vars)?,
        Target::Path(p) => {
            let path = render_str(p, vars)?;
            let base = env.base.as_deref().ok_or_else(|| HttpError::NoBase {
                path: path.clone(),
                environment: env.environment.clone(),
            })?;
            format!("{}{path}", base.trim_end_matches('/'))
        }
    };
    *ev_url = url.clone();
    let mut headers = Vec::new();
    for (k, v) in &plan.headers {
        headers.push((k.clone(), render_str(v, vars)?));
    }
    *ev_headers = headers.clone();
    let body = match &plan.body {
        None => None,
        Some(b) => Some(render_value(b, vars).map_err(|e| HttpError::Render(e.to_string()))?),
    };
    *ev_body = body.clone();

    let send_err = |reason: String| HttpError::Send {
        method: plan.method.clone(),
        url: url.clone(),
        reason,
    };
    let method = reqwest::Method::from_bytes(plan.method.as_bytes())
        .map_err(|e| send_err(format!("invalid method: {e}")))?;
    let mut req = env.client().request(method, &url);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    if let Some(b) = &body {
        req = req.json(b);
    }
    let answer = async {
        let resp = req.send().await.map_err(|e| send_err(describe(&e)))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| send_err(describe(&e)))?;
        Ok::<_, HttpError>((status, text))
    };
    let (status, text) = tokio::time::timeout(plan.timeout, answer)
        .await
        .map_err(|_| {
            send_err(format!(
                "no answer within {}",
                humantime::format_duration(plan.timeout)
            ))
        })??;
    let answer = HttpAnswer {
        method: plan.method.clone(),
        url: url.clone(),
        status,
        json: serde_json::from_str(&text).ok(),
        body: text,
    };
    let ok = if plan.statuses.is_empty() {
        (200..300).contains(&status)
    } else {
        plan.statuses.contains(&status)
    };
    if !ok {
        return Err(HttpError::Status {
            method: plan.method.clone(),
            url,
            expected: expected_statuses(&plan.statuses),
            answer: Box::new(answer),
        });
    }
    Ok(answer)
}

fn expected_statuses(statuses: &[u16]) -> String {
    match statuses {
        [] => "2xx".to_string(),
        [one] => one.to_string(),
        many => many
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// A reqwest error in a few words: refused, timed out, or its innermost cause.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return "connection refused".into();
        }
        last = s.to_string();
        source = s.source();
    }
    if e.is_timeout() {
        return "timed out".into();
    }
    last
}

/// The value at `ptr` in the JSON answer.
pub(crate) fn pointer(answer: &HttpAnswer, ptr: &str) -> Result<Value, HttpError> {
    let err = |reason: String| HttpError::Pointer {
        method: answer.method.clone(),
        url: answer.url.clone(),
        pointer: ptr.to_string(),
        reason,
    };
    let json = answer
        .json
        .as_ref()
        .ok_or_else(|| err(format!("the answer is not JSON: {}", shorten(&answer.body))))?;
    json.pointer(ptr).cloned().ok_or_else(|| {
        let keys = json
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        err(format!("no such field (top-level fields: {keys})"))
    })
}

#[cfg(test)]
mod tests {
    use super::credentials;
    use serde_json::json;

    #[test]
    fn credential_fields_are_found_at_any_depth() {
        let v = json!({
            "access_token": "eyJhbGciOi.x.y",
            "user_id": "e2e-user-1",
            "nested": {"refresh_token": "r-0123456789", "Client_Secret": "s-0123456789"},
            "keys": [{"api_key": "k-0123456789"}],
            "token_type": "Bearer",
            "expires_in": 900
        });
        let mut found = Vec::new();
        credentials(&v, "", &mut found);
        found.sort();
        assert_eq!(
            found,
            [
                ("/access_token".to_string(), "eyJhbGciOi.x.y".to_string()),
                ("/keys/0/api_key".to_string(), "k-0123456789".to_string()),
                (
                    "/nested/Client_Secret".to_string(),
                    "s-0123456789".to_string()
                ),
                (
                    "/nested/refresh_token".to_string(),
                    "r-0123456789".to_string()
                ),
            ]
        );
    }
}

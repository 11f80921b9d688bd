//! Owns `sockspec token --env E --scenario S [--reveal]`: produces the credential a scenario
//! would use in an environment and explains it — strategy, key or secret source with its
//! fingerprint, the decoded header and claims, expiry — without ever printing a secret. The
//! token itself is printed only with `--reveal`. `exchange` (and a `chain` holding one) calls
//! the auth service: the embedded server, started for the command, or a remote environment
//! only when `--env` names it explicitly.

use std::path::{Path, PathBuf};

use super::support::{self, SetupError};
use crate::auth::{self, AuthEnv, AuthError, Credential, decode_unverified, now_unix};
use crate::diagnostic::Diagnostic;
use crate::environment::fingerprint;
use crate::environment::{Config, Endpoint, Environment, MissingSecrets, Secrets};
use crate::exit;
use crate::harness::{discover, id_of, run_vars, spawn_embedded};
use crate::http::HttpEnv;
use crate::scenario::{self, AuthPlan, BearerSource, JwtPlan, KeySource};
use crate::transcript::{Event, Recorder};

#[derive(Debug, clap::Args)]
pub(crate) struct TokenArgs {
    /// The environment whose secrets (and, for `exchange`, server) are used [default: local].
    #[arg(long, short = 'e')]
    env: Option<String>,
    /// The scenario: a file (`scenarios/auth/exchange.yaml`) or an id (`auth/exchange`).
    #[arg(long, short = 's')]
    scenario: String,
    /// Also print the token (or the secret's value) itself.
    #[arg(long)]
    reveal: bool,
}

#[derive(Debug, thiserror::Error)]
enum TokenError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("find scenario `{spec}`: no such file, and no {tried}{hint}")]
    NotFound {
        spec: String,
        tried: String,
        hint: String,
    },
    /// The reports of a scenario that does not validate.
    #[error("load the scenario: {} problem(s)", .0.len())]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Secrets(#[from] MissingSecrets),
    #[error(
        "call the auth service of remote environment `{0}`: name it with `--env {0}` to allow \
         requests to it"
    )]
    RemoteNotNamed(String),
    #[error("start the embedded reference server: {0}")]
    Server(String),
    /// Already redacted.
    #[error("evaluate the scenario's `vars`: {0}")]
    Vars(String),
    /// Already redacted.
    #[error("produce the `{strategy}` credential: {error}")]
    Auth {
        strategy: &'static str,
        error: String,
    },
}

impl TokenError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Setup(_) | Self::NotFound { .. } | Self::RemoteNotNamed(_) => exit::BAD_SELECTION,
            Self::Invalid(_) => exit::INVALID,
            Self::Secrets(_) | Self::Server(_) | Self::Vars(_) | Self::Auth { .. } => {
                exit::NO_TOKEN
            }
        }
    }

    fn print(&self) {
        match self {
            Self::Setup(e) => e.print(),
            Self::Invalid(ds) => ds.iter().for_each(Diagnostic::eprint),
            other => Diagnostic::bare(format!("failed to {other}")).eprint(),
        }
    }
}

pub(super) fn run(root: &Path, args: &TokenArgs) -> u8 {
    match token(root, args) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            exit::SUCCESS
        }
        Err(e) => {
            e.print();
            e.exit_code()
        }
    }
}

fn token(root: &Path, args: &TokenArgs) -> Result<Vec<String>, TokenError> {
    let config = support::load_config(root)?;
    let env = support::environment(&config, args.env.as_deref())?;
    let (path, id) = locate(&config, &args.scenario)?;
    let loaded = scenario::load(&path, &id).map_err(TokenError::Invalid)?;
    let plan = loaded.for_environment(&env.name);

    let mut out = vec![
        format!("scenario:    {id} ({})", shown(&config.root, &path)),
        format!(
            "environment: {} — {}",
            env.name,
            support::describe_endpoint(env)
        ),
    ];
    if !plan.applies_to(&env.name) {
        out.push(format!(
            "note: the scenario lists `environments: [{}]`, so it does not run in `{}`",
            plan.environments.clone().unwrap_or_default().join(", "),
            env.name
        ));
    }
    if matches!(plan.auth, AuthPlan::None) {
        out.push("strategy:    none — this scenario connects without a token".to_owned());
        return Ok(out);
    }

    let needs_http = uses_http(&plan.auth);
    let mut names = plan.required_secrets();
    if let (true, Endpoint::Embedded(e)) = (needs_http, &env.endpoint) {
        names.extend(e.secret_names());
    }
    let secrets = Secrets::resolve(env, names, &|v| env.lookup(v))?;
    if needs_http && matches!(env.endpoint, Endpoint::Remote { .. }) && args.env.is_none() {
        return Err(TokenError::RemoteNotNamed(env.name.clone()));
    }
    let runtime = support::runtime()?;
    let (credential, rec, embedded) = runtime.block_on(acquire(plan, env, &secrets, needs_http))?;
    let Some(credential) = credential else {
        out.push("strategy:    none — this scenario connects without a token".to_owned());
        return Ok(out);
    };
    let exchanged = describe(&mut out, plan, &credential, &secrets, env, &rec);
    if embedded && exchanged {
        out.push(
            "note: issued by the embedded reference server started for this command, which has \
             stopped since"
                .to_owned(),
        );
    }
    if args.reveal {
        out.push(format!("token:       {}", credential.token));
    } else {
        out.push("token:       hidden (pass --reveal to print it)".to_owned());
    }
    Ok(out)
}

/// A path from the command line or below the root, else an id below the scenario root.
fn locate(config: &Config, spec: &str) -> Result<(PathBuf, String), TokenError> {
    let given = Path::new(spec);
    let by_id = config
        .scenarios_dir
        .join(format!("{}.yaml", spec.trim_end_matches(".yaml")));
    let path = [given.to_path_buf(), config.root.join(given), by_id.clone()]
        .into_iter()
        .find(|p| p.is_file());
    let Some(path) = path else {
        let ids: Vec<String> = discover(&config.scenarios_dir)
            .unwrap_or_default()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let hint = crate::diagnostic::did_you_mean(spec, ids.iter().map(String::as_str))
            .map(|h| format!(" (did you mean `{h}`?)"))
            .unwrap_or_default();
        return Err(TokenError::NotFound {
            spec: spec.to_owned(),
            tried: shown(&config.root, &by_id),
            hint,
        });
    };
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let id = id_of(&config.scenarios_dir, &path).unwrap_or_else(|| {
        path.file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
    });
    Ok((path, id))
}

/// `path` relative to the project root when it is below it.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Whether producing the credential makes an HTTP call.
fn uses_http(plan: &AuthPlan) -> bool {
    match plan {
        AuthPlan::Exchange(_) => true,
        AuthPlan::Chain { strategies, .. } => strategies.iter().any(|(p, _)| uses_http(p)),
        AuthPlan::None | AuthPlan::Jwt(_) | AuthPlan::Bearer(_) | AuthPlan::ApiKey(_) => false,
    }
}

/// Runs the auth strategy, with the embedded server up when it needs HTTP. Returns the
/// credential, the recorder (HTTP calls and failed chain attempts) and whether the embedded
/// server issued it.
async fn acquire(
    plan: &scenario::Plan,
    env: &Environment,
    secrets: &Secrets,
    needs_http: bool,
) -> Result<(Option<Credential>, Recorder, bool), TokenError> {
    let mut server = None;
    let base = match (&env.endpoint, needs_http) {
        (Endpoint::Remote { http_base, .. }, _) => http_base.clone(),
        (Endpoint::Embedded(_), false) => None,
        (Endpoint::Embedded(e), true) => {
            let handle = spawn_embedded(e, plan.reference_server.as_ref(), secrets)
                .await
                .map_err(|f| TokenError::Server(f.message))?;
            let base = handle.http_base();
            server = Some(handle);
            Some(base)
        }
    };
    let http = HttpEnv::new(&env.name, base);
    let mut vars = match run_vars(plan, secrets) {
        Ok(vars) => vars,
        Err(f) => {
            if let Some(h) = server {
                h.shutdown().await;
            }
            let redactor = crate::transcript::Redactor::from_secrets(secrets);
            return Err(TokenError::Vars(redactor.redact(&f.message)));
        }
    };
    let mut rec = Recorder::new(
        &plan.id,
        &env.name,
        crate::transcript::Redactor::from_secrets(secrets),
    );
    rec.watch_env(vars.env_seen(), env.public_env.clone());
    let lookup = |name: &str| env.lookup(name);
    let auth_env = AuthEnv {
        secrets,
        root: &env.root,
        http: &http,
        lookup: &lookup,
    };
    let result = auth::acquire(&plan.auth, &auth_env, &mut vars, &mut rec).await;
    rec.sync_env();
    let embedded = server.is_some();
    if let Some(h) = server {
        h.shutdown().await;
    }
    match result {
        Ok(c) => Ok((c, rec, embedded)),
        Err(e) => Err(auth_error(plan.auth.strategy(), &e, &rec)),
    }
}

fn auth_error(strategy: &'static str, e: &AuthError, rec: &Recorder) -> TokenError {
    TokenError::Auth {
        strategy,
        error: rec.redactor().redact(&e.to_string()),
    }
}

/// The lines explaining `credential`: strategy, source, the decoded token. Returns whether
/// the token came from an exchange.
fn describe(
    out: &mut Vec<String>,
    plan: &scenario::Plan,
    credential: &Credential,
    secrets: &Secrets,
    env: &Environment,
    rec: &Recorder,
) -> bool {
    let redact = |s: &str| rec.redactor().redact(s);
    let attempts: Vec<(String, String)> = rec
        .transcript()
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::AuthAttempt { strategy, error } => Some((strategy.clone(), error.clone())),
            _ => None,
        })
        .collect();
    // The plan that produced the token: a chain's first strategy that did not fail.
    let winner = match &plan.auth {
        AuthPlan::Chain { strategies, .. } => {
            out.push(format!("strategy:    chain → {}", credential.strategy));
            for (i, (strategy, error)) in attempts.iter().enumerate() {
                out.push(format!(
                    "  attempt {} (`{strategy}`) failed: {}",
                    i + 1,
                    redact(error)
                ));
            }
            strategies.get(attempts.len()).map(|(p, _)| p)
        }
        other => {
            out.push(format!("strategy:    {}", other.strategy()));
            Some(other)
        }
    };
    match winner {
        Some(AuthPlan::Jwt(jwt)) => describe_jwt(out, jwt, secrets, env),
        Some(AuthPlan::Bearer(source) | AuthPlan::ApiKey(source)) => {
            out.push(match source {
                BearerSource::Secret(name) => match secrets.get(name) {
                    Some(s) => format!("secret:      `{name}` {}", support::secret_source(s)),
                    None => format!("secret:      `{name}`"),
                },
                BearerSource::Env(var) => format!(
                    "variable:    {var} (sha256:{})",
                    fingerprint(credential.token.as_bytes())
                ),
            });
        }
        // Described by the `origin:` line below (an exchange: the answer's token), or nothing
        // to describe (no credential; a chain's winner is one of the strategies above). Every
        // strategy is named, so a new one is a compile error here, not an empty description.
        Some(AuthPlan::Exchange(_) | AuthPlan::None | AuthPlan::Chain { .. }) | None => {}
    }
    if matches!(plan.auth, AuthPlan::Chain { .. }) || matches!(winner, Some(AuthPlan::Exchange(_)))
    {
        out.push(format!("origin:      {}", redact(&credential.origin)));
    }
    for e in &rec.transcript().entries {
        if let Event::Http {
            method,
            url,
            status: Some(status),
            ..
        } = &e.event
        {
            out.push(format!("exchange:    {method} {} → {status}", redact(url)));
        }
    }
    match decode_unverified(&credential.token) {
        Ok(decoded) => out.extend(super::decode::report(&decoded, now_unix())),
        Err(_) => out.push(format!(
            "token kind:  opaque (not a JWT), {} characters",
            credential.token.chars().count()
        )),
    }
    matches!(winner, Some(AuthPlan::Exchange(_)))
}

fn describe_jwt(out: &mut Vec<String>, jwt: &JwtPlan, secrets: &Secrets, env: &Environment) {
    out.push(format!("algorithm:   {}", jwt.algorithm.name()));
    out.push(format!(
        "kid:         {}",
        jwt.kid.as_deref().unwrap_or("(none)")
    ));
    out.push(match &jwt.key {
        KeySource::Secret(name) => match secrets.get(name) {
            Some(s) => format!("key:         secret `{name}` {}", support::secret_source(s)),
            None => format!("key:         secret `{name}`"),
        },
        KeySource::File(path) => match std::fs::read(env.root.join(path)) {
            Ok(bytes) => format!(
                "key:         key file {} (sha256:{})",
                path.display(),
                fingerprint(&bytes)
            ),
            Err(_) => format!("key:         key file {}", path.display()),
        },
    });
    if let Some(m) = &jwt.mutate {
        out.push(format!(
            "mutation:    {} — a deliberately bad token, meant to be rejected",
            m.name()
        ));
    }
}

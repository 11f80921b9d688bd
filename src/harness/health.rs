//! Owns deciding whether an environment is up before a scenario runs against it: the
//! environment's declared health check, once per run for remote environments (cached
//! across nextest's processes), per scenario for the embedded server (it is per scenario).

use crate::environment::{Environment, HealthCache, Unavailable, check as check_once};
use crate::http::HttpEnv;
use crate::scenario::Target;

/// Set to `1` to report the scenarios of an unavailable environment as ignored.
pub const ALLOW_UNAVAILABLE_VAR: &str = "SOCKSPEC_ALLOW_UNAVAILABLE";

/// `Err` when the environment declares a health check and it fails.
pub(super) async fn check(
    env: &Environment,
    http: &HttpEnv,
    embedded: bool,
) -> Result<(), Unavailable> {
    let Some(spec) = &env.health else {
        return Ok(());
    };
    let url = match &spec.target {
        Target::Url(u) => u.clone(),
        Target::Path(p) => match &http.base {
            Some(base) => format!("{}{p}", base.trim_end_matches('/')),
            None => {
                return Err(Unavailable {
                    environment: env.name.clone(),
                    url: p.clone(),
                    reason: "a health check path needs the environment's `http_url`".into(),
                });
            }
        },
    };
    if embedded {
        check_once(&http.client(), &env.name, &url, spec.timeout, &spec.status).await
    } else {
        HealthCache::from_env()
            .check(&http.client(), &env.name, &url, spec.timeout, &spec.status)
            .await
    }
}

/// Whether `SOCKSPEC_ALLOW_UNAVAILABLE` (read through `process`) asks to ignore unavailable
/// environments.
pub(super) fn allow_unavailable(process: &dyn Fn(&str) -> Option<String>) -> bool {
    process(ALLOW_UNAVAILABLE_VAR).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

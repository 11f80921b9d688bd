//! Owns the text a transcript is snapshotted as: rendered, normalized, with the sources and
//! fingerprints of secret markers removed. One snapshot per scenario is shared by every
//! environment (environment-specific values are normalized away, so a difference between
//! environments shows as a diff).

use std::sync::LazyLock;

use regex::Regex;

use crate::scenario::Plan;
use crate::transcript::{Normalizer, Transcript, render_snapshot};

static SECRET_MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[secret ([A-Za-z0-9_.-]+) from [^\]]*\]").expect("valid regex"));

/// A credential read from a variable (`[bearer from VAR sha256:…]`): the fingerprint changes
/// with every token, so snapshots keep the strategy and the variable only.
static VARIABLE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[([a-z_]+) from ([A-Za-z0-9_.-]+) sha256:[0-9a-f]+\]").expect("valid regex")
});

/// `text` with the sources and fingerprints of secret and variable markers removed.
fn stable_markers(text: &str) -> String {
    let text = SECRET_MARKER.replace_all(text, "[secret $1]");
    VARIABLE_MARKER
        .replace_all(&text, "[$1 from $2]")
        .into_owned()
}

/// The snapshot text of a transcript: normalized, with the environment's base URL and the
/// secrets' sources and fingerprints (which differ per machine and environment) removed.
pub(crate) fn snapshot_text(plan: &Plan, t: &Transcript, ws_base: &str, http_base: &str) -> String {
    let normalizer = Normalizer::new(plan.redact.clone());
    let text = render_snapshot(t, &normalizer, ws_base, http_base, plan.snapshot_frames);
    stable_markers(&text)
}

#[cfg(test)]
mod tests {
    use super::stable_markers;

    #[test]
    fn markers_lose_sources_and_fingerprints() {
        assert_eq!(
            stable_markers("url: ws/ws?token=[bearer from API_TOKEN sha256:0123456789abcdef]"),
            "url: ws/ws?token=[bearer from API_TOKEN]"
        );
        assert_eq!(
            stable_markers("authorization: Bearer [secret jwt from default sha256:0123abcd]"),
            "authorization: Bearer [secret jwt]"
        );
        assert_eq!(stable_markers("[env API_KEY]"), "[env API_KEY]");
    }
}

//! Owns the report's summary, rendered on the server side so that it reads without
//! JavaScript: counts per environment and outcome (also as `data-*` attributes, for tools and
//! the browser test), the failed scenarios' causes by kind, and the slowest scenarios.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape;
use crate::report::record::{RecordOutcome, RunRecord};

/// How many of the slowest scenarios are listed.
const SLOWEST: usize = 10;

const OUTCOMES: [RecordOutcome; 4] = [
    RecordOutcome::Passed,
    RecordOutcome::Failed,
    RecordOutcome::Unavailable,
    RecordOutcome::Ignored,
];

fn count(records: &[&RunRecord], outcome: RecordOutcome) -> usize {
    records.iter().filter(|r| r.outcome == outcome).count()
}

fn seconds(ms: f64) -> String {
    format!("{:.2}s", ms / 1000.0)
}

/// The `<section id="summary">`.
pub(super) fn render(records: &[&RunRecord]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<section id="summary" data-total="{}""#,
        records.len()
    );
    for o in OUTCOMES {
        let _ = write!(out, r#" data-{}="{}""#, o.as_str(), count(records, o));
    }
    out.push_str(">\n<h2>Summary</h2>\n");
    let _ = writeln!(
        out,
        r#"<p class="totals">{}</p>"#,
        OUTCOMES
            .iter()
            .map(|o| format!(
                r#"<span class="badge {0}">{1} {0}</span>"#,
                o.as_str(),
                count(records, *o)
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut by_env: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        by_env.entry(r.environment.as_str()).or_default().push(r);
    }
    out.push_str("<table class=\"by-env\">\n<thead><tr><th>environment</th>");
    for o in OUTCOMES {
        let _ = write!(out, "<th>{}</th>", o.as_str());
    }
    out.push_str("<th>time</th></tr></thead>\n<tbody>\n");
    for (env, rs) in &by_env {
        let _ = write!(
            out,
            r#"<tr data-environment="{0}"><td>{0}</td>"#,
            escape(env)
        );
        for o in OUTCOMES {
            let n = count(rs, o);
            let _ = write!(
                out,
                r#"<td class="{}{}">{n}</td>"#,
                o.as_str(),
                if n == 0 { " zero" } else { "" }
            );
        }
        let total: f64 = rs.iter().map(|r| r.duration_ms).sum();
        let _ = writeln!(out, "<td>{}</td></tr>", seconds(total));
    }
    out.push_str("</tbody>\n</table>\n");

    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        if let Some(c) = &r.cause {
            let kind = serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            *kinds.entry(kind).or_default() += 1;
        }
    }
    if !kinds.is_empty() {
        out.push_str("<h3>Causes</h3>\n<ul class=\"causes\">\n");
        for (kind, n) in &kinds {
            let _ = writeln!(out, "<li><code>{}</code>: {n}</li>", escape(kind));
        }
        out.push_str("</ul>\n");
    }

    let mut slowest: Vec<&&RunRecord> = records.iter().collect();
    slowest.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    out.push_str("<h3>Slowest</h3>\n<ol class=\"slowest\">\n");
    for r in slowest.into_iter().take(SLOWEST) {
        let _ = writeln!(
            out,
            r##"<li><a href="#trial={}">{}</a> <span class="badge {}">{}</span> {}</li>"##,
            escape(&percent_fragment(&r.trial)),
            escape(&r.trial),
            r.outcome.as_str(),
            r.outcome.as_str(),
            seconds(r.duration_ms)
        );
    }
    out.push_str("</ol>\n</section>");
    out
}

/// `text` for a URL fragment (`encodeURIComponent`'s set kept as is).
fn percent_fragment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

//! Owns the failure report: a [`Failure`] with its scenario's source rendered as one
//! [`Diagnostic`] — cause first, then the step underlined (and the other places it
//! involves), expected versus actual, the nearest message with its diff, the hint, and the
//! last frames with their timings.

use crate::diagnostic::Diagnostic;
use crate::environment::Unavailable;
use crate::scenario::Plan;
use crate::transcript::{Failure, Transcript, render_last_frames};

/// How many frames the report shows.
pub(crate) const LAST_FRAMES: usize = 8;

pub(crate) fn failure_diagnostic(
    plan: &Plan,
    environment: &str,
    f: &Failure,
    t: Option<&Transcript>,
) -> Diagnostic {
    // The step or section may come from a fragment the scenario includes.
    let (file, source, included) = plan.file_of(f.pos);
    let mut d = Diagnostic::new(f.message.clone(), file)
        .with_source(source.clone())
        .at(f.pos);
    if let Some(l) = &f.label {
        d = d.with_label(l.clone());
    }
    for (pos, label) in &f.context {
        if pos.origin == f.pos.origin {
            d = d.with_context(*pos, label.clone());
        } else {
            // Another file: named, since an excerpt shows one file.
            let (other, _, _) = plan.file_of(*pos);
            d = d.with_note(format!(
                "{label}: {}:{}:{}",
                other.display(),
                pos.line,
                pos.column
            ));
        }
    }
    for note in included {
        d = d.with_note(note.clone());
    }
    d = d.with_note(format!("environment: {environment}"));
    if let Some(e) = &f.expected {
        d = d.with_note(format!("expected: {e}"));
    }
    if let Some(a) = &f.actual {
        d = d.with_note(format!("actual:   {a}"));
    }
    if let Some((msg, diff)) = &f.nearest {
        d = d.with_note(format!("nearest message received: {msg}\n{diff}"));
    }
    for n in &f.notes {
        d = d.with_note(n.clone());
    }
    if let Some(t) = t {
        let frames = render_last_frames(t, LAST_FRAMES);
        if !frames.is_empty() {
            d = d.with_note(format!("last frames:\n{}", frames.join("\n")));
        }
    }
    if let Some(h) = &f.hint {
        d = d.with_help(h.clone());
    }
    d
}

/// The report of a scenario whose environment is down: the environment, not the scenario,
/// is the cause, and `allow_var` turns such scenarios into ignored ones.
pub(crate) fn unavailable_diagnostic(plan: &Plan, u: &Unavailable, allow_var: &str) -> Diagnostic {
    Diagnostic::new(u.to_string(), &plan.file)
        .with_note(format!(
            "note: every scenario of '{}' fails with this; the scenario was not run",
            u.environment
        ))
        .with_help(format!(
            "the environment is down, not the scenario; set {allow_var}=1 to report its \
             scenarios as ignored"
        ))
}

//! Owns [`Failure`]: why a run did not do what its scenario expects, as data (cause,
//! position, expected versus actual, nearest message, hint). Execution fills it in; the
//! report module renders it. Redacted like every other transcript content.

use crate::diagnostic::Pos;
use crate::diagnostic::quote::{FIRST_LINE_LIMIT, QUOTE_LIMIT, bound_lines, first_line};

/// Why a run did not do what its scenario expects: data that execution fills in and
/// `report::failure_diagnostic` renders (cause first). Built with [`Failure::new`] and the
/// `at`/`expected`/`actual`/`note`/`hint` builders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failure {
    /// First line of the report: names the cause ("handshake rejected with 403 …").
    pub message: String,
    /// Position of the step or section that failed (unknown = the file).
    pub pos: Pos,
    /// Label under the underlined step or section, e.g. "this step".
    pub label: Option<String>,
    /// Other places of the scenario the failure involves, with their labels (e.g. the
    /// credential, when the handshake it was sent with is the problem).
    pub context: Vec<(Pos, String)>,
    /// What the scenario expects, in words.
    pub expected: Option<String>,
    /// What happened instead.
    pub actual: Option<String>,
    /// The received message closest to the pattern, and its diff against it.
    pub nearest: Option<(String, String)>,
    /// Further lines (`note: …`, `credential: …`), shown in order.
    pub notes: Vec<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure whose report starts with `message` (it names the cause).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// Points the failure at `pos` in the scenario, with `label` under it.
    pub fn at(mut self, pos: Pos, label: impl Into<String>) -> Self {
        self.pos = pos;
        self.label = Some(label.into());
        self
    }

    /// Points at another place of the scenario the failure involves.
    pub fn context(mut self, pos: Pos, label: impl Into<String>) -> Self {
        self.context.push((pos, label.into()));
        self
    }

    /// What the scenario expects, in words.
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }

    /// What happened instead.
    pub fn actual(mut self, a: impl Into<String>) -> Self {
        self.actual = Some(a.into());
        self
    }

    /// Adds a further line to the report.
    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.notes.push(n.into());
        self
    }

    /// What to do about it.
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }

    /// Redacts every text field, then bounds it (`diagnostic::quote`: redaction first, so a
    /// cut never leaves part of a secret): the message to a first line of at most
    /// [`FIRST_LINE_LIMIT`] bytes (its longest quote shortened, else cut, the whole message
    /// then kept in a note), every other line to [`QUOTE_LIMIT`] bytes with its size stated.
    /// Every failure of a run passes here before it is reported, so this is where every
    /// server-controlled text (a body, a message, a header, a close reason) is bounded.
    pub fn redact(self, r: &super::Redactor) -> Failure {
        let text = |x: &str| bound_lines(&r.redact(x), QUOTE_LIMIT).into_owned();
        let (message, whole) = first_line(&r.redact(&self.message), FIRST_LINE_LIMIT);
        let mut notes: Vec<String> = whole.map(|w| format!("in full: {w}")).into_iter().collect();
        notes.extend(self.notes.iter().map(|n| text(n)));
        Failure {
            message,
            pos: self.pos,
            label: self.label.map(|l| text(&l)),
            context: self
                .context
                .into_iter()
                .map(|(p, l)| (p, text(&l)))
                .collect(),
            expected: self.expected.map(|l| text(&l)),
            actual: self.actual.map(|l| text(&l)),
            nearest: self.nearest.map(|(a, b)| (text(&a), text(&b))),
            notes,
            hint: self.hint.map(|h| text(&h)),
        }
    }
}

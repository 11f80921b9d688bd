//! Owns mutations of a document's text (truncation, and perturbations of lines and columns:
//! dropped, duplicated, swapped and spliced lines, indentation, tabs, insertions, aliases) and
//! the corpus they apply to: every `.yaml` file below `scenarios/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;

use crate::gen_text::text;

#[derive(Clone, Debug)]
pub enum Mutation {
    /// Cut the text at a character.
    Truncate(Index),
    DropLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Add spaces to (or remove them from) the start of a line.
    Indent(Index, i8),
    /// Replace the leading spaces of a line by a tab.
    Tabify(Index),
    /// Insert text at a line and column.
    Insert(Index, Index, String),
    /// Delete characters from a position.
    Delete(Index, u8),
    /// Copy lines from a corpus file (`Index` of the file, first line, count) before a line.
    Splice(Index, Index, u8, Index),
    /// Anchor the value of one line (`key: &z value`) and refer to it from another: as the
    /// value (`key: *z`), or as a merge key (`<<: *z`) on a new line.
    Alias(Index, Index, bool),
}

pub fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DropLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => (any::<Index>(), -4i8..5).prop_map(|(l, d)| Mutation::Indent(l, d)),
        1 => any::<Index>().prop_map(Mutation::Tabify),
        3 => (any::<Index>(), any::<Index>(), text(3)).prop_map(|(l, c, t)| Mutation::Insert(l, c, t)),
        2 => (any::<Index>(), 1u8..8).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<Index>(), any::<Index>(), 1u8..6, any::<Index>())
            .prop_map(|(f, l, n, to)| Mutation::Splice(f, l, n, to)),
        1 => (any::<Index>(), any::<Index>(), any::<bool>())
            .prop_map(|(a, b, merge)| Mutation::Alias(a, b, merge)),
    ]
    .boxed()
}

pub fn mutations() -> BoxedStrategy<Vec<Mutation>> {
    prop_oneof![
        1 => Just(Vec::new()),
        2 => prop::collection::vec(mutation(), 1..4),
    ]
    .boxed()
}

pub fn apply(text: &str, mutations: &[Mutation], corpus: &[String]) -> String {
    let mut text = text.to_owned();
    for m in mutations {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let n = lines.len();
        match m {
            Mutation::Truncate(at) => {
                let chars: Vec<char> = text.chars().collect();
                text = chars[..at.index(chars.len() + 1)].iter().collect();
                continue;
            }
            Mutation::Delete(at, count) => {
                let mut chars: Vec<char> = text.chars().collect();
                let start = at.index(chars.len() + 1);
                let end = (start + usize::from(*count)).min(chars.len());
                chars.drain(start..end);
                text = chars.into_iter().collect();
                continue;
            }
            Mutation::DropLine(l) => {
                lines.remove(l.index(n));
            }
            Mutation::DuplicateLine(l) => {
                let i = l.index(n);
                lines.insert(i, lines[i].clone());
            }
            Mutation::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
            Mutation::Indent(l, delta) => {
                let line = &mut lines[l.index(n)];
                if *delta >= 0 {
                    line.insert_str(0, &" ".repeat(delta.unsigned_abs().into()));
                } else {
                    let strip = line
                        .chars()
                        .take(delta.unsigned_abs().into())
                        .take_while(|c| *c == ' ')
                        .count();
                    line.drain(..strip);
                }
            }
            Mutation::Tabify(l) => {
                let line = &mut lines[l.index(n)];
                let spaces = line.chars().take_while(|c| *c == ' ').count();
                line.replace_range(..spaces, "\t");
            }
            Mutation::Insert(l, c, t) => {
                let line = &mut lines[l.index(n)];
                let col = c.index(line.chars().count() + 1);
                let byte = line.char_indices().nth(col).map_or(line.len(), |(b, _)| b);
                line.insert_str(byte, t);
            }
            Mutation::Alias(anchor, alias, merge) => {
                let a = anchor.index(n);
                if let Some(i) = lines[a].find(": ") {
                    lines[a].insert_str(i + 2, "&z ");
                }
                let b = alias.index(n);
                let indent: String = lines[b].chars().take_while(|c| *c == ' ').collect();
                if *merge {
                    lines.insert(b + 1, format!("{indent}<<: *z"));
                } else if let Some(i) = lines[b].find(": ") {
                    lines[b].replace_range(i + 2.., "*z");
                }
            }
            Mutation::Splice(f, first, count, to) => {
                if corpus.is_empty() {
                    continue;
                }
                let source: Vec<&str> = f.get(corpus).split('\n').collect();
                let start = first.index(source.len());
                let end = (start + usize::from(*count)).min(source.len());
                let at = to.index(n + 1);
                for (k, line) in source[start..end].iter().enumerate() {
                    lines.insert(at + k, (*line).to_owned());
                }
            }
        }
        text = lines.join("\n");
    }
    text
}

/// Every `.yaml` file below `scenarios/`, valid and invalid.
pub fn corpus() -> Arc<Vec<String>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut files,
    );
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert!(
        texts.len() >= 20,
        "the scenario corpus is missing: {} files",
        texts.len()
    );
    Arc::new(texts)
}

//! Owns the HTML report (`sockspec report`, `sockspec test --html`): one self-contained page
//! from run records. The page is one embedded template (`page.html`) whose `<!--@slot@-->`
//! markers are filled with `write!`: the CSS (`style.css`) and JavaScript (`app.js`) inline,
//! the summary rendered here (`summary`), and every record as one JSON blob in a
//! `<script type="application/json">` that the script turns into the filterable list and,
//! lazily when a scenario is opened, its details and timeline. No network, no external asset.

mod summary;
mod write;

pub(crate) use write::{HtmlError, read_runs, write_report};

use std::fmt::Write as _;

use super::record::RunRecord;

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("app.js");

/// The records of one run directory, and the name it is shown by.
#[derive(Debug)]
pub(crate) struct RunRecords {
    /// The run directory's name (its run id).
    pub run: String,
    /// Its records.
    pub records: Vec<RunRecord>,
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside `<script type="application/json">`: `<`, `>` and `&` as `\u` escapes
/// (they only occur inside strings), so no text can close the element.
fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 32);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A record with the index of its run directory.
#[derive(serde::Serialize)]
struct Tagged<'a> {
    run: usize,
    #[serde(flatten)]
    record: &'a RunRecord,
}

/// The embedded data: `{"runs": [names], "records": [record + "run": index]}`.
fn data_blob(runs: &[RunRecords]) -> Result<String, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        runs: Vec<&'a str>,
        records: Vec<Tagged<'a>>,
    }
    let data = Data {
        runs: runs.iter().map(|r| r.run.as_str()).collect(),
        records: runs
            .iter()
            .enumerate()
            .flat_map(|(run, r)| r.records.iter().map(move |record| Tagged { run, record }))
            .collect(),
    };
    Ok(script_json(&serde_json::to_string(&data)?))
}

/// The whole page. `generated` is shown in the header (a time, or a fixed text in tests).
pub(crate) fn render_page(
    runs: &[RunRecords],
    generated: &str,
) -> Result<String, serde_json::Error> {
    let all: Vec<&RunRecord> = runs.iter().flat_map(|r| &r.records).collect();
    let data = data_blob(runs)?;
    let summary = summary::render(&all);
    let meta = format!(
        "{} scenario run(s) from {} run director{}: {} · generated {}",
        all.len(),
        runs.len(),
        if runs.len() == 1 { "y" } else { "ies" },
        escape(
            &runs
                .iter()
                .map(|r| r.run.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        escape(generated)
    );
    let mut out = String::with_capacity(
        TEMPLATE.len() + STYLE.len() + SCRIPT.len() + data.len() + summary.len() + 1024,
    );
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("<!--@") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "<!--@".len()..];
        let Some(end) = after.find("@-->") else {
            break;
        };
        let slot = &after[..end];
        let _ = match slot {
            "title" => write!(out, "sockspec report"),
            "meta" => write!(out, "{meta}"),
            "style" => write!(out, "{STYLE}"),
            "summary" => write!(out, "{summary}"),
            "data" => write!(out, "{data}"),
            "script" => write!(out, "{SCRIPT}"),
            _ => write!(out, "<!--@{slot}@-->"),
        };
        rest = &after[end + "@-->".len()..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;

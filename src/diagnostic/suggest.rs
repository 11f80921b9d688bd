//! Owns "did you mean": the closest candidate to a misspelt key or value, and the rewrite
//! of serde's "unknown field `x`, expected one of …" messages into a suggestion.

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(input, c), c))
        .filter(|(d, c)| *d <= limit || c.starts_with(input) || input.starts_with(c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// For a serde message such as "unknown field `witin`, expected one of `match`, `within`"
/// (or "unknown variant …"), returns the suggestion "did you mean `within`?".
pub(crate) fn suggest_from_serde_message(message: &str) -> Option<String> {
    let kind_at = message
        .find("unknown field `")
        .map(|i| i + "unknown field `".len())
        .or_else(|| {
            message
                .find("unknown variant `")
                .map(|i| i + "unknown variant `".len())
        })?;
    let rest = &message[kind_at..];
    let end = rest.find('`')?;
    let input = &rest[..end];
    let expected = rest.split_once("expected")?.1;
    let expected = expected
        .trim_start_matches(" one of")
        .trim_start_matches(" either")
        .lines()
        .next()
        .unwrap_or("");
    let candidates: Vec<&str> = expected
        .split([',', ' '])
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty() && *c != "or")
        .collect();
    did_you_mean(input, candidates.iter().copied()).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_candidate() {
        assert_eq!(did_you_mean("witin", ["match", "within"]), Some("within"));
        assert_eq!(
            did_you_mean("expect_sequnce", ["expect", "expect_sequence"]),
            Some("expect_sequence")
        );
        assert_eq!(did_you_mean("zzzzzz", ["match", "within"]), None);
    }

    #[test]
    fn parses_serde_messages() {
        let m = "unknown field `witin`, expected one of match, within";
        assert_eq!(
            suggest_from_serde_message(m).as_deref(),
            Some("did you mean `within`?")
        );
        let m = "unknown variant `sned`, expected one of `send`, `expect`, `close`";
        assert_eq!(
            suggest_from_serde_message(m).as_deref(),
            Some("did you mean `send`?")
        );
        assert_eq!(suggest_from_serde_message("expected string scalar"), None);
    }
}

//! Owns generated text: pieces that matter to YAML, templates and the renderer (braces,
//! escapes, every kind of line break, multi-byte and zero-width characters, NUL, BOM), and
//! arbitrary bytes read lossily.

use proptest::prelude::*;

/// Pieces that matter to YAML, templates and the renderer: braces, escapes, line breaks of
/// every kind, multi-byte and zero-width characters, NUL, BOM.
#[rustfmt::skip]
pub const ATOMS: &[&str] = &[
    "{{", "}}", "\\{{", "{{ ", " }}", "\\", "{", "}", " ", "  ", "\t", "\r", "\n", "\r\n", "\0",
    "é", "日本", "😀", "e\u{301}", "\u{FEFF}", "\u{85}", "\u{2028}", "\u{200B}", "uuid", "now",
    "now_unix", "run_id", "env.", "env", "auth.token", "secrets.", "x", ".", "a", "_", "-", "0",
    "9", ":", ": ", "- ", "#", "'", "\"", "[", "]", ",", "&a", "*a", "!", "|", ">", "%", "@",
    "`", "?", "---", "...", "&z ", "*z", "<<: *z", "!!str ", "!!int ", "!!map ", "!!seq ",
    "!!null ", "!!float ", "!!binary ", "!local ",
];

pub fn text(max_atoms: usize) -> BoxedStrategy<String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(ATOMS).prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
        ],
        0..max_atoms,
    )
    .prop_map(|atoms| atoms.concat())
    .boxed()
}

pub fn lossy_bytes(max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(any::<u8>(), 0..max)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        .boxed()
}

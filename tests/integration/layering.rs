//! Owns the layering rule of `src/`: a top-level module imports only modules declared before
//! it in `src/lib.rs` (foundations, then the stages in flow order, then `server`, `harness`,
//! `cli`). Every `crate::…` path in non-test code counts, whether in a `use` line (brace groups
//! included) or written inline; test code (`#[cfg(test)]` modules and files) may use anything,
//! e.g. the reference server as an oracle. A violation names the file, the line and the rule.

use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules in the order `src/lib.rs` declares them.
fn declared_order(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("pub(crate) mod "))
                .or_else(|| l.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// The text of a file with comments blanked and test code removed (lines kept, so line numbers
/// stay right): everything from a `#[cfg(test)]` attribute that opens a module is dropped.
fn code_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_test = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            let next = lines.get(i + 1).map_or("", |l| l.trim_start());
            if next.starts_with("mod ") || next.starts_with("pub mod ") {
                in_test = true;
            }
        }
        if in_test || trimmed.starts_with("//") {
            out.push(String::new());
            continue;
        }
        let code = match line.find("//") {
            // `"https://…"` inside a string is cut too: harmless, it only hides text.
            Some(i) => &line[..i],
            None => line,
        };
        out.push(code.to_owned());
    }
    out
}

/// Files declared `#[cfg(test)] mod name;` in `text`: test-only files.
fn test_only_children(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].trim() == "#[cfg(test)]")
        .filter_map(|w| {
            let l = w[1].trim();
            let name = l
                .strip_prefix("mod ")
                .or_else(|| l.strip_prefix("pub mod "))?;
            name.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// Every top-level module a code text refers to through `crate::`, with its 1-based line.
fn crate_refs(code: &[String]) -> Vec<(usize, String)> {
    let joined = code.join("\n");
    let bytes = joined.as_bytes();
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(found) = joined[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        // `sockspec_crate::` or `$crate::` are not ours.
        if at > 0 {
            let before = bytes[at - 1];
            if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' {
                continue;
            }
        }
        let line = joined[..at].matches('\n').count() + 1;
        if joined[from..].starts_with('{') {
            // A brace group: the first identifier of each item at depth 1.
            let mut depth = 0usize;
            let mut item_start = true;
            for (offset, c) in joined[from..].char_indices() {
                match c {
                    '{' => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && (c.is_alphabetic() || c == '_') => {
                        let ident: String = joined[from + offset..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let ident_line = joined[..from + offset].matches('\n').count() + 1;
                        refs.push((ident_line, ident));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let ident: String = joined[from..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                refs.push((line, ident));
            }
        }
    }
    refs
}

/// The `.rs` files of top-level module `name`, test-only files excluded.
fn module_files(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src.join(format!("{name}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let dir = src.join(name);
    if dir.is_dir() {
        collect(&dir, &mut files);
    }
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("readable src directory")
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    let skip: Vec<String> = entries
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "mod.rs"))
        .flat_map(|p| test_only_children(&fs::read_to_string(p).expect("readable mod.rs")))
        .collect();
    for path in entries {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if skip.iter().any(|s| s == stem) {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// One violation per reference to a module declared after (or not at all before) its user.
fn violations(order: &[String], module: &str, file: &str, text: &str) -> Vec<String> {
    let rank = |m: &str| order.iter().position(|o| o == m);
    let Some(own) = rank(module) else {
        return vec![format!(
            "{file}: module `{module}` is not declared in src/lib.rs"
        )];
    };
    let code = code_of(text);
    crate_refs(&code)
        .into_iter()
        .filter(|(_, target)| target != module)
        .filter_map(|(line, target)| {
            let allowed = rank(&target).is_some_and(|r| r < own);
            (!allowed).then(|| {
                format!(
                    "{file}:{line}: `{module}` imports `{target}`, which src/lib.rs declares after it \
                     (a module may import only modules declared before it)\n    {}",
                    text.lines().nth(line - 1).unwrap_or_default().trim()
                )
            })
        })
        .collect()
}

#[test]
fn every_module_imports_only_modules_declared_before_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let order = declared_order(&lib);
    assert!(
        order.len() >= 10,
        "too few modules in src/lib.rs: {order:?}"
    );
    let mut problems = Vec::new();
    let mut files_checked = 0;
    for module in &order {
        let files = module_files(&src, module);
        assert!(!files.is_empty(), "no file for module `{module}`");
        for path in files {
            let text = fs::read_to_string(&path).expect("readable source");
            let shown = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            problems.extend(violations(&order, module, &shown, &text));
            files_checked += 1;
        }
    }
    assert!(files_checked > 50, "only {files_checked} files checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_directory_of_src_is_a_declared_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared_order(&fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs"));
    for entry in fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if matches!(stem, "lib" | "main") {
            continue;
        }
        assert!(
            order.iter().any(|m| m == stem),
            "src/{stem} is not declared in src/lib.rs, so the layering test would not see it"
        );
    }
}

#[test]
fn a_backward_import_is_reported_with_its_line() {
    let order: Vec<String> = ["diagnostic", "scenario", "report"]
        .map(str::to_owned)
        .to_vec();
    let text = "//! doc\nuse crate::diagnostic::Pos;\nuse crate::{\n    diagnostic::Diagnostic,\n    report::Thing,\n};\n\
                fn f() { crate::report::g(); } // crate::report in a comment\n\
                #[cfg(test)]\nmod tests {\n    use crate::report::x;\n}\n";
    let found = violations(&order, "scenario", "src/scenario/x.rs", text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("src/scenario/x.rs:5: `scenario` imports `report`"));
    assert!(found[0].ends_with("report::Thing,"), "{}", found[0]);
    assert!(found[1].starts_with("src/scenario/x.rs:7: `scenario` imports `report`"));
    assert!(violations(&order, "report", "src/report/y.rs", text).is_empty());
}

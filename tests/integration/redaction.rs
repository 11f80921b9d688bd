//! No secret value and no JWT may appear in any committed snapshot.

use std::path::{Path, PathBuf};

use sockspec::environment::{Config, Secrets};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable snapshots dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn snapshots_hold_no_secret_and_no_jwt() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(root).expect("valid sockspec.yaml");
    let mut values = Vec::new();
    for env in config.environments.values() {
        let names: Vec<&str> = env.secrets.keys().map(String::as_str).collect();
        // Only environments whose secrets resolve here (local defaults) can leak here.
        if let Ok(secrets) =
            Secrets::resolve(env, names.iter().copied(), &|v| std::env::var(v).ok())
        {
            values.extend(
                names
                    .iter()
                    .filter_map(|n| secrets.get(n))
                    .map(|s| s.value.clone()),
            );
        }
    }
    assert!(
        !values.is_empty(),
        "the canary needs at least one resolved secret"
    );
    let mut all = Vec::new();
    files(&config.snapshots_dir, &mut all);
    assert!(
        all.len() > 10,
        "expected the example snapshots, found {}",
        all.len()
    );
    for file in all {
        let text = std::fs::read_to_string(&file).expect("utf-8 snapshot");
        for v in &values {
            assert!(
                !text.contains(v.as_str()),
                "{} contains a secret value",
                file.display()
            );
        }
        assert!(
            !text.contains("eyJ"),
            "{} contains what looks like a JWT",
            file.display()
        );
    }
}

//! Shared fragments (`include:`), through `scenario::load` on scenario trees written to a
//! temporary directory: the merge rules of each key, lookup from the scenario's directory up
//! to the root (nearest `_shared/` first), nested includes applied once, overrides applied to
//! the scenario's own keys, plan positions that know their file, and the located reports of
//! unknown names, cycles and mistakes inside a fragment.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sockspec::diagnostic::Diagnostic;
use sockspec::scenario::{AuthPlan, Plan, StepKind};

/// A scenario tree in a fresh temporary directory, removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new(files: &[(&str, &str)]) -> Tree {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sockspec-fragments-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
        }
        Tree(dir)
    }

    /// Loads the scenario `id` (`a/b` is `a/b.yaml` below the root).
    fn load(&self, id: &str) -> Result<Plan, Vec<Diagnostic>> {
        sockspec::scenario::load(&self.0.join(format!("{id}.yaml")), id)
    }

    fn rejected(&self, id: &str) -> String {
        match self.load(id) {
            Ok(_) => panic!("{id} was accepted"),
            Err(ds) => ds
                .iter()
                .map(Diagnostic::render)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn http_paths(steps: &[sockspec::scenario::StepPlan]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match &s.kind {
            StepKind::Http(h) => format!("{:?}", h.target),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn keys_merge_as_documented() {
    let tree = Tree::new(&[
        (
            "_shared/base.yaml",
            "tags: [shared, a]\n\
             vars: {user: base-user, claims_sub: '{{ user }}', base_only: 1}\n\
             auth: {jwt: {secret: jwt, claims: {sub: '{{ claims_sub }}'}}}\n\
             connect: {path: /fragment, headers: {x-a: '1'}}\n\
             setup: [{http: {path: /setup-base}}]\n\
             steps: [{send: {n: base}}]\n\
             teardown: [{http: {path: /teardown-base}}]\n\
             ignore: {type: heartbeat}\n\
             redact: [a.b]\n\
             unclaimed: fail\n",
        ),
        (
            "_shared/extra.yaml",
            "tags: [a, extra]\n\
             setup: [{http: {path: /setup-extra}}]\n\
             teardown: [{http: {path: /teardown-extra}}]\n\
             ignore: [{type: ack}, {type: noise}]\n\
             redact: [a.b, c]\n",
        ),
        (
            "x/s.yaml",
            "include: [base, extra]\n\
             tags: [own]\n\
             vars: {user: own-user, own: 2}\n\
             connect: {path: /own}\n\
             setup: [{http: {path: /setup-own}}]\n\
             steps: [{send: {n: own}}]\n\
             teardown: [{http: {path: /teardown-own}}]\n\
             ignore: {type: own}\n",
        ),
    ]);
    let plan = tree
        .load("x/s")
        .unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    assert_eq!(plan.tags, ["shared", "a", "extra", "own"]);
    // A name assigned again keeps its first place, with the later value: the fragment's
    // `claims_sub` uses the scenario's user.
    let vars: Vec<(&str, String)> = plan
        .vars
        .iter()
        .map(|a| (a.name.as_str(), a.value.to_string()))
        .collect();
    assert_eq!(
        vars,
        [
            ("user", "\"own-user\"".to_string()),
            ("claims_sub", "\"{{ user }}\"".to_string()),
            ("base_only", "1".to_string()),
            ("own", "2".to_string()),
        ]
    );
    assert_eq!(plan.vars[0].pos.origin, 0, "the scenario's value");
    assert_eq!(plan.vars[1].pos.origin, 1, "the fragment's");
    assert!(matches!(plan.auth, AuthPlan::Jwt(_)));
    assert_eq!(plan.auth_pos.origin, 1);
    // `connect` is replaced whole: the fragment's header is gone.
    assert!(format!("{:?}", plan.connect.target).contains("/own"));
    assert!(plan.connect.headers.is_empty());
    assert_eq!(
        http_paths(&plan.setup),
        [
            "Path(\"/setup-base\")",
            "Path(\"/setup-extra\")",
            "Path(\"/setup-own\")"
        ]
    );
    assert_eq!(
        http_paths(&plan.teardown),
        [
            "Path(\"/teardown-own\")",
            "Path(\"/teardown-extra\")",
            "Path(\"/teardown-base\")"
        ]
    );
    let sends: Vec<String> = plan.steps.iter().map(|s| format!("{:?}", s.kind)).collect();
    assert!(
        sends[0].contains("base") && sends[1].contains("own"),
        "{sends:?}"
    );
    assert_eq!(
        plan.steps.iter().map(|s| s.index).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        plan.steps.iter().map(|s| s.pos.origin).collect::<Vec<_>>(),
        [1, 0]
    );
    assert_eq!(
        plan.ignore,
        [
            serde_json::json!({"type": "heartbeat"}),
            serde_json::json!({"type": "ack"}),
            serde_json::json!({"type": "noise"}),
            serde_json::json!({"type": "own"}),
        ]
    );
    assert_eq!(plan.redact, ["a.b", "c"]);
    assert_eq!(plan.unclaimed, sockspec::scenario::UnclaimedPolicy::Fail);
    // Positions resolve to the file they are in.
    let names: Vec<&str> = plan.fragments.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["base", "extra"]);
    let (file, source, included) = plan.file_of(plan.steps[0].pos);
    assert!(file.ends_with("_shared/base.yaml"), "{}", file.display());
    assert!(source.contains("steps: [{send: {n: base}}]"));
    assert!(
        included[0].contains("fragment `base` is included at "),
        "{included:?}"
    );
    assert!(included[0].ends_with("x/s.yaml:1:11"), "{included:?}");
    let (file, _, included) = plan.file_of(plan.steps[1].pos);
    assert!(file.ends_with("x/s.yaml") && included.is_empty());
}

#[test]
fn the_nearest_shared_directory_wins_and_nested_includes_apply_once() {
    let tree = Tree::new(&[
        ("_shared/user.yaml", "vars: {who: root}\n"),
        (
            "_shared/common.yaml",
            "vars: {common: 1}\nsteps: [{send: common}]\n",
        ),
        (
            "_shared/auth/qa.yaml",
            "include: [common]\nvars: {qa: 1}\nsteps: [{send: qa}]\n",
        ),
        ("deep/_shared/user.yaml", "vars: {who: deep}\n"),
        (
            "deep/er/s.yaml",
            "include: [user, auth/qa, common]\nsteps: [{send: own}]\n",
        ),
        ("top.yaml", "include: [user]\n"),
    ]);
    let plan = tree
        .load("deep/er/s")
        .unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    let vars: Vec<String> = plan
        .vars
        .iter()
        .map(|a| format!("{}={}", a.name, a.value))
        .collect();
    assert_eq!(vars, ["who=\"deep\"", "common=1", "qa=1"]);
    // `common` came through `auth/qa` first: listed again, it is not applied twice.
    let steps: Vec<String> = plan.steps.iter().map(|s| format!("{:?}", s.kind)).collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps[0].contains("common") && steps[1].contains("qa") && steps[2].contains("own"));
    let top = tree.load("top").expect("valid");
    assert_eq!(top.vars[0].value, serde_json::json!("root"));
}

#[test]
fn overrides_replace_the_scenarios_own_keys_above_the_fragments() {
    let tree = Tree::new(&[
        ("_shared/f.yaml", "vars: {a: frag, b: frag}\n"),
        (
            "s.yaml",
            "include: [f]\nvars: {a: own}\noverrides: {prod: {vars: {b: prod}}}\n",
        ),
    ]);
    let plan = tree.load("s").expect("valid");
    let values = |p: &Plan| -> Vec<String> {
        p.vars
            .iter()
            .map(|a| format!("{}={}", a.name, a.value))
            .collect()
    };
    assert_eq!(values(&plan), ["a=\"own\"", "b=\"frag\""]);
    assert_eq!(
        values(plan.for_environment("prod")),
        ["a=\"frag\"", "b=\"prod\""]
    );
}

#[test]
fn problems_are_reported_where_they_are() {
    let tree = Tree::new(&[
        ("_shared/qa_user.yaml", "vars: {user: qa}\n"),
        ("_shared/loop_a.yaml", "include: [loop_b]\n"),
        ("_shared/loop_b.yaml", "include: [loop_a]\n"),
        ("_shared/self.yaml", "include: [self]\n"),
        (
            "_shared/bad.yaml",
            "# comment\nsteps:\n  - expect: {match: {}, within: soon}\n",
        ),
        ("_shared/later.yaml", "vars: {greeting: 'hi {{ own }}'}\n"),
        ("_shared/named.yaml", "name: x\n"),
        ("_shared/empty.yaml", "# nothing\n"),
        ("unknown.yaml", "include: [qa_usr]\n"),
        ("with_ext.yaml", "include: [qa_user.yaml]\n"),
        ("escape.yaml", "include: [../etc/passwd]\n"),
        ("twice.yaml", "include: [qa_user, qa_user]\n"),
        ("cycle.yaml", "include: [loop_a]\n"),
        ("itself.yaml", "include: [self]\n"),
        ("bad.yaml", "name: s\ninclude: [bad]\n"),
        ("later.yaml", "include: [later]\nvars: {own: x}\n"),
        ("named.yaml", "include: [named]\n"),
        ("empty.yaml", "include: [empty]\n"),
        ("nothing/s.yaml", "include: [nope]\n"),
    ]);
    let root = tree.0.display().to_string();

    let r = tree.rejected("unknown");
    assert!(r.starts_with("error: unknown fragment `qa_usr`\n"), "{r}");
    assert!(r.contains(&format!("--> {root}/unknown.yaml:1:11")), "{r}");
    assert!(r.contains("= help: did you mean `qa_user`?"), "{r}");
    assert!(
        r.contains("`loop_a`, `loop_b`, `named`, `qa_user`, `self`"),
        "{r}"
    );

    let r = tree.rejected("with_ext");
    assert!(
        r.contains("help: name the fragment without `.yaml`: `qa_user`"),
        "{r}"
    );

    let r = tree.rejected("escape");
    assert!(
        r.starts_with("error: `../etc/passwd` is not a fragment name"),
        "{r}"
    );

    let r = tree.rejected("twice");
    assert!(
        r.starts_with("error: fragment `qa_user` is included twice"),
        "{r}"
    );

    let r = tree.rejected("cycle");
    assert!(
        r.starts_with("error: fragment `loop_a` includes itself: `loop_a` → `loop_b` → `loop_a`"),
        "{r}"
    );
    assert!(
        r.contains(&format!("--> {root}/_shared/loop_b.yaml:1:11")),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "note: fragment `loop_b` is included at {root}/_shared/loop_a.yaml:1:11"
        )),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "note: fragment `loop_a` is included at {root}/cycle.yaml:1:11"
        )),
        "{r}"
    );

    let r = tree.rejected("itself");
    assert!(
        r.starts_with("error: fragment `self` includes itself: `self` → `self`"),
        "{r}"
    );

    let r = tree.rejected("bad");
    assert!(
        r.contains(&format!("--> {root}/_shared/bad.yaml:3:33")),
        "{r}"
    );
    assert!(
        r.contains("3 |   - expect: {match: {}, within: soon}"),
        "{r}"
    );
    assert!(r.contains("= field: steps[0].expect.within"), "{r}");
    assert!(
        r.contains(&format!(
            "note: fragment `bad` is included at {root}/bad.yaml:2:11"
        )),
        "{r}"
    );

    // A fragment's variable may not use one the scenario defines later.
    let r = tree.rejected("later");
    assert!(
        r.contains(&format!("--> {root}/_shared/later.yaml:1:18")),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "help: `own` is only defined later, at `vars.own` in {root}/later.yaml"
        )),
        "{r}"
    );

    let r = tree.rejected("named");
    assert!(r.starts_with("error: unknown field `name`"), "{r}");
    assert!(
        r.contains(&format!("--> {root}/_shared/named.yaml:1:1")),
        "{r}"
    );
    assert!(r.contains("help: `name` belongs to the scenarios"), "{r}");

    let r = tree.rejected("empty");
    assert!(r.starts_with("error: fragment file is empty"), "{r}");

    let r = tree.rejected("nothing/s");
    assert!(
        r.contains(&format!(
            "looked for: {root}/nothing/_shared/nope.yaml, {root}/_shared/nope.yaml"
        )),
        "{r}"
    );
}

/// A scenario without `include` reads no other file (a file next to a fake path is fine).
#[test]
fn no_include_reads_nothing() {
    let plan =
        sockspec::scenario::parse("steps: []\n", Path::new("nowhere/x.yaml"), "x").expect("valid");
    assert!(plan.fragments.is_empty());
}

//! Owns validation: raw model → [`Plan`]. Checks what serde cannot (durations, regexes,
//! status codes, templates and the variables they use, required combinations) and reports
//! each problem as a [`Diagnostic`] with the field path and the position of the value.
//! It validates the scenario merged with its fragments (`fragments::merge`): before checking a
//! piece, `Ctx` is switched to the file it comes from (its origin), so a report points into
//! that file, with its own field path, and positions kept in the plan carry the origin.
//! This file holds the entry point (`validate`, each override validated whole), `vars`, the
//! `setup` and `teardown` phases, and the `Ctx` its siblings report through, with its helpers
//! for durations, templates (a variable is defined from where `vars`, a `set` step or a
//! capture assigns it), patterns, captures and assignments; `validate_connect`,
//! `validate_steps` and `validate_auth` validate the sections.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::fragments::{Fragment, Included, Merged, Sourced, merge};
use super::plan::*;
use super::raw::*;
use super::validate_auth::auth_plan;
use super::validate_connect::{closing_plan, connect_plan, handshake_plan};
use super::validate_steps::step_plan;
use crate::diagnostic::{Diagnostic, Pos, did_you_mean};
use crate::pattern::Pattern;
use crate::template::{Expr, Template, is_ident, parse_value};

/// Variables every template can use, besides `env.NAME`, `secrets.NAME` and the variables
/// the scenario defines.
const BUILTINS: [&str; 4] = ["uuid", "now", "now_unix", "run_id"];

pub(super) struct Ctx<'a> {
    file: &'a Path,
    source: &'a Arc<str>,
    /// The fragments the scenario includes (origin `n` is `fragments[n - 1]`).
    fragments: &'a [Fragment],
    /// The file what is being validated comes from: 0 the scenario, `n` a fragment. Reports
    /// point into it, and positions kept in the plan carry it.
    origin: u32,
    /// Each problem with the origin it points into.
    errors: Vec<(u32, Diagnostic)>,
    /// Variables defined so far (`vars`, `set`, captures, `auth`).
    pub(super) defined: BTreeSet<String>,
    /// Where each variable the document defines is first defined (`vars.NAME`,
    /// `steps[2].set.NAME`, …, and the origin of that file), to tell a use before its
    /// definition from a typo.
    defined_at: BTreeMap<String, (u32, String)>,
    /// Secrets named so far (auth keys, `{{ secrets.NAME }}`).
    pub(super) secrets: BTreeSet<String>,
}

impl Ctx<'_> {
    pub(super) fn error(
        &mut self,
        pos: Pos,
        field: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let (file, source) = match self.fragment(self.origin) {
            None => (self.file, self.source),
            Some(f) => (f.file.as_path(), &f.source),
        };
        let d = Diagnostic::new(message, file)
            .with_source(source.clone())
            .at(pos)
            .with_field(field);
        self.errors.push((self.origin, d));
        &mut self.errors.last_mut().expect("just pushed").1
    }

    /// The fragment `origin` names (none for the scenario itself).
    fn fragment(&self, origin: u32) -> Option<&Fragment> {
        let i = usize::try_from(origin).ok()?.checked_sub(1)?;
        self.fragments.get(i)
    }

    /// `pos`, a position in the file being validated, as the plan keeps it (with its origin).
    pub(super) fn at(&self, pos: Pos) -> Pos {
        pos.in_origin(self.origin)
    }

    /// The problems found, those in a fragment with notes saying where it is included.
    fn finish(mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.errors)
            .into_iter()
            .map(|(origin, mut d)| {
                if let Some(f) = self.fragment(origin) {
                    d.notes.extend(f.included.iter().cloned());
                }
                d
            })
            .collect()
    }

    pub(super) fn duration(
        &mut self,
        raw: &Option<S<String>>,
        field: &str,
        default: Duration,
    ) -> Duration {
        match raw {
            None => default,
            Some(s) => match crate::duration::parse(&s.value) {
                Ok(d) => d,
                Err(e) => {
                    self.error(pos(s), field, e.to_string()).help =
                        Some(crate::duration::HELP.into());
                    default
                }
            },
        }
    }

    /// Checks every template in `value`; `allow_vars` is false where captures do not exist yet.
    pub(super) fn templates(&mut self, value: &Value, at: Pos, field: &str, allow_vars: bool) {
        match parse_value(value) {
            Err((path, e)) => {
                let f = join(field, &path);
                self.error(at, &f, format!("invalid template: {}", e.message));
            }
            Ok(templates) => {
                for (path, t) in templates {
                    self.template_vars(&t, at, &join(field, &path), allow_vars);
                }
            }
        }
    }

    pub(super) fn template_str(&mut self, s: &str, at: Pos, field: &str, allow_vars: bool) {
        match Template::parse(s) {
            Err(e) => {
                self.error(at, field, format!("invalid template: {}", e.message));
            }
            Ok(t) => self.template_vars(&t, at, field, allow_vars),
        }
    }

    pub(super) fn template_vars(&mut self, t: &Template, at: Pos, field: &str, allow_vars: bool) {
        for (expr, _) in t.exprs() {
            let Expr::Var(path) = expr else { continue };
            let name = path.first().map(String::as_str).unwrap_or("");
            if name == "secrets" {
                match path.get(1) {
                    Some(secret) if path.len() == 2 => {
                        self.secrets.insert(secret.clone());
                    }
                    _ => {
                        self.error(
                            at,
                            field,
                            "`secrets` needs exactly one name: `{{ secrets.NAME }}`",
                        )
                        .help = Some("NAME is a secret the environment declares".into());
                    }
                }
                continue;
            }
            if allow_vars && self.defined.contains(name) {
                continue;
            }
            let mut known: Vec<&str> = BUILTINS.to_vec();
            if allow_vars {
                known.extend(self.defined.iter().map(String::as_str));
            }
            let hint = did_you_mean(name, known.iter().copied()).map(str::to_string);
            let defined: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            let later = self.defined_at.get(name).cloned().map(|(origin, at)| {
                let here = origin == self.origin;
                let file = match self.fragment(origin) {
                    _ if here => String::new(),
                    None => format!(" in {}", self.file.display()),
                    Some(f) => format!(" in {}", f.file.display()),
                };
                (here, at, file)
            });
            let d = self.error(at, field, format!("undefined template variable `{name}`"));
            d.notes.push(format!(
                "defined here: {}, `secrets.NAME` and `env.NAME`",
                defined.join(", ")
            ));
            d.help = Some(match (later, hint) {
                (Some((true, at, _)), _) if field == at || field.starts_with(&format!("{at}.")) => {
                    format!("a variable cannot use itself: `{name}` is not defined before `{at}`")
                }
                (Some((_, at, file)), _) => format!(
                    "`{name}` is only defined later, at `{at}`{file}: use it after that, or define it earlier"
                ),
                (None, Some(h)) => format!("did you mean `{h}`?"),
                (None, None) => {
                    "define it in `vars`, `set` or capture it in an earlier step, or use `env.NAME`"
                        .into()
                }
            });
        }
    }

    pub(super) fn pattern(&mut self, value: &Value, at: Pos, field: &str) -> Option<Pattern> {
        match Pattern::compile(value) {
            Ok(p) => Some(p),
            Err(e) => {
                let f = join(field, &e.path);
                self.error(at, &f, format!("invalid pattern: {}", one_line(&e.message)));
                None
            }
        }
    }

    /// A pattern that may contain templates: check templates now, compile at run time.
    pub(super) fn templated_pattern(&mut self, value: &Value, at: Pos, field: &str) {
        self.templates(value, at, field, true);
        if !contains_template(value) {
            self.pattern(value, at, field);
        }
    }

    pub(super) fn captures(
        &mut self,
        raw: &std::collections::BTreeMap<String, S<String>>,
    ) -> Vec<(String, String)> {
        raw.iter()
            .map(|(name, path)| {
                self.defined.insert(name.clone());
                (name.clone(), path.value.clone())
            })
            .collect()
    }

    /// `vars:` or a `set` step: each name checked (an identifier, not reserved), each value's
    /// templates checked against what is defined so far, the name defined from then on (a
    /// later entry may use an earlier one).
    pub(super) fn assignments(&mut self, raw: &RawVars, field: &str) -> Vec<Assignment> {
        raw.0
            .iter()
            .map(|(name, value)| self.assignment(name, value, field))
            .collect()
    }

    /// One entry of `vars:` or of a `set` step (see [`Ctx::assignments`]).
    fn assignment(&mut self, name: &S<String>, value: &S<Value>, field: &str) -> Assignment {
        let at = format!("{field}.{}", name.value);
        let valid = self.variable_name(name, &at);
        self.templates(&value.value, pos(value), &at, true);
        if valid {
            self.defined.insert(name.value.clone());
        }
        Assignment {
            name: name.value.clone(),
            value: value.value.clone(),
            pos: self.at(pos(name)),
        }
    }

    /// Whether `name` may name a variable; reports why not.
    fn variable_name(&mut self, name: &S<String>, field: &str) -> bool {
        let n = name.value.as_str();
        if RESERVED_NAMES.contains(&n) {
            let reserved: Vec<String> = RESERVED_NAMES.iter().map(|r| format!("`{r}`")).collect();
            let d = self.error(
                pos(name),
                field,
                format!("`{n}` is reserved and cannot name a variable"),
            );
            d.notes
                .push(format!("reserved names: {}", reserved.join(", ")));
            d.help = Some(if BUILTINS.contains(&n) {
                format!(
                    "give the value another name (`my_{n}: \"{{{{ {n} }}}}\"`) and write `{{{{ my_{n} }}}}`"
                )
            } else {
                format!("give the variable another name, such as `my_{n}`")
            });
        } else if !is_ident(n) {
            self.error(
                pos(name),
                field,
                format!("`{n}` is not a valid variable name"),
            )
            .help = Some(
                "a name starts with a letter or `_`, followed by letters, digits, `_` or `-`"
                    .into(),
            );
        } else {
            return true;
        }
        false
    }
}

/// Multi-line messages (the regex crate's) reduced to their last line.
fn one_line(message: &str) -> String {
    if !message.contains('\n') {
        return message.to_string();
    }
    let head = message.lines().next().unwrap_or("").trim_end_matches(':');
    let last = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    format!("{head}: {}", last.trim_start_matches("error: "))
}

pub(super) fn pos<T>(s: &S<T>) -> Pos {
    Pos::from_location(&s.referenced)
}

pub(super) fn join(field: &str, path: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{field}.{path}")
    }
}

fn contains_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{"),
        Value::Array(a) => a.iter().any(contains_template),
        Value::Object(o) => o.values().any(contains_template),
        _ => false,
    }
}

/// Validates a parsed scenario with the fragments it includes. `id` is the path below the
/// scenario root without `.yaml`. Each `overrides:` entry is applied to a copy of the
/// scenario's own keys (the fragments are merged under it as under the scenario) and validated
/// whole.
pub(super) fn validate(
    raw: RawScenario,
    included: &Included,
    id: &str,
    file: &Path,
    source: &Arc<str>,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut base = raw;
    let overrides = std::mem::take(&mut base.overrides);
    let mut plan = validate_one(&base, included, id, file, source)?;
    let mut errors = Vec::new();
    for (env, o) in overrides {
        if let Some(envs) = &plan.environments
            && !envs.contains(&env)
        {
            errors.push(
                Diagnostic::new(
                    format!("override for environment `{env}`, which `environments` does not list"),
                    file,
                )
                .with_source(source.clone())
                .at(pos(&o))
                .with_field(format!("overrides.{env}"))
                .with_help(format!(
                    "add `{env}` to `environments`, or remove the override"
                )),
            );
            continue;
        }
        let o = o.value;
        let mut r = base.clone();
        if let Some(v) = o.vars {
            r.vars = v;
        }
        if let Some(a) = o.auth {
            r.auth = Some(a);
        }
        if let Some(c) = o.connect {
            r.connect = Some(c);
        }
        if let Some(h) = o.handshake {
            r.handshake = Some(h);
        }
        if let Some(s) = o.setup {
            r.setup = s;
        }
        if let Some(s) = o.steps {
            r.steps = s;
        }
        if let Some(s) = o.teardown {
            r.teardown = s;
        }
        if let Some(s) = o.reference_server {
            r.reference_server = Some(s);
        }
        match validate_one(&r, included, id, file, source) {
            Ok(p) => {
                plan.overrides.insert(env, p);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

fn validate_one(
    raw: &RawScenario,
    included: &Included,
    id: &str,
    file: &Path,
    source: &Arc<str>,
) -> Result<Plan, Vec<Diagnostic>> {
    let m = merge(&included.layers, raw);
    let mut cx = Ctx {
        file,
        source,
        fragments: &included.fragments,
        origin: 0,
        errors: Vec::new(),
        defined: BTreeSet::new(),
        defined_at: definitions(&m),
        secrets: BTreeSet::new(),
    };

    let vars = m
        .vars
        .iter()
        .map(|v| {
            cx.origin = v.origin;
            cx.assignment(&v.item.0, &v.item.1, "vars")
        })
        .collect();
    let setup = phase_steps(&mut cx, "setup", &m.setup);
    let (auth, auth_pos) = match &m.auth {
        None => (AuthPlan::None, Pos::default()),
        Some(a) => {
            cx.origin = a.origin;
            (auth_plan(&mut cx, a.item, "auth"), cx.at(pos(a.item)))
        }
    };
    if !matches!(auth, AuthPlan::None) {
        cx.defined.insert("auth".into());
    }
    let (connect, closing) = match &m.connect {
        None => (
            connect_plan(&mut cx, &RawConnect::default(), &auth),
            ClosingPlan::default(),
        ),
        Some(c) => {
            cx.origin = c.origin;
            (
                connect_plan(&mut cx, c.item, &auth),
                closing_plan(&mut cx, c.item),
            )
        }
    };
    let (handshake, handshake_pos) = match &m.handshake {
        None => (HandshakePlan::default(), Pos::default()),
        Some(h) => {
            cx.origin = h.origin;
            (
                handshake_plan(&mut cx, h.item, &connect),
                cx.at(pos(h.item)),
            )
        }
    };
    let steps = m
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            cx.origin = s.origin;
            StepPlan {
                index: i,
                pos: cx.at(pos(s.item)),
                kind: step_plan(&mut cx, "steps", s.index, s.item),
            }
        })
        .collect();
    let teardown = phase_steps(&mut cx, "teardown", &m.teardown);
    let mut ignore = Vec::new();
    for i in &m.ignore {
        cx.origin = i.origin;
        ignore.extend(super::validate_steps::ignore_list(
            &mut cx, i.item, "scenario",
        ));
    }
    let unclaimed = match m.unclaimed {
        None | Some(RawUnclaimed::List) => UnclaimedPolicy::List,
        Some(RawUnclaimed::Fail) => UnclaimedPolicy::Fail,
    };
    let snapshot_frames = match raw.snapshot_frames.as_ref().map(|f| f.value) {
        None | Some(RawSnapshotFrames::All) => SnapshotFrames::All,
        Some(RawSnapshotFrames::Claimed) => SnapshotFrames::Claimed,
        Some(RawSnapshotFrames::None) => SnapshotFrames::None,
    };

    if let (Some(first), false) = (
        m.steps.first(),
        matches!(handshake, HandshakePlan::Accepted(_)),
    ) {
        cx.origin = first.origin;
        cx.error(pos(first.item), "steps", "steps need an accepted handshake")
            .help = Some("remove `steps`, or expect `handshake: accepted`".into());
    }
    if let Some(opts) = &m.reference_server
        && let Err(e) = opts.item.value.validate()
    {
        cx.origin = opts.origin;
        cx.error(
            pos(opts.item),
            "reference_server",
            format!("invalid reference server options: {e}"),
        );
    }
    if !cx.errors.is_empty() {
        return Err(cx.finish());
    }
    Ok(Plan {
        id: id.to_string(),
        file: file.to_path_buf(),
        source: source.clone(),
        name: raw.name.clone().unwrap_or_else(|| id.to_string()),
        description: raw.description.clone(),
        tags: m.tags,
        environments: raw
            .environments
            .as_ref()
            .map(|e| e.iter().map(|s| s.value.clone()).collect()),
        vars,
        auth,
        auth_pos,
        connect,
        closing,
        handshake,
        handshake_pos,
        setup,
        steps,
        teardown,
        secrets: cx.secrets.into_iter().collect(),
        overrides: Default::default(),
        redact: m.redact,
        ignore,
        unclaimed,
        snapshot_frames,
        reference_server: m.reference_server.map(|s| s.item.value.clone()),
        fragments: included.fragments.clone(),
    })
}

/// Where each variable is first defined in the merged document: `vars`, then the captures and
/// `set` steps of `setup`, `steps` and `teardown`, by field path in the file that defines it
/// (with that file's origin).
fn definitions(m: &Merged<'_>) -> BTreeMap<String, (u32, String)> {
    let mut out = BTreeMap::new();
    // Reserved names never become variables (their `vars` and `set` entries are errors).
    let reserved = |n: &String| RESERVED_NAMES.contains(&n.as_str());
    for v in &m.vars {
        let name = &v.item.0.value;
        if !reserved(name) {
            let at = format!("vars.{name}");
            out.entry(name.clone()).or_insert((v.origin, at));
        }
    }
    for (phase, steps) in [
        ("setup", &m.setup),
        ("steps", &m.steps),
        ("teardown", &m.teardown),
    ] {
        for step in steps {
            let (kind, names): (&str, Vec<String>) = match &step.item.value {
                RawStep::Set(v) => (
                    "set",
                    v.0.iter()
                        .map(|(n, _)| n.value.clone())
                        .filter(|n| !reserved(n))
                        .collect(),
                ),
                RawStep::Http(h) => ("http.capture", h.capture.keys().cloned().collect()),
                RawStep::Expect(e) => ("expect.capture", e.capture.keys().cloned().collect()),
                RawStep::ExpectSequence(m) => (
                    "expect_sequence.capture",
                    m.capture.keys().cloned().collect(),
                ),
                RawStep::ExpectUnordered(m) => (
                    "expect_unordered.capture",
                    m.capture.keys().cloned().collect(),
                ),
                RawStep::Send(_)
                | RawStep::ExpectNone(_)
                | RawStep::Close(_)
                | RawStep::ExpectClose(_) => continue,
            };
            for name in names {
                let at = format!("{phase}[{}].{kind}.{name}", step.index);
                out.entry(name).or_insert((step.origin, at));
            }
        }
    }
    out
}

/// `setup` and `teardown`: HTTP steps only.
fn phase_steps(cx: &mut Ctx<'_>, phase: &str, raw: &[Sourced<'_, S<RawStep>>]) -> Vec<StepPlan> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            cx.origin = s.origin;
            let local = s.index;
            let s = s.item;
            if !matches!(s.value, RawStep::Http(_)) {
                cx.error(
                    pos(s),
                    &format!("{phase}[{local}]"),
                    format!("only `http` steps may run in `{phase}`"),
                )
                .help = Some(if matches!(s.value, RawStep::Set(_)) {
                    "assign the variable in `vars` (evaluated before `setup`), or in a `set` step \
                     of `steps`"
                        .into()
                } else {
                    "move WebSocket steps to `steps`".into()
                });
            }
            StepPlan {
                index: i,
                pos: cx.at(pos(s)),
                kind: step_plan(cx, phase, local, s),
            }
        })
        .collect()
}

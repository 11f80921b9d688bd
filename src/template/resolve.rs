//! Where template expressions get their values: the [`Resolve`] trait and
//! [`MapResolver`], a map of captured variables plus an environment lookup
//! and the run id.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::pattern::json_path::Segment;

/// Supplies the values of template expressions.
pub trait Resolve {
    /// The value of variable `path` (`["auth", "token"]` for `auth.token`),
    /// or `None` when undefined.
    fn var(&self, path: &[String]) -> Option<Value>;
    /// The environment variable `name`, or `None` when unset.
    fn env(&self, name: &str) -> Option<String>;
    /// The id of the current scenario run.
    fn run_id(&self) -> String;
}

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The environment variables a [`MapResolver`] (and its clones) looked up, with their
/// values, not yet taken: the run's recorder takes them to redact them (`[env NAME]`)
/// before anything containing them is recorded.
#[derive(Clone, Default)]
pub struct EnvSeen(Arc<Mutex<Vec<(String, String)>>>);

impl fmt::Debug for EnvSeen {
    /// Prints nothing of the values: they may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvSeen").finish_non_exhaustive()
    }
}

impl EnvSeen {
    fn note(&self, name: &str, value: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.to_owned(), value.to_owned()));
    }

    /// The `(name, value)` pairs looked up since the last call.
    pub fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A [`Resolve`] backed by a map of variables (captures, `auth`, ...), an
/// environment lookup (the process environment unless replaced) and a run
/// id.
///
/// A variable path is looked up by its first segment, then walked into
/// objects and arrays (`items.0.id`); a key containing dots (`"auth.token"`)
/// is found too, the longest matching key winning.
#[derive(Clone)]
pub struct MapResolver {
    vars: BTreeMap<String, Value>,
    run_id: String,
    env: EnvLookup,
    seen: EnvSeen,
}

impl fmt::Debug for MapResolver {
    /// Prints variable names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResolver")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl MapResolver {
    /// An empty resolver reading the process environment.
    pub fn new(run_id: impl Into<String>) -> Self {
        MapResolver {
            vars: BTreeMap::new(),
            run_id: run_id.into(),
            env: Arc::new(|name| std::env::var(name).ok()),
            seen: EnvSeen::default(),
        }
    }

    /// Where the environment variables this resolver looks up are noted (shared by its
    /// clones), for the recorder to redact them.
    pub fn env_seen(&self) -> EnvSeen {
        self.seen.clone()
    }

    /// Replaces the environment lookup (e.g. a fixed map in tests).
    #[must_use]
    pub fn with_env(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// Defines (or redefines) variable `name`, returning the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        self.vars.insert(name.into(), value)
    }

    /// The top-level variable `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// All top-level variables.
    pub fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }
}

impl Resolve for MapResolver {
    fn var(&self, path: &[String]) -> Option<Value> {
        (1..=path.len()).rev().find_map(|split| {
            let key = path.get(..split)?.join(".");
            let root = self.vars.get(&key)?;
            path.get(split..)?
                .iter()
                .try_fold(root, |v, seg| Segment::new(seg.as_str()).get(v))
                .cloned()
        })
    }

    fn env(&self, name: &str) -> Option<String> {
        let value = (self.env)(name)?;
        self.seen.note(name, &value);
        Some(value)
    }

    fn run_id(&self) -> String {
        self.run_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_owned).collect()
    }

    fn resolver() -> MapResolver {
        let mut r =
            MapResolver::new("run-1").with_env(|n| (n == "HOME_X").then(|| "/x".to_owned()));
        r.insert("auth", json!({"token": "t0k", "user_id": 7}));
        r.insert("items", json!([{"id": "a"}, {"id": "b"}]));
        r.insert("flat.key", json!("flat"));
        r
    }

    #[test]
    fn notes_the_environment_variables_looked_up() {
        let r = resolver();
        let seen = r.env_seen();
        assert_eq!(r.env("HOME_X").as_deref(), Some("/x"));
        assert_eq!(r.clone().env("UNSET_X"), None);
        assert_eq!(seen.take(), [("HOME_X".to_owned(), "/x".to_owned())]);
        assert!(seen.take().is_empty());
    }

    #[test]
    fn walks_objects_and_arrays() {
        let r = resolver();
        assert_eq!(r.var(&path("auth.user_id")), Some(json!(7)));
        assert_eq!(r.var(&path("items.1.id")), Some(json!("b")));
        assert_eq!(
            r.var(&path("auth")),
            Some(json!({"token": "t0k", "user_id": 7}))
        );
        assert_eq!(r.var(&path("auth.missing")), None);
        assert_eq!(r.var(&path("nope")), None);
        assert_eq!(r.var(&[]), None);
    }

    #[test]
    fn dotted_keys_are_found() {
        assert_eq!(resolver().var(&path("flat.key")), Some(json!("flat")));
    }

    #[test]
    fn env_and_run_id() {
        let r = resolver();
        assert_eq!(r.env("HOME_X").as_deref(), Some("/x"));
        assert_eq!(r.env("OTHER"), None);
        assert_eq!(r.run_id(), "run-1");
    }

    #[test]
    fn debug_hides_values() {
        let text = format!("{:?}", resolver());
        assert!(text.contains("auth"));
        assert!(!text.contains("t0k"));
    }
}

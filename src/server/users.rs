//! The staging user table: seed users (inline or from a YAML/JSON file), users created by the
//! E2E bypass endpoint, removal, and the known-and-active check done before an upgrade.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use super::auth::Rejection;
use super::error::ServerError;
use crate::server_options::SeedUser;

/// Prefix of ids handed out by `POST /auth/e2e/test-auth`: `e2e-user-1`, `e2e-user-2`, ...
pub(super) const GENERATED_ID_PREFIX: &str = "e2e-user-";

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct User {
    /// Value of `sub`.
    pub id: String,
    /// Contact address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Inactive users are refused.
    pub active: bool,
}

#[derive(Default)]
struct Table {
    users: HashMap<String, User>,
    next: u64,
}

/// Thread-safe user table; one per server.
#[derive(Default)]
pub(super) struct UserStore {
    table: Mutex<Table>,
}

impl UserStore {
    /// A table holding `seed` (later duplicates of an id win).
    pub(super) fn new(seed: impl IntoIterator<Item = SeedUser>) -> Self {
        let users = seed
            .into_iter()
            .map(|u| {
                let user = User {
                    id: u.id,
                    email: u.email,
                    name: u.name,
                    active: u.active,
                };
                (user.id.clone(), user)
            })
            .collect();
        Self {
            table: Mutex::new(Table { users, next: 1 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ok when `id` is a known, active user.
    pub(super) fn check(&self, id: &str) -> Result<(), Rejection> {
        match self.lock().users.get(id) {
            None => Err(Rejection::UserNotFound),
            Some(u) if !u.active => Err(Rejection::UserInactive),
            Some(_) => Ok(()),
        }
    }

    /// Returns the user with `email`, creating `e2e-user-<n>` if there is none.
    /// The returned flag is true when the user was created by this call.
    pub(super) fn ensure(&self, email: &str, name: Option<&str>) -> (User, bool) {
        let mut table = self.lock();
        if let Some(existing) = table.users.values().find(|u| u.email == email) {
            return (existing.clone(), false);
        }
        let id = loop {
            let candidate = format!("{GENERATED_ID_PREFIX}{}", table.next);
            table.next += 1;
            if !table.users.contains_key(&candidate) {
                break candidate;
            }
        };
        let user = User {
            id: id.clone(),
            email: email.to_owned(),
            name: name.map(str::to_owned),
            active: true,
        };
        table.users.insert(id, user.clone());
        (user, true)
    }

    /// Removes `id`; false if it was not there.
    pub(super) fn remove(&self, id: &str) -> bool {
        self.lock().users.remove(id).is_some()
    }
}

/// Reads a list of users from a `.json` file (JSON) or any other file (YAML).
pub(super) fn load_users_file(path: &Path) -> Result<Vec<SeedUser>, ServerError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServerError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if is_json {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        serde_saphyr::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|message| ServerError::UsersFile {
        path: path.to_owned(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(id: &str, active: bool) -> SeedUser {
        SeedUser {
            id: id.into(),
            email: format!("{id}@example.test"),
            name: None,
            active,
        }
    }

    #[test]
    fn check_known_inactive_unknown() {
        let store = UserStore::new([seed("a", true), seed("b", false)]);
        assert_eq!(store.check("a"), Ok(()));
        assert_eq!(store.check("b"), Err(Rejection::UserInactive));
        assert_eq!(store.check("c"), Err(Rejection::UserNotFound));
    }

    #[test]
    fn ensure_is_idempotent_by_email_and_skips_taken_ids() {
        let store = UserStore::new([seed("e2e-user-1", true)]);
        let (first, created) = store.ensure("x@example.test", Some("X"));
        assert!(created);
        assert_eq!(first.id, "e2e-user-2");
        let (again, created) = store.ensure("x@example.test", None);
        assert!(!created);
        assert_eq!(again.id, first.id);
        assert!(store.remove(&first.id));
        assert!(!store.remove(&first.id));
        assert_eq!(store.check(&first.id), Err(Rejection::UserNotFound));
    }
}

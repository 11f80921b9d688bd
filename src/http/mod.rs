//! HTTP calls to the environment under test: `http` steps and the `exchange` strategy.

mod call;

pub(crate) use call::{HttpEnv, HttpError, pointer, send};

//! HTTP calls to the environment under test: `http` steps and the `exchange` strategy.

mod call;

pub use call::{HttpAnswer, HttpCall, HttpEnv, HttpError, pointer, send};

//! Scenario files: the raw YAML model with source spans, shared fragments they include,
//! templates, validation, the validated [`Plan`] that the rest of the pipeline executes, and
//! the JSON Schemas editors use ([`schema`]).

mod fragments;
mod lint;
mod load;
mod plan;
mod raw;
pub mod schema;
mod validate;
mod validate_auth;
mod validate_connect;
mod validate_steps;

pub use fragments::{FRAGMENT_DIR, Fragment};
pub use lint::warnings;
pub(crate) use load::parse_yaml;
pub use load::{load, parse, yaml_options};
pub use plan::{
    AcceptedExpectation, Assignment, AuthPlan, BearerSource, BinaryFrames, CREDENTIAL_HEADERS,
    CloseExpectation, ClosingPlan, ConnectPlan, DEFAULT_CLOSE_TIMEOUT, EventPlan, ExpectMany,
    ExpectOne, Fallback, HandshakePlan, HttpPlan, JwtAlgorithm, JwtPlan, KeySource, Mutation, Plan,
    SnapshotFrames, StepKind, StepPlan, Target, TokenPlacement, UnclaimedPolicy,
};

//! Reporting scenario results.

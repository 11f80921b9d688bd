//! Recording what was sent and received, with secrets redacted.

pub mod normalize;
pub mod redact;

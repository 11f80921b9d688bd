//! Recording what was sent and received, with secrets redacted.

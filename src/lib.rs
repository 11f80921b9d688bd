//! sockspec

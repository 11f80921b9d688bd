//! sockspec

pub mod report;
pub mod scenario;
pub mod steps;
pub mod transcript;

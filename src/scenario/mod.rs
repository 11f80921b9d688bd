//! Loading scenarios and rendering the templates inside them.

pub mod resolve;
pub mod template;
pub mod template_value;

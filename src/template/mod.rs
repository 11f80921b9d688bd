//! Owns the `{{ expr }}` template language, a foundation every stage may use: parsing
//! placeholders ([`Template`]), templates inside whole JSON values ([`parse_value`],
//! [`render_value`]) and the variables they resolve against ([`Resolve`], [`MapResolver`]).

mod expr;
mod resolve;
mod value;

pub(crate) use expr::is_ident;
pub use expr::{Expr, RenderError, Template, TemplateError};
pub use resolve::{EnvSeen, MapResolver, Resolve};
pub use value::{parse_value, render_value};

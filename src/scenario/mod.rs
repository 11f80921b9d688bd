//! Loading scenarios and rendering the templates inside them.

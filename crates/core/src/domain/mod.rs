//! The domain model: validated values, settings, and what the provider says about the
//! line. Domain types are not wire types: adapters convert at their edge.

pub mod line;
pub mod settings;
pub mod values;

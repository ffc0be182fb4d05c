//! Multivariate distributions (a non-empty `event_shape`).

pub mod dirichlet;

pub use dirichlet::Dirichlet;

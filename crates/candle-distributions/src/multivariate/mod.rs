//! Multivariate distributions (a non-empty `event_shape`).

pub mod dirichlet;
pub mod logistic_normal;

pub use dirichlet::Dirichlet;
pub use logistic_normal::LogisticNormal;

//! Continuous univariate distributions.

pub mod cauchy;
pub mod exponential;
pub mod gumbel;
pub mod half_cauchy;
pub mod half_normal;
pub mod laplace;
pub mod location_scale;
pub mod log_normal;
pub mod normal;
pub mod uniform;

pub use cauchy::Cauchy;
pub use exponential::Exponential;
pub use gumbel::Gumbel;
pub use half_cauchy::HalfCauchy;
pub use half_normal::HalfNormal;
pub use laplace::Laplace;
pub use location_scale::{
    CustomKind, Kind, LocScaleKind, LocationScale, Parameterization, ScaleKind, StandardForm,
};
pub use log_normal::LogNormal;
pub use normal::Normal;
pub use uniform::Uniform;

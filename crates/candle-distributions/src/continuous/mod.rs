//! Continuous univariate distributions.

pub mod beta;
pub mod cauchy;
pub mod chi2;
pub mod continuous_bernoulli;
pub mod exponential;
pub mod fisher_snedecor;
pub mod gamma;
pub mod generalized_pareto;
pub mod gumbel;
pub mod half_cauchy;
pub mod half_normal;
pub mod inverse_gamma;
pub mod kumaraswamy;
pub mod laplace;
pub mod location_scale;
pub mod log_normal;
pub mod normal;
pub mod pareto;
pub mod student_t;
pub mod tanh_normal;
pub mod truncated_normal;
pub mod uniform;
pub mod von_mises;
pub mod weibull;

pub use beta::Beta;
pub use cauchy::Cauchy;
pub use chi2::Chi2;
pub use continuous_bernoulli::ContinuousBernoulli;
pub use exponential::Exponential;
pub use fisher_snedecor::FisherSnedecor;
pub use gamma::Gamma;
pub use generalized_pareto::GeneralizedPareto;
pub use gumbel::Gumbel;
pub use half_cauchy::HalfCauchy;
pub use half_normal::HalfNormal;
pub use inverse_gamma::InverseGamma;
pub use kumaraswamy::Kumaraswamy;
pub use laplace::Laplace;
pub use location_scale::{
    CustomKind, Kind, LocScaleKind, LocationScale, Parameterization, ScaleKind, StandardForm,
};
pub use log_normal::LogNormal;
pub use normal::Normal;
pub use pareto::Pareto;
pub use student_t::StudentT;
pub use tanh_normal::TanhNormal;
pub use truncated_normal::TruncatedNormal;
pub use uniform::Uniform;
pub use von_mises::VonMises;
pub use weibull::Weibull;

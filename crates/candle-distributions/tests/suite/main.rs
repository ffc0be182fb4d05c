//! The integration tests of candle-distributions, as one test binary.
//!
//! Each file of this folder is a module named after what it tests; run one with
//! `cargo test -p candle-distributions --test suite MODULE::` (a name filter). One
//! binary instead of one per file: every test binary links candle statically, so ~50 of
//! them cost minutes of linking and a gigabyte of disk on CI. Tests that change
//! process-wide state (`set_default_validate_args`) keep a binary of their own
//! (`tests/validation_global.rs`).

mod beta_family_extremes;
mod biject_to;
mod common;
mod conformance;
mod conformance_binary;
mod conformance_categorical;
mod conformance_counts;
mod conformance_dirichlet;
mod conformance_logistic_normal;
mod conformance_pareto_weibull;
mod discrete_binary;
mod discrete_categorical;
mod discrete_counts;
mod draws_in_range;
mod estimators;
mod explicit_icdf;
mod extreme_parameters;
mod gamma_extremes;
mod gpd_and_uniform_extremes;
mod heavy_tail_extremes;
mod kl;
mod kl_discrete;
mod kl_monte_carlo;
mod location_scale_extremes;
mod moment_extremes;
mod nonfinite_sweep;
mod porting_guide;
mod properties;
mod rng;
mod rng_integers;
mod sampler_termination;
mod samplers;
mod samplers_implicit;
mod scalar_params;
mod seeded_init;
mod shapes_and_broadcast;
mod special;
mod special_beta;
mod special_gamma;
mod special_von_mises;
mod tanh_normal;
mod transform_edge_cases;
mod transform_properties;
mod transformed_and_independent;
mod transforms_elementwise;
mod transforms_structured;
mod truncated_normal_extremes;
mod truncated_normal_offsets;
mod validation;
mod value_promotion;
mod von_mises_extremes;

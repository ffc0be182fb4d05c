//! Error type of the crate.
//!
//! Every fallible function returns [`Result`]. User input (parameters, values, shapes)
//! never panics: it produces one of these variants, naming what was wrong.

use std::fmt;

/// Errors returned by distributions, transforms, the generator and special functions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A distribution parameter violates its constraint.
    #[error("{distribution}: parameter `{parameter}` must satisfy {constraint}, found {found} at index {index}")]
    InvalidParameter {
        /// The distribution ("Normal").
        distribution: &'static str,
        /// The parameter by its torch name ("scale").
        parameter: &'static str,
        /// The constraint in words ("positive (x > 0)").
        constraint: String,
        /// The first offending value.
        found: f64,
        /// Its flat (row-major) index in the broadcast parameter.
        index: usize,
    },
    /// A value passed to `log_prob`/`cdf`/`icdf` lies outside where the method is defined.
    #[error(
        "{distribution}: `{argument}` must satisfy {constraint}, found {found} at index {index}"
    )]
    OutOfSupport {
        /// The distribution.
        distribution: &'static str,
        /// The argument ("value", or "q" for `icdf`).
        argument: &'static str,
        /// The set the argument must belong to, in words.
        constraint: String,
        /// The first offending value.
        found: f64,
        /// Its flat (row-major) index.
        index: usize,
    },
    /// Shapes that cannot be broadcast or that do not match what a method needs.
    #[error("{context}: {message}")]
    Shape {
        /// Where it happened (a distribution or function name).
        context: String,
        /// What does not fit.
        message: String,
    },
    /// A tensor of a dtype the method does not handle (only f32 and f64 are supported).
    #[error("{context}: unsupported dtype {dtype:?} (expected f32 or f64)")]
    DType {
        /// Where it happened.
        context: String,
        /// The dtype found.
        dtype: candle_core::DType,
    },
    /// The method exists in the API but is not defined or not implemented for this
    /// distribution (for example `enumerate_support` of a continuous distribution).
    #[error("{distribution}: `{method}` is not implemented{}", reason_suffix(.reason))]
    NotImplemented {
        /// The distribution.
        distribution: &'static str,
        /// The method ("cdf").
        method: &'static str,
        /// Why, where there is more to say.
        reason: Option<String>,
    },
    /// Any other invalid argument (a bad sample shape, an unknown name, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// An error raised inside candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

fn reason_suffix(reason: &Option<String>) -> String {
    match reason {
        Some(r) => format!(": {r}"),
        None => String::new(),
    }
}

impl Error {
    /// Shorthand for [`Error::NotImplemented`] with no further reason.
    pub fn not_implemented(distribution: &'static str, method: &'static str) -> Self {
        Error::NotImplemented {
            distribution,
            method,
            reason: None,
        }
    }

    /// The same error reported for distribution `name`: a distribution built on
    /// another one (LogNormal on Normal, Chi2 on Gamma) passes the inner one's errors
    /// through this, so users read the name of the distribution they built.
    pub fn renamed(self, name: &'static str) -> Self {
        match self {
            Error::InvalidParameter {
                parameter,
                constraint,
                found,
                index,
                ..
            } => Error::InvalidParameter {
                distribution: name,
                parameter,
                constraint,
                found,
                index,
            },
            Error::OutOfSupport {
                argument,
                constraint,
                found,
                index,
                ..
            } => Error::OutOfSupport {
                distribution: name,
                argument,
                constraint,
                found,
                index,
            },
            Error::NotImplemented { method, reason, .. } => Error::NotImplemented {
                distribution: name,
                method,
                reason,
            },
            Error::Shape { message, .. } => Error::shape(name, message),
            Error::DType { context, dtype } => Error::DType {
                context: match context.split_once(": ") {
                    Some((_, rest)) => format!("{name}: {rest}"),
                    None => name.to_string(),
                },
                dtype,
            },
            other => other,
        }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(context: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Shape {
            context: context.to_string(),
            message: message.to_string(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Lets `?` carry this crate's errors out of candle callbacks (the backward passes of
/// custom ops return `candle_core::Result`): a wrapped candle error is unwrapped, any
/// other becomes a message.
impl From<Error> for candle_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Candle(c) => c,
            other => candle_core::Error::Msg(other.to_string()),
        }
    }
}

//! Measuring gradient estimators: mean, variance and standard error of each gradient
//! component over repeated draws.

use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Tensor, Var};

/// A gradient estimator under a name: a closure that, given the parameters and a
/// generator, builds a **surrogate** tensor whose mean is an estimate of the objective
/// and whose gradient (of that mean) is the estimator's estimate of the objective's
/// gradient: `rsample` then `f` (pathwise), [`score_function_surrogate`]
/// (REINFORCE, with or without a [`Baseline`]), `f` of a [`gumbel_softmax`] draw, ...
/// The closure is `FnMut`, so it may carry state across repetitions (a
/// [`MovingAverage`]).
///
/// [`score_function_surrogate`]: super::score_function_surrogate
/// [`Baseline`]: super::Baseline
/// [`MovingAverage`]: super::MovingAverage
/// [`gumbel_softmax`]: super::gumbel_softmax
pub struct NamedEstimator<'a> {
    name: String,
    build: Build<'a>,
}

/// The closure of a [`NamedEstimator`].
type Build<'a> = Box<dyn FnMut(&[Var], &mut Generator) -> Result<Tensor> + 'a>;

impl<'a> NamedEstimator<'a> {
    /// Wraps `build` under `name`.
    pub fn new(
        name: impl Into<String>,
        build: impl FnMut(&[Var], &mut Generator) -> Result<Tensor> + 'a,
    ) -> Self {
        NamedEstimator {
            name: name.into(),
            build: Box::new(build),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for NamedEstimator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedEstimator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What [`variance_probe`] measured for one estimator over `reps` repetitions. Gradient
/// components are the parameters' elements in order, each flattened row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientStats {
    /// The estimator's name.
    pub name: String,
    /// Number of repetitions.
    pub reps: usize,
    /// Mean over repetitions of the surrogate's mean (the objective estimate).
    pub objective: f64,
    /// Mean of each gradient component.
    pub mean: Vec<f64>,
    /// Sample variance (divisor `reps − 1`) of each gradient component: the variance of
    /// one estimate.
    pub variance: Vec<f64>,
    /// Standard error of each mean, `sqrt(variance / reps)`.
    pub std_error: Vec<f64>,
}

impl GradientStats {
    /// `mean − exact` per component; errors when the lengths differ.
    pub fn bias(&self, exact: &[f64]) -> Result<Vec<f64>> {
        if exact.len() != self.mean.len() {
            return Err(Error::InvalidArgument(format!(
                "GradientStats::bias: {} exact components for {} gradient components",
                exact.len(),
                self.mean.len()
            )));
        }
        Ok(self.mean.iter().zip(exact).map(|(m, e)| m - e).collect())
    }

    /// The largest `|mean − exact| / std_error` over the components (the number of
    /// standard errors by which the estimate misses; 0/0 counts as 0).
    pub fn max_abs_z(&self, exact: &[f64]) -> Result<f64> {
        Ok(self
            .bias(exact)?
            .iter()
            .zip(&self.std_error)
            .map(|(b, s)| if *b == 0.0 { 0.0 } else { (b / s).abs() })
            .fold(0.0, f64::max))
    }

    /// The sum of the component variances (the trace of the covariance): one number
    /// to rank estimators by.
    pub fn total_variance(&self) -> f64 {
        self.variance.iter().sum()
    }
}

/// Runs every estimator `reps` times and returns, per estimator (in order), the mean,
/// variance and standard error of each component of the gradient of the surrogate's
/// mean with respect to `params`.
///
/// Repetition `r` of every estimator draws from the generator `rng.fold_in(r)`, so all
/// estimators see the same random streams (common random numbers: differences between
/// them are not noise from different draws) and a result depends only on `rng`'s key,
/// never on the number of threads. A parameter the surrogate does not depend on gets a
/// zero gradient. Means and variances are accumulated in f64 (Welford's update).
///
/// Errors: `reps < 2`, no parameters, a surrogate with no elements, and a non-finite
/// objective or gradient (naming the estimator, the repetition and the component).
///
/// ```
/// use candle_core::{Device, Var};
/// use candle_distributions::estimators::{score_function_surrogate, variance_probe, NamedEstimator};
/// use candle_distributions::prelude::*;
/// // d/dloc E[x²] = 2·loc for x ~ Normal(loc, 1); loc = 1.
/// let loc = Var::new(1.0f64, &Device::Cpu)?;
/// let mut estimators = [
///     NamedEstimator::new("pathwise", |p: &[Var], rng: &mut Generator| {
///         let x = Normal::new(&p[0], 1.0)?.rsample(&[16], rng)?;
///         Ok(x.sqr()?)
///     }),
///     NamedEstimator::new("score", |p: &[Var], rng: &mut Generator| {
///         let d = Normal::new(&p[0], 1.0)?;
///         let x = d.sample(&[16], rng)?;
///         score_function_surrogate(&d.log_prob(&x)?, &x.sqr()?, None)
///     }),
/// ];
/// let stats = variance_probe(&[loc], &mut estimators, 400, &Generator::new(0))?;
/// for s in &stats {
///     assert!(s.max_abs_z(&[2.0])? < 4.0); // both unbiased
/// }
/// assert!(stats[0].variance[0] < stats[1].variance[0]); // pathwise: 4/16 vs 30/16
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn variance_probe(
    params: &[Var],
    estimators: &mut [NamedEstimator<'_>],
    reps: usize,
    rng: &Generator,
) -> Result<Vec<GradientStats>> {
    const NAME: &str = "variance_probe";
    if reps < 2 {
        return Err(Error::InvalidArgument(format!(
            "{NAME}: needs reps >= 2 to estimate a variance, found {reps}"
        )));
    }
    if params.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{NAME}: no parameters to differentiate"
        )));
    }
    let dim: usize = params.iter().map(|p| p.elem_count()).sum();
    let mut out = Vec::with_capacity(estimators.len());
    for est in estimators.iter_mut() {
        let mut mean = vec![0.0; dim];
        let mut m2 = vec![0.0; dim];
        let mut objective = 0.0;
        let mut grad = Vec::with_capacity(dim);
        for r in 0..reps {
            let mut stream = rng.fold_in(r as u64);
            let surrogate = (est.build)(params, &mut stream)?;
            if surrogate.elem_count() == 0 {
                return Err(Error::InvalidArgument(format!(
                    "{NAME}: estimator `{}` returned an empty surrogate",
                    est.name
                )));
            }
            let loss = surrogate.mean_all()?;
            let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            let grads = loss.backward()?;
            grad.clear();
            for p in params {
                match grads.get(p) {
                    Some(g) => grad.extend(crate::distribution::to_f64_vec(g)?),
                    None => grad.extend(std::iter::repeat_n(0.0, p.elem_count())),
                }
            }
            let bad = if value.is_finite() {
                grad.iter().position(|g| !g.is_finite())
            } else {
                Some(usize::MAX)
            };
            if let Some(i) = bad {
                let what = if i == usize::MAX {
                    format!("objective {value}")
                } else {
                    format!("gradient component {i} = {}", grad[i])
                };
                return Err(Error::InvalidArgument(format!(
                    "{NAME}: estimator `{}` gave a non-finite {what} in repetition {r}",
                    est.name
                )));
            }
            let n = (r + 1) as f64;
            objective += (value - objective) / n;
            for ((m, s), &g) in mean.iter_mut().zip(m2.iter_mut()).zip(&grad) {
                let delta = g - *m;
                *m += delta / n;
                *s += delta * (g - *m);
            }
        }
        let variance: Vec<f64> = m2.iter().map(|s| s / (reps - 1) as f64).collect();
        let std_error = variance.iter().map(|v| (v / reps as f64).sqrt()).collect();
        out.push(GradientStats {
            name: est.name.clone(),
            reps,
            objective,
            mean,
            variance,
            std_error,
        });
    }
    Ok(out)
}

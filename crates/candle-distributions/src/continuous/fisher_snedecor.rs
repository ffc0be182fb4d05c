//! The Fisher–Snedecor (F) distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::{standard_gamma_rsample, unit_bounds};
use crate::special::kernel::{apply3, apply3_pair, Map3};
use crate::special::scalar::betainc_grad_xy;
use crate::special::{beta::betainc_xy, digamma, lbeta, log1p};
use candle_core::{Device, Tensor};

/// The Fisher–Snedecor distribution F(`df1` d₁, `df2` d₂), d₁, d₂ > 0: the law of
/// (X₁/d₁)/(X₂/d₂) for independent X_i ~ χ²(d_i).
///
/// Density `p(x) = (d₁/d₂)^{d₁/2} x^{d₁/2 − 1} (1 + d₁x/d₂)^{−(d₁+d₂)/2} / B(d₁/2, d₂/2)`
/// on x > 0. Mean d₂/(d₂ − 2) for d₂ > 2, mode (d₁ − 2)/d₁ · d₂/(d₂ + 2) for d₁ > 2,
/// variance 2d₂²(d₁ + d₂ − 2)/(d₁(d₂ − 2)²(d₂ − 4)) for d₂ > 4 (NaN elsewhere, as
/// torch). `cdf` = I_{d₁x/(d₁x + d₂)}(d₁/2, d₂/2), differentiable in all arguments;
/// `entropy` in closed form (torch has none). `rsample` uses two Gamma draws with exact
/// implicit gradients.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, FisherSnedecor};
/// let d = FisherSnedecor::from_scalars(4.0, 6.0, &Device::Cpu)?;
/// assert!((d.mean()?.to_scalar::<f64>()? - 1.5).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FisherSnedecor {
    p: Params,
}

const NAME: &str = "FisherSnedecor";

impl FisherSnedecor {
    /// FisherSnedecor(df1, df2), broadcast against each other.
    pub fn new(df1: &Tensor, df2: &Tensor) -> Result<Self> {
        Self::build(df1, df2, None)
    }

    /// As [`FisherSnedecor::new`], with argument validation set for this instance.
    pub fn new_with_validation(df1: &Tensor, df2: &Tensor, validate: bool) -> Result<Self> {
        Self::build(df1, df2, Some(validate))
    }

    /// A scalar FisherSnedecor in f64.
    pub fn from_scalars(df1: f64, df2: f64, device: &Device) -> Result<Self> {
        Self::new(&Tensor::new(df1, device)?, &Tensor::new(df2, device)?)
    }

    fn build(df1: &Tensor, df2: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("df1", df1, Constraint::Positive),
                ("df2", df2, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(FisherSnedecor { p })
    }

    /// d₁, broadcast to `batch_shape`.
    pub fn df1(&self) -> &Tensor {
        self.p.get(0)
    }

    /// d₂, broadcast to `batch_shape`.
    pub fn df2(&self) -> &Tensor {
        self.p.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }
}

fn nan_unless(cond: Tensor, v: Tensor) -> Result<Tensor> {
    let nan = (v.ones_like()? * f64::NAN)?;
    Ok(cond.where_cond(&v, &nan)?)
}

impl Distribution for FisherSnedecor {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape);
        let d1 = self.df1().broadcast_as(shape.as_slice())?;
        let d2 = self.df2().broadcast_as(shape.as_slice())?;
        let g1 = standard_gamma_rsample(&(&d1 * 0.5)?, rng.next_draw())?;
        let g2 = standard_gamma_rsample(&(&d2 * 0.5)?, rng.next_draw())?;
        let x = ((g1 * d2)? / (g2 * d1)?)?;
        let (tiny, _) = unit_bounds(self.dtype());
        Ok(x.maximum(tiny)?)
    }

    // (d₁/2) ln(d₁/d₂) + (d₁/2 − 1) ln x − ((d₁+d₂)/2) log1p(d₁x/d₂) − ln B(d₁/2, d₂/2)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Positive)?;
        let (d1, d2) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        self.p.out(log_density(&x, &d1, &d2)?)
    }

    // I_z(d₁/2, d₂/2) with z = d₁x/(d₁x + d₂) and 1 − z = d₂/(d₁x + d₂) both formed
    // directly (z rounds to 1 in the far upper tail).
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Positive)?;
        let (d1, d2) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        let f = apply3(
            &x,
            &d1,
            &d2,
            Map3 {
                name: "fisher_snedecor_cdf",
                f: f_cdf,
                f32: f_cdf,
                bwd: Some(f_cdf_bwd),
            },
        )?;
        self.p.out(f)
    }

    // ln(d₂/d₁) + ln B(d₁/2, d₂/2) + (1 − d₁/2)ψ(d₁/2) − (1 + d₂/2)ψ(d₂/2)
    //   + ((d₁ + d₂)/2) ψ((d₁ + d₂)/2)
    fn entropy(&self) -> Result<Tensor> {
        let (d1, d2) = (self.p.w(0), self.p.w(1));
        let (h1, h2) = ((d1 * 0.5)?, (d2 * 0.5)?);
        let h = (&h1 + &h2)?;
        let t = ((d2 / d1)?.log()? + lbeta(&h1, &h2)?)?;
        let t = (t + ((1.0 - &h1)? * digamma(&h1)?)?)?;
        let t = (t - ((&h2 + 1.0)? * digamma(&h2)?)?)?;
        self.p.out((t + (&h * digamma(&h)?)?)?)
    }

    fn mean(&self) -> Result<Tensor> {
        let d2 = self.df2();
        nan_unless(d2.gt(2.0)?, (d2 / (d2 - 2.0)?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        let (d1, d2) = (self.df1(), self.df2());
        let m = (((d1 - 2.0)? / d1)? * (d2 / (d2 + 2.0)?)?)?;
        nan_unless(d1.gt(2.0)?, m)
    }

    fn variance(&self) -> Result<Tensor> {
        let (d1, d2) = (self.df1(), self.df2());
        let num = ((d2.sqr()? * 2.0)? * ((d1 + d2)? - 2.0)?)?;
        let den = ((d1 * (d2 - 2.0)?.sqr()?)? * (d2 - 4.0)?)?;
        nan_unless(d2.gt(4.0)?, (num / den)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = FisherSnedecor::build(&t[0], &t[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// The log density in tensor ops (differentiable in all three arguments).
fn log_density(x: &Tensor, d1: &Tensor, d2: &Tensor) -> Result<Tensor> {
    let (h1, h2) = ((d1 * 0.5)?, (d2 * 0.5)?);
    let r = (d1 / d2)?;
    let t = ((&h1 * r.log()?)? + ((&h1 - 1.0)? * x.log()?)?)?;
    let t = (t - ((&h1 + &h2)? * log1p(&(r * x)?)?)?)?;
    Ok((t - lbeta(&h1, &h2)?)?)
}

/// (z, 1 − z) = (d₁x, d₂)/(d₁x + d₂).
fn split(x: f64, d1: f64, d2: f64) -> (f64, f64) {
    let s = d1 * x + d2;
    (d1 * x / s, d2 / s)
}

fn f_cdf(x: f64, d1: f64, d2: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    let (z, w) = split(x, d1, d2);
    betainc_xy(0.5 * d1, 0.5 * d2, z, w)
}

/// (∂F/∂d₁, ∂F/∂d₂): with a = d₁/2, b = d₂/2, dz/dd₁ = zw/d₁ and dz/dd₂ = −zw/d₂.
fn f_cdf_ddf(x: f64, d1: f64, d2: f64) -> (f64, f64) {
    if !x.is_finite() || x <= 0.0 {
        return (0.0, 0.0);
    }
    let (z, w) = split(x, d1, d2);
    let (dz, da, db) = betainc_grad_xy(0.5 * d1, 0.5 * d2, z, w);
    let zw = z * w;
    (0.5 * da + dz * zw / d1, 0.5 * db - dz * zw / d2)
}

fn f_cdf_bwd(
    x: &Tensor,
    d1: &Tensor,
    d2: &Tensor,
    _f: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let pdf = log_density(x, d1, d2)?.exp()?;
    let (g1, g2) = apply3_pair(x, d1, d2, "fisher_snedecor_cdf_ddf", f_cdf_ddf, f_cdf_ddf)?;
    Ok((Some((g * pdf)?), Some((g * g1)?), Some((g * g2)?)))
}

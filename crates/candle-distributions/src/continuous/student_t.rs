//! Student's t distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::standard_gamma_rsample;
use crate::special::kernel::{apply2, Map2};
use crate::special::scalar::betainc_grad_xy;
use crate::special::{beta as sbeta, digamma, gamma as sgamma, lgamma, log1p};
use candle_core::{Device, Tensor};
use std::f64::consts::PI;

/// Student's t distribution with `df` ν > 0 degrees of freedom, location `loc` and
/// scale `scale` > 0.
///
/// Density `p(x) = Γ((ν+1)/2) / (Γ(ν/2) √(νπ) scale) · (1 + y²/ν)^{−(ν+1)/2}` with
/// y = (x − loc)/scale, on the real line. Mean loc for ν > 1 (NaN otherwise), mode
/// loc, variance scale²·ν/(ν − 2) for ν > 2, +∞ for 1 < ν ≤ 2, NaN for ν ≤ 1 (as
/// torch). `cdf` is ½·I_{ν/(ν+y²)}(ν/2, ½) (or its complement), differentiable in the
/// value and in all three parameters (torch has no StudentT cdf). `rsample` is
/// loc + scale·z·√(ν/(2G)) with z ~ N(0, 1) and G ~ Gamma(ν/2, 1) carrying the exact
/// implicit gradient, so dx/dν is exact.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, StudentT};
/// let d = StudentT::from_scalars(1.0, 0.0, 1.0, &Device::Cpu)?; // Cauchy
/// let c = d.cdf(&Tensor::new(1.0f64, &Device::Cpu)?)?.to_scalar::<f64>()?;
/// assert!((c - 0.75).abs() < 1e-14);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StudentT {
    p: Params,
}

const NAME: &str = "StudentT";

impl StudentT {
    /// StudentT(df, loc, scale), broadcast against each other.
    pub fn new(df: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Self> {
        Self::build(df, loc, scale, None)
    }

    /// As [`StudentT::new`], with argument validation set for this instance.
    pub fn new_with_validation(
        df: &Tensor,
        loc: &Tensor,
        scale: &Tensor,
        validate: bool,
    ) -> Result<Self> {
        Self::build(df, loc, scale, Some(validate))
    }

    /// A scalar StudentT in f64.
    pub fn from_scalars(df: f64, loc: f64, scale: f64, device: &Device) -> Result<Self> {
        Self::new(
            &Tensor::new(df, device)?,
            &Tensor::new(loc, device)?,
            &Tensor::new(scale, device)?,
        )
    }

    fn build(df: &Tensor, loc: &Tensor, scale: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("df", df, Constraint::Positive),
                ("loc", loc, Constraint::Real),
                ("scale", scale, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(StudentT { p })
    }

    /// ν, broadcast to `batch_shape`.
    pub fn df(&self) -> &Tensor {
        self.p.get(0)
    }

    /// The location, broadcast to `batch_shape`.
    pub fn loc(&self) -> &Tensor {
        self.p.get(1)
    }

    /// The scale, broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        self.p.get(2)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }
}

impl Distribution for StudentT {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape);
        let z = rng.standard_normal(&shape, self.dtype(), self.device())?;
        let df = self.df().broadcast_as(shape.as_slice())?;
        let g = standard_gamma_rsample(&(&df * 0.5)?, rng.next_draw())?;
        let y = (z * (df / (g * 2.0)?)?.sqrt()?)?;
        Ok(y.broadcast_mul(self.scale())?.broadcast_add(self.loc())?)
    }

    // −(ν+1)/2 · log1p(y²/ν) − ln scale − ½ ln(νπ) − ln Γ(ν/2) + ln Γ((ν+1)/2)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Real)?;
        let (df, loc, scale) = (
            self.p.w_at(0, &x)?,
            self.p.w_at(1, &x)?,
            self.p.w_at(2, &x)?,
        );
        let y = ((x - loc)? / &scale)?;
        self.p
            .out(standard_log_density(&y, &df)?.sub(&scale.log()?)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Real)?;
        let (df, loc, scale) = (
            self.p.w_at(0, &x)?,
            self.p.w_at(1, &x)?,
            self.p.w_at(2, &x)?,
        );
        let y = ((x - loc)? / scale)?;
        let f = apply2(
            &y,
            &df,
            Map2 {
                name: "student_t_cdf",
                f: t_cdf,
                f32: t_cdf,
                bwd: Some(t_cdf_bwd),
            },
        )?;
        self.p.out(f)
    }

    // ln scale + (ν+1)/2 (ψ((ν+1)/2) − ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½)
    fn entropy(&self) -> Result<Tensor> {
        let df = self.p.w(0);
        let h = (df * 0.5)?;
        let h1 = ((df + 1.0)? * 0.5)?;
        let lbeta = ((lgamma(&h)? + sgamma::lgamma(0.5))? - lgamma(&h1)?)?;
        let t = (&h1 * (digamma(&h1)? - digamma(&h)?)?)?;
        self.p
            .out((((self.p.w(2).log()? + t)? + (df.log()? * 0.5)?)? + lbeta)?)
    }

    fn mean(&self) -> Result<Tensor> {
        let nan = (self.loc().ones_like()? * f64::NAN)?;
        Ok(self.df().gt(1.0)?.where_cond(self.loc(), &nan)?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.loc().clone())
    }

    fn variance(&self) -> Result<Tensor> {
        let df = self.df();
        let v = ((self.scale().sqr()? * df)? / (df - 2.0)?)?;
        let inf = (v.ones_like()? * f64::INFINITY)?;
        let nan = (v.ones_like()? * f64::NAN)?;
        let v = df.gt(2.0)?.where_cond(&v, &inf)?;
        Ok(df.gt(1.0)?.where_cond(&v, &nan)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = StudentT::build(&t[0], &t[1], &t[2], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// ln of the standard t density at y: −(ν+1)/2 · log1p(y²/ν) − ½ ln(νπ) − ln Γ(ν/2)
/// + ln Γ((ν+1)/2), as differentiable tensor ops.
fn standard_log_density(y: &Tensor, df: &Tensor) -> Result<Tensor> {
    let h1 = ((df + 1.0)? * 0.5)?;
    let t = (log1p(&(y.sqr()? / df)?)? * &h1)?.neg()?;
    let norm = (((df * PI)?.log()? * 0.5)? + lgamma(&(df * 0.5)?)?)?;
    Ok(((t - norm)? + lgamma(&h1)?)?)
}

/// The standard t cdf F(y; ν) = ½ I_x(ν/2, ½) for y < 0 and 1 − ½ I_x(ν/2, ½) for
/// y > 0, with x = ν/(ν + y²) and 1 − x = y²/(ν + y²) both formed directly.
fn t_cdf(y: f64, df: f64) -> f64 {
    if y.is_nan() || df.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        return if y > 0.0 { 1.0 } else { 0.0 };
    }
    let (x, w) = split(y, df);
    let tail = 0.5 * sbeta::betainc_xy(0.5 * df, 0.5, x, w);
    if y > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// (ν/(ν + y²), y²/(ν + y²)), without forming 1 − x by subtraction.
fn split(y: f64, df: f64) -> (f64, f64) {
    let y2 = y * y;
    let d = df + y2;
    (df / d, y2 / d)
}

/// ∂F/∂ν of the standard t cdf: with I = I_x(ν/2, ½), x = ν/(ν + y²) and
/// w = 1 − x = y²/(ν + y²), dI/dν = ½ ∂I/∂a + (∂I/∂x)·x w/ν, and F = ½I (y < 0) or
/// 1 − ½I (y > 0). The partials come from [`betainc_grad_xy`], which never forms
/// 1 − x by subtraction (x rounds to 1 for |y| ≪ √ν).
fn t_cdf_dnu(y: f64, df: f64) -> f64 {
    if !y.is_finite() || y == 0.0 {
        return 0.0;
    }
    let (x, w) = split(y, df);
    let (dx_i, da_i, _) = betainc_grad_xy(0.5 * df, 0.5, x, w);
    let di = 0.5 * da_i + dx_i * x * w / df;
    if y > 0.0 {
        -0.5 * di
    } else {
        0.5 * di
    }
}

/// Gradients of the standard t cdf: the density in y, ∂F/∂ν in ν.
fn t_cdf_bwd(
    y: &Tensor,
    df: &Tensor,
    _f: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    let pdf = standard_log_density(y, df)?.exp()?;
    let dnu = apply2(
        y,
        df,
        Map2 {
            name: "student_t_cdf_dnu",
            f: t_cdf_dnu,
            f32: t_cdf_dnu,
            bwd: None,
        },
    )?;
    Ok((Some((g * pdf)?), Some((g * dnu)?)))
}

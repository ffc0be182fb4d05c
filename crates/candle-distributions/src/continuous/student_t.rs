//! Student's t distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::{finite_max, ln_gamma_grad, log_range, standard_gamma_ln_rsample};
use crate::special::beta::betainc_grad_xy;
use crate::special::kernel::{
    apply1, apply2, apply3, apply3_reducing, coef_buffers, grad_carrier, host_at, scaled_carrier,
    sum_ratio_to, unbroadcast, Map1, Map2, Map3, Scaling,
};
use crate::special::{beta as sbeta, finite_or, gamma as sgamma};
use candle_core::{DType, Tensor};
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
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, StudentT};
/// let d = StudentT::from_scalars(1.0, 0.0, 1.0, DType::F64, &Device::Cpu)?; // Cauchy
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
    crate::distribution::params_constructors! {
        /// StudentT(df, loc, scale), broadcast against each other. Parameters are tensors or
        /// numbers (dtype rules: [`distribution`](crate::distribution)).
        "StudentT", Self::build; df, loc, scale
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

    // The value as before from detached parameters; the pathwise gradients are
    // attached in closed form (`rsample_gradients`), so that the df-gradient, scale·t·∂h/∂ν
    // per draw, is summed over the draws before the multiplication by scale (at
    // scale = f64::MAX the per-draw terms overflow with both signs).
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let z = rng.standard_normal(&shape, self.dtype(), self.device())?;
        // y = z √(ν/(2G)) in f64 from ln G (see `standard_gamma_ln_rsample`): for small
        // ν, G underflows f32 and ν/(2G) overflows it.
        let df = self.p.w(0).detach().broadcast_as(shape.as_slice())?;
        let lg = standard_gamma_ln_rsample(&(&df * 0.5)?, rng.next_draw())?;
        let half_ln = ((df.log()? - &lg)? - std::f64::consts::LN_2)?.affine(0.5, 0.0)?;
        // scale·y = sign(z)·exp(L), L = ln|z| + ½ ln(ν/(2G)) + ln scale, with L capped
        // at ln f64::MAX before the exponential: for tiny ν the draw overflows.
        let z = z.to_dtype(DType::F64)?;
        let l = (z.abs()?.log()? + &half_ln)?.broadcast_add(&self.p.w(2).detach().log()?)?;
        let cap = log_range(DType::F64).1;
        let x = (z.sign()? * l.minimum(cap)?.exp()?)?.broadcast_add(&self.p.w(1).detach())?;
        let max = finite_max(self.dtype());
        let x = x.clamp(-max, max)?;
        let x = if self.tracks_gradients() {
            (&x + self.rsample_gradients(&x, &z, &lg, &l, cap, max)?)?
        } else {
            x
        };
        Ok(x.to_dtype(self.dtype())?)
    }

    // −(ν+1)/2 · log1p(y²/ν) − ln scale − ½ ln(νπ) − ln Γ(ν/2) + ln Γ((ν+1)/2)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Real)?;
        let (df, loc, scale) = (
            self.p.w_at(0, &x)?,
            self.p.w_at(1, &x)?,
            self.p.w_at(2, &x)?,
        );
        // ±∞ values: log density −∞ with zero gradients (not ∞ − ∞ in backward).
        if x.elem_count() == 0 {
            // No elements: the plain composition, which keeps the graph (and zero
            // gradients) for an empty batch; the reducing kernels below do not.
            let y = standardize(&x, &loc, &scale)?;
            return self
                .p
                .out_for(value, (standard_log_density(&y, &df)? - scale.log()?)?);
        }
        let (loc, scale) = (unbroadcast(&loc)?, unbroadcast(&scale)?);
        let lp = finite_or(&x, f64::NEG_INFINITY, |x| {
            let y = standardize_owned(x, &loc, &scale)?;
            let t = standard_log_density(&y, &df)?;
            Ok((t + neg_log_scale(&y.detach(), &df, &scale)?)?)
        })?;
        self.p.out_for(value, lp)
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
        self.p.out_for(value, f)
    }

    // ln scale + (ν+1)/2 (ψ((ν+1)/2) − ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½)
    fn entropy(&self) -> Result<Tensor> {
        let h = apply1(
            self.p.w(0),
            Map1 {
                name: "student_t_entropy",
                f: entropy_std,
                bwd: None,
            },
        )?;
        self.p.out(h.broadcast_add(&self.p.w(2).log()?)?)
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

/// z = (x − μ)/σ as one kernel, with gradients g/σ, −g/σ and −(g·z)/σ formed in
/// that order: the generic quotient rule −g·(x − μ)/σ² squares σ, which underflows
/// for σ < 1e-154 (0/0 = NaN at x = μ), and g/σ alone may overflow where g·z/σ
/// does not.
pub(crate) fn standardize(x: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    fn f(x: f64, loc: f64, scale: f64) -> f64 {
        (x - loc) / scale
    }
    fn bwd(
        _x: &Tensor,
        _loc: &Tensor,
        scale: &Tensor,
        z: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let gs = (g / scale)?;
        let gz = ((g * z)? / scale)?.neg()?;
        Ok((Some(gs.clone()), Some(gs.neg()?), Some(gz)))
    }
    apply3(
        x,
        loc,
        scale,
        Map3 {
            name: "standardize",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// z = (x − μ)/σ for `log_prob`, with μ and σ at their own (unbroadcast) shapes
/// ([`apply3_reducing`]): the gradients in x and μ are Σ g/σ summed over the
/// broadcast dimensions before the division ([`sum_ratio_to`]), since g/σ per
/// element overflows with both signs for a subnormal σ and the sum was ∞ − ∞. The
/// gradient in σ is left to [`neg_log_scale`], which forms it with the −ln σ term.
fn standardize_owned(x: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn f(x: f64, loc: f64, scale: f64) -> f64 {
        (x - loc) / scale
    }
    fn bwd(
        x: &Tensor,
        loc: &Tensor,
        scale: &Tensor,
        _z: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads> {
        let gx = sum_ratio_to(g, scale, x.dims())?;
        let gloc = sum_ratio_to(g, scale, loc.dims())?.neg()?;
        Ok((Some(gx), Some(gloc), None))
    }
    let name = "student_t_standardize";
    apply3_reducing(
        x,
        loc,
        scale,
        Map3 {
            name,
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// w = y²/(ν + y²) = u²/(1 + u²) with u = |y|/√ν, formed without overflow of y² or
/// of ν + y² (ν up to f64::MAX).
fn t_weight(y: f64, nu: f64) -> f64 {
    let u = y.abs() / nu.sqrt();
    if u <= 1.0 {
        u * u / (1.0 + u * u)
    } else {
        let r = 1.0 / u;
        1.0 / (1.0 + r * r)
    }
}

/// −ln σ at the shape of the standardized value y, carrying the whole σ-gradient of
/// `log_prob`: −Σ g·(1 + y·∂_y ln f(y; ν))/σ = −Σ g·(1 − (ν + 1)·y²/(ν + y²))/σ,
/// summed before the division. Split over two terms, −Σ g y ∂_y ln f/σ and −Σ g/σ
/// each overflow for a subnormal σ, with opposite signs (∞ − ∞). `y` must be
/// detached (its σ-dependence is accounted for here).
fn neg_log_scale(y: &Tensor, df: &Tensor, scale: &Tensor) -> Result<Tensor> {
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn f(_y: f64, _nu: f64, scale: f64) -> f64 {
        -scale.ln()
    }
    // 1 − (ν + 1) w with w = y²/(ν + y²) = u²/(1 + u²), u = |y|/√ν, formed without
    // overflow of y² or ν + 1 against ν (ν up to f64::MAX).
    fn term(y: f64, nu: f64) -> f64 {
        let w = t_weight(y, nu);
        1.0 - w - nu * w
    }
    fn bwd(
        y: &Tensor,
        nu: &Tensor,
        scale: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads> {
        let name = "student_t_scale_term";
        let t = apply2(
            y,
            nu,
            Map2 {
                name,
                f: term,
                f32: term,
                bwd: None,
            },
        )?;
        let gs = sum_ratio_to(&(g * t)?, scale, scale.dims())?.neg()?;
        Ok((None, None, Some(gs)))
    }
    let name = "student_t_neg_log_scale";
    apply3_reducing(
        y,
        df,
        scale,
        Map3 {
            name,
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// ln of the standard t density at y: −(ν+1)/2 · log1p(y²/ν) − ½ ln(νπ) − ln Γ(ν/2)
/// + ln Γ((ν+1)/2), as differentiable tensor ops.
fn standard_log_density(y: &Tensor, df: &Tensor) -> Result<Tensor> {
    let h1 = ((df + 1.0)? * 0.5)?;
    let t = (log1p_sq_ratio(y, df)? * &h1)?.neg()?;
    Ok((t + log_norm(df)?)?)
}

/// Above this ν the log-gamma differences take their asymptotic series.
const LARGE_NU: f64 = 50.0;
/// Below this ν, Γ(ν/2) = 2/ν to f64 precision (and ν/2 may underflow).
const TINY_NU: f64 = 1e-300;

/// c(ν) = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ), the log normalizer of the standard t.
/// For ν ≥ 50 from the series ln Γ(x + ½) − ln Γ(x) = ½ ln x − 1/(8x) + 1/(192x³)
/// − 1/(640x⁵) + 17/(14336x⁷) − 31/(18432x⁹) + O(x⁻¹¹) at x = ν/2 (the direct
/// difference cancels: both log-gammas grow like x ln x while c → −½ ln 2π, and they
/// overflow near f64::MAX); for ν < 1e-300 the limit ½ ln ν − ln 2 (ln Γ(ν/2) =
/// −ln(ν/2) + O(ν), and ν/2 may round to 0).
fn log_norm_s(nu: f64) -> f64 {
    if nu >= LARGE_NU {
        let x = 0.5 * nu;
        let r = 1.0 / (x * x);
        let series = (-1.0 / 8.0
            + r * (1.0 / 192.0 + r * (-1.0 / 640.0 + r * (17.0 / 14336.0 - r * 31.0 / 18432.0))))
            / x;
        -crate::special::scalar::HALF_LN_2PI + series
    } else if nu < TINY_NU {
        0.5 * nu.ln() - std::f64::consts::LN_2
    } else {
        sgamma::lgamma(0.5 * (nu + 1.0)) - sgamma::lgamma(0.5 * nu) - 0.5 * (nu * PI).ln()
    }
}

/// D(ν) = ψ((ν+1)/2) − ψ(ν/2), by the x-derivative of the series of [`log_norm_s`]
/// for ν ≥ 50: 1/(2x) + 1/(8x²) − 1/(64x⁴) + 1/(128x⁶) − 119/(14336x⁸) + 279/(18432x¹⁰).
fn digamma_gap(nu: f64) -> f64 {
    if nu >= LARGE_NU {
        let x = 0.5 * nu;
        let r = 1.0 / (x * x);
        0.5 / x
            + r * (1.0 / 8.0
                + r * (-1.0 / 64.0
                    + r * (1.0 / 128.0 + r * (-119.0 / 14336.0 + r * 279.0 / 18432.0))))
    } else {
        sgamma::digamma(0.5 * (nu + 1.0)) - sgamma::digamma(0.5 * nu)
    }
}

/// c′(ν) = ½ D(ν) − 1/(2ν); for ν < 1e-300 its limit 1/(2ν) − ln 2 (+∞ where that
/// overflows, as the true derivative does).
fn log_norm_dnu(nu: f64) -> f64 {
    if nu < TINY_NU {
        0.5 / nu - std::f64::consts::LN_2
    } else {
        0.5 * digamma_gap(nu) - 0.5 / nu
    }
}

/// [`log_norm_s`] as a differentiable kernel.
fn log_norm(df: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        let d = apply1(
            x,
            Map1 {
                name: "student_t_log_norm_dnu",
                f: log_norm_dnu,
                bwd: None,
            },
        )
        .map_err(candle_core::Error::wrap)?;
        g * d
    }
    apply1(
        df,
        Map1 {
            name: "student_t_log_norm",
            f: log_norm_s,
            bwd: Some(bwd),
        },
    )
}

/// The entropy of the standard t, (ν+1)/2·D(ν) − c(ν) (as ½ ln ν + ln B(ν/2, ½) =
/// −c(ν)). For ν < 1e-300: 1/ν + 1 − ½ ln ν + O(ν ln ν) from ψ(ν/2) = −2/ν − γ + O(ν)
/// (+∞ for subnormal ν, where 1/ν overflows); for ν → ∞ the series give the normal's
/// ½ + ½ ln 2π without the ∞ − ∞ of the log-gammas near f64::MAX.
fn entropy_std(nu: f64) -> f64 {
    if nu.is_nan() {
        return nu;
    }
    if nu < TINY_NU {
        return 1.0 / nu + 1.0 - 0.5 * nu.ln();
    }
    (0.5 * nu + 0.5) * digamma_gap(nu) - log_norm_s(nu)
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
    if df > 1e30 {
        // The normal limit: F − Φ = O(1/ν), below 1e-30 (the incomplete beta's
        // expansions break down for a = ν/2 near f64::MAX).
        return crate::special::scalar::ndtr(y);
    }
    if 0.5 * df == 0.0 {
        // ν/2 underflows (ν subnormal): I_x(ν/2, ½) → 1 for x > 0, so F → ½.
        return 0.5;
    }
    let (x, w) = split(y, df);
    let tail = 0.5 * sbeta::betainc_xy(0.5 * df, 0.5, x, w);
    if y > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// (ν/(ν + y²), y²/(ν + y²)), without forming 1 − x by subtraction, and without
/// overflow: for |y| > √ν both come from r = ν/y² = (√ν/|y|)² (y = ±MAX gives (0, 1),
/// where y² alone would be ∞ and ∞/∞ a NaN).
fn split(y: f64, df: f64) -> (f64, f64) {
    let s = df.sqrt();
    let a = y.abs();
    if a <= s {
        let y2 = y * y;
        let d = df + y2;
        (df / d, y2 / d)
    } else {
        let q = s / a;
        let r = q * q;
        (r / (1.0 + r), 1.0 / (1.0 + r))
    }
}

/// ln(1 + y²/ν) without overflow of y²/ν (|y| up to f64::MAX, ν down to the
/// subnormals): ln(1 + u²) with u = |y|/√ν, as 2 ln|y| − ln ν + ln(1 + 1/u²) where
/// u > 1e150 or u overflows. Gradients ∂/∂y = 2y/(ν + y²), ∂/∂ν = −(u²/(1 + u²))/ν,
/// also in forms that do not overflow.
fn log1p_sq_ratio(y: &Tensor, df: &Tensor) -> Result<Tensor> {
    fn f(y: f64, nu: f64) -> f64 {
        let a = y.abs();
        let u = a / nu.sqrt();
        if u < 1e150 {
            (u * u).ln_1p()
        } else {
            let r = 1.0 / u;
            2.0 * a.ln() - nu.ln() + (r * r).ln_1p()
        }
    }
    fn dy(y: f64, nu: f64) -> f64 {
        let u = y.abs() / nu.sqrt();
        if u <= 1.0 {
            2.0 * y / (nu + y * y)
        } else {
            let r = 1.0 / u;
            (2.0 / y) / (1.0 + r * r)
        }
    }
    fn dnu(y: f64, nu: f64) -> f64 {
        -t_weight(y, nu) / nu
    }
    fn bwd(
        y: &Tensor,
        nu: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let map = |name, f: fn(f64, f64) -> f64| {
            apply2(
                y,
                nu,
                Map2 {
                    name,
                    f,
                    f32: f,
                    bwd: None,
                },
            )
            .map_err(candle_core::Error::wrap)
        };
        let gy = (g * map("student_t_log1p_dy", dy)?)?;
        let gn = (g * map("student_t_log1p_dnu", dnu)?)?;
        Ok((Some(gy), Some(gn)))
    }
    apply2(
        y,
        df,
        Map2 {
            name: "student_t_log1p_sq_ratio",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// ∂F/∂ν of the standard t cdf: with I = I_x(ν/2, ½), x = ν/(ν + y²) and
/// w = 1 − x = y²/(ν + y²), dI/dν = ½ ∂I/∂a + (∂I/∂x)·x w/ν, and F = ½I (y < 0) or
/// 1 − ½I (y > 0). The partials come from [`betainc_grad_xy`], which never forms
/// 1 − x by subtraction (x rounds to 1 for |y| ≪ √ν).
fn t_cdf_dnu(y: f64, df: f64) -> f64 {
    if !y.is_finite() || y == 0.0 || df > 1e30 || 0.5 * df == 0.0 {
        // (ν > 1e30: ∂F/∂ν = O(1/ν²); ν/2 = 0: the limit ½ does not move)
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

impl StudentT {
    /// Whether any parameter is on an autograd graph.
    fn tracks_gradients(&self) -> bool {
        (0..3).any(|i| self.p.w(i).track_op())
    }

    /// Zero-valued terms carrying the pathwise gradients of draws x = loc + scale·t,
    /// t = sign(z)·e^{ln|z| + h}, h = ½(ln ν − ln G − ln 2), G ~ Gamma(ν/2) by implicit
    /// reparameterization: ∂x/∂loc = 1, ∂x/∂scale = t, ∂x/∂ν = scale·t·∂h/∂ν with
    /// ∂h/∂ν = ½(1/ν − ½ d ln G/dα) ([`ln_gamma_grad`]). Zero where the draw was capped
    /// (L at ln f64::MAX, or |x| past the dtype's largest number): there x does not move.
    fn rsample_gradients(
        &self,
        x: &Tensor,
        z: &Tensor,
        lg: &Tensor,
        l: &Tensor,
        cap: f64,
        max: f64,
    ) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let host = |t: &Tensor| host_at(t, &dims);
        let (xs, zs, lgs, ls, dfs) = (host(x)?, host(z)?, host(lg)?, host(l)?, host(self.p.w(0))?);
        let n = xs.len();
        let mut coef: [Vec<f64>; 3] = coef_buffers(n)?;
        for i in 0..n {
            let live = ls[i] < cap && xs[i].abs() < max;
            if !live {
                for c in coef.iter_mut() {
                    c.push(0.0);
                }
                continue;
            }
            let nu = dfs[i];
            // t from the same logarithms as the draw (without ln scale).
            let t = zs[i].signum()
                * (zs[i].abs().ln() + 0.5 * (nu.ln() - lgs[i] - std::f64::consts::LN_2)).exp();
            let dlg = ln_gamma_grad::<false>(0.5 * nu, lgs[i]);
            let dh = 0.5 * (1.0 / nu - 0.5 * dlg);
            coef[0].push(if t == 0.0 { 0.0 } else { t * dh });
            coef[1].push(1.0);
            coef[2].push(t);
        }
        let tensor = |c: Vec<f64>| Tensor::from_vec(c, dims.as_slice(), x.device());
        let [c_df, c_loc, c_scale] = coef;
        let scale = unbroadcast(&self.p.w(2).detach())?;
        let mut total = x.zeros_like()?.detach();
        let df = unbroadcast(self.p.w(0))?;
        if df.track_op() {
            total = (total + scaled_carrier(&tensor(c_df)?, Scaling::Multiply(&scale), &df)?)?;
        }
        let loc = self.p.w_at(1, x)?;
        if loc.track_op() {
            total = (total + grad_carrier(&tensor(c_loc)?, &loc)?)?;
        }
        let sc = self.p.w_at(2, x)?;
        if sc.track_op() {
            total = (total + grad_carrier(&tensor(c_scale)?, &sc)?)?;
        }
        Ok(total)
    }
}

//! The truncated normal distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::special::kernel::{
    apply2, apply3, coef_buffers, grad_carrier, host_at, scaled_carrier, Map2, Map3, Scaling,
};
use crate::special::log_ndtr_diff;
use crate::special::scalar::{
    clamp_total, gauss_legendre_32, half_sq_diff, log_mass_at, log_ndtr_diff as log_mass,
    log_ndtr_rel, ndtri_exp, window_anchor, HALF_LN_2PI,
};
use candle_core::{DType, Tensor};

type CResult<T> = candle_core::Result<T>;

/// The normal distribution N(`loc`, `scale`²) restricted to [`low`, `high`] (new: torch
/// has none).
///
/// Density `p(x) = φ(z) / (scale · Z)` for low ≤ x ≤ high, z = (x − loc)/scale,
/// Z = Φ(β) − Φ(α), α = (low − loc)/scale, β = (high − loc)/scale; `low` < `high`,
/// either may be infinite. Mean loc + scale (φ(α) − φ(β))/Z, variance
/// scale² [1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²], mode loc clamped into the
/// window, entropy ln(√(2πe) scale Z) + (αφ(α) − βφ(β))/(2Z).
///
/// Everything is computed in log space and, for windows in the upper half, on the
/// reflected tails, so windows far out in a tail (α = 30) keep full accuracy:
/// ln Z = ln(Φ(β) − Φ(α)) without cancellation, and `icdf`/`rsample` invert
/// ln Φ(z) = ln(Φ(α) + q Z) with a log-space normal quantile. `rsample` is the inverse
/// CDF of uniform noise, with exact pathwise gradients in all four parameters.
///
/// Masses are taken relative to the density at the window's point nearest `loc`
/// ([`crate::special::scalar::log_mass_at`]), so a window whose mass
/// underflows (ln Z = −∞, e.g. low = 1e300 with scale 1.5) still has an exact cdf,
/// quantile and log_prob. A window that collapses in f64 (α = β although low < high:
/// loc 1e308 away, or a width below an ulp of α) is its exact limit: the exponential
/// tail of rate |α|/scale from the bound nearer `loc`, or the uniform law. Known gap:
/// gradients (log_prob and rsample backward) for such collapsed windows are NaN.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, TruncatedNormal};
/// let dev = Device::Cpu;
/// let t = |v: f64| Tensor::new(v, &dev);
/// // a window 30 standard deviations out: still exact
/// let d = TruncatedNormal::new(&t(0.0)?, &t(1.0)?, &t(30.0)?, &t(31.0)?)?;
/// let x = d.sample(&[1000], &mut Generator::new(0))?.to_vec1::<f64>()?;
/// assert!(x.iter().all(|&v| (30.0..=31.0).contains(&v)));
/// let m = d.mean()?.to_scalar::<f64>()?; // ≈ 30 + 1/30
/// assert!((m - 30.033).abs() < 1e-3);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TruncatedNormal {
    p: Params,
    /// α and β, the standardized bounds (f64).
    a: Tensor,
    b: Tensor,
    /// ln Z (f64).
    log_z: Tensor,
    /// The window's anchor c (its point nearest 0, standardized), the same point in
    /// x units (low, high or loc), and the anchored log mass ln Z + c²/2 + ln√(2π)
    /// (f64, no gradients): `log_prob` as −(z² − c²)/2 − ln scale − that, finite for
    /// windows whose ln Z is −∞ or that collapsed to α = β in f64.
    anchor: Tensor,
    anchor_x: Tensor,
    log_m: Tensor,
    /// For windows collapsed in f64 (α = β): ln W, ln y and ln Λ, with W = high − low,
    /// Λ = |c|/scale the rate of the exponential tail there (x units), y = ΛW.
    collapse: (Tensor, Tensor, Tensor),
}

const NAME: &str = "TruncatedNormal";

impl TruncatedNormal {
    crate::distribution::params_constructors! {
        /// TruncatedNormal(loc, scale, low, high), broadcast against each other. Parameters are
        /// tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
        "TruncatedNormal", Self::build; loc, scale, low, high
    }

    fn build(
        loc: &Tensor,
        scale: &Tensor,
        low: &Tensor,
        high: &Tensor,
        validate: Option<bool>,
    ) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("loc", loc, Constraint::Real),
                ("scale", scale, Constraint::Positive),
                ("low", low, Constraint::Real),
                ("high", high, Constraint::Real),
            ],
            validate,
        )?;
        if p.validate() {
            // high > low, elementwise: a value of high − low that is not positive.
            let gap = (p.get(3) - p.get(2))?;
            if let Some((index, _)) = Constraint::Positive.check(&gap)? {
                let found = crate::constraints::host_f64(&p.get(3).flatten_all()?)?[index];
                return Err(Error::InvalidParameter {
                    distribution: NAME,
                    parameter: "high",
                    constraint: "greater than low".into(),
                    found,
                    index,
                });
            }
        }
        let a = standardize(p.w(2), p.w(0), p.w(1))?;
        let b = standardize(p.w(3), p.w(0), p.w(1))?;
        let log_z = log_ndtr_diff(&a, &b)?;
        let (anchor, anchor_x, log_m, collapse) = anchored_mass(&p, &a, &b)?;
        Ok(TruncatedNormal {
            p,
            a,
            b,
            log_z,
            anchor,
            anchor_x,
            log_m,
            collapse,
        })
    }

    /// The location of the untruncated normal.
    pub fn loc(&self) -> &Tensor {
        self.p.get(0)
    }

    /// The scale of the untruncated normal.
    pub fn scale(&self) -> &Tensor {
        self.p.get(1)
    }

    /// The lower bound.
    pub fn low(&self) -> &Tensor {
        self.p.get(2)
    }

    /// The upper bound.
    pub fn high(&self) -> &Tensor {
        self.p.get(3)
    }

    /// ln Z = ln(Φ(β) − Φ(α)), the log mass of the window under the untruncated normal.
    pub fn log_normalizer(&self) -> Result<Tensor> {
        self.p.out(self.log_z.clone())
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// The quantiles at f64 `q` (broadcast with the batch), in f64 and detached (the
    /// callers attach the implicit gradients of `rsample_gradients`). Each draw is the
    /// window's bound nearer loc plus an offset solved for directly
    /// ([`window_quantile`]), not loc + scale·z: z near a bound α = −1 + 1e-16 has an
    /// absolute error of an ulp of α, which is the whole spread of a window 1e-8 wide,
    /// or of a tail window at α = 1e4 (spread 1/α). With, per element, the pathwise
    /// derivatives [dx/dloc, dx/dscale, dx/dlow, dx/dhigh].
    fn quantile_parts(&self, q: &Tensor) -> Result<(Tensor, Vec<[f64; 4]>)> {
        let out = self.host_windows(q, window_quantile)?;
        let mut xs = crate::special::kernel::alloc_buffer::<f64>(NAME, out.len())?;
        let mut coefs = crate::special::kernel::alloc_buffer::<[f64; 4]>(NAME, out.len())?;
        for (i, &(x, k)) in out.iter().enumerate() {
            (xs[i], coefs[i]) = (x, k);
        }
        Ok((Tensor::from_vec(xs, q.dims(), q.device())?, coefs))
    }

    /// `f(window, v)` for each element of `v` (f64, broadcast with the batch), as an
    /// f64 tensor without gradients.
    fn map_windows(&self, v: &Tensor, f: fn(&Window, f64) -> f64) -> Result<Tensor> {
        let out = self.host_windows(v, f)?;
        Ok(Tensor::from_vec(out, v.dims(), v.device())?)
    }

    /// `f(window, v)` for each element of `v` (f64, broadcast with the batch), on the
    /// host, in parallel chunks.
    fn host_windows<U: Send + Default + Clone>(
        &self,
        q: &Tensor,
        f: fn(&Window, f64) -> U,
    ) -> Result<Vec<U>> {
        let dims = q.dims().to_vec();
        let host = |t: &Tensor| host_at(t, &dims);
        let (loc, s, low, high) = (
            host(self.p.w(0))?,
            host(self.p.w(1))?,
            host(self.p.w(2))?,
            host(self.p.w(3))?,
        );
        let (a, b) = (host(&self.a)?, host(&self.b)?);
        let (l_w, lt, l_rate) = (
            host(&self.collapse.0)?,
            host(&self.collapse.1)?,
            host(&self.collapse.2)?,
        );
        let qs = host(q)?;
        let out = crate::special::kernel::try_par_fill(NAME, qs.len(), |start, chunk| {
            for (k, o) in chunk.iter_mut().enumerate() {
                let i = start + k;
                let w = Window {
                    loc: loc[i],
                    scale: s[i],
                    low: low[i],
                    high: high[i],
                    a: a[i],
                    b: b[i],
                    collapse: (l_w[i], lt[i], l_rate[i]),
                };
                *o = f(&w, qs[i]);
            }
        })?;
        Ok(out)
    }

    /// Zero-valued terms carrying the gradients of F = `cdf(x)` (f64 values `f`): with
    /// p the density, ∂F/∂x = p(x), ∂F/∂low = −(1 − F) p(low), ∂F/∂high = −F p(high),
    /// and, F being a function of (x − loc)/scale and the standardized bounds,
    /// ∂F/∂loc = −(sum of those three) and ∂F/∂scale = −((x − loc)∂F/∂x +
    /// (low − loc)∂F/∂low + (high − loc)∂F/∂high)/scale, taken relative to a finite
    /// bound as in [`implicit_coefs`]. Zero outside the window.
    fn cdf_gradients(&self, x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let host = |t: &Tensor| host_at(t, &dims);
        let (lp_low, lp_high) = self.log_density_at_bounds()?;
        let lp_x = host(&self.log_density(x)?)?;
        let (xs, fs) = (host(x)?, host(f)?);
        let (loc, s, low, high) = (
            host(self.p.w(0))?,
            host(self.p.w(1))?,
            host(self.p.w(2))?,
            host(self.p.w(3))?,
        );
        let (pl, ph) = (host(&lp_low)?, host(&lp_high)?);
        let term = |c: f64, d: f64| if c == 0.0 { 0.0 } else { c * d };
        let n = xs.len();
        let mut coef: [Vec<f64>; 5] = coef_buffers(n)?;
        for i in 0..n {
            let (x, f, lo, hi) = (xs[i], fs[i], low[i], high[i]);
            let k = if x > lo && x < hi {
                let dx = lp_x[i].exp();
                let dl = -density_ratio((1.0 - f).ln(), pl[i]);
                let dh = -density_ratio(f.ln(), ph[i]);
                let sum = dx + dl + dh;
                let r = if lo.is_finite() {
                    lo
                } else if hi.is_finite() {
                    hi
                } else {
                    loc[i]
                };
                let num =
                    term(dx, x - r) + term(dl, lo - r) + term(dh, hi - r) + term(sum, r - loc[i]);
                let ds = if num == 0.0 { 0.0 } else { -num / s[i] };
                [-sum, ds, dl, dh, dx]
            } else {
                [0.0; 5]
            };
            for (c, v) in coef.iter_mut().zip(k) {
                c.push(v);
            }
        }
        let mut total = x.zeros_like()?.detach();
        for (k, c) in coef.into_iter().enumerate() {
            let theta = if k < 4 { self.p.w_at(k, x)? } else { x.clone() };
            if theta.track_op() {
                let c = Tensor::from_vec(c, dims.as_slice(), x.device())?;
                total = (total + grad_carrier(&c, &theta)?)?;
            }
        }
        Ok(total)
    }

    /// `regular` where the window is resolved in f64, else `pick` of
    /// [`collapsed_moments`] (in x units via `to_x`), detached.
    fn or_collapsed(
        &self,
        regular: Tensor,
        pick: fn(f64, f64, f64) -> f64,
        to_x: impl Fn(Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let collapsed = collapsed_mask(&self.a, &self.b)?;
        let v = apply3(
            &self.collapse.0,
            &self.collapse.1,
            &self.collapse.2,
            Map3 {
                name: "truncated_normal_collapsed",
                f: pick,
                f32: pick,
                bwd: None,
            },
        )?;
        let v = to_x(v)?.detach();
        let v = crate::distribution::broadcast_to(&v, regular.dims())?;
        let c = crate::distribution::broadcast_to(&collapsed, regular.dims())?;
        Ok(c.where_cond(&v, &regular)?)
    }

    /// φ(t)/Z and t·φ(t)/Z for a standardized bound t (0 at infinite t).
    fn phi_terms(&self, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let r = (t.sqr()?.affine(-0.5, -HALF_LN_2PI)? - &self.log_z)?.exp()?;
        let finite = t.abs()?.lt(f64::INFINITY)?;
        let zero = r.zeros_like()?;
        let r = finite.where_cond(&r, &zero)?;
        let tr = finite.where_cond(&(t * &r)?, &zero)?;
        Ok((r, tr))
    }

    /// Whether any parameter is on an autograd graph (else the gradient carriers of
    /// `log_prob`/`rsample` are skipped).
    fn tracks_gradients(&self) -> bool {
        (0..4).any(|i| self.p.w(i).track_op())
    }

    /// The log density at f64 values `x` (already broadcast with the batch), detached:
    /// −(z² − c²)/2 − ln scale − (anchored mass), with z − c taken from x − (the
    /// anchor in x units), so a window whose ln Z is −∞ or that collapsed in f64 keeps
    /// its exact value and slope.
    fn log_density(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.detach();
        let dims = x.dims().to_vec();
        let at = |t: &Tensor| crate::distribution::broadcast_to(&t.detach(), &dims);
        let scale = at(self.p.w(1))?;
        let zd = apply3(
            &x,
            &at(self.p.w(0))?,
            &scale,
            Map3 {
                name: "truncated_normal_standardize_value",
                f: std_diff,
                f32: std_diff,
                bwd: None,
            },
        )?;
        let d = ((&x - at(&self.anchor_x)?)? / &scale)?;
        let half_sum = ((&zd * 0.5)? + (at(&self.anchor)? * 0.5)?)?;
        let q = d.eq(0.0)?.where_cond(&d.zeros_like()?, &(&d * half_sum)?)?;
        Ok(((q.neg()? - scale.log()?)? - at(&self.log_m)?)?)
    }

    /// The log densities at the two bounds (batch shape, detached; −∞ at an infinite
    /// bound).
    fn log_density_at_bounds(&self) -> Result<(Tensor, Tensor)> {
        Ok((
            self.log_density(self.p.w(2))?,
            self.log_density(self.p.w(3))?,
        ))
    }

    /// Zero-valued terms carrying the gradients of `log_prob` at `x` (f64, broadcast):
    /// with E and Var the mean and variance of the truncated law, p its density,
    /// ∂ ln p(x)/∂loc = (x − E)/scale², ∂/∂scale = ((x − loc)² − E[(X − loc)²])/scale³
    /// = ((x − E)(x + E − 2 loc) − Var)/scale³, ∂/∂low = p(low), ∂/∂high = −p(high)
    /// (the normalizer's derivatives are the expectations of the unnormalized log
    /// density's), and ∂/∂x = −(x − loc)/scale². These are finite wherever E and Var
    /// are, also for windows collapsed in f64, where the chain through the
    /// standardized bounds is ∞ − ∞. Gradients are summed over the draws before the
    /// division by scale ([`scaled_carrier`]): at scale = 5e-324 each term overflows.
    fn log_prob_gradients(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let host = |t: &Tensor| host_at(t, &dims);
        let (lp_low, lp_high) = self.log_density_at_bounds()?;
        let (xs, loc, s) = (host(x)?, host(self.p.w(0))?, host(self.p.w(1))?);
        let (e, var) = (host(&self.mean_wide()?)?, host(&self.variance_wide()?)?);
        let (sa, sb) = (host(&self.a)?, host(&self.b)?);
        let (pl, ph) = (host(&lp_low)?, host(&lp_high)?);
        // Numerators over scale for loc, scale and x (the common 1/scale comes out of
        // the sums, see `scaled_carrier`), plain coefficients for the bounds.
        let n = xs.len();
        let mut coef: [Vec<f64>; 5] = coef_buffers(n)?;
        for i in 0..n {
            let (x, loc, s, e) = (xs[i], loc[i], s[i], e[i]);
            // (E − loc)/scale, from the standardized window where E overflows
            // (loc = scale = MAX).
            let mz = if e.is_finite() {
                std_diff(e, loc, s)
            } else {
                standard_mean(sa[i], sb[i])
            };
            let a = if x == e {
                0.0
            } else if e.is_finite() {
                std_diff(x, e, s)
            } else {
                std_diff(x, loc, s) - mz
            };
            // a·(x + E − 2 loc)/scale as two products: the sum may overflow
            // (loc = −MAX) where each quotient is of order one.
            let ab = if a == 0.0 {
                0.0
            } else {
                a * std_diff(x, loc, s) + a * mz
            };
            coef[0].push(a);
            // Var/scale², from the standardized window where Var overflows
            // (scale = MAX).
            let v = if var[i].is_finite() {
                var[i] / s / s
            } else {
                standard_sd(sa[i], sb[i]).powi(2)
            };
            coef[1].push(ab - v);
            coef[2].push(pl[i].exp());
            coef[3].push(-ph[i].exp());
            coef[4].push(if x == loc { 0.0 } else { -std_diff(x, loc, s) });
        }
        let scale = crate::special::kernel::unbroadcast(&self.p.w(1).detach())?;
        let mut total = x.zeros_like()?.detach();
        for (k, c) in coef.into_iter().enumerate() {
            let theta = if k < 4 {
                crate::special::kernel::unbroadcast(self.p.w(k))?
            } else {
                x.clone()
            };
            if !theta.track_op() {
                continue;
            }
            let c = Tensor::from_vec(c, dims.as_slice(), x.device())?;
            let term = match k {
                2 | 3 => scaled_carrier(&c, Scaling::None, &theta)?,
                _ => scaled_carrier(&c, Scaling::Divide(&scale), &theta)?,
            };
            total = (total + term)?;
        }
        Ok(total)
    }

    /// Zero-valued terms carrying the pathwise gradients of draws `x` (f64, detached):
    /// `coefs` holds [dx/dloc, dx/dscale, dx/dlow, dx/dhigh] per element, from
    /// [`window_quantile`]. From F(x; θ) = u, dx/dθ = −(∂F/∂θ)/p(x) with
    /// ∂F/∂low = −(1 − F) p(low) and ∂F/∂high = −F p(high): dx/dlow = c_l =
    /// (1 − u) p(low)/p(x), dx/dhigh = c_h = u p(high)/p(x), and, the law being a
    /// location-scale family in (loc, scale) with the bounds moving along,
    /// dx/dloc = 1 − c_l − c_h, dx/dscale = ((x − loc) − c_l (low − loc) −
    /// c_h (high − loc))/scale.
    fn rsample_gradients(&self, x: &Tensor, coefs: &[[f64; 4]]) -> Result<Tensor> {
        let mut total = x.zeros_like()?;
        for k in 0..4 {
            let theta = self.p.w_at(k, x)?;
            if theta.track_op() {
                let c: Vec<f64> = coefs.iter().map(|c| c[k]).collect();
                let c = Tensor::from_vec(c, x.dims(), x.device())?;
                total = (total + grad_carrier(&c, &theta)?)?;
            }
        }
        Ok(total)
    }
}

/// e^{ln w + ln ratio}, 0 where that is NaN (−∞ + ∞: an infinite bound's zero density
/// against a vanishing one).
fn density_ratio(ln_w: f64, ln_ratio: f64) -> f64 {
    let e = ln_w + ln_ratio;
    if e.is_nan() {
        0.0
    } else {
        e.exp()
    }
}

/// (c, c in x units, ln Z + c²/2 + ln√(2π)) for the [`TruncatedNormal`] fields, all
/// detached. Where the window collapsed in f64 (α = β although low < high: loc 1e16
/// scales away, or both overflowed) the normal is an exponential tail there of rate
/// |c| per standard unit, and the anchored mass is ∫₀^w e^{−|c|u} du =
/// (1 − e^{−|c|w})/|c| (relative error 1/c², c ≥ 1e16 here) with the width
/// w = (high − low)/scale and ln|c| from the raw parameters (|c| itself may overflow).
type Anchored = (Tensor, Tensor, Tensor, (Tensor, Tensor, Tensor));

fn anchored_mass(p: &Params, a: &Tensor, b: &Tensor) -> Result<Anchored> {
    let (a, b) = (a.detach(), b.detach());
    let (loc, scale, low, high) = (p.w(0), p.w(1), p.w(2), p.w(3));
    let c = apply2(
        &a,
        &b,
        Map2 {
            name: "truncated_normal_anchor",
            f: window_anchor,
            f32: window_anchor,
            bwd: None,
        },
    )?;
    let shape = c.dims().to_vec();
    let bc = |t: &Tensor| crate::distribution::broadcast_to(&t.detach(), &shape);
    let (loc, scale, low, high) = (bc(loc)?, bc(scale)?, bc(low)?, bc(high)?);
    // A collapsed window around loc (c = 0) is uniform: measured from low.
    let collapsed = collapsed_mask(&a, &b)?;
    let centre = collapsed.where_cond(&low, &loc)?;
    let cx = c
        .gt(0.0)?
        .where_cond(&low, &c.lt(0.0)?.where_cond(&high, &centre)?)?;
    fn ln_abs_diff(x: f64, y: f64) -> f64 {
        let d = x - y;
        if d.is_finite() {
            d.abs().ln()
        } else {
            (0.5 * x - 0.5 * y).abs().ln() + std::f64::consts::LN_2
        }
    }
    let ln_scale = scale.log()?;
    let map2 = |x: &Tensor, y: &Tensor, name: &'static str, f: fn(f64, f64) -> f64| {
        apply2(
            x,
            y,
            Map2 {
                name,
                f,
                f32: f,
                bwd: None,
            },
        )
    };
    // ln W (x units), ln Λ = ln(|c|/scale) the tail's rate in x units, t = ln(ΛW).
    let l_w = map2(&high, &low, "truncated_normal_ln_w", ln_abs_diff)?;
    let l_rate =
        ((map2(&cx, &loc, "truncated_normal_ln_c", ln_abs_diff)? - &ln_scale)? - &ln_scale)?;
    let lt = (&l_rate + &l_w)?;
    // The standardized width from the raw bounds: b − a has lost the digits of a
    // window 1e-8 wide at α = −1.
    let width = ((&high - &low)? / &scale)?;
    let m = apply3(
        &a,
        &b,
        &width,
        Map3 {
            name: "truncated_normal_anchored_mass",
            f: anchored_log_mass,
            f32: anchored_log_mass,
            bwd: None,
        },
    )?;
    // Collapsed: ln ∫₀^w e^{−|c|u} du in standardized units = ln(W·(1 − e^{−y})/y) −
    // ln scale, written through ln W for small y (the uniform limit, c may be 0) and
    // through ln Λ for large y (W may overflow).
    fn collapsed_mass(l_w: f64, t: f64, l_rate: f64) -> f64 {
        if t > 0.0 {
            (-(-t.exp()).exp_m1()).ln() - l_rate
        } else {
            l_w + collapsed_g(t)
        }
    }
    let mc = (apply3(
        &l_w,
        &lt,
        &l_rate,
        Map3 {
            name: "truncated_normal_collapsed_mass",
            f: collapsed_mass,
            f32: collapsed_mass,
            bwd: None,
        },
    )? - &ln_scale)?;
    let m = collapsed.where_cond(&mc, &m)?;
    Ok((c, cx, m, (l_w, lt, l_rate)))
}

/// ln ∫ over the window [α, β] of e^{−(z² − c²)/2} dz, c the window's anchor: the
/// log mass relative to the density at the anchor, by the same regimes as
/// [`window_fraction`] (so that log_prob and cdf agree to rounding): tail windows
/// (|c| ≥ 1) by [`tail_integral`], narrow ones (width ≤ 1) by [`narrow_mass`] from
/// low, the rest by [`log_mass_at`]. `width` is (high − low)/scale (b − a if that
/// is not finite).
fn anchored_log_mass(a: f64, b: f64, width: f64) -> f64 {
    if a.is_nan() || b.is_nan() || a > b {
        return f64::NAN;
    }
    let width = if width.is_finite() { width } else { b - a };
    let c = window_anchor(a, b);
    let beta = c.abs();
    if beta >= 1.0 {
        let k = 0.5 / (beta * beta);
        return (tail_integral(k, beta * width) / beta).ln();
    }
    if width <= 1.0 {
        // From low, relative to the density at low: e^{−(a² − c²)/2} to the anchor's.
        return narrow_mass(a, 0.0, width).ln() - half_sq_diff(a, c);
    }
    log_mass_at(a, b, c)
}

/// ln((1 − e^{−y})/y) for y = e^t (0 at y → 0, the uniform limit).
fn collapsed_g(t: f64) -> f64 {
    let y = t.exp();
    if y < 1e-300 {
        return 0.0;
    }
    (-(-y).exp_m1()).ln() - t
}

/// (mean offset from the anchor bound, variance, entropy) of an exponential of rate Λ
/// truncated to [0, W] (x units), from ln W, t = ln(ΛW) and ln Λ: the normal on a
/// window collapsed in f64. Scaled by W for small y = ΛW (uniform limit; Λ may be 0),
/// by 1/Λ for large y (W may overflow); series in y where the closed forms cancel.
fn collapsed_moments(l_w: f64, t: f64, l_rate: f64) -> (f64, f64, f64) {
    let y = t.exp();
    if y < 1e-2 {
        // 1/y − 1/(e^y − 1) = 1/2 − y/12 + y³/720 − …,
        // 1/y² − e^y/(e^y − 1)² = 1/12 − y²/240 + y⁴/6048 − …,
        // y/(e^y − 1) = 1 − y/2 + y²/12 − y⁴/720 + …
        let (w, y2) = (l_w.exp(), y * y);
        let m = 0.5 - y / 12.0 + y * y2 / 720.0;
        let v = 1.0 / 12.0 - y2 / 240.0 + y2 * y2 / 6048.0;
        let r = 1.0 - y / 2.0 + y2 / 12.0 - y2 * y2 / 720.0;
        // (w·m, (w·v)·w): W² alone may underflow where the variance does not
        return (w * m, w * v * w, l_w + collapsed_g(t) + 1.0 - r);
    }
    let inv = (-l_rate).exp();
    let em = y.exp_m1();
    // y/(e^y − 1) and y²e^y/(e^y − 1)², 0 once e^y overflows.
    let (r, r2) = if em.is_finite() {
        let q = y / em;
        (q, q * q * (em + 1.0))
    } else {
        (0.0, 0.0)
    };
    let h = (-(-y).exp_m1()).ln() - l_rate + 1.0 - r;
    (inv * (1.0 - r), inv * (1.0 - r2) * inv, h)
}

/// Zero-valued, with the gradient of `t` where `t` is finite: the closed forms carry
/// the gradients of values computed another way (`t − t.detach()`), but where they
/// over- or underflow to ±∞/NaN that difference is NaN, so there they carry nothing.
fn grad_only(t: &Tensor) -> Result<Tensor> {
    let finite = t.abs()?.lt(f64::INFINITY)?;
    let t = finite.where_cond(t, &t.zeros_like()?)?;
    Ok((&t - t.detach())?)
}

/// (t − loc)/scale, as t/scale − loc/scale where t − loc overflows although both are
/// finite (t = −MAX, loc = 1e300: the standardized bound is −1.0000000056, not −∞).
fn std_diff(t: f64, loc: f64, scale: f64) -> f64 {
    let d = t - loc;
    if d.is_finite() || !t.is_finite() || !loc.is_finite() {
        d / scale
    } else {
        t / scale - loc / scale
    }
}

/// (bound − loc)/scale, with zero gradients where the bound is infinite (there the
/// standardized bound is ±∞ whatever loc and scale are).
fn standardize(bound: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    let f = std_diff;
    fn bwd(
        _t: &Tensor,
        _loc: &Tensor,
        scale: &Tensor,
        z: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let finite = z.abs()?.lt(f64::INFINITY)?;
        let zero = z.zeros_like()?;
        let g = finite.where_cond(g, &zero)?;
        let z = finite.where_cond(z, &zero)?;
        let gs = (g / scale)?;
        Ok((Some(gs.clone()), Some(gs.neg()?), Some((gs * z)?.neg()?)))
    }
    apply3(
        bound,
        loc,
        scale,
        Map3 {
            name: "truncated_normal_standardize",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// One element's window, for [`window_quantile`].
struct Window {
    loc: f64,
    scale: f64,
    low: f64,
    high: f64,
    /// The standardized bounds α, β.
    a: f64,
    b: f64,
    /// ln W, ln(ΛW), ln Λ of a window collapsed in f64 (see [`anchored_mass`]).
    collapse: (f64, f64, f64),
}

/// How [`window_quantile`] and [`window_cdf`] measure a window: from low (`up`) or
/// from high, the bound's standardized distance β from loc (negative for a window
/// around loc, measured from low), the standardized width, and, for windows that are
/// the exponential law to rounding (collapsed in f64, or β ≥ 1e8), its (ln W, ln ΛW,
/// ln Λ) in x units.
struct Frame {
    up: bool,
    beta: f64,
    width: f64,
    exponential: Option<(f64, f64, f64)>,
}

impl Window {
    fn frame(&self) -> Frame {
        let (a, b) = (self.a, self.b);
        let c = window_anchor(a, b);
        let (up, beta) = if c > 0.0 {
            (true, c)
        } else if c < 0.0 {
            (false, -c)
        } else {
            (true, a)
        };
        let width = {
            let d = (self.high - self.low) / self.scale;
            if d.is_finite() {
                d
            } else {
                b - a
            }
        };
        let exponential = if is_collapsed(a, b) {
            Some(self.collapse)
        } else if beta >= 1e8 {
            let l_w = (self.high - self.low).ln();
            let l_rate = beta.ln() - self.scale.ln();
            Some((l_w, l_w + l_rate, l_rate))
        } else {
            None
        };
        Frame {
            up,
            beta,
            width,
            exponential,
        }
    }
}

/// Windows narrower than this in standardized units are their exponential (or
/// uniform) limit: the neglected curvature is a relative W² < 1e-560, and their
/// masses and offsets would underflow in standardized units.
const COLLAPSE_WIDTH: f64 = 1e-280;

/// Whether the standardized window [a, b] collapsed: a = b in f64 (loc 1e308 away, or
/// a width below an ulp of a), or narrower than [`COLLAPSE_WIDTH`].
fn is_collapsed(a: f64, b: f64) -> bool {
    a == b || b - a <= COLLAPSE_WIDTH
}

/// [`is_collapsed`] elementwise, as a u8 mask.
fn collapsed_mask(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    fn f(a: f64, b: f64) -> f64 {
        if is_collapsed(a, b) {
            1.0
        } else {
            0.0
        }
    }
    let m = apply2(
        &a.detach(),
        &b.detach(),
        Map2 {
            name: "truncated_normal_collapsed_mask",
            f,
            f32: f,
            bwd: None,
        },
    )?;
    Ok(m.ne(0.0)?)
}

/// The q-quantile of one window, as its bound nearer loc plus an offset solved for
/// directly: [`collapsed_offset`] where α = β in f64, [`window_offset`] for windows
/// on one side of loc, else loc + scale·z from [`standard_icdf`] (windows containing
/// loc, or wider than 1 within 1 of it, where z has no cancellation).
///
/// Returns x and [dx/dloc, dx/dscale, dx/dlow, dx/dhigh], from the exact density
/// ratios of each regime rather than from the log density at the rounded x (a draw
/// 1e-24 above low rounds to low): the partial derivatives of the offset
/// ([`offset_partials`]), φ ratios in z on the z path, and for the exponential law
/// (windows collapsed in f64, or β ≥ 1e8) its closed form ([`exponential_coefs`]),
/// since there 1 − c_l − c_h cancels to rounding noise.
fn window_quantile(w: &Window, q: f64) -> (f64, [f64; 4]) {
    const UNKNOWN: [f64; 4] = [f64::NAN; 4];
    let (low, high) = (w.low, w.high);
    if q.is_nan() || w.a.is_nan() || w.b.is_nan() || low.is_nan() || high.is_nan() || low >= high {
        return (f64::NAN, UNKNOWN);
    }
    // At q = 0 or 1 the draw is the bound itself.
    if q <= 0.0 {
        return (low, [0.0, 0.0, 1.0, 0.0]);
    }
    if q >= 1.0 {
        return (high, [0.0, 0.0, 0.0, 1.0]);
    }
    let (a, b) = (w.a, w.b);
    let Frame {
        up,
        beta,
        width,
        exponential,
    } = w.frame();
    let pp = if up { (q, 1.0 - q) } else { (1.0 - q, q) };
    if let Some((l_w, lt, l_rate)) = exponential {
        // The exponential law of rate Λ (x units) on [0, W] from the bound nearer loc
        // (from low for a uniform window around loc), with mass q from low or 1 − q
        // from high.
        let t = collapsed_offset(high - low, (l_w, lt, l_rate), pp);
        let x = clamp_total(if up { low + t } else { high - t }, low, high);
        let anchor = if up { low } else { high };
        return (x, exponential_coefs(w, t, (l_w, lt), pp, anchor, up));
    }
    // A narrow window is solved from the bound whose side holds the smaller mass, so
    // a draw near either end keeps its digits: from low the density relative to low's
    // is e^{−αs − s²/2}, from high e^{βs − s²/2}.
    let narrow = beta < 1.0 && width <= 1.0;
    let (from_low, beta_b, pb) = if narrow && pp.0 > 0.5 {
        (!up, if up { -b } else { a }, (pp.1, pp.0))
    } else {
        (up, beta, pp)
    };
    if let Some(t) = window_offset(beta_b, width, pb) {
        let x = clamp_total(
            if from_low {
                low + w.scale * t
            } else {
                high - w.scale * t
            },
            low,
            high,
        );
        let (dt_db, dt_dw) = offset_partials(beta_b, width, t, pb);
        // x = bound ± scale·t(β_b, W): see `offset_partials`; β_b = ±(bound − loc)/scale.
        let dloc = -dt_db;
        let near = 1.0 + dt_db - dt_dw;
        // W·∂t/∂W is 0 for an unbounded window (∂t/∂W = 0, W = ∞).
        let w_term = if dt_dw == 0.0 { 0.0 } else { width * dt_dw };
        let ds = t - beta_b * dt_db - w_term;
        let coefs = if from_low {
            [dloc, ds, near, dt_dw]
        } else {
            [dloc, -ds, dt_dw, near]
        };
        return (x, coefs);
    }
    // x = loc + scale·z(α, β, q) with φ(z) dz = (1 − q) φ(α) dα + q φ(β) dβ: c_l and
    // c_h from φ ratios in z, so the derivatives stay finite where x overflows
    // (loc = −MAX, scale = MAX: the draw is −∞, dx/dscale = z).
    let z = standard_icdf(a, b, q);
    let x = clamp_total(w.loc + w.scale * z, low, high);
    let cl = density_ratio((-q).ln_1p(), -half_sq_diff(a, z));
    let ch = density_ratio(q.ln(), -half_sq_diff(b, z));
    let term = |c: f64, t: f64| if c == 0.0 { 0.0 } else { c * t };
    let dscale = z - term(cl, a) - term(ch, b);
    (x, [1.0 - cl - ch, dscale, cl, ch])
}

/// The cdf of one window at x, by the same regimes as [`window_quantile`]: the
/// fraction of the window's mass between the bound nearer loc and x from the offset
/// t to that bound ([`window_fraction`], or the exponential law), else the standard
/// form in z. Both the fraction below and above t are computed directly, so F keeps
/// its digits near 0 and near 1.
fn window_cdf(w: &Window, x: f64) -> f64 {
    let (low, high) = (w.low, w.high);
    if x.is_nan() || w.a.is_nan() || w.b.is_nan() || low.is_nan() || high.is_nan() || low >= high {
        return f64::NAN;
    }
    if x <= low {
        return 0.0;
    }
    if x >= high {
        return 1.0;
    }
    let (a, b) = (w.a, w.b);
    let Frame {
        up,
        beta,
        width,
        exponential,
    } = w.frame();
    let (t_x, t_far_x) = if up {
        (x - low, high - x)
    } else {
        (high - x, x - low)
    };
    let pick = |(near, far): (f64, f64)| {
        let f = if up { near } else { far };
        f.clamp(0.0, 1.0)
    };
    if let Some((l_w, lt, l_rate)) = exponential {
        // (1 − e^{−s})/(1 − e^{−y}) below, (e^{−s} − e^{−y})/(1 − e^{−y}) above, with
        // s = ΛT = r·y for r = T/W: through r and ψ(u) = (1 − e^{−u})/u (→ 1 at 0),
        // not Λ, which may be subnormal (Λ = 1e300/MAX²) while y and s are not.
        let y = lt.exp();
        let wd = high - low;
        let frac = |t: f64| {
            if wd.is_finite() {
                t / wd
            } else {
                (t.ln() - l_w).exp()
            }
        };
        let (r, r_far) = (frac(t_x), frac(t_far_x));
        if y < 1e-300 {
            return pick((r, r_far));
        }
        let s = if y < 1.0 {
            r * y
        } else {
            (t_x.ln() + l_rate).exp()
        };
        let psi = |u: f64| if u == 0.0 { 1.0 } else { -(-u).exp_m1() / u };
        if y < 1.0 {
            let py = psi(y);
            let s_far = r_far * y;
            return pick((r * psi(s) / py, (-s).exp() * r_far * psi(s_far) / py));
        }
        let den = -(-y).exp_m1();
        // y − s = Λ·(distance to the far bound), from that distance itself.
        let s_far = (t_far_x.ln() + l_rate).exp();
        let above = if y == f64::INFINITY {
            (-s).exp()
        } else {
            (-s).exp() * -(-s_far).exp_m1() / den
        };
        return pick((-(-s).exp_m1() / den, above));
    }
    if let Some(fr) = window_fraction(beta, width, t_x / w.scale, t_far_x / w.scale) {
        return pick(fr);
    }
    // Clamped: the ratio of two log-space masses may round past 1.
    standard_cdf(a, b, std_diff(x, w.loc, w.scale)).clamp(0.0, 1.0)
}

/// For the standardized window [β, β + W] measured from its bound (density
/// e^{−βs − s²/2} relative to the bound's) and a point at offset t from that bound and
/// t_far from the other: the fractions of the mass on either side of the point, or
/// None where [`window_offset`] defers to z (β < 1, W > 1). Masses by
/// [`tail_integral`] in S = βt for β ≥ 1, by [`narrow_mass`] for narrow windows; each
/// side from its own offset, so a point near either end keeps its digits.
fn window_fraction(beta: f64, width: f64, t: f64, t_far: f64) -> Option<(f64, f64)> {
    if beta >= 1.0 {
        let k = 0.5 / (beta * beta);
        let (s, top) = (beta * t, beta * width);
        let total = tail_integral(k, top);
        let lam = 1.0 + 2.0 * k * s;
        let rest = (beta * t_far).min(top - s).max(0.0);
        let upper = (-s - k * s * s).exp() * tail_integral(k / (lam * lam), lam * rest) / lam;
        return Some((tail_integral(k, s) / total, upper / total));
    }
    if width > 1.0 {
        return None;
    }
    let total = narrow_mass(beta, 0.0, width);
    Some((
        narrow_mass(beta, 0.0, t) / total,
        narrow_mass(beta, width - t_far, t_far) / total,
    ))
}

/// [dx/dloc, dx/dscale, dx/dlow, dx/dhigh] for a draw x = anchor ± t of the exponential
/// law of rate Λ = |anchor − loc|/scale² truncated to width W, t = −ln D/Λ with
/// D = 1 − p(1 − E), E = e^{−ΛW}: ∂t/∂W = pE/D =: B and ∂t/∂Λ = G/Λ with
/// G = −t + pWE/D; through ∂Λ/∂loc = ∓1/scale², ∂Λ/∂scale = −2Λ/scale. For a draw
/// from low: dx/dloc = −G/|low − loc|, dx/dscale = −2G/scale,
/// dx/dlow = 1 + G/|low − loc| − B, dx/dhigh = B (mirrored from high).
fn exponential_coefs(
    w: &Window,
    t: f64,
    (l_w, lt): (f64, f64),
    (p, pc): (f64, f64),
    anchor: f64,
    up: bool,
) -> [f64; 4] {
    let y = lt.exp();
    let e = (-y).exp();
    // D = 1 − p(1 − E), without cancellation on either side.
    let lost = -p * (-y).exp_m1();
    let d = if lost <= 0.5 { 1.0 - lost } else { pc + p * e };
    let b = if e == 0.0 { 0.0 } else { p * e / d };
    // pWE/D = p e^{ln W − y}/D
    let pwe = if e == 0.0 {
        0.0
    } else {
        p * (l_w - y).exp() / d
    };
    let g = -t + pwe;
    let dist = (anchor - w.loc).abs();
    let g_over = if g == 0.0 { 0.0 } else { g / dist };
    let dscale = if g == 0.0 { 0.0 } else { 2.0 * g / w.scale };
    if up {
        [-g_over, -dscale, 1.0 + g_over - b, b]
    } else {
        [-g_over, dscale, b, 1.0 + g_over - b]
    }
}

/// The offset t ∈ [0, W] from the bound of a standardized window [β, β + W] (β > 0;
/// windows below 0 are reflected) that has mass p of the window between the bound and
/// itself, or None where loc + scale·z is accurate (β < 1 and W > 1). With the
/// density relative to the bound, e^{−βs − s²/2}:
/// (β ≥ 1e8 is the exponential law of [`window_quantile`]: there the s²/2 term
/// changes t by a relative 1/β² < 1e-16)
/// - 1 ≤ β < 1e8: in S = βt the density is e^{−S − S²/(2β²)}; Newton's method on the
///   log mass from the bound (p ≤ 1/2) or to the far end (p > 1/2, so that a draw deep
///   in the tail has no cancellation), masses by [`tail_integral`], safeguarded by
///   bisection;
/// - β < 1, W ≤ 1: Newton's method on ∫₀ᵗ e^{−βs − s²/2} ds by Gauss–Legendre
///   quadrature (the integrand varies by at most e^{1.5} on the window).
fn window_offset(beta: f64, width: f64, (p, pc): (f64, f64)) -> Option<f64> {
    if beta >= 1.0 {
        return Some(tail_offset(beta, width, (p, pc)) / beta);
    }
    if width > 1.0 {
        return None;
    }
    Some(narrow_offset(beta, width, p))
}

/// ∫ e^{−βs − s²/2} ds over [start, start + len] by 32-point Gauss–Legendre
/// quadrature: the mass of a narrow window's piece relative to the density at the
/// bound s is measured from (exact to rounding where the exponent varies by O(1)).
/// The piece is given by its length, never as a difference of ends.
fn narrow_mass(beta: f64, start: f64, len: f64) -> f64 {
    let (nodes, weights) = gauss_legendre_32();
    let half = 0.5 * len;
    let mid = start + half;
    half * nodes
        .iter()
        .zip(weights)
        .map(|(&x, &wt)| {
            let s = mid + half * x;
            wt * (-beta * s - 0.5 * s * s).exp()
        })
        .sum::<f64>()
}

/// t ∈ [0, W] with [`narrow_mass`](β, 0, t) = p · narrow_mass(β, 0, W), by Newton's
/// method (the integrand is within e^{±3} of 1 on the window, |β| < 2, W ≤ 1).
fn narrow_offset(beta: f64, width: f64, p: f64) -> f64 {
    let f = |s: f64| (-beta * s - 0.5 * s * s).exp();
    let target = p * narrow_mass(beta, 0.0, width);
    let mut t = p * width;
    for _ in 0..30 {
        let next = clamp_total(t - (narrow_mass(beta, 0.0, t) - target) / f(t), 0.0, width);
        let done = (next - t).abs() <= 1e-16 * next;
        t = next;
        if done || t.is_nan() {
            break;
        }
    }
    t
}

/// S ∈ [0, βW] with ∫₀^S e^{−u − ku²} du = p ∫₀^{βW} (k = 1/(2β²), β ≥ 1): Newton's
/// method in log space, from the exponential law's S, kept inside a bisection bracket.
fn tail_offset(beta: f64, width: f64, (p, pc): (f64, f64)) -> f64 {
    let k = 0.5 / (beta * beta);
    let top = beta * width;
    let total = tail_integral(k, top);
    // ln of the mass the iteration matches, and its derivative's sign: from the bound
    // for p ≤ 1/2 (increasing in S), to the far end for p > 1/2 (decreasing).
    let upper = p > 0.5;
    let target = if upper {
        pc.ln() + total.ln()
    } else {
        p.ln() + total.ln()
    };
    // (ln mass, mass · e^{S + kS²}) at S.
    let eval = |s: f64| -> (f64, f64) {
        if upper {
            let lam = 1.0 + 2.0 * k * s;
            let r = tail_integral(k / (lam * lam), lam * (top - s)) / lam;
            (-s - k * s * s + r.ln(), r)
        } else {
            let m = tail_integral(k, s);
            (m.ln(), m * (s + k * s * s).exp())
        }
    };
    let (mut lo, mut hi) = (0.0, top.min(1e4));
    let mut s = clamp_total(exponential_offset(top, (p, pc)), lo, hi);
    for _ in 0..100 {
        let (lm, r) = eval(s);
        let g = lm - target;
        if g == 0.0 || g.is_nan() {
            break;
        }
        // The mass is above target: move away from the bound (upper) or towards it.
        if (g > 0.0) == upper {
            lo = s;
        } else {
            hi = s;
        }
        let step = if upper { g * r } else { -g * r };
        let mut next = s + step;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let done = (next - s).abs() <= 1e-15 * next.abs() || hi - lo <= 1e-15 * hi;
        s = next;
        if done {
            break;
        }
    }
    s
}

/// −ln(1 − p(1 − e^{−y})), the p-quantile of the unit exponential truncated to
/// [0, y], given p and pc = 1 − p exactly: through ln1p while p(1 − e^{−y}) ≤ 1/2,
/// and as −ln(pc + p e^{−y}) above, where 1 − p would lose a small pc.
fn exponential_offset(y: f64, (p, pc): (f64, f64)) -> f64 {
    let lost = -p * (-y).exp_m1();
    if lost <= 0.5 {
        -(-lost).ln_1p()
    } else {
        -(pc + p * (-y).exp()).ln()
    }
}

/// ∫₀^S e^{−u − ku²} du (k ≥ 0); see [`tail_integrals`].
fn tail_integral(k: f64, s: f64) -> f64 {
    tail_integrals(k, s).0
}

/// (∫₀^S e^{−u − ku²} du, ∫₀^S u e^{−u − ku²} du) for k ≥ 0; see [`tail_panels`].
fn tail_integrals(k: f64, s: f64) -> (f64, f64) {
    let [m0, m1, _] = tail_panels(k, s);
    (m0, m1)
}

/// ∫₀^S uʲ e^{−u − ku²} du for j = 0, 1, 2 and k ≥ 0, by 32-point Gauss–Legendre
/// quadrature on the panels [0, 1, 3, 7, 15, 31, 60] clipped at S (the integrand is
/// below 3600·e^{−60} beyond, against integrals of at least 0.2 for S ≥ 1). The
/// integrand is smooth and of order one on each panel, so this is accurate to
/// rounding for every k ≥ 0.
fn tail_panels(k: f64, s: f64) -> [f64; 3] {
    const EDGES: [f64; 7] = [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 60.0];
    let (nodes, weights) = gauss_legendre_32();
    let mut m = [0.0; 3];
    for e in EDGES.windows(2) {
        let (lo, hi) = (e[0], e[1].min(s));
        // NaN S gives no panel (and a NaN-free 0).
        if hi <= lo || hi.is_nan() {
            break;
        }
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for (&t, &w) in nodes.iter().zip(weights) {
            let x = mid + half * t;
            let f = half * w * (-x - k * x * x).exp();
            m[0] += f;
            m[1] += f * x;
            m[2] += f * x * x;
        }
    }
    m
}

/// (∂t/∂β, ∂t/∂W) of the offset t(β, W, p) from a bound (see [`window_offset`]):
/// with f(s) = e^{−βs − s²/2} and M_j(t) = ∫₀ᵗ sʲ f(s) ds, M_0(t) = p M_0(W) gives
/// ∂t/∂W = p f(W)/f(t) and ∂t/∂β = (M_1(t) − p M_1(W))/f(t), the latter as
/// ((1 − p) M_1(W) − ∫ₜ^W s f)/f(t) for p > 1/2 (no cancellation for draws deep in
/// the window). Tail windows (β ≥ 1) in S = βt through [`tail_integrals`], narrow
/// ones by Gauss–Legendre quadrature. The derivatives of the draw itself then have no
/// 1 − c_l − c_h cancellation (that difference is ~t/β for a tail window at β = 4e7,
/// far below its rounding).
fn offset_partials(beta: f64, width: f64, t: f64, (p, pc): (f64, f64)) -> (f64, f64) {
    let ln_ratio_w = -(beta * (width - t) + 0.5 * (width - t) * (width + t));
    let dt_dw = if p == 0.0 { 0.0 } else { p * ln_ratio_w.exp() };
    if beta >= 1.0 {
        let k = 0.5 / (beta * beta);
        let (s, top) = (beta * t, beta * width);
        let (_, i1w) = tail_integrals(k, top);
        // e^{S + kS²} = 1/f(t)
        let inv_f = (s + k * s * s).exp();
        let num = if p <= 0.5 {
            let (_, i1) = tail_integrals(k, s);
            (i1 - p * i1w) * inv_f
        } else {
            // ∫_S^top u e^{…} du / f(t) = S·K0 + K1 over v = u − S, λ = 1 + 2kS.
            let lam = 1.0 + 2.0 * k * s;
            let kk = k / (lam * lam);
            let (j0, j1) = tail_integrals(kk, lam * (top - s));
            let upper = s * j0 / lam + j1 / (lam * lam);
            pc * i1w * inv_f - upper
        };
        // M_1 in t units is (∫ u …)/β², f(t) the same in both.
        return (num / (beta * beta), dt_dw);
    }
    let (nodes, weights) = gauss_legendre_32();
    let m1 = |start: f64, len: f64| {
        let half = 0.5 * len;
        let mid = start + half;
        half * nodes
            .iter()
            .zip(weights)
            .map(|(&x, &wt)| {
                let s = mid + half * x;
                wt * s * (-beta * s - 0.5 * s * s).exp()
            })
            .sum::<f64>()
    };
    let inv_f = (beta * t + 0.5 * t * t).exp();
    let num = if p <= 0.5 {
        m1(0.0, t) - p * m1(0.0, width)
    } else {
        pc * m1(0.0, width) - m1(t, width - t)
    };
    (num * inv_f, dt_dw)
}

/// The offset from the anchor bound, in x units, of the p-quantile of a window
/// collapsed in f64: the exponential law of rate Λ truncated to [0, W],
/// t = −ln(1 − p(1 − e^{−y}))/Λ with y = ΛW, written through W for small y (the
/// uniform limit t = pW; Λ may be 0 or subnormal) and through 1/Λ for large y (W may
/// overflow). `width` is W when finite (its exponential would lose digits).
fn collapsed_offset(width: f64, (l_w, t, l_rate): (f64, f64, f64), (p, pc): (f64, f64)) -> f64 {
    let y = t.exp();
    let wd = if width.is_finite() { width } else { l_w.exp() };
    if y < 1e-300 {
        return p * wd;
    }
    let m = exponential_offset(y, (p, pc));
    if y < 1.0 {
        wd * (m / y)
    } else {
        m * (-l_rate).exp()
    }
}

/// The standard truncated normal quantile: z in [α, β] with Φ(z) = Φ(α) + q Z.
/// Windows leaning to the upper half are reflected (z = −quantile(−β, −α, 1 − q)) so
/// that the inversion always works on the small lower tail, in log space:
/// ln Φ(z) = logaddexp(ln Φ(α), ln q + ln Z), then z = Φ⁻¹ from the log probability.
fn standard_icdf(a: f64, b: f64, q: f64) -> f64 {
    if q.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a + b > 0.0 {
        return -lower_icdf(-b, -a, 1.0 - q);
    }
    lower_icdf(a, b, q)
}

fn lower_icdf(a: f64, b: f64, q: f64) -> f64 {
    if q <= 0.0 || a == b {
        return a;
    }
    if q >= 1.0 {
        return b;
    }
    // Masses relative to the density at the window's anchor c (finite however far out
    // the window lies): ln Φ(z) + c²/2 + ln√(2π) = logaddexp(that of α, ln q + that of Z).
    let c = window_anchor(a, b);
    let la = log_ndtr_rel(a, c);
    let t = q.ln() + log_mass_at(a, b, c);
    let m = la.max(t);
    let lp = m + ((la - m).exp() + (t - m).exp()).ln();
    // Never `f64::clamp`: with validation off, α > β (low ≥ high) must give NaN, not a
    // panic.
    clamp_total(ndtri_rel(lp, c), a, b)
}

/// z ≤ c ≤ 0 with [`log_ndtr_rel`](z, c) = lp. Near the centre this is the log-space
/// normal quantile; for an anchor below −37 (where c²/2 may overflow) Newton's method
/// on the relative form, from the exponential-tail guess z ≈ c − (lp + ln(−c))/c
/// (there ln Φ has slope φ/Φ ≈ −c and the relative ln Φ(c) ≈ −ln(−c)), with the slope
/// φ(z)/Φ(z) also taken relative so that nothing overflows.
fn ndtri_rel(lp: f64, c: f64) -> f64 {
    if lp.is_nan() {
        return f64::NAN;
    }
    if c >= -37.0 {
        return ndtri_exp((lp - 0.5 * c * c - HALF_LN_2PI).min(0.0));
    }
    if lp == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let mut z = (c - (lp + (-c).ln()) / c).min(c);
    for _ in 0..50 {
        let g = log_ndtr_rel(z, c);
        let d = (-half_sq_diff(z, c) - g).exp();
        let step = (g - lp) / d;
        let next = (z - step).min(c);
        if !next.is_finite() || (next - z).abs() <= 1e-15 * z.abs() {
            if next.is_finite() {
                z = next;
            }
            break;
        }
        z = next;
    }
    z
}

/// The standard truncated normal cdf (Φ(z) − Φ(α))/(Φ(β) − Φ(α)) for z in [α, β],
/// from log-space window masses.
fn standard_cdf(a: f64, b: f64, z: f64) -> f64 {
    if a == b && a == z {
        // A window that collapsed in standardized units (loc 1e308 away): all mass at
        // the bound nearer loc; `cdf` settles the bounds themselves from x.
        return if a > 0.0 { 1.0 } else { 0.0 };
    }
    if z <= a {
        return 0.0;
    }
    if z >= b {
        return 1.0;
    }
    let c = window_anchor(a, b);
    (log_mass_at(a, z, c) - log_mass_at(a, b, c)).exp()
}

impl Distribution for TruncatedNormal {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::DependentInterval {
            low: self.low().clone(),
            high: self.high().clone(),
        }
    }

    // The value is the quantile of uniform noise; the pathwise gradients come from the
    // implicit function F(x; θ) = u, dx/dθ = −(∂F/∂θ)/p(x), written through the
    // densities at the bounds (see `rsample_gradients`), which stay finite where the
    // chain through the standardized bounds is ∞ − ∞ (windows collapsed in f64).
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let u = rng.uniform(&shape, DType::F64, self.device())?;
        let (x, known) = self.quantile_parts(&u)?;
        let x = if self.tracks_gradients() {
            (&x + self.rsample_gradients(&x, &known)?)?
        } else {
            x
        };
        self.p.out(x)
    }

    // −z²/2 − ln√(2π) − ln scale − ln Z, from the anchored form (`log_density`); the
    // gradients from the identities of `log_prob_gradients`.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &self.support())?;
        let lp = self.log_density(&x)?;
        let lp = if self.tracks_gradients() || x.track_op() {
            (&lp + self.log_prob_gradients(&x)?)?
        } else {
            lp
        };
        self.p.out_for(value, lp)
    }

    // From offsets to the bound nearer loc where that is more exact than z
    // (`window_cdf`); the gradients from the densities at x and at the bounds
    // (`cdf_gradients`).
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &self.support())?;
        let f = self.map_windows(&x, window_cdf)?;
        let f = if self.tracks_gradients() || x.track_op() {
            (&f + self.cdf_gradients(&x, &f)?)?
        } else {
            f
        };
        self.p.out_for(value, f)
    }

    // The quantile, with the implicit gradients of `rsample` and dx/dq = 1/p(x).
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let arg = q;
        let q = self.p.probability(q)?.to_dtype(DType::F64)?;
        let (x, known) = self.quantile_parts(&q)?;
        let mut x_total = x.clone();
        if self.tracks_gradients() {
            x_total = (x_total + self.rsample_gradients(&x, &known)?)?;
        }
        if q.track_op() {
            let inv = self.log_density(&x)?.neg()?.exp()?;
            x_total = (x_total + grad_carrier(&inv, &q)?)?;
        }
        self.p.out_for(arg, x_total)
    }

    // ln(√(2πe) scale Z) + (αφ(α) − βφ(β))/(2Z); in the far tails the value comes from
    // `standard_tail_entropy` (the closed form cancels), the gradient from the closed
    // form.
    fn entropy(&self) -> Result<Tensor> {
        let (_, ta) = self.phi_terms(&self.a)?;
        let (_, tb) = self.phi_terms(&self.b)?;
        let h0 = ((&self.log_z + (0.5 + HALF_LN_2PI))? + ((ta - tb)? * 0.5)?)?;
        fn tail_or_nan(a: f64, b: f64) -> f64 {
            standard_tail_entropy(a, b).unwrap_or(f64::NAN)
        }
        let ht = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_tail_entropy",
                f: tail_or_nan,
                f32: tail_or_nan,
                bwd: None,
            },
        )?;
        let ht = ht.detach();
        let use_tail = ht.eq(&ht)?;
        let h0 = use_tail.where_cond(&(ht + grad_only(&h0)?)?, &h0)?;
        let h = (h0 + self.p.w(1).log()?)?;
        let h = self.or_collapsed(h, |lw, t, lr| collapsed_moments(lw, t, lr).2, Ok)?;
        self.p.out(h)
    }

    // loc + scale (φ(α) − φ(β))/Z; in the far tails loc + scale·(mean of z) cancels
    // (TruncatedNormal(1e4, 0.05, 8.12, 50): 1e4 − 9950.0002), so the value there is
    // the nearer bound plus scale·E[s]/c (`tail_mean_offset`), the gradient the
    // closed form's.
    fn mean(&self) -> Result<Tensor> {
        self.p.out(self.mean_wide()?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.loc().maximum(self.low())?.minimum(self.high())?)
    }

    fn variance(&self) -> Result<Tensor> {
        self.p.out(self.variance_wide()?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = TruncatedNormal::build(&t[0], &t[1], &t[2], &t[3], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

impl TruncatedNormal {
    fn mean_wide(&self) -> Result<Tensor> {
        let (ra, _) = self.phi_terms(&self.a)?;
        let (rb, _) = self.phi_terms(&self.b)?;
        let m = (self.p.w(0) + (self.p.w(1) * (ra - rb)?)?)?;
        let off = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_tail_mean",
                f: tail_mean_offset,
                f32: tail_mean_offset,
                bwd: None,
            },
        )?;
        let off = off.detach();
        let use_tail = off.eq(&off)?;
        // 0, not NaN, off the tail windows: the unused branch still gets (zero)
        // gradients, and 0 · NaN would be NaN.
        let off = use_tail.where_cond(&off, &off.zeros_like()?)?;
        // Offsets ≥ 0 are from low (windows above 1, narrow windows), < 0 from high.
        let lower = off.ge(0.0)?;
        let bound = lower.where_cond(self.p.w(2), self.p.w(3))?;
        let mt = (bound + (self.p.w(1) * off)?)?;
        let m = use_tail.where_cond(&(mt.detach() + grad_only(&m)?)?, &m)?;
        // Collapsed windows: the anchor bound moved inward by scale·(mean offset).
        let m = self.or_collapsed(
            m,
            |lw, t, lr| collapsed_moments(lw, t, lr).0,
            |v| {
                let sign = self
                    .anchor
                    .lt(0.0)?
                    .where_cond(&self.anchor.ones_like()?.neg()?, &self.anchor.ones_like()?)?;
                Ok((&self.anchor_x + (sign * v)?)?)
            },
        )?;
        Ok(m)
    }

    // scale²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²] cancels for narrow windows
    // (width w: the terms are O(1), the variance w²/12), so for windows up to one
    // standard deviation wide the value comes from Gauss–Legendre quadrature of the
    // window instead; the gradient is the closed form's.
    fn variance_wide(&self) -> Result<Tensor> {
        let (ra, ta) = self.phi_terms(&self.a)?;
        let (rb, tb) = self.phi_terms(&self.b)?;
        let v = (((ta - tb)? + 1.0)? - (ra - rb)?.sqr()?)?;
        let vq = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_variance",
                f: standard_sd,
                f32: standard_sd,
                bwd: None,
            },
        )?;
        // (scale·sd)², not scale²·sd²: either factor of the latter may over/underflow.
        let vq = (vq * self.p.w(1))?.sqr()?.detach();
        let v = (vq + grad_only(&(self.p.w(1).sqr()? * v)?)?)?;
        self.or_collapsed(v, |lw, t, lr| collapsed_moments(lw, t, lr).1, Ok)
    }
}

/// The variance of the standard normal truncated to [α, β]: the closed form where the
/// window is wider than 1, else Gauss–Legendre quadrature (32 nodes) of the window
/// with the density taken relative to its largest value (exact to rounding for a
/// window of width ≤ 1 anywhere on the line: the integrand is e^{−z²/2}, smooth).
///
/// Returns the standard deviation: a window 1e-300 wide has a variance that underflows
/// but a standard deviation that, times a scale of 1e300, is of order one.
fn standard_sd(a: f64, b: f64) -> f64 {
    if let Some((c, d)) = tail_window(a, b) {
        let (_, m1, m2) = tail_moments(c, d);
        return (m2 - m1 * m1).max(0.0).sqrt() / c;
    }
    if b - a > 1.0 || (b - a).is_nan() {
        let z = log_mass(a, b);
        let r = |t: f64| {
            if t.is_finite() {
                (-0.5 * t * t - HALF_LN_2PI - z).exp()
            } else {
                0.0
            }
        };
        let tr = |t: f64| if t.is_finite() { t * r(t) } else { 0.0 };
        let m = r(a) - r(b);
        return (1.0 + tr(a) - tr(b) - m * m).max(0.0).sqrt();
    }
    let (nodes, weights) = gauss_legendre_32();
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let top = if a > 0.0 {
        a
    } else if b < 0.0 {
        b
    } else {
        0.0
    };
    let mut s0 = 0.0;
    let mut s1 = 0.0;
    let mut s2 = 0.0;
    for (&t, &w) in nodes.iter().zip(weights) {
        let z = mid + half * t;
        let f = w * (-0.5 * (z - top) * (z + top)).exp();
        // moments of t = (z − mid)/half, scaled back by half at the end
        s0 += f;
        s1 += f * t;
        s2 += f * t * t;
    }
    let m = s1 / s0;
    half * (s2 / s0 - m * m).max(0.0).sqrt()
}

/// The mean of the standard normal truncated to [α, β]: from [`tail_mean_offset`]
/// where that applies, else (φ(α) − φ(β))/Z.
fn standard_mean(a: f64, b: f64) -> f64 {
    let off = tail_mean_offset(a, b);
    if !off.is_nan() {
        return if off >= 0.0 { a + off } else { b + off };
    }
    let lz = log_mass(a, b);
    let r = |t: f64| {
        if t.is_finite() {
            (-0.5 * t * t - HALF_LN_2PI - lz).exp()
        } else {
            0.0
        }
    };
    r(a) - r(b)
}

/// A window wider than 1 lying entirely in one tail, at distance ≥ 1 from 0, as the
/// reflected (c, d) with 1 ≤ c < d ≤ ∞. There the closed-form variance
/// 1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)² is a difference of terms of size c²
/// (TruncatedNormal(1e4, 0.05, 8.12, 50): c ≈ 2e5, the terms 4e10, the variance
/// 2.5e-11 — it came out negative), and the entropy likewise; [`tail_moments`] has
/// no cancellation.
fn tail_window(a: f64, b: f64) -> Option<(f64, f64)> {
    if (b - a).is_nan() || b - a <= 1.0 {
        return None;
    }
    if a >= 1.0 {
        Some((a, b))
    } else if b <= -1.0 {
        Some((-b, -a))
    } else {
        None
    }
}

/// Moments of the standard normal truncated to [c, d] (1 ≤ c < d ≤ ∞) in the variable
/// s = c(z − c) ∈ [0, S], S = c(d − c), whose density is ∝ w(s) = e^{−s − s²/(2c²)}
/// (z = c + s/c: e^{−z²/2} = e^{−c²/2} w(s)). Returns (ln ∫w ds, E[s], E[s²]) from
/// [`tail_panels`].
fn tail_moments(c: f64, d: f64) -> (f64, f64, f64) {
    let top = if d < f64::INFINITY {
        c * (d - c)
    } else {
        f64::INFINITY
    };
    let [m0, m1, m2] = tail_panels(0.5 / (c * c), top);
    (m0.ln(), m1 / m0, m2 / m0)
}

/// The entropy of the standard normal truncated to [α, β] where [`tail_window`]
/// applies (else None): with the reflected [c, d] and the moments of [`tail_moments`],
/// ln Z + ln√(2π) = −c²/2 + ln ∫w − ln c and E[z²]/2 = c²/2 + E[s] + E[s²]/(2c²), so
/// H = ln ∫w − ln c + E[s] + E[s²]/(2c²), with the c²/2 terms cancelled exactly.
fn standard_tail_entropy(a: f64, b: f64) -> Option<f64> {
    let (c, d) = tail_window(a, b)?;
    let (l0, m1, m2) = tail_moments(c, d);
    Some(l0 - c.ln() + m1 + m2 / (2.0 * c * c))
}

/// Where [`tail_window`] applies, the mean of the standard normal truncated to [α, β]
/// minus its nearer bound (α for a window above 0, β below): ±E[s]/c with the moments
/// of [`tail_moments`] (z = c + s/c); for windows at most 1 wide the mean minus α;
/// NaN elsewhere.
fn tail_mean_offset(a: f64, b: f64) -> f64 {
    match tail_window(a, b) {
        Some((c, d)) => {
            let (_, m1, _) = tail_moments(c, d);
            if a >= 1.0 {
                m1 / c
            } else {
                -m1 / c
            }
        }
        None if b - a <= 1.0 => {
            // Narrow: (φ(α) − φ(β))/Z cancels (to 0 for a window 1e-300 wide), so the
            // mean minus α by Gauss–Legendre quadrature, in units of the half-width.
            let (nodes, weights) = gauss_legendre_32();
            let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
            let top = window_anchor(a, b);
            let (mut s0, mut s1) = (0.0, 0.0);
            for (&t, &w) in nodes.iter().zip(weights) {
                let z = mid + half * t;
                let f = w * (-0.5 * (z - top) * (z + top)).exp();
                s0 += f;
                s1 += f * t;
            }
            half * (1.0 + s1 / s0)
        }
        None => f64::NAN,
    }
}

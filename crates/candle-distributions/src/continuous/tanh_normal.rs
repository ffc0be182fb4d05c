//! The tanh-squashed normal distribution: the SAC policy.

use super::normal::{expand_normal, normal_pushforward, Normal};
use crate::constraints::Constraint;
use crate::distribution::{sample_extent, Distribution};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{
    apply1, eval3_multi, stored3, sum_ratio_to, sum_to, unbroadcast, Kernel3, Map1, StoredBwd,
};
use crate::special::scalar::{HALF_LN_2PI, LN2};

use crate::transforms::tanh::TanhTransform;
use crate::transforms::TransformedDistribution;
use candle_core::{DType, Device, Tensor};
use std::sync::Arc;

const NAME: &str = "TanhNormal";

/// The law of `a = tanh(u)`, `u ~ N(loc, scale²)`: the squashed Gaussian policy of Soft
/// Actor-Critic (Haarnoja et al. 2018, appendix C), torch's
/// `TransformedDistribution(Normal(loc, scale), [TanhTransform()])`.
///
/// Density on (−1, 1):
/// `log p(a) = log N(u; loc, scale) − log(1 − a²)`, `u = atanh(a)`,
/// with `log(1 − a²) = log(1 − tanh² u) = 2(ln 2 − u − softplus(−2u))`.
///
/// **Why SAC should call [`Distribution::rsample_and_log_prob`].** The actor loss
/// `α log π(a|s) − Q(s, a)` needs the log-density of the action it just drew, with
/// gradients through both. Computing `log_prob(rsample())` inverts the tanh: once
/// `|u| > 9` in f32 (≈ 19 in f64) `tanh(u)` rounds to ±1, `atanh` can no longer recover
/// `u`, and the log-density is wrong (torch clamps and returns a finite but wrong value,
/// or `inf` without the clamp; its cache of `u` helps only when the same tensor comes
/// back). The fused call never inverts: it keeps the pre-tanh value `u = loc + scale·ε`
/// and evaluates `−ε²/2 − ln scale − ½ ln 2π − 2(ln 2 − u − softplus(−2u))` in f64,
/// which is exact for every `u`, with closed-form pathwise gradients
/// `∂/∂loc = 2 tanh u` and `∂/∂scale = −1/scale + 2 ε tanh u` (and those of `a`,
/// `(1 − a²)` and `(1 − a²) ε`, with `1 − a²` from `u`, not from a rounded `a`).
///
/// [`Distribution::log_prob`] of a given action clamps it into the open interval of the
/// dtype (`|a| ≤ 1 − ε`) before `atanh`, so `a = ±1` gives a finite value, never NaN.
/// `cdf`/`icdf` are those of the normal through `tanh`; moments and entropy have no
/// closed form ([`Error::NotImplemented`](crate::Error::NotImplemented), as torch).
///
/// ```
/// use candle_core::{Device, Var};
/// use candle_distributions::prelude::*;
/// let loc = Var::new(&[[0.0f32, 25.0]], &Device::Cpu)?;   // one state, 2 action dims
/// let scale = Var::new(&[[1.0f32, 0.5]], &Device::Cpu)?;
/// let pi = TanhNormal::new(&loc, &scale)?;
/// let (a, log_pi) = pi.rsample_and_log_prob(&[], &mut Generator::new(0))?;
/// let log_pi = log_pi.sum_keepdim(1)?; // summed over action dimensions: [1, 1]
/// let v = log_pi.flatten_all()?.to_vec1::<f32>()?;
/// assert!(v[0].is_finite()); // the second action saturates in f32, its density does not
/// let grads = log_pi.sum_all()?.backward()?;
/// assert!(grads.get(&scale).is_some());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct TanhNormal {
    normal: Normal,
    inner: TransformedDistribution,
}

impl TanhNormal {
    crate::distribution::params_constructors! {
        /// The distribution of `tanh(u)`, `u ~ N(loc, scale²)` (tensors or numbers,
        /// broadcast against each other; `scale > 0`).
        "TanhNormal", Self::build; loc, scale
    }

    fn build(loc: &Tensor, scale: &Tensor, validate: Option<bool>) -> Result<Self> {
        let normal = Normal::named_from_param_values(NAME, [loc.into(), scale.into()], validate)?;
        Self::from_normal(normal)
    }

    fn from_normal(normal: Normal) -> Result<Self> {
        let inner = normal_pushforward("TanhNormal", &normal, vec![Box::new(TanhTransform)])?;
        Ok(TanhNormal { normal, inner })
    }

    /// The location of the pre-tanh normal, broadcast to `batch_shape`.
    pub fn loc(&self) -> &Tensor {
        self.normal.loc()
    }

    /// The scale of the pre-tanh normal, broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        self.normal.scale()
    }

    /// The pre-tanh normal `N(loc, scale²)`.
    pub fn base(&self) -> &Normal {
        &self.normal
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.normal.set_validate_args(on);
        self.inner.set_validate_args(on);
    }

    /// The draw `a = tanh(loc + scale·ε)` and its exact log-density from given
    /// standard-normal noise `eps` (shape `sample_shape ++ batch_shape`, or anything
    /// that broadcasts with the batch): what [`Distribution::rsample_and_log_prob`] does
    /// after drawing `ε`, for callers who control the noise (antithetic or common random
    /// numbers). Both results carry gradients to `loc` and `scale`.
    pub fn rsample_and_log_prob_from_noise(&self, eps: &Tensor) -> Result<(Tensor, Tensor)> {
        let eps = eps.to_dtype(self.dtype())?;
        let loc = unbroadcast(self.normal.loc())?;
        let scale = unbroadcast(self.normal.scale())?;
        // One pass: the draw, its log-density and the coefficients of both gradients.
        let [a, lp, da_dm, da_ds, dlp_dm, k, k_over_s] =
            eval3_multi("TanhNormal", &loc, &scale, &eps, FusedKernel)?;
        let a = stored3(
            "tanh_normal_draw",
            &loc,
            &scale,
            &eps,
            &a,
            draw_grads(da_dm, da_ds),
        )?;
        let lp = stored3(
            "tanh_normal_log_prob",
            &loc,
            &scale,
            &eps,
            &lp,
            Arc::new(move |loc, scale, _eps, g| {
                let gl = sum_to(&g.broadcast_mul(&dlp_dm)?, loc.dims())?;
                // 1/s comes out of a sum over draws (a subnormal scale then gives the
                // true total); without one, k/s per element is that total.
                let gs = if scale.dims() == g.dims() {
                    g.mul(&k_over_s)?
                } else {
                    sum_ratio_to(&g.broadcast_mul(&k)?, scale, scale.dims())?
                };
                Ok((Some(gl), Some(gs), None))
            }),
        )?;
        Ok((a, lp))
    }

    /// The log-density of the action `tanh(u)` at a given pre-tanh value `u` (the
    /// change of variables without the inverse): exact where `tanh(u)` rounds to ±1.
    /// Gradients reach `loc`, `scale` and `u`.
    pub fn log_prob_pre_tanh(&self, u: &Tensor) -> Result<Tensor> {
        let base = self
            .normal
            .log_prob(u)
            .map_err(|e| e.renamed("TanhNormal"))?;
        let u = u.to_dtype(base.dtype())?;
        let ladj = crate::transforms::tanh::tanh_log_abs_det(&u)?;
        Ok(base.broadcast_sub(&ladj)?)
    }

    fn noise(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        sample_extent(
            "TanhNormal",
            sample_shape,
            self.batch_shape(),
            &[],
            self.dtype(),
        )?;
        self.normal
            .standard(sample_shape, rng)
            .map_err(|e| e.renamed("TanhNormal"))
    }
}

impl Distribution for TanhNormal {
    fn name(&self) -> &'static str {
        "TanhNormal"
    }
    fn batch_shape(&self) -> &[usize] {
        self.normal.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        &[]
    }
    fn support(&self) -> Constraint {
        Constraint::Interval(-1.0, 1.0)
    }
    fn device(&self) -> &Device {
        self.normal.device()
    }
    fn dtype(&self) -> DType {
        self.normal.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.inner.validate_args()
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let eps = self.noise(sample_shape, rng)?;
        let loc = unbroadcast(self.normal.loc())?;
        let scale = unbroadcast(self.normal.scale())?;
        let [a, da_dm, da_ds] = eval3_multi("TanhNormal", &loc, &scale, &eps, DrawKernel)?;
        stored3(
            "tanh_normal_draw",
            &loc,
            &scale,
            &eps,
            &a,
            draw_grads(da_dm, da_ds),
        )
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        self.inner.log_prob(value)
    }
    /// Exact for every pre-tanh value (see the type's docs): SAC's call.
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let eps = self.noise(sample_shape, rng)?;
        self.rsample_and_log_prob_from_noise(&eps)
    }
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        // The score function: the draw is fixed (no gradient); the log-density keeps its
        // gradient in the parameters at that fixed pre-tanh value u = m + s·ε:
        // ∂/∂m = ε/s, ∂/∂s = (ε² − 1)/s. Its value is the fused one, from ε (u itself
        // may not be representable: loc + scale·ε overflows f32 long before f64).
        let eps = self.noise(sample_shape, rng)?;
        let loc = unbroadcast(self.normal.loc())?;
        let scale = unbroadcast(self.normal.scale())?;
        let [a, lp] = eval3_multi("TanhNormal", &loc, &scale, &eps, ScoreKernel)?;
        let lp = stored3(
            "tanh_normal_score",
            &loc,
            &scale,
            &eps,
            &lp,
            Arc::new(|loc, scale, eps, g| {
                let gl = sum_ratio_to(&g.broadcast_mul(eps)?, scale, loc.dims())?;
                let w = eps.sqr()?.affine(1.0, -1.0)?;
                let gs = sum_ratio_to(&g.broadcast_mul(&w)?, scale, scale.dims())?;
                Ok((Some(gl), Some(gs), None))
            }),
        )?;
        Ok((a, lp))
    }
    /// `Φ((atanh a − loc)/scale)`; unlike `log_prob` it does not clamp: `a = ±1` are
    /// the ends of the support, where the cdf is exactly 0 and 1.
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let a = crate::distribution::checked_argument(
            "TanhNormal",
            "value",
            value,
            self.batch_shape(),
            &[],
            crate::distribution::result_dtype(self.dtype(), self.batch_shape(), value),
            self.device(),
            self.validate_args().then_some(&self.support()),
        )?;
        let u = apply1(
            &a,
            Map1 {
                name: "tanh_normal_atanh",
                f: f64::atanh,
                bwd: Some(atanh_bwd),
            },
        )?;
        self.normal.cdf(&u).map_err(|e| e.renamed("TanhNormal"))
    }
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        self.inner.icdf(q)
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let normal = expand_normal("TanhNormal", &self.normal, batch_shape)?;
        Ok(Box::new(Self::from_normal(normal)?))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// d atanh(a)/da = 1/((1 − a)(1 + a)).
fn atanh_bwd(a: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
    let one_minus = a.neg()?.affine(1.0, 1.0)?;
    let one_plus = a.affine(1.0, 1.0)?;
    g.div(&one_minus.mul(&one_plus)?)
}

/// The backward rule of a draw `tanh(m + s·ε)`: the output gradient times the stored
/// `∂a/∂m = sech² u` and `∂a/∂s = ε sech² u`, summed to the parameters' shapes.
fn draw_grads(da_dm: Tensor, da_ds: Tensor) -> StoredBwd {
    Arc::new(move |loc, scale, _eps, g| {
        let gl = sum_to(&g.broadcast_mul(&da_dm)?, loc.dims())?;
        let gs = sum_to(&g.broadcast_mul(&da_ds)?, scale.dims())?;
        Ok((Some(gl), Some(gs), None))
    })
}

/// The fused draw: `[a, log p, ∂a/∂m, ∂a/∂s, ∂log p/∂m, k, k/s]` (see [`Parts`]).
#[derive(Clone, Copy)]
struct FusedKernel;
impl Kernel3<7> for FusedKernel {
    #[inline(always)]
    fn eval(m: f64, s: f64, z: f64) -> [f64; 7] {
        let p = Parts::new(m, s, z);
        let k = p.scale_numerator(s, z);
        [
            p.t,
            p.log_prob(s, z),
            p.sech2,
            p.sech2 * z,
            2.0 * p.t,
            k,
            k / s,
        ]
    }
}

/// The draw alone: `[a, ∂a/∂m, ∂a/∂s]`.
#[derive(Clone, Copy)]
struct DrawKernel;
impl Kernel3<3> for DrawKernel {
    #[inline(always)]
    fn eval(m: f64, s: f64, z: f64) -> [f64; 3] {
        let p = Parts::new(m, s, z);
        [p.t, p.sech2, p.sech2 * z]
    }
}

/// The draw and its log-density for the score function: `[a, log p]`.
#[derive(Clone, Copy)]
struct ScoreKernel;
impl Kernel3<2> for ScoreKernel {
    #[inline(always)]
    fn eval(m: f64, s: f64, z: f64) -> [f64; 2] {
        let p = Parts::new(m, s, z);
        [p.t, p.log_prob(s, z)]
    }
}

/// The pieces of `tanh u`, `u = m + s·ε`, from one `expm1`: with `e = exp(−2|u|)`,
/// `tanh u = sgn(u)·(1 − e)/(1 + e)`, `sech² u = 4e/(1 + e)²` and
/// `ln(1 − tanh² u) = 2(ln 2 − |u| − ln(1 + e))`, each exact for every `u` (no
/// `1 − tanh²` once tanh has rounded to ±1).
struct Parts {
    abs_u: f64,
    sign: f64,
    /// exp(−2|u|).
    e: f64,
    /// 1/(1 + e).
    r: f64,
    t: f64,
    sech2: f64,
}

impl Parts {
    #[inline(always)]
    fn new(m: f64, s: f64, z: f64) -> Self {
        let u = m + s * z;
        let abs_u = u.abs();
        // Each from the function that is exact where the other would cancel.
        let (e, em) = if abs_u > 0.35 {
            let e = (-2.0 * abs_u).exp();
            (e, e - 1.0)
        } else {
            let em = (-2.0 * abs_u).exp_m1();
            (em + 1.0, em)
        };
        let sign = if u < 0.0 { -1.0 } else { 1.0 };
        let r = 1.0 / (1.0 + e);
        Parts {
            abs_u,
            sign,
            e,
            r,
            t: -sign * em * r,
            sech2: 4.0 * e * r * r,
        }
    }

    /// `−ε²/2 − ln s − ½ ln 2π − ln(1 − tanh² u)`, with `2 ln(1 + e) − ln s` as one
    /// logarithm where `s` keeps `(1 + e)²/s` in range.
    #[inline(always)]
    fn log_prob(&self, s: f64, z: f64) -> f64 {
        let head = -0.5 * z * z - HALF_LN_2PI - 2.0 * LN2 + 2.0 * self.abs_u;
        if s > 1e-300 && s < 1e300 {
            head + ((1.0 + self.e) * (1.0 + self.e) / s).ln()
        } else {
            head + 2.0 * self.e.ln_1p() - s.ln()
        }
    }

    /// `k = 2εs·tanh u − 1`, the numerator of `∂ log p/∂s = k/s`. Where tanh
    /// saturates, `tanh u = ±(1 − τ)` with `τ = 2e/(1 + e)` exact, and `±2εs − 1` is one
    /// rounding (`mul_add`): a draw with `εs = ±½` far in a tail cancels to ~1e-17,
    /// which the plain form returns as 0.
    #[inline(always)]
    fn scale_numerator(&self, s: f64, z: f64) -> f64 {
        if self.abs_u < 1.0 {
            return (2.0 * z * self.t).mul_add(s, -1.0);
        }
        let tau = 2.0 * self.e * self.r;
        (2.0 * z * self.sign).mul_add(s, -1.0) - 2.0 * z * s * self.sign * tau
    }
}

//! The Beta distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::beta_rsample;
use crate::special::{betainc, trigamma};
use candle_core::Tensor;

/// The Beta distribution with `concentration1` a > 0 and `concentration0` b > 0
/// (torch's names: a weighs the 1 end, b the 0 end).
///
/// Density `p(x) = x^{a−1}(1 − x)^{b−1} / B(a, b)` on (0, 1). Mean a/(a + b),
/// variance ab/((a + b)²(a + b + 1)); mode as torch's, (a − 1)₊/((a − 1)₊ + (b − 1)₊), NaN
/// for a = b = 1 and 1 when a, b < 1. `cdf` is the regularized incomplete beta function I_x(a, b),
/// differentiable in x, a and b. `rsample` draws x = G_a/(G_a + G_b) from two Gammas
/// formed in log space (no exact 0 or 1 even for a, b ≪ 1; draws are clamped into
/// [tiny, 1 − ε/2] of the dtype) with the exact implicit gradient
/// dx/da = −(∂I_x(a, b)/∂a)/p(x), and likewise for b.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Beta, Distribution, Generator};
/// let a = Var::new(2.0f64, &Device::Cpu)?;
/// let d = Beta::new(a.as_tensor(), &Tensor::new(3.0f64, &Device::Cpu)?)?;
/// let x = d.rsample(&[4], &mut Generator::new(1))?;
/// let g = x.sum_all()?.backward()?;
/// assert!(g.get(&a).unwrap().to_scalar::<f64>()? > 0.0); // larger a moves mass to 1
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Beta {
    p: Params,
}

const NAME: &str = "Beta";

impl Beta {
    crate::distribution::params_constructors! {
        /// Beta(concentration1, concentration0), broadcast against each other. Parameters
        /// are tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
        "Beta", Self::build; concentration1, concentration0
    }

    fn build(c1: &Tensor, c0: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("concentration1", c1, Constraint::Positive),
                ("concentration0", c0, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(Beta { p })
    }

    /// a, broadcast to `batch_shape`.
    pub fn concentration1(&self) -> &Tensor {
        self.p.get(0)
    }

    /// b, broadcast to `batch_shape`.
    pub fn concentration0(&self) -> &Tensor {
        self.p.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }
}

impl Distribution for Beta {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let a = self.concentration1().broadcast_as(shape.as_slice())?;
        let b = self.concentration0().broadcast_as(shape.as_slice())?;
        beta_rsample(&a, &b, rng.next_draw())
    }

    // (a − 1) ln x + (b − 1) ln(1 − x) − ln B(a, b), one fused kernel
    // (`beta_log_density`: finite also where the terms overflow, a, b ≈ f64::MAX).
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::UnitInterval)?;
        let a = self.p.w_at(0, &x)?;
        let b = self.p.w_at(1, &x)?;
        self.p.out_for(value, beta_log_density(&a, &b, &x)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::UnitInterval)?;
        self.p.out_for(
            value,
            betainc(&self.p.w_at(0, &x)?, &self.p.w_at(1, &x)?, &x)?,
        )
    }

    // ln B(a, b) + (a − 1)(ψ(a + b) − ψ(a)) + (b − 1)(ψ(a + b) − ψ(b)) by the scalar
    // kernel `crate::special::beta::beta_entropy` (digamma differences without
    // cancellation; for a, b ≥ 10 the large logarithms cancelled analytically, where
    // the sum was −∞ + ∞ near f64::MAX). ∂H/∂a = (a − 1)(ψ′(a + b) − ψ′(a)) +
    // (b − 1)ψ′(a + b), and alike for b.
    fn entropy(&self) -> Result<Tensor> {
        use crate::special::beta as sb;
        use crate::special::kernel::{apply2, Map2};
        type Grads = (Option<Tensor>, Option<Tensor>);
        fn bwd(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Grads> {
            let ts = trigamma(&(a + b)?)?;
            let ga = (((a - 1.0)? * (&ts - trigamma(a)?)?)? + ((b - 1.0)? * &ts)?)?;
            let gb = (((b - 1.0)? * (&ts - trigamma(b)?)?)? + ((a - 1.0)? * &ts)?)?;
            Ok((Some((g * ga)?), Some((g * gb)?)))
        }
        let (f, name) = (sb::beta_entropy, "beta_entropy");
        let op = Map2 {
            name,
            f,
            f32: f,
            bwd: Some(bwd),
        };
        self.p.out(apply2(self.p.w(0), self.p.w(1), op)?)
    }

    fn mean(&self) -> Result<Tensor> {
        self.p.out(share(self.p.w(0), self.p.w(1))?)
    }

    /// torch's convention (the first coordinate of its Dirichlet mode):
    /// (a − 1)₊/((a − 1)₊ + (b − 1)₊), which is NaN for a = b = 1 and where one of a, b
    /// is 1 and the other below 1 (0/0; e.g. Beta(0.5, 1), whose density has its only
    /// pole at 0), and 1 when both a < 1 and b < 1 (poles at both ends: torch replaces
    /// the NaN row by `one_hot(argmax(NaN row))`, and argmax of an all-NaN row is index
    /// 0, the vertex e₀, whose first coordinate is 1).
    fn mode(&self) -> Result<Tensor> {
        let (a, b) = (self.concentration1(), self.concentration0());
        let am = (a - 1.0)?.relu()?;
        let bm = (b - 1.0)?.relu()?;
        let m = (&am / (&am + &bm)?)?;
        let both_small = a.lt(1.0)?.mul(&b.lt(1.0)?)?;
        Ok(both_small.where_cond(&m.ones_like()?, &m)?)
    }

    // m(1 − m)/(a + b + 1) with m = a/(a + b) and 1 − m = b/(a + b) each from
    // [`share`]: the textbook ab/((a + b)²(a + b + 1)) is 0/0 for a, b ≲ 1e-160 and
    // ∞/∞ for a·b ≳ 1e308.
    fn variance(&self) -> Result<Tensor> {
        let (a, b) = (self.p.w(0), self.p.w(1));
        let mn = (share(a, b)? * share(b, a)?)?;
        self.p.out((mn / ((a + b)? + 1.0)?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = Beta::build(&t[0], &t[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// a/(a + b) for a, b > 0, also where a + b overflows (there as 1/(1 + b/a)).
fn share(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let s = (a + b)?;
    let direct = (a / &s)?;
    let scaled = ((b / a)? + 1.0)?.recip()?;
    Ok(s.lt(f64::INFINITY)?.where_cond(&direct, &scaled)?)
}

/// The Beta(a, b) log density elementwise
/// ([`crate::special::beta::beta_log_density`]), with gradients
/// ln x + ψ(a + b) − ψ(a), ln(1 − x) + ψ(a + b) − ψ(b) and (a − 1)/x − (b − 1)/(1 − x),
/// each from a scalar kernel that stays finite at the extremes (subnormal or
/// near-f64::MAX concentrations). The gradients are not differentiable again.
fn beta_log_density(a: &Tensor, b: &Tensor, x: &Tensor) -> Result<Tensor> {
    use crate::special::beta as sb;
    use crate::special::kernel::{apply3, apply3_pair, Map3};
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn bwd(
        a: &Tensor,
        b: &Tensor,
        x: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads> {
        let f = sb::beta_log_density_dab;
        let (da, db) = apply3_pair(a, b, x, "beta_log_density_dab", f, f)?;
        let f = sb::beta_log_density_dx;
        let name = "beta_log_density_dx";
        let dx = apply3(
            a,
            b,
            x,
            Map3 {
                name,
                f,
                f32: f,
                bwd: None,
            },
        )?;
        Ok((Some((g * da)?), Some((g * db)?), Some((g * dx)?)))
    }
    let f = sb::beta_log_density;
    let name = "beta_log_density";
    apply3(
        a,
        b,
        x,
        Map3 {
            name,
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

//! The Gamma distribution, and Chi2 as its special case.

use crate::constraints::Constraint;
use crate::distribution::{broadcast_to, params_methods, Distribution, Params};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::samplers::gamma_rsample;
use crate::special::{finite_or, gammainc_p};
use candle_core::Tensor;

/// The Gamma distribution with shape `concentration` α > 0 and `rate` β > 0.
///
/// Density `p(x) = β^α x^{α−1} e^{−βx} / Γ(α)` on x > 0. Mean α/β, mode
/// max(α − 1, 0)/β, variance α/β². `cdf` is the regularized incomplete gamma function
/// P(α, βx), differentiable in the value and in both parameters (torch has no Gamma
/// cdf). `rsample` draws X = G/β with G ~ Gamma(α, 1) by Marsaglia–Tsang, with the
/// exact implicit reparameterization gradient dG/dα = −(∂P(α, G)/∂α)/p(G; α)
/// (torch uses an approximation with errors up to ~5e-4). Draws that would underflow
/// (α ≪ 1) are clamped to the smallest positive normal number of the dtype.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Distribution, Gamma, Generator};
/// let alpha = Var::new(&[0.5f64, 3.0], &Device::Cpu)?;
/// let d = Gamma::new(alpha.as_tensor(), &Tensor::new(2.0f64, &Device::Cpu)?)?;
/// let x = d.rsample(&[1000], &mut Generator::new(0))?; // [1000, 2]
/// let g = x.mean_all()?.backward()?; // pathwise: d E[x]/dα = 1/β per element
/// assert!(g.get(&alpha).is_some());
/// let p = d.cdf(&Tensor::new(&[1.0f64, 1.0], &Device::Cpu)?)?;
/// assert!(p.to_vec1::<f64>()?.iter().all(|&v| v > 0.0 && v < 1.0));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gamma {
    p: Params,
}

const NAME: &str = "Gamma";

impl Gamma {
    crate::distribution::params_constructors! {
        /// Gamma(concentration, rate), parameters broadcast against each other. Parameters are
        /// tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
        "Gamma", |c: &Tensor, r: &Tensor, v| Self::build(NAME, c, r, v); concentration, rate
    }

    /// A Gamma that reports itself as `name` in errors (for Chi2 and InverseGamma,
    /// which are built on it).
    pub(crate) fn build(
        name: &'static str,
        concentration: &Tensor,
        rate: &Tensor,
        validate: Option<bool>,
    ) -> Result<Self> {
        let p = Params::new(
            name,
            &[
                ("concentration", concentration, Constraint::Positive),
                ("rate", rate, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(Gamma { p })
    }

    /// The shape parameter α, broadcast to `batch_shape`.
    pub fn concentration(&self) -> &Tensor {
        self.p.get(0)
    }

    /// The rate β, broadcast to `batch_shape`.
    pub fn rate(&self) -> &Tensor {
        self.p.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// log p(x) in f64 for an f64 value already checked and broadcast.
    pub(crate) fn log_prob_wide(&self, x: &Tensor) -> Result<Tensor> {
        let a = self.p.w_at(0, x)?;
        let r = self.p.w_at(1, x)?;
        // x = ∞: −∞ with zero gradients ((α − 1) ln x − βx is ∞ − ∞ there).
        finite_or(x, f64::NEG_INFINITY, |x| {
            let lr = r.log()?;
            let k = gamma_log_density(&a, &(&lr + x.log()?)?, &(&r * x)?)?;
            Ok((k + lr)?)
        })
    }

    /// The dtype conversion of results computed in f64.
    pub(crate) fn out(&self, t: Tensor) -> Result<Tensor> {
        self.p.out(t)
    }
}

/// ln of the Gamma(α, 1) density at z = e^l elementwise, given l and z
/// ([`crate::special::gamma::gamma_log_density`]), with gradients l − ψ(α), α − 1 and
/// −1. Taking l from logarithms keeps it exact where z under- or overflows, and the
/// kernel's Temme form keeps α ≳ 1e305 finite.
pub(crate) fn gamma_log_density(a: &Tensor, l: &Tensor, z: &Tensor) -> Result<Tensor> {
    use crate::special::kernel::{apply3, Map3};
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn bwd(
        a: &Tensor,
        l: &Tensor,
        _z: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads> {
        let ga = (g * (l - crate::special::digamma(a)?)?)?;
        let gl = (g * (a - 1.0)?)?;
        Ok((Some(ga), Some(gl), Some(g.neg()?)))
    }
    let f = crate::special::gamma::gamma_log_density;
    let name = "gamma_log_density";
    apply3(
        a,
        l,
        z,
        Map3 {
            name,
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// The entropy of Gamma(α, 1) (`inverse`: of InverseGamma(α, 1)) elementwise, with
/// its α-gradient: the scalar kernels [`crate::special::gamma::gamma_entropy`] and
/// [`crate::special::gamma::inv_gamma_entropy`], stable for every α > 0.
pub(crate) fn gamma_entropy_t(a: &Tensor, inverse: bool) -> Result<Tensor> {
    use crate::special::gamma as g;
    use crate::special::kernel::{apply1, Map1};
    type CResult<T> = candle_core::Result<T>;
    fn d_gamma(x: &Tensor, _y: &Tensor, grad: &Tensor) -> CResult<Tensor> {
        let name = "gamma_entropy_grad";
        grad * apply1(
            x,
            Map1 {
                name,
                f: g::gamma_entropy_da,
                bwd: None,
            },
        )?
    }
    fn d_inv(x: &Tensor, _y: &Tensor, grad: &Tensor) -> CResult<Tensor> {
        let name = "inv_gamma_entropy_grad";
        grad * apply1(
            x,
            Map1 {
                name,
                f: g::inv_gamma_entropy_da,
                bwd: None,
            },
        )?
    }
    if inverse {
        let (name, f) = ("inv_gamma_entropy", g::inv_gamma_entropy);
        apply1(
            a,
            Map1 {
                name,
                f,
                bwd: Some(d_inv),
            },
        )
    } else {
        let (name, f) = ("gamma_entropy", g::gamma_entropy);
        apply1(
            a,
            Map1 {
                name,
                f,
                bwd: Some(d_gamma),
            },
        )
    }
}

impl Distribution for Gamma {
    params_methods!(p);
    fn name(&self) -> &'static str {
        self.p.dist()
    }

    fn support(&self) -> Constraint {
        Constraint::NonNegative
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let alpha = broadcast_to(self.concentration(), &shape)?;
        let rate = broadcast_to(self.rate(), &shape)?;
        gamma_rsample(&alpha, &rate, rng.next_draw())
    }

    // α ln β + (α − 1) ln x − βx − ln Γ(α)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::NonNegative)?;
        self.p.out_for(value, self.log_prob_wide(&x)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::NonNegative)?;
        let bx = (&x * self.p.w_at(1, &x)?)?;
        self.p
            .out_for(value, gammainc_p(&self.p.w_at(0, &x)?, &bx)?)
    }

    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let _ = q;
        Err(Error::NotImplemented {
            distribution: self.p.dist(),
            method: "icdf",
            reason: Some("the inverse of the incomplete gamma function is not provided yet".into()),
        })
    }

    // h(α) − ln β, h(α) = α + ln Γ(α) + (1 − α) ψ(α) by `gamma_entropy_t` (the direct
    // sum is ∞ − ∞ at α ≳ 1e305 and loses ~log₁₀ α digits before).
    fn entropy(&self) -> Result<Tensor> {
        self.p
            .out((gamma_entropy_t(self.p.w(0), false)? - self.p.w(1).log()?)?)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok((self.concentration() / self.rate())?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(((self.concentration() - 1.0)? / self.rate())?.relu()?)
    }

    fn variance(&self) -> Result<Tensor> {
        Ok((self.concentration() / self.rate().sqr()?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = Gamma::build(self.p.dist(), &t[0], &t[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

//! Relaxations of discrete draws: Gumbel-softmax (Concrete), its binary form, and the
//! straight-through estimator.

use super::{check_tau, float_dtype};
use crate::distribution::default_validate_args;
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::special::{self, rows};
use candle_core::{DType, Tensor, D};

/// A relaxed one-hot draw from the categorical law with unnormalized log-probabilities
/// `logits` over the last dimension (Jang, Gu & Poole 2017; Maddison, Mnih & Teh 2017):
///
/// `y = softmax((logits + g) / τ)`, `g_k = −ln(−ln u_k)` i.i.d. standard Gumbel,
///
/// a point of the simplex that tends to the one-hot vector of the Gumbel-max draw
/// `argmax_k(logits_k + g_k)` (an exact categorical draw) as τ → 0, and is
/// differentiable in `logits`. Its gradient is unbiased for the *relaxed* objective
/// `E[f(y)]` only: biased for `E[f(one_hot(x))]`, less so as τ shrinks (and noisier).
///
/// With `hard = true` the value is that one-hot vector and the gradient is the soft
/// one's ([`straight_through`]), as torch's `gumbel_softmax(.., hard=True)`.
///
/// - `logits`: shape `[..., K]`, K ≥ 1, f32 or f64; entries in ℝ ∪ {−∞} (−∞: a class
///   with probability 0, never selected), at least one finite entry per row.
/// - `tau`: the temperature, `0 < τ < ∞`.
///
/// Computed in f64 after subtracting each row's maximum (exact: softmax ignores a
/// shift), normalised by the crate's one log-softmax kernel
/// ([`rows::log_softmax`](crate::special::rows::log_softmax)), so logits of ±1e38 and
/// temperatures down to the smallest positive f64 neither overflow nor give NaN;
/// returned in the dtype of `logits`. The noise is one
/// uniform draw from `rng` of the shape of `logits` (thread-count independent).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{estimators::gumbel_softmax, Generator};
/// let logits = Tensor::new(&[[0.0f32, 1.0, f32::NEG_INFINITY]], &Device::Cpu)?;
/// let mut rng = Generator::new(3);
/// let y = gumbel_softmax(&logits, 0.5, false, &mut rng)?.to_vec2::<f32>()?;
/// assert!((y[0].iter().sum::<f32>() - 1.0).abs() < 1e-6 && y[0][2] == 0.0);
/// let h = gumbel_softmax(&logits, 0.5, true, &mut rng)?.to_vec2::<f32>()?;
/// assert_eq!(h[0].iter().filter(|&&v| v == 1.0).count(), 1);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn gumbel_softmax(
    logits: &Tensor,
    tau: f64,
    hard: bool,
    rng: &mut Generator,
) -> Result<Tensor> {
    const NAME: &str = "gumbel_softmax";
    check_tau(NAME, tau)?;
    let dtype = float_dtype(NAME, &[logits])?;
    let k = match logits.dims().last() {
        Some(&k) if k >= 1 => k,
        _ => {
            return Err(Error::shape(
                NAME,
                format!(
                    "logits of shape {:?}: need a last dimension of K >= 1 categories",
                    logits.dims()
                ),
            ))
        }
    };
    if default_validate_args() {
        check_categorical_logits(NAME, logits, k)?;
    }
    let dev = logits.device();
    let u = rng.uniform(logits.dims(), DType::F64, dev)?;
    if logits.elem_count() == 0 {
        return Ok(logits.zeros_like()?);
    }
    let gumbel = u.log()?.neg()?.log()?.neg()?;
    let y = (logits.to_dtype(DType::F64)? + gumbel)?;
    // The detached shift keeps every exponent <= 0 (softmax ignores it), so (y − max)/τ
    // cannot overflow whatever the logits and τ; dividing by a tensor, not by `tau` as
    // f64, because candle turns `/ f64` into `* (1/τ)`, +inf for a subnormal τ, and
    // 0 · inf = NaN at the row maximum.
    let my = y.detach().max_keepdim(D::Minus1)?;
    let z = y
        .broadcast_sub(&my)?
        .broadcast_div(&Tensor::new(tau, dev)?)?;
    let soft = rows::log_softmax(&z)?.exp()?.to_dtype(dtype)?;
    if !hard {
        return Ok(soft);
    }
    let idx = y.detach().argmax_keepdim(D::Minus1)?;
    let one_hot = Tensor::arange(0u32, k as u32, dev)?
        .broadcast_eq(&idx)?
        .to_dtype(dtype)?;
    straight_through(&one_hot, &soft)
}

/// A relaxed Bernoulli draw (binary Concrete, "Gumbel-sigmoid"): with log-odds
/// `logits` l and temperature τ,
///
/// `y = σ((l + L) / τ)`, `L = ln u − ln(1 − u)` standard logistic,
///
/// in (0, 1), differentiable in l, tending to the Bernoulli(σ(l)) draw `1[l + L > 0]` as
/// τ → 0 (the same law as `RelaxedBernoulli(τ, logits = l).rsample()`). With
/// `hard = true` the value is that 0/1 draw and the gradient the soft one's
/// ([`straight_through`]). Logits in ℝ ∪ {±∞} (±∞ give 1 and 0 with zero gradient), any
/// shape, f32 or f64; computed in f64, returned in the dtype of `logits`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{estimators::gumbel_sigmoid, Generator};
/// let l = Tensor::new(&[-1e38f32, 0.0, 1e38], &Device::Cpu)?;
/// let y = gumbel_sigmoid(&l, 0.1, false, &mut Generator::new(1))?.to_vec1::<f32>()?;
/// assert!(y[0] == 0.0 && y[1] > 0.0 && y[1] < 1.0 && y[2] == 1.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn gumbel_sigmoid(
    logits: &Tensor,
    tau: f64,
    hard: bool,
    rng: &mut Generator,
) -> Result<Tensor> {
    const NAME: &str = "gumbel_sigmoid";
    check_tau(NAME, tau)?;
    let dtype = float_dtype(NAME, &[logits])?;
    if default_validate_args() {
        crate::distribution::check_param(NAME, "logits", logits, &crate::Constraint::Real)?;
    }
    let dev = logits.device();
    let u = rng.uniform(logits.dims(), DType::F64, dev)?;
    let noise = (u.log()? - special::log1p(&u.neg()?)?)?;
    let x = (logits.to_dtype(DType::F64)? + &noise)?;
    let z = x.broadcast_div(&Tensor::new(tau, dev)?)?;
    let soft = special::sigmoid(&z)?.to_dtype(dtype)?;
    if !hard {
        return Ok(soft);
    }
    let bit = x.detach().gt(0.0)?.to_dtype(dtype)?;
    straight_through(&bit, &soft)
}

/// The straight-through estimator (Bengio, Léonard & Courville 2013): a tensor whose
/// **value is `hard`** and whose **gradient is `soft`'s**,
///
/// `hard + (soft − soft.detach())`
///
/// (the bracket is zero in value, so the value is `hard` exactly). Use it to feed a
/// discrete decision forward while training through a relaxation. `hard` and `soft`
/// must have the same shape; `hard` is brought to `soft`'s dtype and detached.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::estimators::straight_through;
/// let x = Var::new(&[0.3f64, 0.7], &Device::Cpu)?;
/// let hard = Tensor::new(&[0.0f64, 1.0], &Device::Cpu)?;
/// let st = straight_through(&hard, &(x.as_tensor() * 2.0)?)?;
/// assert_eq!(st.to_vec1::<f64>()?, [0.0, 1.0]);
/// let g = st.sum_all()?.backward()?;
/// assert_eq!(g.get(&x).unwrap().to_vec1::<f64>()?, [2.0, 2.0]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn straight_through(hard: &Tensor, soft: &Tensor) -> Result<Tensor> {
    const NAME: &str = "straight_through";
    let dtype = float_dtype(NAME, &[soft])?;
    if hard.dims() != soft.dims() {
        return Err(Error::shape(
            NAME,
            format!(
                "hard of shape {:?} and soft of shape {:?} differ",
                hard.dims(),
                soft.dims()
            ),
        ));
    }
    let hard = hard.detach().to_dtype(dtype)?;
    Ok((hard + (soft - soft.detach())?)?)
}

/// Categorical logits: no NaN, no +∞, and a finite maximum in every row (a row of −∞
/// has no probability to normalise).
fn check_categorical_logits(func: &'static str, logits: &Tensor, k: usize) -> Result<()> {
    let v = crate::distribution::to_f64_vec(logits)?;
    let bad = |index: usize, found: f64, constraint: &str| Error::InvalidParameter {
        distribution: func,
        parameter: "logits",
        constraint: constraint.to_string(),
        found,
        index,
    };
    for (r, row) in v.chunks(k).enumerate() {
        if let Some(j) = row.iter().position(|x| x.is_nan() || *x == f64::INFINITY) {
            return Err(bad(r * k + j, row[j], "real or -inf (x < inf)"));
        }
        if row.iter().all(|&x| x == f64::NEG_INFINITY) {
            return Err(bad(
                r * k,
                row[0],
                "at least one finite entry per row (a row of -inf has no probability to normalise)",
            ));
        }
    }
    Ok(())
}

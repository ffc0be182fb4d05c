//! The transforms' property suite: every transform of the crate (and its inverse, and
//! composites built from them), driven by proptest over fixed-seed random inputs in
//! four tiers: ordinary values (`|x| ≤ 20`, positives in `[1e−3, 1e3]`, unit values
//! away from 0 and 1), extreme finite values (0, −0, subnormals, `MIN_POSITIVE`,
//! 1e±300, `±MAX`, `±f32::MAX`, the ends of the unit interval), infinities, and NaN;
//! f32 and f64; batch shapes with zero-size dimensions; wrong event shapes; hostile
//! parameters (0, ±∞, NaN, subnormal, `MAX`) for the parameterized transforms.
//!
//! Invariants checked (see `check_case`):
//! - no call panics (each runs under `catch_unwind`) and every case returns within
//!   `CASE_TIMEOUT` (each case runs on a worker thread);
//! - bad constructor parameters give [`Error::InvalidParameter`] naming the transform
//!   and the parameter; valid ones construct;
//! - a wrong event shape gives `Error::Shape` or `Error::InvalidArgument` (never a bare
//!   candle error or a panic);
//! - for inputs in the domain (`domain().check` passes) that hold no NaN (ordinary and
//!   extreme tiers): `forward` keeps the dtype, has the shape `forward_shape` promises,
//!   holds no NaN and lies in the codomain (`codomain().check`) or, for extreme
//!   inputs only, on its boundary (a value that under- or overflows to the edge, such
//!   as `exp(−1e300) = 0` for a positive codomain); `log_abs_det_jacobian` has the
//!   batch shape, holds no NaN, is finite for ordinary inputs (±∞ only for extreme
//!   ones) and equals the fused `forward_and_log_det` (to 1e3·ε relative); the inverse
//!   of the output holds no NaN and has the input's shape; non-bijective maps return a
//!   typed `NotImplemented` log-det and pass the pseudo-inverse check
//!   `forward(inverse(forward(x))) ≈ forward(x)`;
//! - round trip `inverse(forward(x)) ≈ x` where the map does not saturate: elementwise
//!   maps to `256·ε·(|x| + |y|·e^{−ladj})` (the second term is the rounding of `y`
//!   carried back through the inverse: the condition of the round trip), other maps
//!   for ordinary inputs to `1e4·ε·max(1, |x|)`;
//! - for ordinary inputs, the gradient of `Σ forward(x) + Σ ladj` with respect to `x`
//!   holds no NaN.
//!
//! Infinite inputs in the domain (the reals hold ±∞) of a scalar map must not give NaN
//! from `forward` or the log-det (findings tagged `[infinite inputs]`); otherwise
//! infinite and NaN inputs are driven for panics, hangs and error types only. Failures are
//! collected, not raised at the first: one run lists every class (transform / method /
//! what) with a count and the first input that showed it, and prints the counts
//! (cases, calls, errors by kind, panics, hangs, NaN findings, outputs saturated to the
//! codomain's boundary, inputs the domain check refused). `CANDLE_DIST_PROPTEST_CASES`
//! sets the number of cases (default `DEFAULT_CASES`), `CANDLE_DIST_PROPTEST_THREADS`
//! the worker shards, `CANDLE_DIST_PROPTEST_ONLY` (comma-separated labels) restricts the
//! run to some entries; `CANDLE_DIST_PROPTEST_STRICT=0` reports findings for extreme
//! and infinite inputs without failing.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::transforms::{
    AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
    CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
    PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
    SoftmaxTransform, SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform,
    Transform,
};
use candle_distributions::{Constraint, Error, Normal, Result};
use proptest::prelude::*;
use std::collections::BTreeMap;

use crate::common;
use common::property_harness::{
    self as harness, eps, host, Merge, Progress, Subject, F32_MAX, F32_MINP, F32_SUB,
};

/// Cases CI runs (about 5 s on 2 cores in the test profile).
const DEFAULT_CASES: u32 = 20000;

// ---------------------------------------------------------------------------------
// The registry: one entry per transform (or inverse, or composite).
// ---------------------------------------------------------------------------------

/// How the inputs of an entry are drawn (each tier has its pools).
#[derive(Clone, Copy, Debug)]
enum Dom {
    /// Reals.
    Real,
    /// (0, ∞).
    Pos,
    /// [0, 1].
    Unit,
    /// [−1, 1].
    Sym,
    /// Points of the simplex (last dimension).
    Simplex,
    /// Lower-triangular matrices with positive diagonal.
    LowerChol,
    /// Symmetric positive-definite matrices.
    PosDef,
    /// Cholesky factors of correlation matrices.
    CorrChol,
    /// The image of real inputs under the entry's `base` (for inverses of composites).
    Image,
}

type Build = fn(&[f64], DType) -> Result<Box<dyn Transform>>;

struct Entry {
    label: &'static str,
    /// Names an error may carry (the transform the user built, or its parts).
    names: &'static [&'static str],
    /// Parameter names (drawn values, in order).
    params: &'static [&'static str],
    /// Whether drawn parameter values are valid in the case's dtype (an independent
    /// host predicate).
    valid: fn(&[f64], DType) -> bool,
    build: Build,
    dom: Dom,
    /// The event shape of one input.
    event: fn(&mut Rng) -> Vec<usize>,
    /// For `Dom::Image`: the transform whose outputs are this entry's inputs, and the
    /// event shape of its inputs.
    base: Option<Build>,
    /// Elementwise map (same shape in and out, log-det per element): the round trip
    /// is checked with the conditioning bound.
    elementwise: bool,
    /// Whether hostile parameter values are drawn (not for `Dom::Image` entries, whose
    /// inputs must stay inside the image of their base).
    hostile_params: bool,
}

fn bx<T: Transform + 'static>(t: T) -> Result<Box<dyn Transform>> {
    Ok(Box::new(t))
}
fn no_params(_: &[f64], _: DType) -> bool {
    true
}
fn finite_nonzero(p: &[f64], _: DType) -> bool {
    p.iter().all(|v| v.is_finite() && *v != 0.0)
}
fn affine_valid(p: &[f64], _: DType) -> bool {
    p[0].is_finite() && p[1].is_finite() && p[1] != 0.0
}
/// Tensor parameters hold the values as the dtype rounds them.
fn as_dtype(p: &[f64], dt: DType) -> Vec<f64> {
    p.iter().map(|&v| cast(v, dt, false)).collect()
}
fn finite_nonzero_tensor(p: &[f64], dt: DType) -> bool {
    finite_nonzero(&as_dtype(p, dt), dt)
}
fn affine_valid_tensor(p: &[f64], dt: DType) -> bool {
    affine_valid(&as_dtype(p, dt), dt)
}
fn scalar_event(_: &mut Rng) -> Vec<usize> {
    vec![]
}
fn vector_event(r: &mut Rng) -> Vec<usize> {
    vec![1 + r.below(4)]
}
fn matrix_event(r: &mut Rng) -> Vec<usize> {
    let n = 1 + r.below(3);
    vec![n, n]
}
fn corr_vector_event(r: &mut Rng) -> Vec<usize> {
    let n = 2 + r.below(3);
    vec![n * (n - 1) / 2]
}
fn corr_matrix_event(r: &mut Rng) -> Vec<usize> {
    let n = 1 + r.below(4);
    vec![n, n]
}
fn simplex_event(r: &mut Rng) -> Vec<usize> {
    vec![2 + r.below(4)]
}
fn reshape_in(_: &mut Rng) -> Vec<usize> {
    vec![2, 3]
}
fn reshape_out(_: &mut Rng) -> Vec<usize> {
    vec![6]
}
fn three(_: &mut Rng) -> Vec<usize> {
    vec![3]
}
fn two(_: &mut Rng) -> Vec<usize> {
    vec![2]
}
fn scalar_tensor(v: f64, dt: DType) -> Result<Tensor> {
    Ok(Tensor::new(v, &Device::Cpu)?.to_dtype(dt)?)
}

fn b_exp(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(ExpTransform)
}
fn b_power(p: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(PowerTransform::new(p[0])?)
}
fn b_power_tensor(p: &[f64], dt: DType) -> Result<Box<dyn Transform>> {
    bx(PowerTransform::new(&scalar_tensor(p[0], dt)?)?)
}
fn b_sigmoid(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(SigmoidTransform)
}
fn b_softplus(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(SoftplusTransform)
}
fn b_tanh(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(TanhTransform)
}
fn b_abs(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(AbsTransform)
}
fn b_affine(p: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(AffineTransform::new(p[0], p[1])?)
}
fn b_affine_tensor(p: &[f64], dt: DType) -> Result<Box<dyn Transform>> {
    bx(AffineTransform::new(
        &scalar_tensor(p[0], dt)?,
        &scalar_tensor(p[1], dt)?,
    )?)
}
fn b_affine_event(p: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(AffineTransform::new(p[0], p[1])?.with_event_dim(1))
}
fn b_cdf(_: &[f64], dt: DType) -> Result<Box<dyn Transform>> {
    let d = Normal::new(&scalar_tensor(0.3, dt)?, 1.7)?;
    bx(CumulativeDistributionTransform::new(Box::new(d)))
}
fn b_softmax(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(SoftmaxTransform)
}
fn b_stick(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(StickBreakingTransform)
}
fn b_lower_chol(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(LowerCholeskyTransform)
}
fn b_pos_def(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(PositiveDefiniteTransform)
}
fn b_corr_chol(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(CorrCholeskyTransform)
}
fn b_reshape(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(ReshapeTransform::new(&[2, 3], &[6])?)
}
fn b_cat(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(CatTransform::new(
        vec![Box::new(ExpTransform), Box::new(TanhTransform)],
        -1,
        Some(vec![1, 2]),
    )?)
}
fn b_stack(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(StackTransform::new(
        vec![Box::new(ExpTransform), Box::new(SigmoidTransform)],
        -1,
    ))
}
fn b_independent(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(IndependentTransform::new(Box::new(SoftplusTransform), 1))
}
fn b_compose_scalar(p: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(ComposeTransform::new(vec![
        Box::new(ExpTransform),
        Box::new(AffineTransform::new(p[0], p[1])?),
    ]))
}
fn b_compose_simplex(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(ComposeTransform::new(vec![
        Box::new(AffineTransform::new(0.5, 3.0)?),
        Box::new(StickBreakingTransform),
    ]))
}
fn b_compose_empty(_: &[f64], _: DType) -> Result<Box<dyn Transform>> {
    bx(ComposeTransform::new(vec![]))
}

macro_rules! inverse_of {
    ($name:ident, $b:ident) => {
        fn $name(p: &[f64], dt: DType) -> Result<Box<dyn Transform>> {
            Ok($b(p, dt)?.inv())
        }
    };
}
inverse_of!(i_exp, b_exp);
inverse_of!(i_power, b_power);
inverse_of!(i_sigmoid, b_sigmoid);
inverse_of!(i_softplus, b_softplus);
inverse_of!(i_tanh, b_tanh);
inverse_of!(i_abs, b_abs);
inverse_of!(i_affine, b_affine);
inverse_of!(i_cdf, b_cdf);
inverse_of!(i_softmax, b_softmax);
inverse_of!(i_stick, b_stick);
inverse_of!(i_lower_chol, b_lower_chol);
inverse_of!(i_pos_def, b_pos_def);
inverse_of!(i_corr_chol, b_corr_chol);
inverse_of!(i_reshape, b_reshape);
inverse_of!(i_cat, b_cat);
inverse_of!(i_stack, b_stack);
inverse_of!(i_independent, b_independent);
inverse_of!(i_compose_scalar, b_compose_scalar);
inverse_of!(i_compose_simplex, b_compose_simplex);

const AFFINE_P: &[&str] = &["loc", "scale"];

/// One row per entry: label, names its errors may carry, parameters, their validity,
/// the builder, the input domain, the event shape, whether it is elementwise.
// Kept as a table: one entry per line reads better than rustfmt's one argument per line.
#[rustfmt::skip]
fn registry() -> Vec<Entry> {
    #[allow(clippy::too_many_arguments)]
    fn e(label: &'static str, names: &'static [&'static str], params: &'static [&'static str], valid: fn(&[f64], DType) -> bool, build: Build, dom: Dom, event: fn(&mut Rng) -> Vec<usize>, elementwise: bool) -> Entry {
        Entry { label, names, params, valid, build, dom, event, base: None, elementwise, hostile_params: true }
    }
    /// An entry whose inputs are the outputs of `base` on real inputs.
    #[allow(clippy::too_many_arguments)]
    fn image(label: &'static str, names: &'static [&'static str], build: Build, base: Build, event: fn(&mut Rng) -> Vec<usize>, params: &'static [&'static str], valid: fn(&[f64], DType) -> bool, elementwise: bool) -> Entry {
        Entry { label, names, params, valid, build, dom: Dom::Image, event, base: Some(base), elementwise, hostile_params: false }
    }
    use Dom::*;
    const EXP: &[&str] = &["ExpTransform"];
    const POW: &[&str] = &["PowerTransform"];
    const AFF: &[&str] = &["AffineTransform"];
    const CDF: &[&str] = &["CumulativeDistributionTransform", "Normal"];
    const CAT: &[&str] = &["CatTransform", "ExpTransform", "TanhTransform"];
    const STACK: &[&str] = &["StackTransform", "ExpTransform", "SigmoidTransform"];
    const IND: &[&str] = &["IndependentTransform", "SoftplusTransform"];
    const C_EA: &[&str] = &["ComposeTransform", "ExpTransform", "AffineTransform"];
    const C_AS: &[&str] = &["ComposeTransform", "AffineTransform", "StickBreakingTransform"];
    vec![
        e("Exp", EXP, &[], no_params, b_exp, Real, scalar_event, true),
        e("Exp.inv", EXP, &[], no_params, i_exp, Pos, scalar_event, true),
        e("Power", POW, &["exponent"], finite_nonzero, b_power, Pos, scalar_event, true),
        e("Power.inv", POW, &["exponent"], finite_nonzero, i_power, Pos, scalar_event, true),
        e("Power(tensor)", POW, &["exponent"], finite_nonzero_tensor, b_power_tensor, Pos, scalar_event, true),
        e("Sigmoid", &["SigmoidTransform"], &[], no_params, b_sigmoid, Real, scalar_event, true),
        e("Sigmoid.inv", &["SigmoidTransform"], &[], no_params, i_sigmoid, Unit, scalar_event, true),
        e("Softplus", &["SoftplusTransform"], &[], no_params, b_softplus, Real, scalar_event, true),
        e("Softplus.inv", &["SoftplusTransform"], &[], no_params, i_softplus, Pos, scalar_event, true),
        e("Tanh", &["TanhTransform"], &[], no_params, b_tanh, Real, scalar_event, true),
        e("Tanh.inv", &["TanhTransform"], &[], no_params, i_tanh, Sym, scalar_event, true),
        e("Abs", &["AbsTransform"], &[], no_params, b_abs, Real, scalar_event, true),
        e("Abs.inv", &["AbsTransform"], &[], no_params, i_abs, Pos, scalar_event, true),
        e("Affine", AFF, AFFINE_P, affine_valid, b_affine, Real, scalar_event, true),
        e("Affine.inv", AFF, AFFINE_P, affine_valid, i_affine, Real, scalar_event, true),
        e("Affine(tensor)", AFF, AFFINE_P, affine_valid_tensor, b_affine_tensor, Real, scalar_event, true),
        e("Affine(event_dim 1)", AFF, AFFINE_P, affine_valid, b_affine_event, Real, vector_event, false),
        e("CumulativeDistribution", CDF, &[], no_params, b_cdf, Real, scalar_event, true),
        e("CumulativeDistribution.inv", CDF, &[], no_params, i_cdf, Unit, scalar_event, true),
        e("Softmax", &["SoftmaxTransform"], &[], no_params, b_softmax, Real, vector_event, false),
        e("Softmax.inv", &["SoftmaxTransform"], &[], no_params, i_softmax, Simplex, simplex_event, false),
        e("StickBreaking", &["StickBreakingTransform"], &[], no_params, b_stick, Real, vector_event, false),
        e("StickBreaking.inv", &["StickBreakingTransform"], &[], no_params, i_stick, Simplex, simplex_event, false),
        e("LowerCholesky", &["LowerCholeskyTransform"], &[], no_params, b_lower_chol, Real, matrix_event, false),
        e("LowerCholesky.inv", &["LowerCholeskyTransform"], &[], no_params, i_lower_chol, LowerChol, matrix_event, false),
        e("PositiveDefinite", &["PositiveDefiniteTransform"], &[], no_params, b_pos_def, Real, matrix_event, false),
        e("PositiveDefinite.inv", &["PositiveDefiniteTransform"], &[], no_params, i_pos_def, PosDef, matrix_event, false),
        e("CorrCholesky", &["CorrCholeskyTransform"], &[], no_params, b_corr_chol, Real, corr_vector_event, false),
        e("CorrCholesky.inv", &["CorrCholeskyTransform"], &[], no_params, i_corr_chol, CorrChol, corr_matrix_event, false),
        e("Reshape", &["ReshapeTransform"], &[], no_params, b_reshape, Real, reshape_in, false),
        e("Reshape.inv", &["ReshapeTransform"], &[], no_params, i_reshape, Real, reshape_out, false),
        e("Cat", CAT, &[], no_params, b_cat, Real, three, false),
        image("Cat.inv", CAT, i_cat, b_cat, three, &[], no_params, false),
        e("Stack", STACK, &[], no_params, b_stack, Real, two, false),
        image("Stack.inv", STACK, i_stack, b_stack, two, &[], no_params, false),
        e("IndependentTransform", IND, &[], no_params, b_independent, Real, vector_event, false),
        image("IndependentTransform.inv", IND, i_independent, b_independent, vector_event, &[], no_params, false),
        // Compositions are checked with the plain round-trip bound: rounding of the
        // intermediate values (2·eˣ before adding −2) is not in the last map's condition.
        e("Compose[Exp, Affine]", C_EA, AFFINE_P, affine_valid, b_compose_scalar, Real, scalar_event, false),
        image("Compose[Exp, Affine].inv", C_EA, i_compose_scalar, b_compose_scalar, scalar_event, AFFINE_P, affine_valid, false),
        e("Compose[Affine, StickBreaking]", C_AS, &[], no_params, b_compose_simplex, Real, vector_event, false),
        image("Compose[Affine, StickBreaking].inv", C_AS, i_compose_simplex, b_compose_simplex, vector_event, &[], no_params, false),
        e("Compose[]", &["ComposeTransform"], &[], no_params, b_compose_empty, Real, scalar_event, true),
    ]
}

// ---------------------------------------------------------------------------------
// Value pools and shapes.
// ---------------------------------------------------------------------------------

const REAL_EXTREME: &[f64] = &[
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    1e-300,
    F32_SUB,
    1e300,
    -1e300,
    f64::MAX,
    -f64::MAX,
    F32_MAX,
    -F32_MAX,
    1e8,
    -1e8,
    1e3,
    -1e3,
    -745.5,
    40.0,
    -40.0,
];
const POS_EXTREME: &[f64] = &[
    5e-324,
    F32_SUB,
    F32_MINP,
    f64::MIN_POSITIVE,
    1e-300,
    1e-30,
    1e30,
    1e300,
    F32_MAX,
    f64::MAX,
];
const UNIT_EXTREME: &[f64] = &[
    0.0,
    1.0,
    5e-324,
    1e-300,
    F32_MINP,
    1e-8,
    1.0 - 1e-8,
    1.0 - 1e-16,
];
const SYM_EXTREME: &[f64] = &[
    -1.0,
    1.0,
    0.0,
    -0.0,
    5e-324,
    1.0 - 1e-16,
    -1.0 + 1e-16,
    1e-300,
];
const PARAM_HOSTILE: &[f64] = &[
    0.0,
    -0.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    5e-324,
    f64::MAX,
    -f64::MAX,
    1e-300,
    1e300,
];
const PARAM_ORDINARY: &[f64] = &[0.5, -1.3, 2.0, 3.75, -0.25, 1.0, 7.0, -2.0];

const BATCHES: &[&[usize]] = &[&[], &[1], &[2], &[3], &[0], &[2, 3], &[2, 0]];

/// SplitMix64 driven by the proptest seed.
struct Rng(u64);

impl Rng {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.u64() % n as u64) as usize
    }
    fn pick(&mut self, pool: &[f64]) -> f64 {
        pool[self.below(pool.len())]
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// Input tiers.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Tier {
    Ordinary,
    Extreme,
    Infinite,
    Nan,
}

/// One scalar of a pool: the tier's special values mixed with ordinary ones.
fn draw(
    r: &mut Rng,
    tier: Tier,
    ordinary: impl Fn(&mut Rng) -> f64,
    extreme: &[f64],
    inf: &[f64],
) -> f64 {
    match (tier, r.below(3)) {
        (Tier::Ordinary, _) | (_, 0) => ordinary(r),
        (Tier::Extreme, _) | (Tier::Infinite, 1) | (Tier::Nan, 1) => r.pick(extreme),
        (Tier::Infinite, _) => r.pick(inf),
        (Tier::Nan, _) => f64::NAN,
    }
}

/// A real value; ordinary ones within `±span`.
fn real_value(r: &mut Rng, tier: Tier, span: f64) -> f64 {
    draw(
        r,
        tier,
        |r| {
            if r.below(4) == 0 {
                r.pick(&[0.0, -0.0, 1e-8, 0.5, -1.3])
            } else {
                r.uniform(-span, span)
            }
        },
        REAL_EXTREME,
        &[f64::INFINITY, f64::NEG_INFINITY],
    )
}
fn pos_value(r: &mut Rng, tier: Tier) -> f64 {
    draw(
        r,
        tier,
        |r| 10f64.powf(r.uniform(-3.0, 3.0)),
        POS_EXTREME,
        &[f64::INFINITY],
    )
}
fn unit_value(r: &mut Rng, tier: Tier) -> f64 {
    draw(
        r,
        tier,
        |r| r.uniform(1e-6, 1.0 - 1e-6),
        UNIT_EXTREME,
        &[f64::INFINITY, -0.5],
    )
}
fn sym_value(r: &mut Rng, tier: Tier) -> f64 {
    draw(
        r,
        tier,
        |r| r.uniform(-1.0 + 1e-6, 1.0 - 1e-6),
        SYM_EXTREME,
        &[f64::INFINITY, 2.0],
    )
}

/// A finite f64 value as the dtype holds it, kept finite for the finite tiers (f64
/// extremes beyond f32's range become ±f32::MAX).
fn cast(v: f64, dt: DType, keep_finite: bool) -> f64 {
    if dt == DType::F64 {
        return v;
    }
    if keep_finite && v.is_finite() && v.abs() > F32_MAX {
        return F32_MAX.copysign(v);
    }
    v as f32 as f64
}

/// Inputs of shape `batch ++ event` for a domain; ordinary reals within `±span`.
fn draw_input(
    r: &mut Rng,
    dom: Dom,
    tier: Tier,
    span: f64,
    batch: &[usize],
    event: &[usize],
) -> Vec<f64> {
    let n_batch: usize = batch.iter().product();
    let n_event: usize = event.iter().product();
    let mut out = Vec::with_capacity(n_batch * n_event);
    for _ in 0..n_batch {
        match dom {
            Dom::Real | Dom::Image => out.extend((0..n_event).map(|_| real_value(r, tier, span))),
            Dom::Pos => out.extend((0..n_event).map(|_| pos_value(r, tier))),
            Dom::Unit => out.extend((0..n_event).map(|_| unit_value(r, tier))),
            Dom::Sym => out.extend((0..n_event).map(|_| sym_value(r, tier))),
            Dom::Simplex => {
                let v: Vec<f64> = (0..n_event)
                    .map(|_| match tier {
                        Tier::Ordinary => 10f64.powf(r.uniform(-3.0, 0.0)),
                        _ => r.pick(&[0.0, 1e-300, 5e-324, 1e-30, 1.0, 0.5, 1e-8]),
                    })
                    .collect();
                let s: f64 = v.iter().sum();
                if s > 0.0 {
                    out.extend(v.iter().map(|x| x / s));
                } else {
                    out.extend((0..n_event).map(|i| if i == 0 { 1.0 } else { 0.0 }));
                }
                if tier == Tier::Nan && n_event > 0 {
                    let k = out.len() - 1;
                    out[k] = f64::NAN;
                }
            }
            Dom::LowerChol | Dom::PosDef | Dom::CorrChol => {
                let n = event[0];
                let mut l = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..=i {
                        l[i * n + j] = if i == j {
                            match tier {
                                Tier::Ordinary => r.uniform(0.5, 2.0),
                                _ => pos_value(r, tier),
                            }
                        } else {
                            match tier {
                                Tier::Ordinary => r.uniform(-1.0, 1.0),
                                _ => real_value(r, tier, 1.0),
                            }
                        };
                    }
                }
                match dom {
                    Dom::LowerChol => out.extend(l),
                    Dom::CorrChol => {
                        for i in 0..n {
                            let norm = (0..=i).map(|j| l[i * n + j].powi(2)).sum::<f64>().sqrt();
                            for j in 0..n {
                                out.push(if j <= i { l[i * n + j] / norm } else { 0.0 });
                            }
                        }
                    }
                    _ => {
                        for i in 0..n {
                            for j in 0..n {
                                out.push((0..n).map(|k| l[i * n + k] * l[j * n + k]).sum());
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------------

struct Case {
    entry: usize,
    dtype: DType,
    tier: Tier,
    params: Vec<f64>,
    batch: Vec<usize>,
    event: Vec<usize>,
    /// A wrong event shape instead (hostile-shape mode).
    bad_shape: Option<Vec<usize>>,
    x: Vec<f64>,
    seed: u64,
}

impl Case {
    fn describe(&self, reg: &[Entry]) -> String {
        let shown: Vec<f64> = self.x.iter().take(12).copied().collect();
        format!(
            "{}({:?}) {:?} {:?} batch {:?} event {:?}{} x = {:?}{} (seed {:#x})",
            reg[self.entry].label,
            self.params,
            self.dtype,
            self.tier,
            self.batch,
            self.event,
            self.bad_shape
                .as_ref()
                .map_or(String::new(), |s| format!(" BAD SHAPE {s:?}")),
            shown,
            if self.x.len() > 12 { " …" } else { "" },
            self.seed
        )
    }
}

type Raw = (usize, u8, bool, usize, u8, u64);

fn raw_strategy(n_entries: usize) -> impl Strategy<Value = Raw> {
    (
        0..n_entries,
        0u8..8,
        any::<bool>(),
        0..BATCHES.len(),
        any::<u8>(),
        any::<u64>(),
    )
}

fn materialize(reg: &[Entry], raw: Raw) -> Case {
    let (ei, tier, f64_, bi, k, seed) = raw;
    let e = &reg[ei];
    let mut r = Rng(seed);
    let tier = match tier {
        0..=3 => Tier::Ordinary,
        4 | 5 => Tier::Extreme,
        6 => Tier::Infinite,
        _ => Tier::Nan,
    };
    let dtype = if f64_ { DType::F64 } else { DType::F32 };
    let params: Vec<f64> = e
        .params
        .iter()
        .map(|_| {
            if k % 4 == 0 && e.hostile_params {
                r.pick(PARAM_HOSTILE)
            } else {
                r.pick(PARAM_ORDINARY)
            }
        })
        .collect();
    // Valid parameters outside [1e−30, 1e30] make outputs saturate like extreme inputs.
    let tier = if tier == Tier::Ordinary
        && params
            .iter()
            .any(|p| *p != 0.0 && !(1e-30..=1e30).contains(&p.abs()))
    {
        Tier::Extreme
    } else {
        tier
    };
    let batch = BATCHES[bi].to_vec();
    let event = (e.event)(&mut r);
    let bad_shape = (k % 8 == 1).then(|| {
        let mut s = event.clone();
        match r.below(4) {
            0 => s.clear(),
            1 if !s.is_empty() => {
                let last = s.len() - 1;
                s[last] += 1;
            }
            2 if !s.is_empty() => {
                let last = s.len() - 1;
                s[last] = 0;
            }
            _ => s.push(2),
        }
        s
    });
    let x = match &bad_shape {
        Some(s) => {
            let full: Vec<usize> = batch.iter().chain(s).copied().collect();
            let n: usize = full.iter().product();
            (0..n)
                .map(|_| real_value(&mut r, Tier::Ordinary, 5.0))
                .collect()
        }
        // Maps that are not elementwise (matrices, simplices, products of parts) are
        // well conditioned for ordinary inputs up to |x| ≈ 5; elementwise maps carry
        // their own condition bound.
        None => {
            let span = if e.elementwise { 20.0 } else { 5.0 };
            draw_input(&mut r, e.dom, tier, span, &batch, &event)
        }
    };
    let keep_finite = matches!(tier, Tier::Ordinary | Tier::Extreme);
    let x = x.into_iter().map(|v| cast(v, dtype, keep_finite)).collect();
    Case {
        entry: ei,
        dtype,
        tier,
        params,
        batch,
        event,
        bad_shape,
        x,
        seed,
    }
}

// ---------------------------------------------------------------------------------
// Recording.
// ---------------------------------------------------------------------------------

const EXTREME_TAG: &str = "[extreme inputs] ";
const INFINITE_TAG: &str = "[infinite inputs] ";

/// The transforms' own counters.
#[derive(Default)]
struct Counts {
    saturated: u64,
    refused_inputs: BTreeMap<String, u64>,
    round_trips: u64,
}

impl Merge for Counts {
    fn merge(&mut self, o: Counts) {
        for (k, v) in o.refused_inputs {
            *self.refused_inputs.entry(k).or_default() += v;
        }
        self.saturated += o.saturated;
        self.round_trips += o.round_trips;
    }
}

type Tally = harness::Tally<Counts>;
type Ctx<'a> = harness::Ctx<'a, Entry, Counts>;

impl Subject for Entry {
    fn label(&self) -> &'static str {
        self.label
    }

    /// One of the entry's transforms.
    fn named_by(&self, e: &Error) -> bool {
        let names = self.names;
        match e {
            Error::InvalidParameter { distribution, .. }
            | Error::OutOfSupport { distribution, .. }
            | Error::NotImplemented { distribution, .. } => names.contains(distribution),
            other => {
                let s = other.to_string();
                names.iter().any(|n| s.contains(n))
            }
        }
    }

    fn expected_names(&self) -> String {
        format!("{:?}", self.names)
    }
}

fn max_finite(dt: DType) -> f64 {
    if dt == DType::F64 {
        f64::MAX
    } else {
        F32_MAX
    }
}

/// The largest finite number of the dtype.
fn huge(dt: DType) -> f64 {
    if dt == DType::F64 {
        f64::MAX
    } else {
        f32::MAX as f64
    }
}

fn tiny(dt: DType) -> f64 {
    if dt == DType::F64 {
        f64::MIN_POSITIVE
    } else {
        f32::MIN_POSITIVE as f64
    }
}

/// Whether `v` lies on an edge of the set `c` (where an elementwise map saturates).
fn on_edge(c: &Constraint, v: f64) -> bool {
    match c {
        Constraint::UnitInterval => v == 0.0 || v == 1.0,
        Constraint::Interval(l, h) => v == *l || v == *h,
        Constraint::Positive | Constraint::NonNegative => v == 0.0,
        Constraint::GreaterThan(b) | Constraint::GreaterThanEq(b) => v == *b,
        Constraint::Independent { base, .. } => on_edge(base, v),
        _ => false,
    }
}

/// The closure of a codomain: where an extreme input under- or overflows, the output
/// may sit on the set's edge (`Positive` → `NonNegative`, positive-definite →
/// positive-semidefinite, a positive Cholesky diagonal → a non-negative one).
fn closure(c: &Constraint) -> Constraint {
    match c {
        Constraint::Positive => Constraint::NonNegative,
        Constraint::GreaterThan(b) => Constraint::GreaterThanEq(*b),
        Constraint::PositiveDefinite => Constraint::PositiveSemidefinite,
        Constraint::LowerCholesky | Constraint::CorrCholesky => Constraint::LowerTriangular,
        Constraint::Independent {
            base,
            reinterpreted_batch_ndims,
        } => Constraint::Independent {
            base: Box::new(closure(base)),
            reinterpreted_batch_ndims: *reinterpreted_batch_ndims,
        },
        Constraint::Cat {
            constraints,
            dim,
            lengths,
        } => Constraint::Cat {
            constraints: constraints.iter().map(closure).collect(),
            dim: *dim,
            lengths: lengths.clone(),
        },
        Constraint::Stack { constraints, dim } => Constraint::Stack {
            constraints: constraints.iter().map(closure).collect(),
            dim: *dim,
        },
        other => other.clone(),
    }
}

fn tensor(values: &[f64], shape: &[usize], dt: DType) -> Result<Tensor> {
    Ok(Tensor::from_vec(values.to_vec(), shape, &Device::Cpu)?.to_dtype(dt)?)
}

// ---------------------------------------------------------------------------------
// The checks of one case.
// ---------------------------------------------------------------------------------

fn check_case(reg: &[Entry], c: &Case, progress: Progress) -> Tally {
    let e = &reg[c.entry];
    let tag = match c.tier {
        Tier::Ordinary => "",
        Tier::Extreme => EXTREME_TAG,
        Tier::Infinite | Tier::Nan => INFINITE_TAG,
    };
    let mut cx = Ctx::new(e, tag, c.describe(reg), progress);
    *cx.t.cases_by.entry(e.label.to_string()).or_default() += 1;
    check_inner(&mut cx, c);
    cx.t
}

// Negated comparisons make a NaN error a failure.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn check_inner(cx: &mut Ctx, c: &Case) {
    let e = cx.e;
    let dt = c.dtype;
    // Construction: valid parameters build, invalid ones are typed errors.
    let t = match cx.call("new", || (e.build)(&c.params, dt)) {
        None => return,
        Some(Ok(t)) => {
            if !(e.valid)(&c.params, dt) {
                cx.find(
                    "new",
                    "accepted invalid parameters",
                    format!("{:?}", c.params),
                );
            }
            t
        }
        Some(Err(err)) => {
            if (e.valid)(&c.params, dt) {
                cx.find("new", "rejected valid parameters", err.to_string());
            } else {
                cx.typed("new", &err, &["InvalidParameter"]);
                if let Error::InvalidParameter { parameter, .. } = &err {
                    if !e.params.contains(parameter) {
                        cx.find("new", "error names an unknown parameter", err.to_string());
                    }
                }
            }
            return;
        }
    };
    let event = c.bad_shape.as_ref().unwrap_or(&c.event);
    let shape: Vec<usize> = c.batch.iter().chain(event).copied().collect();
    // The input: drawn values, or the image of them under the base.
    let x = match (e.dom, e.base) {
        (Dom::Image, Some(base)) if c.bad_shape.is_none() => {
            let Ok(b) = base(&c.params, dt) else { return };
            let Ok(x0) = tensor(&c.x, &shape, dt) else {
                return;
            };
            match cx.call("base.forward", || b.forward(&x0)) {
                Some(Ok(x)) => x,
                _ => return,
            }
        }
        _ => match tensor(&c.x, &shape, dt) {
            Ok(x) => x,
            Err(err) => {
                cx.find("input", "cannot build the input", err.to_string());
                return;
            }
        },
    };
    let xv = host(&x);

    if c.bad_shape.is_some() {
        // Wrong event shapes: typed errors or results, never panics or bare candle
        // errors.
        // (OutOfSupport: a distribution's quantile function given values outside [0, 1].)
        let expect = ["Shape", "InvalidArgument", "OutOfSupport"];
        if let Some(Err(err)) = cx.call("forward", || t.forward(&x)) {
            cx.typed("forward (bad shape)", &err, &expect);
        }
        if let Some(Err(err)) = cx.call("inverse", || t.inverse(&x)) {
            cx.typed("inverse (bad shape)", &err, &expect);
        }
        if let Some(Err(err)) = cx.call("forward_and_log_det", || t.forward_and_log_det(&x)) {
            cx.typed(
                "forward_and_log_det (bad shape)",
                &err,
                &["Shape", "InvalidArgument", "OutOfSupport", "NotImplemented"],
            );
        }
        let _ = cx.call("forward_shape", || t.forward_shape(x.dims()));
        let _ = cx.call("inverse_shape", || t.inverse_shape(x.dims()));
        return;
    }

    // (Inputs made by a base map may hold infinities from its overflow.)
    let grey = matches!(c.tier, Tier::Infinite | Tier::Nan) || xv.iter().any(|v| !v.is_finite());
    let in_domain = match cx.call("domain.check", || t.domain().check(&x)) {
        Some(Ok(None)) => true,
        Some(Ok(Some(_))) => false,
        Some(Err(err)) => {
            cx.find("domain.check", "error", err.to_string());
            false
        }
        None => return,
    };
    if !in_domain && !grey {
        let key = format!("{} ({:?})", e.label, c.tier);
        *cx.t.extra.refused_inputs.entry(key).or_default() += 1;
    }
    let checked = in_domain && !grey;
    // Infinite inputs in the domain (the reals hold ±∞) of a scalar map: no NaN out of
    // forward or the log-det (each output sees one input). Maps over events may meet
    // ∞ − ∞ between entries (a log-det summing +∞ and −∞): nothing is promised there.
    let scalar_map = t.domain().event_dim() == 0 && t.codomain().event_dim() == 0;
    let nan_checked = scalar_map && in_domain && !checked && !xv.iter().any(|v| v.is_nan());

    // forward
    let y = match cx.call("forward", || t.forward(&x)) {
        None => return,
        Some(Ok(y)) => y,
        Some(Err(err)) => {
            if checked {
                cx.find("forward", "error on a domain input", err.to_string());
            }
            return;
        }
    };
    let yv = host(&y);
    if checked {
        if y.dtype() != dt {
            cx.find("forward", "dtype changed", format!("{:?}", y.dtype()));
        }
        match cx.call("forward_shape", || t.forward_shape(x.dims())) {
            Some(Ok(s)) if s == y.dims() => {}
            Some(r) => cx.find(
                "forward_shape",
                "differs from forward's shape",
                format!("{r:?} vs {:?}", y.dims()),
            ),
            None => {}
        }
        if yv.iter().any(|v| v.is_nan()) {
            cx.find(
                "forward",
                "NaN from a domain input without NaN",
                format!("y = {yv:?}"),
            );
        }
        match cx.call("codomain.check", || t.codomain().check(&y)) {
            Some(Ok(None)) => {}
            Some(Ok(Some((i, v)))) => {
                let edge =
                    matches!(closure(&t.codomain()).check(&y), Ok(None)) && c.tier == Tier::Extreme;
                if edge {
                    cx.t.extra.saturated += 1;
                } else {
                    cx.find(
                        "forward",
                        "output outside the codomain",
                        format!("y[{i}] = {v}; y = {yv:?}"),
                    );
                }
            }
            Some(Err(err)) => cx.find("codomain.check", "error", err.to_string()),
            None => {}
        }
    }

    if nan_checked && yv.iter().any(|v| v.is_nan()) {
        cx.find(
            "forward",
            "NaN from an infinite domain input",
            format!("y = {yv:?}"),
        );
    }

    // log-det, and the fused call
    let event_dim = t.domain().event_dim();
    let ladj = match cx.call("log_abs_det_jacobian", || t.log_abs_det_jacobian(&x, &y)) {
        None => return,
        Some(Ok(l)) => Some(l),
        Some(Err(err)) => {
            if !t.bijective() {
                cx.typed("log_abs_det_jacobian", &err, &["NotImplemented"]);
            } else if checked {
                cx.find(
                    "log_abs_det_jacobian",
                    "error on a domain input",
                    err.to_string(),
                );
            }
            None
        }
    };
    if let (Some(l), true) = (&ladj, nan_checked) {
        let lv = host(l);
        if lv.iter().any(|v| v.is_nan()) {
            cx.find(
                "log_abs_det_jacobian",
                "NaN from an infinite domain input",
                format!("ladj = {lv:?}"),
            );
        }
    }
    if let (Some(l), true) = (&ladj, checked) {
        let lv = host(l);
        let want_shape = &x.dims()[..x.rank().saturating_sub(event_dim)];
        if l.dims() != want_shape {
            cx.find(
                "log_abs_det_jacobian",
                "shape is not the batch shape",
                format!("{:?} vs {want_shape:?}", l.dims()),
            );
        }
        if lv.iter().any(|v| v.is_nan()) {
            cx.find(
                "log_abs_det_jacobian",
                "NaN from a domain input without NaN",
                format!("ladj = {lv:?}"),
            );
        } else if c.tier == Tier::Ordinary
            && !matches!(e.dom, Dom::Image)
            && lv.iter().any(|v| v.is_infinite())
        {
            // (A point made by a base map may round onto the edge of its image, where
            // the log-det is infinite.)
            cx.find(
                "log_abs_det_jacobian",
                "infinite for an ordinary input",
                format!("ladj = {lv:?}"),
            );
        }
        match cx.call("forward_and_log_det", || t.forward_and_log_det(&x)) {
            Some(Ok((y2, l2))) => {
                let close = |a: &[f64], b: &[f64]| {
                    a.len() == b.len()
                        && a.iter().zip(b).all(|(a, b)| {
                            a == b
                                || (a.is_nan() && b.is_nan())
                                || (a - b).abs() <= 1e3 * eps(dt) * a.abs().max(b.abs()).max(1.0)
                        })
                };
                if !close(&host(&y2), &yv) || !close(&host(&l2), &lv) {
                    cx.find(
                        "forward_and_log_det",
                        "differs from (forward, log_abs_det_jacobian)",
                        format!("{:?} vs {:?}", host(&l2), lv),
                    );
                }
            }
            Some(Err(err)) => cx.find(
                "forward_and_log_det",
                "error on a domain input",
                err.to_string(),
            ),
            None => {}
        }
    } else if ladj.is_none() && !t.bijective() {
        if let Some(Err(err)) = cx.call("forward_and_log_det", || t.forward_and_log_det(&x)) {
            cx.typed("forward_and_log_det", &err, &["NotImplemented"]);
        }
    } else {
        let _ = cx.call("forward_and_log_det", || t.forward_and_log_det(&x));
    }

    // inverse of the output
    let back = match cx.call("inverse", || t.inverse(&y)) {
        None => return,
        Some(Ok(b)) => b,
        Some(Err(err)) => {
            if checked {
                cx.find("inverse", "error on an output of forward", err.to_string());
            }
            return;
        }
    };
    let _ = cx.call("inverse_shape", || t.inverse_shape(y.dims()));
    if !checked {
        return;
    }
    let bv = host(&back);
    let codomain = t.codomain();
    // Saturated outputs: infinite or at the dtype's largest finite number (overflow,
    // or a map that keeps its outputs in range, as Exp does), on an edge of the
    // codomain, or at most the smallest normal number (under- or overflow lost x).
    let saturated = |v: f64| {
        v.is_infinite() || v.abs() <= tiny(dt) || v.abs() >= huge(dt) || on_edge(&codomain, v)
    };
    let nan_back = (0..bv.len())
        .any(|i| bv[i].is_nan() && !(scalar_map && bv.len() == yv.len() && saturated(yv[i])));
    if nan_back {
        cx.find(
            "inverse",
            "NaN from an output of forward without NaN",
            format!("y = {yv:?}, inverse = {bv:?}"),
        );
    }
    if !t.bijective() {
        // Pseudo-inverse: forward(inverse(y)) = y.
        if let Some(Ok(y2)) = cx.call("forward", || t.forward(&back)) {
            let y2v = host(&y2);
            let tol = 1e4 * eps(dt);
            if c.tier == Tier::Ordinary
                && yv
                    .iter()
                    .zip(&y2v)
                    .any(|(a, b)| (a - b).abs() > tol * a.abs().max(1.0))
            {
                cx.find(
                    "inverse",
                    "pseudo-inverse: forward(inverse(y)) != y",
                    format!("{yv:?} vs {y2v:?}"),
                );
            }
        }
        return;
    }
    if back.dims() != x.dims() {
        cx.find(
            "inverse",
            "shape differs from the input's",
            format!("{:?} vs {:?}", back.dims(), x.dims()),
        );
        return;
    }
    // Round trip.
    if e.elementwise {
        let Some(l) = &ladj else { return };
        let lv = host(l);
        if lv.len() != xv.len() {
            return;
        }
        for i in 0..xv.len() {
            if saturated(yv[i]) || lv[i].is_infinite() || !xv[i].is_finite() {
                continue;
            }
            let cond = yv[i].abs() * (-lv[i]).exp();
            // The floor: inputs below the smallest normal number are clamped by the
            // maps that keep away from an edge (Sigmoid's inverse).
            let tol = 256.0 * eps(dt) * (xv[i].abs() + cond) + tiny(dt);
            // Where y's rounding alone can move x by more than |x|, the first-order
            // bound says nothing (y = exp(x) + 0.5 rounds to 0.5): the map saturates.
            if xv[i] != 0.0 && tol >= xv[i].abs() {
                continue;
            }
            // Overflow of the way back right at the top of the dtype's range.
            if bv[i].is_infinite() && xv[i].abs() + tol >= max_finite(dt) {
                continue;
            }
            cx.t.extra.round_trips += 1;
            if !((bv[i] - xv[i]).abs() <= tol) {
                cx.find(
                    "inverse",
                    "round trip beyond its condition bound",
                    format!(
                        "x = {}, y = {}, back = {}, tol {tol:e}",
                        xv[i], yv[i], bv[i]
                    ),
                );
                break;
            }
        }
    } else if c.tier == Tier::Ordinary {
        cx.t.extra.round_trips += 1;
        let scale = xv.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let tol = 1e4 * eps(dt) * scale;
        if let Some(i) = (0..xv.len()).find(|&i| !((bv[i] - xv[i]).abs() <= tol)) {
            cx.find(
                "inverse",
                "round trip",
                format!("x[{i}] = {}, back = {}, tol {tol:e}", xv[i], bv[i]),
            );
        }
    }

    // Gradients for ordinary inputs.
    let finite_ladj = ladj
        .as_ref()
        .is_some_and(|l| host(l).iter().all(|v| v.is_finite()));
    if c.tier == Tier::Ordinary && finite_ladj {
        let g = cx.call("backward", || {
            let v = Var::from_tensor(&x)?;
            let (y, l) = t.forward_and_log_det(v.as_tensor())?;
            let total = (y.sum_all()? + l.sum_all()?.to_dtype(y.dtype())?)?;
            let g = total.backward()?;
            Ok(g.get(v.as_tensor()).map(host).unwrap_or_default())
        });
        match g {
            Some(Ok(g)) if g.iter().any(|v| v.is_nan()) => cx.find(
                "backward",
                "NaN gradient for an ordinary input",
                format!("grad = {g:?}"),
            ),
            Some(Err(err)) => cx.find("backward", "error", err.to_string()),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// The runner.
// ---------------------------------------------------------------------------------

#[test]
fn transform_property_suite() {
    harness::run_suite(&harness::Suite {
        title: "transform property suite",
        cases_by: "entry",
        default_cases: DEFAULT_CASES,
        seed_base: 0x7A4E_0000,
        lenient_tags: &[EXTREME_TAG, INFINITE_TAG],
        lenient_what: "extreme-input",
        registry,
        strategy: raw_strategy,
        materialize,
        describe: Case::describe,
        check_case,
        print_counts: |t| {
            println!(
                "  panics: {}, hangs: {}, NaN findings: {}, round trips checked: {}, outputs on the codomain's edge (extreme inputs): {}",
                t.panics,
                t.hangs,
                t.nan_total(),
                t.extra.round_trips,
                t.extra.saturated
            );
            println!(
                "  inputs refused by domain().check (not checked further): {:?}",
                t.extra.refused_inputs
            );
        },
        failure_note: |_| String::new(),
    });
}

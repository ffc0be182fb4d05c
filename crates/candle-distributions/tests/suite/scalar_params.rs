//! Parameters given as plain numbers or tensors of mixed dtypes: torch's promotion
//! rules (numbers weakest, then 0-dim tensors, then tensors with dimensions; f32 when
//! only numbers), `from_scalars` with an explicit dtype, and gradients through the
//! dtype conversion.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Error;

const CPU: Device = Device::Cpu;

fn f32s(v: &[f32]) -> Tensor {
    Tensor::new(v, &CPU).unwrap()
}

#[test]
fn f32_tensor_with_0dim_f64_tensor_is_f32() {
    let mean = f32s(&[0.0, 1.0]);
    let one64 = Tensor::new(1.0f64, &CPU).unwrap();
    let d = Normal::new(&mean, &one64).unwrap();
    assert_eq!(d.dtype(), DType::F32);
    let x = d.sample(&[3], &mut Generator::new(0)).unwrap();
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(d.log_prob(&x).unwrap().dtype(), DType::F32);
}

#[test]
fn plain_numbers_follow_the_tensor_parameters() {
    let mean = f32s(&[0.0, 1.0]);
    let d = Normal::new(&mean, 1.0).unwrap();
    assert_eq!(d.dtype(), DType::F32);
    assert_eq!(d.scale().dims(), &[2]);
    let mean64 = Tensor::new(&[0.0f64, 1.0], &CPU).unwrap();
    assert_eq!(Normal::new(&mean64, 1.0f32).unwrap().dtype(), DType::F64);
    // A 0-dim f64 tensor with a number: the tensor decides.
    let c = Tensor::new(2.0f64, &CPU).unwrap();
    assert_eq!(Gamma::new(&c, 1.0).unwrap().dtype(), DType::F64);
    // Dimensioned tensors of both dtypes: f64.
    let d = Beta::new(&f32s(&[1.0, 2.0]), &Tensor::new(&[3.0f64], &CPU).unwrap()).unwrap();
    assert_eq!(d.dtype(), DType::F64);
}

#[test]
fn numbers_only_give_f32_on_cpu() {
    let d = Normal::new(0.0, 1.0).unwrap();
    assert_eq!(d.dtype(), DType::F32);
    assert!(d.device().is_cpu());
    assert_eq!(d.batch_shape(), &[] as &[usize]);
    let lp = d.log_prob(&Tensor::new(0.0f32, &CPU).unwrap()).unwrap();
    let want = -0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((lp.to_scalar::<f32>().unwrap() as f64 - want).abs() < 1e-6);
    assert_eq!(Exponential::new(2.0).unwrap().dtype(), DType::F32);
    assert_eq!(StudentT::new(3.0, 0.0, 1.0).unwrap().dtype(), DType::F32);
    assert_eq!(VonMises::new(0.0, 1.0).unwrap().dtype(), DType::F32);
    assert_eq!(Uniform::new(-1.0, 1.0).unwrap().dtype(), DType::F32);
}

#[test]
fn every_constructor_takes_numbers() {
    // One call per family, each with plain numbers only: f32 results.
    let dists: Vec<Box<dyn Distribution>> = vec![
        Box::new(Normal::new(0.0, 1.0).unwrap()),
        Box::new(Laplace::new(0.0, 1.0).unwrap()),
        Box::new(Cauchy::new(0.0, 1.0).unwrap()),
        Box::new(Gumbel::new(0.0, 1.0).unwrap()),
        Box::new(HalfNormal::new(1.0).unwrap()),
        Box::new(HalfCauchy::new(1.0).unwrap()),
        Box::new(Exponential::new(1.0).unwrap()),
        Box::new(Uniform::new(0.0, 1.0).unwrap()),
        Box::new(LogNormal::new(0.0, 1.0).unwrap()),
        Box::new(Gamma::new(2.0, 1.0).unwrap()),
        Box::new(Chi2::new(3.0).unwrap()),
        Box::new(Beta::new(2.0, 3.0).unwrap()),
        Box::new(InverseGamma::new(2.0, 1.0).unwrap()),
        Box::new(StudentT::new(3.0, 0.0, 1.0).unwrap()),
        Box::new(FisherSnedecor::new(3.0, 4.0).unwrap()),
        Box::new(Kumaraswamy::new(2.0, 3.0).unwrap()),
        Box::new(GeneralizedPareto::new(0.0, 1.0, 0.1).unwrap()),
        Box::new(ContinuousBernoulli::new(0.3).unwrap()),
        Box::new(ContinuousBernoulli::from_logits(0.3).unwrap()),
        Box::new(TruncatedNormal::new(0.0, 1.0, -1.0, 2.0).unwrap()),
        Box::new(VonMises::new(0.0, 1.0).unwrap()),
    ];
    let mut rng = Generator::new(5);
    for d in &dists {
        assert_eq!(d.dtype(), DType::F32, "{}", d.name());
        let x = d.sample(&[4], &mut rng).unwrap();
        assert_eq!(x.dtype(), DType::F32, "{}", d.name());
        let lp = d.log_prob(&x).unwrap();
        assert_eq!(lp.dtype(), DType::F32, "{}", d.name());
    }
    let dir = Dirichlet::new(&f32s(&[1.0, 2.0])).unwrap();
    assert_eq!(dir.dtype(), DType::F32);
}

#[test]
fn from_scalars_takes_a_dtype() {
    let g = Gumbel::from_scalars(0.0, 1.0, DType::F32, &CPU).unwrap();
    assert_eq!(g.dtype(), DType::F32);
    // The f32 Gumbel meets f32 values (this was a dtype mismatch when the Gumbel was f64).
    let x = Tensor::new(&[0.5f32, -1.0], &CPU).unwrap();
    let lp = g.log_prob(&x).unwrap();
    assert_eq!(lp.dtype(), DType::F32);
    // log p(x) = −x − e^{−x} for the standard Gumbel.
    let want: Vec<f64> = [0.5f64, -1.0].iter().map(|v| -v - (-v).exp()).collect();
    for (a, b) in lp.to_vec1::<f32>().unwrap().iter().zip(&want) {
        assert!((*a as f64 - b).abs() < 1e-6);
    }
    let n = Normal::from_scalars(0.0, 2.0, DType::F64, &CPU).unwrap();
    assert_eq!(n.dtype(), DType::F64);
    assert_eq!(n.scale().to_scalar::<f64>().unwrap(), 2.0);
    match Normal::from_scalars(0.0, 1.0, DType::U32, &CPU) {
        Err(Error::DType { dtype, .. }) => assert_eq!(dtype, DType::U32),
        other => panic!("expected a dtype error, got {other:?}"),
    }
}

#[test]
fn integer_tensor_parameters_are_dtype_errors() {
    let k = Tensor::new(&[1u32, 2], &CPU).unwrap();
    match Normal::new(&k, 1.0) {
        Err(Error::DType { context, dtype }) => {
            assert_eq!(dtype, DType::U32);
            assert!(
                context.contains("Normal") && context.contains("loc"),
                "{context}"
            );
        }
        other => panic!("expected a dtype error, got {other:?}"),
    }
}

#[test]
fn gradients_reach_parameters_through_dtype_conversion() {
    // An f64 0-dim `loc` with an f32 `scale` of shape [2]: the distribution is f32 and
    // the gradient reaches `loc` in f64. d/dloc Σ rsample = number of draws.
    let loc = Var::new(0.5f64, &CPU).unwrap();
    let scale = Var::new(&[1.0f32, 2.0], &CPU).unwrap();
    let d = Normal::new(&loc, &scale).unwrap();
    assert_eq!(d.dtype(), DType::F32);
    let x = d.rsample(&[10], &mut Generator::new(3)).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    let gl = g.get(&loc).expect("gradient for loc");
    assert_eq!(gl.dtype(), DType::F64);
    assert!((gl.to_scalar::<f64>().unwrap() - 20.0).abs() < 1e-9);
    assert!(g.get(&scale).is_some());
    // Through a Params-based family as well: log_prob of Gamma in the f64 rate.
    let rate = Var::new(2.0f64, &CPU).unwrap();
    let gm = Gamma::new(&f32s(&[3.0]), &rate).unwrap();
    assert_eq!(gm.dtype(), DType::F32);
    let lp = gm.log_prob(&f32s(&[1.0])).unwrap();
    let g = lp.sum_all().unwrap().backward().unwrap();
    // d/dβ [α ln β − βx] = α/β − x = 3/2 − 1.
    let gr = g
        .get(&rate)
        .expect("gradient for rate")
        .to_scalar::<f64>()
        .unwrap();
    assert!((gr - 0.5).abs() < 1e-6, "{gr}");
}

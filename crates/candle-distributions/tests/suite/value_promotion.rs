//! torch's dtype promotion for the argument of `log_prob`, `cdf` and `icdf`: an f64
//! value with dimensions given to an f32 distribution is evaluated in f64 (not rounded
//! to f32) and gives f64 results; a 0-dim f64 value against dimensioned f32
//! parameters gives f32 results; with 0-dim parameters an f64 value promotes. The
//! reference is the same distribution built in f64 from the same (f32) parameters.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;

type Res<T> = Result<T, Box<dyn std::error::Error>>;
type Build = fn(&[Tensor]) -> candle_distributions::Result<Box<dyn Distribution>>;

/// (name, parameters, two values in the support, builder)
fn families() -> Vec<(&'static str, Vec<f64>, [f64; 2], Build)> {
    fn b<D: Distribution + 'static>(
        d: candle_distributions::Result<D>,
    ) -> candle_distributions::Result<Box<dyn Distribution>> {
        Ok(Box::new(d?))
    }
    vec![
        ("Normal", vec![0.3, 1.7], [0.1, 2.5], |p| {
            b(Normal::new(&p[0], &p[1]))
        }),
        ("Cauchy", vec![0.3, 1.7], [0.1, 2.5], |p| {
            b(Cauchy::new(&p[0], &p[1]))
        }),
        ("Laplace", vec![0.3, 1.7], [0.1, 2.5], |p| {
            b(Laplace::new(&p[0], &p[1]))
        }),
        ("Gumbel", vec![0.3, 1.7], [0.1, 2.5], |p| {
            b(Gumbel::new(&p[0], &p[1]))
        }),
        ("HalfNormal", vec![1.7], [0.1, 2.5], |p| {
            b(HalfNormal::new(&p[0]))
        }),
        ("Exponential", vec![1.7], [0.1, 2.5], |p| {
            b(Exponential::new(&p[0]))
        }),
        ("Uniform", vec![-0.3, 2.7], [0.1, 2.5], |p| {
            b(Uniform::new(&p[0], &p[1]))
        }),
        ("LogNormal", vec![0.3, 0.7], [0.1, 2.5], |p| {
            b(LogNormal::new(&p[0], &p[1]))
        }),
        (
            "TruncatedNormal",
            vec![0.3, 1.7, -1.0, 3.0],
            [0.1, 2.5],
            |p| b(TruncatedNormal::new(&p[0], &p[1], &p[2], &p[3])),
        ),
        ("Kumaraswamy", vec![1.3, 2.7], [0.1, 0.7], |p| {
            b(Kumaraswamy::new(&p[0], &p[1]))
        }),
        ("ContinuousBernoulli", vec![0.3], [0.1, 0.7], |p| {
            b(ContinuousBernoulli::new(&p[0]))
        }),
        ("GeneralizedPareto", vec![0.0, 1.7, 0.2], [0.1, 2.5], |p| {
            b(GeneralizedPareto::new(&p[0], &p[1], &p[2]))
        }),
        ("VonMises", vec![0.3, 1.7], [0.1, 2.5], |p| {
            b(VonMises::new(&p[0], &p[1]))
        }),
        ("InverseGamma", vec![2.3, 1.7], [0.1, 2.5], |p| {
            b(InverseGamma::new(&p[0], &p[1]))
        }),
        ("Gamma", vec![2.3, 1.7], [0.1, 2.5], |p| {
            b(Gamma::new(&p[0], &p[1]))
        }),
        ("Chi2", vec![2.3], [0.1, 2.5], |p| b(Chi2::new(&p[0]))),
        ("Beta", vec![1.3, 2.7], [0.1, 0.7], |p| {
            b(Beta::new(&p[0], &p[1]))
        }),
        ("StudentT", vec![2.3, 0.3, 1.7], [0.1, 2.5], |p| {
            b(StudentT::new(&p[0], &p[1], &p[2]))
        }),
        ("FisherSnedecor", vec![2.3, 4.7], [0.1, 2.5], |p| {
            b(FisherSnedecor::new(&p[0], &p[1]))
        }),
    ]
}

/// Parameters of `dtype`, each with dimensions [2] (`batched`) or 0-dim.
fn params(p: &[f64], dtype: DType, batched: bool) -> Res<Vec<Tensor>> {
    let dev = Device::Cpu;
    p.iter()
        .map(|&v| {
            let v = v as f32 as f64; // the same numbers in both dtypes
            let t = if batched {
                Tensor::new(&[v, v], &dev)?
            } else {
                Tensor::new(v, &dev)?
            };
            Ok(t.to_dtype(dtype)?)
        })
        .collect()
}

fn host(t: &Tensor) -> Res<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

/// Values not representable in f32: rounding them would change the results.
fn values(v: [f64; 2]) -> [f64; 2] {
    [v[0] + 1e-12, v[1] - 3e-12]
}

#[test]
fn f64_values_with_dimensions_promote_f32_distributions() -> Res<()> {
    let dev = Device::Cpu;
    for (name, p, v, build) in families() {
        let d32 = build(&params(&p, DType::F32, true)?)?;
        let d64 = build(&params(&p, DType::F64, true)?)?;
        let x = Tensor::new(&values(v), &dev)?;
        let q = Tensor::new(&[0.2f64 + 1e-12, 0.9 - 1e-12], &dev)?;
        type Method = fn(&dyn Distribution, &Tensor) -> candle_distributions::Result<Tensor>;
        let methods: [(&str, Method, &Tensor); 3] = [
            ("log_prob", |d, x| d.log_prob(x), &x),
            ("cdf", |d, x| d.cdf(x), &x),
            ("icdf", |d, x| d.icdf(x), &q),
        ];
        for (m, f, arg) in methods {
            let got = match f(d32.as_ref(), arg) {
                Err(candle_distributions::Error::NotImplemented { .. }) => continue,
                r => r?,
            };
            assert_eq!(got.dtype(), DType::F64, "{name}.{m}: dtype");
            let want = host(&f(d64.as_ref(), arg)?)?;
            for (g, w) in host(&got)?.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-14 * w.abs().max(1e-300),
                    "{name}.{m}: {g} vs the f64 distribution's {w}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn zero_dim_f64_values_do_not_promote_dimensioned_f32_parameters() -> Res<()> {
    let dev = Device::Cpu;
    for (name, p, v, build) in families() {
        let d = build(&params(&p, DType::F32, true)?)?;
        let lp = d.log_prob(&Tensor::new(v[0], &dev)?)?;
        assert_eq!(lp.dtype(), DType::F32, "{name}");
        // ... and with 0-dim parameters they do (same category: the wider wins)
        let d = build(&params(&p, DType::F32, false)?)?;
        let lp = d.log_prob(&Tensor::new(values(v)[0], &dev)?)?;
        assert_eq!(lp.dtype(), DType::F64, "{name} (0-dim parameters)");
        // f32 values given to an f64 distribution stay f64
        let d = build(&params(&p, DType::F64, true)?)?;
        let lp = d.log_prob(&Tensor::new(&[v[0] as f32, v[1] as f32], &dev)?)?;
        assert_eq!(lp.dtype(), DType::F64, "{name} (f64 distribution)");
    }
    Ok(())
}

#[test]
fn gradients_of_promoted_results_reach_f32_parameters() -> Res<()> {
    let dev = Device::Cpu;
    let loc = Var::new(&[0.3f32, 0.4], &dev)?;
    let scale = Var::new(&[1.7f32, 1.2], &dev)?;
    let x = Tensor::new(&[0.1f64 + 1e-12, 2.5], &dev)?;
    for d in [
        Box::new(Normal::new(&loc, &scale)?) as Box<dyn Distribution>,
        Box::new(TruncatedNormal::new(&loc, &scale, -1.0, 3.0)?),
    ] {
        let lp = d.log_prob(&x)?;
        assert_eq!(lp.dtype(), DType::F64);
        let g = lp.sum_all()?.backward()?;
        let gl = g.get(loc.as_tensor()).expect("loc gradient");
        assert_eq!(gl.dtype(), DType::F32);
        // d/dloc of a normal log density at 0.1: (x − loc)/scale² (the truncation's
        // part is the same for both elements' windows: compare with the f64 build)
        let loc64 = Var::new(&[0.3f32 as f64, 0.4f32 as f64], &dev)?;
        let scale64 = Var::new(&[1.7f32 as f64, 1.2f32 as f64], &dev)?;
        let d64: Box<dyn Distribution> = if d.name() == "Normal" {
            Box::new(Normal::new(&loc64, &scale64)?)
        } else {
            Box::new(TruncatedNormal::new(&loc64, &scale64, -1.0, 3.0)?)
        };
        let g64 = d64.log_prob(&x)?.sum_all()?.backward()?;
        let want = host(g64.get(loc64.as_tensor()).unwrap())?;
        for (a, b) in host(gl)?.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{}: {a} vs {b}", d.name());
        }
    }
    Ok(())
}

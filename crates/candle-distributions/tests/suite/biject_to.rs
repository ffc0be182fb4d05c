//! `biject_to` / `transform_to`: for every registered constraint, 10 000 random
//! unconstrained events (magnitudes 1, 10, 100 and 1000, and exact ±1000) land in the
//! set by `Constraint::check` with no NaN, in f32 and f64; bijections round-trip;
//! unregistered constraints give `Error::NotImplemented`.

use candle_core::{DType, Device, Tensor};
use candle_distributions::transforms::Transform;
use candle_distributions::{biject_to, transform_to, Constraint, Error};

type R = candle_distributions::Result<()>;

const DEV: Device = Device::Cpu;
const EVENTS: usize = 10_000;

/// SplitMix64 uniforms and Box–Muller normals: a fixed, reproducible stream.
struct Rng(u64);
impl Rng {
    fn u(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.u(), self.u());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
}

/// `EVENTS` events of `event` shape: each event drawn at one magnitude from
/// {1, 10, 100, 1000} in turn, with every 17th event holding exactly ±1000.
fn wide_inputs(event: &[usize], seed: u64, max_scale: f64) -> Tensor {
    let per: usize = event.iter().product();
    let mut rng = Rng(seed);
    let scales: Vec<f64> = [1.0, 10.0, 100.0, 1000.0]
        .into_iter()
        .filter(|&s| s <= max_scale)
        .collect();
    let mut v = Vec::with_capacity(EVENTS * per);
    for e in 0..EVENTS {
        let s = scales[e % scales.len()];
        for k in 0..per {
            let x = if e % 17 == 16 && max_scale >= 1000.0 {
                if (e / 17 + k) % 2 == 0 {
                    1000.0
                } else {
                    -1000.0
                }
            } else {
                s * rng.normal()
            };
            v.push(x);
        }
    }
    let mut shape = vec![EVENTS];
    shape.extend_from_slice(event);
    Tensor::from_vec(v, shape, &DEV).unwrap()
}

fn host(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// Every registered constraint with the event shape of its unconstrained inputs.
fn registered() -> Vec<(Constraint, Vec<usize>)> {
    let low = Tensor::new(&[-1.0f64, 0.0, 2.5], &DEV).unwrap();
    // Bounds exact in f32 as well, so that one constraint serves both dtypes.
    let high = Tensor::new(&[1.0f64, 0.0009765625, 1024.0], &DEV).unwrap();
    vec![
        (Constraint::Real, vec![]),
        (Constraint::RealVector, vec![3]),
        (
            Constraint::Independent {
                base: Box::new(Constraint::Positive),
                reinterpreted_batch_ndims: 1,
            },
            vec![3],
        ),
        (Constraint::Positive, vec![]),
        (Constraint::NonNegative, vec![]),
        (Constraint::GreaterThan(2.5), vec![]),
        (Constraint::GreaterThan(-1e6), vec![]),
        (Constraint::GreaterThanEq(-3.0), vec![]),
        (Constraint::LessThan(-0.5), vec![]),
        (Constraint::LessThan(7.0), vec![]),
        (Constraint::Interval(-2.0, 3.0), vec![]),
        (Constraint::Interval(0.0, 1.0), vec![]),
        (Constraint::HalfOpenInterval(-2.0, 3.0), vec![]),
        (Constraint::HalfOpenInterval(10.0, 10.5), vec![]),
        (Constraint::UnitInterval, vec![]),
        (
            Constraint::DependentInterval {
                low: low.clone(),
                high,
            },
            vec![3],
        ),
        (Constraint::DependentGreaterThanEq { low }, vec![3]),
        (Constraint::Simplex, vec![4]),
        (Constraint::CorrCholesky, vec![6]),
        (
            Constraint::Cat {
                constraints: vec![
                    Constraint::Positive,
                    Constraint::Interval(-1.0, 2.0),
                    Constraint::Real,
                ],
                dim: -1,
                lengths: vec![2, 1, 1],
            },
            vec![4],
        ),
        (
            Constraint::Stack {
                constraints: vec![Constraint::GreaterThan(1.0), Constraint::LessThan(-1.0)],
                dim: -1,
            },
            vec![2],
        ),
    ]
}

/// Maps the inputs in both dtypes and checks the results; returns the events checked.
fn lands_in_set(t: &dyn Transform, c: &Constraint, x: &Tensor, what: &str) -> usize {
    let mut n = 0;
    for dtype in [DType::F64, DType::F32] {
        let xd = x.to_dtype(dtype).unwrap();
        let y = t
            .forward(&xd)
            .unwrap_or_else(|e| panic!("{what} {c} {dtype:?}: {e}"));
        assert!(
            host(&y).iter().all(|v| !v.is_nan()),
            "{what} {c} {dtype:?}: NaN"
        );
        let c_y = match c {
            // Tensor bounds are f64: check against values of the same dtype.
            Constraint::DependentInterval { .. } | Constraint::DependentGreaterThanEq { .. } => {
                y.to_dtype(DType::F64).unwrap()
            }
            _ => y,
        };
        let bad = c.check(&c_y).unwrap();
        assert_eq!(bad, None, "{what} {c} {dtype:?}: value outside the set");
        n += EVENTS;
    }
    n
}

#[test]
fn biject_to_maps_wide_inputs_into_every_registered_set() -> R {
    let mut total = 0;
    for (i, (c, event)) in registered().into_iter().enumerate() {
        let x = wide_inputs(&event, 100 + i as u64, 1000.0);
        let t = biject_to(&c)?;
        assert!(t.bijective(), "biject_to({c}) must be a bijection");
        let n = lands_in_set(t.as_ref(), &c, &x, "biject_to");
        eprintln!("biject_to({c}): {n} events in the set (f64 + f32)");
        total += n;
    }
    eprintln!("biject_to: {total} events checked in all");
    Ok(())
}

#[test]
fn transform_to_maps_wide_inputs_into_every_registered_set() -> R {
    let mut all = registered();
    all.push((Constraint::LowerCholesky, vec![3, 3]));
    let mut total = 0;
    for (i, (c, event)) in all.into_iter().enumerate() {
        let x = wide_inputs(&event, 500 + i as u64, 1000.0);
        let t = transform_to(&c)?;
        let n = lands_in_set(t.as_ref(), &c, &x, "transform_to");
        eprintln!("transform_to({c}): {n} events in the set (f64 + f32)");
        total += n;
    }
    eprintln!("transform_to: {total} events checked in all");
    Ok(())
}

/// `L·Lᵀ` with `L_ii = exp(x_ii)` is positive definite in exact arithmetic, but in
/// floating point it leaves the set once `exp` under- or overflows (|x| ≳ 350 in f64)
/// or the matrix is too ill-conditioned for its Cholesky factorization to succeed
/// (`x_ii ≪ 0` beside large off-diagonal entries). Unit-scale inputs must all land in
/// the set; the counts at larger scales are printed.
#[test]
fn transform_to_positive_definite() -> R {
    for c in [
        Constraint::PositiveDefinite,
        Constraint::PositiveSemidefinite,
    ] {
        let t = transform_to(&c)?;
        let x = wide_inputs(&[3, 3], 900, 1.0);
        let n = lands_in_set(t.as_ref(), &c, &x, "transform_to");
        eprintln!("transform_to({c}): {n} unit-scale events in the set (f64 + f32)");
        for scale in [3.0, 10.0, 100.0, 1000.0] {
            let xs = (wide_inputs(&[3, 3], 901, 1.0) * scale)?;
            let y = t.forward(&xs)?;
            let v = host(&y);
            let mut outside = 0;
            for e in 0..EVENTS {
                let m = Tensor::from_vec(v[e * 9..(e + 1) * 9].to_vec(), (3, 3), &DEV)?;
                if c.check(&m)?.is_some() {
                    outside += 1;
                }
            }
            eprintln!(
                "transform_to({c}) at scale {scale}: {outside} of {EVENTS} f64 events outside the set"
            );
        }
    }
    Ok(())
}

#[test]
fn bijections_round_trip() -> R {
    for (i, (c, event)) in registered().into_iter().enumerate() {
        let t = biject_to(&c)?;
        // Moderate inputs: where the map is not saturated in f64.
        let x = (wide_inputs(&event, 700 + i as u64, 1.0) * 0.8)?;
        let y = t.forward(&x)?;
        let back = t.inverse(&y)?;
        let err = host(&back)
            .iter()
            .zip(host(&x))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!("biject_to({c}): round-trip max error {err:.3e}");
        assert!(err < 1e-6, "biject_to({c}) round trip error {err}");
        // The log-det has one value per event.
        let ladj = t.log_abs_det_jacobian(&x, &y)?;
        let rank = x.rank() - t.domain().event_dim();
        assert_eq!(ladj.dims(), &x.dims()[..rank], "biject_to({c})");
        assert!(host(&ladj).iter().all(|v| v.is_finite()), "biject_to({c})");
    }
    Ok(())
}

#[test]
fn transform_to_simplex_is_softmax_and_biject_to_is_stick_breaking() -> R {
    assert_eq!(
        transform_to(&Constraint::Simplex)?.name(),
        "SoftmaxTransform"
    );
    assert_eq!(
        biject_to(&Constraint::Simplex)?.name(),
        "StickBreakingTransform"
    );
    assert_eq!(
        biject_to(&Constraint::UnitInterval)?.name(),
        "SigmoidTransform"
    );
    assert_eq!(biject_to(&Constraint::NonNegative)?.name(), "ExpTransform");
    assert_eq!(
        transform_to(&Constraint::LowerCholesky)?.name(),
        "LowerCholeskyTransform"
    );
    // The same constraint gives equal transforms.
    let a = biject_to(&Constraint::GreaterThan(1.0))?;
    let b = biject_to(&Constraint::GreaterThan(1.0))?;
    let c = biject_to(&Constraint::GreaterThan(2.0))?;
    assert!(a.equals(b.as_ref()) && !a.equals(c.as_ref()));
    // Event dims are carried: RealVector and Independent act on vectors.
    assert_eq!(biject_to(&Constraint::RealVector)?.domain().event_dim(), 1);
    assert_eq!(
        biject_to(&Constraint::CorrCholesky)?.codomain().event_dim(),
        2
    );
    Ok(())
}

#[test]
fn unregistered_constraints_are_typed_errors() {
    let none_registered = [
        Constraint::Boolean,
        Constraint::IntegerInterval(0, 3),
        Constraint::NonNegativeInteger,
        Constraint::PositiveInteger,
        Constraint::Square,
        Constraint::Symmetric,
        Constraint::LowerTriangular,
        Constraint::Independent {
            base: Box::new(Constraint::Boolean),
            reinterpreted_batch_ndims: 1,
        },
        Constraint::Cat {
            constraints: vec![Constraint::Real, Constraint::PositiveInteger],
            dim: 0,
            lengths: vec![1, 1],
        },
    ];
    for c in &none_registered {
        for (name, r) in [
            ("biject_to", biject_to(c)),
            ("transform_to", transform_to(c)),
        ] {
            match r {
                Err(e @ Error::NotImplemented { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.contains(name), "{msg}");
                    assert!(msg.contains("no transform is registered"), "{msg}");
                }
                other => panic!("{name}({c}): expected NotImplemented, got {other:?}"),
            }
        }
    }
    // torch registers these for transform_to only.
    for c in [
        Constraint::LowerCholesky,
        Constraint::PositiveDefinite,
        Constraint::PositiveSemidefinite,
    ] {
        assert!(
            matches!(biject_to(&c), Err(Error::NotImplemented { .. })),
            "{c}"
        );
        assert!(transform_to(&c).is_ok(), "{c}");
    }
    // A dependent interval with an empty range is rejected by AffineTransform (scale 0).
    let pt = Tensor::new(&[1.0f64], &DEV).unwrap();
    let empty = Constraint::DependentInterval {
        low: pt.clone(),
        high: pt,
    };
    assert!(biject_to(&empty).is_err());
}

//! Argument validation: invalid parameters, wrong shapes, out-of-support values and the
//! per-instance switch. (The global switch has its own test binary, since it is
//! process-wide and tests run in parallel.)

use candle_core::{DType, Device, Tensor};
use candle_distributions::prelude::*;
use candle_distributions::Error;

fn t(v: &[f64]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn expect_param(r: Result<impl std::fmt::Debug, Error>, dist: &str, param: &str, found: f64) {
    match r {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            constraint,
            found: f,
            index,
        }) => {
            assert_eq!(distribution, dist);
            assert_eq!(parameter, param);
            assert!(!constraint.is_empty());
            assert!(
                f == found || (f.is_nan() && found.is_nan()),
                "found {f}, expected {found}"
            );
            assert_eq!(index, 1, "the offending element is at index 1");
            let msg = Error::InvalidParameter {
                distribution,
                parameter,
                constraint,
                found: f,
                index,
            }
            .to_string();
            assert!(msg.contains(dist) && msg.contains(param), "{msg}");
        }
        other => panic!("{dist}.{param}={found}: expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn invalid_parameters_are_named() {
    for bad in [0.0, -1.0, f64::NAN] {
        let good = t(&[0.0, 0.0]);
        let s = t(&[1.0, bad]);
        expect_param(Normal::new(&good, &s), "Normal", "scale", bad);
        expect_param(Laplace::new(&good, &s), "Laplace", "scale", bad);
        expect_param(Cauchy::new(&good, &s), "Cauchy", "scale", bad);
        expect_param(Gumbel::new(&good, &s), "Gumbel", "scale", bad);
        expect_param(LogNormal::new(&good, &s), "LogNormal", "scale", bad);
        expect_param(HalfNormal::new(&s), "HalfNormal", "scale", bad);
        expect_param(HalfCauchy::new(&s), "HalfCauchy", "scale", bad);
        expect_param(Exponential::new(&s), "Exponential", "rate", bad);
    }
    expect_param(
        Normal::new(&t(&[0.0, f64::NAN]), &t(&[1.0, 1.0])),
        "Normal",
        "loc",
        f64::NAN,
    );
    expect_param(
        Uniform::new(&t(&[0.0, 2.0]), &t(&[1.0, 2.0])),
        "Uniform",
        "high",
        2.0,
    );
    expect_param(
        Uniform::new(&t(&[0.0, 3.0]), &t(&[1.0, 2.0])),
        "Uniform",
        "high",
        2.0,
    );
}

#[test]
fn shapes_that_do_not_broadcast_are_errors() {
    let r = Normal::new(&t(&[0.0, 1.0]), &t(&[1.0, 1.0, 1.0]));
    assert!(matches!(r, Err(Error::Shape { .. })), "{r:?}");
    let d = Normal::new(&t(&[0.0, 1.0]), &t(&[1.0, 2.0])).unwrap();
    let r = d.log_prob(&t(&[0.0, 1.0, 2.0]));
    assert!(matches!(r, Err(Error::Shape { .. })), "{r:?}");
    assert!(matches!(
        d.cdf(&t(&[0.0, 1.0, 2.0])),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        d.icdf(&t(&[0.1, 0.2, 0.3])),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(d.expand(&[3]), Err(Error::Shape { .. })));
    // Broadcasting values are fine: [4, 2] against batch [2].
    let v = Tensor::zeros((4, 2), DType::F64, &Device::Cpu).unwrap();
    assert_eq!(d.log_prob(&v).unwrap().dims(), &[4, 2]);
    let e = d.expand(&[5, 2]).unwrap();
    assert_eq!(e.batch_shape(), &[5, 2]);
    assert_eq!(
        e.sample(&[3], &mut Generator::new(0)).unwrap().dims(),
        &[3, 5, 2]
    );
}

fn expect_support(r: Result<Tensor, Error>, dist: &str, found: f64) {
    match r {
        Err(Error::OutOfSupport {
            distribution,
            constraint,
            found: f,
            index,
            ..
        }) => {
            assert_eq!(distribution, dist);
            assert!(!constraint.is_empty());
            assert_eq!(f, found);
            assert_eq!(index, 1);
        }
        other => panic!("{dist}: expected OutOfSupport for {found}, got {other:?}"),
    }
}

#[test]
fn out_of_support_values_are_named() {
    let v = t(&[0.5, -1.0]);
    expect_support(
        Exponential::from_scalars(1.0, DType::F64, &Device::Cpu)
            .unwrap()
            .log_prob(&v),
        "Exponential",
        -1.0,
    );
    expect_support(
        HalfNormal::from_scalars(1.0, DType::F64, &Device::Cpu)
            .unwrap()
            .log_prob(&v),
        "HalfNormal",
        -1.0,
    );
    expect_support(
        HalfCauchy::from_scalars(1.0, DType::F64, &Device::Cpu)
            .unwrap()
            .cdf(&v),
        "HalfCauchy",
        -1.0,
    );
    expect_support(
        LogNormal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)
            .unwrap()
            .log_prob(&v),
        "LogNormal",
        -1.0,
    );
    expect_support(
        Uniform::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)
            .unwrap()
            .log_prob(&v),
        "Uniform",
        -1.0,
    );
    // NaN is outside the reals.
    let r = Normal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)
        .unwrap()
        .log_prob(&t(&[0.0, f64::NAN]));
    assert!(
        matches!(r, Err(Error::OutOfSupport { index: 1, found, .. }) if found.is_nan()),
        "{r:?}"
    );
    // icdf needs probabilities.
    let d = Normal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu).unwrap();
    expect_support(d.icdf(&t(&[0.5, 1.5])), "Normal", 1.5);
}

#[test]
fn per_instance_switch_turns_checks_off() {
    // Invalid parameters are accepted without validation...
    let d = Normal::new_with_validation(&t(&[0.0]), &t(&[-1.0]), false).unwrap();
    assert!(!d.validate_args());
    // ...and out-of-support values give the density's value instead of an error.
    let e = Exponential::new_with_validation(&t(&[1.0]), false).unwrap();
    let lp = e.log_prob(&t(&[-1.0])).unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(lp[0], f64::NEG_INFINITY);
    let mut u = Uniform::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu).unwrap();
    assert!(u.log_prob(&t(&[2.0])).is_err());
    u.set_validate_args(false);
    assert_eq!(
        u.log_prob(&t(&[2.0])).unwrap().to_vec1::<f64>().unwrap()[0],
        f64::NEG_INFINITY
    );
    let n = Normal::new_with_validation(&t(&[0.0]), &t(&[1.0]), false).unwrap();
    assert!(n.icdf(&t(&[1.5])).unwrap().to_vec1::<f64>().unwrap()[0].is_nan());
}

#[test]
fn unsupported_dtypes_and_methods_are_typed_errors() {
    let ints = Tensor::new(&[1u32, 2], &Device::Cpu).unwrap();
    assert!(matches!(
        Normal::new(&ints, &ints),
        Err(Error::DType { .. })
    ));
    let d = Normal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu).unwrap();
    assert!(matches!(
        d.enumerate_support(true),
        Err(Error::NotImplemented { .. })
    ));
}

/// The step-2 families: every positive parameter rejects 0, −1 and NaN with an error
/// that names the distribution and the parameter.
#[test]
fn step2_invalid_parameters_are_named() {
    let one = t(&[1.0, 1.0]);
    let zero = t(&[0.0, 0.0]);
    for bad in [0.0, -1.0, f64::NAN] {
        let b = t(&[1.0, bad]);
        expect_param(Gamma::new(&b, &one), "Gamma", "concentration", bad);
        expect_param(Gamma::new(&one, &b), "Gamma", "rate", bad);
        expect_param(Chi2::new(&b), "Chi2", "df", bad);
        expect_param(
            InverseGamma::new(&b, &one),
            "InverseGamma",
            "concentration",
            bad,
        );
        expect_param(Beta::new(&b, &one), "Beta", "concentration1", bad);
        expect_param(Beta::new(&one, &b), "Beta", "concentration0", bad);
        expect_param(StudentT::new(&b, &zero, &one), "StudentT", "df", bad);
        expect_param(StudentT::new(&one, &zero, &b), "StudentT", "scale", bad);
        expect_param(FisherSnedecor::new(&one, &b), "FisherSnedecor", "df2", bad);
        expect_param(
            Kumaraswamy::new(&b, &one),
            "Kumaraswamy",
            "concentration1",
            bad,
        );
        expect_param(VonMises::new(&zero, &b), "VonMises", "concentration", bad);
        expect_param(
            TruncatedNormal::new(&zero, &b, &t(&[-1.0, -1.0]), &one),
            "TruncatedNormal",
            "scale",
            bad,
        );
        expect_param(
            Dirichlet::new(&Tensor::new(&[[1.0, bad], [1.0, 1.0]], &Device::Cpu).unwrap()),
            "Dirichlet",
            "concentration",
            bad,
        );
    }
    // high must exceed low.
    let r = TruncatedNormal::new(&zero, &one, &t(&[-1.0, 2.0]), &t(&[1.0, 2.0]));
    assert!(
        matches!(
            &r,
            Err(Error::InvalidParameter {
                distribution: "TruncatedNormal",
                parameter: "high",
                ..
            })
        ),
        "{r:?}"
    );
    // A Dirichlet needs a category dimension.
    assert!(matches!(
        Dirichlet::new(&Tensor::new(1.0f64, &Device::Cpu).unwrap()),
        Err(Error::Shape { .. })
    ));
}

/// Values outside the support are reported as such, with the value, by log_prob and
/// cdf of the step-2 families.
#[test]
fn step2_out_of_support_values_are_errors() {
    let dev = Device::Cpu;
    let s = |v: f64| Tensor::new(v, &dev).unwrap();
    let bad_pos = t(&[1.0, -0.5]);
    let bad_unit = t(&[0.5, 1.5]);
    let cases: Vec<(Box<dyn Distribution>, &Tensor)> = vec![
        (Box::new(Gamma::new(&s(2.0), &s(1.0)).unwrap()), &bad_pos),
        (
            Box::new(InverseGamma::new(&s(2.0), &s(1.0)).unwrap()),
            &bad_pos,
        ),
        (Box::new(Chi2::new(&s(2.0)).unwrap()), &bad_pos),
        (
            Box::new(FisherSnedecor::new(&s(2.0), &s(3.0)).unwrap()),
            &bad_pos,
        ),
        (Box::new(Beta::new(&s(2.0), &s(3.0)).unwrap()), &bad_unit),
        (
            Box::new(Kumaraswamy::new(&s(2.0), &s(3.0)).unwrap()),
            &bad_unit,
        ),
        (
            Box::new(ContinuousBernoulli::new(&s(0.3)).unwrap()),
            &bad_unit,
        ),
        (
            Box::new(TruncatedNormal::new(&s(0.0), &s(1.0), &s(-1.0), &s(1.0)).unwrap()),
            &bad_unit,
        ),
    ];
    for (d, v) in &cases {
        for r in [d.log_prob(v), d.cdf(v)] {
            match r {
                Err(Error::OutOfSupport {
                    distribution,
                    index,
                    ..
                }) => {
                    assert_eq!(distribution, d.name());
                    assert_eq!(index, 1);
                }
                other => panic!("{}: expected OutOfSupport, got {other:?}", d.name()),
            }
        }
    }
    // Dirichlet values must lie on the simplex.
    let dir = Dirichlet::new(&t(&[1.0, 2.0, 3.0])).unwrap();
    assert!(matches!(
        dir.log_prob(&t(&[0.5, 0.5, 0.5])),
        Err(Error::OutOfSupport {
            distribution: "Dirichlet",
            ..
        })
    ));
    // VonMises' cdf takes every real angle (reduced by whole turns into the window
    // [loc − π, loc + π)); only NaN is outside its domain.
    let vm = VonMises::new(&s(1.0), &s(2.0)).unwrap();
    assert!(vm.cdf(&s(1.0 + 3.0)).is_ok());
    assert!(vm.cdf(&s(1.0 + 3.5)).is_ok());
    assert!(matches!(
        vm.cdf(&s(f64::NAN)),
        Err(Error::OutOfSupport {
            distribution: "VonMises",
            ..
        })
    ));
    // icdf arguments outside [0, 1].
    let k = Kumaraswamy::new(&s(2.0), &s(3.0)).unwrap();
    assert!(matches!(k.icdf(&s(1.5)), Err(Error::OutOfSupport { .. })));
    // Methods without a closed form say so.
    let g = Gamma::new(&s(2.0), &s(1.0)).unwrap();
    assert!(matches!(
        g.icdf(&s(0.5)),
        Err(Error::NotImplemented {
            distribution: "Gamma",
            ..
        })
    ));
}

/// Shape rules for the step-2 families: draws are `sample_shape ++ batch_shape
/// (++ event_shape)`, log_prob returns one number per event, expand broadcasts the batch.
#[test]
fn step2_shapes_and_expand() {
    let two = t(&[1.5, 2.5]);
    let zero = t(&[0.0, 0.5]);
    let dists: Vec<Box<dyn Distribution>> = vec![
        Box::new(Gamma::new(&two, &two).unwrap()),
        Box::new(Chi2::new(&two).unwrap()),
        Box::new(InverseGamma::new(&two, &two).unwrap()),
        Box::new(Beta::new(&two, &two).unwrap()),
        Box::new(StudentT::new(&two, &zero, &two).unwrap()),
        Box::new(FisherSnedecor::new(&two, &two).unwrap()),
        Box::new(Kumaraswamy::new(&two, &two).unwrap()),
        Box::new(GeneralizedPareto::new(&zero, &two, &t(&[0.1, -0.2])).unwrap()),
        Box::new(ContinuousBernoulli::new(&t(&[0.2, 0.7])).unwrap()),
        Box::new(VonMises::new(&zero, &two).unwrap()),
        Box::new(TruncatedNormal::new(&zero, &two, &t(&[-1.0, -2.0]), &t(&[1.0, 3.0])).unwrap()),
    ];
    let mut rng = Generator::new(3);
    for d in &dists {
        assert_eq!(d.batch_shape(), &[2], "{}", d.name());
        assert!(d.has_rsample());
        let x = d.rsample(&[3], &mut rng).unwrap();
        assert_eq!(x.dims(), &[3, 2], "{}", d.name());
        assert_eq!(d.log_prob(&x).unwrap().dims(), &[3, 2], "{}", d.name());
        assert_eq!(d.cdf(&x).unwrap().dims(), &[3, 2], "{}", d.name());
        let e = d.expand(&[4, 2]).unwrap();
        assert_eq!(e.batch_shape(), &[4, 2], "{}", d.name());
        assert_eq!(
            e.sample(&[5], &mut rng).unwrap().dims(),
            &[5, 4, 2],
            "{}",
            d.name()
        );
        assert!(
            d.expand(&[3]).is_err(),
            "{}: [2] does not expand to [3]",
            d.name()
        );
        for m in [d.mean(), d.variance(), d.entropy()] {
            assert_eq!(m.unwrap().dims(), &[2], "{}", d.name());
        }
    }
    let dir =
        Dirichlet::new(&Tensor::new(&[[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]], &Device::Cpu).unwrap())
            .unwrap();
    assert_eq!((dir.batch_shape(), dir.event_shape()), (&[2][..], &[3][..]));
    let x = dir.rsample(&[4], &mut rng).unwrap();
    assert_eq!(x.dims(), &[4, 2, 3]);
    assert_eq!(dir.log_prob(&x).unwrap().dims(), &[4, 2]);
    assert_eq!(dir.entropy().unwrap().dims(), &[2]);
    assert_eq!(
        dir.expand(&[5, 2])
            .unwrap()
            .sample(&[], &mut rng)
            .unwrap()
            .dims(),
        &[5, 2, 3]
    );
}

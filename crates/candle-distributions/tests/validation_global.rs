//! The process-wide validation default (its own test binary: the switch is global).

use candle_core::{Device, Tensor};
use candle_distributions::prelude::*;
use candle_distributions::{default_validate_args, Error};

#[test]
fn global_switch_controls_new_instances() {
    let bad = Tensor::new(&[-1.0f64], &Device::Cpu).unwrap();
    let zero = Tensor::new(&[0.0f64], &Device::Cpu).unwrap();
    assert!(default_validate_args());
    assert!(matches!(
        Normal::new(&zero, &bad),
        Err(Error::InvalidParameter { .. })
    ));
    set_default_validate_args(false);
    let d = Normal::new(&zero, &bad).expect("no check with validation off");
    assert!(!d.validate_args());
    let e = Exponential::new(&Tensor::new(&[1.0f64], &Device::Cpu).unwrap()).unwrap();
    assert_eq!(
        e.log_prob(&bad).unwrap().to_vec1::<f64>().unwrap()[0],
        f64::NEG_INFINITY
    );
    // An explicit per-instance choice wins over the default.
    assert!(Normal::new_with_validation(&zero, &bad, true).is_err());
    set_default_validate_args(true);
    assert!(Normal::new(&zero, &bad).is_err());
}

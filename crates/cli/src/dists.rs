//! Distributions by name: the factory behind `sample` and `eval`.
//!
//! Names and parameters follow torch.distributions (`normal` with `loc`, `scale`;
//! `uniform` with `low`, `high`; `exponential` with `rate`; ...). Names are matched
//! case-insensitively, and `_`/`-` are ignored (`half_normal`, `Half-Normal` and
//! `halfnormal` are the same). Every parameter is required, as in torch.

use crate::num::{fmt_num, Digits};
use candle_core::{DType, Device, Tensor};
use candle_distributions::{
    Beta, Cauchy, Chi2, ContinuousBernoulli, Distribution, Exponential, FisherSnedecor, Gamma,
    GeneralizedPareto, Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, Laplace,
    LogNormal, Normal, StudentT, TruncatedNormal, Uniform, VonMises,
};

/// One distribution the CLI knows: its command-line name, display name and parameters
/// (in constructor order).
#[derive(Debug, Clone, Copy)]
pub struct DistSpec {
    /// Lower-case name used on the command line (`halfnormal`).
    pub name: &'static str,
    /// Display name (`HalfNormal`).
    pub display: &'static str,
    /// torch parameter names, in constructor order.
    pub params: &'static [&'static str],
}

/// The distribution arguments shared by `sample` and `eval`.
#[derive(clap::Args, Debug)]
pub struct DistArgs {
    /// Distribution: normal, uniform, exponential, laplace, cauchy, gumbel, lognormal,
    /// halfnormal, halfcauchy, gamma, chi2, inversegamma, beta, studentt,
    /// fishersnedecor, kumaraswamy, generalizedpareto, continuousbernoulli, vonmises,
    /// truncatednormal (case-insensitive).
    pub dist: String,
    /// A parameter by its torch name, as NAME=VALUE (repeat for each: --param loc=0
    /// --param scale=1).
    #[arg(
        short,
        long = "param",
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
}

/// All distributions available by name.
pub const SPECS: &[DistSpec] = &[
    DistSpec {
        name: "normal",
        display: "Normal",
        params: &["loc", "scale"],
    },
    DistSpec {
        name: "uniform",
        display: "Uniform",
        params: &["low", "high"],
    },
    DistSpec {
        name: "exponential",
        display: "Exponential",
        params: &["rate"],
    },
    DistSpec {
        name: "laplace",
        display: "Laplace",
        params: &["loc", "scale"],
    },
    DistSpec {
        name: "cauchy",
        display: "Cauchy",
        params: &["loc", "scale"],
    },
    DistSpec {
        name: "gumbel",
        display: "Gumbel",
        params: &["loc", "scale"],
    },
    DistSpec {
        name: "lognormal",
        display: "LogNormal",
        params: &["loc", "scale"],
    },
    DistSpec {
        name: "halfnormal",
        display: "HalfNormal",
        params: &["scale"],
    },
    DistSpec {
        name: "halfcauchy",
        display: "HalfCauchy",
        params: &["scale"],
    },
    DistSpec {
        name: "gamma",
        display: "Gamma",
        params: &["concentration", "rate"],
    },
    DistSpec {
        name: "chi2",
        display: "Chi2",
        params: &["df"],
    },
    DistSpec {
        name: "inversegamma",
        display: "InverseGamma",
        params: &["concentration", "rate"],
    },
    DistSpec {
        name: "beta",
        display: "Beta",
        params: &["concentration1", "concentration0"],
    },
    DistSpec {
        name: "studentt",
        display: "StudentT",
        params: &["df", "loc", "scale"],
    },
    DistSpec {
        name: "fishersnedecor",
        display: "FisherSnedecor",
        params: &["df1", "df2"],
    },
    DistSpec {
        name: "kumaraswamy",
        display: "Kumaraswamy",
        params: &["concentration1", "concentration0"],
    },
    DistSpec {
        name: "generalizedpareto",
        display: "GeneralizedPareto",
        params: &["loc", "scale", "concentration"],
    },
    DistSpec {
        name: "continuousbernoulli",
        display: "ContinuousBernoulli",
        params: &["probs"],
    },
    DistSpec {
        name: "vonmises",
        display: "VonMises",
        params: &["loc", "concentration"],
    },
    DistSpec {
        name: "truncatednormal",
        display: "TruncatedNormal",
        params: &["loc", "scale", "low", "high"],
    },
];

/// The comma-separated list of known names, for error messages and help.
pub fn known_names() -> String {
    SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Looks a distribution up by name (case-insensitive; `_` and `-` ignored).
pub fn lookup(name: &str) -> Result<&'static DistSpec, String> {
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SPECS
        .iter()
        .find(|s| s.name == key)
        .ok_or_else(|| format!("unknown distribution `{name}` (known: {})", known_names()))
}

/// Parses a finite or infinite number as written by a user (`1.5`, `-2`, `1e-3`, `inf`).
pub fn parse_number(what: &str, s: &str) -> Result<f64, String> {
    let v = s
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("{what}: `{s}` is not a number"))?;
    if v.is_nan() {
        return Err(format!("{what}: NaN is not allowed"));
    }
    Ok(v)
}

/// Checks that a number typed for `what` survives the conversion to `dtype`: an f32
/// run must not turn `1e308` into +∞ or `1e-50` into 0 behind the user's back.
pub fn check_fits(what: &str, v: f64, dtype: DType) -> Result<(), String> {
    if dtype != DType::F32 || !v.is_finite() {
        return Ok(());
    }
    let x = v as f32;
    if x.is_infinite() {
        return Err(format!(
            "{what}: {} is beyond the f32 range (largest {:e}); use --dtype f64",
            fmt_num(v, DType::F64, Digits::Full),
            f32::MAX
        ));
    }
    if x == 0.0 && v != 0.0 {
        return Err(format!(
            "{what}: {} rounds to 0 in f32 (smallest {:e}); use --dtype f64",
            fmt_num(v, DType::F64, Digits::Full),
            f32::from_bits(1)
        ));
    }
    Ok(())
}

/// Parses one `--param k=v` argument.
pub fn parse_param(s: &str) -> Result<(String, f64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--param `{s}`: expected NAME=VALUE (for example scale=2)"))?;
    let k = k.trim().to_ascii_lowercase();
    if k.is_empty() {
        return Err(format!("--param `{s}`: the parameter name is empty"));
    }
    let v = parse_number(&format!("--param {k}"), v)?;
    Ok((k, v))
}

/// A distribution built from the command line, with its parameters for display.
#[derive(Debug)]
pub struct Built {
    /// The distribution (scalar parameters: `batch_shape` is `[]`).
    pub dist: Box<dyn Distribution>,
    /// Its specification.
    pub spec: &'static DistSpec,
    /// Parameter values in constructor order.
    pub values: Vec<f64>,
}

impl Built {
    /// `Normal(loc=0, scale=1)`.
    pub fn label(&self) -> String {
        let ps: Vec<String> = self
            .spec
            .params
            .iter()
            .zip(&self.values)
            .map(|(k, v)| format!("{k}={}", fmt_num(*v, DType::F64, Digits::Full)))
            .collect();
        format!("{}({})", self.spec.display, ps.join(", "))
    }
}

/// Builds distribution `name` from `k=v` parameter strings, in `dtype`, on the CPU.
///
/// Errors (one line each) name an unknown distribution or parameter, a missing or
/// repeated parameter, a malformed number, or a parameter that violates its constraint
/// (`scale=-1`), listing the valid choices where that helps.
pub fn build(name: &str, params: &[String], dtype: DType) -> Result<Built, String> {
    let spec = lookup(name)?;
    let mut values: Vec<Option<f64>> = vec![None; spec.params.len()];
    for p in params {
        let (k, v) = parse_param(p)?;
        let i = spec.params.iter().position(|n| *n == k).ok_or_else(|| {
            format!(
                "unknown parameter `{k}` for {} (valid: {})",
                spec.name,
                spec.params.join(", ")
            )
        })?;
        if values[i].is_some() {
            return Err(format!("parameter `{k}` given twice"));
        }
        check_fits(&format!("--param {k}"), v, dtype)?;
        values[i] = Some(v);
    }
    let missing: Vec<&str> = spec
        .params
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        let usage: Vec<String> = spec
            .params
            .iter()
            .map(|n| format!("--param {n}=..."))
            .collect();
        return Err(format!(
            "{} needs parameter{} {} (usage: {} {})",
            spec.name,
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            spec.name,
            usage.join(" ")
        ));
    }
    let values: Vec<f64> = values.into_iter().map(|v| v.unwrap_or_default()).collect();
    let dist = construct(spec, &values, dtype).map_err(|e| e.to_string())?;
    Ok(Built { dist, spec, values })
}

fn construct(
    spec: &DistSpec,
    values: &[f64],
    dtype: DType,
) -> candle_distributions::Result<Box<dyn Distribution>> {
    let dev = Device::Cpu;
    let t: Vec<Tensor> = values
        .iter()
        .map(|v| Tensor::new(*v, &dev)?.to_dtype(dtype))
        .collect::<candle_core::Result<_>>()?;
    Ok(match spec.name {
        "normal" => Box::new(Normal::new_with_validation(&t[0], &t[1], true)?),
        "uniform" => Box::new(Uniform::new_with_validation(&t[0], &t[1], true)?),
        "exponential" => Box::new(Exponential::new_with_validation(&t[0], true)?),
        "laplace" => Box::new(Laplace::new_with_validation(&t[0], &t[1], true)?),
        "cauchy" => Box::new(Cauchy::new_with_validation(&t[0], &t[1], true)?),
        "gumbel" => Box::new(Gumbel::new_with_validation(&t[0], &t[1], true)?),
        "lognormal" => Box::new(LogNormal::new_with_validation(&t[0], &t[1], true)?),
        "halfnormal" => Box::new(HalfNormal::new_with_validation(&t[0], true)?),
        "halfcauchy" => Box::new(HalfCauchy::new_with_validation(&t[0], true)?),
        "gamma" => Box::new(Gamma::new_with_validation(&t[0], &t[1], true)?),
        "chi2" => Box::new(Chi2::new_with_validation(&t[0], true)?),
        "inversegamma" => Box::new(InverseGamma::new_with_validation(&t[0], &t[1], true)?),
        "beta" => Box::new(Beta::new_with_validation(&t[0], &t[1], true)?),
        "studentt" => Box::new(StudentT::new_with_validation(&t[0], &t[1], &t[2], true)?),
        "fishersnedecor" => Box::new(FisherSnedecor::new_with_validation(&t[0], &t[1], true)?),
        "kumaraswamy" => Box::new(Kumaraswamy::new_with_validation(&t[0], &t[1], true)?),
        "generalizedpareto" => Box::new(GeneralizedPareto::new_with_validation(
            &t[0], &t[1], &t[2], true,
        )?),
        "continuousbernoulli" => Box::new(ContinuousBernoulli::new_with_validation(&t[0], true)?),
        "vonmises" => Box::new(VonMises::new_with_validation(&t[0], &t[1], true)?),
        "truncatednormal" => Box::new(TruncatedNormal::new_with_validation(
            &t[0], &t[1], &t[2], &t[3], true,
        )?),
        other => {
            return Err(candle_distributions::Error::InvalidArgument(format!(
                "no constructor for `{other}`"
            )))
        }
    })
}

/// All elements of a tensor as f64 on the host.
pub fn host(t: &Tensor) -> Result<Vec<f64>, String> {
    t.flatten_all()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec1::<f64>())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_and_separator_insensitive() {
        assert_eq!(lookup("Half_Normal").unwrap().name, "halfnormal");
        assert_eq!(lookup("NORMAL").unwrap().name, "normal");
        assert_eq!(lookup("Student-T").unwrap().name, "studentt");
        assert!(lookup("wishart").unwrap_err().contains("known: normal"));
    }

    #[test]
    fn builds_and_reports_errors() {
        let b = build("normal", &["loc=1".into(), "scale=2".into()], DType::F64).unwrap();
        assert_eq!(b.label(), "Normal(loc=1, scale=2)");
        let e = build("normal", &["loc=1".into()], DType::F64).unwrap_err();
        assert!(e.contains("scale"), "{e}");
        let e = build("normal", &["loc=1".into(), "rate=2".into()], DType::F64).unwrap_err();
        assert!(e.contains("valid: loc, scale"), "{e}");
        let e = build("normal", &["loc=x".into(), "scale=2".into()], DType::F64).unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        let e = build("normal", &["loc=0".into(), "scale=-1".into()], DType::F64).unwrap_err();
        assert!(e.contains("scale"), "{e}");
        let b = build(
            "cauchy",
            &["loc=0".into(), "scale=1e308".into()],
            DType::F64,
        )
        .unwrap();
        assert_eq!(b.label(), "Cauchy(loc=0, scale=1e308)");
        let e = build(
            "cauchy",
            &["loc=0".into(), "scale=1e308".into()],
            DType::F32,
        )
        .unwrap_err();
        assert!(
            e.contains("scale") && e.contains("beyond the f32 range"),
            "{e}"
        );
        let e = build(
            "normal",
            &["loc=1e-50".into(), "scale=1".into()],
            DType::F32,
        )
        .unwrap_err();
        assert!(e.contains("loc") && e.contains("rounds to 0"), "{e}");
        let e = build("normal", &["loc=nan".into(), "scale=1".into()], DType::F64).unwrap_err();
        assert!(e.contains("NaN is not allowed"), "{e}");
        for s in SPECS {
            let ps: Vec<String> = s
                .params
                .iter()
                .map(|p| {
                    if *p == "high" {
                        "high=2".to_string()
                    } else {
                        format!("{p}=1")
                    }
                })
                .collect();
            build(s.name, &ps, DType::F32).unwrap();
        }
    }
}

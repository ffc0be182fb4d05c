//! Distributions by name: the factory behind `sample` and `eval`.
//!
//! Names and parameters follow torch.distributions (`normal` with `loc`, `scale`;
//! `uniform` with `low`, `high`; `exponential` with `rate`; ...). Names are matched
//! case-insensitively, and `_`/`-` are ignored (`half_normal`, `Half-Normal` and
//! `halfnormal` are the same). Every parameter is required, as in torch.
//!
//! A parameter is one number (a tensor of shape `[]`) or, for the families whose last
//! parameter dimension is the event (`dirichlet`, `logisticnormal`), a comma-separated
//! vector (shape `[K]`); vectors of one distribution must have the same length and
//! scalars broadcast against them, so every distribution built here has
//! `batch_shape = []` and draws that are numbers or K-vectors.

use crate::num::{fmt_num, Digits};
use candle_core::{DType, Device, Tensor};
use candle_distributions::{
    Bernoulli, Binomial, Categorical, Geometric, LogitRelaxedBernoulli, Multinomial,
    NegativeBinomial, OneHotCategorical, Poisson, RelaxedBernoulli, RelaxedOneHotCategorical,
};
use candle_distributions::{
    Beta, Cauchy, Chi2, ContinuousBernoulli, Distribution, Exponential, FisherSnedecor, Gamma,
    GeneralizedPareto, Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, Laplace,
    LogNormal, Normal, StudentT, TanhNormal, TruncatedNormal, Uniform, VonMises,
};
use candle_distributions::{Dirichlet, LogisticNormal, Pareto, Weibull};

/// One distribution the CLI knows: its command-line name, display name and parameters
/// (in constructor order).
#[derive(Debug, Clone, Copy)]
pub struct DistSpec {
    /// Lower-case name used on the command line (`halfnormal`).
    pub name: &'static str,
    /// Display name (`HalfNormal`).
    pub display: &'static str,
    /// torch parameter names, in constructor order; `probs|logits` is one parameter
    /// given by either name (exactly one of them), as torch's probs-or-logits families.
    pub params: &'static [&'static str],
    /// Whether parameters may be vectors (`loc=0.5,-1`): the families whose last
    /// parameter dimension becomes the event (draws are vectors, `event_shape = [K]`).
    /// The others take scalars only, so their draws stay scalars.
    pub vector: bool,
}

/// The distribution arguments shared by `sample` and `eval`.
#[derive(clap::Args, Debug)]
pub struct DistArgs {
    /// Distribution: normal, uniform, exponential, laplace, cauchy, gumbel, lognormal,
    /// halfnormal, halfcauchy, gamma, chi2, inversegamma, beta, studentt,
    /// fishersnedecor, kumaraswamy, generalizedpareto, continuousbernoulli, vonmises,
    /// tanhnormal, truncatednormal, pareto, weibull (scalar parameters, scalar draws);
    /// dirichlet, logisticnormal (vector parameters, draws on the simplex);
    /// bernoulli, binomial, geometric, negativebinomial, poisson (counts);
    /// relaxedbernoulli, logitrelaxedbernoulli; categorical (class indices),
    /// onehotcategorical, multinomial, relaxedonehotcategorical (vectors of K)
    /// (case-insensitive).
    pub dist: String,
    /// A parameter by its torch name, as NAME=VALUE (repeat for each: --param loc=0
    /// --param scale=1). Dirichlet and LogisticNormal take vectors, comma-separated
    /// (--param concentration=1,2,3; --param loc=0.5,-1 --param scale=1): vectors of one
    /// distribution must have the same length K, a single number broadcasts. Dirichlet
    /// draws have K coordinates, LogisticNormal draws K + 1. The probs-or-logits
    /// families take exactly one of --param probs=... and --param logits=... (the
    /// categorical ones a comma-separated list of K ≥ 2 entries; Multinomial's
    /// total_count a whole number).
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
        vector: false,
    },
    DistSpec {
        name: "uniform",
        display: "Uniform",
        params: &["low", "high"],
        vector: false,
    },
    DistSpec {
        name: "exponential",
        display: "Exponential",
        params: &["rate"],
        vector: false,
    },
    DistSpec {
        name: "laplace",
        display: "Laplace",
        params: &["loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "cauchy",
        display: "Cauchy",
        params: &["loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "gumbel",
        display: "Gumbel",
        params: &["loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "lognormal",
        display: "LogNormal",
        params: &["loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "halfnormal",
        display: "HalfNormal",
        params: &["scale"],
        vector: false,
    },
    DistSpec {
        name: "halfcauchy",
        display: "HalfCauchy",
        params: &["scale"],
        vector: false,
    },
    DistSpec {
        name: "gamma",
        display: "Gamma",
        params: &["concentration", "rate"],
        vector: false,
    },
    DistSpec {
        name: "chi2",
        display: "Chi2",
        params: &["df"],
        vector: false,
    },
    DistSpec {
        name: "inversegamma",
        display: "InverseGamma",
        params: &["concentration", "rate"],
        vector: false,
    },
    DistSpec {
        name: "beta",
        display: "Beta",
        params: &["concentration1", "concentration0"],
        vector: false,
    },
    DistSpec {
        name: "studentt",
        display: "StudentT",
        params: &["df", "loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "fishersnedecor",
        display: "FisherSnedecor",
        params: &["df1", "df2"],
        vector: false,
    },
    DistSpec {
        name: "kumaraswamy",
        display: "Kumaraswamy",
        params: &["concentration1", "concentration0"],
        vector: false,
    },
    DistSpec {
        name: "generalizedpareto",
        display: "GeneralizedPareto",
        params: &["loc", "scale", "concentration"],
        vector: false,
    },
    DistSpec {
        name: "continuousbernoulli",
        display: "ContinuousBernoulli",
        params: &["probs"],
        vector: false,
    },
    DistSpec {
        name: "vonmises",
        display: "VonMises",
        params: &["loc", "concentration"],
        vector: false,
    },
    DistSpec {
        name: "tanhnormal",
        display: "TanhNormal",
        params: &["loc", "scale"],
        vector: false,
    },
    DistSpec {
        name: "truncatednormal",
        display: "TruncatedNormal",
        params: &["loc", "scale", "low", "high"],
        vector: false,
    },
    DistSpec {
        name: "pareto",
        display: "Pareto",
        params: &["scale", "alpha"],
        vector: false,
    },
    DistSpec {
        name: "weibull",
        display: "Weibull",
        params: &["scale", "concentration"],
        vector: false,
    },
    DistSpec {
        name: "dirichlet",
        display: "Dirichlet",
        params: &["concentration"],
        vector: true,
    },
    DistSpec {
        name: "logisticnormal",
        display: "LogisticNormal",
        params: &["loc", "scale"],
        vector: true,
    },
    DistSpec {
        name: "bernoulli",
        display: "Bernoulli",
        params: &["probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "binomial",
        display: "Binomial",
        params: &["total_count", "probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "geometric",
        display: "Geometric",
        params: &["probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "negativebinomial",
        display: "NegativeBinomial",
        params: &["total_count", "probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "poisson",
        display: "Poisson",
        params: &["rate"],
        vector: false,
    },
    DistSpec {
        name: "categorical",
        display: "Categorical",
        params: &["probs|logits"],
        vector: true,
    },
    DistSpec {
        name: "onehotcategorical",
        display: "OneHotCategorical",
        params: &["probs|logits"],
        vector: true,
    },
    DistSpec {
        name: "multinomial",
        display: "Multinomial",
        params: &["total_count", "probs|logits"],
        vector: true,
    },
    DistSpec {
        name: "relaxedbernoulli",
        display: "RelaxedBernoulli",
        params: &["temperature", "probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "logitrelaxedbernoulli",
        display: "LogitRelaxedBernoulli",
        params: &["temperature", "probs|logits"],
        vector: false,
    },
    DistSpec {
        name: "relaxedonehotcategorical",
        display: "RelaxedOneHotCategorical",
        params: &["temperature", "probs|logits"],
        vector: true,
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

/// A parameter value from the command line: one number (a scalar, shape `[]`) or a
/// comma-separated list of at least two (a vector, shape `[K]`).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// `scale=2`.
    Scalar(f64),
    /// `loc=0.5,-1`.
    Vector(Vec<f64>),
}

impl ParamValue {
    /// The numbers, in order (one for a scalar).
    pub fn numbers(&self) -> &[f64] {
        match self {
            ParamValue::Scalar(v) => std::slice::from_ref(v),
            ParamValue::Vector(v) => v,
        }
    }

    /// `2` or `[0.5, -1]`, every number in the shortest form that reads back exactly.
    pub fn text(&self) -> String {
        let f = |v: f64| fmt_num(v, DType::F64, Digits::Full);
        match self {
            ParamValue::Scalar(v) => f(*v),
            ParamValue::Vector(v) => {
                format!(
                    "[{}]",
                    v.iter().map(|x| f(*x)).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    /// The value as a tensor of `dtype` on `dev` (shape `[]` or `[K]`).
    fn tensor(&self, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        match self {
            ParamValue::Scalar(v) => Tensor::new(*v, dev)?.to_dtype(dtype),
            ParamValue::Vector(v) => Tensor::new(v.as_slice(), dev)?.to_dtype(dtype),
        }
    }
}

/// Parses a number or a comma-separated list of numbers (`0.2,0.3,0.5`) for `what`:
/// one number is a scalar; an empty entry (`1,,2` or a trailing comma) is an error.
pub fn parse_numbers(what: &str, s: &str) -> Result<ParamValue, String> {
    if !s.contains(',') {
        return parse_number(what, s).map(ParamValue::Scalar);
    }
    s.split(',')
        .enumerate()
        .map(|(i, part)| {
            if part.trim().is_empty() {
                Err(format!(
                    "{what}: `{s}` has an empty entry at position {}",
                    i + 1
                ))
            } else {
                parse_number(what, part)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ParamValue::Vector)
}

/// Parses one `--param k=v` argument (`v` a number or a comma-separated list).
pub fn parse_param(s: &str) -> Result<(String, ParamValue), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--param `{s}`: expected NAME=VALUE (for example scale=2)"))?;
    let k = k.trim().to_ascii_lowercase();
    if k.is_empty() {
        return Err(format!("--param `{s}`: the parameter name is empty"));
    }
    let v = parse_numbers(&format!("--param {k}"), v)?;
    Ok((k, v))
}

/// A distribution built from the command line, with its parameters for display.
#[derive(Debug)]
pub struct Built {
    /// The distribution: `batch_shape` is `[]`; `event_shape` is `[]`, or `[K]` for the
    /// families with vector parameters.
    pub dist: Box<dyn Distribution>,
    /// Its specification.
    pub spec: &'static DistSpec,
    /// Parameter values in constructor order.
    pub values: Vec<ParamValue>,
    /// The parameter names as given, in constructor order (`logits` where the user
    /// chose it over `probs`).
    pub names: Vec<&'static str>,
}

impl Built {
    /// `Normal(loc=0, scale=1)`, `LogisticNormal(loc=[0, 1], scale=1)`.
    pub fn label(&self) -> String {
        let ps: Vec<String> = self
            .names
            .iter()
            .zip(&self.values)
            .map(|(k, v)| format!("{k}={}", v.text()))
            .collect();
        format!("{}({})", self.spec.display, ps.join(", "))
    }

    /// The number of coordinates of one draw: 1 for scalar draws, K for `event_shape =
    /// [K]`.
    pub fn event_size(&self) -> usize {
        self.dist.event_shape().iter().product()
    }

    /// The law of each coordinate of a draw where it is a known family, with a label:
    /// for Dirichlet(α), coordinate k is Beta(α_k, Σ_{j≠k} α_j) (the aggregation
    /// property). Empty for other families, or where a marginal cannot be built (the
    /// sum overflows the dtype).
    pub fn marginals(&self) -> Vec<(String, Box<dyn Distribution>)> {
        if self.spec.name == "multinomial" {
            return self.multinomial_marginals();
        }
        if self.spec.name != "dirichlet" {
            return vec![];
        }
        let a = self.values[0].numbers();
        let dtype = self.dist.dtype();
        let f = |v: f64| fmt_num(v, DType::F64, Digits::Sig(4));
        let mut out = Vec::with_capacity(a.len());
        for (k, &ak) in a.iter().enumerate() {
            // The other entries summed directly: α₀ − α_k cancels to 0 when α_k dwarfs
            // them.
            let rest: f64 = a
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, v)| v)
                .sum();
            let beta = Tensor::new(ak, &Device::Cpu)
                .and_then(|t| t.to_dtype(dtype))
                .and_then(|c1| Ok((c1, Tensor::new(rest, &Device::Cpu)?.to_dtype(dtype)?)))
                .map_err(candle_distributions::Error::from)
                .and_then(|(c1, c0)| Beta::new_with_validation(&c1, &c0, true));
            match beta {
                Ok(b) => out.push((format!("Beta({}, {})", f(ak), f(rest)), Box::new(b) as _)),
                Err(_) => return vec![],
            }
        }
        out
    }

    /// Multinomial(n, p): coordinate k is Binomial(n, p_k), p normalised from probs
    /// (p/Σp) or logits (softmax), in f64 on the host.
    fn multinomial_marginals(&self) -> Vec<(String, Box<dyn Distribution>)> {
        let n = self.values[0].numbers()[0];
        let x = self.values[1].numbers();
        let p: Vec<f64> = if self.names[1] == "logits" {
            let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
            let z: f64 = e.iter().sum();
            e.iter().map(|v| v / z).collect()
        } else {
            let z: f64 = x.iter().sum();
            x.iter().map(|v| v / z).collect()
        };
        let dtype = self.dist.dtype();
        let f = |v: f64| fmt_num(v, DType::F64, Digits::Sig(4));
        let mut out = Vec::with_capacity(p.len());
        for pk in p {
            let b = Tensor::new(&[n, pk], &Device::Cpu)
                .and_then(|t| t.to_dtype(dtype))
                .map_err(candle_distributions::Error::from)
                .and_then(|t| Binomial::new_with_validation(&t.get(0)?, &t.get(1)?, true));
            match b {
                Ok(b) => out.push((format!("Binomial({}, {})", f(n), f(pk)), Box::new(b) as _)),
                Err(_) => return vec![],
            }
        }
        out
    }

    /// Whether draws are vectors (`event_shape` non-empty).
    pub fn is_vector(&self) -> bool {
        !self.dist.event_shape().is_empty()
    }
}

/// Checks the lengths of a family's vector parameters: the vectors must all have the
/// same length (scalars broadcast against them, as tensors of shape `[]` do), and a
/// family with scalar parameters takes no vector at all.
fn check_lengths(
    spec: &DistSpec,
    names: &[&'static str],
    values: &[ParamValue],
) -> Result<(), String> {
    let vectors: Vec<(&str, usize)> = names
        .iter()
        .zip(values)
        .filter_map(|(k, v)| match v {
            ParamValue::Vector(xs) => Some((*k, xs.len())),
            ParamValue::Scalar(_) => None,
        })
        .collect();
    if let Some((k, len)) = vectors.first().filter(|_| !spec.vector) {
        return Err(format!(
            "{} takes scalar parameters only, but `{k}` has {len} entries",
            spec.name
        ));
    }
    if let Some(w) = vectors.windows(2).find(|w| w[0].1 != w[1].1) {
        return Err(format!(
            "{}: `{}` has {} entries but `{}` has {}; vector parameters must have the same length (a single number broadcasts)",
            spec.name, w[0].0, w[0].1, w[1].0, w[1].1
        ));
    }
    if is_categorical(spec) {
        for (k, v) in names.iter().zip(values) {
            match (v, k == &"probs" || k == &"logits") {
                (ParamValue::Scalar(_), true) => {
                    return Err(format!(
                        "{}: `{k}` must list the K ≥ 2 categories, comma-separated (for example {k}=0.2,0.3,0.5)",
                        spec.name
                    ))
                }
                (ParamValue::Vector(xs), false) => {
                    return Err(format!(
                        "{}: `{k}` is one number, but has {} entries",
                        spec.name,
                        xs.len()
                    ))
                }
                _ => {}
            }
        }
    }
    if spec.name == "dirichlet" && vectors.is_empty() {
        return Err(
            "dirichlet: `concentration` must list the K ≥ 2 categories, comma-separated (for example concentration=1,2,3)"
                .into(),
        );
    }
    Ok(())
}

/// Whether the family's probs/logits are a vector of K categories (its other
/// parameters are single numbers).
pub fn is_categorical(spec: &DistSpec) -> bool {
    matches!(
        spec.name,
        "categorical" | "onehotcategorical" | "multinomial" | "relaxedonehotcategorical"
    )
}

/// Whether the family is discrete (draws are integers or vectors of integers): its
/// pmf is what `sample --plot` draws against the observed frequencies.
pub fn is_discrete(spec: &DistSpec) -> bool {
    matches!(
        spec.name,
        "bernoulli"
            | "binomial"
            | "geometric"
            | "negativebinomial"
            | "poisson"
            | "categorical"
            | "onehotcategorical"
            | "multinomial"
    )
}

/// The position of parameter `k` in `spec.params` and its name there (an entry
/// `probs|logits` accepts either).
fn param_slot(spec: &DistSpec, k: &str) -> Option<(usize, &'static str)> {
    spec.params
        .iter()
        .enumerate()
        .find_map(|(i, n)| n.split('|').find(|a| *a == k).map(|a| (i, a)))
}

/// `probs|logits` as people read it: `probs or logits`.
fn readable(n: &str) -> String {
    n.replace('|', " or ")
}

/// Builds distribution `name` from `k=v` parameter strings, in `dtype`, on the CPU.
///
/// Errors (one line each) name an unknown distribution or parameter, a missing or
/// repeated parameter, a malformed number, vector lengths that do not match, or a
/// parameter that violates its constraint (`scale=-1`), listing the valid choices where
/// that helps.
pub fn build(name: &str, params: &[String], dtype: DType) -> Result<Built, String> {
    let spec = lookup(name)?;
    let mut values: Vec<Option<ParamValue>> = vec![None; spec.params.len()];
    let mut names: Vec<&'static str> = spec.params.to_vec();
    for p in params {
        let (k, v) = parse_param(p)?;
        let (i, name) = param_slot(spec, &k).ok_or_else(|| {
            format!(
                "unknown parameter `{k}` for {} (valid: {})",
                spec.name,
                readable(&spec.params.join(", "))
            )
        })?;
        if values[i].is_some() {
            if names[i] != name {
                return Err(format!(
                    "{}: give `{}` or `{name}`, not both (they are the same parameter)",
                    spec.name, names[i]
                ));
            }
            return Err(format!("parameter `{k}` given twice"));
        }
        names[i] = name;
        for x in v.numbers() {
            check_fits(&format!("--param {k}"), *x, dtype)?;
        }
        values[i] = Some(v);
    }
    let missing: Vec<String> = spec
        .params
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| readable(n))
        .collect();
    if !missing.is_empty() {
        let usage: Vec<String> = spec
            .params
            .iter()
            .map(|n| format!("--param {}=...", n.split('|').next().unwrap_or(n)))
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
    let values: Vec<ParamValue> = values.into_iter().flatten().collect();
    check_lengths(spec, &names, &values)?;
    let dist = construct(spec, &names, &values, dtype)?;
    Ok(Built {
        dist,
        spec,
        values,
        names,
    })
}

/// Multinomial's `total_count`: a whole number (a count of trials, not a tensor).
fn whole_count(spec: &DistSpec, v: &ParamValue) -> Result<usize, String> {
    let x = v.numbers()[0];
    if x < 0.0 || x.fract() != 0.0 || x > 9.007_199_254_740_992e15 {
        return Err(format!(
            "{}: `total_count` must be a whole number of trials (0, 1, 2, ...), got {}",
            spec.name,
            fmt_num(x, DType::F64, Digits::Full)
        ));
    }
    Ok(x as usize)
}

fn construct(
    spec: &DistSpec,
    names: &[&'static str],
    values: &[ParamValue],
    dtype: DType,
) -> Result<Box<dyn Distribution>, String> {
    let count = if spec.name == "multinomial" {
        Some(whole_count(spec, &values[0])?)
    } else {
        None
    };
    let logits = names.contains(&"logits");
    construct_tensors(spec, logits, count, values, dtype).map_err(|e| e.to_string())
}

fn construct_tensors(
    spec: &DistSpec,
    logits: bool,
    count: Option<usize>,
    values: &[ParamValue],
    dtype: DType,
) -> candle_distributions::Result<Box<dyn Distribution>> {
    // The families given by probs or by logits: `from_logits_with_validation` or
    // `new_with_validation`, with the same leading parameters.
    macro_rules! probs_or_logits {
        ($ty:ident, $($a:expr),+) => {
            if logits {
                Box::new($ty::from_logits_with_validation($($a),+, true)?) as Box<dyn Distribution>
            } else {
                Box::new($ty::new_with_validation($($a),+, true)?)
            }
        };
    }
    let dev = Device::Cpu;
    let t: Vec<Tensor> = values
        .iter()
        .map(|v| v.tensor(dtype, &dev))
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
        "tanhnormal" => Box::new(TanhNormal::new_with_validation(&t[0], &t[1], true)?),
        "truncatednormal" => Box::new(TruncatedNormal::new_with_validation(
            &t[0], &t[1], &t[2], &t[3], true,
        )?),
        "pareto" => Box::new(Pareto::new_with_validation(&t[0], &t[1], true)?),
        "weibull" => Box::new(Weibull::new_with_validation(&t[0], &t[1], true)?),
        "dirichlet" => Box::new(Dirichlet::new_with_validation(&t[0], true)?),
        "logisticnormal" => Box::new(LogisticNormal::new_with_validation(&t[0], &t[1], true)?),
        "bernoulli" => probs_or_logits!(Bernoulli, &t[0]),
        "binomial" => probs_or_logits!(Binomial, &t[0], &t[1]),
        "geometric" => probs_or_logits!(Geometric, &t[0]),
        "negativebinomial" => probs_or_logits!(NegativeBinomial, &t[0], &t[1]),
        "poisson" => Box::new(Poisson::new_with_validation(&t[0], true)?),
        "categorical" => probs_or_logits!(Categorical, &t[0]),
        "onehotcategorical" => probs_or_logits!(OneHotCategorical, &t[0]),
        "multinomial" => probs_or_logits!(Multinomial, count.unwrap_or(0), &t[1]),
        "relaxedbernoulli" => probs_or_logits!(RelaxedBernoulli, &t[0], &t[1]),
        "logitrelaxedbernoulli" => probs_or_logits!(LogitRelaxedBernoulli, &t[0], &t[1]),
        "relaxedonehotcategorical" => probs_or_logits!(RelaxedOneHotCategorical, &t[0], &t[1]),
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
    fn multinomial_marginals_are_binomials_of_the_normalised_probs() {
        for (p, want) in [("probs=1,3", [0.25, 0.75]), ("logits=0,0", [0.5, 0.5])] {
            let b = build(
                "multinomial",
                &["total_count=8".into(), p.into()],
                DType::F64,
            )
            .unwrap();
            let m = b.marginals();
            assert_eq!(m.len(), 2);
            for ((label, d), w) in m.iter().zip(want) {
                assert_eq!(label, &format!("Binomial(8, {w})"));
                let mean = host(&d.mean().unwrap()).unwrap()[0];
                assert!((mean - 8.0 * w).abs() < 1e-12, "{label}: {mean}");
            }
        }
    }

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
                    } else if *p == "probs|logits" && is_categorical(s) {
                        "probs=0.5,0.5".to_string()
                    } else if *p == "probs|logits" {
                        "probs=0.5".to_string()
                    } else if is_categorical(s) {
                        format!("{p}=1")
                    } else if s.vector {
                        format!("{p}=1,2")
                    } else {
                        format!("{p}=1")
                    }
                })
                .collect();
            build(s.name, &ps, DType::F32).unwrap();
        }
    }

    #[test]
    fn vector_parameters_parse_check_lengths_and_set_the_event() {
        let b = build(
            "LogisticNormal",
            &["loc=0,1".into(), "scale=2".into()],
            DType::F64,
        )
        .unwrap();
        assert_eq!(b.label(), "LogisticNormal(loc=[0, 1], scale=2)");
        assert_eq!((b.is_vector(), b.event_size()), (true, 3));
        let b = build("dirichlet", &["concentration=1,2,3.5".into()], DType::F32).unwrap();
        assert_eq!((b.is_vector(), b.event_size()), (true, 3));
        // Scalars alone give K = 1, as in torch.
        let b = build(
            "logisticnormal",
            &["loc=0".into(), "scale=1".into()],
            DType::F64,
        )
        .unwrap();
        assert_eq!(b.event_size(), 2);
        let e = build(
            "logisticnormal",
            &["loc=0,1".into(), "scale=1,2,3".into()],
            DType::F64,
        )
        .unwrap_err();
        assert!(e.contains("`loc` has 2 entries but `scale` has 3"), "{e}");
        let e = build("normal", &["loc=0,1".into(), "scale=1".into()], DType::F64).unwrap_err();
        assert!(e.contains("scalar parameters only"), "{e}");
        let e = build("dirichlet", &["concentration=2".into()], DType::F64).unwrap_err();
        assert!(e.contains("comma-separated"), "{e}");
        let e = build("dirichlet", &["concentration=1,,2".into()], DType::F64).unwrap_err();
        assert!(e.contains("empty entry at position 2"), "{e}");
        let e = build("dirichlet", &["concentration=1,-2".into()], DType::F64).unwrap_err();
        assert!(e.contains("concentration") && e.contains("-2"), "{e}");
        let e = build("dirichlet", &["concentration=1,1e39".into()], DType::F32).unwrap_err();
        assert!(e.contains("beyond the f32 range"), "{e}");
        assert_eq!(
            parse_numbers("x", "0.5, -1").unwrap(),
            ParamValue::Vector(vec![0.5, -1.0])
        );
        assert_eq!(parse_numbers("x", "3").unwrap(), ParamValue::Scalar(3.0));
    }
}

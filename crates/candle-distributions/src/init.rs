//! Seeded initialisation of candle-nn parameters: one seed reproduces a whole model.
//!
//! candle-nn's [`VarMap`] draws initial weights from candle's CPU random source, which
//! cannot be seeded, so two runs of the same training program start from different
//! weights. [`SeededVarMap`] is a drop-in variable store for candle-nn's
//! [`VarBuilder`] that draws every new variable from a [`Generator`] instead, with
//! candle-nn's [`Init`] schemes and formulas (torch.nn.init's):
//!
//! - `Const(c)`: every entry is `c`.
//! - `Randn { mean, stdev }`: `mean + stdev · z`, `z ~ N(0, 1)`.
//! - `Uniform { lo, up }`: `lo + (up − lo) · u`, `u ~ U(0, 1)`.
//! - `Kaiming { dist, fan, non_linearity }`: `std = gain / √fan`, where `fan` is
//!   [`FanInOut::for_shape`](candle_nn::init::FanInOut::for_shape) (`fan_in = dims[1] ·
//!   receptive field`, `fan_out = dims[0] · receptive field`) and `gain` is
//!   [`NonLinearity::gain`](candle_nn::init::NonLinearity::gain) (√2 for ReLU); normal
//!   draws `N(0, std²)`, uniform draws `U(−bound, bound)` with `bound = √3 · std`.
//!   candle-nn's `linear` asks for Kaiming *normal* with ReLU gain and fan-in for its
//!   weight (`std = √(2 / in)`; torch's `nn.Linear` uses `U(−1/√in, 1/√in)` instead) and
//!   `U(−1/√in, 1/√in)` for its bias.
//!
//! Each variable's values are a pure function of (seed, variable name): its draws come
//! from `generator.fold_in(fnv1a_64(name))`, so the order in which layers are built,
//! the number of rayon threads and the device do not change them. Values are drawn in
//! f64 on the CPU and then cast to the requested dtype and moved to the device, so an
//! f32 model and an f64 model built from one seed agree up to rounding.
//!
//! The port of `torch.manual_seed(0)` before building a model, its optimiser and its
//! noise: one seed, split into the weights' stream and the sampling stream.
//!
//! ```
//! use candle_core::{DType, Device, Module};
//! use candle_distributions::prelude::*;
//! use candle_nn::{Optimizer, ParamsAdamW};
//!
//! let dev = Device::Cpu;
//! let mut rng = Generator::new(0); // torch.manual_seed(0)
//! let vm = SeededVarMap::with_generator(&rng.split()); // the weights' stream
//! let vb = vm.var_builder(DType::F32, &dev);
//! let policy = candle_nn::seq()
//!     .add(candle_nn::linear(3, 64, vb.pp("0"))?)
//!     .add(candle_nn::Activation::Relu)
//!     .add(candle_nn::linear(64, 2, vb.pp("2"))?);
//! let params = ParamsAdamW { lr: 3e-4, weight_decay: 0.0, ..Default::default() };
//! let mut opt = candle_nn::AdamW::new(vm.all_vars(), params)?; // torch.optim.Adam
//! let obs = rng.standard_normal(&[4, 3], DType::F32, &dev)?; // torch.randn(4, 3)
//! let loss = policy.forward(&obs)?.sqr()?.mean_all()?;
//! opt.backward_step(&loss)?;
//! assert_eq!(vm.all_vars().len(), 4);
//! # Ok::<(), candle_distributions::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The 64-bit FNV-1a hash of `name`'s UTF-8 bytes (offset basis `0xcbf29ce484222325`,
/// prime `0x100000001b3`): a fixed hash, unlike std's per-process randomised hasher, so
/// a variable's random stream is the same in every run.
///
/// ```
/// use candle_distributions::init::fnv1a_64;
/// // Published FNV-1a 64 test vectors.
/// assert_eq!(fnv1a_64(""), 0xcbf29ce484222325);
/// assert_eq!(fnv1a_64("a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a_64(name: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    name.bytes()
        .fold(OFFSET, |h, b| (h ^ b as u64).wrapping_mul(PRIME))
}

/// A new variable of shape `shape` initialised by `init` from the next draw of `rng`
/// (see the [module documentation](self) for each scheme's formula).
///
/// Values are drawn in f64 on the CPU, cast to `dtype` (any float dtype) and moved to
/// `device`. Errors, never panics: an element count that overflows `usize`, a
/// non-float `dtype`, a non-finite or inverted parameter (`stdev < 0`, `lo > up`, a
/// negative or non-finite gain), or a value that is not finite in `dtype` (for
/// example `Const(1e300)` in f32).
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_distributions::{init::init_var, Generator};
/// use candle_nn::Init;
/// let mut rng = Generator::new(0);
/// let w = init_var(Init::Uniform { lo: -0.5, up: 0.5 }, &[4, 3], DType::F32, &Device::Cpu, &mut rng)?;
/// let v = w.flatten_all()?.to_vec1::<f32>()?;
/// assert!(v.iter().all(|x| (-0.5..=0.5).contains(x)));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn init_var(
    init: Init,
    shape: &[usize],
    dtype: DType,
    device: &Device,
    rng: &mut Generator,
) -> Result<Var> {
    init_var_in("init_var", init, shape, dtype, device, rng)
}

fn invalid(context: &str, init: &Init, parameter: &str, constraint: &str, found: f64) -> Error {
    Error::InvalidArgument(format!(
        "{context}: {init:?}: `{parameter}` must be {constraint}, found {found}"
    ))
}

/// What `init` draws from once its parameters are checked: a constant, a normal
/// (mean, std) or a uniform (lo, up).
enum Scheme {
    Const(f64),
    Normal { mean: f64, std: f64 },
    Uniform { lo: f64, up: f64 },
}

fn scheme(context: &str, init: &Init, shape: &Shape) -> Result<Scheme> {
    let finite = |parameter: &str, x: f64| {
        if x.is_finite() {
            Ok(x)
        } else {
            Err(invalid(context, init, parameter, "finite", x))
        }
    };
    let non_negative = |parameter: &str, x: f64| {
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(invalid(context, init, parameter, "finite and >= 0", x))
        }
    };
    Ok(match *init {
        Init::Const(c) => Scheme::Const(finite("value", c)?),
        Init::Randn { mean, stdev } => Scheme::Normal {
            mean: finite("mean", mean)?,
            std: non_negative("stdev", stdev)?,
        },
        Init::Uniform { lo, up } => {
            let lo = finite("lo", lo)?;
            let up = finite("up", up)?;
            if lo > up {
                return Err(invalid(context, init, "up", &format!(">= lo = {lo}"), up));
            }
            if !(up - lo).is_finite() {
                return Err(invalid(context, init, "up - lo", "finite in f64", up - lo));
            }
            Scheme::Uniform { lo, up }
        }
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let gain = non_negative("gain", non_linearity.gain())?;
            // Only called for non-empty shapes, whose partial products cannot overflow
            // since the full product did not.
            let fan = fan.for_shape(shape) as f64;
            let std = gain / fan.sqrt();
            match dist {
                NormalOrUniform::Normal => Scheme::Normal { mean: 0.0, std },
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    Scheme::Uniform {
                        lo: -bound,
                        up: bound,
                    }
                }
            }
        }
    })
}

fn init_var_in(
    context: &str,
    init: Init,
    shape: &[usize],
    dtype: DType,
    device: &Device,
    rng: &mut Generator,
) -> Result<Var> {
    let n = crate::distribution::checked_numel(context, shape)?;
    if !dtype.is_float() {
        return Err(Error::InvalidArgument(format!(
            "{context}: trainable variables need a float dtype, found {dtype:?}"
        )));
    }
    let shape_ = Shape::from(shape);
    if n == 0 {
        // Nothing to draw (and the fan of an empty shape may be zero): no draw consumed.
        return Ok(Var::zeros(shape_, dtype, device)?);
    }
    let values = match scheme(context, &init, &shape_)? {
        Scheme::Const(c) => Tensor::ones(shape, DType::F64, &Device::Cpu)?.affine(c, 0.0)?,
        Scheme::Normal { mean, std } => rng
            .standard_normal(shape, DType::F64, &Device::Cpu)?
            .affine(std, mean)?,
        Scheme::Uniform { lo, up } => rng
            .uniform(shape, DType::F64, &Device::Cpu)?
            .affine(up - lo, lo)?,
    };
    let cast = values.to_dtype(dtype)?;
    // A finite parameter can still give values outside the dtype's range (Const(1e300)
    // in f32, a huge stdev): refuse rather than hand out inf weights.
    let back = cast.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
    if let Some((i, x)) = back.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "{context}: {init:?} gives a value not finite in {dtype:?} ({x} at index {i})"
        )));
    }
    Ok(Var::from_tensor(&cast.to_device(device)?)?)
}

/// A variable store for candle-nn whose new variables are drawn from a seeded
/// [`Generator`]: the seeded replacement of [`VarMap`] (torch's `torch.manual_seed`
/// followed by building the model).
///
/// The variables live in an ordinary [`VarMap`] ([`SeededVarMap::varmap`]), so
/// candle-nn's `save`/`load` work on them. A variable named `name` is initialised
/// from `Generator::new(seed).fold_in(fnv1a_64(name))` with candle-nn's [`Init`] hint
/// of the layer that asks for it (see the [module documentation](self)), so its
/// values depend only on (seed, name), not on creation order, thread count or device.
/// Asking again for an existing name returns the same variable (the shape and dtype
/// must match).
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_distributions::init::SeededVarMap;
///
/// let weights = |seed| -> candle_core::Result<Vec<Vec<f32>>> {
///     let vm = SeededVarMap::new(seed);
///     let layer = candle_nn::linear(4, 3, vm.var_builder(DType::F32, &Device::Cpu).pp("fc"))?;
///     layer.weight().to_vec2::<f32>()
/// };
/// assert_eq!(weights(0)?, weights(0)?);
/// assert_ne!(weights(0)?, weights(1)?);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SeededVarMap {
    varmap: VarMap,
    generator: Generator,
}

impl std::fmt::Debug for SeededVarMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeededVarMap")
            .field("key", &self.generator.key())
            .field("vars", &self.lock().len())
            .finish()
    }
}

impl SeededVarMap {
    /// An empty store whose variables are drawn from `Generator::new(seed)`.
    pub fn new(seed: u64) -> Self {
        Self::with_generator(&Generator::new(seed))
    }

    /// An empty store whose variables are drawn from streams derived from
    /// `generator`'s key (its draw index is irrelevant), so a program can take both its
    /// model and its sampling randomness from one seed:
    /// `SeededVarMap::with_generator(&rng.split())`.
    ///
    /// ```
    /// use candle_distributions::{init::SeededVarMap, Generator};
    /// let mut rng = Generator::new(7);
    /// let vm = SeededVarMap::with_generator(&rng.split());
    /// assert!(vm.all_vars().is_empty());
    /// ```
    pub fn with_generator(generator: &Generator) -> Self {
        SeededVarMap {
            varmap: VarMap::new(),
            generator: Generator::new(generator.key()),
        }
    }

    /// A candle-nn [`VarBuilder`] that creates its variables in this store (the store
    /// is shared: the builder holds a clone of its handle).
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use candle_distributions::init::SeededVarMap;
    /// let vm = SeededVarMap::new(0);
    /// let _l = candle_nn::linear(2, 5, vm.var_builder(DType::F64, &Device::Cpu).pp("l"))?;
    /// assert_eq!(vm.all_vars().len(), 2); // weight and bias
    /// # Ok::<(), candle_core::Error>(())
    /// ```
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// The variable `name`, created with `init` if it does not exist yet.
    ///
    /// Errors (never panics) on a shape/dtype mismatch with an existing variable and
    /// on everything [`init_var`] refuses; the message names the variable.
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use candle_distributions::init::SeededVarMap;
    /// let vm = SeededVarMap::new(0);
    /// let b = vm.get(&[3], "b", candle_nn::Init::Const(0.5), DType::F32, &Device::Cpu)?;
    /// assert_eq!(b.to_vec1::<f32>()?, [0.5; 3]);
    /// # Ok::<(), candle_distributions::Error>(())
    /// ```
    pub fn get(
        &self,
        shape: &[usize],
        name: &str,
        init: Init,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let context = format!("SeededVarMap: variable `{name}`");
        // Held while creating, so two threads asking for one name get one variable.
        let mut vars = self.lock();
        if let Some(var) = vars.get(name) {
            if var.dims() != shape {
                return Err(Error::shape(
                    &context,
                    format!("requested shape {shape:?}, exists with {:?}", var.dims()),
                ));
            }
            if var.dtype() != dtype {
                return Err(Error::InvalidArgument(format!(
                    "{context}: requested dtype {dtype:?}, exists with {:?}",
                    var.dtype()
                )));
            }
            return Ok(var.as_tensor().clone());
        }
        let mut stream = self.generator.fold_in(fnv1a_64(name));
        let var = init_var_in(&context, init, shape, dtype, device, &mut stream)?;
        let tensor = var.as_tensor().clone();
        vars.insert(name.to_string(), var);
        Ok(tensor)
    }

    /// All variables, sorted by name (a stable order for optimisers).
    pub fn all_vars(&self) -> Vec<Var> {
        self.named_vars().into_iter().map(|(_, v)| v).collect()
    }

    /// All `(name, variable)` pairs, sorted by name.
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use candle_distributions::init::SeededVarMap;
    /// let vm = SeededVarMap::new(0);
    /// let _l = candle_nn::linear(2, 2, vm.var_builder(DType::F32, &Device::Cpu).pp("l"))?;
    /// let names: Vec<String> = vm.named_vars().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["l.bias", "l.weight"]);
    /// # Ok::<(), candle_core::Error>(())
    /// ```
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let mut all: Vec<(String, Var)> = self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The name → variable map (shared with [`SeededVarMap::varmap`]).
    pub fn data(&self) -> &Mutex<HashMap<String, Var>> {
        self.varmap.data()
    }

    /// The underlying candle-nn [`VarMap`] (for `save`, `load`, `set`).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The Philox key every variable's stream is folded from.
    pub fn key(&self) -> u64 {
        self.generator.key()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Var>> {
        // Entries are inserted only once fully built, so a map whose lock was poisoned
        // by a panic elsewhere is still consistent: recover it instead of panicking.
        self.varmap
            .data()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SimpleBackend for SeededVarMap {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        Ok(SeededVarMap::get(self, s.dims(), name, h, dtype, dev)?)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.lock().get(name) {
            Some(var) if var.dtype() == dtype => Ok(var.as_tensor().clone()),
            Some(var) => Err(candle_core::Error::msg(format!(
                "SeededVarMap: variable `{name}`: requested dtype {dtype:?}, exists with {:?}",
                var.dtype()
            ))),
            None => Err(candle_core::Error::msg(format!(
                "SeededVarMap: no variable `{name}` (variables are created by `get` with a shape)"
            ))),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }
}

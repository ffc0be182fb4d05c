//! Pairs of distributions built from others: `Independent`, `TransformedDistribution`.

use super::{add, kl_divergence, not_implemented, Ctx, KlFn};
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::multivariate::LogisticNormal;
use crate::transforms::{sum_rightmost, Independent, TransformedDistribution};
use candle_core::Tensor;
use std::any::TypeId;
use std::collections::HashMap;

pub(super) fn register(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    add::<Independent, Independent>(t, independent_independent);
    add::<TransformedDistribution, TransformedDistribution>(t, transformed_transformed);
    add::<LogisticNormal, LogisticNormal>(t, logistic_normal_logistic_normal);
}

/// Sums the trailing dimensions of a base KL beyond the result's batch rank (the
/// reinterpreted or event dimensions of the outer distributions).
fn sum_to_batch(kl: Tensor, c: &Ctx) -> Result<Tensor> {
    let extra = kl.rank().saturating_sub(c.shape.len());
    sum_rightmost(&kl, extra)
}

/// Independent/Independent: the KL of the bases summed over the reinterpreted
/// dimensions (the log-densities add, so their expectations do). Both sides must
/// reinterpret the same number of dimensions (as torch).
fn independent_independent(p: &Independent, q: &Independent, c: &Ctx) -> Result<Tensor> {
    if p.reinterpreted_batch_ndims() != q.reinterpreted_batch_ndims() {
        return Err(not_implemented(
            p,
            q,
            Some(&format!(
                "reinterpreted_batch_ndims differ ({} and {})",
                p.reinterpreted_batch_ndims(),
                q.reinterpreted_batch_ndims()
            )),
        ));
    }
    let kl = kl_divergence(p.base(), q.base())?;
    sum_rightmost(&kl, p.reinterpreted_batch_ndims())
        .and_then(|k| sum_to_batch(k, c))
        .and_then(|k| c.out(k))
}

/// TransformedDistribution pairs with equal transforms (`Transform::equals`, in order)
/// and equal event shapes: KL is invariant under a common bijection, so it is the KL of
/// the bases (torch's rule, which it also applies to its non-bijective transforms).
fn transformed_transformed(
    p: &TransformedDistribution,
    q: &TransformedDistribution,
    c: &Ctx,
) -> Result<Tensor> {
    let (tp, tq) = (p.transforms(), q.transforms());
    let same = tp.len() == tq.len() && tp.iter().zip(tq).all(|(a, b)| a.equals(b.as_ref()));
    if !same {
        return Err(not_implemented(p, q, Some("the transforms differ")));
    }
    if p.event_shape() != q.event_shape() {
        return Err(not_implemented(p, q, Some("the event shapes differ")));
    }
    let kl = kl_divergence(p.base(), q.base())?;
    c.out(sum_to_batch(kl, c)?)
}

/// LogisticNormal/LogisticNormal: the stick-breaking map is a bijection onto the open
/// simplex, so this is the KL of the underlying Normals summed over their last
/// dimension (torch reaches it through `TransformedDistribution` with an `Independent`
/// base).
fn logistic_normal_logistic_normal(
    p: &LogisticNormal,
    q: &LogisticNormal,
    c: &Ctx,
) -> Result<Tensor> {
    if p.event_shape() != q.event_shape() {
        return Err(Error::shape(
            "kl_divergence",
            format!(
                "LogisticNormal event shapes {:?} and {:?} differ",
                p.event_shape(),
                q.event_shape()
            ),
        ));
    }
    let kl = kl_divergence(p.base(), q.base())?;
    c.out(sum_to_batch(kl, c)?)
}

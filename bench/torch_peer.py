#!/usr/bin/env python3
"""The torch.distributions side of the side-by-side benchmark (see bench/README.md).

Runs the same workloads, under the same names and with the same timing method, as
`candle-dist bench`: f32 tensors on the CPU, 2 threads, argument validation off;
warm-up, then repeated iterations (at least 5, at least ~0.5 s in all), reporting the
median time of one iteration in microseconds.

    python bench/torch_peer.py [--quick] [--filter SUBSTR] [--json PATH]
"""

import argparse
import json
import os
import sys
import time

import torch
from torch.distributions import Bernoulli, Beta, Categorical, Dirichlet, Distribution, Gamma, Normal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from merge import fmt_us  # noqa: E402  (one formatter for both tables)


def size_label(n):
    e, m = 0, n
    while m >= 10 and m % 10 == 0:
        m //= 10
        e += 1
    return f"1e{e}" if m == 1 else str(n)


def params(n, gen):
    loc = torch.randn(n, generator=gen)
    scale = torch.rand(n, generator=gen) + 0.5
    return loc, scale


def rsample_logprob_backward(n):
    def setup():
        gen = torch.Generator().manual_seed(0)
        l, s = params(n, gen)
        loc = l.clone().requires_grad_(True)
        scale = s.clone().requires_grad_(True)

        def step():
            # Fresh gradients each iteration (as optimizer.zero_grad(set_to_none=True)),
            # so backward never pays for accumulation into an existing .grad.
            loc.grad = None
            scale.grad = None
            d = Normal(loc, scale)
            x = d.rsample()
            lp = d.log_prob(x)
            (x.sum() + lp.sum()).backward()

        return step

    return f"normal_rsample_logprob_backward/{size_label(n)}", setup


def sac_policy_backward(batch, actions):
    # The SAC actor's policy head: a tanh-squashed Gaussian over `actions` dimensions
    # for a batch of states, the action's log-density summed over action dimensions,
    # backward to loc and scale. torch's idiom: the transform caches the pre-tanh value
    # (cache_size=1), so log_prob of the fresh draw does not invert tanh.
    from torch.distributions import TransformedDistribution
    from torch.distributions.transforms import TanhTransform

    def setup():
        gen = torch.Generator().manual_seed(6)
        l, s = params(batch * actions, gen)
        loc = l.reshape(batch, actions).clone().requires_grad_(True)
        scale = s.reshape(batch, actions).clone().requires_grad_(True)

        def step():
            loc.grad = None
            scale.grad = None
            d = TransformedDistribution(Normal(loc, scale), [TanhTransform(cache_size=1)])
            a = d.rsample()
            lp = d.log_prob(a).sum(-1)
            (a.sum() + lp.sum()).backward()

        return step

    return f"sac_tanh_normal_policy_backward/{batch}x{actions}", setup


def kl_normal_normal_backward(n):
    # The VAE's KL term: elementwise KL between two Normals, summed, backward to all
    # four parameter tensors.
    from torch.distributions import kl_divergence

    def setup():
        gen = torch.Generator().manual_seed(7)
        lp, sp = params(n, gen)
        lq, sq = params(n, gen)
        ps = [t.clone().requires_grad_(True) for t in (lp, sp, lq, sq)]

        def step():
            for t in ps:
                t.grad = None
            kl_divergence(Normal(ps[0], ps[1]), Normal(ps[2], ps[3])).sum().backward()

        return step

    return f"kl_normal_normal_backward/{size_label(n)}", setup


def log_prob(n):
    def setup():
        gen = torch.Generator().manual_seed(1)
        loc, scale = params(n, gen)
        value = torch.randn(n, generator=gen)

        def step():
            d = Normal(loc, scale)
            d.log_prob(value)

        return step

    return f"normal_log_prob/{size_label(n)}", setup


def standard_normal_fill(n):
    def setup():
        def step():
            torch.randn(n)

        return step

    return f"standard_normal_fill/{size_label(n)}", setup


def implicit_rsample_backward(kind, n):
    """Gamma / Beta / Dirichlet rsample + backward of the sum; concentrations U(0.5, 5.5)
    per element (Gamma rate U(1, 2)), as in bench.rs."""

    def setup():
        gen = torch.Generator().manual_seed(3)
        if kind == "dirichlet":
            conc = (torch.rand(n // 10, 10, generator=gen) * 5 + 0.5).requires_grad_(True)
            params = [conc]
            make = lambda: Dirichlet(conc)
        else:
            a = (torch.rand(n, generator=gen) * 5 + 0.5).requires_grad_(True)
            if kind == "gamma":
                b = (torch.rand(n, generator=gen) + 1).requires_grad_(True)
                make = lambda: Gamma(a, b)
            else:
                b = (torch.rand(n, generator=gen) * 5 + 0.5).requires_grad_(True)
                make = lambda: Beta(a, b)
            params = [a, b]

        def step():
            for p in params:
                p.grad = None
            make().rsample().sum().backward()

        return step

    label = f"{size_label(n // 10)}x10" if kind == "dirichlet" else size_label(n)
    return f"{kind}_rsample_backward/{label}", setup


def categorical_logits_sample_log_prob(rows, classes):
    """Categorical(logits) over `classes` for `rows` states: build, sample, log_prob."""

    def setup():
        gen = torch.Generator().manual_seed(0)
        logits = torch.randn(rows, classes, generator=gen)

        def step():
            d = Categorical(logits=logits)
            d.log_prob(d.sample())

        return step

    return f"categorical_logits_sample_log_prob/{size_label(rows)}x{classes}", setup


def bernoulli_logits_sample(n):
    """Bernoulli(logits) over n seed-0 normals: build, sample."""

    def setup():
        gen = torch.Generator().manual_seed(0)
        logits = torch.randn(n, generator=gen)

        def step():
            Bernoulli(logits=logits).sample()

        return step

    return f"bernoulli_logits_sample/{size_label(n)}", setup


def workloads():
    return (
        [rsample_logprob_backward(n) for n in (100, 10_000, 1_000_000)]
        + [sac_policy_backward(256, 6)]
        + [kl_normal_normal_backward(1_000_000)]
        + [log_prob(n) for n in (10_000, 1_000_000)]
        + [implicit_rsample_backward(k, 1_000_000) for k in ("gamma", "beta", "dirichlet")]
        + [categorical_logits_sample_log_prob(100_000, 10)]
        + [bernoulli_logits_sample(1_000_000)]
        + [standard_normal_fill(10_000_000)]
    )


def budget(quick):
    # (warm-up seconds, measured seconds, fewest reps, most reps), as in bench.rs.
    return (0.02, 0.1, 3, 20_000) if quick else (0.2, 0.5, 5, 200_000)


def time_median_us(step, quick):
    warmup, measure, min_reps, max_reps = budget(quick)
    clock = time.perf_counter
    start = clock()
    warm = 0
    while warm < 2 or clock() - start < warmup:
        step()
        warm += 1
    per_iter = (clock() - start) / warm
    reps = min(max(int(-(-measure // max(per_iter, 1e-9))), min_reps), max(max_reps, min_reps))
    times = []
    for _ in range(reps):
        t0 = clock()
        step()
        times.append((clock() - t0) * 1e6)
    times.sort()
    m = len(times) // 2
    return times[m] if len(times) % 2 == 1 else 0.5 * (times[m - 1] + times[m])




def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a short pass (fewer repetitions)")
    ap.add_argument("--filter", metavar="SUBSTR", help="run only workloads whose name contains SUBSTR")
    ap.add_argument("--json", metavar="PATH", help='write [{"workload": ..., "torch_us": ...}] to PATH')
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float32)
    Distribution.set_default_validate_args(False)

    selected = [(name, setup) for name, setup in workloads() if not args.filter or args.filter in name]
    if not selected:
        sys.exit(f"no workload matches --filter {args.filter!r}")
    print(
        f"torch_peer: torch {torch.__version__}, {len(selected)} workload(s), f32 on CPU, "
        f"{torch.get_num_threads()} thread(s){', quick pass' if args.quick else ''}",
        file=sys.stderr,
    )
    rows = []
    for name, setup in selected:
        us = time_median_us(setup(), args.quick)
        print(f"  {name:<40} {us:>12.1f} µs", file=sys.stderr)
        rows.append({"workload": name, "torch_us": round(us, 3)})

    print("| workload | torch µs |")
    print("|---|---:|")
    for r in rows:
        print(f"| {r['workload']} | {fmt_us(r['torch_us'])} |")

    if args.json:
        d = os.path.dirname(args.json)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Torch twin of crates/candle-distributions/examples/vae_digits.rs.

Trains the same variational autoencoder on the same data and split, with the same
optimiser, batch size and number of epochs, and prints the same estimates, so the Rust
example's test ELBO and its seconds per epoch can be compared with torch's.

- Data: crates/candle-distributions/examples/data/digits/digits_8x8.bin (1 797 records
  of 1 label byte + 64 pixel bytes 0..16), pixels binarised as x = (v >= 8); image i is
  a test image iff i % 5 == 0 (360 test / 1 437 training images).
- Model: encoder 64 -> 128 (ReLU) -> 2*8 = (mu, log sigma), q = Independent(Normal(mu,
  exp(log sigma)), 1); prior Independent(Normal(0, 1), 1); decoder 8 -> 128 (ReLU) -> 64
  logits, likelihood Independent(Bernoulli(logits=...), 1).
- Objective: ELBO = log p(x|z) - KL(q || prior), one rsample per image, KL analytic;
  Adam lr 1e-3 (torch.optim.Adam, no weight decay), batches of 64 over a torch.randperm
  order each epoch (the last batch smaller).
- Initialisation: torch's default nn.Linear law, U(-1/sqrt(in), 1/sqrt(in)) for weight
  and bias (kaiming_uniform_ with a = sqrt(5) gives exactly that bound); the Rust example
  builds its layers with the same law.
- Per epoch: mean training ELBO of the epoch's single-draw estimates, test ELBO with 10
  draws per image, seconds spent training (evaluation excluded). At the end: test ELBO
  with 100 draws per image and its Monte-Carlo standard error, mean and median seconds
  per epoch. Runs on 2 CPU threads (torch.set_num_threads(2)).

Run from the repository root:

    .venv/bin/python reference/vae_digits_torch.py [--epochs N] [--seed S] [--quick]
"""

import argparse
import pathlib
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

DATA = (
    pathlib.Path(__file__).resolve().parent.parent
    / "crates/candle-distributions/examples/data/digits/digits_8x8.bin"
)
N_IMAGES, PIXELS = 1797, 64
THRESHOLD = 8
TEST_EVERY = 5
HIDDEN, LATENT = 128, 8
BATCH = 64
LR = 1e-3
EPOCHS = 300
CURVE_DRAWS, FINAL_DRAWS = 10, 100
QUICK_EPOCHS, QUICK_TRAIN = 2, 256


def load_digits():
    raw = np.fromfile(DATA, dtype=np.uint8)
    if raw.size != N_IMAGES * (1 + PIXELS):
        raise SystemExit(f"{DATA}: expected {N_IMAGES * (1 + PIXELS)} bytes, found {raw.size}")
    rec = raw.reshape(N_IMAGES, 1 + PIXELS)
    x = torch.from_numpy((rec[:, 1:] >= THRESHOLD).astype(np.float32))
    is_test = torch.arange(N_IMAGES) % TEST_EVERY == 0
    return x[~is_test].contiguous(), x[is_test].contiguous()


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(PIXELS, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2 * LATENT))
        self.dec = nn.Sequential(nn.Linear(LATENT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, PIXELS))

    def elbo(self, x):
        """Single-draw ELBO estimate of each image of x ([n, 64]): [n]."""
        h = self.enc(x)
        mu, log_sigma = h[:, :LATENT], h[:, LATENT:]
        q = Independent(Normal(mu, log_sigma.exp()), 1)
        prior = Independent(Normal(torch.zeros_like(mu), 1.0), 1)
        kl = kl_divergence(q, prior)
        z = q.rsample()
        lik = Independent(Bernoulli(logits=self.dec(z)), 1)
        return lik.log_prob(x) - kl


@torch.no_grad()
def test_elbo(vae, test, draws):
    per_draw = torch.tensor([vae.elbo(test).mean().item() for _ in range(draws)], dtype=torch.float64)
    se = per_draw.std().item() / draws**0.5 if draws > 1 else 0.0
    return per_draw.mean().item(), se


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs on {QUICK_TRAIN} images")
    args = ap.parse_args()
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    if epochs < 1:
        raise SystemExit("--epochs must be >= 1")
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)

    train, test = load_digits()
    if args.quick:
        train = train[:QUICK_TRAIN]
    n_train = train.shape[0]
    print(
        f"torch {torch.__version__}, VAE on 8x8 digits (binarised at v >= {THRESHOLD}): {n_train} train / "
        f"{test.shape[0]} test images, MLP 64-{HIDDEN}-2x{LATENT} / {LATENT}-{HIDDEN}-64 (ReLU), "
        f"Adam lr {LR}, batch {BATCH}, {epochs} epochs, seed {args.seed}\n"
    )
    vae = Vae()
    opt = torch.optim.Adam(vae.parameters(), lr=LR)

    print(f"{'epoch':>6} {'train ELBO':>12} {'test ELBO (10 z)':>18} {'train s':>10}")
    seconds = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = torch.randperm(n_train)
        total = 0.0
        for start in range(0, n_train, BATCH):
            x = train[order[start : start + BATCH]]
            elbo = vae.elbo(x)
            total += elbo.sum().item()
            loss = -elbo.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - t0)
        curve, _ = test_elbo(vae, test, CURVE_DRAWS)
        print(f"{epoch:>6} {total / n_train:>12.3f} {curve:>18.3f} {seconds[-1]:>10.4f}")

    final, se = test_elbo(vae, test, FINAL_DRAWS)
    print(f"\nfinal test ELBO ({FINAL_DRAWS} z per image): {final:.4f} nats (Monte-Carlo s.e. {se:.4f})")
    print(
        f"seconds per epoch (training only): mean {statistics.mean(seconds):.4f}, "
        f"median {statistics.median(seconds):.4f}"
    )


if __name__ == "__main__":
    main()

"""Benchmark (not a test): dlbook.attention.scaled_dot_product_attention against torch's
CPU scaled_dot_product_attention on a few sizes.

    .venv/bin/python benchmarks/bench_attention.py [--repeats 50] [--threads 2]

Prints, for each size (batch x heads, sequence length n, head size d), the
best-of-repeats time of each implementation and the ratio (NumPy time / torch time);
chapter 6 aims for a ratio within 5x. The inputs are float32: torch computes in float32,
dlbook in float64 (its functions work on float64 arrays), so the ratio slightly favours
torch. Times come from the book's one timer, ``dlbook.timing.best_of`` (one untimed
warm-up call, then the best of the repeats, the measurement least disturbed by other
processes on a shared machine).
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from dlbook.attention import causal_mask, scaled_dot_product_attention
from dlbook.timing import best_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument(
        "--threads", type=int, default=2, help="torch CPU threads (the book uses 2)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    sizes = [(8, 64, 32), (8, 256, 64), (4, 1024, 64)]  # (batch x heads, n, d)
    print(
        f"float32 inputs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, best of {args.repeats}"
    )
    ratios = []
    for batch, n, d in sizes:
        q, k, v = (rng.standard_normal((batch, n, d)).astype(np.float32) for _ in "qkv")
        qt, kt, vt = map(torch.from_numpy, (q, k, v))
        for masked in (False, True):
            mask = causal_mask(n) if masked else None
            ours = partial(scaled_dot_product_attention, q, k, v, mask)
            theirs = partial(
                F.scaled_dot_product_attention, qt, kt, vt, is_causal=masked
            )
            # the same numbers first (float32, so a loose tolerance)
            np.testing.assert_allclose(ours()[0], theirs().numpy(), atol=1e-4)
            t_np, _ = best_of(ours, repeats=args.repeats, warmup=1)
            t_torch, _ = best_of(theirs, repeats=args.repeats, warmup=1)
            ratios.append(t_np / t_torch)
            label = f"{batch} x n={n:4d} x d={d:3d}{', causal' if masked else ''}"
            print(
                f"{label:30s} numpy {t_np * 1e3:8.2f} ms   "
                f"torch {t_torch * 1e3:8.2f} ms   ratio {t_np / t_torch:5.2f}x"
            )
    print(f"geometric mean ratio {np.exp(np.mean(np.log(ratios))):.2f}x")


if __name__ == "__main__":
    main()

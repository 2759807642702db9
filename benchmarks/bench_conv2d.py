"""Benchmark (not a test): dlbook.conv.conv2d against torch's CPU conv2d on LeNet-sized
batches.

    .venv/bin/python benchmarks/bench_conv2d.py [--batch 64] [--repeats 100]
        [--threads 2]

Prints, for LeNet-5's two convolution layers, the best-of-repeats time of each
implementation and the ratio (NumPy time / torch time); the chapter aims for a ratio
within 10x. Times come from the book's one timer, ``dlbook.timing.best_of``: one untimed
warm-up call (allocations, kernel selection), then the best of many repeats, because the
machine may be shared and the minimum is the measurement least disturbed by other
processes.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from dlbook.conv import conv2d
from dlbook.timing import best_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument(
        "--threads", type=int, default=2, help="torch CPU threads (the book uses 2)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n = args.batch
    layers = {
        # name: (input shape, weight shape, padding)
        "conv1 1->6, 5x5, pad 2, on 28x28": ((n, 1, 28, 28), (6, 1, 5, 5), 2),
        "conv2 6->16, 5x5, on 14x14": ((n, 6, 14, 14), (16, 6, 5, 5), 0),
    }
    print(
        f"batch {n}, float32, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, best of {args.repeats}"
    )
    total_np = total_torch = 0.0
    for name, (x_shape, w_shape, padding) in layers.items():
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        b = rng.standard_normal(w_shape[0]).astype(np.float32)
        xt, wt, bt = map(torch.from_numpy, (x, w, b))
        # partial binds this layer's arrays now (a lambda would read the loop variables
        # when it is called).
        ours = partial(conv2d, x, w, b, padding=padding)
        theirs = partial(F.conv2d, xt, wt, bt, padding=padding)
        # the same numbers first
        np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-3, atol=1e-3)
        t_np, _ = best_of(ours, repeats=args.repeats, warmup=1)
        t_torch, _ = best_of(theirs, repeats=args.repeats, warmup=1)
        total_np, total_torch = total_np + t_np, total_torch + t_torch
        print(
            f"{name:36s} numpy {t_np * 1e3:8.2f} ms   "
            f"torch {t_torch * 1e3:8.2f} ms   ratio {t_np / t_torch:5.2f}x"
        )
    print(
        f"{'both layers':36s} numpy {total_np * 1e3:8.2f} ms   "
        f"torch {total_torch * 1e3:8.2f} ms   ratio {total_np / total_torch:5.2f}x"
    )


if __name__ == "__main__":
    main()

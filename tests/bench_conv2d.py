"""Benchmark (not a test): dlbook.conv.conv2d against torch's CPU conv2d on LeNet-sized batches.

    .venv/bin/python tests/bench_conv2d.py [--batch 64] [--repeats 30] [--threads 2]

Prints, for LeNet-5's two convolution layers, the best-of-repeats time of each implementation
and the ratio (NumPy time / torch time); the chapter aims for a ratio within 10x.
The best of many interleaved repeats is reported because the machine may be shared: the
minimum is the measurement least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from dlbook.conv import conv2d


def best_times(fns, repeats: int) -> list[float]:
    """Best-of-``repeats`` time of each function, timed in turn (interleaved), so that a burst of
    load from other processes disturbs all of them alike."""
    for fn in fns:
        fn()  # warm-up (allocations, kernel selection)
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    return [min(record) for record in times]


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
        f"batch {n}, float32, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"best of {args.repeats}"
    )
    total_np = total_torch = 0.0
    for name, (x_shape, w_shape, padding) in layers.items():
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        b = rng.standard_normal(w_shape[0]).astype(np.float32)
        xt, wt, bt = map(torch.from_numpy, (x, w, b))
        ours = conv2d(x, w, b, padding=padding)
        theirs = F.conv2d(xt, wt, bt, padding=padding).numpy()
        np.testing.assert_allclose(
            ours, theirs, rtol=1e-3, atol=1e-3
        )  # same numbers first
        t_np, t_torch = best_times(
            [
                lambda: conv2d(x, w, b, padding=padding),
                lambda: F.conv2d(xt, wt, bt, padding=padding),
            ],
            args.repeats,
        )
        total_np, total_torch = total_np + t_np, total_torch + t_torch
        print(
            f"{name:36s} numpy {t_np * 1e3:8.2f} ms   torch {t_torch * 1e3:8.2f} ms   "
            f"ratio {t_np / t_torch:5.2f}x"
        )
    print(
        f"{'both layers':36s} numpy {total_np * 1e3:8.2f} ms   torch {total_torch * 1e3:8.2f} ms   "
        f"ratio {total_np / total_torch:5.2f}x"
    )


if __name__ == "__main__":
    main()

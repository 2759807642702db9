"""One call at the top of every chapter: ``device = dlbook.setup()`` (chapters 1 to 9).

It makes a chapter reproducible (every random generator seeded, a fixed number of
threads, short float printing) and returns the device the chapter's models should use.
"""

from __future__ import annotations

import os
import random

import numpy as np

from dlbook import checks
from dlbook.style import use_book_style

__all__ = ["setup", "seed_everything", "pick_device", "smoke_test", "DEFAULT_SEED"]

DEFAULT_SEED = 0


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python's, NumPy's and PyTorch's global random generators."""
    seed = checks.integer(seed, "seed", minimum=0)
    import torch  # imported here so that `import dlbook` stays fast

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # For subprocesses; this process is already running with its own hash seed.
    os.environ["PYTHONHASHSEED"] = str(seed)


def pick_device(prefer_gpu: bool = True):
    """The GPU when there is one (and it is wanted), else the CPU."""
    import torch

    if prefer_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def smoke_test() -> bool:
    """True when the book's tests run a GPU section's large configuration on any
    device for a couple of tiny steps (DLBOOK_GPU_SMOKE=1), so that it is not dead
    code where no GPU is at hand."""
    return os.environ.get("DLBOOK_GPU_SMOKE") == "1"


def setup(seed: int = DEFAULT_SEED, threads: int | None = 1, prefer_gpu: bool = True):
    """Prepare a chapter notebook and return the torch device to use.

    - seeds ``random``, NumPy and PyTorch with ``seed``;
    - limits PyTorch to ``threads`` CPU threads (``None`` keeps the default), so timings
      and float reductions do not depend on how many cores a machine has; the book's
      models are small, and one thread is faster than two that wait for each other;
    - makes NumPy print floats with 4 significant decimals, so stored outputs stay
      stable;
    - applies the book's plot style.
    """
    if threads is not None:
        threads = checks.integer(threads, "threads", minimum=1)
    # Idle OpenMP threads sleep instead of spinning: on a small shared CPU, spinning
    # threads slow small models down many times over. Only effective before torch is
    # first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    seed_everything(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    np.set_printoptions(precision=4, suppress=True)
    use_book_style()
    return pick_device(prefer_gpu)

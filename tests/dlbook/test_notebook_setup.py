"""dlbook.setup(): seeds, threads, print options, style, device; dlbook.smoke_test()."""

import random

import matplotlib as mpl
import numpy as np
import pytest
import torch

import dlbook
from dlbook.notebook import seed_everything


def draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_setup_makes_random_draws_repeatable():
    dlbook.setup(seed=123)
    first = draws()
    dlbook.setup(seed=123)
    assert draws() == first
    dlbook.setup(seed=124)
    assert draws() != first


def test_setup_sets_threads_printing_and_style():
    device = dlbook.setup(threads=2)
    assert torch.get_num_threads() == 2
    dlbook.setup()
    assert torch.get_num_threads() == 1  # the default: one thread
    assert np.get_printoptions()["precision"] == 4
    assert mpl.rcParams["figure.facecolor"] == "white"
    assert isinstance(device, torch.device)
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert dlbook.setup(prefer_gpu=False).type == "cpu"
    dlbook.setup()  # back to the defaults for the other tests


@pytest.mark.parametrize(
    "seed,error",
    [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)],
)
def test_bad_seed_is_rejected_with_its_name(seed, error):
    with pytest.raises(error, match=f"seed must be an int >= 0, got {seed!r}"):
        seed_everything(seed)
    with pytest.raises(error, match="seed must be an int >= 0"):
        dlbook.setup(seed=seed)


@pytest.mark.parametrize(
    "threads,error",
    [(0, ValueError), (-2, ValueError), (1.0, TypeError), ("2", TypeError)],
)
def test_bad_threads_is_rejected_with_its_name(threads, error):
    with pytest.raises(error, match=f"threads must be an int >= 1, got {threads!r}"):
        dlbook.setup(threads=threads)


def test_smoke_test_reads_the_tests_variable(monkeypatch):
    monkeypatch.delenv("DLBOOK_GPU_SMOKE", raising=False)
    assert dlbook.smoke_test() is False
    monkeypatch.setenv("DLBOOK_GPU_SMOKE", "0")
    assert dlbook.smoke_test() is False
    monkeypatch.setenv("DLBOOK_GPU_SMOKE", "1")
    assert dlbook.smoke_test() is True

"""dlbook.distributed under torchrun: two processes (gloo) train the same weights as one
process on the full batch, every rank ends with the same weights, and a rank that dies
makes the job fail promptly with a clear message instead of hanging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dlbook import distributed, gpt

pytestmark = pytest.mark.slow

TORCHRUN = Path(sys.executable).with_name("torchrun")
TIMEOUT = 300  # seconds: far more than the job needs, far less than a hung CI


def _launch(processes: int, out: Path, *options, env=None):
    """torchrun in its own process group, killed as a group on timeout."""
    command = [str(TORCHRUN), "--standalone", f"--nproc_per_node={processes}",
               "-m", "dlbook.distributed", "--out", str(out), *options]  # fmt: skip
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True, env=env)  # fmt: skip
    try:
        output, _ = job.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)  # torchrun and every rank it started
        output, _ = job.communicate()
        pytest.fail(f"{processes}-process job still running after {TIMEOUT} s:\n"
                    f"{output[-3000:]}")  # fmt: skip
    return job.returncode, output


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed")
    results = {}
    for processes in (2, 1):
        code, output = _launch(processes, out / str(processes), "--steps", "8")
        assert code == 0, f"{processes}-process run failed:\n{output[-3000:]}"
        report = json.loads((out / str(processes) / "report.json").read_text())
        weights = torch.load(out / str(processes) / "weights.pt")
        results[processes] = report, weights
    return results


def test_two_processes_equal_one_process_on_the_full_batch(runs):
    (two, weights_two), (one, weights_one) = runs[2], runs[1]
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert two["backend"] == "gloo"
    largest = max(
        (weights_two[k] - weights_one[k]).abs().max().item() for k in weights_one
    )
    assert largest < 1e-10, f"2 processes differ from 1 by {largest:.2e} (float64)"
    moved = max(
        (weights_one[k] - _initial()[k]).abs().max().item() for k in weights_one
    )
    assert moved > 1e-3, "training did not change the weights"


def test_every_rank_ends_with_the_same_weights(runs):
    assert runs[2][0]["largest_difference_from_rank_0"] < 1e-12


def test_report_holds_the_timings(runs):
    report = runs[2][0]
    assert report["samples_per_second"] > 0
    assert 0 < report["mean_step_seconds_without_all_reduce"]


def _initial():
    torch.manual_seed(0)
    _, vocab = distributed.windows(1, 64, 0)
    torch.manual_seed(0)  # as the script seeds before building the model
    config = gpt.GPTConfig(block_size=64, vocab_size=vocab, n_layer=2, n_head=4,
                           n_embd=64)  # fmt: skip
    return gpt.GPT(config).double().state_dict()


def test_a_rank_that_dies_fails_the_job_promptly(tmp_path):
    env = os.environ | {distributed.FAIL_RANK_VARIABLE: "1"}
    code, output = _launch(2, tmp_path, "--steps", "50", env=env)
    assert code != 0, "the job should fail when a rank dies"
    assert "failing on purpose" in output
    assert not (tmp_path / "report.json").exists()


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="--steps must be"):
        distributed.parse_args(["--out", str(tmp_path), "--steps", "0"])
    with pytest.raises(ValueError, match="--lr must be"):
        distributed.parse_args(["--out", str(tmp_path), "--lr", "-1"])

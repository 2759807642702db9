"""Tests for dlbook.training: confusion_matrix against scikit-learn, train on a tiny
problem (loss falls, runs repeat exactly, device="cpu"), predict
against a direct computation in evaluation mode, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics
import torch
from torch import nn

from dlbook.training import confusion_matrix, predict, train

# -- confusion_matrix ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_confusion_matrix_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 8))
    n = int(rng.integers(1, 200))
    # with few examples some classes never occur: sklearn is told all the labels
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, n_classes, n))
    ours = confusion_matrix(y_true, y_pred, n_classes)
    theirs = sklearn.metrics.confusion_matrix(
        y_true, y_pred, labels=np.arange(n_classes)
    )
    assert ours.shape == (n_classes, n_classes) and ours.dtype == np.int64
    np.testing.assert_array_equal(ours, theirs)
    assert ours.sum() == n


def test_confusion_matrix_worked_example():
    # true 0 0 1 2 2 2, predicted 0 1 1 2 2 0: row i counts what class i was called
    counts = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_confusion_matrix_takes_tensors_and_unused_classes():
    counts = confusion_matrix(torch.tensor([1, 1]), torch.tensor([1, 0]), 4)
    assert counts.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert confusion_matrix([], [], 2).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize(
    "y_true, y_pred, n_classes, error, message",
    [
        ([0, 1], [-1, 1], 3, ValueError, "y_pred must hold labels in 0..2, got -1"),
        ([0, 3], [0, 1], 3, ValueError, "y_true must hold labels in 0..2, got 3"),
        ([0, 1], [0, 1, 2], 3, ValueError, "same length, got 2 and 3"),
        ([0.0, 1.0], [0, 1], 3, TypeError, "y_true must hold integer labels"),
        ([0, 1], [0.5, 1.0], 3, TypeError, "y_pred must hold integer labels"),
        ([0, 1], [True, False], 3, TypeError, "y_pred must hold real numbers"),
        ([[0, 1]], [[0, 1]], 3, ValueError, r"y_true must have shape \(N,\)"),
        ([0], [0], 0, ValueError, "n_classes must be an int >= 1, got 0"),
        ([0], [0], 3.0, TypeError, r"n_classes must be an int >= 1, got 3\.0"),
    ],
)
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, n_classes, error, message):
    with pytest.raises(error, match=message):
        confusion_matrix(y_true, y_pred, n_classes)


# -- a tiny problem for train and predict ----------------------------------------------


def blobs(seed: int = 0, n: int = 90):
    """Three well-separated Gaussian blobs in 2-D: x (n, 2) float32, y (n,) int64."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[3.0, 0.0], [-3.0, 2.0], [0.0, -3.0]])
    y = torch.arange(n) % 3
    x = centres[y] + 0.5 * torch.randn(n, 2, generator=g)
    return x, y


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))


def test_train_lowers_the_loss():
    x, y = blobs()
    model = tiny_model()
    losses = train(model, x, y, epochs=15, batch_size=16, lr=1e-2, seed=0)
    assert len(losses) == 15 and all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.5 * losses[0]
    assert (predict(model, x) == y).float().mean() > 0.95
    assert not model.training  # left in evaluation mode


def test_train_is_deterministic_for_a_seed():
    x, y = blobs()
    first = train(tiny_model(1), x, y, epochs=4, batch_size=10, seed=3)
    second = train(tiny_model(1), x, y, epochs=4, batch_size=10, seed=3)
    assert first == second  # identical floats, not merely close
    other = train(tiny_model(1), x, y, epochs=4, batch_size=10, seed=4)
    assert other != first  # the seed sets the order of the mini-batches


def test_learning_rate_is_constant_or_decays_along_a_cosine(monkeypatch):
    x, y = blobs()
    seen = []
    original_step = torch.optim.Adam.step

    def step(self, *args, **kwargs):  # record the learning rate of every update
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    train(tiny_model(), x, y, epochs=2, batch_size=30, lr=0.01, decay=False)
    flat = list(seen)
    seen.clear()
    train(tiny_model(), x, y, epochs=2, batch_size=30, lr=0.01, decay=True)
    assert flat == [0.01] * 6  # 2 epochs of ceil(90 / 30) = 3 steps
    # cosine decay: lr_t = 0.01 (1 + cos(pi t / 6)) / 2 before step t = 0..5
    expected = [0.01 * (1 + np.cos(np.pi * t / 6)) / 2 for t in range(6)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_train_and_predict_accept_a_cpu_device(device):
    x, y = blobs()
    model = tiny_model()
    losses = train(model, x, y, epochs=2, device=device)
    assert len(losses) == 2
    assert next(model.parameters()).device.type == "cpu"
    assert predict(model, x, device=device).device.type == "cpu"


# -- predict ---------------------------------------------------------------------------


class ModeSpy(nn.Module):
    """Scores that differ in training and evaluation mode (like dropout would)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 3)
        self.modes: list[bool] = []

    def forward(self, x):
        self.modes.append(self.training)
        scores = self.linear(x)
        return -scores if self.training else scores


@pytest.mark.parametrize("seed", range(3))
def test_predict_is_the_argmax_of_the_scores_in_evaluation_mode(seed):
    x, _ = blobs(seed, n=50)
    torch.manual_seed(seed)
    model = ModeSpy()
    model.train()
    with torch.no_grad():
        expected = model.linear(x).argmax(dim=1)  # the evaluation-mode scores
    predicted = predict(model, x, batch_size=16)  # 4 batches: 16 + 16 + 16 + 2
    assert torch.equal(predicted, expected)
    assert predicted.dtype == torch.int64 and predicted.shape == (50,)
    assert model.modes == [False] * 4
    assert not predicted.requires_grad


def test_predict_does_not_depend_on_the_batch_size():
    x, _ = blobs(5)
    model = tiny_model(2)
    assert torch.equal(predict(model, x, batch_size=1), predict(model, x))


# -- bad arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 0}, ValueError, "epochs must be an int >= 1, got 0"),
        ({"epochs": 1.5}, TypeError, r"epochs must be an int >= 1, got 1\.5"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"batch_size": True}, TypeError, "batch_size must be an int >= 1, got True"),
        ({"lr": -0.1}, ValueError, r"lr must be a positive number, got -0\.1"),
        ({"seed": 0.5}, TypeError, r"seed must be an int, got 0\.5"),
        ({"y": torch.zeros(5, dtype=torch.int64)}, ValueError, "same length"),
        ({"x": np.zeros((90, 2))}, TypeError, "x must be a Tensor, got an array"),
        ({"model": "model"}, TypeError, "model must be a Module, got 'model'"),
    ],
)
def test_train_rejects_bad_arguments(kwargs, error, message):
    x, y = blobs()
    arguments = {"model": tiny_model(), "x": x, "y": y, "epochs": 1} | kwargs
    with pytest.raises(error, match=message):
        train(**arguments)


def test_train_rejects_an_empty_data_set():
    empty = torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)
    with pytest.raises(ValueError, match="x must hold at least one example"):
        train(tiny_model(), *empty, epochs=1)


def test_predict_rejects_bad_arguments():
    x, _ = blobs()
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        predict(tiny_model(), x, batch_size=0)
    with pytest.raises(TypeError, match="x must be a Tensor"):
        predict(tiny_model(), x.numpy())

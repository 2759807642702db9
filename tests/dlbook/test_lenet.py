"""Tests for dlbook.lenet.LeNet5: output shapes, the parameter count worked out by hand,
the layers the options choose, and bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlbook.lenet import LeNet5


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_output_shape_for_a_batch(batch):
    torch.manual_seed(batch)
    model = LeNet5()
    scores = model(torch.randn(batch, 1, 28, 28))
    assert scores.shape == (batch, 10)
    assert LeNet5(n_classes=3)(torch.randn(batch, 1, 28, 28)).shape == (batch, 3)


def test_intermediate_shapes_are_the_docstrings():
    model = LeNet5()
    x = torch.zeros(2, 1, 28, 28)
    shapes = []
    for layer in model.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    # conv 5x5 pad 2: 28 -> 28; pool: 14; conv 5x5: 10; pool: 5
    assert shapes == [
        (6, 28, 28),
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 10, 10),
        (16, 5, 5),
    ]


def test_parameter_count_worked_out_by_hand():
    # weights + biases of each layer, from the layer shapes:
    conv1 = 6 * (1 * 5 * 5) + 6  # 6 filters of 1x5x5: 150 + 6 = 156
    conv2 = 16 * (6 * 5 * 5) + 16  # 16 filters of 6x5x5: 2400 + 16 = 2416
    dense1 = (16 * 5 * 5) * 120 + 120  # 400 inputs to 120 units: 48000 + 120 = 48120
    dense2 = 120 * 84 + 84  # 120 to 84 units: 10080 + 84 = 10164
    dense3 = 84 * 10 + 10  # 84 to 10 class scores: 840 + 10 = 850
    by_hand = conv1 + conv2 + dense1 + dense2 + dense3
    assert by_hand == 156 + 2416 + 48120 + 10164 + 850 == 61_706
    model = LeNet5()
    assert sum(p.numel() for p in model.parameters()) == by_hand
    assert [p.numel() for p in model.parameters() if p.ndim > 1] == [
        150,
        2400,
        48000,
        10080,
        840,
    ]


@pytest.mark.parametrize(
    "activation, layer", [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid)]
)
@pytest.mark.parametrize(
    "pool, pool_layer", [("max", nn.MaxPool2d), ("avg", nn.AvgPool2d)]
)
def test_options_choose_the_layers(activation, layer, pool, pool_layer):
    model = LeNet5(activation=activation, pool=pool)
    kinds = [type(m) for m in model.modules()]
    assert kinds.count(layer) == 4  # after both convolutions and both hidden dense
    assert kinds.count(pool_layer) == 2
    assert sum(p.numel() for p in model.parameters()) == 61_706  # no new parameters


def test_same_seed_same_scores():
    x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(7)
    first = LeNet5()(x)
    torch.manual_seed(7)
    assert torch.equal(LeNet5()(x), first)


def test_float64_weights_are_drawn_in_float64():
    torch.manual_seed(3)
    model = LeNet5(dtype=torch.float64)
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    # the same draws as building under torch's float64 default, not float32 converted
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(3)
        reference = LeNet5()
    finally:
        torch.set_default_dtype(previous)
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        assert torch.equal(ours, theirs)
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    assert model(x).dtype == torch.float64


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"activation": "gelu"}, ValueError, "activation must be one of .*got 'gelu'"),
        ({"activation": nn.ReLU}, ValueError, "activation must be one of"),
        ({"pool": "min"}, ValueError, "pool must be 'avg' or 'max', got 'min'"),
        ({"n_classes": 0}, ValueError, "n_classes must be an int >= 1, got 0"),
        ({"n_classes": 10.0}, TypeError, r"n_classes must be an int >= 1, got 10\.0"),
        ({"dtype": torch.float16}, ValueError, "dtype must be one of None, torch.f"),
    ],
)
def test_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        LeNet5(**kwargs)


@pytest.mark.parametrize(
    "shape", [(1, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32), (2, 1, 28, 28, 1)]
)
def test_bad_input_shape(shape):
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\), got"):
        LeNet5()(torch.zeros(shape))


def test_input_must_be_a_tensor():
    with pytest.raises(TypeError, match="x must be a Tensor, got an array"):
        LeNet5()(torch.zeros(1, 1, 28, 28).numpy())

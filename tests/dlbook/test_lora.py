"""dlbook.lora: the adapter against its formula written out with torch.matmul, the
merged layer against the adapter (within 1e-12 in float64), B = 0 against the base
layer exactly, the gradients of A and B against their closed forms (and none for the
frozen base), A's draw against torch.nn.init.kaiming_uniform_, parameter counts by
formula, add_lora on a small GPT, and the errors on bad arguments."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dlbook import gpt, lora

# (in, out, rank, alpha, bias): square, wide, tall, full rank, rank 1, no bias
SHAPES = [
    (6, 6, 2, 1.0, True),
    (5, 9, 3, 2.0, True),
    (12, 4, 4, 16.0, False),
    (7, 3, 3, 0.5, True),
    (8, 10, 1, 4.0, False),
]


def _adapter(n_in, n_out, rank, alpha, bias, seed):
    """A float64 LoRALinear whose A and B are both random (B is zero at the start)."""
    g = torch.Generator().manual_seed(seed)
    base = nn.Linear(n_in, n_out, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        base.weight.copy_(torch.randn(n_out, n_in, generator=g, dtype=torch.float64))
        if bias:
            base.bias.copy_(torch.randn(n_out, generator=g, dtype=torch.float64))
    layer = lora.LoRALinear(base, rank, alpha, generator=g)
    with torch.no_grad():
        layer.B.copy_(torch.randn(n_out, rank, generator=g, dtype=torch.float64))
    x = torch.randn(4, 3, n_in, generator=g, dtype=torch.float64)  # (..., in)
    return layer, x


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_is_the_base_plus_the_scaled_low_rank_product(shape, seed):
    layer, x = _adapter(*shape, seed)
    n_in, n_out, rank, alpha, bias = shape
    w, b = layer.base.weight, layer.base.bias
    expected = torch.matmul(x, w.T) + (alpha / rank) * torch.matmul(
        torch.matmul(x, layer.A.T), layer.B.T
    )
    if bias:
        expected = expected + b
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", SHAPES)
def test_merged_layer_gives_the_adapters_outputs(shape, seed):
    layer, x = _adapter(*shape, seed)
    n_in, n_out, rank, alpha, bias = shape
    merged = layer.merged()
    assert type(merged) is nn.Linear and merged.weight.dtype == torch.float64
    assert (merged.in_features, merged.out_features) == (n_in, n_out)
    assert (merged.bias is not None) == bias
    # the merged weight is W + (alpha / rank) B A, written out here
    delta = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(rank):  # B A as a sum of rank outer products
        delta += torch.outer(layer.B[:, i], layer.A[i])
    expected_weight = layer.base.weight + alpha / rank * delta
    torch.testing.assert_close(merged.weight, expected_weight, rtol=0, atol=1e-12)
    with torch.no_grad():
        torch.testing.assert_close(merged(x), layer(x), rtol=0, atol=1e-12)


def test_merged_layer_is_a_copy():
    layer, x = _adapter(5, 4, 2, 1.0, True, seed=3)
    merged = layer.merged()
    with torch.no_grad():
        merged.weight.zero_()
        merged.bias.zero_()
    assert layer.base.weight.abs().min() > 0 and layer.base.bias.abs().min() > 0


@pytest.mark.parametrize("shape", SHAPES)
def test_with_b_zero_the_layer_is_exactly_the_base(shape):
    n_in, n_out, rank, alpha, bias = shape
    torch.manual_seed(4)
    base = nn.Linear(n_in, n_out, bias=bias, dtype=torch.float64)
    layer = lora.LoRALinear(base, rank, alpha)  # B is zero at the start
    x = torch.randn(7, n_in, dtype=torch.float64)
    assert torch.all(layer.B == 0) and layer.A.abs().max() > 0
    assert torch.equal(layer(x), base(x))
    assert torch.equal(layer.merged().weight, base.weight)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_reach_a_and_b_only_and_match_the_closed_forms(shape, seed):
    layer, _ = _adapter(*shape, seed)
    n_in, n_out, rank, alpha, bias = shape
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(6, n_in, generator=g, dtype=torch.float64)  # (N, in)
    upstream = torch.randn(6, n_out, generator=g, dtype=torch.float64)  # dL/dy
    (layer(x) * upstream).sum().backward()  # L = sum(y * G), so dL/dy = G
    assert layer.base.weight.grad is None
    assert layer.base.bias is None or layer.base.bias.grad is None
    scale = alpha / rank
    # y = base(x) + scale x A^T B^T: dL/dB = scale G^T (x A^T), dL/dA = scale B^T G^T x
    grad_b = scale * upstream.T @ (x @ layer.A.detach().T)  # (out, rank)
    grad_a = scale * layer.B.detach().T @ upstream.T @ x  # (rank, in)
    torch.testing.assert_close(layer.B.grad, grad_b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.A.grad, grad_a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_trainable_parameters_are_rank_times_in_plus_out(shape):
    n_in, n_out, rank, alpha, bias = shape
    base = nn.Linear(n_in, n_out, bias=bias)
    assert lora.trainable_parameters(base) == n_out * n_in + (n_out if bias else 0)
    layer = lora.LoRALinear(base, rank, alpha)
    assert lora.trainable_parameters(layer) == rank * (n_in + n_out)
    trainable = [name for name, p in layer.named_parameters() if p.requires_grad]
    assert trainable == ["A", "B"]


def test_a_is_drawn_as_kaiming_uniform_with_a_sqrt_5():
    """The LoRA reference code's draw: uniform in [-1/sqrt(in), 1/sqrt(in)]."""
    for n_in, n_out, rank in [(7, 5, 3), (64, 32, 8)]:
        base = nn.Linear(n_in, n_out, dtype=torch.float64)
        layer = lora.LoRALinear(base, rank, generator=torch.Generator().manual_seed(5))
        expected = torch.empty(rank, n_in, dtype=torch.float64)
        nn.init.kaiming_uniform_(
            expected, a=math.sqrt(5), generator=torch.Generator().manual_seed(5)
        )
        torch.testing.assert_close(layer.A.detach(), expected, rtol=0, atol=1e-15)
        assert layer.A.abs().max() <= 1 / math.sqrt(n_in)
    # seeded: the same generator seed gives the same A
    twice = [
        lora.LoRALinear(base, 4, generator=torch.Generator().manual_seed(6)).A
        for _ in range(2)
    ]
    assert torch.equal(*twice)


def test_the_adapter_follows_the_base_layers_dtype():
    for dtype in (torch.float32, torch.float64):
        layer = lora.LoRALinear(nn.Linear(4, 3, dtype=dtype), 2)
        assert layer.A.dtype == layer.B.dtype == layer.merged().weight.dtype == dtype


TINY = gpt.GPTConfig(block_size=8, vocab_size=13, n_layer=2, n_head=2, n_embd=8)


@pytest.mark.parametrize(
    ("names", "in_plus_out"),
    [
        # per block: qkv C -> 3C, proj C -> C, up C -> 4C, down 4C -> C
        (("qkv", "proj", "up", "down"), lambda c: 4 * c + 2 * c + 5 * c + 5 * c),
        (("qkv",), lambda c: 4 * c),
        (["up", "down"], lambda c: 5 * c + 5 * c),
    ],
)
def test_add_lora_on_a_gpt_keeps_its_outputs_and_counts_by_formula(names, in_plus_out):
    torch.manual_seed(7)
    model = gpt.GPT(TINY).double().eval()
    ids = torch.randint(0, TINY.vocab_size, (3, TINY.block_size))
    with torch.no_grad():
        before = model(ids)
    rank = 2
    count = lora.add_lora(model, rank, alpha=4.0, names=names)
    expected = TINY.n_layer * rank * in_plus_out(TINY.n_embd)
    assert count == expected == lora.trainable_parameters(model)
    adapted = [m for m in model.modules() if isinstance(m, lora.LoRALinear)]
    assert len(adapted) == TINY.n_layer * len(names)
    for name, p in model.named_parameters():
        assert p.requires_grad == name.endswith((".A", ".B")), name
    with torch.no_grad():
        assert torch.equal(model(ids), before)  # B = 0: exactly the same scores


def test_add_lora_trains_only_the_adapters():
    torch.manual_seed(8)
    model = gpt.GPT(TINY).double()
    pretrained = [(p, p.detach().clone()) for p in model.parameters()]
    lora.add_lora(model, 2, generator=torch.Generator().manual_seed(8))
    adapters = [m for m in model.modules() if isinstance(m, lora.LoRALinear)]
    first_a = [m.A.detach().clone() for m in adapters]
    trainable = [p for p in model.parameters() if p.requires_grad]
    ids = torch.randint(0, TINY.vocab_size, (2, TINY.block_size))
    for _ in range(2):  # the second step moves A too (B is no longer zero)
        scores = model(ids[:, :-1])
        loss = nn.functional.cross_entropy(scores.flatten(0, 1), ids[:, 1:].flatten())
        loss.backward()
        with torch.no_grad():  # plain gradient descent on what is trainable
            for p in trainable:
                p -= 0.1 * p.grad
                p.grad = None
    # the pre-trained parameters, still in the model (in .base), have not moved
    assert all(torch.equal(p, value) for p, value in pretrained)
    assert all(m.B.abs().max() > 0 for m in adapters)
    assert all(not torch.equal(m.A, a) for m, a in zip(adapters, first_a))


def test_bad_arguments_are_named():
    base = nn.Linear(6, 4)
    with pytest.raises(TypeError, match="base must be an nn.Linear layer, got a Co"):
        lora.LoRALinear(nn.Conv1d(2, 2, 1), 1)
    with pytest.raises(TypeError, match="base must be an nn.Linear layer, got a LoR"):
        lora.LoRALinear(lora.LoRALinear(base, 1), 1)
    with pytest.raises(TypeError, match="base must be an nn.Linear layer, got None"):
        lora.LoRALinear(None, 1)
    for rank in (0, -1):
        with pytest.raises(ValueError, match=f"rank must be an int >= 1, got {rank}"):
            lora.LoRALinear(base, rank)
    for rank in (2.0, True, "2"):
        with pytest.raises(TypeError, match="rank must be an int >= 1"):
            lora.LoRALinear(base, rank)
    with pytest.raises(ValueError, match=r"rank must be <= min\(in_features, out_f"):
        lora.LoRALinear(base, 5)
    for alpha in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="alpha must be a"):
            lora.LoRALinear(base, 2, alpha)
    with pytest.raises(TypeError, match="alpha must be a positive number, got '1'"):
        lora.LoRALinear(base, 2, "1")
    with pytest.raises(TypeError, match="generator must be a Generator, got 0"):
        lora.LoRALinear(base, 2, generator=0)


def test_bad_arguments_to_add_lora_are_named_and_change_nothing():
    model = gpt.GPT(TINY)
    with pytest.raises(TypeError, match="model must be a Module, got a tensor of"):
        lora.add_lora(torch.zeros(3), 2)
    with pytest.raises(TypeError, match="names must be a list or tuple of layer na"):
        lora.add_lora(model, 2, names="qkv")
    with pytest.raises(ValueError, match="names must name at least one layer"):
        lora.add_lora(model, 2, names=[])
    with pytest.raises(ValueError, match=r"whose own names are \['down', 'head', "):
        lora.add_lora(model, 2, names=["qkv", "attention"])
    with pytest.raises(ValueError, match="rank must be <= 8, the smallest in_feat"):
        lora.add_lora(model, 9)
    with pytest.raises(ValueError, match="alpha must be a positive number, got 0"):
        lora.add_lora(model, 2, alpha=0)
    assert lora.trainable_parameters(model) == model.num_parameters()  # unchanged
    assert not any(isinstance(m, lora.LoRALinear) for m in model.modules())
    with pytest.raises(TypeError, match="model must be a Module, got 3"):
        lora.trainable_parameters(3)

"""dlbook.gpt: shapes, causality, weight tying, parameter counts computed from the
architecture (GPT-2 small on the meta device), its attention against
torch.nn.MultiheadAttention with copied weights."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import gpt

TINY = gpt.GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=8)


def _count_by_formula(c: gpt.GPTConfig) -> int:
    """Token and position tables, then per block: two layer norms (2C each), the
    query-key-value matrix (3C^2 + 3C), the output projection (C^2 + C), the MLP
    (4C^2 + 4C and 4C^2 + C); a final layer norm; the output layer is the tied
    embedding, so it adds nothing."""
    per_block = 12 * c.n_embd**2 + 13 * c.n_embd
    tables = (c.vocab_size + c.block_size) * c.n_embd
    return tables + c.n_layer * per_block + 2 * c.n_embd


def test_gpt2_small_has_124439808_parameters_on_the_meta_device():
    with torch.device("meta"):  # shapes only: no memory, nothing downloaded
        model = gpt.GPT(gpt.GPT2_SMALL)
    assert model.num_parameters() == 124_439_808
    assert _count_by_formula(gpt.GPT2_SMALL) == 124_439_808


@pytest.mark.parametrize(
    "shape", [(16, 11, 2, 2, 8), (32, 50, 3, 4, 16), (8, 5, 1, 1, 4)]
)
def test_parameter_count_matches_the_formula(shape):
    config = gpt.GPTConfig(*shape)
    assert gpt.GPT(config).num_parameters() == _count_by_formula(config)


def test_output_layer_is_the_token_embedding():
    model = gpt.GPT(TINY)
    assert model.head.weight is model.token_embedding.weight
    total = sum(p.numel() for p in model.state_dict().values())
    assert model.num_parameters() == total - TINY.vocab_size * TINY.n_embd


def test_scores_have_one_row_per_position_and_token():
    ids = torch.randint(0, 11, (3, 16))
    assert gpt.GPT(TINY)(ids).shape == (3, 16, 11)


def test_a_position_never_sees_the_future():
    torch.manual_seed(0)
    model = gpt.GPT(TINY).eval()
    ids = torch.randint(0, 11, (2, 12))
    changed = ids.clone()
    changed[:, 7:] = (changed[:, 7:] + 1) % 11  # change tokens 7 and later
    with torch.no_grad():
        a, b = model(ids), model(changed)
    assert torch.allclose(a[:, :7], b[:, :7], atol=1e-6)
    assert not torch.allclose(a[:, 7:], b[:, 7:], atol=1e-3)


def test_attention_equals_torch_multihead_attention():
    torch.manual_seed(1)
    config = gpt.GPTConfig(block_size=10, vocab_size=7, n_layer=1, n_head=4, n_embd=12)
    ours = gpt.GPT(config).blocks[0].attention.eval()
    theirs = nn.MultiheadAttention(12, 4, batch_first=True).eval()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_()  # random biases too: torch's start at 0
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
        x = torch.randn(3, 10, 12)
        future = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
        expected, _ = theirs(x, x, x, attn_mask=future)  # True = forbidden in torch
        assert torch.allclose(ours(x), expected, atol=1e-5)


def test_loss_at_the_start_is_about_log_vocab_size():
    torch.manual_seed(2)
    model = gpt.GPT(gpt.GPTConfig(64, 100, 2, 2, 32))
    ids, targets = torch.randint(0, 100, (2, 8, 64))
    scores = model(ids)
    loss = F.cross_entropy(scores.flatten(0, 1), targets.flatten())
    assert abs(loss.item() - math.log(100)) < 0.05  # small weights: nearly uniform


def test_bad_configurations_and_inputs_are_named():
    with pytest.raises(ValueError, match="n_embd must be a multiple of n_head = 3"):
        gpt.GPTConfig(8, 5, 1, 3, 8)
    with pytest.raises(ValueError, match="n_layer must be"):
        gpt.GPTConfig(8, 5, 0, 1, 8)
    with pytest.raises(ValueError, match="dropout must be"):
        gpt.GPTConfig(8, 5, 1, 1, 8, dropout=1.0)
    with pytest.raises(TypeError, match="config must be"):
        gpt.GPT({"n_layer": 1})
    with pytest.raises(ValueError, match=r"T <= block_size = 16, got \(1, 17\)"):
        gpt.GPT(TINY)(torch.zeros(1, 17, dtype=torch.long))

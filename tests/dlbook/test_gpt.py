"""dlbook.gpt: shapes, causality, weight tying, parameter counts computed from the
architecture (GPT-2 small on the meta device), its attention against
torch.nn.MultiheadAttention with copied weights; generation with and without the KV
cache on random models (the same tokens, the same scores at every step), sampling
against dlbook.decoding's distribution, and the errors on bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import decoding, gpt

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


# -- generation and the KV cache -------------------------------------------------------
# Cached and uncached scores are the same sums computed in a different order (one row of
# a matrix product instead of a block, a softmax over a row instead of a masked
# triangle), so they differ by rounding only: a few units of the last place times the
# depth of the computation, about 1e-15 of the largest score in float64 and 1e-6 in
# float32 on these models. The tolerances, relative to the largest score, leave margins
# of 1e5 and 100 over that, and are far below what a real mistake does: a cached
# position off by one changes the scores by a fifth of the largest one or more here.
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}
SHAPES = [(24, 13, 2, 2, 8), (20, 7, 3, 4, 16), (16, 11, 1, 1, 4)]


def _random_model(seed, dtype, shape=(24, 13, 2, 2, 8)):
    """A GPT whose parameters are drawn from N(0, 0.3^2), the position table from
    N(0, 1): sharper attention, larger score gaps and more weight on positions than
    GPT-2's small initial weights give, so that a mistake shows."""
    torch.manual_seed(seed)
    model = gpt.GPT(gpt.GPTConfig(*shape)).to(dtype).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
        model.position_embedding.weight.normal_(0.0, 1.0)
    return model


def _prompt(model, seed, n=3, t=None):
    g = torch.Generator().manual_seed(seed)
    t = t or int(torch.randint(1, 8, (), generator=g))
    return torch.randint(0, model.config.vocab_size, (n, t), generator=g)


def _close(got, expected, dtype):
    return (got - expected).abs().max() <= TOLERANCE[dtype] * expected.abs().max()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_greedy_tokens_are_identical_with_and_without_the_cache(shape, dtype):
    varied = 0
    for seed in range(4):
        model = _random_model(seed, dtype, shape)
        ids = _prompt(model, seed)
        n_new = model.config.block_size - ids.shape[1]  # up to the full context
        cached = model.generate(ids, n_new)
        assert torch.equal(cached, model.generate(ids, n_new, use_cache=False)), seed
        varied += len(set(cached[:, -n_new:].flatten().tolist())) > 1
    assert varied >= 3  # random models' greedy text is not one token over and over


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", SHAPES)
def test_cached_scores_equal_the_full_forward_at_every_step(shape, seed, dtype):
    model = _random_model(seed, dtype, shape)
    ids = _prompt(model, seed, t=model.config.block_size)  # random text, whole window
    start = int(torch.randint(1, 6, (), generator=torch.Generator().manual_seed(seed)))
    with torch.no_grad():
        scores, cache = model.forward_with_cache(ids[:, :start])  # the prompt pass
        assert _close(scores, model(ids[:, :start]), dtype)
        for t in range(start, ids.shape[1]):  # then one token at a time
            scores, cache = model.forward_with_cache(ids[:, t : t + 1], cache)
            assert scores.shape == (3, 1, model.config.vocab_size)
            assert _close(scores[:, 0], model(ids[:, : t + 1])[:, -1], dtype), t


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("pieces", [(1, 5, 10), (4, 4, 8), (7, 1, 8), (16,)])
def test_a_block_of_new_tokens_after_the_cache_sees_the_right_keys(pieces, dtype):
    # several new tokens at once after a cache: the causal mask shifted by the cache
    model = _random_model(7, dtype)
    ids = _prompt(model, 7, t=sum(pieces))
    cache, got, start = None, [], 0
    with torch.no_grad():
        for size in pieces:
            scores, cache = model.forward_with_cache(
                ids[:, start : start + size], cache
            )
            got.append(scores)
            start += size
        assert _close(torch.cat(got, dim=1), model(ids), dtype)


def test_the_cache_holds_keys_and_values_per_layer_and_head():
    model = _random_model(0, torch.float32, (32, 13, 3, 4, 16))
    ids = _prompt(model, 0, n=2, t=5)
    with torch.no_grad():
        _, cache = model.forward_with_cache(ids)
        _, cache = model.forward_with_cache(ids[:, :1], cache)
    assert len(cache) == 3  # one (k, v) per layer
    for k, v in cache:
        assert k.shape == v.shape == (2, 4, 6, 4)  # (N, heads, t, C / heads)
    # the keys are the attention's own: qkv's middle third, split into heads
    attention = model.blocks[0].attention
    with torch.no_grad():
        x = model.token_embedding(ids) + model.position_embedding(torch.arange(5))
        keys = attention.qkv(model.blocks[0].norm_1(x))[..., 16:32]  # (N, T, C)
    assert torch.allclose(cache[0][0][:, :, :5], keys.view(2, 5, 4, 4).transpose(1, 2))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("settings", [{}, {"top_k": 4}, {"temperature": 0.7}])
def test_sampling_with_one_seed_gives_the_same_tokens_with_and_without_the_cache(
    settings, dtype
):
    model = _random_model(3, dtype)
    ids = _prompt(model, 3)
    settings = {"temperature": 1.0} | settings
    runs = [
        model.generate(
            ids,
            16,
            use_cache=use_cache,
            generator=torch.Generator().manual_seed(5),
            **settings,
        )
        for use_cache in (True, False)
    ]
    assert torch.equal(*runs)
    other = model.generate(
        ids, 16, generator=torch.Generator().manual_seed(6), **settings
    )
    assert not torch.equal(runs[0], other)  # the draws do depend on the seed


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.5, 3), (2.0, 5)])
def test_sampling_draws_from_decodings_distribution(temperature, top_k):
    # 20,000 copies of one prompt, one token each: the frequencies against the
    # distribution of dlbook.decoding (temperature, then top-k) within 5 sigma
    model = _random_model(4, torch.float64)
    ids = _prompt(model, 4, n=1, t=5)
    with torch.no_grad():
        probs = torch.softmax(model(ids)[0, -1], dim=0).numpy()
    expected = decoding.with_temperature(probs, temperature)
    if top_k is not None:
        expected = decoding.keep_top_k(expected, top_k)
    draws = model.generate(
        ids.expand(20_000, -1),
        1,
        temperature=temperature,
        top_k=top_k,
        generator=torch.Generator().manual_seed(0),
    )[:, -1]
    counts = torch.bincount(draws, minlength=model.config.vocab_size).numpy() / 20_000
    sigma = np.sqrt(expected * (1 - expected) / 20_000)
    assert np.all(np.abs(counts - expected) <= 5 * sigma + 1e-12)
    assert np.all(counts[expected == 0] == 0)  # outside the top k: never drawn


def test_top_k_of_one_is_greedy():
    model = _random_model(5, torch.float64)
    ids = _prompt(model, 5)
    sampled = model.generate(
        ids, 12, temperature=1.5, top_k=1, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(sampled, model.generate(ids, 12))


def test_greedy_takes_the_highest_score_at_every_step():
    model = _random_model(6, torch.float64)
    ids = _prompt(model, 6)
    out = model.generate(ids, 10, use_cache=False)
    with torch.no_grad():
        for t in range(ids.shape[1], out.shape[1]):
            assert torch.equal(out[:, t], model(out[:, :t])[:, -1].argmax(dim=-1))


def test_generate_returns_the_prompt_followed_by_the_new_tokens():
    model = _random_model(0, torch.float32)
    ids = _prompt(model, 0, n=4, t=6)
    for use_cache in (True, False):
        out = model.generate(ids, 9, use_cache=use_cache)
        assert out.shape == (4, 15) and out.dtype == torch.long
        assert torch.equal(out[:, :6], ids)
        assert out.min() >= 0 and out.max() < model.config.vocab_size
        assert torch.equal(model.generate(ids, 0, use_cache=use_cache), ids)


def test_generation_leaves_the_model_and_autograd_alone():
    model = _random_model(0, torch.float32)
    before = {name: p.clone() for name, p in model.state_dict().items()}
    out = model.generate(_prompt(model, 0), 5)
    assert not out.requires_grad and not model.training
    assert all(torch.equal(p, before[name]) for name, p in model.state_dict().items())


def test_generation_past_the_context_is_refused():
    model = gpt.GPT(TINY)
    ids = torch.zeros(2, 10, dtype=torch.long)
    model.generate(ids, 6)  # 10 + 6 = 16 = block_size: allowed
    for use_cache in (True, False):
        with pytest.raises(ValueError, match=r"<= block_size = 16, got 10 \+ 7"):
            model.generate(ids, 7, use_cache=use_cache)
    _, cache = model.forward_with_cache(ids)
    with pytest.raises(ValueError, match="cache holds 10 tokens and ids adds 7"):
        model.forward_with_cache(torch.zeros(2, 7, dtype=torch.long), cache)


def test_bad_generation_arguments_are_named():
    model = gpt.GPT(TINY)
    ids = torch.zeros(2, 3, dtype=torch.long)
    cases = [
        (TypeError, "ids must be a Tensor", {"ids": [[1, 2]]}),
        (TypeError, r"ids must hold token ids \(torch.long\)", {"ids": ids.float()}),
        (
            ValueError,
            r"ids must have shape \(N, T\), T >= 1, got \(3,\)",
            {"ids": ids[0]},
        ),
        (ValueError, r"got \(2, 0\)", {"ids": ids[:, :0]}),
        (
            ValueError,
            r"0 \.\. vocab_size - 1 = 10, got values in 0 \.\. 11",
            {"ids": ids + torch.tensor([0, 0, 11])},
        ),
        (ValueError, "ids must lie in", {"ids": ids - 1}),
        (
            TypeError,
            "max_new_tokens must be an int >= 0, got 2.0",
            {"max_new_tokens": 2.0},
        ),
        (
            ValueError,
            "max_new_tokens must be an int >= 0, got -1",
            {"max_new_tokens": -1},
        ),
        (
            ValueError,
            "temperature must be a number >= 0, got -0.5",
            {"temperature": -0.5},
        ),
        (TypeError, "temperature must be a number", {"temperature": "hot"}),
        (ValueError, "top_k must be an int >= 1, got 0", {"top_k": 0}),
        (ValueError, "top_k must be <= vocab_size = 11, got 12", {"top_k": 12}),
        (TypeError, "top_k must be an int", {"top_k": 2.5}),
        (TypeError, "generator must be a Generator", {"generator": 0}),
        (ValueError, "use_cache must be True or False, got 1", {"use_cache": 1}),
    ]
    for error, message, bad in cases:
        arguments = {"ids": ids, "max_new_tokens": 2} | bad
        with pytest.raises(error, match=message):
            model.generate(**arguments)
    with pytest.raises(ValueError, match=r"ids must have shape \(N, T\), got \(3,\)"):
        model.forward_with_cache(ids[0])

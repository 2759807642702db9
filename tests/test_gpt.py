"""dlbook.gpt: shapes, causality, weight tying, parameter counts computed from the
architecture (GPT-2 small on the meta device), its attention against
torch.nn.MultiheadAttention with copied weights, and the language-model training of
dlbook.training (schedule, loss, evaluation)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import gpt, training

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


# -- dlbook.training for language models ----------------------------------------------
def test_warmup_cosine_by_hand():
    def lr(step):
        return training.warmup_cosine(step, 1.0, 4, 15, min_lr=0.1)

    assert [lr(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr(4) == 1.0  # the cosine starts at the top ...
    assert lr(9) == pytest.approx(0.55)  # ... is halfway down halfway ...
    assert lr(14) == pytest.approx(0.1)  # ... and reaches min_lr at the last step
    assert all(lr(s) >= lr(s + 1) for s in range(4, 14))
    with pytest.raises(ValueError, match="warmup_steps must be < total_steps = 4"):
        training.warmup_cosine(0, 1.0, 4, 4)


def test_mean_nats_is_the_average_cross_entropy():
    torch.manual_seed(3)
    model = gpt.GPT(TINY).eval()
    ids = torch.randint(0, 11, (70,))
    with torch.no_grad():
        windows = ids[:64].view(4, 16)
        scores = model(windows)
        logp = torch.log_softmax(scores.double(), dim=-1)
        picked = logp.gather(2, ids[1:65].view(4, 16, 1))
    expected = -picked.mean().item()
    assert training.mean_nats(model, ids, 16, batch_size=3) == pytest.approx(expected)
    assert training.mean_nats(model, ids, 16, count=64) == pytest.approx(expected)
    with pytest.raises(ValueError, match="count must be a multiple of block_size"):
        training.mean_nats(model, ids, 16, count=20)


def test_training_learns_a_repeating_text():
    torch.manual_seed(4)
    ids = torch.arange(200) % 7  # 0 1 2 ... 6 0 1 ...: every next token is certain
    model = gpt.GPT(gpt.GPTConfig(16, 7, 1, 2, 16))
    history = training.train_language_model(
        model, ids, steps=60, batch_size=8, block_size=16, max_lr=1e-2,
        warmup_steps=5, valid_ids=ids[:65], eval_every=30,
    )  # fmt: skip
    assert len(history["train_loss"]) == 60 and len(history["lr"]) == 60
    assert history["eval_step"] == [30, 60]
    assert history["train_loss"][0] > 1.5  # about ln 7 = 1.95 at the start
    assert history["valid_loss"][-1] < 0.1
    assert history["tokens"] == 60 * 8 * 16 and history["seconds"] > 0
    assert not model.training


def test_training_is_seeded():
    ids = torch.arange(300) % 5
    runs = []
    for _ in range(2):
        torch.manual_seed(5)
        model = gpt.GPT(gpt.GPTConfig(8, 5, 1, 1, 8))
        runs.append(training.train_language_model(
            model, ids, steps=5, batch_size=4, block_size=8, max_lr=1e-3,
            warmup_steps=1)["train_loss"])  # fmt: skip
    assert runs[0] == runs[1]


def test_weight_decay_skips_biases_and_norms():
    torch.manual_seed(6)
    model = gpt.GPT(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    for p in model.parameters():
        p.requires_grad_(True)
    # a model whose loss ignores every parameter: only weight decay moves them
    frozen = nn.Module()
    frozen.inner = model
    frozen.forward = lambda ids: (
        model(ids).detach() * 0 + 0 * sum(p.sum() for p in model.parameters())
    )
    training.train_language_model(
        frozen, torch.arange(40) % 11, steps=2, batch_size=2, block_size=16,
        max_lr=0.1, warmup_steps=0, weight_decay=0.5,
    )  # fmt: skip
    assert model.blocks[0].norm_1.weight.detach().eq(1.0).all()
    assert model.blocks[0].attention.qkv.bias.detach().eq(1.0).all()
    assert model.blocks[0].attention.qkv.weight.detach().lt(1.0).all()


def test_bad_training_input_is_named():
    model = gpt.GPT(TINY)
    with pytest.raises(ValueError, match="train_ids must be a 1-D tensor"):
        training.train_language_model(
            model, torch.zeros(2, 30, dtype=torch.long), steps=1, batch_size=1,
            block_size=16, max_lr=1e-3, warmup_steps=0,
        )  # fmt: skip
    with pytest.raises(ValueError, match="train_ids must hold more than block_size"):
        training.train_language_model(
            model, torch.zeros(16, dtype=torch.long), steps=1, batch_size=1,
            block_size=16, max_lr=1e-3, warmup_steps=0,
        )  # fmt: skip


def test_training_split_into_runs_equals_one_run():
    ids = torch.arange(300) % 5
    settings = dict(steps=12, batch_size=4, block_size=8, max_lr=1e-2, warmup_steps=2,
                    valid_ids=ids[:41], eval_every=5)  # fmt: skip
    torch.manual_seed(7)
    whole = training.train_language_model(gpt.GPT(gpt.GPTConfig(8, 5, 1, 1, 8)), ids,
                                          **settings)  # fmt: skip
    torch.manual_seed(7)
    run = training.LanguageModelTraining(gpt.GPT(gpt.GPTConfig(8, 5, 1, 1, 8)), ids,
                                         **settings)  # fmt: skip
    run.run(5)
    run.run(4)
    split = run.run()
    assert split["train_loss"] == whole["train_loss"]
    assert split["eval_step"] == [5, 10, 12] == whole["eval_step"]
    assert split["valid_loss"] == whole["valid_loss"]
    with pytest.raises(
        ValueError, match="steps must be at most the 0 steps left of 12"
    ):
        run.run(1)

"""dlbook.lm_training: the warm-up and cosine schedule by hand, the mean
cross-entropy against a direct computation, training that learns a repeating text, is
seeded, decays only weight matrices and splits into runs equal to one run; bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlbook import gpt, lm_training

TINY = gpt.GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=8)


def test_warmup_cosine_by_hand():
    def lr(step):
        return lm_training.warmup_cosine(step, 1.0, 4, 15, min_lr=0.1)

    assert [lr(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr(4) == 1.0  # the cosine starts at the top ...
    assert lr(9) == pytest.approx(0.55)  # ... is halfway down halfway ...
    assert lr(14) == pytest.approx(0.1)  # ... and reaches min_lr at the last step
    assert all(lr(s) >= lr(s + 1) for s in range(4, 14))
    with pytest.raises(ValueError, match="warmup_steps must be < total_steps = 4"):
        lm_training.warmup_cosine(0, 1.0, 4, 4)


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
    assert lm_training.mean_nats(model, ids, 16, batch_size=3) == pytest.approx(
        expected
    )
    assert lm_training.mean_nats(model, ids, 16, count=64) == pytest.approx(expected)
    with pytest.raises(ValueError, match="count must be a multiple of block_size"):
        lm_training.mean_nats(model, ids, 16, count=20)


def test_training_learns_a_repeating_text():
    torch.manual_seed(4)
    ids = torch.arange(200) % 7  # 0 1 2 ... 6 0 1 ...: every next token is certain
    model = gpt.GPT(gpt.GPTConfig(16, 7, 1, 2, 16))
    history = lm_training.train_language_model(
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
        runs.append(lm_training.train_language_model(
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
    lm_training.train_language_model(
        frozen, torch.arange(40) % 11, steps=2, batch_size=2, block_size=16,
        max_lr=0.1, warmup_steps=0, weight_decay=0.5,
    )  # fmt: skip
    assert model.blocks[0].norm_1.weight.detach().eq(1.0).all()
    assert model.blocks[0].attention.qkv.bias.detach().eq(1.0).all()
    assert model.blocks[0].attention.qkv.weight.detach().lt(1.0).all()


def test_bad_training_input_is_named():
    model = gpt.GPT(TINY)
    with pytest.raises(ValueError, match="train_ids must be a 1-D tensor"):
        lm_training.train_language_model(
            model, torch.zeros(2, 30, dtype=torch.long), steps=1, batch_size=1,
            block_size=16, max_lr=1e-3, warmup_steps=0,
        )  # fmt: skip
    with pytest.raises(ValueError, match="train_ids must hold more than block_size"):
        lm_training.train_language_model(
            model, torch.zeros(16, dtype=torch.long), steps=1, batch_size=1,
            block_size=16, max_lr=1e-3, warmup_steps=0,
        )  # fmt: skip


def test_training_split_into_runs_equals_one_run():
    ids = torch.arange(300) % 5
    settings = dict(steps=12, batch_size=4, block_size=8, max_lr=1e-2, warmup_steps=2,
                    valid_ids=ids[:41], eval_every=5)  # fmt: skip
    torch.manual_seed(7)
    whole = lm_training.train_language_model(gpt.GPT(gpt.GPTConfig(8, 5, 1, 1, 8)), ids,
                                          **settings)  # fmt: skip
    torch.manual_seed(7)
    run = lm_training.LanguageModelTraining(gpt.GPT(gpt.GPTConfig(8, 5, 1, 1, 8)), ids,
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

"""Training a language model, and measuring it (chapter 8).

    warmup_cosine(step, max_lr, warmup_steps, total_steps, min_lr=0.0) -> learning rate
    LanguageModelTraining(model, train_ids, steps=..., batch_size=..., block_size=...,
        max_lr=..., warmup_steps=..., ...): .run(n) takes the next n steps, each one
        .train_step()
    train_language_model(model, train_ids, ...) -> history (losses, rates, time)
    mean_nats(model, ids, block_size, count=None) -> average next-token cross-entropy

The training is AdamW (weight decay on the weight matrices and embeddings, none on
biases and layer norms) on random windows of block_size + 1 tokens of the training ids:
the model reads the first block_size and is scored on predicting each following token.
The learning rate rises linearly for warmup_steps (the first updates, made with
unreliable Adam statistics, stay small) and then falls along a half cosine to min_lr at
the last step.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from dlbook import checks

__all__ = [
    "warmup_cosine",
    "train_language_model",
    "LanguageModelTraining",
    "mean_nats",
]


def warmup_cosine(
    step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """The learning rate at ``step`` (0-based): max_lr * (step + 1) / warmup_steps while
    warming up, then min_lr + (max_lr - min_lr) (1 + cos(pi s)) / 2 where s goes from 0
    after the warm-up to 1 at the last step, total_steps - 1."""
    step = checks.integer(step, "step", minimum=0)
    max_lr = checks.positive(max_lr, "max_lr")
    warmup_steps = checks.integer(warmup_steps, "warmup_steps", minimum=0)
    total_steps = checks.integer(total_steps, "total_steps", minimum=1)
    min_lr = checks.number(min_lr, "min_lr", minimum=0.0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps must be < total_steps = {total_steps}, got {warmup_steps}"
        )
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - 1 - warmup_steps))
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


def train_language_model(model: nn.Module, train_ids: torch.Tensor, **settings) -> dict:
    """LanguageModelTraining(model, train_ids, **settings).run(): all the steps at
    once; returns the history."""
    return LanguageModelTraining(model, train_ids, **settings).run()


class LanguageModelTraining:
    """Train ``model`` (ids (N, T) -> scores (N, T, V)) in place on the 1-D tensor of
    token ids ``train_ids``, in as many calls of ``run`` as wanted; the gradient is
    clipped to norm 1.

    steps: the length of the whole schedule; run(n) takes the next n steps (None: all
    that remain), so a long training can be split across notebook cells.
    valid_ids, eval_every, eval_count: every eval_every steps and after the last, the
    validation loss mean_nats(model, valid_ids, block_size, eval_count).
    ``history``: lists "train_loss" and "lr" (one per step), "eval_step" and
    "valid_loss"; "seconds" (time spent in training steps, without evaluation) and
    "tokens" (predictions trained on) so far.
    """

    def __init__(
        self,
        model: nn.Module,
        train_ids: torch.Tensor,
        *,
        steps: int,
        batch_size: int,
        block_size: int,
        max_lr: float,
        warmup_steps: int,
        min_lr: float = 0.0,
        weight_decay: float = 0.1,
        valid_ids: torch.Tensor | None = None,
        eval_every: int | None = None,
        eval_count: int | None = None,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        self.model = checks.instance(model, "model", nn.Module)
        self.train_ids = _token_ids(train_ids, "train_ids")
        self.steps = checks.integer(steps, "steps", minimum=1)
        self.batch_size = checks.integer(batch_size, "batch_size", minimum=1)
        self.block_size = checks.integer(block_size, "block_size", minimum=1)
        if len(self.train_ids) < self.block_size + 1:
            raise ValueError(
                f"train_ids must hold more than block_size = {self.block_size} tokens, "
                f"got {len(self.train_ids)}"
            )
        warmup_cosine(0, max_lr, warmup_steps, steps, min_lr)  # checks the schedule
        self.schedule = (max_lr, warmup_steps, steps, min_lr)
        weight_decay = checks.number(weight_decay, "weight_decay", minimum=0.0)
        self.valid_ids = None
        if valid_ids is not None:
            self.valid_ids = _token_ids(valid_ids, "valid_ids")
            self.eval_every = checks.integer(
                eval_every or steps, "eval_every", minimum=1
            )
            self.eval_count = eval_count
        self.device = device
        self.model.to(device)
        matrices = [p for p in model.parameters() if p.ndim >= 2]  # weights, embeddings
        others = [p for p in model.parameters() if p.ndim < 2]  # biases, norm scales
        groups = [
            {"params": matrices, "weight_decay": weight_decay},
            {"params": others, "weight_decay": 0.0},
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=max_lr, betas=(0.9, 0.95))
        self.generator = torch.Generator().manual_seed(checks.integer(seed, "seed"))
        self.offsets = torch.arange(self.block_size + 1)  # a window's positions
        self.step = 0  # steps taken so far
        self.history = {"train_loss": [], "lr": [], "eval_step": [], "valid_loss": []}
        self.history |= {"seconds": 0.0, "tokens": 0}

    def train_step(self) -> float:
        """One step of the schedule: a batch of random windows, the loss of predicting
        every next token, a clipped gradient and an AdamW update. Returns the loss."""
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_cosine(self.step, *self.schedule)
        n_starts = len(self.train_ids) - self.block_size
        starts = torch.randint(n_starts, (self.batch_size,), generator=self.generator)
        window = self.train_ids[starts[:, None] + self.offsets].to(self.device)
        scores = self.model(window[:, :-1])  # (N, T, V): a guess at every position
        loss = F.cross_entropy(scores.flatten(0, 1), window[:, 1:].flatten())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.step += 1
        return loss.item()  # .item() waits for the step to finish

    def run(self, steps: int | None = None) -> dict:
        """Take the next ``steps`` steps of the schedule (None: the rest); returns the
        history so far."""
        remaining = self.steps - self.step
        steps = (
            remaining if steps is None else checks.integer(steps, "steps", minimum=0)
        )
        if steps > remaining:
            raise ValueError(
                f"steps must be at most the {remaining} steps left of {self.steps}, "
                f"got {steps}"
            )
        for _ in range(steps):
            self.model.train()
            self.history["lr"].append(warmup_cosine(self.step, *self.schedule))
            start = time.perf_counter()
            self.history["train_loss"].append(self.train_step())
            self.history["seconds"] += time.perf_counter() - start
            self.history["tokens"] += self.batch_size * self.block_size
            if self._evaluation_due():
                self.history["eval_step"].append(self.step)
                self.history["valid_loss"].append(self._validation_loss())
        self.model.eval()
        return self.history

    def _evaluation_due(self) -> bool:
        if self.valid_ids is None:
            return False
        return self.step % self.eval_every == 0 or self.step == self.steps

    def _validation_loss(self) -> float:
        ids, count = self.valid_ids, self.eval_count
        return mean_nats(self.model, ids, self.block_size, count, device=self.device)


@torch.no_grad()
def mean_nats(
    model: nn.Module,
    ids: torch.Tensor,
    block_size: int,
    count: int | None = None,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
) -> float:
    """The average cross-entropy (nats per token) of predicting ids[1 : count + 1], read
    in consecutive windows of block_size tokens, each from a fresh start.

    count: how many predictions to score, a multiple of block_size (None: as many
    whole windows as the ids hold). Scoring the same count on the same ids makes
    models with different contexts comparable.
    """
    model = checks.instance(model, "model", nn.Module)
    ids = _token_ids(ids, "ids")
    block_size = checks.integer(block_size, "block_size", minimum=1)
    most = (len(ids) - 1) // block_size * block_size
    if count is None:
        count = most
    count = checks.integer(count, "count", minimum=1)
    if count % block_size or count > most:
        raise ValueError(
            f"count must be a multiple of block_size = {block_size} and at most "
            f"{most} for {len(ids)} ids, got {count}"
        )
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    was_training = model.training
    model.eval()
    inputs = ids[:count].view(-1, block_size)  # (windows, block_size)
    targets = ids[1 : count + 1].view(-1, block_size)
    total = 0.0
    for i in range(0, len(inputs), batch_size):
        scores = model(inputs[i : i + batch_size].to(device))
        total += F.cross_entropy(
            scores.flatten(0, 1).double(),
            targets[i : i + batch_size].flatten().to(device),
            reduction="sum",
        ).item()
    model.train(was_training)
    return total / count


def _token_ids(ids, name: str) -> torch.Tensor:
    ids = checks.instance(ids, name, torch.Tensor)
    if ids.ndim != 1 or ids.dtype != torch.long:
        raise ValueError(
            f"{name} must be a 1-D tensor of token ids (torch.long), got shape "
            f"{tuple(ids.shape)} and dtype {ids.dtype}"
        )
    return ids

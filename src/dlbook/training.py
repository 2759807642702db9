"""A small, visible training loop for classifiers, and how to evaluate them.

    train(model, x, y, epochs=..., batch_size=64, lr=1e-3, seed=0, decay=True,
          device="cpu", threads=None) -> mean training loss of each epoch
    predict(model, x, batch_size=512, device="cpu") -> predicted class of each example
    confusion_matrix(y_true, y_pred, n_classes) -> C, C[i, j] = #(true i, predicted j)

The loop is Adam (torch.optim.Adam) on the cross-entropy loss
(torch.nn.functional.cross_entropy), over mini-batches in an order drawn from a
generator seeded with ``seed``. With ``decay`` the learning rate falls from ``lr`` to 0
along a half cosine over all the steps (torch.optim.lr_scheduler.CosineAnnealingLR):
large steps early to learn fast, small steps late so the last updates do not undo
progress.
``confusion_matrix`` counts what ``sklearn.metrics.confusion_matrix`` counts.

Language models (chapter 8):

    warmup_cosine(step, max_lr, warmup_steps, total_steps, min_lr=0.0) -> learning rate
    LanguageModelTraining(model, train_ids, steps=..., batch_size=..., block_size=...,
        max_lr=..., warmup_steps=..., ...): .run(n) takes the next n steps
    train_language_model(model, train_ids, ...) -> history (losses, rates, time)
    mean_nats(model, ids, block_size, count=None) -> average next-token cross-entropy

The language-model training is AdamW (weight decay on the weight matrices and
embeddings, none on biases and layer norms) on random windows of block_size + 1 tokens
of the training ids: the model reads the first block_size and is scored on predicting
each following token. The learning rate rises linearly for warmup_steps (the first
updates, made with unreliable Adam statistics, stay small) and then falls along a half
cosine to min_lr at the last step.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import checks

__all__ = [
    "train",
    "predict",
    "confusion_matrix",
    "warmup_cosine",
    "train_language_model",
    "LanguageModelTraining",
    "mean_nats",
]


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    decay: bool = True,
    device: str | torch.device = "cpu",
    threads: int | None = None,
) -> list[float]:
    """Train ``model`` in place on inputs x (N, ...) and class labels y (N,).

    device: where the model and each mini-batch are put ("cpu", "cuda").
    threads: torch CPU threads to use while training, restored afterwards (None: leave
    as is). Small networks gain nothing from a second thread, and on a shared machine
    threads that wait for each other can make training many times slower.
    Returns the mean training loss of each epoch.
    """
    model = checks.instance(model, "model", nn.Module)
    x = checks.instance(x, "x", torch.Tensor)
    y = checks.instance(y, "y", torch.Tensor)
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same length, got {len(x)} and {len(y)}"
        )
    if len(x) == 0:
        raise ValueError(
            f"x must hold at least one example, got shape {tuple(x.shape)}"
        )
    epochs = checks.integer(epochs, "epochs", minimum=1)
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    lr = checks.positive(lr, "lr")
    seed = checks.integer(seed, "seed")
    if threads is not None:
        threads = checks.integer(threads, "threads", minimum=1)
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(model, x, y, epochs, batch_size, lr, seed, decay, device)
    finally:
        torch.set_num_threads(previous_threads)


def _train(model, x, y, epochs, batch_size, lr, seed, decay, device) -> list[float]:
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(x) // batch_size)  # ceil(N / batch_size) steps per epoch
    scheduler = None
    if decay:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            inputs, targets = x[batch].to(device), y[batch].to(device)
            loss = F.cross_entropy(model(inputs), targets)  # forward
            optimiser.zero_grad()
            loss.backward()  # backward
            optimiser.step()  # update
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
    model.eval()
    return losses


@torch.no_grad()
def predict(
    model: nn.Module,
    x: torch.Tensor,
    batch_size: int = 512,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Predicted class of every example of x (evaluation mode, no gradients), as a
    tensor (N,) on the CPU."""
    model = checks.instance(model, "model", nn.Module)
    x = checks.instance(x, "x", torch.Tensor)
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    model.to(device).eval()
    batches = [x[i : i + batch_size].to(device) for i in range(0, len(x), batch_size)]
    return torch.cat([model(b).argmax(dim=1).cpu() for b in batches])  # (N,)


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts C[i, j] of examples of class i predicted as class j, shape
    (n_classes, n_classes); labels in 0..n_classes-1 (arrays, lists or tensors)."""
    n_classes = checks.integer(n_classes, "n_classes", minimum=1)
    y_true = checks.labels(y_true, "y_true", n_classes)
    y_pred = checks.labels(y_pred, "y_pred", n_classes)
    if len(y_true) != len(y_pred):
        raise ValueError(
            "y_true and y_pred must have the same length, "
            f"got {len(y_true)} and {len(y_pred)}"
        )
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)  # one count per (true, predicted) pair
    return counts


# -- language models -------------------------------------------------------------------
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
        self.optimiser = torch.optim.AdamW(
            [{"params": matrices, "weight_decay": weight_decay},
             {"params": others, "weight_decay": 0.0}],
            lr=max_lr, betas=(0.9, 0.95),
        )  # fmt: skip
        self.generator = torch.Generator().manual_seed(checks.integer(seed, "seed"))
        self.step = 0  # steps taken so far
        self.history = {"train_loss": [], "lr": [], "eval_step": [], "valid_loss": [],
                        "seconds": 0.0, "tokens": 0}  # fmt: skip

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
        offsets = torch.arange(self.block_size + 1)
        for _ in range(steps):
            self.model.train()
            start = time.perf_counter()
            lr = warmup_cosine(self.step, *self.schedule)
            for group in self.optimiser.param_groups:
                group["lr"] = lr
            starts = torch.randint(
                len(self.train_ids) - self.block_size, (self.batch_size,),
                generator=self.generator,
            )  # fmt: skip
            window = self.train_ids[starts[:, None] + offsets].to(self.device)
            scores = self.model(window[:, :-1])  # (N, T, V): a guess at every position
            loss = F.cross_entropy(scores.flatten(0, 1), window[:, 1:].flatten())
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimiser.step()
            self.history["train_loss"].append(loss.item())  # .item() waits for the step
            self.history["lr"].append(lr)
            self.history["seconds"] += time.perf_counter() - start
            self.history["tokens"] += self.batch_size * self.block_size
            self.step += 1
            if self.valid_ids is not None and (
                self.step % self.eval_every == 0 or self.step == self.steps
            ):
                self.history["eval_step"].append(self.step)
                self.history["valid_loss"].append(mean_nats(
                    self.model, self.valid_ids, self.block_size, self.eval_count,
                    device=self.device))  # fmt: skip
        self.model.eval()
        return self.history


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

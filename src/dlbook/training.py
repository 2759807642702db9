"""A small, visible training loop for classifiers, and their evaluation (chapters 4, 5).

    train(model, x, y, epochs=..., batch_size=64, lr=1e-3, seed=0, decay=True,
          device="cpu") -> mean training loss of each epoch
    training_loop(model, x, y, *, epochs, ...): the loop itself, arguments unchecked
    predict(model, x, batch_size=512, device="cpu") -> predicted class of each example
    confusion_matrix(y_true, y_pred, n_classes) -> C, C[i, j] = #(true i, predicted j)

The loop is Adam (torch.optim.Adam) on the cross-entropy loss
(torch.nn.functional.cross_entropy), over mini-batches in an order drawn from a
generator seeded with ``seed``. With ``decay`` the learning rate falls from ``lr`` to 0
along a half cosine over all the steps (torch.optim.lr_scheduler.CosineAnnealingLR):
large steps early to learn fast, small steps late so the last updates do not undo
progress.
``confusion_matrix`` counts what ``sklearn.metrics.confusion_matrix`` counts.

Language models are trained by ``dlbook.lm_training`` (chapters 8 and 9).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import checks

__all__ = ["train", "training_loop", "predict", "confusion_matrix"]


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
) -> list[float]:
    """Train ``model`` in place on inputs x (N, ...) and class labels y (N,).

    device: where the model and each mini-batch are put ("cpu", "cuda").
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
    return training_loop(
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        decay=decay,
        device=device,
    )


def training_loop(
    model, x, y, *, epochs, batch_size, lr, seed, decay, device
) -> list[float]:
    """The loop of ``train``, whose arguments it takes already checked."""
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(x) // batch_size)  # ceil(N / batch_size) steps per epoch
    scheduler = None
    if decay:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            inputs, targets = x[batch].to(device), y[batch].to(device)
            loss = F.cross_entropy(model(inputs), targets)  # forward
            optimizer.zero_grad()
            loss.backward()  # backward
            optimizer.step()  # update
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

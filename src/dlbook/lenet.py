"""LeNet-5 in PyTorch, and the small training loop chapter 4 uses on scikit-learn's digits.

LeNet-5 (LeCun et al., 1998) as it is usually taught today (e.g. in d2l.ai):

    input 1x28x28
    -> conv 6 filters 5x5, padding 2 -> 6x28x28 -> activation -> 2x2 pooling -> 6x14x14
    -> conv 16 filters 5x5           -> 16x10x10 -> activation -> 2x2 pooling -> 16x5x5
    -> flatten 400 -> dense 120 -> activation -> dense 84 -> activation -> dense 10 (class scores)

The 1998 network read 32x32 images without padding; padding 28x28 MNIST images by 2 gives the
same shapes from the second layer on.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for 1x28x28 inputs and 10 classes.

    activation: "relu" (trains fastest), "tanh" or "sigmoid" (closer to the 1998 network);
    pool: "max" or "avg" (the 1998 "subsampling" was an average with a learned scale).
    """

    def __init__(self, activation: str = "relu", pool: str = "max", n_classes: int = 10):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {sorted(POOLS)}, got {pool!r}")
        act, pool_layer = ACTIVATIONS[activation], POOLS[pool]
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), act(), pool_layer(2),
            nn.Conv2d(6, 16, kernel_size=5), act(), pool_layer(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"x must have shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def digits_to_lenet_input(images) -> torch.Tensor:
    """scikit-learn's 8x8 digits (grey levels 0-16) as LeNet inputs (N, 1, 28, 28) in [0, 1].

    The 8x8 picture is enlarged three times with bilinear interpolation (8x8 -> 24x24) and
    framed by a 2-pixel black border (-> 28x28), as MNIST frames its digits in a margin.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2 and images.shape[1] == 64:
        images = images.reshape(-1, 8, 8)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8) or (N, 64), got {images.shape}")
    x = torch.from_numpy(images / 16.0)[:, None]  # (N, 1, 8, 8), 0.0 = black, 1.0 = white
    x = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
    return F.pad(x, (2, 2, 2, 2))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int = 64,
          lr: float = 1e-3, seed: int = 0, decay: bool = True,
          threads: int | None = None) -> list[float]:
    """Train with Adam on cross-entropy; return the mean training loss of each epoch.

    decay: lower the learning rate from ``lr`` to 0 along a half cosine over all the steps
    (large steps early to learn fast, small steps late so the last updates do not undo progress).

    threads: run with this many torch CPU threads and restore the previous setting afterwards
    (None: leave it as it is). The layers of a small network like LeNet-5 are too small to gain
    from a second thread, and on a shared machine waiting threads can slow training many times.

    The mini-batches are shuffled by a generator seeded with ``seed``, so the same model, data and
    seed give the same result each run (on the same machine and number of threads).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(model, x, y, epochs, batch_size, lr, seed, decay)
    finally:
        torch.set_num_threads(previous_threads)


def _train(model, x, y, epochs, batch_size, lr, seed, decay) -> list[float]:
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(x) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps) if decay else None
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Predicted class of every example (evaluation mode, no gradients)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(dim=1) for i in range(0, len(x), batch_size)])


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """Counts C[i, j] of examples of class i predicted as class j."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts

"""LeNet-5 in PyTorch (the model only: dlbook.training trains it, dlbook.data prepares digits).

LeNet-5 (LeCun et al., 1998) as it is usually taught today (e.g. in d2l.ai):

    input 1x28x28
    -> conv 6 filters 5x5, padding 2 -> 6x28x28 -> activation -> 2x2 pooling -> 6x14x14
    -> conv 16 filters 5x5           -> 16x10x10 -> activation -> 2x2 pooling -> 16x5x5
    -> flatten 400 -> dense 120 -> activation -> dense 84 -> activation -> dense 10 (class scores)

The 1998 network read 32x32 images without padding; padding 28x28 MNIST images by 2 gives the
same shapes from the second layer on.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for 1x28x28 inputs and 10 classes.

    activation: "relu" (trains fastest), "tanh" or "sigmoid" (closer to the 1998 network);
    pool: "max" or "avg" (the 1998 "subsampling" was an average with a learned scale).
    """

    def __init__(
        self, activation: str = "relu", pool: str = "max", n_classes: int = 10
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
            )
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {sorted(POOLS)}, got {pool!r}")
        act, pool_layer = ACTIVATIONS[activation], POOLS[pool]
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            act(),
            pool_layer(2),
            nn.Conv2d(6, 16, kernel_size=5),
            act(),
            pool_layer(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"x must have shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))

"""LeNet-5 in PyTorch, the model only (chapter 4): dlbook.training trains it and
dlbook.data prepares the digits.

LeNet-5 (LeCun et al., 1998) as it is usually taught today (e.g. in d2l.ai):

    input 1x28x28
    -> conv 6 filters 5x5, padding 2 -> 6x28x28 -> activation -> 2x2 pooling -> 6x14x14
    -> conv 16 filters 5x5           -> 16x10x10 -> activation -> 2x2 pooling -> 16x5x5
    -> flatten 400 -> dense 120 -> activation -> dense 84 -> activation
    -> dense 10 (class scores)

The 1998 network read 32x32 images without padding; padding 28x28 MNIST images by 2
gives the same shapes from the second layer on.
"""

from __future__ import annotations

import torch
from torch import nn

from dlbook import checks

__all__ = ["LeNet5", "ACTIVATIONS", "POOLS"]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for 1x28x28 inputs and 10 classes.

    activation: "relu" (trains fastest), "tanh" or "sigmoid" (closer to the 1998
    network); pool: "max" or "avg" (the 1998 "subsampling" was an average with a learned
    scale); dtype: torch.float32 or torch.float64 (None: torch's default dtype).
    """

    def __init__(
        self,
        activation: str = "relu",
        pool: str = "max",
        n_classes: int = 10,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        activation = checks.one_of(activation, "activation", sorted(ACTIVATIONS))
        pool = checks.one_of(pool, "pool", sorted(POOLS))
        n_classes = checks.integer(n_classes, "n_classes", minimum=1)
        dtype = checks.one_of(dtype, "dtype", [None, torch.float32, torch.float64])
        act, pool_layer = ACTIVATIONS[activation], POOLS[pool]
        # dtype reaches each layer, so float64 weights are drawn in float64 (converting
        # float32 draws with .double() would keep their float32 rounding)
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2, dtype=dtype),
            act(),
            pool_layer(2),
            nn.Conv2d(6, 16, kernel_size=5, dtype=dtype),
            act(),
            pool_layer(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120, dtype=dtype),
            act(),
            nn.Linear(120, 84, dtype=dtype),
            act(),
            nn.Linear(84, n_classes, dtype=dtype),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (N, n_classes) of a batch of images x (N, 1, 28, 28)."""
        x = checks.instance(x, "x", torch.Tensor)
        x = checks.has_shape(x, "x", ("N", 1, 28, 28))
        features = self.features(x)  # (N, 16, 5, 5)
        return self.classifier(features)  # (N, n_classes)

"""Data sets for the chapters, all available offline.

    digits_to_lenet_input(images) -> (N, 1, 28, 28) float tensor in [0, 1]

scikit-learn ships the 1797 8x8 digits of the UCI repository (grey levels 0-16), so
chapter 4 needs no download. LeNet-5 expects 28x28 inputs: each digit is enlarged three
times with bilinear interpolation (8x8 -> 24x24, ``torch.nn.functional.interpolate``)
and framed by a 2-pixel black border (-> 28x28), as MNIST frames its digits in a
margin.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dlbook import checks

__all__ = ["digits_to_lenet_input"]


def digits_to_lenet_input(images, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """scikit-learn's digits, (N, 8, 8) or (N, 64), as LeNet inputs (N, 1, 28, 28).

    dtype: torch.float32, or torch.float64 for training that must give the same numbers
    on every CPU (see chapter 4).
    """
    dtype = checks.one_of(dtype, "dtype", (torch.float32, torch.float64))
    images = checks.array(images, "images")
    if images.ndim == 2 and images.shape[1] == 64:
        images = images.reshape(-1, 8, 8)  # (N, 64) -> (N, 8, 8)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(
            f"images must have shape (N, 8, 8) or (N, 64), got {images.shape}"
        )
    if images.size and (images.min() < 0 or images.max() > 16):
        raise ValueError(
            "images must hold grey levels in [0, 16], got values in "
            f"[{images.min():g}, {images.max():g}]"
        )
    x = torch.from_numpy(images / 16.0).to(dtype)[:, None]  # (N, 1, 8, 8), 0 = black
    x = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
    # (N, 1, 24, 24), then 2 zero pixels on every side:
    return F.pad(x, (2, 2, 2, 2))  # (N, 1, 28, 28)

"""LoRA: adapting a frozen linear layer by training a low-rank correction (chapter 10).

    LoRALinear(base, rank, alpha=1.0, generator=None): an nn.Module with
        y = base(x) + (alpha / rank) x A^T B^T
        .merged() -> nn.Linear with weight W + (alpha / rank) B A, the same outputs
    add_lora(model, rank, alpha=1.0, names=("qkv", "proj", "up", "down"),
             generator=None) -> the number of trainable parameters
    trainable_parameters(model) -> int

The idea is Hu et al. (2021), "LoRA: Low-Rank Adaptation of Large Language Models"
(hu2021lora). Fine-tuning changes a pre-trained weight W (out, in) by some dW; LoRA
bets that a useful dW has low rank r and writes it as a product, dW = (alpha / r) B A
with B (out, r) and A (r, in). W stays frozen and only A and B are trained:
r (in + out) numbers instead of in * out, and the optimiser keeps its moments for
those alone. B starts at zero, so the adapted model starts as exactly the pre-trained
one; A starts random (were both zero, neither would ever get a gradient, since
dL/dA = (alpha / r) B^T (dL/dy)^T x). The factor alpha / r lets the rank change
without retuning the learning rate. After training, W + (alpha / r) B A is one
ordinary matrix: the merged layer costs nothing extra at inference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from dlbook import checks

__all__ = ["LoRALinear", "add_lora", "trainable_parameters"]


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank correction:

        y = base(x) + (alpha / rank) x A^T B^T     x: (..., in) -> y: (..., out)

    base: the pre-trained layer, weight W (out, in) and bias b (or none); it is frozen
          in place (requires_grad False on W and b) and kept as ``self.base``.
    A:    (rank, in), uniform in [-1/sqrt(in), 1/sqrt(in)]: the numbers that
          torch.nn.init.kaiming_uniform_(A, a=sqrt(5)) draws (nn.Linear's default),
          as the paper's reference code does (the paper itself says Gaussian).
    B:    (out, rank), zeros: at the start the layer computes exactly base(x).
    generator: a CPU torch.Generator for A's draw (None: torch's global generator).

    A and B take W's dtype and device. 1 <= rank <= min(in, out): a larger rank could
    not describe more than a full matrix does.
    """

    def __init__(
        self,
        base: nn.Linear,
        rank: int,
        alpha: float = 1.0,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if not isinstance(base, nn.Linear):
            # checks.describe would call a layer "the function Conv1d": it is callable
            got = type(base).__name__ if isinstance(base, nn.Module) else None
            got = f"a {got} layer" if got else checks.describe(base)
            raise TypeError(f"base must be an nn.Linear layer, got {got}")
        rank = checks.integer(rank, "rank", minimum=1)
        out_features, in_features = base.weight.shape
        if rank > min(in_features, out_features):
            raise ValueError(
                f"rank must be <= min(in_features, out_features) = "
                f"{min(in_features, out_features)}, got {rank}"
            )
        self.alpha = checks.positive(alpha, "alpha")
        if generator is not None:
            checks.instance(generator, "generator", torch.Generator)
        self.rank = rank
        self.scale = self.alpha / rank
        self.base = base.requires_grad_(False)  # W and b are frozen
        dtype, device = base.weight.dtype, base.weight.device
        bound = 1 / math.sqrt(in_features)
        # drawn on the CPU, then moved: the same A on every device
        uniform = torch.rand(rank, in_features, generator=generator, dtype=dtype)
        A = bound * (2 * uniform - 1)  # uniform in [-bound, bound): (rank, in)
        self.A = nn.Parameter(A.to(device))
        self.B = nn.Parameter(
            torch.zeros(out_features, rank, dtype=dtype, device=device)
        )

    def forward(self, x):  # x: (..., in)
        low_rank = x @ self.A.T @ self.B.T  # (..., rank) then (..., out)
        return self.base(x) + self.scale * low_rank  # (..., out)

    @torch.no_grad()
    def merged(self) -> nn.Linear:
        """A new nn.Linear (weights copied, trainable) with weight
        W + (alpha / rank) B A and the base's bias: the same outputs as this layer, up
        to rounding, in a single matrix product."""
        base = self.base
        layer = nn.Linear(
            base.in_features,
            base.out_features,
            bias=base.bias is not None,
            dtype=base.weight.dtype,
            device=base.weight.device,
        )
        layer.weight.copy_(base.weight + self.scale * self.B @ self.A)  # (out, in)
        if base.bias is not None:
            layer.bias.copy_(base.bias)
        return layer

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha:g}"


def add_lora(
    model: nn.Module,
    rank: int,
    alpha: float = 1.0,
    names: Iterable[str] = ("qkv", "proj", "up", "down"),
    generator: torch.Generator | None = None,
) -> int:
    """Freeze every parameter of ``model``, then replace, in place, each nn.Linear whose
    own name (the last part of its dotted name) is in ``names`` by a
    LoRALinear(layer, rank, alpha). Returns the number of trainable parameters left:
    rank (in + out) per replaced layer.

    The default names are a dlbook.gpt.GPT's attention (qkv, proj) and MLP (up, down)
    layers; its output layer ``head`` shares its weight with the token embedding and
    is left out. The model's outputs do not change (B is zero) until A and B are
    trained. Each LoRALinear draws its A in the order of model.named_modules().
    """
    model = checks.instance(model, "model", nn.Module)
    chosen = _linear_layers(model, names)  # {dotted name: layer}
    # every check comes before the model changes: an error leaves it as it was
    rank = checks.integer(rank, "rank", minimum=1)
    smallest = min(min(layer.weight.shape) for layer in chosen.values())
    if rank > smallest:
        raise ValueError(
            f"rank must be <= {smallest}, the smallest in_features or out_features "
            f"of the chosen layers, got {rank}"
        )
    checks.positive(alpha, "alpha")
    if generator is not None:
        checks.instance(generator, "generator", torch.Generator)
    model.requires_grad_(False)  # the whole pre-trained model is frozen ...
    for dotted_name, layer in chosen.items():
        parent_name, _, own_name = dotted_name.rpartition(".")
        adapted = LoRALinear(layer, rank, alpha, generator=generator)  # ... but A, B
        setattr(model.get_submodule(parent_name), own_name, adapted)
    return trainable_parameters(model)


def _linear_layers(model: nn.Module, names) -> dict[str, nn.Linear]:
    """The nn.Linear layers of ``model`` whose own name is in ``names``, by dotted
    name ("blocks.0.attention.qkv"); every name must be the own name of one or more."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        got = checks.describe(names)
        raise TypeError(f"names must be a list or tuple of layer names, got {got}")
    names = tuple(names)
    if not names:
        raise ValueError("names must name at least one layer, got none")
    layers = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    own_names = {dotted.rpartition(".")[2] for dotted in layers}
    for name in names:
        if name not in own_names:
            raise ValueError(
                f"names must name nn.Linear layers of model, whose own names are "
                f"{sorted(own_names)}, got {name!r}"
            )
    return {n: m for n, m in layers.items() if n.rpartition(".")[2] in names}


def trainable_parameters(model: nn.Module) -> int:
    """How many numbers in ``model`` have requires_grad set (tied weights counted once,
    as model.parameters() lists them once)."""
    model = checks.instance(model, "model", nn.Module)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

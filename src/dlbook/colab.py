"""Detect Google Colab, where a chapter must install this package before importing
it."""

import sys

__all__ = ["in_colab"]


def in_colab() -> bool:
    """True when running inside a Google Colab runtime.

    Colab pre-imports its ``google.colab`` module into every kernel, so its presence in
    ``sys.modules`` is the cheapest reliable test (no import side effects).
    """
    return "google.colab" in sys.modules

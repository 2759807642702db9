"""dlbook: the helper package of the interactive deep-learning textbook.

Each module holds one idea and is meant to be read alongside its chapter:

- ``dlbook.notebook``    -- ``setup()``: seeds, threads, plot style and device
- ``dlbook.colab``       -- are we running inside Google Colab?
- ``dlbook.style``       -- the book's shared matplotlib style
- ``dlbook.interactive`` -- figures with sliders: live in Jupyter, drawn in advance for
  the HTML book
- ``dlbook.exercises``   -- friendly checks for the coding exercises
- ``dlbook.checks``      -- the argument checks every public function uses
- ``dlbook.timing``      -- ``best_of``: the book's one timer
- ``dlbook.training``    -- a small training loop for classifiers, and its evaluation
- ``dlbook.data``        -- data sets for the chapters, all available offline

Chapter modules (``dlbook.optim``, ``dlbook.autograd``, ``dlbook.conv``, ...) are
imported explicitly, e.g. ``from dlbook import conv``.
"""

from dlbook.colab import in_colab
from dlbook.notebook import setup

__version__ = "0.1.0"
__all__ = ["setup", "in_colab", "__version__"]

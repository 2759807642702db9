"""dlbook: the helper package of the interactive deep-learning textbook.

Each module holds one idea and is meant to be read alongside its chapter:

- ``dlbook.notebook``    -- ``setup()``: seeds, threads, plot style and device;
  ``smoke_test()``: are the tests running a GPU section in miniature?
- ``dlbook.style``       -- the book's shared matplotlib style
- ``dlbook.interactive`` -- figures with sliders: live in Jupyter, drawn in advance for
  the HTML book
- ``dlbook.exercises``   -- friendly checks for the coding exercises
- ``dlbook.checks``      -- the argument checks every public function uses
- ``dlbook.timing``      -- ``best_of``: the book's one timer
- ``dlbook.data``        -- data sets for the chapters, all available offline
- ``dlbook.training``    -- a small training loop for classifiers, and its evaluation
- ``dlbook.lm_training`` -- training language models: schedule, loop, evaluation

Chapter modules (``dlbook.optim``, ``dlbook.autograd``, ``dlbook.conv``, ...) are
imported explicitly, e.g. ``from dlbook import conv``.
"""

from dlbook.notebook import setup, smoke_test

__version__ = "0.1.0"
__all__ = ["setup", "smoke_test", "__version__"]

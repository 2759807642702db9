"""The base model that chapter 10 adapts: a character-level GPT pre-trained on the
corpus, shipped as a checkpoint so that the chapter never waits for pre-training.

    CHARACTERS: its vocabulary, character i has id i (data.corpus_characters() in
        Python 3.11, with which the checkpoint was made)
    CONFIG: gpt.GPTConfig, 4 layers of width 96, 4 heads, a context of 256 characters
    SETTINGS: the pre-training recipe, lm_training.LanguageModelTraining's arguments
    train(seed=0, steps=SETTINGS["steps"]) -> a GPT pre-trained on python_docs("train")
    load() -> the shipped GPT, in eval mode
    validation_nats(model) -> its loss on the validation text, as chapter 8 measures it
    VALIDATION_NATS: validation_nats(load()), recorded when the checkpoint was made

The recipe is chapter 8's (dlbook.lm_training: AdamW, a warm-up then a cosine decay
of the learning rate, the gradient clipped to norm 1) for a larger model: 482,016
parameters against chapter 8's 110,784, and a context of 256 characters, long enough
for a question, its answer and a template around them (data.instruction_pairs), or for
one such worked example before a question. 1500 steps of 16 random windows of 256
characters are 6.1 million predictions, about 14 passes over the 427,145 training
characters.
On one core of this book's machine a training step on 32 windows of 128 characters
(forward, backward, AdamW) takes about 0.22 s, and a forward pass alone 0.06 s.

The validation loss is chapter 8's: the average cross-entropy, in nats per character,
of the first 37,888 predictions of python_docs("validation"), read in windows of the
model's context (148 windows of 256, as chapter 8 scores its large GPT). The checkpoint
scores 1.171, against 1.421 for chapter 8's GPT (in windows of 64).

The checkpoint is the state dict in float32 (1.9 MB) inside the package
(dlbook/weights/base_gpt.pt), so that a pip install, as in Colab, has it too.
``python -m dlbook.base_model [path]`` regenerates it (at path, by default the
package's file) and prints its validation loss and sha256 (with Python 3.11.7 and
torch 2.13.0 on this book's machine: 112635ae688b8b74...). That takes 6 to 7 minutes
of one core (30 minutes while other jobs shared the machine's two). train() works in
float32 on one thread with the seed fixed, so the file is the same bit for bit on the
same CPU and torch version: two runs gave the same sha256. A CPU with other vector
instructions (ATEN_CPU_CAPABILITY=avx2 or default instead of avx512 here) rounds the
last digits of some sums differently and training drifts (20 steps already give other
bytes), so the file regenerated there differs; the shipped weights' validation loss
moves by about 1e-8 nats.
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from importlib import resources
from pathlib import Path

import torch

from dlbook import checks, data, gpt, lm_training

__all__ = [
    "CHARACTERS",
    "CONFIG",
    "SETTINGS",
    "VALIDATION_PREDICTIONS",
    "VALIDATION_NATS",
    "CHECKPOINT",
    "train",
    "load",
    "validation_nats",
]

# The vocabulary, written out: another Python's documentation may hold other
# characters, and the checkpoint's ids must keep their meaning.
CHARACTERS = (
    "\n !\"#%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"
    "abcdefghijklmnopqrstuvwxyz{|}~°ß–—‘’“”…"
)
CONFIG = gpt.GPTConfig(
    block_size=256, vocab_size=len(CHARACTERS), n_layer=4, n_head=4, n_embd=96
)
SETTINGS = {
    "steps": 1500,
    "batch_size": 16,
    "block_size": CONFIG.block_size,
    "max_lr": 1e-2,
    "warmup_steps": 150,  # a tenth of the steps
    "min_lr": 1e-3,
    "weight_decay": 0.1,
}
VALIDATION_PREDICTIONS = 37888  # chapter 8's count: 148 windows of 256
VALIDATION_NATS = 1.171291126222074  # printed by python -m dlbook.base_model
CHECKPOINT = "weights/base_gpt.pt"  # inside the dlbook package


def train(seed: int = 0, steps: int | None = None) -> gpt.GPT:
    """A GPT(CONFIG) initialised from ``seed`` and pre-trained with SETTINGS on
    python_docs("train"), in eval mode. steps: the length of the schedule (None:
    SETTINGS["steps"], the checkpoint's), with a tenth of it as warm-up.

    It works on one thread in float32 whatever the caller set (and restores both), and
    leaves torch's global random generator as it found it: the same seed gives the
    same weights, bit for bit, on the same CPU."""
    seed = checks.integer(seed, "seed", minimum=0)
    settings = dict(SETTINGS)
    if steps is not None:
        settings["steps"] = checks.integer(steps, "steps", minimum=1)
        settings["warmup_steps"] = settings["steps"] // 10
    ids = data.character_ids(data.python_docs("train"), list(CHARACTERS))
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)  # a sum split over threads is added in another order
    torch.set_default_dtype(torch.float32)
    try:
        model = _initialised(seed)
        lm_training.train_language_model(model, ids, seed=seed, **settings)
    finally:
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
    return model.eval()


def load() -> gpt.GPT:
    """The pre-trained GPT(CONFIG) with the shipped weights, in eval mode
    (model.train() before fine-tuning it). Leaves torch's global random generator as
    it was."""
    model = _initialised(seed=0)  # every weight is replaced by the checkpoint's
    with resources.files("dlbook").joinpath(CHECKPOINT).open("rb") as file:
        state = torch.load(file, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def validation_nats(model: torch.nn.Module) -> float:
    """The average cross-entropy (nats per character) of the first
    VALIDATION_PREDICTIONS predictions of python_docs("validation"), in windows of
    CONFIG.block_size characters: lm_training.mean_nats, as chapter 8 scores."""
    model = checks.instance(model, "model", torch.nn.Module)
    ids = data.character_ids(data.python_docs("validation"), list(CHARACTERS))
    return lm_training.mean_nats(model, ids, CONFIG.block_size, VALIDATION_PREDICTIONS)


def _initialised(seed: int) -> gpt.GPT:
    with torch.random.fork_rng(devices=[]):  # the global generator is put back after
        torch.manual_seed(seed)
        return gpt.GPT(CONFIG)


def main(path: Path) -> None:
    """Pre-train with SETTINGS, save the state dict at ``path`` and print the time,
    the validation loss and the file's sha256."""
    start = time.perf_counter()
    model = train()
    seconds = time.perf_counter() - start
    buffer = io.BytesIO()  # a file's name would be written into the archive
    torch.save(model.state_dict(), buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    print(f"{SETTINGS['steps']} steps in {seconds / 60:.1f} min")
    print(f"VALIDATION_NATS = {validation_nats(model)!r}")
    print(f"{path}: {path.stat().st_size:,} bytes, sha256 {digest}")


if __name__ == "__main__":
    # python -m dlbook.base_model [path]: by default the package's own checkpoint
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / CHECKPOINT)

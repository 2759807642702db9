"""Data sets for the chapters, all available offline (chapters 1 and 3 to 9).

    LECTURE_X, LECTURE_D: the lecture's four points and their -1/+1 targets (chapter 1)
    XOR_X, XOR_T: the four corners of the unit square and their XOR (chapters 1 and 3)
    make_moons(n, noise, seed) -> two interleaved half circles in 2-D (chapter 3)
    digits_to_lenet_input(images) -> (N, 1, 28, 28) float tensor in [0, 1]
    python_docs(split="train") -> str, the text corpus ("train", "validation", "all")
    corpus_characters() -> the corpus's distinct characters, sorted: id i is the i-th
    character_ids(text, characters=None) -> 1-D tensor of the characters' ids
    number_translation_pairs(count, min_length, max_length, seed=0)
        -> [("three one four", "drei eins vier"), ...]
    german_number_pairs(count, min_numbers, max_numbers, seed=0)
        -> [("thirty seven five", "sieben und dreißig fünf"), ...]
    encode_translation_pairs(pairs, source_words=SOURCE_WORDS,
                             target_words=TARGET_WORDS) -> padded id tensors

scikit-learn ships the 1797 8x8 digits of the UCI repository (grey levels 0-16), so
chapter 4 needs no download. LeNet-5 expects 28x28 inputs: each digit is enlarged three
times with bilinear interpolation (8x8 -> 24x24, ``torch.nn.functional.interpolate``)
and framed by a 2-pixel black border (-> 28x28), as MNIST frames its digits in a
margin.

The text corpus is the Python documentation that every Python installation carries:
``pydoc_data.topics``, 79 topics of the language reference (about 465,000 characters
in Python 3.11). The topics are joined in alphabetical order of their names, each
followed by a blank line; the split is at the first topic boundary after 90% of the
characters, so training text and validation text are whole, different topics. The
text differs a little between Python versions (``PYTHON_VERSION`` says which one ran).

The toy translation task turns a sequence of English digit names into German ones,
word for word: "three one four" -> "drei eins vier". A model must carry the whole
sentence from the encoder to the decoder, which is what chapter 5 measures and
chapter 6's attention removes. Its alignment is the diagonal: word i goes to word i.

The second translation task needs a reordering. German says the units of a number
before its tens: "thirty seven" is "siebenunddreißig", seven-and-thirty, written here
as three words "sieben und dreißig". Its alignment crosses, so a model that reads the
source in order must look ahead to the units, and attention must learn to look back at
the right word rather than along the diagonal (chapters 6 and 7). Numbers are 1 to 9
and 21 to 99 without the round tens (the teens are irregular in both languages, and
"twenty one" must mean one number); in a compound "eins" loses its s, as in German:
"twenty one" is "ein und zwanzig".
"""

from __future__ import annotations

import math
import platform

import numpy as np
import torch
import torch.nn.functional as F

from dlbook import checks

__all__ = [
    "LECTURE_X",
    "LECTURE_D",
    "XOR_X",
    "XOR_T",
    "make_moons",
    "digits_to_lenet_input",
    "python_docs",
    "corpus_characters",
    "character_ids",
    "PYTHON_VERSION",
    "SOURCE_WORDS",
    "TARGET_WORDS",
    "SPECIAL_TOKENS",
    "PAD",
    "BOS",
    "EOS",
    "number_translation_pairs",
    "NUMBER_SOURCE_WORDS",
    "NUMBER_TARGET_WORDS",
    "german_number_pairs",
    "encode_translation_pairs",
]

PYTHON_VERSION = platform.python_version()
VALIDATION_FRACTION = 0.1

# The lecture's example: find w1, w2, b so that sign(w1 x1 + w2 x2 + b) reproduces d.
LECTURE_X = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])
LECTURE_D = np.array([-1.0, -1.0, -1.0, 1.0])

# Exclusive OR with 0/1 inputs and outputs.
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([0.0, 1.0, 1.0, 0.0])


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles in 2-D, n points in all (label 0: upper, 1: lower),
    like ``sklearn.datasets.make_moons``.

    Upper moon: (cos t, sin t); lower moon: (1 - cos t, 0.5 - sin t), t uniform on
    [0, pi], then Gaussian noise of standard deviation ``noise`` on both coordinates.
    Rows are shuffled.
    """
    n = checks.integer(n, "n", minimum=2)  # at least one point per moon
    noise = checks.number(noise, "noise", minimum=0)
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = rng.uniform(0.0, math.pi, n_upper)
    t_lower = rng.uniform(0.0, math.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.vstack([upper, lower]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    order = rng.permutation(n)
    return X[order], y[order]


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


def python_docs(split: str = "train") -> str:
    """The Python reference documentation (``pydoc_data.topics``) as one text.

    split: "train" (the first ~90% of the characters), "validation" (the rest) or
    "all"; see the module docstring for how the topics are joined and split.
    """
    split = checks.one_of(split, "split", ("train", "validation", "all"))
    from pydoc_data.topics import topics  # ships with Python: nothing to download

    texts = [topics[name] + "\n\n" for name in sorted(topics)]
    if split == "all":
        return "".join(texts)
    boundary = (1 - VALIDATION_FRACTION) * sum(len(t) for t in texts)
    sizes = np.cumsum([len(t) for t in texts])  # characters up to the end of each
    n_train = int(np.searchsorted(sizes, boundary)) + 1  # topics, until past 90%
    chosen = texts[:n_train] if split == "train" else texts[n_train:]
    return "".join(chosen)


def corpus_characters() -> list[str]:
    """Every distinct character of the whole corpus (training and validation text),
    sorted: the vocabulary of the character-level models, in which characters[i] has
    id i."""
    return sorted(set(python_docs("all")))


def character_ids(text: str, characters: list[str] | None = None) -> torch.Tensor:
    """The id of every character of ``text``: its index in ``characters`` (None: the
    corpus's, ``corpus_characters()``), as a 1-D tensor of torch.long."""
    text = checks.instance(text, "text", str)
    if characters is None:
        characters = corpus_characters()
    index = {c: i for i, c in enumerate(characters)}  # one look-up per character
    unknown = sorted(set(text) - index.keys())
    if unknown:
        raise ValueError(
            f"text must use only the {len(index)} characters given, got {unknown[0]!r}"
        )
    return torch.tensor([index[c] for c in text], dtype=torch.long)


# The toy translation task: digit names, English to German, word for word.
SOURCE_WORDS = tuple("zero one two three four five six seven eight nine".split())
TARGET_WORDS = tuple("null eins zwei drei vier fünf sechs sieben acht neun".split())
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")  # padding, begin and end of sentence
PAD, BOS, EOS = 0, 1, 2  # their ids; word i of either language has id 3 + i


def number_translation_pairs(
    count: int, min_length: int, max_length: int, seed: int = 0
) -> list[tuple[str, str]]:
    """``count`` random sentence pairs ("three one four", "drei eins vier") whose
    lengths (in words) are drawn uniformly from min_length..max_length, with digits
    drawn uniformly; the same seed gives the same pairs on every machine."""
    count = checks.integer(count, "count", minimum=0)
    min_length = checks.integer(min_length, "min_length", minimum=1)
    max_length = checks.integer(max_length, "max_length", minimum=1)
    seed = checks.integer(seed, "seed")
    if max_length < min_length:
        raise ValueError(
            f"max_length must be >= min_length = {min_length}, got {max_length}"
        )
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        length = int(rng.integers(min_length, max_length + 1))
        digits = rng.integers(0, 10, size=length)
        source = " ".join(SOURCE_WORDS[d] for d in digits)
        target = " ".join(TARGET_WORDS[d] for d in digits)
        pairs.append((source, target))
    return pairs


# The reordering task: numbers up to 99, English to German, units before tens.
_UNITS = "one two three four five six seven eight nine".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_GERMAN_UNITS = "eins zwei drei vier fünf sechs sieben acht neun".split()
_GERMAN_TENS = "zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split()
NUMBER_SOURCE_WORDS = tuple(_UNITS + _TENS)
NUMBER_TARGET_WORDS = tuple(_GERMAN_UNITS + _GERMAN_TENS + ["ein", "und"])
# No zero, no teens, no round tens: "twenty" then "one" would read as twenty-one.
_NUMBERS = [n for n in range(1, 100) if n < 10 or (n > 20 and n % 10)]


def _english_number(n: int) -> list[str]:
    tens, units = divmod(n, 10)
    return ([_TENS[tens - 2]] if tens else []) + ([_UNITS[units - 1]] if units else [])


def _german_number(n: int) -> list[str]:
    tens, units = divmod(n, 10)
    if not tens:
        return [_GERMAN_UNITS[units - 1]]
    if not units:
        return [_GERMAN_TENS[tens - 2]]
    unit = "ein" if units == 1 else _GERMAN_UNITS[units - 1]
    return [unit, "und", _GERMAN_TENS[tens - 2]]  # units first: the crossing


def german_number_pairs(
    count: int, min_numbers: int, max_numbers: int, seed: int = 0
) -> list[tuple[str, str]]:
    """``count`` random pairs ("thirty seven five", "sieben und dreißig fünf"): each
    sentence holds min_numbers..max_numbers numbers (drawn uniformly), each number
    drawn uniformly from 1-9 and 21-99 but the round tens; the same seed gives the
    same pairs on every machine."""
    count = checks.integer(count, "count", minimum=0)
    min_numbers = checks.integer(min_numbers, "min_numbers", minimum=1)
    max_numbers = checks.integer(max_numbers, "max_numbers", minimum=1)
    seed = checks.integer(seed, "seed")
    if max_numbers < min_numbers:
        raise ValueError(
            f"max_numbers must be >= min_numbers = {min_numbers}, got {max_numbers}"
        )
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        numbers = rng.choice(
            _NUMBERS, size=int(rng.integers(min_numbers, max_numbers + 1))
        )
        source = " ".join(w for n in numbers for w in _english_number(int(n)))
        target = " ".join(w for n in numbers for w in _german_number(int(n)))
        pairs.append((source, target))
    return pairs


def encode_translation_pairs(
    pairs, source_words=SOURCE_WORDS, target_words=TARGET_WORDS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sentence pairs as padded tensors of token ids (torch.long).

    source (N, S + 1): a sentence's word ids, then <eos>, then <pad> up to the
        longest source sentence S;
    target (N, T + 2): <bos>, the word ids, <eos>, then <pad> up to the longest T.
    Word i of source_words (target_words) has id 3 + i in its own language; the
    defaults are the digit task's, NUMBER_SOURCE_WORDS and NUMBER_TARGET_WORDS give
    the reordering task's.
    """
    source_words = checks.instance(source_words, "source_words", tuple)
    target_words = checks.instance(target_words, "target_words", tuple)
    pairs = checks.instance(pairs, "pairs", list)
    if not pairs:
        raise ValueError("pairs must hold at least one (source, target) pair, got []")
    sources, targets = [], []
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(
                f"pairs[{index}] must be a (source, target) pair of strings, "
                f"got {checks.describe(pair)}"
            )
        sources.append(_word_ids(pair[0], source_words, f"pairs[{index}][0]"))
        targets.append(_word_ids(pair[1], target_words, f"pairs[{index}][1]"))
    source = _padded([ids + [EOS] for ids in sources])
    target = _padded([[BOS] + ids + [EOS] for ids in targets])
    return source, target


def _word_ids(sentence: object, words: tuple[str, ...], name: str) -> list[int]:
    sentence = checks.text(sentence, name)
    unknown = [w for w in sentence.split() if w not in words]
    if unknown:
        raise ValueError(
            f"{name} must use only the words {', '.join(words)}; got {unknown[0]!r} "
            f"in {sentence!r}"
        )
    return [len(SPECIAL_TOKENS) + words.index(w) for w in sentence.split()]


def _padded(rows: list[list[int]]) -> torch.Tensor:
    out = torch.full((len(rows), max(len(r) for r in rows)), PAD, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out

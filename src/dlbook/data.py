"""Data sets for the chapters, all available offline (chapters 1 and 3 to 10).

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
    topic_paragraphs(split="train") -> [(first 128 characters of a paragraph, label)]
        where label i names PARAGRAPH_CLASSES[i], e.g. "statements", the part of
        the documentation made of the topics PARAGRAPH_TOPICS[i] (chapter 10)
    instruction_pairs(split="train")
        -> [('What does the "for" statement do?', 'The "for" statement is ...')]

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

Chapter 10 adapts a model pre-trained on the corpus with two small tasks made from the
same topics. ``topic_paragraphs``: which part of the documentation a paragraph comes
from, four classes defined by topic names. ``instruction_pairs``: a question about a
topic and the first sentence of that topic as the answer. Their docstrings say how the
text is chosen and split.
"""

from __future__ import annotations

import math
import platform
import re

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
    "PARAGRAPH_CLASSES",
    "PARAGRAPH_TOPICS",
    "PARAGRAPH_LENGTH",
    "topic_paragraphs",
    "instruction_pairs",
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


# Chapter 10's labelled task: four parts of the documentation, each defined by the
# names of the pydoc_data.topics whose text comes from that part of the docs.
PARAGRAPH_CLASSES = ("statements", "expressions", "data model", "built-in types")
_TOPIC_NAMES = (
    # the language reference's "Simple statements" and "Compound statements"
    "assert assignment async augassign break class compound continue del else for "
    "function global if import nonlocal pass raise return try while with yield",
    # the language reference's "Expressions"
    "atom-identifiers atom-literals attribute-references await binary bitwise "
    "booleans calls comparisons conversions dict exprlists in lambda lists "
    "operator-summary power shifting slicings subscriptions unary",
    # the language reference's "Data model"
    "attribute-access callable-types context-managers customization numeric-types "
    "objects sequence-types specialnames types",
    # the library's "Built-in Types"
    "bltin-code-objects bltin-ellipsis-object bltin-null-object bltin-type-objects "
    "specialattrs string-methods truth typesfunctions typesmapping typesmethods "
    "typesmodules typesseq typesseq-mutable",
)
PARAGRAPH_TOPICS = tuple(tuple(names.split()) for names in _TOPIC_NAMES)
PARAGRAPH_LENGTH = 128  # characters: one window of the chapter's models
_PARAGRAPHS_PER_CLASS = {"train": 60, "held-out": 30}


def topic_paragraphs(split: str = "train") -> list[tuple[str, int]]:
    """A small labelled task: (text, label) pairs, where text is the first
    PARAGRAPH_LENGTH = 128 characters of a paragraph of the documentation and label i
    names the part it comes from, PARAGRAPH_CLASSES[i] ("statements", "expressions",
    "data model", "built-in types"), whose topics are PARAGRAPH_TOPICS[i].

    split: "train" (60 paragraphs per class, 240 in all) or "held-out" (30 per class,
    120 in all). The split is by paragraph: held-out paragraphs are different
    paragraphs of the same topics (no 128-character text is in both splits), because
    most of a class's paragraphs come from one or two long topics ("compound",
    "specialnames", ...), so holding out whole topics would leave each class one or
    two topics to be measured on. Either way the pre-trained model has read nearly
    all of them: python_docs("train") holds 71 of the 79 topics.

    A paragraph is a block of lines between blank lines that reads as prose: it
    starts with a capital letter, a quote or a single * (*emphasis*, a bullet), which
    leaves out code, grammar rules, >>> sessions and tables; it is not a heading or a
    "New in / Changed in version" note; and it is at least 128 characters long once
    its line breaks and indentation are collapsed to single spaces. A text found in
    topics of two classes is left out; a text found twice is kept once. Then each
    class's texts, sorted, are shuffled with a fixed seed and cut into the two splits,
    and the split is shuffled, so the same Python version gives the same list.
    """
    split = checks.one_of(split, "split", ("train", "held-out"))
    from pydoc_data.topics import topics  # ships with Python: nothing to download

    classes_of = {}  # 128-character text -> the classes it is found in
    for label, names in enumerate(PARAGRAPH_TOPICS):
        for name in names:
            for paragraph in _prose_paragraphs(topics.get(name, "")):
                if len(paragraph) >= PARAGRAPH_LENGTH:
                    window = paragraph[:PARAGRAPH_LENGTH]
                    classes_of.setdefault(window, set()).add(label)
    rng = np.random.default_rng(0)
    n_train, n_held_out = (_PARAGRAPHS_PER_CLASS[s] for s in ("train", "held-out"))
    chosen = []
    for label, name in enumerate(PARAGRAPH_CLASSES):
        texts = sorted(t for t, labels in classes_of.items() if labels == {label})
        if len(texts) < n_train + n_held_out:  # another Python's documentation
            raise RuntimeError(
                f"Python {PYTHON_VERSION}'s documentation has {len(texts)} paragraphs "
                f'of class "{name}", fewer than the {n_train + n_held_out} needed'
            )
        texts = [texts[i] for i in rng.permutation(len(texts))]
        part = texts[:n_train] if split == "train" else texts[n_train:][:n_held_out]
        chosen += [(text, label) for text in part]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def instruction_pairs(split: str = "train") -> list[tuple[str, str]]:
    """Instruction-answer pairs (question, answer), one per topic of the corpus: the
    answer is the first sentence of the topic's first prose paragraph (line breaks
    collapsed to spaces; a colon that ends it, before a grammar rule or a list, made a
    full stop), and the question is

        'What does the "for" statement do?'     for a topic titled 'The "for" statement'
        'What does the section “Calls” explain?'   for any other title, here "Calls"

    Topics with the same question (the "if" statement is also the topic "else") are
    kept once, and a pair whose question and answer together exceed 224 characters is
    left out, so that a pair and a template of up to 32 characters fit in the 256
    characters of dlbook.base_model's context.

    split: "held-out" holds the topics of python_docs("validation"), which the base
    model was not pre-trained on, unless the answer appears in python_docs("train")
    anyway (in Python 3.11 the "while" and "with" statements, whose text the topic
    "compound" repeats): those, like every other topic, are in "train".
    """
    split = checks.one_of(split, "split", ("train", "held-out"))
    from pydoc_data.topics import topics  # ships with Python: nothing to download

    names = sorted(topics)  # python_docs's order: the validation topics come last
    validation = python_docs("validation")
    first_valid = next(
        k for k in range(len(names) + 1) if _joined(topics, names[k:]) == validation
    )
    train_text = " ".join(python_docs("train").split())  # line breaks as spaces
    pairs, questions = [], set()
    for k, name in enumerate(names):
        question, sentence = _question(topics[name]), _first_sentence(topics[name])
        if sentence is None or question in questions:
            continue
        answer = sentence[:-1] + "."  # "...:" before a grammar rule or a list
        if len(question) + len(answer) > 224:
            continue
        questions.add(question)
        held_out = k >= first_valid and sentence not in train_text
        if held_out == (split == "held-out"):
            pairs.append((question, answer))
    return pairs


def _joined(topics: dict, names: list[str]) -> str:
    return "".join(topics[name] + "\n\n" for name in names)  # as python_docs joins


def _prose_paragraphs(text: str) -> list[str]:
    """The prose paragraphs of a topic's text (see topic_paragraphs), each with its
    whitespace collapsed to single spaces."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):  # blank lines separate blocks
        lines = [line.strip() for line in block.strip("\n").splitlines()]
        if not lines or not lines[0]:
            continue
        first, last = lines[0], lines[-1]
        if re.fullmatch(r"[*=\-~^]+", last):  # a heading's underline
            continue
        emphasis = first.startswith("*") and not first.startswith("**")  # **Note:**
        starts_as_prose = first[0].isupper() or first[0] in '"“' or emphasis
        if not starts_as_prose:  # code, grammar rules, tables, >>> sessions
            continue
        if first.startswith(("New in version", "Changed in version", "Deprecated")):
            continue  # says when, not what
        paragraphs.append(" ".join(" ".join(lines).split()))
    return paragraphs


def _first_sentence(text: str) -> str | None:
    """The first sentence of the first prose paragraph after a topic's title: up to
    the first "." or ":" followed by a space or the paragraph's end."""
    title_and_underline = 2
    body = "\n".join(text.split("\n")[title_and_underline:])
    for paragraph in _prose_paragraphs(body):
        sentence = re.match(r"(.+?[.:])(?: |$)", paragraph)
        if sentence:
            return sentence.group(1)
    return None


def _question(text: str) -> str:
    title = text.split("\n", 1)[0].strip()
    statement = re.fullmatch(r'The "(\w+)" statement', title)
    if statement:
        return f'What does the "{statement.group(1)}" statement do?'
    return f"What does the section “{title}” explain?"

"""Tests for dlbook.data.digits_to_lenet_input: shapes, the black border, the value
range, the dtype option, the interior against torch's own interpolation, and bad
input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from dlbook.data import (
    BOS,
    EOS,
    LECTURE_D,
    LECTURE_X,
    NUMBER_SOURCE_WORDS,
    NUMBER_TARGET_WORDS,
    PAD,
    SOURCE_WORDS,
    SPECIAL_TOKENS,
    TARGET_WORDS,
    XOR_T,
    XOR_X,
    character_ids,
    corpus_characters,
    digits_to_lenet_input,
    encode_translation_pairs,
    german_number_pairs,
    make_moons,
    number_translation_pairs,
    python_docs,
)


def random_digits(seed: int, n: int) -> np.ndarray:
    """n random 8x8 "digits" with integer grey levels 0..16, as scikit-learn has
    them."""
    return np.random.default_rng(seed).integers(0, 17, size=(n, 8, 8)).astype(float)


@pytest.mark.parametrize("seed, n", [(0, 1), (1, 5), (2, 17)])
def test_shape_border_and_range(seed, n):
    x = digits_to_lenet_input(random_digits(seed, n))
    assert isinstance(x, torch.Tensor)
    assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
    # a 2-pixel black (zero) frame on every side
    assert torch.all(x[..., :2, :] == 0) and torch.all(x[..., -2:, :] == 0)
    assert torch.all(x[..., :, :2] == 0) and torch.all(x[..., :, -2:] == 0)
    assert x.min() >= 0 and x.max() <= 1


def test_flat_and_square_images_give_the_same_tensor():
    images = random_digits(3, 6)
    square = digits_to_lenet_input(images)  # (N, 8, 8)
    flat = digits_to_lenet_input(images.reshape(6, 64))  # (N, 64)
    assert torch.equal(square, flat)


@pytest.mark.parametrize("seed", range(4))
def test_interior_is_torchs_bilinear_interpolation(seed):
    images = random_digits(10 + seed, 4)
    x = digits_to_lenet_input(images, dtype=torch.float64)
    # written out here: grey levels 0..16 -> [0, 1], one channel, bilinear 8x8 -> 24x24
    scaled = torch.tensor(images / 16.0, dtype=torch.float64).reshape(4, 1, 8, 8)
    expected = F.interpolate(
        scaled, size=(24, 24), mode="bilinear", align_corners=False
    )
    assert torch.equal(x[:, :, 2:26, 2:26], expected)


def test_worked_example_of_a_constant_digit():
    # Bilinear interpolation of a constant image is that constant: grey level 8 -> 0.5.
    x = digits_to_lenet_input(np.full((1, 8, 8), 8.0))
    assert torch.all(x[0, 0, 2:26, 2:26] == 0.5)
    assert x.sum().item() == pytest.approx(0.5 * 24 * 24)


def test_float64_option_and_real_digits():
    digits = load_digits()
    x32 = digits_to_lenet_input(digits.images[:10])
    x64 = digits_to_lenet_input(digits.data[:10], dtype=torch.float64)
    assert x64.dtype == torch.float64 and x64.shape == (10, 1, 28, 28)
    torch.testing.assert_close(x32.double(), x64, rtol=1e-6, atol=1e-6)
    assert 0 < x64.max() <= 1


def test_empty_batch():
    assert digits_to_lenet_input(np.zeros((0, 64))).shape == (0, 1, 28, 28)


@pytest.mark.parametrize(
    "images, kwargs, error, message",
    [
        (np.zeros((2, 7, 7)), {}, ValueError, r"images must have shape \(N, 8, 8\)"),
        (np.zeros((2, 63)), {}, ValueError, r"or \(N, 64\), got \(2, 63\)"),
        (np.zeros(64), {}, ValueError, r"images must have shape .*, got \(64,\)"),
        (np.full((1, 8, 8), 17.0), {}, ValueError, r"grey levels in \[0, 16\]"),
        (np.full((1, 8, 8), -1.0), {}, ValueError, r"got values in \[-1, -1\]"),
        (np.full((1, 8, 8), "a"), {}, TypeError, "images must hold real numbers"),
        (np.zeros((1, 64), dtype=bool), {}, TypeError, "images must hold real numbers"),
        (
            np.zeros((1, 64)),
            {"dtype": torch.int64},
            ValueError,
            "dtype must be torch.float32 or torch.float64, got torch.int64",
        ),
    ],
)
def test_bad_input(images, kwargs, error, message):
    with pytest.raises(error, match=message):
        digits_to_lenet_input(images, **kwargs)


# -- the text corpus -----------------------------------------------------------------


def test_python_docs_split_is_whole_topics_and_covers_everything():
    from pydoc_data.topics import topics

    train, validation = python_docs("train"), python_docs("validation")
    assert train + validation == python_docs("all")
    assert python_docs() == train
    fraction = len(validation) / (len(train) + len(validation))
    assert 0.02 < fraction <= 0.1  # at most 10%, cut at a topic boundary
    texts = [topics[name] + "\n\n" for name in sorted(topics)]
    starts = {len("".join(texts[:i])) for i in range(len(texts) + 1)}
    assert len(train) in starts
    assert sum(map(len, texts)) == len(python_docs("all"))


def test_python_docs_bad_split():
    with pytest.raises(ValueError, match="split must be one of|split must be"):
        python_docs("test")


def test_corpus_characters_are_the_sorted_distinct_characters():
    characters = corpus_characters()
    text = python_docs("all")
    assert characters == sorted(characters) and len(set(characters)) == len(characters)
    assert set(characters) == set(text)
    assert all(len(c) == 1 for c in characters)


def test_character_ids_index_the_vocabulary():
    characters = corpus_characters()
    text = python_docs("validation")
    ids = character_ids(text)
    assert ids.dtype == torch.long and ids.shape == (len(text),)
    positions = np.random.default_rng(0).integers(0, len(text), size=500)
    assert all(characters[ids[p]] == text[p] for p in positions)
    assert "".join(characters[i] for i in ids[:200]) == text[:200]
    assert character_ids("cab", ["a", "b", "c"]).tolist() == [2, 0, 1]
    assert character_ids("").shape == (0,)


def test_character_ids_bad_input():
    with pytest.raises(ValueError, match="only the 3 characters given, got 'd'"):
        character_ids("cad", ["a", "b", "c"])
    with pytest.raises(TypeError, match="text must be a str, got 3"):
        character_ids(3)


# -- the toy translation task ---------------------------------------------------------


def test_translation_pairs_are_word_for_word_and_reproducible():
    pairs = number_translation_pairs(200, 2, 7, seed=3)
    assert pairs == number_translation_pairs(200, 2, 7, seed=3)
    assert pairs != number_translation_pairs(200, 2, 7, seed=4)
    lengths = set()
    for source, target in pairs:
        english, german = source.split(), target.split()
        assert len(english) == len(german)
        lengths.add(len(english))
        for e, g in zip(english, german):
            assert TARGET_WORDS.index(g) == SOURCE_WORDS.index(e)
    assert lengths == set(range(2, 8))
    assert number_translation_pairs(0, 1, 1) == []


def test_encoding_by_hand():
    source, target = encode_translation_pairs(
        [("three one four", "drei eins vier"), ("nine", "neun")]
    )
    assert source.dtype == torch.long and target.dtype == torch.long
    assert source.tolist() == [[6, 4, 7, EOS], [12, EOS, PAD, PAD]]
    assert target.tolist() == [[BOS, 6, 4, 7, EOS], [BOS, 12, EOS, PAD, PAD]]
    assert (PAD, BOS, EOS) == (0, 1, 2)
    assert SPECIAL_TOKENS == ("<pad>", "<bos>", "<eos>")


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((-1, 1, 2), ValueError, "count must be an int >= 0, got -1"),
        ((5, 0, 2), ValueError, "min_length must be an int >= 1, got 0"),
        ((5, 3, 2), ValueError, "max_length must be >= min_length = 3, got 2"),
        ((5, 1, 2.5), TypeError, "max_length must be an int"),
    ],
)
def test_translation_pairs_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        number_translation_pairs(*args)


@pytest.mark.parametrize(
    "pairs, error, message",
    [
        ([], ValueError, "pairs must hold at least one"),
        ("one", TypeError, "pairs must be"),
        ([("one", "eins", "x")], TypeError, r"pairs\[0\] must be a \(source, target\)"),
        ([("one", "eins"), ("one ten", "eins")], ValueError, r"pairs\[1\]\[0\] must "
         "use only the words zero, one, .*; got 'ten' in 'one ten'"),
        ([("one", "one")], ValueError, r"pairs\[0\]\[1\] must use only the words null"),
        ([("", "")], ValueError, r"pairs\[0\]\[0\] must"),
    ],
)  # fmt: skip
def test_encoding_bad_input(pairs, error, message):
    with pytest.raises(error, match=message):
        encode_translation_pairs(pairs)


# -- the small tables and two moons (chapters 1 and 3) -------------------------------
def test_make_moons_geometry():
    X, y = make_moons(101, noise=0.0, seed=3)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12
    )
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()
    X2, y2 = make_moons(101, noise=0.0, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_moons_noise_level():
    X0, y0 = make_moons(4000, noise=0.0, seed=8)
    X1, y1 = make_moons(4000, noise=0.2, seed=8)
    np.testing.assert_array_equal(y0, y1)
    assert abs(np.std(X1 - X0) - 0.2) < 0.01


def test_xor_and_the_lecture_table():
    np.testing.assert_array_equal(XOR_T, np.logical_xor(XOR_X[:, 0], XOR_X[:, 1]))
    assert XOR_X.shape == LECTURE_X.shape == (4, 2)
    # the lecture's targets: +1 only where both inputs are 2 (an AND of x1, x2 >= 2)
    np.testing.assert_array_equal(
        LECTURE_D, np.where(LECTURE_X.min(axis=1) == 2, 1, -1)
    )


def test_make_moons_bad_input():
    with pytest.raises(ValueError, match="n must be an int >= 2, got 1"):
        make_moons(1)
    with pytest.raises(ValueError, match=r"noise must be a number >= 0, got -0\.1"):
        make_moons(10, noise=-0.1)


# -- the reordering task --------------------------------------------------------------
GERMAN_BY_HAND = {  # written out by hand, not by the code under test
    "one": "eins",
    "nine": "neun",
    "twenty one": "ein und zwanzig",
    "thirty seven": "sieben und dreißig",
    "fifty six": "sechs und fünfzig",
    "ninety nine": "neun und neunzig",
    "eighty one": "ein und achtzig",
}


def test_german_numbers_put_units_before_tens():
    pairs = german_number_pairs(3000, 1, 1, seed=5)
    seen = dict(pairs)
    assert len(seen) == 9 + 72  # 1-9 and 21-99 but the round tens
    assert not {"twenty", "seventy", "ten", "eleven"} & seen.keys()
    for english, german in GERMAN_BY_HAND.items():
        assert seen[english] == german


def _count_numbers(english: str) -> tuple[int, int]:
    """(numbers, compounds) in an English sentence: "thirty seven" is one compound."""
    words, numbers, compounds, i = english.split(), 0, 0, 0
    while i < len(words):
        compound = words[i].endswith("ty")  # a tens word always starts a compound
        numbers, compounds, i = numbers + 1, compounds + compound, i + 1 + compound
    return numbers, compounds


def test_german_number_pairs_are_reproducible_and_sized():
    pairs = german_number_pairs(300, 2, 4, seed=3)
    assert pairs == german_number_pairs(300, 2, 4, seed=3)
    assert pairs != german_number_pairs(300, 2, 4, seed=4)
    counts = set()
    for english, german in pairs:
        numbers, compounds = _count_numbers(english)
        counts.add(numbers)
        assert german.split().count("und") == compounds  # one "und" per compound
        assert len(german.split()) == len(english.split()) + compounds
    assert counts == {2, 3, 4}
    assert german_number_pairs(0, 1, 1) == []


def test_german_number_encoding_by_hand():
    source, target = encode_translation_pairs(
        [("twenty one", "ein und zwanzig")], NUMBER_SOURCE_WORDS, NUMBER_TARGET_WORDS
    )
    # twenty is source word 9, one is word 0; ein is target word 17, und 18, zwanzig 9
    assert source.tolist() == [[3 + 9, 3 + 0, EOS]]
    assert target.tolist() == [[BOS, 3 + 17, 3 + 18, 3 + 9, EOS]]


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((-1, 1, 2), ValueError, "count must be an int >= 0, got -1"),
        ((5, 0, 2), ValueError, "min_numbers must be an int >= 1, got 0"),
        ((5, 3, 2), ValueError, "max_numbers must be >= min_numbers = 3, got 2"),
    ],
)
def test_german_number_pairs_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        german_number_pairs(*args)


def test_encoding_with_the_wrong_vocabulary():
    with pytest.raises(ValueError, match=r"pairs\[0\]\[0\] must use only the words"):
        encode_translation_pairs([("thirty", "dreißig")])
    with pytest.raises(TypeError, match="source_words must be a tuple"):
        encode_translation_pairs([("one", "eins")], ["one"], NUMBER_TARGET_WORDS)

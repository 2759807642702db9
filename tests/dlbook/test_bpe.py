"""dlbook.bpe: byte-level BPE.

Round trips on random Unicode, every merge checked by brute force against a count of
all neighbouring pairs, worked examples by hand, and bad input.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlbook import data
from dlbook.bpe import BPETokenizer, split_chunks, train_bpe

TEXT = data.python_docs("train")[:20000]


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe(TEXT, 200)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_chunks_join_back_to_the_text(s):
    assert "".join(split_chunks(s)) == s


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_decode_encode_round_trip_on_any_string(tokenizer, s):
    ids = tokenizer.encode(s)
    assert all(isinstance(i, int) and 0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == s


@pytest.mark.parametrize(
    "s",
    [
        "",
        "🤖 emoji 👩‍👩‍👧",
        "ünïcödé wörds",
        "xyzzyplugh",
        "日本語のテキスト",
        "_a_\t\n\r ",
    ],
)
def test_round_trip_on_unseen_words(tokenizer, s):
    assert tokenizer.decode(tokenizer.encode(s)) == s


def _brute_force_train(text, num_merges):
    """The definition, slowly: recount every pair of every chunk at every step."""
    chunks = [list(c.encode("utf-8")) for c in split_chunks(text)]
    merges = []
    for i in range(num_merges):
        counts = Counter(p for ids in chunks for p in zip(ids, ids[1:]))
        if not counts or max(counts.values()) < 2:
            break
        top = max(counts.values())
        pair = min(p for p, c in counts.items() if c == top)  # ties: the smallest
        merges.append(pair)
        new = 256 + i
        for k, ids in enumerate(chunks):
            out, j = [], 0
            while j < len(ids):
                if j + 1 < len(ids) and (ids[j], ids[j + 1]) == pair:
                    out.append(new)
                    j += 2
                else:
                    out.append(ids[j])
                    j += 1
            chunks[k] = out
    return merges, [t for ids in chunks for t in ids]


@pytest.mark.parametrize("seed", range(6))
def test_each_merge_is_the_most_frequent_pair(seed):
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(TEXT) - 600))
    text = TEXT[start : start + int(rng.integers(100, 600))]
    if seed % 2:  # few symbols, long repeats: many ties and overlapping pairs
        text = "".join(rng.choice(list("ab a"), size=300))
    merges, ids = _brute_force_train(text, 40)
    tokenizer = train_bpe(text, 40)
    assert tokenizer.merges == merges
    # encoding the training text reproduces what training did to it
    assert tokenizer.encode(text) == ids


def test_worked_example_by_hand():
    # "aaab aaab": chunks "aaab", " aaab"; pairs (a,a) x4, (a,b) x2, (" ",a) x1
    tokenizer = train_bpe("aaab aaab", 2)
    a, b = ord("a"), ord("b")
    # after "aa" -> 256: (256,a) x2 ties with (a,b) x2, and (97, 98) is the smaller
    assert tokenizer.merges == [(a, a), (a, b)]
    assert tokenizer.token_bytes(257) == b"ab"
    assert tokenizer.encode("aaab") == [256, 257]
    assert tokenizer.encode("aaaa") == [256, 256]  # left to right, no overlaps
    assert tokenizer.encode("aab") == [256, b]  # (a,a) was learned before (a,b)


def test_training_stops_when_no_pair_repeats():
    assert train_bpe("abcdef", 10).merges == []
    assert train_bpe("abab", 10).merges == [(ord("a"), ord("b"))]


def test_merges_shorten_the_corpus(tokenizer):
    assert len(tokenizer.encode(TEXT)) < 0.6 * len(TEXT.encode("utf-8"))
    assert tokenizer.vocab_size == 256 + len(tokenizer.merges) == 456


def test_a_tokenizer_rebuilt_from_its_merges_encodes_the_same(tokenizer):
    again = BPETokenizer(list(tokenizer.merges))
    assert again.encode(TEXT[:3000]) == tokenizer.encode(TEXT[:3000])


def test_decode_replaces_a_split_character(tokenizer):
    assert "é".encode() == bytes([0xC3, 0xA9])
    assert tokenizer.decode([0xC3]) == "\ufffd"  # half of "é"
    assert tokenizer.decode([0xC3, 0xA9]) == "é"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda t: train_bpe(b"bytes", 3), TypeError, "text must be"),
        (lambda t: train_bpe("   ", 3), ValueError, "text"),
        (lambda t: train_bpe("abc", -1), ValueError, "num_merges"),
        (lambda t: train_bpe("abc", 2.5), TypeError, "num_merges"),
        (lambda t: t.encode(["a"]), TypeError, "text must be"),
        (lambda t: t.decode("abc"), TypeError, "ids must be a list"),
        (lambda t: t.decode([1, 2.5]), TypeError, r"ids\[1\]"),
        (lambda t: t.decode([-1]), ValueError, r"ids\[0\]"),
        (lambda t: t.decode([456]), ValueError, "below the vocabulary size 456"),
        (lambda t: t.token_bytes(10**6), ValueError, "token must be below"),
    ],
)
def test_bad_input(tokenizer, call, error, message):
    with pytest.raises(error, match=message):
        call(tokenizer)

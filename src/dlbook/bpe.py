"""Byte-level byte-pair encoding (BPE): learn sub-word tokens from a text (chapter 7).

    train_bpe(text, num_merges) -> BPETokenizer
    tokenizer.encode(s) -> list of ids;  tokenizer.decode(ids) -> s
    tokenizer.merges[i] = (a, b): merge i joins tokens a and b into token 256 + i

Ids 0-255 are the 256 possible bytes, so any string can be encoded, whatever its
characters: encode writes the string as UTF-8 bytes and decode(encode(s)) == s always.
Training repeats one step num_merges times:

    count every pair of neighbouring tokens (a, b) in the text
    pick the most frequent pair (ties: the smallest (a, b))
    replace every occurrence of (a, b) by a new token, 256 + i

Like GPT-2's tokenizer, the text is first cut into chunks (a word with its leading
space, a run of digits, of other symbols or of white space) and no merge crosses a chunk
boundary, so " the" can become one token but "e t" never does. Encoding a chunk applies
the merges in the order they were learned, which reproduces what training did.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from dlbook import checks

__all__ = ["train_bpe", "BPETokenizer", "split_chunks"]

# A word with its leading space, digits, other symbols (underscores too), or white
# space; "." (with DOTALL) catches anything left, so the chunks join back to the text.
_CHUNK = re.compile(r" ?[^\W\d_]+| ?\d+| ?(?:[^\w\s]|_)+|\s+(?!\S)|\s+|.", re.DOTALL)


def split_chunks(text: str) -> list[str]:
    """The chunks that merges never cross; "".join(split_chunks(s)) == s."""
    text = checks.instance(text, "text", str)
    return _CHUNK.findall(text)


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """ids with every non-overlapping occurrence of pair, left to right, replaced."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


@dataclass
class BPETokenizer:
    """A trained byte-level BPE: ``merges[i]`` made token ``256 + i``."""

    merges: list[tuple[int, int]]
    _rank: dict[tuple[int, int], int] = field(init=False, repr=False)
    _bytes: list[bytes] = field(init=False, repr=False)
    _cache: dict[str, list[int]] = field(init=False, repr=False)

    def __post_init__(self):
        self._rank = {pair: i for i, pair in enumerate(self.merges)}
        self._bytes = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self._cache = {}

    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges)

    def token_bytes(self, token: int) -> bytes:
        """The bytes a token stands for (a token can be part of a character)."""
        token = checks.integer(token, "token", minimum=0)
        if token >= self.vocab_size:
            raise ValueError(
                f"token must be below the vocabulary size {self.vocab_size}, "
                f"got {token}"
            )
        return self._bytes[token]

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = list(chunk.encode("utf-8"))
        while len(ids) > 1:
            # the pair learned first is merged first, as in training
            pair = min(
                zip(ids, ids[1:]), key=lambda p: self._rank.get(p, len(self._rank))
            )
            if pair not in self._rank:
                break
            ids = _merge(ids, pair, 256 + self._rank[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        """The token ids of text, a str."""
        text = checks.instance(text, "text", str)
        ids = []
        for chunk in _CHUNK.findall(text):
            if chunk not in self._cache:  # texts repeat their words: about 20x faster
                self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(self._cache[chunk])
        return ids

    def decode(self, ids) -> str:
        """The text of a list of token ids; bytes that are not UTF-8 become U+FFFD."""
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise TypeError(
                f"ids must be a list of token ids, got {checks.describe(ids)}"
            )
        ids = [checks.integer(t, f"ids[{i}]", minimum=0) for i, t in enumerate(ids)]
        for position, token in enumerate(ids):
            if token >= self.vocab_size:
                raise ValueError(
                    f"ids[{position}] must be below the vocabulary size "
                    f"{self.vocab_size}, got {token}"
                )
        return b"".join(self._bytes[t] for t in ids).decode("utf-8", errors="replace")


def train_bpe(text: str, num_merges: int) -> BPETokenizer:
    """Learn num_merges merges from text (a str); see the module docstring.

    Training stops early if no pair occurs twice (a merge would not shorten the text).
    """
    text = checks.text(text, "text")
    num_merges = checks.integer(num_merges, "num_merges", minimum=0)
    # Each distinct chunk once, with how often it occurs: far fewer than the chunks.
    chunk_counts = Counter(_CHUNK.findall(text))
    words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
    frequency = list(chunk_counts.values())
    pair_counts: Counter = Counter()
    where = defaultdict(set)  # pair -> the words it occurs in
    for w, ids in enumerate(words):
        for pair in zip(ids, ids[1:]):
            pair_counts[pair] += frequency[w]
            where[pair].add(w)
    merges = []
    for i in range(num_merges):
        if not pair_counts:
            break
        best = max(pair_counts.items(), key=lambda item: (item[1], _neg(item[0])))
        if best[1] < 2:
            break
        pair, new_id = best[0], 256 + i
        merges.append(pair)
        # Only the words holding the pair change: recount their pairs, not the text's.
        for w in where.pop(pair):
            old = words[w]
            for p in zip(old, old[1:]):
                pair_counts[p] -= frequency[w]
                if pair_counts[p] == 0:
                    del pair_counts[p]
            words[w] = _merge(old, pair, new_id)
            for p in zip(words[w], words[w][1:]):
                pair_counts[p] += frequency[w]
                where[p].add(w)
    return BPETokenizer(merges)


def _neg(pair: tuple[int, int]) -> tuple[int, int]:
    # max() with this key prefers the smallest pair among equally frequent ones
    return (-pair[0], -pair[1])

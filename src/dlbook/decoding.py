"""Decoding: turning a model's next-token probabilities into a text (chapter 8).

    greedy(next_probs, prompt, max_new_tokens, eos=None) -> tokens
    beam_search(next_probs, prompt, beam_width, max_new_tokens, eos=None)
        -> (tokens, log_probability)
    sample(next_probs, prompt, max_new_tokens, rng, temperature=1.0, top_k=None,
           top_p=None, eos=None) -> tokens
    with_temperature(probs, temperature), keep_top_k(probs, k), keep_top_p(probs, p)
        -> the distribution that sample draws from

A model is seen through one function, ``next_probs(tokens) -> probs``: the probability
of every token of the vocabulary (a NumPy array of shape (V,) that sums to 1) given the
tokens so far (a tuple of ints). A token sequence is the prompt followed by the new
tokens; it stops after ``max_new_tokens`` or after the token ``eos``.

- Greedy decoding takes the most probable token at every step. Cheap, but a likely
  word now can lead to unlikely words later.
- Beam search keeps the ``beam_width`` most probable sequences so far, extends each by
  every token, and keeps the best ``beam_width`` again; width 1 is greedy. It scores a
  sequence by its summed log-probability (no length penalty), so sequences that end
  early with ``eos`` compete with longer ones as they are.
- Sampling draws the next token at random: the temperature tau reshapes the
  distribution as p_i^(1/tau) / sum_j p_j^(1/tau) (the softmax of the scores divided
  by tau); top-k keeps the k most probable tokens, top-p the fewest whose probabilities
  add up to at least p (the nucleus); what is kept is renormalised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from dlbook import checks

__all__ = [
    "greedy",
    "beam_search",
    "sample",
    "with_temperature",
    "keep_top_k",
    "keep_top_p",
]

NextProbs = Callable[[tuple[int, ...]], np.ndarray]


def greedy(next_probs: NextProbs, prompt, max_new_tokens: int, eos=None) -> list[int]:
    """The prompt and then, at every step, the single most probable next token."""
    tokens, max_new_tokens, eos = _start(next_probs, prompt, max_new_tokens, eos)
    for _ in range(max_new_tokens):
        probs = _probs(next_probs, tokens)
        tokens.append(int(np.argmax(probs)))  # ties: the lowest id
        if tokens[-1] == eos:
            break
    return tokens


def beam_search(
    next_probs: NextProbs, prompt, beam_width: int, max_new_tokens: int, eos=None
) -> tuple[list[int], float]:
    """The most probable sequence that a beam of ``beam_width`` sequences finds, and its
    log-probability given the prompt (natural log)."""
    tokens, max_new_tokens, eos = _start(next_probs, prompt, max_new_tokens, eos)
    beam_width = checks.integer(beam_width, "beam_width", minimum=1)
    beams = [(0.0, tokens)]  # (log-probability, tokens), best first

    def finished(seq):  # a new token was eos (a prompt ending in eos does not count)
        return len(seq) > len(tokens) and seq[-1] == eos

    for _ in range(max_new_tokens):
        candidates = []
        for score, seq in beams:
            if finished(seq):  # kept as it is
                candidates.append((score, seq))
                continue
            probs = _probs(next_probs, seq)
            for token in np.flatnonzero(probs > 0):  # a 0 would give log 0 = -inf
                candidates.append((score + math.log(probs[token]), seq + [int(token)]))
        # the best beam_width; ties: the earlier candidate (lower ids, better parents)
        order = sorted(range(len(candidates)), key=lambda i: -candidates[i][0])
        beams = [candidates[i] for i in order[:beam_width]]
        if all(finished(seq) for _, seq in beams):
            break
    score, best = beams[0]
    return best, score


def sample(
    next_probs: NextProbs,
    prompt,
    max_new_tokens: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    eos=None,
) -> list[int]:
    """The prompt and then tokens drawn one at a time from the model's distribution,
    reshaped by the temperature, then cut to the top k and/or the top p."""
    tokens, max_new_tokens, eos = _start(next_probs, prompt, max_new_tokens, eos)
    rng = checks.instance(rng, "rng", np.random.Generator)
    temperature = checks.positive(temperature, "temperature")
    for _ in range(max_new_tokens):
        probs = with_temperature(_probs(next_probs, tokens), temperature)
        if top_k is not None:
            probs = keep_top_k(probs, top_k)
        if top_p is not None:
            probs = keep_top_p(probs, top_p)
        tokens.append(int(rng.choice(len(probs), p=probs)))
        if tokens[-1] == eos:
            break
    return tokens


def with_temperature(probs, temperature: float) -> np.ndarray:
    """p_i^(1/tau) / sum_j p_j^(1/tau): the softmax of log p / tau. tau < 1 sharpens,
    tau > 1 flattens; computed in logs so that small tau does not underflow."""
    probs = _distribution(probs, "probs")
    temperature = checks.positive(temperature, "temperature")
    with np.errstate(divide="ignore"):  # log 0 = -inf: stays impossible
        scaled = np.log(probs) / temperature
    scaled -= scaled.max()
    weights = np.exp(scaled)
    return weights / weights.sum()


def keep_top_k(probs, k: int) -> np.ndarray:
    """The k most probable tokens, renormalised; the rest get 0 (ties: lower ids)."""
    probs = _distribution(probs, "probs")
    k = checks.integer(k, "k", minimum=1)
    kept = np.argsort(-probs, kind="stable")[:k]
    return _renormalised(probs, kept)


def keep_top_p(probs, p: float) -> np.ndarray:
    """The nucleus: the fewest most probable tokens whose probabilities add up to at
    least p, renormalised; the rest get 0."""
    probs = _distribution(probs, "probs")
    p = checks.number(p, "p")
    if not 0 < p <= 1:
        raise ValueError(f"p must be a number in (0, 1], got {p:g}")
    order = np.argsort(-probs, kind="stable")
    covered = np.cumsum(probs[order])
    count = int(np.searchsorted(covered, p - 1e-12)) + 1  # first index reaching p
    return _renormalised(probs, order[: min(count, len(probs))])


# -- helpers ---------------------------------------------------------------------------
def _start(next_probs, prompt, max_new_tokens, eos):
    checks.function(next_probs, "next_probs")
    if isinstance(prompt, (str, bytes)) or not isinstance(prompt, Sequence):
        raise TypeError(
            "prompt must be a list or tuple of token ids, "
            f"got {checks.describe(prompt)}"
        )
    tokens = [
        checks.integer(t, f"prompt[{i}]", minimum=0) for i, t in enumerate(prompt)
    ]
    max_new_tokens = checks.integer(max_new_tokens, "max_new_tokens", minimum=0)
    if eos is not None:
        eos = checks.integer(eos, "eos", minimum=0)
    return tokens, max_new_tokens, eos


def _probs(next_probs, tokens) -> np.ndarray:
    return _distribution(next_probs(tuple(tokens)), "next_probs(tokens)")


def _distribution(probs, name: str) -> np.ndarray:
    probs = checks.array(probs, name, shape=("V",), finite=True, nonempty=True)
    if np.any(probs < 0) or abs(probs.sum() - 1) > 1e-6:
        raise ValueError(
            f"{name} must be probabilities (>= 0, summing to 1), got values in "
            f"[{probs.min():g}, {probs.max():g}] summing to {probs.sum():g}"
        )
    return probs


def _renormalised(probs: np.ndarray, kept: np.ndarray) -> np.ndarray:
    out = np.zeros_like(probs)
    out[kept] = probs[kept]
    return out / out.sum()

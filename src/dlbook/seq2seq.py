"""Recurrent encoder-decoders for the toy translation tasks of dlbook.data, with and
without attention, and how they are trained and scored (chapters 6 and 7).

    RecurrentTranslator(n_tokens, use_attention, hidden=32, width=16)
        a GRU encoder and a GRU decoder; with use_attention the decoder's state s_t
        also reads the encoder's states h_j:
            alpha_tj = softmax_j((W_q s_t + b_q) . (W_k h_j + b_k) / sqrt(hidden))
            c_t = sum_j alpha_tj h_j,   scores_t = R s_t + C c_t + b
    train_translator(model, source_ids, target_ids, steps=300, batch_size=64, lr=0.01)
        Adam with a cosine learning-rate decay, teacher forcing, the gradient clipped to
        norm 1; returns the last batch's cross-entropy per word
    right_by_length(model, source_ids, target_ids, max_length)
        -> (words, sentences): the fraction of words and of whole sentences translated
        right by greedy decoding, for source lengths 1..max_length

Every model takes ids as in dlbook.data.encode_translation_pairs (PAD 0, BOS 1, EOS 2),
and its translate(source, max_words) -> (words, weights) decodes greedily. Both
languages number their words from 3, so n_tokens is the size of the larger vocabulary
with the special tokens: 13 for the digit names, 22 for the numbers into German. Models
are float64, so their training replays closely on other machines.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlbook import checks, data

__all__ = ["RecurrentTranslator", "train_translator", "right_by_length"]

_F64 = {"dtype": torch.float64}


class RecurrentTranslator(nn.Module):
    """Chapter 5's encoder-decoder; with use_attention, chapter 6's attention."""

    def __init__(self, n_tokens: int, use_attention: bool, hidden=32, width=16):
        super().__init__()
        n_tokens = checks.integer(n_tokens, "n_tokens", minimum=4)
        self.source_embed = nn.Embedding(n_tokens, width, **_F64)
        self.target_embed = nn.Embedding(n_tokens, width, **_F64)
        self.encoder = nn.GRU(width, hidden, batch_first=True, **_F64)
        self.decoder = nn.GRU(width, hidden, batch_first=True, **_F64)
        self.readout = nn.Linear(hidden, n_tokens, **_F64)  # R s_t + b
        self.use_attention = bool(use_attention)
        if self.use_attention:  # made last, so the layers above start as without it
            self.query = nn.Linear(hidden, hidden, **_F64)
            self.key = nn.Linear(hidden, hidden, **_F64)
            # C c_t, no bias: the read-out above already has one
            self.context_readout = nn.Linear(hidden, n_tokens, bias=False, **_F64)

    def encode(self, source):
        states, _ = self.encoder(self.source_embed(source))  # (N, S, hidden)
        last = (source != data.PAD).sum(dim=1) - 1  # where each sentence ends
        return states, states[torch.arange(len(source)), last][None]  # (1, N, hidden)

    def read(self, decoder_states, encoder_states, source):
        scores = self.readout(decoder_states)  # (N, T, n_tokens)
        if not self.use_attention:
            return scores, None
        q, k = self.query(decoder_states), self.key(encoder_states)
        match = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])  # (N, T, S)
        padding = (source == data.PAD)[:, None, :]  # (N, 1, S)
        weights = match.masked_fill(padding, -math.inf).softmax(dim=-1)
        context = weights @ encoder_states  # (N, T, hidden): c_t for every step
        return scores + self.context_readout(context), weights

    def forward(self, source, target_in):  # teacher forcing: the true previous words
        encoder_states, state = self.encode(source)
        decoder_states, _ = self.decoder(self.target_embed(target_in), state)
        return self.read(decoder_states, encoder_states, source)[0]

    @torch.no_grad()
    def translate(self, source, max_words):  # greedy, feeding back its own words
        encoder_states, state = self.encode(source)
        word = torch.full((len(source), 1), data.BOS)
        words, weights = [], []
        for _ in range(max_words + 1):
            decoder_state, state = self.decoder(self.target_embed(word), state)
            scores, step_weights = self.read(decoder_state, encoder_states, source)
            word = scores.argmax(dim=-1)  # (N, 1)
            words.append(word)
            weights.append(step_weights)
        if not self.use_attention:
            return torch.cat(words, dim=1), None
        return torch.cat(words, dim=1), torch.cat(weights, dim=1)


def train_translator(
    model: nn.Module,
    source_ids,
    target_ids,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 0.01,
) -> float:
    """Train with teacher forcing on random batches (a fixed order, seed 0)."""
    model = checks.instance(model, "model", nn.Module)
    source_ids = checks.instance(source_ids, "source_ids", torch.Tensor)
    target_ids = checks.instance(target_ids, "target_ids", torch.Tensor)
    if len(source_ids) != len(target_ids):
        raise ValueError(
            "source_ids and target_ids must hold the same number of pairs, got "
            f"{len(source_ids)} and {len(target_ids)}"
        )
    steps = checks.integer(steps, "steps", minimum=1)
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    lr = checks.positive(lr, "lr")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    order = torch.Generator().manual_seed(0)
    for _ in range(steps):
        batch = torch.randint(0, len(source_ids), (batch_size,), generator=order)
        source, target = source_ids[batch], target_ids[batch]
        scores = model(source, target[:, :-1])  # (N, T, n_tokens)
        loss = F.cross_entropy(
            scores.reshape(-1, scores.shape[-1]),
            target[:, 1:].reshape(-1),
            ignore_index=data.PAD,
        )
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        schedule.step()
    return loss.item()


def right_by_length(model, source_ids, target_ids, max_length: int):
    """(words, sentences): fractions right by greedy decoding, one per source length.

    A target word counts as right when the model puts it at its place; a sentence is
    right when every target word is. Targets may be longer than their sources (the
    reordering task adds "und"), so decoding runs to the longest target.
    """
    max_length = checks.integer(max_length, "max_length", minimum=1)
    target_words = target_ids[:, 1:-1]  # without <bos> and the last column
    predicted, _ = model.translate(source_ids, max_words=target_words.shape[1])
    is_word = target_words > data.EOS  # not <pad> and not <eos>
    hits = (predicted[:, : target_words.shape[1]] == target_words) | ~is_word
    lengths = (source_ids != data.PAD).sum(dim=1) - 1
    words, sentences = [], []
    for n_words in range(1, max_length + 1):
        rows = lengths == n_words
        if not rows.any():
            raise ValueError(f"source_ids holds no sentence of length {n_words}")
        right = (hits[rows] & is_word[rows]).double().sum() / is_word[rows].sum()
        words.append(right.double().item())
        sentences.append(hits[rows].all(dim=1).double().mean().item())
    return words, sentences

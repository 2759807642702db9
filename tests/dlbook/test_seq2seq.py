"""dlbook.seq2seq: the recurrent translators, their training loop and their scores."""

from __future__ import annotations

import pytest
import torch

from dlbook import data, seq2seq

N_TOKENS = len(data.SPECIAL_TOKENS) + len(data.SOURCE_WORDS)


@pytest.fixture(scope="module")
def pairs():
    source, target = data.encode_translation_pairs(
        data.number_translation_pairs(64, 1, 5, seed=3)
    )
    return source, target


@pytest.mark.parametrize("use_attention", [False, True])
def test_shapes_and_attention_weights(pairs, use_attention):
    source, target = pairs
    torch.manual_seed(0)
    model = seq2seq.RecurrentTranslator(N_TOKENS, use_attention)
    scores = model(source, target[:, :-1])
    assert scores.shape == (len(source), target.shape[1] - 1, N_TOKENS)
    words, weights = model.translate(source, max_words=5)
    assert words.shape == (len(source), 6)
    if not use_attention:
        assert weights is None
        return
    assert weights.shape == (len(source), 6, source.shape[1])
    torch.testing.assert_close(
        weights.sum(dim=-1), torch.ones(len(source), 6, dtype=torch.float64)
    )
    padding = (source == data.PAD)[:, None, :].expand_as(weights)
    assert weights[padding].abs().max().item() == 0.0


def test_attention_layers_are_made_last(pairs):
    # the same seed gives both models the same starting encoder, decoder and read-out
    torch.manual_seed(0)
    plain = seq2seq.RecurrentTranslator(N_TOKENS, False)
    torch.manual_seed(0)
    attending = seq2seq.RecurrentTranslator(N_TOKENS, True)
    with_attention = dict(attending.named_parameters())
    for name, p in plain.named_parameters():
        torch.testing.assert_close(p, with_attention[name], rtol=0, atol=0)
    extra = set(with_attention) - {n for n, _ in plain.named_parameters()}
    assert extra == {
        "query.weight",
        "query.bias",
        "key.weight",
        "key.bias",
        "context_readout.weight",
    }


def test_padding_does_not_change_a_translation(pairs):
    source, _ = pairs
    torch.manual_seed(1)
    model = seq2seq.RecurrentTranslator(N_TOKENS, True)
    padded = torch.cat([source, torch.zeros(len(source), 4, dtype=source.dtype)], dim=1)
    torch.testing.assert_close(
        model.translate(source, 5)[0], model.translate(padded, 5)[0]
    )


def test_training_lowers_the_loss_and_replays(pairs):
    source, target = pairs

    def trained():
        torch.manual_seed(2)
        model = seq2seq.RecurrentTranslator(N_TOKENS, True)
        return seq2seq.train_translator(model, source, target, steps=30, batch_size=16)

    torch.manual_seed(2)
    untrained = seq2seq.RecurrentTranslator(N_TOKENS, True)
    scores = untrained(source, target[:, :-1])
    start = torch.nn.functional.cross_entropy(
        scores.reshape(-1, N_TOKENS), target[:, 1:].reshape(-1), ignore_index=data.PAD
    ).item()
    first, second = trained(), trained()
    assert first == second
    assert first < 0.8 * start


class _Fixed:
    """A stand-in model whose translations are given."""

    def __init__(self, words):
        self.words = words

    def translate(self, source, max_words):
        return self.words, None


def test_right_by_length_by_hand():
    source = torch.tensor([[3, 2, 0], [4, 5, 2], [6, 7, 2]])  # lengths 1, 2, 2
    target = torch.tensor([[1, 3, 2, 0], [1, 4, 5, 2], [1, 6, 7, 2]])
    guesses = torch.tensor([[3, 9, 9], [4, 9, 9], [6, 7, 2]])  # right, half, right
    words, sentences = seq2seq.right_by_length(_Fixed(guesses), source, target, 2)
    assert words == [1.0, 0.75]
    assert sentences == [1.0, 0.5]


def test_right_by_length_with_targets_longer_than_sources():
    # "twenty one" -> "ein und zwanzig" and "one" -> "eins": 3 and 1 target words
    source = torch.tensor([[12, 3, 2], [3, 2, 0]])
    target = torch.tensor([[1, 20, 21, 12, 2], [1, 3, 2, 0, 0]])
    guesses = torch.tensor([[20, 21, 5, 2], [3, 2, 8, 8]])  # 2 of 3 right; right
    words, sentences = seq2seq.right_by_length(_Fixed(guesses), source, target, 2)
    assert words == [1.0, 2 / 3]  # what follows <eos> does not count
    assert sentences == [1.0, 0.0]


def test_the_reordering_task():
    # "thirty seven" -> "sieben und dreißig": targets longer than their sources
    pairs = data.german_number_pairs(40, 1, 3, seed=6)  # every length 1..6
    source, target = data.encode_translation_pairs(
        pairs, data.NUMBER_SOURCE_WORDS, data.NUMBER_TARGET_WORDS
    )
    max_words = target.shape[1] - 2
    assert max_words > source.shape[1] - 1
    torch.manual_seed(0)
    model = seq2seq.RecurrentTranslator(
        len(data.SPECIAL_TOKENS) + len(data.NUMBER_TARGET_WORDS), True
    )
    words, weights = model.translate(source, max_words)
    assert words.shape == (len(pairs), max_words + 1)
    assert weights.shape == (len(pairs), max_words + 1, source.shape[1])
    # a translator that writes the targets scores 1 at every length, one that writes
    # only <eos> scores 0
    perfect = seq2seq.right_by_length(_Fixed(target[:, 1:]), source, target, 6)
    assert perfect == ([1.0] * 6, [1.0] * 6)
    silent = torch.full_like(target[:, 1:], data.EOS)
    assert seq2seq.right_by_length(_Fixed(silent), source, target, 6) == (
        [0.0] * 6,
        [0.0] * 6,
    )


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda s, t: seq2seq.RecurrentTranslator(2, True), ValueError, "n_tokens"),
        (lambda s, t: seq2seq.train_translator("model", s, t), TypeError, "model must"),
        (
            lambda s, t: seq2seq.train_translator(torch.nn.Linear(1, 1), s, t[:3]),
            ValueError,
            "same number of pairs",
        ),
        (
            lambda s, t: seq2seq.train_translator(torch.nn.Linear(1, 1), s, t, steps=0),
            ValueError,
            "steps",
        ),
        (
            lambda s, t: seq2seq.train_translator(torch.nn.Linear(1, 1), s.tolist(), t),
            TypeError,
            "source_ids must",
        ),
        (
            lambda s, t: seq2seq.right_by_length(_Fixed(s), s, t, 9),
            ValueError,
            "no sentence of length 6",
        ),
    ],
)
def test_bad_input(pairs, call, error, message):
    with pytest.raises(error, match=message):
        call(*pairs)

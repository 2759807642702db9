"""dlbook.transformer against torch: positional encoding, layer norm, feed-forward, and
the encoder and decoder blocks against torch.nn.TransformerEncoderLayer and
TransformerDecoderLayer with copied weights (eval mode, dropout 0, both norm_first
settings, with and without masks) on random shapes; the translator built from torch's
layers against the NumPy blocks, its attention weights, greedy decoding and padding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import data, seq2seq
from dlbook import transformer as tf
from dlbook.attention import causal_mask, multi_head_attention

SEEDS = range(5)


def _randomise(layer: nn.Module, rng: np.random.Generator) -> None:
    """Every parameter random, biases and layer-norm scales included (torch starts
    them at 0 and 1, which would hide a mistake in using them)."""
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.tensor(rng.normal(0, 0.5, size=tuple(p.shape))))


def _params(layer: nn.Module) -> dict:
    return {k: v.detach().numpy() for k, v in layer.state_dict().items()}


def _random_mask(rng, rows, cols):
    mask = rng.random((rows, cols)) < 0.6
    mask[np.arange(rows), rng.integers(0, cols, size=rows)] = True  # one key per row
    return mask


def test_positional_encoding_by_hand():
    table = tf.positional_encoding(3, 4)
    expected = [
        [0, 1, 0, 1],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],  # 10000^(-2/4)
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ]
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("n, d, base", [(60, 32, 10000), (7, 6, 100.0), (1, 2, 10)])
def test_positional_encoding_formula(n, d, base):
    table = tf.positional_encoding(n, d, base)
    assert table.shape == (n, d)
    for i in range(n):
        for j in range(d // 2):
            angle = i / base ** (2 * j / d)
            assert table[i, 2 * j] == pytest.approx(math.sin(angle), abs=1e-12)
            assert table[i, 2 * j + 1] == pytest.approx(math.cos(angle), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_equals_torch(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    E = shape[-1]
    x, w, b = rng.normal(size=shape), rng.normal(size=E), rng.normal(size=E)
    norm = nn.LayerNorm(E, dtype=torch.float64)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(w))
        norm.bias.copy_(torch.tensor(b))
    expected = norm(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(tf.layer_norm(x, w, b), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_feed_forward_equals_torch(seed):
    rng = np.random.default_rng(seed)
    E, F, n = (int(v) for v in rng.integers(1, 8, size=3))
    lin1, lin2 = (
        nn.Linear(E, F, dtype=torch.float64),
        nn.Linear(F, E, dtype=torch.float64),
    )
    x = rng.normal(size=(n, E))
    expected = lin2(torch.relu(lin1(torch.tensor(x)))).detach().numpy()
    got = tf.feed_forward(
        x,
        *(p.detach().numpy() for p in (lin1.weight, lin1.bias, lin2.weight, lin2.bias)),
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _shapes(rng):
    heads = int(rng.integers(1, 4))
    E = heads * int(rng.integers(1, 4))
    return heads, E, int(rng.integers(4, 17)), int(rng.integers(1, 7))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_encoder_layer_equals_torch(seed, masked, norm_first):
    rng = np.random.default_rng(seed)
    heads, E, F, n = _shapes(rng)
    layer = nn.TransformerEncoderLayer(
        E,
        heads,
        F,
        dropout=0.0,
        batch_first=True,
        norm_first=norm_first,
        dtype=torch.float64,
    ).eval()
    _randomise(layer, rng)
    x = rng.normal(size=(n, E))
    mask = _random_mask(rng, n, n) if masked else None
    with torch.no_grad():
        expected = layer(
            torch.tensor(x)[None],
            src_mask=None
            if mask is None
            else torch.tensor(~mask),  # torch: True = blocked
        )[0].numpy()
    got = tf.encoder_layer(x, _params(layer), heads, norm_first=norm_first, mask=mask)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_decoder_layer_equals_torch(seed, masked, norm_first):
    rng = np.random.default_rng(seed)
    heads, E, F, L = _shapes(rng)
    S = int(rng.integers(1, 7))
    layer = nn.TransformerDecoderLayer(
        E,
        heads,
        F,
        dropout=0.0,
        batch_first=True,
        norm_first=norm_first,
        dtype=torch.float64,
    ).eval()
    _randomise(layer, rng)
    x, memory = rng.normal(size=(L, E)), rng.normal(size=(S, E))
    self_mask = causal_mask(L) if masked else None
    memory_mask = _random_mask(rng, L, S) if masked else None
    with torch.no_grad():
        expected = layer(
            torch.tensor(x)[None],
            torch.tensor(memory)[None],
            tgt_mask=None if self_mask is None else torch.tensor(~self_mask),
            memory_mask=None if memory_mask is None else torch.tensor(~memory_mask),
        )[0].numpy()
    got = tf.decoder_layer(
        x,
        memory,
        _params(layer),
        heads,
        norm_first=norm_first,
        self_mask=self_mask,
        memory_mask=memory_mask,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


def test_decoder_with_a_causal_mask_ignores_later_positions():
    rng = np.random.default_rng(9)
    layer = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, dtype=torch.float64)
    _randomise(layer, rng)
    params = _params(layer)
    x, memory = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    changed = x.copy()
    changed[4] += 3.0
    run = [
        tf.decoder_layer(y, memory, params, 2, self_mask=causal_mask(5))
        for y in (x, changed)
    ]
    np.testing.assert_allclose(run[0][:4], run[1][:4], rtol=0, atol=1e-12)
    assert np.abs(run[0][4] - run[1][4]).max() > 1e-3


def _translator(seed, n_tokens=13, **kwargs):
    torch.manual_seed(seed)
    model = tf.TransformerTranslator(n_tokens, **kwargs).eval()
    _randomise(model, np.random.default_rng(seed))  # norms and biases too
    return model


def _padded_pairs(seed, n_tokens=13, count=6):
    """Random ids: sources of 1 to 5 words and targets of 1 to 6, padded."""
    rng = np.random.default_rng(seed)

    def words():
        return [int(w) for w in rng.integers(3, n_tokens, rng.integers(1, 7))]

    pairs = [
        (words()[:5] + [data.EOS], [data.BOS] + words() + [data.EOS])
        for _ in range(count)
    ]
    source = torch.zeros(count, max(len(s) for s, _ in pairs), dtype=torch.long)
    target = torch.zeros(count, max(len(t) for _, t in pairs), dtype=torch.long)
    for i, (s, t) in enumerate(pairs):
        source[i, : len(s)], target[i, : len(t)] = torch.tensor(s), torch.tensor(t)
    return source, target


def _numpy_translator(model, source, target_in):
    """The translator's scores and attention weights, sentence by sentence, from
    dlbook.transformer's NumPy blocks and dlbook.attention with the model's weights."""
    p = {k: v.detach().numpy() for k, v in model.state_dict().items()}

    def block(name):  # "encoder.norm1.weight" -> "norm1.weight"
        return {k.split(".", 1)[1]: v for k, v in p.items() if k.startswith(name + ".")}

    encoder, decoder, heads = block("encoder"), block("decoder"), 4
    P = p["positions"]

    def attend(params, prefix, query, key_value, mask):
        names = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
        weights = [params[f"{prefix}.{n}"] for n in names]
        return multi_head_attention(
            query, key_value, key_value, heads, *weights, mask=mask
        )

    def norm(params, name, x):
        return tf.layer_norm(x, params[f"{name}.weight"], params[f"{name}.bias"])

    scores, self_weights, cross_weights = [], [], []
    for s, t in zip(source.numpy(), target_in.numpy()):
        keys = s != data.PAD  # the source words and <eos>
        x = model.embed_scale * p["source_embed.weight"][s] + P[: len(s)]
        mask = np.broadcast_to(keys, (len(s), len(s)))
        self_weights.append(
            attend(
                encoder,
                "self_attn",
                norm(encoder, "norm1", x),
                norm(encoder, "norm1", x),
                mask,
            )[1]
        )
        states = tf.encoder_layer(x, encoder, heads, norm_first=True, mask=mask)
        memory = norm(p, "encoder_norm", states)
        y = model.embed_scale * p["target_embed.weight"][t] + P[: len(t)]
        memory_mask = np.broadcast_to(keys, (len(t), len(s)))
        h = norm(decoder, "norm1", y)
        after_self = y + attend(decoder, "self_attn", h, h, causal_mask(len(t)))[0]
        cross_weights.append(
            attend(
                decoder,
                "multihead_attn",
                norm(decoder, "norm2", after_self),
                memory,
                memory_mask,
            )[1]
        )
        out = tf.decoder_layer(
            y,
            memory,
            decoder,
            heads,
            norm_first=True,
            self_mask=causal_mask(len(t)),
            memory_mask=memory_mask,
        )
        out = norm(p, "final_norm", out)
        scores.append(out @ p["readout.weight"].T + p["readout.bias"])
    return np.array(scores), np.array(self_weights), np.array(cross_weights)


def test_translator_parameter_count_by_formula():
    n, E, F = 13, 32, 64
    attention, ff, norm = 4 * E * E + 4 * E, 2 * E * F + F + E, 2 * E
    encoder = attention + ff + 2 * norm
    decoder = 2 * attention + ff + 3 * norm
    expected = 2 * n * E + encoder + decoder + 2 * norm + E * n + n
    model = tf.TransformerTranslator(n)
    assert sum(p.numel() for p in model.parameters()) == expected == 22765


@pytest.mark.parametrize("embed_scale", [1.0, math.sqrt(32)])
@pytest.mark.parametrize("seed", SEEDS)
def test_translator_equals_the_numpy_blocks(seed, embed_scale):
    model = _translator(seed, embed_scale=embed_scale)
    source, target = _padded_pairs(seed)
    target_in = target[:, :-1]
    expected, self_expected, cross_expected = _numpy_translator(
        model, source, target_in
    )
    with torch.no_grad():
        scores = model(source, target_in).numpy()
    self_weights, cross_weights = model.attention_weights(source, target_in)
    np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(self_weights.numpy(), self_expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        cross_weights.numpy(), cross_expected, rtol=0, atol=1e-12
    )
    # every row of every head is a distribution over the source words, padding at 0
    padding = (source == data.PAD)[:, None, None, :].expand_as(cross_weights)
    assert cross_weights[padding].abs().max().item() == 0.0
    torch.testing.assert_close(
        cross_weights.sum(dim=-1), torch.ones(cross_weights.shape[:3], **_F64)
    )


_F64 = {"dtype": torch.float64}


def test_translate_is_greedy_and_ignores_padding():
    model = _translator(7)
    source, _ = _padded_pairs(7)
    words, weights = model.translate(source, max_words=6)
    assert weights is None and words.shape == (len(source), 7)
    # each word is the argmax of a teacher-forced pass over the words before it
    target_in = torch.cat([torch.full((len(source), 1), data.BOS), words[:, :-1]], 1)
    with torch.no_grad():
        forced = model(source, target_in).argmax(dim=-1)
    torch.testing.assert_close(words, forced, rtol=0, atol=0)
    padded = torch.cat([source, torch.zeros(len(source), 3, dtype=source.dtype)], 1)
    torch.testing.assert_close(model.translate(padded, 6)[0], words, rtol=0, atol=0)


def test_translator_learns_the_digit_task():
    source, target = data.encode_translation_pairs(
        data.number_translation_pairs(256, 1, 4, seed=3)
    )
    torch.manual_seed(0)
    model = tf.TransformerTranslator(13)
    loss = seq2seq.train_translator(model, source, target, steps=60, batch_size=32)
    words, _ = seq2seq.right_by_length(model.eval(), source, target, 4)
    # from ln 13 = 2.56 per word (a uniform guess) to under a quarter of it
    assert loss < 0.25 * math.log(13), loss
    assert words[0] > 0.95 and words[1] > 0.9, words


def _encoder_params():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dtype=torch.float64)
    return _params(layer)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: tf.positional_encoding(4, 5), ValueError, "d must be even"),
        (lambda: tf.positional_encoding(-1, 4), ValueError, "n must be"),
        (lambda: tf.positional_encoding(4, 4, base=0), ValueError, "base"),
        (
            lambda: tf.layer_norm(np.ones((2, 3)), np.ones(2), np.ones(3)),
            ValueError,
            r"weight must have shape \(3,\)",
        ),
        (
            lambda: tf.layer_norm(np.ones(3), np.ones(3), np.ones(3), eps=0),
            ValueError,
            "eps",
        ),
        (
            lambda: tf.feed_forward(
                np.ones((2, 3)),
                np.ones((5, 4)),
                np.ones(5),
                np.ones((3, 5)),
                np.ones(3),
            ),
            ValueError,
            "w1",
        ),
        (lambda: tf.encoder_layer(np.ones((3, 4)), {}, 2), ValueError, "params lacks"),
        (lambda: tf.encoder_layer(np.ones((3, 4)), [], 2), TypeError, "params must be"),
        (
            lambda: tf.encoder_layer(np.ones(4), _encoder_params(), 2),
            ValueError,
            "x must have shape",
        ),
        (
            lambda: tf.encoder_layer(np.ones((3, 4)), _encoder_params(), 3),
            ValueError,
            "num_heads must divide",
        ),
        (
            lambda: tf.decoder_layer(np.ones((3, 4)), np.ones((2, 5)), {}, 2),
            ValueError,
            "memory must have shape",
        ),
        (
            lambda: tf.TransformerTranslator(3),
            ValueError,
            "n_tokens must be an int >= 4",
        ),
        (lambda: tf.TransformerTranslator(13.0), TypeError, "n_tokens must be an int"),
        (
            lambda: tf.TransformerTranslator(13, d_model=32, heads=3),
            ValueError,
            "heads must divide d_model = 32",
        ),
        (
            lambda: tf.TransformerTranslator(13, embed_scale=0),
            ValueError,
            "embed_scale",
        ),
        (
            lambda: tf.TransformerTranslator(13, max_length=4).translate(
                torch.full((1, 3), 3), max_words=4
            ),
            ValueError,
            "at most max_length = 4 tokens, got 5",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()

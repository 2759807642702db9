"""dlbook.char_rnn: CharGRU's scores equal an embedding, torch.nn.GRU and a linear layer
applied by hand; reading a text in two parts with the state carried equals reading it
at once; the dtype and bad sizes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlbook.char_rnn import CharGRU


def test_scores_are_embedding_gru_and_readout():
    torch.manual_seed(0)
    model = CharGRU(11, width=5, hidden=7, dtype=torch.float64)
    ids = torch.randint(11, (3, 9))
    gru = torch.nn.GRU(5, 7, batch_first=True, dtype=torch.float64)
    gru.load_state_dict(model.gru.state_dict())
    states, _ = gru(F.embedding(ids, model.embed.weight))
    expected = states @ model.readout.weight.T + model.readout.bias
    assert model(ids).shape == (3, 9, 11)
    torch.testing.assert_close(model(ids), expected, rtol=0, atol=1e-12)


def test_carrying_the_state_equals_reading_at_once():
    torch.manual_seed(1)
    model = CharGRU(6, dtype=torch.float64)
    ids = torch.randint(6, (2, 10))
    whole, _ = model.forward_with_state(ids)
    first, state = model.forward_with_state(ids[:, :4])
    second, _ = model.forward_with_state(ids[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, rtol=0, atol=1e-12)


def test_dtype_and_default():
    assert CharGRU(4).readout.weight.dtype == torch.get_default_dtype()
    assert CharGRU(4, dtype=torch.float64).gru.weight_hh_l0.dtype == torch.float64


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_chars": 0}, ValueError, "n_chars must be an int >= 1, got 0"),
        ({"n_chars": 3, "hidden": 2.5}, TypeError, r"hidden must be an int >= 1"),
    ],
)
def test_bad_sizes_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        CharGRU(**kwargs)

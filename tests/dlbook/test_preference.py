"""dlbook.preference: the ranking and DPO losses against their direct formulas (NumPy)
and torch's binary cross-entropy on random inputs in float64, their gradients against
the closed forms and against autograd through the direct formulas, worked examples by
hand, stability at margins of +-1000; response_log_probs against a loop over tokens
with log-softmax written out; and the errors on bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import preference

SEEDS = [0, 1, 2]


def _random(seed, n, count, scale=3.0):
    """``count`` random float64 tensors (n,), requiring gradients."""
    g = torch.Generator().manual_seed(seed)
    return [
        (scale * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_()
        for _ in range(count)
    ]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- the ranking loss --------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 5, 64])
@pytest.mark.parametrize("seed", SEEDS)
def test_ranking_loss_is_the_direct_formula(seed, n):
    chosen, rejected = _random(seed, n, 2)
    loss = preference.ranking_loss(chosen, rejected)
    assert loss.shape == () and loss.dtype == torch.float64
    c, r = chosen.detach().numpy(), rejected.detach().numpy()
    expected = np.mean(-np.log(_sigmoid(c - r)))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    ones = torch.ones(n, dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits(chosen - rejected, ones)
    torch.testing.assert_close(loss, bce, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [1, 5, 64])
@pytest.mark.parametrize("seed", SEEDS)
def test_ranking_loss_gradients_are_the_closed_forms_and_autograds(seed, n):
    chosen, rejected = _random(seed, n, 2)
    preference.ranking_loss(chosen, rejected).backward()
    # closed form: d/dr_c = -(1 - sigmoid(r_c - r_r)) / N, d/dr_r = +(1 - s) / N,
    # with 1 - sigmoid(z) computed as sigmoid(-z) (1 - s cancels digits when s ~ 1)
    one_minus_s = _sigmoid(-(chosen - rejected).detach().numpy())
    np.testing.assert_allclose(chosen.grad.numpy(), -one_minus_s / n, rtol=1e-12)
    np.testing.assert_allclose(rejected.grad.numpy(), one_minus_s / n, rtol=1e-12)
    # autograd through the direct formula, written with torch.log and torch.sigmoid
    c2, r2 = (x.detach().clone().requires_grad_() for x in (chosen, rejected))
    (-torch.log(torch.sigmoid(c2 - r2))).mean().backward()
    torch.testing.assert_close(chosen.grad, c2.grad, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(rejected.grad, r2.grad, rtol=1e-12, atol=1e-15)


def test_ranking_loss_by_hand():
    def loss(chosen, rejected):
        return preference.ranking_loss(
            torch.tensor(chosen, dtype=torch.float64),
            torch.tensor(rejected, dtype=torch.float64),
        ).item()

    assert loss([0.0], [0.0]) == pytest.approx(math.log(2))  # a coin flip
    # r_c - r_r = log 3: P(chosen) = 3 / 4, the loss is log(4 / 3)
    assert loss([math.log(3) + 1], [1.0]) == pytest.approx(math.log(4 / 3))
    # the same pair the wrong way round: P = 1 / 4, loss log 4; the mean of the two
    assert loss([0.0, math.log(3)], [math.log(3), 0.0]) == pytest.approx(
        (math.log(4) + math.log(4 / 3)) / 2
    )


# -- the DPO loss ------------------------------------------------------------------
def _dpo_direct(pc, pr, rc, rr, beta):
    """The DPO loss, written directly (NumPy)."""
    return np.mean(-np.log(_sigmoid(beta * ((pc - rc) - (pr - rr)))))


@pytest.mark.parametrize("beta", [0.1, 1.0, 2.5])
@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("seed", SEEDS)
def test_dpo_loss_is_the_direct_formula(seed, n, beta):
    tensors = _random(seed, n, 4)
    loss = preference.dpo_loss(*tensors, beta)
    assert loss.shape == () and loss.dtype == torch.float64
    arrays = [t.detach().numpy() for t in tensors]
    assert loss.item() == pytest.approx(_dpo_direct(*arrays, beta), rel=1e-12)
    pc, pr, rc, rr = tensors
    z = beta * ((pc - rc) - (pr - rr))
    bce = F.binary_cross_entropy_with_logits(z, torch.ones(n, dtype=torch.float64))
    torch.testing.assert_close(loss, bce, rtol=1e-12, atol=0)


@pytest.mark.parametrize("beta", [0.1, 1.0, 2.5])
@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("seed", SEEDS)
def test_dpo_loss_gradients_are_the_closed_forms_and_autograds(seed, n, beta):
    tensors = _random(seed, n, 4)
    preference.dpo_loss(*tensors, beta).backward()
    pc, pr, rc, rr = (t.detach().numpy() for t in tensors)
    # z = beta ((pc - rc) - (pr - rr)); dL/dz = -(1 - sigmoid(z)) / N per pair,
    # with 1 - sigmoid(z) = sigmoid(-z)
    dz = -_sigmoid(-beta * ((pc - rc) - (pr - rr))) / n
    closed = [beta * dz, -beta * dz, -beta * dz, beta * dz]  # d z / d(pc, pr, rc, rr)
    for t, expected in zip(tensors, closed):
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12)
    copies = [t.detach().clone().requires_grad_() for t in tensors]
    c_pc, c_pr, c_rc, c_rr = copies
    z = beta * ((c_pc - c_rc) - (c_pr - c_rr))
    (-torch.log(torch.sigmoid(z))).mean().backward()
    for t, copy in zip(tensors, copies):
        torch.testing.assert_close(t.grad, copy.grad, rtol=1e-12, atol=1e-15)


def test_dpo_loss_by_hand():
    def loss(pc, pr, rc, rr, beta):
        values = [torch.tensor([v], dtype=torch.float64) for v in (pc, pr, rc, rr)]
        return preference.dpo_loss(*values, beta).item()

    # the policy is still the reference: log 2, whatever beta and the log-probs
    for beta in (0.1, 1.0, 10.0):
        assert loss(-3.0, -5.0, -3.0, -5.0, beta) == pytest.approx(math.log(2))
    # the chosen response gained log 3 / beta over the reference, the rejected none
    beta = 0.5
    gain = math.log(3) / beta
    assert loss(-4.0 + gain, -2.0, -4.0, -2.0, beta) == pytest.approx(math.log(4 / 3))
    # the rejected response gaining as much is the same as the chosen one losing it
    assert loss(-4.0, -2.0 + gain, -4.0, -2.0, beta) == pytest.approx(math.log(4))
    assert loss(-4.0 - gain, -2.0, -4.0, -2.0, beta) == pytest.approx(math.log(4))


def test_dpo_loss_lets_the_reference_pass_no_gradient_when_detached():
    pc, pr, rc, rr = _random(3, 4, 4)
    preference.dpo_loss(pc, pr, rc.detach(), rr.detach(), 1.0).backward()
    assert rc.grad is None and rr.grad is None
    assert torch.all(pc.grad < 0) and torch.all(pr.grad > 0)  # raise y_w, lower y_l


# -- numerical stability -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_losses_are_finite_at_margins_of_1000(dtype):
    big = torch.tensor([1000.0, -1000.0], dtype=dtype, requires_grad=True)
    zero = torch.zeros(2, dtype=dtype, requires_grad=True)
    loss = preference.ranking_loss(big, zero)
    loss.backward()
    # pair 1: -log sigmoid(1000) = 0 to rounding; pair 2: -log sigmoid(-1000) = 1000
    assert loss.item() == pytest.approx(500.0, rel=1e-6)
    assert big.grad.tolist() == pytest.approx([0.0, -0.5], abs=1e-7)
    assert torch.isfinite(zero.grad).all()
    with torch.no_grad():  # the direct formula overflows where the loss does not
        assert torch.isinf(-torch.log(torch.sigmoid(big))).any()

    pc = torch.tensor([-1.0, -2001.0], dtype=dtype, requires_grad=True)
    others = [torch.tensor([-1.0, -1.0], dtype=dtype) for _ in range(3)]
    loss = preference.dpo_loss(pc, *others, beta=1.0)  # z = 0 and -2000
    loss.backward()
    assert loss.item() == pytest.approx((math.log(2) + 2000) / 2, rel=1e-6)
    assert pc.grad.tolist() == pytest.approx([-0.25, -0.5], abs=1e-7)


# -- response log-probabilities ------------------------------------------------------
def _response_log_probs_by_loop(scores, ids, mask):
    """out[n] = sum over the response's positions t of
    log softmax(scores[n, t - 1])[ids[n, t]], where log softmax(s)[i] is written out as
    s[i] - log sum_j exp(s[j])."""
    n_seq, length, _ = scores.shape
    out = []
    for n in range(n_seq):
        total = 0.0
        for t in range(1, length):
            if mask[n, t]:
                row = scores[n, t - 1].tolist()  # the scores that predict token t
                top = max(row)
                log_norm = top + math.log(sum(math.exp(s - top) for s in row))
                total += row[ids[n, t]] - log_norm
        out.append(total)
    return out


def _sequences(seed, n, length, vocab):
    g = torch.Generator().manual_seed(seed)
    scores = 2 * torch.randn(n, length, vocab, generator=g, dtype=torch.float64)
    ids = torch.randint(0, vocab, (n, length), generator=g)
    mask = torch.rand(n, length, generator=g) < 0.6
    mask[:, 0] = False
    mask[0, 1:] = True  # one row all response after the first token
    return scores.requires_grad_(), ids, mask


@pytest.mark.parametrize(("n", "length", "vocab"), [(1, 2, 3), (3, 6, 5), (4, 9, 11)])
@pytest.mark.parametrize("seed", SEEDS)
def test_response_log_probs_is_a_loop_over_tokens(seed, n, length, vocab):
    scores, ids, mask = _sequences(seed, n, length, vocab)
    result = preference.response_log_probs(scores, ids, mask)
    assert result.shape == (n,) and result.dtype == torch.float64
    expected = _response_log_probs_by_loop(scores.detach(), ids, mask)
    np.testing.assert_allclose(result.detach().numpy(), expected, rtol=1e-12)
    result.sum().backward()  # differentiable: the unused last scores get no gradient
    assert scores.grad[:, -1].abs().max() == 0 and scores.grad.abs().max() > 0


def test_response_log_probs_by_hand():
    # three tokens of a vocabulary of 4; the response is tokens 1 and 2
    ids = torch.tensor([[0, 2, 1]])
    mask = torch.tensor([[False, True, True]])
    scores = torch.zeros(1, 3, 4, dtype=torch.float64)  # uniform: each token 1/4
    scores[0, 0, 2] = math.log(3)  # position 0 favours token 2: p = 3 / 6 = 1 / 2
    scores[0, 2] = torch.tensor([9.0, -9.0, 5.0, 1.0])  # past the end: unused
    result = preference.response_log_probs(scores, ids, mask)
    assert result.item() == pytest.approx(math.log(1 / 2) + math.log(1 / 4))
    only_last = torch.tensor([[False, False, True]])
    result = preference.response_log_probs(scores, ids, only_last)
    assert result.item() == pytest.approx(math.log(1 / 4))


# -- bad input -----------------------------------------------------------------------
def test_bad_loss_arguments_are_named():
    good = torch.zeros(3)
    with pytest.raises(TypeError, match="reward_chosen must be a Tensor, got"):
        preference.ranking_loss([0.0, 1.0, 2.0], good)
    with pytest.raises(TypeError, match="reward_rejected must be a floating-point t"):
        preference.ranking_loss(good, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"reward_chosen must have shape \(N,\), N >="):
        preference.ranking_loss(torch.zeros(3, 1), good)
    with pytest.raises(ValueError, match=r"shape \(N,\), N >= 1, one number per pair"):
        preference.ranking_loss(torch.zeros(0), torch.zeros(0))
    with pytest.raises(
        ValueError,
        match=r"reward_rejected must have the shape of reward_chosen, \(3,\), got \(4,",
    ):
        preference.ranking_loss(good, torch.zeros(4))
    with pytest.raises(
        ValueError,
        match=r"reference_rejected must have the shape of policy_chosen, \(3,\), got",
    ):
        preference.dpo_loss(good, good, good, torch.zeros(2), 1.0)
    with pytest.raises(TypeError, match="reference_chosen must be a Tensor, got 0.0"):
        preference.dpo_loss(good, good, 0.0, good, 1.0)
    for beta in (0, -0.5, float("nan")):
        with pytest.raises(ValueError, match="beta must be a"):
            preference.dpo_loss(good, good, good, good, beta)
    with pytest.raises(TypeError, match="beta must be a positive number, got '1'"):
        preference.dpo_loss(good, good, good, good, "1")


def test_bad_sequence_arguments_are_named():
    scores, ids, mask = _sequences(0, 2, 5, 7)
    call = preference.response_log_probs
    with pytest.raises(TypeError, match="scores must be a Tensor, got an array"):
        call(scores.detach().numpy(), ids, mask)
    with pytest.raises(TypeError, match="scores must be a floating-point tensor"):
        call(ids[..., None], ids, mask)
    with pytest.raises(ValueError, match=r"scores must have shape \(N, T, V\), got"):
        call(scores[0], ids, mask)
    with pytest.raises(TypeError, match=r"ids must hold token ids \(torch.long\)"):
        call(scores, ids.int(), mask)
    with pytest.raises(ValueError, match=r"ids must have shape \(N, T\) = \(2, 5\)"):
        call(scores, ids[:, :4], mask)
    with pytest.raises(ValueError, match=r"ids must lie in 0 .. V - 1 = 6"):
        call(scores, ids + 7, mask)
    with pytest.raises(TypeError, match="response_mask must be a boolean tensor"):
        call(scores, ids, mask.long())
    with pytest.raises(ValueError, match=r"response_mask must have the shape of ids"):
        call(scores, ids, mask[:1])
    mask[1, 0] = True
    with pytest.raises(ValueError, match="response_mask must be False at position 0"):
        call(scores, ids, mask)

"""Learning from preferences: the losses of RLHF's reward model and of DPO (chapter 10).

    ranking_loss(reward_chosen, reward_rejected)
        -> mean over pairs of -log sigmoid(r_c - r_r)
    dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta)
        -> mean over pairs of -log sigmoid(beta ((pc - rc) - (pr - rr)))
    response_log_probs(scores, ids, response_mask)
        -> (N,) the log-probability of each sequence's response, summed over its tokens

A preference pair is one prompt with two responses: the chosen one (preferred) and the
rejected one. The losses take one number per pair, as tensors of shape (N,).

The reward model (RLHF, Ouyang et al. 2022, ouyang2022training) gives each response a
score r and models the labeller as Bradley and Terry do: P(chosen preferred) =
sigmoid(r_c - r_r). The ranking loss is the negative log-likelihood of the labels,
-log sigmoid(r_c - r_r), averaged over the N pairs. With s = sigmoid(r_c - r_r):

    dL/dr_c = -(1 - s) / N,     dL/dr_r = (1 - s) / N

so a pair already ranked right by a wide margin (s near 1) teaches almost nothing.

DPO (Rafailov et al. 2023, "Direct Preference Optimization") needs no reward model: the
policy's own log-probability of a response, measured against a frozen reference
model, plays the reward, beta (log pi(y) - log pi_ref(y)), in the same loss. Each
argument is a summed log-probability (response_log_probs). With
z = beta ((pc - rc) - (pr - rr)) and s = sigmoid(z):

    dL/dpc = -beta (1 - s) / N,     dL/dpr = beta (1 - s) / N

(the reference's log-probabilities are constants). The gradient raises the chosen
response's probability and lowers the rejected one's, most for pairs the policy gets
wrong. At the start the policy is the reference: z = 0 and the loss is log 2. beta is
the weight of the KL penalty in the RLHF objective that DPO solves: with a small beta
the log-probabilities must move further for the same z, so the trained policy drifts
further from the reference.

Both losses are torch.nn.functional.binary_cross_entropy_with_logits(z, 1), with
z = r_c - r_r or the DPO margin above. They use F.logsigmoid, which computes
-log sigmoid(z) = log(1 + exp(-z)) without overflow: written directly, sigmoid(-1000)
rounds to 0 and the loss to inf.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dlbook import checks

__all__ = ["ranking_loss", "dpo_loss", "response_log_probs"]


def ranking_loss(reward_chosen, reward_rejected) -> torch.Tensor:
    """The reward model's loss: mean of -log sigmoid(r_c - r_r) over the N pairs.

    reward_chosen, reward_rejected: (N,) the rewards of each pair's chosen and
    rejected responses. Returns a 0-d tensor (differentiable)."""
    _per_pair(reward_chosen=reward_chosen, reward_rejected=reward_rejected)
    margin = reward_chosen - reward_rejected  # (N,)
    return -F.logsigmoid(margin).mean()


def dpo_loss(
    policy_chosen,
    policy_rejected,
    reference_chosen,
    reference_rejected,
    beta: float,
) -> torch.Tensor:
    """The DPO loss: mean over the N pairs of

        -log sigmoid(beta ((pc - rc) - (pr - rr)))

    policy_chosen, policy_rejected:       (N,) log pi(y), summed over the response's
                                          tokens, under the policy being trained;
    reference_chosen, reference_rejected: (N,) the same under the frozen reference;
    beta: > 0, the strength of the pull back to the reference.
    Returns a 0-d tensor (differentiable)."""
    _per_pair(
        policy_chosen=policy_chosen,
        policy_rejected=policy_rejected,
        reference_chosen=reference_chosen,
        reference_rejected=reference_rejected,
    )
    beta = checks.positive(beta, "beta")
    chosen_gain = policy_chosen - reference_chosen  # log pi(y_w) / pi_ref(y_w): (N,)
    rejected_gain = policy_rejected - reference_rejected  # the same for y_l: (N,)
    return -F.logsigmoid(beta * (chosen_gain - rejected_gain)).mean()


def response_log_probs(scores, ids, response_mask) -> torch.Tensor:
    """The log-probability a language model gives each sequence's response, summed
    over the response's tokens:

        out[n] = sum over t with response_mask[n, t] of
                 log softmax(scores[n, t - 1])[ids[n, t]]

    ids:           (N, T) token ids (torch.long): a prompt, then its response (then
                   padding, if any);
    scores:        (N, T, V) the model's scores on those ids, model(ids): scores[n, t]
                   are for the token that follows position t, ids[n, t + 1]; the
                   scores at the last position predict past the end and are unused;
    response_mask: (N, T) booleans, True at the response's tokens. Position 0 must be
                   False: no score predicts the first token.
    Returns (N,), differentiable with respect to scores. It equals
    -F.cross_entropy(scores[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")
    summed over the positions where response_mask[:, 1:] is True.
    """
    _check_sequences(scores, ids, response_mask)
    log_probs = F.log_softmax(scores[:, :-1], dim=-1)  # (N, T - 1, V)
    next_ids = ids[:, 1:]  # (N, T - 1): the token that position t predicts
    picked = log_probs.gather(2, next_ids.unsqueeze(2)).squeeze(2)  # (N, T - 1)
    in_response = response_mask[:, 1:]  # (N, T - 1)
    return picked.masked_fill(~in_response, 0.0).sum(dim=1)  # (N,)


def _per_pair(**named) -> None:
    """Tensors of one shape (N,), N >= 1, of floating point: one number per pair."""
    first_name, first_shape = None, None
    for name, value in named.items():
        checks.instance(value, name, torch.Tensor)
        if not value.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point tensor, got {checks.describe(value)}"
            )
        shape = tuple(value.shape)
        if len(shape) != 1 or shape[0] == 0:
            raise ValueError(
                f"{name} must have shape (N,), N >= 1, one number per pair, got {shape}"
            )
        if first_name is None:
            first_name, first_shape = name, shape
        elif shape != first_shape:
            raise ValueError(
                f"{name} must have the shape of {first_name}, {first_shape}, "
                f"got {shape}"
            )


def _check_sequences(scores, ids, response_mask) -> None:
    """response_log_probs' arguments; each error names the argument and what it got."""
    checks.instance(scores, "scores", torch.Tensor)
    if not scores.is_floating_point():
        raise TypeError(
            f"scores must be a floating-point tensor, got {checks.describe(scores)}"
        )
    checks.has_shape(scores, "scores", ("N", "T", "V"))
    n, t, vocab_size = scores.shape
    checks.instance(ids, "ids", torch.Tensor)
    if ids.dtype != torch.long:
        raise TypeError(f"ids must hold token ids (torch.long), got {ids.dtype}")
    if ids.shape != (n, t):
        raise ValueError(
            f"ids must have shape (N, T) = {(n, t)}, as scores (N, T, V) has, got "
            f"{tuple(ids.shape)}"
        )
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(
            f"ids must lie in 0 .. V - 1 = {vocab_size - 1} (V from scores), got "
            f"values in {ids.min().item()} .. {ids.max().item()}"
        )
    checks.instance(response_mask, "response_mask", torch.Tensor)
    if response_mask.dtype != torch.bool:
        raise TypeError(
            "response_mask must be a boolean tensor (True at the response's tokens), "
            f"got {checks.describe(response_mask)}"
        )
    if response_mask.shape != (n, t):
        raise ValueError(
            f"response_mask must have the shape of ids, {(n, t)}, got "
            f"{tuple(response_mask.shape)}"
        )
    if response_mask[:, :1].any():
        raise ValueError(
            "response_mask must be False at position 0 (no score predicts the first "
            f"token), got True in row {int(response_mask[:, 0].nonzero()[0, 0])}"
        )

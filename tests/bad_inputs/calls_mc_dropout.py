"""Valid calls of course_lib.mc_dropout.

The networks are ``Linear(3, 4) → BatchNorm1d(4) → Tanh → Dropout(0.5) → Linear(4, C)`` in float32,
built in training mode with running statistics of their own: every check then sees whether batch
norm was left in eval mode (its running statistics used, never updated) and whether every module's
mode came back. With p = 0.5 a pass's output is ``W2 (2 m ⊙ h) + b2`` for one of the 2**4 keep masks
``m`` of the hidden layer ``h``; the checks enumerate the 16 candidates in extended precision and
find every returned row among them. Calls that draw masks pass ``seed=0``, so an equivalent
argument (``np.int64(5)`` for ``5``) must give the very same samples.

The probability samples are dyadic fractions (exact in float16, bfloat16 and float32); the checks
compute each score again from the definitions with Python loops.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import nn

from course_lib import mc_dropout

from .runner import Case

LD = np.longdouble
P = 0.5
HIDDEN = 4


def _network(outputs: int = 2, seed: int = 0) -> nn.Sequential:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(3, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.Tanh(), nn.Dropout(P), nn.Linear(HIDDEN, outputs))
        batch_norm = net[1]
        batch_norm.running_mean.copy_(torch.randn(HIDDEN) * 0.3)
        batch_norm.running_var.copy_(torch.rand(HIDDEN) + 0.5)
        batch_norm.weight.data.copy_(torch.rand(HIDDEN) + 0.5)
        batch_norm.bias.data.copy_(torch.randn(HIDDEN) * 0.1)
    return net.train()


def _x() -> torch.Tensor:
    return torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-2.0, 1.0, 0.75]], dtype=torch.float32)


def _array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().double().numpy()
    return np.asarray(value, dtype=np.float64)


def _parameters(net: nn.Sequential) -> dict[str, np.ndarray]:
    first, batch_norm, last = net[0], net[1], net[4]
    return dict(
        W1=_array(first.weight).astype(LD), b1=_array(first.bias).astype(LD),
        mean=_array(batch_norm.running_mean).astype(LD), var=_array(batch_norm.running_var).astype(LD),
        gamma=_array(batch_norm.weight).astype(LD), beta=_array(batch_norm.bias).astype(LD), eps=LD(batch_norm.eps),
        W2=_array(last.weight).astype(LD), b2=_array(last.bias).astype(LD),
    )


def _hidden(net: nn.Sequential, x) -> np.ndarray:
    """The hidden layer with batch norm in eval mode (running statistics), for inputs of shape (..., 3)."""
    w = _parameters(net)
    z = _array(x).astype(LD) @ w["W1"].T + w["b1"]
    return np.tanh((z - w["mean"]) / np.sqrt(w["var"] + w["eps"]) * w["gamma"] + w["beta"])


def _candidates(net: nn.Sequential, x) -> np.ndarray:
    """Shape (16, ..., C): the output of every keep mask of the hidden layer, for each input."""
    w, hidden = _parameters(net), _hidden(net, x)
    masks = np.array(list(itertools.product([0, 1], repeat=HIDDEN)), dtype=LD)
    masks = masks.reshape((len(masks),) + (1,) * (hidden.ndim - 1) + (HIDDEN,))
    return (masks * hidden / (1 - LD(P))) @ w["W2"].T + w["b2"]


def _eval_outputs(net: nn.Sequential, x) -> np.ndarray:
    w = _parameters(net)
    return _hidden(net, x) @ w["W2"].T + w["b2"]


def _check_untouched(net: nn.Sequential) -> None:
    """Every module back in training mode (as built) and batch norm's running statistics never updated."""
    reference = _network(outputs=net[4].out_features)
    assert all(module.training for module in net.modules()), [type(m).__name__ for m in net.modules() if not m.training]
    for name, value in reference[1].state_dict().items():
        assert torch.equal(net[1].state_dict()[name], value), f"batch norm's {name} changed"


def _inputs(kwargs) -> torch.Tensor:
    x = kwargs["x"]
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)


# --- mc_samples and the context manager ----------------------------------------------------------


def _mc_valid(batched: bool = True, outputs: int = 2) -> dict:
    return dict(model=_network(outputs), x=_x(), n_samples=5, batched=batched, max_batch=4, seed=0, dropout_types=mc_dropout.DROPOUT_TYPES)


def _verify_samples(samples, kwargs) -> None:
    net, x, n = kwargs["model"], _inputs(kwargs), int(kwargs["n_samples"])
    candidates = _candidates(net, x)
    assert isinstance(samples, torch.Tensor) and samples.dtype == torch.float32
    assert samples.shape == (n, *x.shape[:-1], net[4].out_features), samples.shape
    assert not samples.requires_grad and samples.grad_fn is None
    for sample in _array(samples).astype(LD):
        # every pass of every input is one of the 16 sub-networks' outputs
        close = np.isclose(candidates, sample, rtol=1e-5, atol=1e-6).all(axis=-1)
        assert close.any(axis=0).all(), sample
    _check_untouched(net)


def _modes_in_mc_dropout_mode(model, dropout_types=mc_dropout.DROPOUT_TYPES):
    """The training flags of every module inside the ``with`` block, and after it."""
    with mc_dropout.mc_dropout_mode(model, dropout_types) as entered:
        assert entered is model
        inside = [module.training for module in model.modules()]
    return inside, [module.training for module in model.modules()]


def _types(kwargs) -> tuple:
    types = kwargs.get("dropout_types", mc_dropout.DROPOUT_TYPES)
    return (types,) if isinstance(types, type) else tuple(types)


def _verify_modes(result, kwargs) -> None:
    inside, after = result
    modules = list(kwargs["model"].modules())
    assert inside == [isinstance(module, _types(kwargs)) for module in modules], inside
    assert after == [True] * len(modules), after


def _verify_dropout_modules(found, kwargs) -> None:
    model = kwargs["model"]
    assert isinstance(found, list)
    expected = [module for module in model.modules() if isinstance(module, _types(kwargs))]
    assert len(found) == len(expected) and all(a is b for a, b in zip(found, expected)), found


# --- mc_predict, mc_probabilities ----------------------------------------------------------------


def _same_samples(kwargs) -> np.ndarray | None:
    """The samples the call drew (drawn again with the same seed), or None for an unseeded call."""
    if kwargs.get("seed") is None:
        return None
    net = _network(outputs=kwargs["model"][4].out_features)
    samples = mc_dropout.mc_samples(
        net, _inputs(kwargs), int(kwargs["n_samples"]), kwargs.get("batched", True),
        max_batch=int(kwargs.get("max_batch", mc_dropout.DEFAULT_MAX_BATCH)), seed=int(kwargs["seed"]),
    )
    return _array(samples).astype(LD)


def _verify_predict(result, kwargs) -> None:
    mean, std = result
    net, x, tau = kwargs["model"], _inputs(kwargs), kwargs.get("tau")
    noise = LD(0) if tau is None else 1 / LD(float(tau))
    shape = (*x.shape[:-1], net[4].out_features)
    assert isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor)
    assert mean.shape == shape and std.shape == shape and not mean.requires_grad and not std.requires_grad
    mean, variance = _array(mean).astype(LD), _array(std).astype(LD) ** 2
    samples = _same_samples(kwargs)
    if samples is None:  # unseeded: the moments of some passes among the 16 candidates
        candidates = _candidates(net, x)
        low, high = candidates.min(axis=0), candidates.max(axis=0)
        assert np.all(mean >= low - 1e-5) and np.all(mean <= high + 1e-5), mean
        assert np.all(variance - noise <= ((high - low) / 2) ** 2 * (1 + 1e-5) + 1e-10), variance
        assert np.all(variance >= noise * (1 - 1e-6)), variance
    else:
        np.testing.assert_allclose(mean, samples.mean(axis=0), rtol=1e-5, atol=1e-6)
        population = ((samples - samples.mean(axis=0)) ** 2).mean(axis=0)  # divided by T, not T - 1
        np.testing.assert_allclose(variance, population + noise, rtol=1e-4, atol=1e-6)
    _check_untouched(net)


def _verify_eval_predict(result, kwargs) -> None:
    mean, std = result
    model, x, tau = kwargs["model"], _inputs(kwargs), kwargs.get("tau")
    assert all(module.training for module in model.modules())  # built in training mode, and back in it
    if isinstance(model, nn.Sequential) and len(model) == 5:
        expected = _eval_outputs(model, x)  # dropout off, batch norm's running statistics
        _check_untouched(model)
    else:  # a network without dropout that the catalogue passes (a ReLU, an empty Sequential): its own eval pass
        with torch.no_grad():
            expected = _array(model.eval()(x)).astype(LD)
    assert isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor)
    assert mean.shape == std.shape == expected.shape and not mean.requires_grad and not std.requires_grad
    np.testing.assert_allclose(_array(mean).astype(LD), expected, rtol=1e-5, atol=1e-6)
    floor = LD(0) if tau is None else 1 / np.sqrt(LD(float(tau)))  # only the τ⁻¹ floor: one pass has no spread
    np.testing.assert_allclose(_array(std).astype(LD), np.full(expected.shape, floor), rtol=1e-6, atol=1e-12)


def _verify_probabilities(probs, kwargs) -> None:
    net, x, n = kwargs["model"], _inputs(kwargs), int(kwargs["n_samples"])
    classes = net[4].out_features
    assert isinstance(probs, torch.Tensor) and probs.dtype == torch.float64
    assert probs.shape == (n, *x.shape[:-1], classes) and not probs.requires_grad
    probs = _array(probs).astype(LD)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-12)
    samples = _same_samples(kwargs)
    if samples is None:
        candidates = _softmax(_candidates(net, x))
        for row in probs:
            assert np.isclose(candidates, row, rtol=1e-5, atol=1e-7).all(axis=-1).any(axis=0).all(), row
    else:
        np.testing.assert_allclose(probs, _softmax(samples), rtol=1e-9, atol=1e-12)
    _check_untouched(net)


# --- ensemble_probabilities ----------------------------------------------------------------------


def _ensemble_valid() -> dict:
    return dict(models=[_network(3, seed=1), _network(3, seed=2)], x=_x())


def _verify_ensemble(probs, kwargs) -> None:
    models, x = list(kwargs["models"]), _inputs(kwargs)
    assert isinstance(probs, torch.Tensor) and probs.dtype == torch.float64
    assert probs.shape == (len(models), *x.shape[:-1], 3) and not probs.requires_grad
    for member, member_probs in zip(models, _array(probs).astype(LD)):
        # each member once, in eval mode: no dropout, batch norm's running statistics
        np.testing.assert_allclose(member_probs, _softmax(_eval_outputs(member, x)), rtol=1e-5, atol=1e-7)
        assert all(module.training for module in member.modules())


# --- uncertainty scores --------------------------------------------------------------------------

_PROB_SAMPLES = np.array(
    [
        [[0.75, 0.125, 0.125], [0.5, 0.25, 0.25], [1.0, 0.0, 0.0], [0.25, 0.5, 0.25]],
        [[0.625, 0.25, 0.125], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.25, 0.5, 0.25]],
    ]
)


def _entropy_by_hand(row: list[float]) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


def _sample_rows(kwargs) -> list[list[list[float]]]:
    return _array(kwargs["prob_samples"]).tolist()


def _check_scores(value, n: int) -> None:
    assert isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape == (n,), value


def _mean_rows(samples) -> list[list[float]]:
    t = len(samples)
    return [[sum(samples[s][i][c] for s in range(t)) / t for c in range(len(samples[0][i]))] for i in range(len(samples[0]))]


def _verify_predictive_entropy(value, kwargs) -> None:
    samples = _sample_rows(kwargs)
    _check_scores(value, len(samples[0]))
    expected = [_entropy_by_hand(row) for row in _mean_rows(samples)]
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-15)


def _expected_entropy_by_hand(samples) -> list[float]:
    return [sum(_entropy_by_hand(sample[i]) for sample in samples) / len(samples) for i in range(len(samples[0]))]


def _verify_expected_entropy(value, kwargs) -> None:
    samples = _sample_rows(kwargs)
    _check_scores(value, len(samples[0]))
    np.testing.assert_allclose(value, _expected_entropy_by_hand(samples), rtol=1e-12, atol=1e-15)


def _verify_mutual_information(value, kwargs) -> None:
    samples = _sample_rows(kwargs)
    _check_scores(value, len(samples[0]))
    total = [_entropy_by_hand(row) for row in _mean_rows(samples)]
    expected = [max(h - e, 0.0) for h, e in zip(total, _expected_entropy_by_hand(samples))]
    assert np.all(value >= 0.0)
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-14)
    for i, information in enumerate(value):
        if all(sample[i] == samples[0][i] for sample in samples):
            assert information == 0.0, (i, information)  # identical passes: exactly no disagreement


# --- referral_curve ------------------------------------------------------------------------------

_PROBS = np.array([[0.75, 0.25], [0.375, 0.625], [0.5, 0.5], [0.125, 0.875], [0.875, 0.125]])


def _referral_valid() -> dict:
    return dict(
        probs=_PROBS.copy(), labels=torch.tensor([0, 0, 0, 1, 1]), uncertainty=np.array([0.25, 0.75, 0.5, 0.125, 0.5]),
        referral_fractions=np.array([0.0, 0.25, 0.5, 0.75]),
    )


def _verify_referral(curve, kwargs) -> None:
    rows = _array(kwargs["probs"]).tolist()
    labels = [int(y) for y in (kwargs["labels"].tolist() if hasattr(kwargs["labels"], "tolist") else kwargs["labels"])]
    scores = _array(kwargs["uncertainty"]).tolist()
    fractions = _array(kwargs["referral_fractions"]).reshape(-1).tolist()
    correct = [max(range(len(r)), key=lambda c: (r[c], -c)) == y for r, y in zip(rows, labels)]
    # most certain first; equal scores keep the input order, so the later input is referred first
    order = sorted(range(len(rows)), key=lambda i: (scores[i], i))
    assert isinstance(curve, np.ndarray) and curve.dtype == np.float64 and curve.shape == (len(fractions),)
    for value, fraction in zip(curve, fractions):
        kept = order[: len(rows) - math.floor(fraction * len(rows))]
        assert value == sum(correct[i] for i in kept) / len(kept), (fraction, value)


CASES = [
    Case("mc_dropout.dropout_modules", mc_dropout.dropout_modules,
         lambda: dict(model=_network(), dropout_types=mc_dropout.DROPOUT_TYPES), _verify_dropout_modules),
    Case("mc_dropout.mc_dropout_mode", _modes_in_mc_dropout_mode,
         lambda: dict(model=_network(), dropout_types=mc_dropout.DROPOUT_TYPES), _verify_modes),
    Case("mc_dropout.mc_samples", mc_dropout.mc_samples, _mc_valid, _verify_samples),
    Case("mc_dropout.mc_samples[looped]", mc_dropout.mc_samples, lambda: _mc_valid(batched=False), _verify_samples),
    Case("mc_dropout.mc_predict", mc_dropout.mc_predict,
         lambda: dict(model=_network(), x=_x(), n_samples=6, tau=4.0, batched=True, max_batch=5, seed=0), _verify_predict),
    Case("mc_dropout.mc_predict[no tau]", mc_dropout.mc_predict,
         lambda: dict(model=_network(1), x=_x(), n_samples=4, tau=None, batched=False, seed=1), _verify_predict),
    Case("mc_dropout.eval_predict", mc_dropout.eval_predict, lambda: dict(model=_network(), x=_x(), tau=4.0), _verify_eval_predict),
    Case("mc_dropout.eval_predict[no tau]", mc_dropout.eval_predict,
         lambda: dict(model=_network(1), x=_x(), tau=None), _verify_eval_predict),
    Case("mc_dropout.mc_probabilities", mc_dropout.mc_probabilities,
         lambda: dict(model=_network(3), x=_x(), n_samples=5, batched=True, max_batch=4, seed=0), _verify_probabilities),
    Case("mc_dropout.ensemble_probabilities", mc_dropout.ensemble_probabilities, _ensemble_valid, _verify_ensemble),
    Case("mc_dropout.predictive_entropy", mc_dropout.predictive_entropy, lambda: dict(prob_samples=_PROB_SAMPLES.copy()), _verify_predictive_entropy),
    Case("mc_dropout.predictive_entropy[torch]", mc_dropout.predictive_entropy,
         lambda: dict(prob_samples=torch.tensor(_PROB_SAMPLES, dtype=torch.float32)), _verify_predictive_entropy),
    Case("mc_dropout.expected_entropy", mc_dropout.expected_entropy, lambda: dict(prob_samples=_PROB_SAMPLES.copy()), _verify_expected_entropy),
    Case("mc_dropout.mutual_information", mc_dropout.mutual_information, lambda: dict(prob_samples=_PROB_SAMPLES.copy()), _verify_mutual_information),
    Case("mc_dropout.mutual_information[torch]", mc_dropout.mutual_information,
         lambda: dict(prob_samples=torch.tensor(_PROB_SAMPLES, dtype=torch.float32)), _verify_mutual_information),
    Case("mc_dropout.referral_curve", mc_dropout.referral_curve, _referral_valid, _verify_referral),
]

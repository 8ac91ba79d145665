r"""Checkers for the exercises of "Label smoothing": smoothed targets, the smoothed loss, and the bug hunt.

The three exercises are ``smooth_targets``, ``label_smoothing_cross_entropy`` and ``compare_smoothing``.

The contracts follow PyTorch's convention (:mod:`course_lib.losses`): the mass
:math:`\varepsilon` is spread over all :math:`K` classes, so the smoothed target
is :math:`q_c = (1-\varepsilon)[c = y] + \varepsilon/K` and the loss is
:math:`-\sum_c q_c \log\operatorname{softmax}(z)_c`, averaged over the examples,
equal to ``F.cross_entropy(..., label_smoothing=ε)``. The two checkers of the
formulas compare with those references and tell the typical mistakes apart by
the values they give: the other convention (:math:`\varepsilon/(K-1)` for the
wrong classes), the target class without its :math:`\varepsilon/K`, targets that
do not sum to 1, a mean over the classes where the sum belongs, the wrong
reduction, and a ``log(softmax(z))`` that overflows at large logits.

``compare_smoothing`` is the bug hunt: train one network with the plain
cross-entropy and one with label smoothing, from the same initial weights. Its
checker hands the student's function a ``train`` of its own that records every
run (which model object, its weights before and after, which loss: identified by
its value on probe logits), so it can name the two classic bugs separately: the
smoothed criterion defined but never used, and one model trained twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course_lib.checks.report import (
    CheckReport,
    Diagnosis,
    _call,
    _checker,
    _describe,
    _Failed,
    _NO_RETURN,
    _numbers,
    _Property,
    _StudentRaised,
)
from course_lib.losses import optimal_logit_gap, smooth_targets as _reference_targets
from course_lib.synthetic import make_spirals
from course_lib.train import fit

__all__ = [
    "check_smooth_targets",
    "check_label_smoothing_cross_entropy",
    "check_compare_smoothing",
]

SEED = 2016  # Szegedy et al., "Rethinking the Inception architecture for computer vision"


def _describe_tensor(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        article = "an" if dtype[0] in "aeiou" else "a"
        return f"{article} {dtype} tensor of shape {tuple(value.shape)}"
    return _describe(value)


@contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread while the checker trains its tiny networks (a fixed order of reductions)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# --- mistakes shared by the two formulas -------------------------------------------------------

_OTHERS = Diagnosis(
    "the ε/(K−1) convention",
    "this is the other convention, where the target keeps 1 − ε and the K − 1 wrong classes share ε; PyTorch's "
    "label_smoothing (the contract here) mixes the one-hot target with the uniform distribution over all K "
    "classes, the target class included",
)
_TARGET_MISSING = Diagnosis(
    "the target class without its ε/K",
    "the uniform part gives ε/K to every one of the K classes, the target class too: it gets 1 − ε from the "
    "one-hot part plus its share ε/K",
)
_ROWS = Diagnosis(
    "targets that do not sum to 1",
    "a smoothed target is a probability distribution: the one-hot part has weight 1 − ε and the uniform part "
    "weight ε (ε/K for each of the K classes), so every row sums to (1 − ε) + ε = 1",
)
_IGNORED = Diagnosis(
    "the smoothing ignored",
    "the result is that of the one-hot target: smoothing mixes it with the uniform distribution, with weights "
    "1 − ε and ε",
)


# --- smooth_targets ----------------------------------------------------------------------------

TARGETS_ATOL = 1e-6  # float32 results are accepted: their rounding is about 1e-7
# K and ε of the hand-made case: the right targets are 0.84 / 0.04, the other conventions' 0.8 / 0.05 and 0.8 / 0.04.
TARGETS_CASE = (5, 0.2)
TARGETS_LABELS = (2, 0, 4, 1, 3, 2, 0, 4)  # every class of K = 5
ROW_SUM_CASES = ((2, 0.1), (5, 0.2), (10, 0.5))  # (K, ε)
TARGETS_AGREEMENT = (100, 10, 0.1)  # N, K, ε of random labels
NARROW_LABELS, NARROW_CLASSES = (0, 1, 1, 0), 4  # the last two classes absent from the labels

_TARGETS_RESULT = Diagnosis(
    "a result that is not one distribution per label",
    "smooth_targets returns a float tensor of shape (N, K): one row per label, one column per class",
)
_WIDTH = Diagnosis(
    "the width taken from the labels",
    "the number of columns is num_classes, whatever labels appear: F.one_hot infers it from the largest label "
    "unless it is given num_classes",
)

# Each typical mistake as (the target class's value, every other class's value) for K classes and ε.
_TARGET_RULES: tuple[tuple[Callable[[int, float], tuple[float, float]], Diagnosis], ...] = (
    (lambda k, e: (1 - e, e / (k - 1)), _OTHERS),
    (lambda k, e: (1 - e, e / k), _TARGET_MISSING),
    (lambda k, e: (1.0, 0.0), _IGNORED),
)


def _labels(n: int, num_classes: int, seed: int) -> tuple[int, ...]:
    return tuple(int(v) for v in np.random.default_rng(seed).integers(0, num_classes, size=n))


def _expected_targets(labels: tuple[int, ...], num_classes: int, on: float, off: float) -> np.ndarray:
    values = np.full((len(labels), num_classes), off)
    values[np.arange(len(labels)), labels] = on
    return values


def _targets(fn: Callable[..., Any], labels: tuple[int, ...], num_classes: int, smoothing: float) -> np.ndarray:
    """The student's targets for int64 ``labels`` as a float64 array, after checking the form of the result."""
    result = _call(fn, torch.tensor(labels, dtype=torch.int64), num_classes, smoothing)
    shape = (len(labels), num_classes)
    expected = f"a float tensor of shape {shape}"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if not isinstance(result, torch.Tensor) or not result.is_floating_point():
        raise _Failed(expected, _describe_tensor(result), _TARGETS_RESULT)
    if tuple(result.shape) != shape:
        inferred = (len(labels), max(labels) + 1)
        raise _Failed(expected, _describe_tensor(result), _WIDTH if tuple(result.shape) == inferred else _TARGETS_RESULT)
    return result.detach().cpu().double().numpy()


_TargetRule = Callable[[int, float], tuple[float, float]]


def _targets_mistake(fn: Callable[..., Any]) -> tuple[_TargetRule, Diagnosis] | None:
    """The typical wrong rule the student's targets follow on the hand-made case, if any."""
    num_classes, smoothing = TARGETS_CASE
    try:
        values = _targets(fn, TARGETS_LABELS, num_classes, smoothing)
    except (_Failed, _StudentRaised):
        return None
    for rule, diagnosis in _TARGET_RULES:
        wrong = _expected_targets(TARGETS_LABELS, num_classes, *rule(num_classes, smoothing))
        if np.allclose(values, wrong, rtol=0, atol=TARGETS_ATOL):
            return rule, diagnosis
    return None


def _targets_failure(
    fn: Callable[..., Any],
    values: np.ndarray,
    case: tuple[tuple[int, ...], int, float],
    expected: str,
    got: str,
    fallback: Diagnosis | str,
) -> _Failed:
    """The failure on ``case`` (labels, K, ε): named by the student's rule if it explains these values too."""
    labels, num_classes, smoothing = case
    mistake = _targets_mistake(fn)
    if mistake is not None:
        rule, diagnosis = mistake
        wrong = _expected_targets(labels, num_classes, *rule(num_classes, smoothing))
        if np.allclose(values, wrong, rtol=0, atol=TARGETS_ATOL):
            return _Failed(expected, got, diagnosis)
    if not np.allclose(values.sum(axis=1), 1.0, rtol=0, atol=TARGETS_ATOL):
        return _Failed(expected, got, _ROWS)
    return _Failed(expected, got, fallback)


def _distinct(values: np.ndarray) -> str:
    """The distinct values among ``values`` (rounded to 6 significant digits), at most four of them."""
    unique = sorted({float(f"{v:.6g}") for v in values.ravel()})
    return _numbers(unique[:4]) + (" …" if len(unique) > 4 else "")


def _targets_shape(fn: Callable[..., Any]) -> str:
    _targets(fn, TARGETS_LABELS, *TARGETS_CASE)
    return ""


def _targets_class_values(fn: Callable[..., Any], *, target_class: bool) -> str:
    num_classes, smoothing = TARGETS_CASE
    values = _targets(fn, TARGETS_LABELS, num_classes, smoothing)
    on_target = _expected_targets(TARGETS_LABELS, num_classes, 1.0, 0.0).astype(bool)
    entries = values[on_target] if target_class else values[~on_target]
    right = 1 - smoothing + smoothing / num_classes if target_class else smoothing / num_classes
    if np.allclose(entries, right, rtol=0, atol=TARGETS_ATOL):
        return ""
    formula = "1 − ε + ε/K" if target_class else "ε/K"
    where = "every target class" if target_class else "every other class"
    fallback = (
        "the target class keeps 1 − ε of the one-hot mass and receives its share ε/K of the uniform part"
        if target_class
        else "each class other than the target receives only its share ε/K of the uniform part"
    )
    expected = f"{formula} = {right:.4g} for {where}"
    got = f"values {_distinct(entries)}"
    raise _targets_failure(fn, values, (TARGETS_LABELS, num_classes, smoothing), expected, got, fallback)


def _targets_target_class(fn: Callable[..., Any]) -> str:
    return _targets_class_values(fn, target_class=True)


def _targets_other_classes(fn: Callable[..., Any]) -> str:
    return _targets_class_values(fn, target_class=False)


def _targets_rows_sum_to_one(fn: Callable[..., Any]) -> str:
    largest = 0.0
    for index, (num_classes, smoothing) in enumerate(ROW_SUM_CASES):
        labels = _labels(12, num_classes, SEED + index)
        values = _targets(fn, labels, num_classes, smoothing)
        deviation = float(np.abs(values.sum(axis=1) - 1.0).max())
        if not deviation <= TARGETS_ATOL:
            expected = f"every row summing to 1 (K = {num_classes}, ε = {smoothing})"
            got = f"row sums {_distinct(values.sum(axis=1))}"
            raise _targets_failure(fn, values, (labels, num_classes, smoothing), expected, got, _ROWS)
        largest = max(largest, deviation)
    return f"largest |sum − 1| {largest:.1e}"


def _targets_without_smoothing(fn: Callable[..., Any]) -> str:
    num_classes = TARGETS_CASE[0]
    values = _targets(fn, TARGETS_LABELS, num_classes, 0.0)
    one_hot = _expected_targets(TARGETS_LABELS, num_classes, 1.0, 0.0)
    if not np.allclose(values, one_hot, rtol=0, atol=TARGETS_ATOL):
        hint = "with ε = 0 nothing is moved to the uniform part: the targets are the one-hot vectors"
        case = (TARGETS_LABELS, num_classes, 0.0)
        raise _targets_failure(fn, values, case, "the one-hot targets", f"values {_distinct(values)}", hint)
    return ""


def _targets_agree(fn: Callable[..., Any]) -> str:
    n, num_classes, smoothing = TARGETS_AGREEMENT
    labels = _labels(n, num_classes, SEED + 10)
    values = _targets(fn, labels, num_classes, smoothing)
    reference = _reference_targets(torch.tensor(labels), num_classes, smoothing, dtype=torch.float64).numpy()
    difference = float(np.abs(values - reference).max())
    if not difference <= TARGETS_ATOL:
        hint = "q = (1 − ε)·onehot(y) + ε/K for every class"
        got = f"a largest difference of {difference:.3g}"
        raise _targets_failure(fn, values, (labels, num_classes, smoothing), f"within {TARGETS_ATOL:g}", got, hint)
    return f"largest difference {difference:.1e}"


def _targets_width(fn: Callable[..., Any]) -> str:
    smoothing = 0.2
    values = _targets(fn, NARROW_LABELS, NARROW_CLASSES, smoothing)
    share = smoothing / NARROW_CLASSES
    expected = _expected_targets(NARROW_LABELS, NARROW_CLASSES, 1 - smoothing + share, share)
    if not np.allclose(values, expected, rtol=0, atol=TARGETS_ATOL):
        hint = "classes that no label names still receive ε/K"
        got = f"values {_distinct(values[:, 2:])} in the absent classes' columns"
        case = (NARROW_LABELS, NARROW_CLASSES, smoothing)
        raise _targets_failure(fn, values, case, "ε/K in every column of an absent class", got, hint)
    return ""


_K, _EPS = TARGETS_CASE
_TARGETS_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns a float tensor of shape (N, K) (N = {len(TARGETS_LABELS)}, K = {_K})", _targets_shape),
    (
        f"the target class gets 1 − ε + ε/K = {1 - _EPS + _EPS / _K:.4g} (K = {_K}, ε = {_EPS}, "
        f"within {TARGETS_ATOL:g})",
        _targets_target_class,
    ),
    (f"every other class gets ε/K = {_EPS / _K:.4g}", _targets_other_classes),
    (
        "every row sums to 1 ((K, ε) = " + ", ".join(f"({k}, {e})" for k, e in ROW_SUM_CASES) + ")",
        _targets_rows_sum_to_one,
    ),
    ("ε = 0 gives the one-hot targets", _targets_without_smoothing),
    (
        f"agrees with course_lib.losses.smooth_targets within {TARGETS_ATOL:g} (random labels, N = "
        f"{TARGETS_AGREEMENT[0]}, K = {TARGETS_AGREEMENT[1]}, ε = {TARGETS_AGREEMENT[2]})",
        _targets_agree,
    ),
    (
        f"num_classes sets the width: labels {_numbers(NARROW_LABELS)} with K = {NARROW_CLASSES} give {NARROW_CLASSES} "
        "columns, ε/K in the absent classes'",
        _targets_width,
    ),
]


@_checker("smooth_targets(target, num_classes, smoothing) -> q", _TARGETS_PROPERTIES)
def check_smooth_targets(fn: Callable[..., Any]) -> CheckReport:
    r"""The contract is that of :func:`course_lib.losses.smooth_targets`:
    ``(N,)`` int64 labels give the ``(N, K)`` float tensor
    :math:`q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K` (PyTorch's
    convention): the target class gets :math:`1-\varepsilon+\varepsilon/K`, every
    other class :math:`\varepsilon/K`, and every row sums to 1, with ``num_classes``
    columns whatever labels appear. The other convention (:math:`\varepsilon/(K-1)`
    for the wrong classes), the target class without its :math:`\varepsilon/K`,
    rows that do not sum to 1 and the smoothing ignored are named. Prints one line
    per property.
    """


# --- label_smoothing_cross_entropy ----------------------------------------------------------------

LOSS_ATOL = 1e-6  # nats, on float64 logits; also for the gradient
LOSS_CASES = ((32, 10, 0.1), (7, 3, 0.4))  # (N, K, ε) of the agreement property, logits N(0, 2²)
LARGE_LOGITS = 1e4  # the magnitude of the stability property's logits
LARGE_CASE = (6, 4, 0.1)
# Relative tolerance at large logits: float32 targets (torch's default dtype) mixed into float64 logits change
# the loss by about 1e-7 of its value; an unstable log-softmax is off by far more, or not finite.
LARGE_RTOL = 1e-6
GRADIENT_CASE = (16, 5, 0.2)

_LOSS_RESULT = Diagnosis(
    "a result that is not a scalar loss",
    "label_smoothing_cross_entropy returns one number for the batch: a float tensor with a single element",
)
_PER_EXAMPLE = Diagnosis(
    "the per-example losses returned",
    "the loss of a batch is one number, the mean of the N examples' losses (PyTorch's reduction='mean')",
)
_UNREDUCED = Diagnosis(
    "the per-class terms returned",
    "each example's loss sums −q_c log p_c over the K classes, and the batch's loss averages those over the N "
    "examples: one number in the end",
)
_DETACHED = Diagnosis(
    "a loss cut off from autograd",
    "the loss must stay a torch tensor computed from the logits with torch operations (no .item(), .detach() or "
    "NumPy step), so that backward() reaches the logits",
)
_CLASS_MEAN = Diagnosis(
    "the mean over classes in place of the sum",
    "a cross-entropy sums over the classes, −Σ_c q_c log p_c, and only the examples are averaged: a mean over the "
    "K classes divides the loss, or its uniform term ε·(1/K)·Σ_c(−log p_c), by K once more",
)
_UNIFORM_TIMES_K = Diagnosis(
    "the uniform term K times too large",
    "the uniform part weighs each class ε/K: its term is ε times the mean of −log p_c over the K classes, not ε "
    "times their sum",
)
_SUM_REDUCTION = Diagnosis(
    "the sum over examples in place of the mean",
    "reduction='mean': the loss of a batch is the mean of its examples' losses, so it does not grow with the "
    "batch size",
)
_SIGN = Diagnosis(
    "the minus sign missing",
    "the cross-entropy is −Σ_c q_c log p_c: each log-probability is <= 0, so the loss is >= 0",
)
_UNSTABLE = Diagnosis(
    "log(softmax) computed unstably",
    "at large logits exp overflows to inf and the smallest probabilities underflow to 0, whose log is −inf (and a "
    "small constant added inside the log changes the loss): compute the log-probabilities directly, z − "
    "logsumexp(z), which torch.log_softmax does stably",
)
_IN_PLACE = Diagnosis(
    "the inputs modified in place",
    "do not change logits or target in place (an in-place subtraction of the maximum, say): compute on new tensors",
)

# Each typical mistake as a function of the examples' hard terms h = −log p_y, uniform sums u = −Σ_c log p_c,
# the number of classes and ε. The right loss is mean((1 − ε) h + ε/K · u).
_LossRule = Callable[[torch.Tensor, torch.Tensor, int, float], torch.Tensor]
_LOSS_RULES: tuple[tuple[_LossRule, Diagnosis], ...] = (
    (lambda h, u, k, e: ((1 - e) * h + e / k * u).mean() / k, _CLASS_MEAN),  # the mean over all N × K entries
    (lambda h, u, k, e: ((1 - e) * h + e / k**2 * u).mean(), _CLASS_MEAN),  # ε/K times the mean over classes
    (lambda h, u, k, e: ((1 - e) * h + e * u).mean(), _UNIFORM_TIMES_K),
    (lambda h, u, k, e: ((1 - e) * h + e / (k - 1) * (u - h)).mean(), _OTHERS),
    (lambda h, u, k, e: ((1 - e) * h + e / k * (u - h)).mean(), _TARGET_MISSING),
    (lambda h, u, k, e: (h + e / k * u).mean(), _ROWS),
    (lambda h, u, k, e: h.mean(), _IGNORED),
    (lambda h, u, k, e: ((1 - e) * h + e / k * u).sum(), _SUM_REDUCTION),
    (lambda h, u, k, e: -((1 - e) * h + e / k * u).mean(), _SIGN),
)


def _loss_inputs(n: int, num_classes: int, seed: int, scale: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """float64 logits ``(n, K)``, N(0, scale²), and int64 labels, from ``seed``."""
    rng = np.random.default_rng(seed)
    logits = torch.from_numpy(rng.normal(0.0, scale, size=(n, num_classes)))
    return logits, torch.from_numpy(rng.integers(0, num_classes, size=n))


def _large_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Logits spread over [−1e4, 1e4]: every softmax has probabilities far below float64's smallest number."""
    n, num_classes, _ = LARGE_CASE
    rng = np.random.default_rng(SEED + 20)
    logits = torch.from_numpy(rng.uniform(-1.0, 1.0, size=(n, num_classes)) * LARGE_LOGITS)
    return logits, torch.from_numpy(rng.integers(0, num_classes, size=n))


def _terms(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    log_probs = torch.log_softmax(logits.detach(), dim=1)
    hard = -log_probs.gather(1, target[:, None]).squeeze(1)
    return hard, -log_probs.sum(dim=1)


def _loss(fn: Callable[..., Any], logits: torch.Tensor, target: torch.Tensor, smoothing: float) -> torch.Tensor:
    """The student's loss (still attached to its graph), after checking it is a one-element float tensor."""
    result = _call(fn, logits, target, smoothing)
    expected = "a scalar float tensor (the mean over the examples)"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if isinstance(result, (float, np.floating, np.ndarray)):
        raise _Failed(expected, _describe(result), _DETACHED)
    if not isinstance(result, torch.Tensor) or not result.is_floating_point():
        raise _Failed(expected, _describe_tensor(result), _LOSS_RESULT)
    if result.numel() != 1:
        n, num_classes = logits.shape
        by_shape = {(n,): _PER_EXAMPLE, (n, num_classes): _UNREDUCED}
        raise _Failed(expected, _describe_tensor(result), by_shape.get(tuple(result.shape), _LOSS_RESULT))
    return result


def _value(fn: Callable[..., Any], logits: torch.Tensor, target: torch.Tensor, smoothing: float) -> float:
    return float(_loss(fn, logits, target, smoothing).detach().reshape(()))


def _loss_rule(fn: Callable[..., Any]) -> tuple[_LossRule, Diagnosis] | None:
    """The one typical wrong rule that the student's loss follows on the first agreement case, if any."""
    n, num_classes, smoothing = LOSS_CASES[0]
    logits, target = _loss_inputs(n, num_classes, SEED)
    try:
        value = _value(fn, logits, target, smoothing)
    except (_Failed, _StudentRaised):
        return None
    hard, uniform = _terms(logits, target)
    matching = [(r, d) for r, d in _LOSS_RULES if abs(value - float(r(hard, uniform, num_classes, smoothing))) <= LOSS_ATOL]
    return matching[0] if len(matching) == 1 else None


def _loss_hint(
    fn: Callable[..., Any],
    value: float,
    logits: torch.Tensor,
    target: torch.Tensor,
    smoothing: float,
    fallback: Diagnosis | str,
) -> Diagnosis | str:
    """The student's typical mistake if it also gives ``value`` on these inputs; else ``fallback``."""
    matching = _loss_rule(fn)
    if matching is not None:
        rule, diagnosis = matching
        hard, uniform = _terms(logits, target)
        wrong = float(rule(hard, uniform, logits.shape[1], smoothing))
        if math.isfinite(value) and abs(value - wrong) <= LOSS_ATOL + LARGE_RTOL * abs(wrong):
            return diagnosis
    return fallback


def _reference_loss(logits: torch.Tensor, target: torch.Tensor, smoothing: float) -> float:
    return float(F.cross_entropy(logits.detach(), target, label_smoothing=smoothing))


def _loss_is_scalar(fn: Callable[..., Any]) -> str:
    n, num_classes, smoothing = LOSS_CASES[0]
    _loss(fn, *_loss_inputs(n, num_classes, SEED), smoothing)
    return ""


def _loss_agrees(fn: Callable[..., Any]) -> str:
    largest = 0.0
    for index, (n, num_classes, smoothing) in enumerate(LOSS_CASES):
        logits, target = _loss_inputs(n, num_classes, SEED + index)
        value, reference = _value(fn, logits, target, smoothing), _reference_loss(logits, target, smoothing)
        difference = abs(value - reference)
        if not difference <= LOSS_ATOL:
            expected = f"{reference:.6f} (N = {n}, K = {num_classes}, ε = {smoothing})"
            fallback = "the loss is the mean over the examples of (1 − ε)(−log p_y) + (ε/K)·Σ_c(−log p_c)"
            raise _Failed(expected, f"{value:.6g}", _loss_hint(fn, value, logits, target, smoothing, fallback))
        largest = max(largest, difference)
    return f"largest difference {largest:.1e}"


def _loss_mean_reduction(fn: Callable[..., Any]) -> str:
    n, num_classes, smoothing = LOSS_CASES[0]
    logits, target = _loss_inputs(n, num_classes, SEED)
    once = _value(fn, logits, target, smoothing)
    twice = _value(fn, logits.repeat(2, 1), target.repeat(2), smoothing)
    if not abs(twice - once) <= 1e-9 * max(1.0, abs(once)):
        fallback = "the mean over examples does not change when every example of the batch appears twice"
        hint = _SUM_REDUCTION if math.isclose(twice, 2 * once, rel_tol=1e-9) else fallback
        raise _Failed(f"the same loss, {once:.6g}", f"{twice:.6g}", hint)
    return ""


def _loss_is_stable(fn: Callable[..., Any]) -> str:
    smoothing = LARGE_CASE[2]
    logits, target = _large_inputs()
    value, reference = _value(fn, logits, target, smoothing), _reference_loss(logits, target, smoothing)
    expected = f"a finite loss equal to torch's, {reference:.8g} (relative tolerance {LARGE_RTOL:g})"
    if not math.isfinite(value):
        raise _Failed(expected, f"{value}", _UNSTABLE)
    if not abs(value - reference) <= LARGE_RTOL * abs(reference) + LOSS_ATOL:
        raise _Failed(expected, f"{value:.8g}", _loss_hint(fn, value, logits, target, smoothing, _UNSTABLE))
    return ""


def _loss_gradient(fn: Callable[..., Any]) -> str:
    n, num_classes, smoothing = GRADIENT_CASE
    logits, target = _loss_inputs(n, num_classes, SEED + 30)
    logits.requires_grad_(True)
    loss = _loss(fn, logits, target, smoothing)
    expected = f"torch's gradient w.r.t. the logits within {LOSS_ATOL:g} (N = {n}, K = {num_classes}, ε = {smoothing})"
    if not loss.requires_grad:
        raise _Failed(expected, "a loss that does not require grad", _DETACHED)
    _call(lambda: loss.sum().backward())
    if logits.grad is None:
        raise _Failed(expected, "logits.grad None after backward()", _DETACHED)
    reference_logits = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(reference_logits, target, label_smoothing=smoothing).backward()
    difference = float((logits.grad - reference_logits.grad).abs().max())
    if not difference <= LOSS_ATOL:
        fallback = (
            "the value is right but not its gradient: part of the loss is cut off from the graph (a .detach() or a "
            "NumPy step inside)"
        )
        value = float(loss.detach().reshape(()))
        right = abs(value - _reference_loss(logits, target, smoothing)) <= LOSS_ATOL
        follows = "the gradient follows the value: fix the loss"
        hint = fallback if right else _loss_hint(fn, value, logits, target, smoothing, follows)
        raise _Failed(expected, f"a largest difference of {difference:.3g}", hint)
    return f"largest difference {difference:.1e}"


def _loss_leaves_inputs_unchanged(fn: Callable[..., Any]) -> str:
    n, num_classes, smoothing = LOSS_CASES[0]
    logits, target = _loss_inputs(n, num_classes, SEED)
    before = (logits.clone(), target.clone())
    _call(fn, logits, target, smoothing)
    changed = [name for name, now, was in zip(("logits", "target"), (logits, target), before) if not torch.equal(now, was)]
    if changed:
        raise _Failed("logits and target unchanged after the call", f"{' and '.join(changed)} modified", _IN_PLACE)
    return ""


_LOSS_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns the loss of the batch: a scalar float tensor", _loss_is_scalar),
    (
        f"agrees with F.cross_entropy(logits, target, label_smoothing=ε) within {LOSS_ATOL:g} (float64 logits; "
        "(N, K, ε) = " + ", ".join(f"({n}, {k}, {e})" for n, k, e in LOSS_CASES) + ")",
        _loss_agrees,
    ),
    ("the mean over the examples: the batch repeated twice gives the same loss", _loss_mean_reduction),
    (f"stable: logits of magnitude up to {LARGE_LOGITS:g} give a finite loss, torch's (float64)", _loss_is_stable),
    ("gradients flow: backward() gives torch's gradient with respect to the logits", _loss_gradient),
    ("leaves logits and target unchanged", _loss_leaves_inputs_unchanged),
]


@_checker("label_smoothing_cross_entropy(logits, target, smoothing) -> loss", _LOSS_PROPERTIES)
def check_label_smoothing_cross_entropy(fn: Callable[..., Any]) -> CheckReport:
    r"""The contract is that of :func:`course_lib.losses.label_smoothing_cross_entropy`
    with ``weight=None`` and ``reduction="mean"``: ``(N, K)`` float logits and
    ``(N,)`` int64 labels give the scalar tensor
    :math:`\frac1N\sum_i \bigl[(1-\varepsilon)(-\log p_{i y_i}) + \frac{\varepsilon}{K}\sum_c (-\log p_{ic})\bigr]`,
    equal to ``F.cross_entropy(logits, target, label_smoothing=ε)`` within
    :data:`LOSS_ATOL`, finite for logits of magnitude :data:`LARGE_LOGITS`, with
    torch's gradient. A value that follows the other convention, leaves out the
    target's :math:`\varepsilon/K`, takes a mean over the classes, sums over the
    examples or overflows is named. Prints one line per property.
    """


# --- compare_smoothing: the bug hunt ----------------------------------------------------------------

COMPARE_SMOOTHING = 0.2
COMPARE_EPOCHS = 80
COMPARE_SEEDS = (3, 4)  # the seed of the main call, and the one that must give other initial weights
COMPARE_LR = 0.02  # full-batch Adam in the checker's train
#: The smoothed model's mean max-probability on the test inputs must be at least this much below the hard
#: model's (tests/checks/test_label_smoothing.py measures the margin of a correct answer for several widths).
CONFIDENCE_MARGIN = 0.03
EPSILON_ATOL = 1e-3  # how close a probed loss's label smoothing must be to ε (or 0)


@lru_cache(maxsize=None)
def _compare_data() -> Any:
    """Three spiral arms in the plane (360 training points): small enough to train in a fraction of a second."""
    return make_spirals(n_samples=600, n_arms=3, noise_std=0.05, seed=SEED)


@dataclass(frozen=True)
class _LossKind:
    """What a loss passed to train computes, from its values on two probes.

    ``smoothing`` is the label smoothing of the cross-entropy it equals on both probes, or None if it is none.
    """

    smoothing: float | None
    text: str

    def equals(self, smoothing: float) -> bool:
        return self.smoothing is not None and abs(self.smoothing - smoothing) <= EPSILON_ATOL


def _probes(num_classes: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(SEED + 40)
    probes = []
    for _ in range(2):
        logits = torch.from_numpy(rng.normal(0.0, 2.0, size=(6, num_classes))).float()
        probes.append((logits, torch.from_numpy(rng.integers(0, num_classes, size=6))))
    return probes


def _identify_loss(loss_fn: Callable[..., Any], num_classes: int) -> _LossKind:
    """The label smoothing of the cross-entropy that ``loss_fn`` computes, solved from one probe, confirmed on another.

    The smoothed cross-entropy is linear in ε, (1 − ε)·CE + ε·U with U the cross-entropy against the uniform
    distribution, so one value gives ε. An exception raised by ``loss_fn`` propagates (fit would raise it too).
    """
    estimates = []
    for logits, target in _probes(num_classes):
        with torch.no_grad():
            value = float(loss_fn(logits, target))
        plain = float(F.cross_entropy(logits.double(), target))
        uniform = float(-torch.log_softmax(logits.double(), dim=1).mean(dim=1).mean())
        estimates.append((value - plain) / (uniform - plain))
    first, second = estimates
    if not (math.isfinite(first) and abs(first - second) <= EPSILON_ATOL and -EPSILON_ATOL <= first < 1):
        return _LossKind(None, "a loss that is not a cross-entropy, with or without smoothing")
    smoothing = max(first, 0.0)
    if smoothing <= EPSILON_ATOL:
        return _LossKind(0.0, "the plain cross-entropy")
    return _LossKind(smoothing, f"the cross-entropy with label_smoothing = {smoothing:.3g}")


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _same_state(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> bool:
    return first.keys() == second.keys() and all(
        first[k].shape == second[k].shape and torch.equal(first[k], second[k]) for k in first
    )


@dataclass
class _Run:
    """One call of the checker's train: the model object, its weights before and after, the loss, the epochs."""

    index: int
    model: nn.Module
    initial: dict[str, torch.Tensor]
    loss: _LossKind
    epochs: Any
    final: dict[str, torch.Tensor] | None = None


class _RecordingTrain:
    """``train(model, data, loss_fn, epochs)``: full-batch Adam on ``data``, every call recorded as a :class:`_Run`."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []

    def __call__(self, model: nn.Module, data: Any, loss_fn: Callable[..., Any], epochs: int) -> Any:
        if not isinstance(model, nn.Module):
            raise TypeError(f"train's model must be a torch.nn.Module, got {_describe(model)}")
        if not callable(loss_fn):
            raise TypeError(f"train's loss_fn must be callable, got {_describe(loss_fn)}")
        run = _Run(len(self.runs), model, _state(model), _identify_loss(loss_fn, data.n_classes), epochs)
        self.runs.append(run)
        optimizer = torch.optim.Adam(model.parameters(), lr=COMPARE_LR)
        history = fit(model, data, optimizer, loss_fn, epochs, progress=False, seed=0, device="cpu")
        run.final = _state(model)
        return history


@dataclass
class _Comparison:
    """One call of the student's compare_smoothing: the two models it returned and the runs of train it made."""

    hard: nn.Module
    smooth: nn.Module
    runs: list[_Run]


_PAIR_RESULT = Diagnosis(
    "a result that is not (hard_model, smooth_model)",
    "compare_smoothing returns the two trained networks, each an nn.Module: first the one trained with the plain "
    "cross-entropy, then the smoothed one",
)
_TRAIN_NOT_USED = Diagnosis(
    "another way of training",
    "train both networks with the train you are given (the checker passes its own, which records every run)",
)
_NOT_TRAINED = Diagnosis(
    "a returned model that was not trained",
    "return the network objects that train trained, not fresh ones or copies",
)
_REUSED = Diagnosis(
    "the model re-used",
    "the second run continued training the first run's network (the same object, or a copy of its trained "
    "weights): each run needs a network of its own, starting from the same initial weights, so that the loss is "
    "the only difference between the two",
)
_SAME_RETURNED = Diagnosis(
    "one model returned twice",
    "the two results are the same network object: return the hard model and the smoothed model, one each",
)
_EXTRA_RUNS = Diagnosis(
    "more than two runs",
    "the comparison needs exactly two training runs, one per network",
)
_EPOCHS = Diagnosis("another number of epochs", "both runs train for the epochs compare_smoothing is given")
_DIFFERENT_INIT = Diagnosis(
    "models from different initial weights",
    "a fair comparison changes one thing only, the loss: both networks start from the same initial weights, "
    "those that the seed argument gives",
)
_SEED_IGNORED = Diagnosis(
    "the seed ignored",
    "the seed argument sets the initial weights (make_mlp's seed): another seed must give other weights",
)
_NEVER_USED = Diagnosis(
    "the smoothed criterion never used",
    "the smoothed model was trained with the plain cross-entropy: the label-smoothing criterion is defined, but "
    "it is not the loss that reaches train",
)
_BOTH_SMOOTHED = Diagnosis(
    "both runs smoothed",
    "the hard model is the baseline, trained with the plain cross-entropy (ε = 0); only the other run uses label "
    "smoothing",
)
_SWAPPED = Diagnosis(
    "the models swapped",
    "the first result is the model trained with the plain cross-entropy and the second the smoothed one: the two "
    "came back the other way round",
)
_WRONG_EPSILON = Diagnosis(
    "another ε",
    "the smoothed run uses the smoothing that compare_smoothing is given, not a value of its own",
)
_OTHER_LOSS = Diagnosis(
    "a loss that is not a cross-entropy",
    "train the models with a cross-entropy from logits: the plain one for the hard model, one with label "
    "smoothing ε for the other",
)


def _compare(fn: Callable[..., Any], seed: int) -> _Comparison:
    """Call the student's compare_smoothing with the checker's data and train; check the form of the result."""
    train = _RecordingTrain()
    with _one_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        result = _call(fn, _compare_data(), COMPARE_SMOOTHING, seed=seed, epochs=COMPARE_EPOCHS, train=train)
    expected = "a pair (hard_model, smooth_model) of nn.Modules"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Failed(expected, _describe(result), _PAIR_RESULT)
    if not all(isinstance(model, nn.Module) for model in result):
        raise _Failed(expected, f"a pair of {type(result[0]).__name__} and {type(result[1]).__name__}", _PAIR_RESULT)
    return _Comparison(result[0], result[1], train.runs)


# The comparisons of one check: the first property clears them, so each check calls the student's function anew,
# and the later properties read the same two calls (one per seed of COMPARE_SEEDS).
_COMPARISONS: dict[int, tuple[Callable[..., Any], _Comparison | _Failed | _StudentRaised]] = {}


def _comparison(fn: Callable[..., Any], seed: int = COMPARE_SEEDS[0], *, fresh: bool = False) -> _Comparison:
    if fresh:
        _COMPARISONS.clear()
    cached = _COMPARISONS.get(seed)
    if cached is None or cached[0] is not fn:
        try:
            outcome: _Comparison | _Failed | _StudentRaised = _compare(fn, seed)
        except (_Failed, _StudentRaised) as error:
            outcome = error
        _COMPARISONS[seed] = (fn, outcome)
        cached = _COMPARISONS[seed]
    if isinstance(cached[1], Exception):
        raise cached[1]
    return cached[1]


def _runs_of(comparison: _Comparison, model: nn.Module) -> list[_Run]:
    return [run for run in comparison.runs if run.model is model]


def _pair(comparison: _Comparison) -> tuple[_Run, _Run]:
    """(the hard model's run, the smoothed model's run); a failure if a returned model was never trained.

    When one object was returned twice and trained more than once (the re-used model), its first run is the
    hard one and its last the smoothed one, so that the loss of each can still be checked.
    """
    if not comparison.runs:
        raise _Failed("two calls of train, one per model", "no call (was the train argument used?)", _TRAIN_NOT_USED)
    hard_runs, smooth_runs = _runs_of(comparison, comparison.hard), _runs_of(comparison, comparison.smooth)
    untrained = [name for name, runs in (("hard", hard_runs), ("smoothed", smooth_runs)) if not runs]
    if untrained:
        got = f"the {' and the '.join(untrained)} model never passed to train ({len(comparison.runs)} calls of train)"
        raise _Failed("each returned model trained by a call of train", got, _NOT_TRAINED)
    if comparison.hard is comparison.smooth:
        if len(hard_runs) == 1:
            expected = "two distinct models, each trained by one call of train"
            raise _Failed(expected, "one model object returned twice, trained by one call of train", _SAME_RETURNED)
        return hard_runs[0], hard_runs[-1]
    return hard_runs[0], smooth_runs[0]


def _require_two_models(comparison: _Comparison) -> None:
    _pair(comparison)
    expected = "two distinct models, each trained by one call of train"
    hard, smooth = comparison.hard, comparison.smooth
    if hard is smooth:  # trained more than once, or _pair would have failed
        count = len(_runs_of(comparison, hard))
        raise _Failed(expected, f"one model object returned twice, trained by {count} calls of train", _REUSED)
    shared = {id(p) for p in hard.parameters()} & {id(p) for p in smooth.parameters()}
    if shared:
        raise _Failed(expected, f"two models that share {len(shared)} parameter tensors", _REUSED)
    for name, model in (("hard", hard), ("smoothed", smooth)):
        count = len(_runs_of(comparison, model))
        if count > 1:
            raise _Failed(expected, f"the {name} model trained by {count} calls of train", _REUSED)
    if len(comparison.runs) > 2:
        raise _Failed(expected, f"{len(comparison.runs)} calls of train", _EXTRA_RUNS)


def _require_epochs(comparison: _Comparison) -> None:
    epochs = [run.epochs for run in comparison.runs]
    if any(not isinstance(e, int) or isinstance(e, bool) or e != COMPARE_EPOCHS for e in epochs):
        raise _Failed(f"epochs = {COMPARE_EPOCHS} in every call of train", f"epochs = {_describe_list(epochs)}", _EPOCHS)


def _describe_list(values: list[Any]) -> str:
    return "[" + ", ".join(repr(v) if isinstance(v, (int, float)) else _describe(v) for v in values) + "]"


def _require_same_start(comparison: _Comparison) -> None:
    hard_run, smooth_run = _pair(comparison)
    expected = "both runs starting from the same initial weights"
    if _same_state(hard_run.initial, smooth_run.initial):
        return
    first, second = sorted((hard_run, smooth_run), key=lambda run: run.index)
    if first.final is not None and _same_state(second.initial, first.final):
        raise _Failed(expected, "the second run starting from the first run's trained weights", _REUSED)
    if hard_run.initial.keys() != smooth_run.initial.keys() or any(
        hard_run.initial[k].shape != smooth_run.initial[k].shape for k in hard_run.initial
    ):
        raise _Failed(expected, "networks of different shapes", _DIFFERENT_INIT)
    largest = max(float((hard_run.initial[k] - smooth_run.initial[k]).abs().max()) for k in hard_run.initial)
    raise _Failed(expected, f"initial weights that differ by up to {largest:.3g}", _DIFFERENT_INIT)


def _loss_diagnosis(run: _Run, other: _Run, wanted: float) -> Diagnosis:
    """Why ``run``'s loss is not the cross-entropy with label smoothing ``wanted``."""
    if run.loss.smoothing is None:
        return _OTHER_LOSS
    other_wanted = COMPARE_SMOOTHING if wanted == 0.0 else 0.0
    if run is not other and other.loss.equals(wanted) and run.loss.equals(other_wanted):
        return _SWAPPED
    if wanted == 0.0:
        return _BOTH_SMOOTHED if run.loss.equals(COMPARE_SMOOTHING) else _WRONG_EPSILON
    return _NEVER_USED if run.loss.equals(0.0) else _WRONG_EPSILON


def _require_hard_loss(comparison: _Comparison) -> None:
    hard_run, smooth_run = _pair(comparison)
    if not hard_run.loss.equals(0.0):
        raise _Failed("the plain cross-entropy (ε = 0)", hard_run.loss.text, _loss_diagnosis(hard_run, smooth_run, 0.0))


def _require_smooth_loss(comparison: _Comparison) -> None:
    hard_run, smooth_run = _pair(comparison)
    if not smooth_run.loss.equals(COMPARE_SMOOTHING):
        expected = f"the cross-entropy with label_smoothing = {COMPARE_SMOOTHING}"
        raise _Failed(expected, smooth_run.loss.text, _loss_diagnosis(smooth_run, hard_run, COMPARE_SMOOTHING))


_COMPARISON_REQUIREMENTS = (_require_two_models, _require_same_start, _require_hard_loss, _require_smooth_loss)


def _first_cause(comparison: _Comparison) -> Diagnosis | str | None:
    """The diagnosis of the first requirement on the runs that fails, if any."""
    for requirement in _COMPARISON_REQUIREMENTS:
        try:
            requirement(comparison)
        except _Failed as failure:
            return failure.diagnosis
    return None


def _compare_returns_models(fn: Callable[..., Any]) -> str:
    _comparison(fn, fresh=True)
    return ""


def _compare_two_models(fn: Callable[..., Any]) -> str:
    _require_two_models(_comparison(fn))
    return ""


def _compare_epochs(fn: Callable[..., Any]) -> str:
    comparison = _comparison(fn)
    _pair(comparison)
    _require_epochs(comparison)
    return ""


def _compare_same_start(fn: Callable[..., Any]) -> str:
    _require_same_start(_comparison(fn))
    return ""


def _compare_seed(fn: Callable[..., Any]) -> str:
    first, second = (_pair(_comparison(fn, seed))[0] for seed in COMPARE_SEEDS)
    if _same_state(first.initial, second.initial):
        seeds = " and ".join(f"seed = {s}" for s in COMPARE_SEEDS)
        raise _Failed(f"other initial weights for {seeds}", "the same initial weights", _SEED_IGNORED)
    return ""


def _compare_hard_loss(fn: Callable[..., Any]) -> str:
    _require_hard_loss(_comparison(fn))
    return ""


def _compare_smooth_loss(fn: Callable[..., Any]) -> str:
    _require_smooth_loss(_comparison(fn))
    return ""


@dataclass(frozen=True)
class _Confidence:
    max_probability: float  # mean over the test inputs
    gap: float  # mean over the training inputs of the largest logit minus the mean of the others


def _confidence(model: nn.Module) -> _Confidence:
    data = _compare_data()
    model.eval()
    with torch.no_grad():
        test_logits = _call(model, data.X_test).double()
        train_logits = _call(model, data.X_train).double()
    largest = train_logits.max(dim=1).values
    others = (train_logits.sum(dim=1) - largest) / (train_logits.shape[1] - 1)
    return _Confidence(float(test_logits.softmax(dim=1).max(dim=1).values.mean()), float((largest - others).mean()))


def _compare_confidence(fn: Callable[..., Any]) -> str:
    comparison = _comparison(fn)
    hard, smooth = _confidence(comparison.hard), _confidence(comparison.smooth)
    optimum = optimal_logit_gap(_compare_data().n_classes, COMPARE_SMOOTHING)
    measured = (
        f"mean max-probability {hard.max_probability:.3f} (hard) and {smooth.max_probability:.3f} (smoothed); mean "
        f"logit gap {hard.gap:.2f} and {smooth.gap:.2f} (the smoothed loss's optimum: {optimum:.2f})"
    )
    if not (hard.max_probability - smooth.max_probability >= CONFIDENCE_MARGIN and smooth.gap < hard.gap):
        fallback = "the network trained with label smoothing should come out the less confident of the two"
        raise _Failed("a less confident smoothed model", measured, _first_cause(comparison) or fallback)
    return measured


_COMPARE_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns (hard_model, smooth_model): two nn.Modules", _compare_returns_models),
    ("two distinct models, each trained by one call of train (none trained twice)", _compare_two_models),
    (f"each run trains for the epochs given (epochs = {COMPARE_EPOCHS})", _compare_epochs),
    ("the same initial weights for both runs, fresh ones (not the first run's trained weights)", _compare_same_start),
    (
        f"the seed sets the initial weights: seed = {COMPARE_SEEDS[0]} and seed = {COMPARE_SEEDS[1]} give other ones",
        _compare_seed,
    ),
    ("the hard model trained with the plain cross-entropy (the loss identified on probe logits)", _compare_hard_loss),
    (f"the smoothed model trained with label smoothing ε = {COMPARE_SMOOTHING}", _compare_smooth_loss),
    (
        f"the smoothed model is the less confident: mean max-probability on the test inputs at least "
        f"{CONFIDENCE_MARGIN:g} below the hard model's, a smaller mean logit gap on the training inputs",
        _compare_confidence,
    ),
]


@_checker("compare_smoothing(data, smoothing, seed, epochs, train) -> (hard_model, smooth_model)", _COMPARE_PROPERTIES)
def check_compare_smoothing(fn: Callable[..., Any]) -> CheckReport:
    r"""The bug hunt: ``compare_smoothing`` trains two networks from the same
    initial weights (those its ``seed`` gives), each with one call of
    ``train(model, data, loss_fn, epochs)``: one with the plain cross-entropy, one
    with label smoothing ``smoothing``, and returns ``(hard_model, smooth_model)``.
    The checker calls it on three spiral arms (ε = :data:`COMPARE_SMOOTHING`) with
    a ``train`` of its own (full-batch Adam) that records each run: the model
    object, its weights before and after, and the loss, identified by its values
    on probe logits. The smoothed criterion never used, one model trained twice,
    both runs smoothed, the models swapped and initial weights from different
    seeds are named. Prints one line per property.
    """

"""Checkers for the exercises of the chapter "Weight decay, L2 and L1".

``sgd_l2_step`` and ``sgd_decoupled_step`` (one SGD step with the penalty in the
gradient, and with decoupled decay in ``torch.optim.AdamW``'s convention),
``soft_threshold`` (the proximal step of the L1 penalty) and ``ridge_fit``
(scikit-learn's ``Ridge`` objective without intercept). Each checker matches a
wrong answer against the typical mistakes of its exercise to pick the hint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from course_lib.checks.report import (
    CheckReport,
    _call,
    _checker,
    Diagnosis,
    _expect_value_error,
    _Failed,
    _NO_RETURN,
    _generator,
    _numbers,
    _one_of,
    _Property,
    _require_float_array,
    _require_unchanged,
    _signed_input,
    _StudentRaised,
)

__all__ = [
    "check_sgd_l2_step",
    "check_sgd_decoupled_step",
    "check_soft_threshold",
    "check_ridge_fit",
    "check_choose_alpha",
]


# --- weight decay: shared helpers ----------------------------------------------------------

WD_SEED = 2019  # Loshchilov & Hutter, "Decoupled weight decay regularization"


def _as_array(value: Any) -> Any:
    """A torch tensor as a NumPy array (a student may compute with torch); anything else unchanged."""
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def _close(got: np.ndarray | None, expected: np.ndarray | None, rtol: float, atol: float) -> bool:
    """Whether two arrays have the same shape and agree within the tolerances (False if either is missing)."""
    if got is None or expected is None or np.shape(got) != np.shape(expected):
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, expected, rtol=rtol, atol=atol))




# --- sgd_l2_step and sgd_decoupled_step ----------------------------------------------------


def _l2_step(w: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float) -> np.ndarray:
    """The gradient step on loss + (weight_decay/2)‖w‖²."""
    return w - lr * (grad + weight_decay * w)


def _decoupled_step(w: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float) -> np.ndarray:
    """Decoupled weight decay, torch.optim.AdamW's convention (the decay is multiplied by lr)."""
    return (1 - lr * weight_decay) * w - lr * grad


@dataclass(frozen=True)
class _StepMistake:
    """A typical wrong update rule: its short name and the hint shown for each of the two exercises."""

    update: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]
    name: str
    l2_hint: str
    decoupled_hint: str


_STEP_MISTAKES: dict[str, _StepMistake] = {
    "uphill": _StepMistake(
        lambda w, g, lr, wd: w + lr * (g + wd * w),
        "the uphill step",
        "sign error: the step goes uphill, along the gradient of the penalised loss instead of against it",
        "sign error: the step goes uphill: both the decay and the gradient step push w the wrong way",
    ),
    "grad_sign": _StepMistake(
        lambda w, g, lr, wd: (1 - lr * wd) * w + lr * g,
        "the sign error in the gradient step",
        "sign error: lr·grad is added; a descent step moves against the gradient",
        "sign error: lr·grad is added; a descent step moves against the gradient",
    ),
    "decay_sign": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g - wd * w),
        "the sign error in the decay",
        "sign error in the decay: the gradient of (λ/2)‖w‖² is +λw, which pulls w towards 0",
        "sign error in the decay: w must shrink, by the factor (1 - lr·weight_decay) < 1, not grow",
    ),
    "no_lr": _StepMistake(
        lambda w, g, lr, wd: w - lr * g - wd * w,
        "the decay not multiplied by lr",
        "the decay is not multiplied by lr: λw is part of the gradient, so the learning rate scales it too",
        "the decay is not multiplied by lr: in the torch.optim.AdamW convention w shrinks by (1 - lr·weight_decay)",
    ),
    "half": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g + wd * w / 2),
        "the halved penalty gradient",
        "the penalty is scaled by ½: the gradient of (λ/2)‖w‖² is λw, not λw/2",
        "the decay is halved: the decoupled step shrinks w by the factor (1 - lr·weight_decay), with no ½",
    ),
    "double": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g + 2 * wd * w),
        "the doubled penalty gradient",
        "the penalty gradient is 2λw, the gradient of λ‖w‖²; the penalty here is (λ/2)‖w‖², whose gradient is λw",
        "the decay is doubled: the factor is (1 - lr·weight_decay), not (1 - 2·lr·weight_decay)",
    ),
    "factor_after": _StepMistake(
        lambda w, g, lr, wd: (w - lr * g) * (1 - wd),
        "the factor (1 - λ) applied after the step",
        "the decay is applied as a factor (1 - λ) to the updated weights: the L2 penalty acts through its "
        "gradient λw at the old w, scaled by lr like the rest of the gradient",
        "the decay is applied as a factor (1 - weight_decay) to the updated weights: the decoupled factor is "
        "(1 - lr·weight_decay), and it shrinks the old w",
    ),
    "after": _StepMistake(
        lambda w, g, lr, wd: (w - lr * g) * (1 - lr * wd),
        "the decay applied to the updated weights",
        "the decay is applied to the updated weights (w - lr·grad): the penalty's gradient is taken at the "
        "old w; the two differ by lr²·λ·grad",
        "the decay is applied to the updated weights (w - lr·grad): the decoupled decay shrinks the old w; "
        "the two differ by lr²·weight_decay·grad",
    ),
    "ignored": _StepMistake(
        lambda w, g, lr, wd: w - lr * g,
        "the ignored weight_decay",
        "weight_decay is ignored: the penalty's gradient weight_decay·w is part of the step",
        "weight_decay is ignored: decoupled decay shrinks w towards 0 on every step, besides the gradient step",
    ),
    "no_grad": _StepMistake(
        lambda w, g, lr, wd: (1 - lr * wd) * w,
        "the missing gradient step",
        "the loss gradient is missing: only the decay moves w",
        "the gradient step is missing: only the decay moves w",
    ),
}


@dataclass(frozen=True)
class _StepRule:
    """What distinguishes the two step exercises: name, formula, reference and diagnoses."""

    name: str
    formula: str
    reference: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]
    decoupled: bool

    def hint(self, mistake: str) -> Diagnosis:
        entry = _STEP_MISTAKES[mistake]
        return Diagnosis(entry.name, entry.decoupled_hint if self.decoupled else entry.l2_hint)

    @property
    def generic_hint(self) -> str:
        return f"no typical mistake matches: the update is {self.formula}, returned as a new array"


_L2_RULE = _StepRule("sgd_l2_step", "w - lr·(grad + weight_decay·w)", _l2_step, decoupled=False)
_DECOUPLED_RULE = _StepRule(
    "sgd_decoupled_step", "(1 - lr·weight_decay)·w - lr·grad", _decoupled_step, decoupled=True
)

STEP_RTOL = 1e-12
STEP_PROBLEMS = 20
# The hand-made case: lr·weight_decay = 1/8, and every number is a short binary fraction, so the
# right answer is exact; lr ≠ 1/2 and weight_decay ≠ 1, 1/2, so each mistake gives a different answer.
STEP_CASE_W = (2.0, -1.0, 0.5)
STEP_CASE_GRAD = (1.0, -0.5, -2.0)
STEP_CASE_LR = 0.25
STEP_CASE_DECAY = 0.5
STEP_CASE_EXPECTED = (1.5, -0.75, 0.9375)
DECAY_LR = 0.1
DECAY_WEIGHT_DECAY = 0.01


def _step_call_text(rule: _StepRule, w: Iterable[float], grad: Iterable[float], lr: float, weight_decay: float) -> str:
    return f"{rule.name}(w={list(w)}, grad={list(grad)}, lr={lr}, weight_decay={weight_decay})"


def _step(
    fn: Callable[..., Any], w: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, *, copies: bool = True
) -> np.ndarray:
    """Call the student's step (on copies of w and grad, unless told otherwise) and require a new float array."""
    args = (w.copy(), grad.copy()) if copies else (w, grad)
    result = _as_array(_call(fn, *args, lr, weight_decay))
    if result is None:
        raise _Failed("the updated weights", "None", _NO_RETURN)
    return _require_float_array(result, w.shape, "new weights:", _STEP_SHAPE)


def _step_mistakes_matching(
    rule: _StepRule, got: np.ndarray, w: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float
) -> list[Diagnosis]:
    """The diagnoses of the typical mistakes whose update gives ``got`` on these inputs."""
    return [
        rule.hint(key)
        for key, mistake in _STEP_MISTAKES.items()
        if _close(got, mistake.update(w, grad, lr, weight_decay), rtol=1e-9, atol=1e-12)
    ]


def _step_diagnosis(
    rule: _StepRule,
    fn: Callable[..., Any],
    got: np.ndarray,
    w: np.ndarray,
    grad: np.ndarray,
    lr: float,
    weight_decay: float,
    fallback: str,
) -> Diagnosis | str:
    """The diagnosis of the typical mistakes whose update gives ``got`` on these inputs, or ``fallback``.

    Some inputs cannot tell two mistakes apart (with grad = 0, an uphill step and a wrong-signed
    decay both grow w by the factor 1 + lr·weight_decay); then the student's answer on the
    hand-made case, where every mistake gives a different answer, decides between them.
    """
    matching = _step_mistakes_matching(rule, got, w, grad, lr, weight_decay)
    if len(matching) > 1:
        case_w, case_grad = np.array(STEP_CASE_W), np.array(STEP_CASE_GRAD)
        try:
            answer = _step(fn, case_w, case_grad, STEP_CASE_LR, STEP_CASE_DECAY)
        except (_Failed, _StudentRaised):
            return _one_of(matching, fallback)
        on_case = _step_mistakes_matching(rule, answer, case_w, case_grad, STEP_CASE_LR, STEP_CASE_DECAY)
        matching = [diagnosis for diagnosis in matching if diagnosis in on_case] or matching
    return _one_of(matching, fallback)


def _step_problems(count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """Random (w, grad, lr, weight_decay): lr in [0.01, 0.5], weight_decay in [0.001, 0.1]."""
    rng = _generator(seed)
    problems = []
    for _ in range(count):
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 6)))
        w, grad = rng.normal(size=shape), rng.normal(size=shape)
        problems.append((w, grad, float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.001, 0.1))))
    return problems


def _step_returns_array(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        for shape in ((3, 4), (5,)):
            w = _signed_input(shape, WD_SEED)
            _step(fn, w, _signed_input(shape, WD_SEED + 1), 0.1, 0.01)
        return ""

    return prop


def _step_hand_made(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        w, grad = np.array(STEP_CASE_W), np.array(STEP_CASE_GRAD)
        got = _step(fn, w, grad, STEP_CASE_LR, STEP_CASE_DECAY)
        expected = np.array(STEP_CASE_EXPECTED)
        if not _close(got, expected, rtol=STEP_RTOL, atol=0):
            hint = _step_diagnosis(rule, fn, got, w, grad, STEP_CASE_LR, STEP_CASE_DECAY, rule.generic_hint)
            raise _Failed(_numbers(expected), _numbers(got), hint)
        return ""

    return prop


def _step_agrees_on_random_problems(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        problems = _step_problems(STEP_PROBLEMS, WD_SEED + 2)
        disagreements = []  # (index, student's result)
        for index, (w, grad, lr, weight_decay) in enumerate(problems):
            got = _step(fn, w, grad, lr, weight_decay)
            if not _close(got, rule.reference(w, grad, lr, weight_decay), rtol=STEP_RTOL, atol=STEP_RTOL):
                disagreements.append((index, got))
        if not disagreements:
            return f"{STEP_PROBLEMS} of {STEP_PROBLEMS} agree"
        every_time = [  # a mistake that explains every disagreement is the likeliest one
            rule.hint(key)
            for key, mistake in _STEP_MISTAKES.items()
            if all(_close(got, mistake.update(*problems[i]), rtol=1e-9, atol=1e-12) for i, got in disagreements)
        ]
        index, got = disagreements[0]
        w, grad, lr, weight_decay = problems[index]
        difference = float(np.max(np.abs(got - rule.reference(w, grad, lr, weight_decay))))
        got_text = (
            f"a largest difference of {difference:.3g} on problem {index} (lr = {lr:.4f}, "
            f"weight_decay = {weight_decay:.4f}); {len(disagreements)} of {STEP_PROBLEMS} problems disagree"
        )
        hint = _one_of(every_time or _step_mistakes_matching(rule, got, w, grad, lr, weight_decay), rule.generic_hint)
        raise _Failed(f"{rule.formula} (rtol {STEP_RTOL:.0e})", got_text, hint)

    return prop


def _step_zero_decay_is_sgd(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        w, grad = _signed_input(50, WD_SEED + 3), _signed_input(50, WD_SEED + 4)
        try:
            got = _step(fn, w, grad, 0.1, 0.0)
        except _StudentRaised as raised:
            if isinstance(raised.error, ValueError):
                hint = "weight_decay = 0 is allowed (plain SGD): reject only weight_decay < 0"
                raise _Failed("a result for weight_decay = 0", str(raised), hint) from None
            raise
        if not _close(got, w - 0.1 * grad, rtol=STEP_RTOL, atol=STEP_RTOL):
            fallback = "with weight_decay = 0 the step is plain SGD, w - lr·grad"
            hint = _step_diagnosis(rule, fn, got, w, grad, 0.1, 0.0, fallback)
            raise _Failed("w - lr·grad (lr = 0.1, weight_decay = 0)", "a different array", hint)
        return ""

    return prop


_STEP_VALIDATION = Diagnosis(
    "the missing argument checks",
    "validate the arguments before using them: weight_decay < 0 and lr <= 0 must raise ValueError naming the value",
)
_PURE_DECAY_HINT = "with grad = 0 the step is w·(1 - lr·weight_decay)"
_STEP_SHAPE = Diagnosis(
    "a result that is not a float array of w's shape", "the new weights are a float array of w's shape"
)


def _step_pure_decay(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        w = _signed_input(50, WD_SEED + 5)
        lr, weight_decay = DECAY_LR, DECAY_WEIGHT_DECAY
        got = _step(fn, w, np.zeros_like(w), lr, weight_decay)
        factor = 1 - lr * weight_decay
        ratio = got / w
        scale = float(np.median(ratio))
        uniform = bool(np.allclose(ratio, scale, rtol=1e-9, atol=0))
        if uniform and math.isclose(scale, factor, rel_tol=STEP_RTOL):
            return f"w × {scale:.6f} per step; {scale:.3f}^1000 = {scale**1000:.4f}"
        expected = f"w × {factor:.6f}"
        hint = _step_diagnosis(rule, fn, got, w, np.zeros_like(w), lr, weight_decay, _PURE_DECAY_HINT)
        raise _Failed(expected, f"w × {scale:.6f}" if uniform else "not a fixed multiple of w", hint)

    return prop


def _step_leaves_inputs_unchanged(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        w, grad = _signed_input((4, 5), WD_SEED + 6), _signed_input((4, 5), WD_SEED + 7)
        w_before, grad_before = w.copy(), grad.copy()
        _step(fn, w, grad, 0.1, 0.01, copies=False)  # the caller's arrays, not copies
        hint = "w is updated in place (`w -= …`), but the caller still holds the old w: the step returns a new array"
        _require_unchanged("w", w, w_before, hint)
        hint = "grad is changed in place (`grad += …`), but the caller still holds it: compute a new array"
        _require_unchanged("grad", grad, grad_before, hint)
        return ""

    return prop


def _step_rejects_negative_decay(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        hint = _STEP_VALIDATION
        w = _signed_input(5, WD_SEED + 8)
        _expect_value_error("ValueError for weight_decay = -0.01", hint, fn, w, w.copy(), 0.1, -0.01)
        return ""

    return prop


def _step_rejects_bad_lr(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        hint = _STEP_VALIDATION
        w = _signed_input(5, WD_SEED + 9)
        for lr in (0.0, -0.1):
            _expect_value_error(f"ValueError for lr = {lr}", hint, fn, w, w.copy(), lr, 0.01)
        return ""

    return prop


TRAJECTORY_STEPS = 50
TRAJECTORY_LR = 0.1
TRAJECTORY_DECAY = 0.05


def _quadratic_problem(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, b, w0) for the loss ½wᵀAw - bᵀw, A symmetric with eigenvalues 1, 2, 3, 4 (gradient Aw - b)."""
    rng = _generator(seed)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    return (q * np.arange(1.0, 5.0)) @ q.T, rng.normal(size=4), rng.normal(size=4)


def _decoupled_follows_l2_trajectory(fn: Callable[..., Any]) -> str:
    a, b, w0 = _quadratic_problem(WD_SEED + 10)
    student, reference = w0.copy(), w0.copy()
    for step in range(1, TRAJECTORY_STEPS + 1):
        previous, grad = student, a @ student - b
        student = _step(fn, previous, grad, TRAJECTORY_LR, TRAJECTORY_DECAY)
        reference = _l2_step(reference, a @ reference - b, TRAJECTORY_LR, TRAJECTORY_DECAY)
        if not _close(student, reference, rtol=STEP_RTOL, atol=STEP_RTOL):
            fallback = _DECOUPLED_RULE.generic_hint
            if step > 1:
                fallback += "; the earlier steps agreed: the step must depend only on its arguments (keep no state)"
            rule, lr, decay = _DECOUPLED_RULE, TRAJECTORY_LR, TRAJECTORY_DECAY
            hint = _step_diagnosis(rule, fn, student, previous, grad, lr, decay, fallback)
            raise _Failed(f"sgd_l2_step's weights after step {step}", "different weights", hint)
    return ""


def _step_properties(rule: _StepRule) -> list[tuple[str, _Property]]:
    case = _step_call_text(rule, STEP_CASE_W, STEP_CASE_GRAD, STEP_CASE_LR, STEP_CASE_DECAY)
    factor = 1 - STEP_CASE_LR * STEP_CASE_DECAY
    if rule.decoupled:
        worked = f"(1 - {STEP_CASE_LR}·{STEP_CASE_DECAY})·w - {STEP_CASE_LR}·grad = {factor}·w - {STEP_CASE_LR}·grad"
    else:
        worked = f"w - {STEP_CASE_LR}·(grad + {STEP_CASE_DECAY}·w) = {factor}·w - {STEP_CASE_LR}·grad"
    decay = 1 - DECAY_LR * DECAY_WEIGHT_DECAY
    properties: list[tuple[str, _Property]] = [
        ("returns a new float array of w's shape ((3, 4) and (5,))", _step_returns_array(rule)),
        (f"{case} == {list(STEP_CASE_EXPECTED)} ({worked})", _step_hand_made(rule)),
        (
            f"agrees with {rule.formula} on {STEP_PROBLEMS} random problems "
            f"(seed {WD_SEED + 2}, lr in [0.01, 0.5], weight_decay in [0.001, 0.1], rtol {STEP_RTOL:.0e})",
            _step_agrees_on_random_problems(rule),
        ),
        ("weight_decay = 0 gives the plain SGD step w - lr·grad", _step_zero_decay_is_sgd(rule)),
        (
            f"grad = 0 shrinks w by the factor 1 - lr·weight_decay = {decay:g} "
            f"(lr = {DECAY_LR}, weight_decay = {DECAY_WEIGHT_DECAY})",
            _step_pure_decay(rule),
        ),
    ]
    if rule.decoupled:
        properties.append(
            (
                f"{TRAJECTORY_STEPS} steps on a quadratic loss follow sgd_l2_step's trajectory "
                f"(for SGD the two forms are one update; lr = {TRAJECTORY_LR}, weight_decay = {TRAJECTORY_DECAY}, "
                f"rtol {STEP_RTOL:.0e})",
                _decoupled_follows_l2_trajectory,
            )
        )
    properties += [
        ("leaves w and grad unchanged", _step_leaves_inputs_unchanged(rule)),
        ("weight_decay < 0 raises ValueError (-0.01)", _step_rejects_negative_decay(rule)),
        ("lr <= 0 raises ValueError (0.0, -0.1)", _step_rejects_bad_lr(rule)),
    ]
    return properties


_L2_PROPERTIES = _step_properties(_L2_RULE)
_DECOUPLED_PROPERTIES = _step_properties(_DECOUPLED_RULE)


@_checker("sgd_l2_step(w, grad, lr, weight_decay) -> new w", _L2_PROPERTIES)
def check_sgd_l2_step(fn: Callable[..., Any]) -> CheckReport:
    """The contract: one SGD step on ``loss + (weight_decay / 2)·‖w‖²``, whose
    gradient is ``grad + weight_decay·w``, so the result is
    ``w - lr·(grad + weight_decay·w)``, a new array (``w`` and ``grad`` are left
    unchanged); ``ValueError`` for ``weight_decay < 0`` and for ``lr <= 0``.
    Prints one line per property; a wrong answer is matched against typical
    mistakes (sign errors, the decay not multiplied by lr, a ½ or a 2 in the
    penalty's gradient, the decay applied to the updated weights) to pick the hint.
    """


@_checker("sgd_decoupled_step(w, grad, lr, weight_decay) -> new w", _DECOUPLED_PROPERTIES)
def check_sgd_decoupled_step(fn: Callable[..., Any]) -> CheckReport:
    """The contract: decoupled weight decay (Loshchilov & Hutter, 2019) in the
    convention of ``torch.optim.AdamW``, where the decay is multiplied by the
    learning rate: ``(1 - lr·weight_decay)·w - lr·grad``, a new array; for plain
    SGD this is the same update as :func:`check_sgd_l2_step`'s, which a
    50-step trajectory on a quadratic loss confirms. ``ValueError`` for
    ``weight_decay < 0`` and for ``lr <= 0``. Prints one line per property.
    """


# --- soft_threshold ------------------------------------------------------------------------

L1_SEED = 1996  # Tibshirani, "Regression shrinkage and selection via the lasso"
L1_RTOL = 1e-12


def _soft_threshold(w: np.ndarray, threshold: float) -> np.ndarray:
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


_HARD = Diagnosis(
    "hard thresholding",
    "keeps survivors unchanged — that is hard thresholding; soft thresholding also shrinks them by t",
)
_SOFT_MISTAKES: tuple[tuple[Callable[[np.ndarray, float], np.ndarray], Diagnosis], ...] = (
    (lambda w, t: np.where(np.abs(w) > t, w, 0.0), _HARD),
    (lambda w, t: np.where(np.abs(w) >= t, w, 0.0), _HARD),
    (
        lambda w, t: w - t * np.sign(w),
        Diagnosis(
            "shrinking without zeroing",
            "shrinks every entry by t without zeroing: entries with |w| < t cross zero and change sign, "
            "where the minimiser of ½(x - w)² + t|x| is exactly 0",
        ),
    ),
    (
        lambda w, t: np.maximum(np.abs(w) - t, 0.0),
        Diagnosis("the lost sign", "the sign is lost: shrinking moves w towards 0, so negative weights stay negative"),
    ),
    (
        lambda w, t: np.maximum(w - t, 0.0),
        Diagnosis(
            "the zeroed negative weights",
            "negative weights are zeroed: max(w - t, 0) only handles w > 0, while the penalty t|x| is symmetric",
        ),
    ),
    (
        lambda w, t: _soft_threshold(w, t / 2),
        Diagnosis(
            "the halved threshold",
            "the threshold is scaled by ½: the minimiser of ½(x - w)² + t|x| shrinks by t, not t/2",
        ),
    ),
    (
        lambda w, t: _soft_threshold(w, 2 * t),
        Diagnosis(
            "the doubled threshold",
            "the threshold is doubled: the minimiser of ½(x - w)² + t|x| shrinks by t, not 2t",
        ),
    ),
    (
        lambda w, t: np.clip(w, -t, t),
        Diagnosis(
            "clipping instead of thresholding",
            "that is clipping (np.clip(w, -t, t)); soft thresholding sets [-t, t] to 0 and shrinks the rest by t",
        ),
    ),
)
_SOFT_FORMULA_HINT = "no typical mistake matches: soft thresholding is sign(w)·max(|w| - threshold, 0), elementwise"
_SOFT_SHAPE = Diagnosis(
    "a result that is not a float array of w's shape", "the result is a new float array of w's shape"
)

# The hand-made case: every number is a short binary fraction (the answer is exact), the boundary
# |w| = t appears on both sides, and each typical mistake gives a different answer.
SOFT_CASE_W = (-3.0, -1.5, -1.0, -0.25, 0.0, 0.75, 1.0, 2.5)
SOFT_CASE_THRESHOLD = 1.0
SOFT_CASE_EXPECTED = (-2.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5)
SOFT_THRESHOLDS = (0.1, 0.5, 1.0, 2.0, 3.0)


def _soft(fn: Callable[..., Any], w: np.ndarray, threshold: float, *, copy: bool = True) -> np.ndarray:
    result = _as_array(_call(fn, w.copy() if copy else w, threshold))
    if result is None:
        raise _Failed("the thresholded array", "None", _NO_RETURN)
    return _require_float_array(result, w.shape, "a result:", _SOFT_SHAPE)


def _soft_mistakes_matching(
    got: np.ndarray, w: np.ndarray, threshold: float, where: np.ndarray | None = None
) -> list[Diagnosis]:
    """Diagnoses of the typical mistakes that give ``got`` (only the entries ``where``, if given)."""
    hints = []
    for mistake, hint in _SOFT_MISTAKES:
        wrong = mistake(w, threshold)
        if where is not None:
            wrong, candidate = wrong[where], got[where]
        else:
            candidate = got
        if _close(candidate, wrong, rtol=1e-9, atol=1e-12):
            hints.append(hint)
    return hints


def _soft_input(seed: int, threshold: float, size: int = 400) -> np.ndarray:
    """Normal values with the boundary ±threshold and 0 included."""
    values = _generator(seed).normal(0.0, 1.5, size)
    return np.concatenate([values, [threshold, -threshold, 0.0]])


def _soft_returns_array(fn: Callable[..., Any]) -> str:
    for shape in ((4, 5), (7,)):
        _soft(fn, _signed_input(shape, L1_SEED), 0.8)
    return ""


def _soft_hand_made(fn: Callable[..., Any]) -> str:
    w = np.array(SOFT_CASE_W)
    got = _soft(fn, w, SOFT_CASE_THRESHOLD)
    expected = np.array(SOFT_CASE_EXPECTED)
    if not _close(got, expected, rtol=L1_RTOL, atol=0):
        matching = _soft_mistakes_matching(got, w, SOFT_CASE_THRESHOLD)
        raise _Failed(_numbers(expected), _numbers(got), _one_of(matching, _SOFT_FORMULA_HINT))
    return ""


def _soft_zeroes_the_dead_zone(fn: Callable[..., Any]) -> str:
    threshold = 0.75
    w = _soft_input(L1_SEED + 1, threshold)
    got = _soft(fn, w, threshold)
    inside = np.abs(w) <= threshold
    nonzero = int(np.count_nonzero(got[inside]))
    if nonzero:
        boundary = np.abs(w) == threshold
        fallback = "every entry with |w| <= t becomes exactly 0"
        if not np.any(got[inside & ~boundary]):
            fallback = "entries with |w| == t must become 0 too: max(|w| - t, 0) is 0 there (keep only |w| > t)"
        hint = _one_of(_soft_mistakes_matching(got, w, threshold, inside), fallback)
        got_text = f"{nonzero} of {int(inside.sum())} such entries nonzero"
        raise _Failed(f"exact zeros where |w| <= {threshold}", got_text, hint)
    return f"{int(inside.sum())} of {w.size} entries zeroed"


def _soft_shrinks_survivors(fn: Callable[..., Any]) -> str:
    threshold = 0.75
    w = _soft_input(L1_SEED + 2, threshold)
    got = _soft(fn, w, threshold)
    outside = np.abs(w) > threshold
    expected = w[outside] - threshold * np.sign(w[outside])
    if not _close(got[outside], expected, rtol=L1_RTOL, atol=1e-15):
        matching = _soft_mistakes_matching(got, w, threshold, outside)
        hint = _one_of(matching, "survivors move towards 0 by exactly t: w - t·sign(w)")
        wrong = int(np.count_nonzero(~np.isclose(got[outside], expected, rtol=L1_RTOL, atol=1e-15)))
        got_text = f"{wrong} of {int(outside.sum())} survivors differ"
        raise _Failed(f"w - {threshold}·sign(w) where |w| > {threshold}", got_text, hint)
    return ""


def _soft_is_odd(fn: Callable[..., Any]) -> str:
    threshold = 0.6
    w = _soft_input(L1_SEED + 3, threshold)
    got, mirrored = _soft(fn, w, threshold), _soft(fn, -w, threshold)
    if not np.array_equal(mirrored, -got):
        differing = int(np.count_nonzero(mirrored != -got))
        fallback = "treat -w like w: the result for -w is minus the result for w; use sign(w)"
        hint = _one_of(_soft_mistakes_matching(got, w, threshold), fallback)
        raise _Failed("soft_threshold(-w, t) == -soft_threshold(w, t)", f"{differing} of {w.size} entries differ", hint)
    return ""


def _soft_zero_threshold_is_identity(fn: Callable[..., Any]) -> str:
    w = _soft_input(L1_SEED + 4, 0.0)
    try:
        got = _soft(fn, w, 0.0)
    except _StudentRaised as raised:
        if isinstance(raised.error, ValueError):
            hint = "threshold = 0 is allowed (no penalty): reject only threshold < 0"
            raise _Failed("a result for threshold = 0", str(raised), hint) from None
        raise
    if not np.array_equal(got, w):
        fallback = "with threshold 0 nothing is shrunk: return w unchanged (a copy)"
        hint = _one_of(_soft_mistakes_matching(got, w, 0.0), fallback)
        raise _Failed("w unchanged", f"{int(np.count_nonzero(got != w))} of {w.size} entries changed", hint)
    return ""


def _soft_agrees_on_random_arrays(fn: Callable[..., Any]) -> str:
    for index, threshold in enumerate(SOFT_THRESHOLDS):
        w = _generator(L1_SEED + 5 + index).normal(0.0, 1.5, (10, 20))
        got = _soft(fn, w, threshold)
        if not _close(got, _soft_threshold(w, threshold), rtol=L1_RTOL, atol=0):
            hint = _one_of(_soft_mistakes_matching(got, w, threshold), _SOFT_FORMULA_HINT)
            wrong = int(np.count_nonzero(~np.isclose(got, _soft_threshold(w, threshold), rtol=L1_RTOL, atol=0)))
            got_text = f"{wrong} of {w.size} entries differ for threshold {threshold}"
            raise _Failed(f"sign(w)·max(|w| - {threshold}, 0)", got_text, hint)
    return f"{len(SOFT_THRESHOLDS)} of {len(SOFT_THRESHOLDS)} thresholds agree"


def _prox_objective(x: np.ndarray, w: np.ndarray, threshold: float) -> np.ndarray:
    """½(x - w)² + t·|x|, elementwise: the function soft thresholding minimises over x."""
    return 0.5 * (x - w) ** 2 + threshold * np.abs(x)


def _soft_is_the_proximal_step(fn: Callable[..., Any]) -> str:
    threshold = 0.6
    w = _soft_input(L1_SEED + 10, threshold)
    got = _soft(fn, w, threshold)
    best = _soft_threshold(w, threshold)
    with np.errstate(all="ignore"):
        ours, minimum = _prox_objective(got, w, threshold), _prox_objective(best, w, threshold)
        above = ~(ours <= minimum + 1e-12 * (1 + minimum))
    if above.any():
        worst = int(np.argmax(np.where(above, np.nan_to_num(ours - minimum, nan=np.inf), -np.inf)))
        got_text = (
            f"{int(above.sum())} of {w.size} entries above it (worst: w = {w[worst]:.4f}, your x = {got[worst]:.4f} "
            f"gives {ours[worst]:.4f}, the minimum {minimum[worst]:.4f} is at x = {best[worst] + 0.0:.4f})"
        )
        hint = _one_of(_soft_mistakes_matching(got, w, threshold), "the minimiser is x = sign(w)·max(|w| - t, 0)")
        raise _Failed("the minimum of ½(x - w)² + t·|x| at every entry", got_text, hint)
    return f"the minimum at all {w.size} entries"


def _soft_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    w = _soft_input(L1_SEED + 11, 0.6)
    before = w.copy()
    _soft(fn, w, 0.6, copy=False)  # the caller's array, not a copy
    hint = "w is changed in place (e.g. `w[np.abs(w) <= t] = 0`), but the caller still holds it: compute a new array"
    _require_unchanged("w", w, before, hint)
    return ""


def _soft_rejects_negative_threshold(fn: Callable[..., Any]) -> str:
    hint = "validate threshold before using it: a negative threshold must raise ValueError naming the value"
    _expect_value_error("ValueError for threshold = -0.5", hint, fn, _signed_input(5, L1_SEED + 12), -0.5)
    return ""


_SOFT_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns a new float array of w's shape ((4, 5) and (7,))", _soft_returns_array),
    (
        f"soft_threshold({list(SOFT_CASE_W)}, {SOFT_CASE_THRESHOLD}) == {list(SOFT_CASE_EXPECTED)}",
        _soft_hand_made,
    ),
    (
        "exact zeros where |w| <= threshold, the boundary |w| == threshold included (threshold 0.75)",
        _soft_zeroes_the_dead_zone,
    ),
    (f"survivors (|w| > threshold) move towards 0 by exactly threshold (rtol {L1_RTOL:.0e})", _soft_shrinks_survivors),
    ("odd: soft_threshold(-w, t) == -soft_threshold(w, t)", _soft_is_odd),
    ("threshold = 0 returns w unchanged", _soft_zero_threshold_is_identity),
    (
        f"agrees with sign(w)·max(|w| - threshold, 0) on random arrays "
        f"(seeds {L1_SEED + 5}–{L1_SEED + 4 + len(SOFT_THRESHOLDS)}, "
        f"thresholds {', '.join(map(str, SOFT_THRESHOLDS))}, rtol {L1_RTOL:.0e})",
        _soft_agrees_on_random_arrays,
    ),
    ("is the proximal step of t·|x|: minimises ½(x - w)² + t·|x| at every entry (t = 0.6)", _soft_is_the_proximal_step),
    ("leaves w unchanged", _soft_leaves_input_unchanged),
    ("threshold < 0 raises ValueError (-0.5)", _soft_rejects_negative_threshold),
]


@_checker("soft_threshold(w, threshold) -> array", _SOFT_PROPERTIES)
def check_soft_threshold(fn: Callable[..., Any]) -> CheckReport:
    """The contract: elementwise ``sign(w)·max(|w| - threshold, 0)``, the proximal
    step of ``threshold·|x|`` (the minimiser of ``½(x - w)² + threshold·|x|``):
    exact zeros where ``|w| <= threshold``, survivors shrunk towards 0 by exactly
    ``threshold``, a new array (``w`` unchanged), ``ValueError`` for a negative
    threshold. Prints one line per property; a wrong answer is matched against
    typical mistakes (hard thresholding, shrinking without zeroing, a lost sign,
    a halved threshold, clipping) to pick the hint.
    """


# --- ridge_fit -----------------------------------------------------------------------------

RIDGE_SEED = 1970  # Hoerl & Kennard, "Ridge regression"
RIDGE_RTOL = 1e-8
# The hand-made case: XᵀX + I = [[3, 1], [1, 3]] and Xᵀy = [4, 5], so w = [7/8, 11/8].
RIDGE_CASE_X = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))
RIDGE_CASE_Y = (1.0, 2.0, 3.0)
RIDGE_CASE_ALPHA = 1.0
RIDGE_CASE_EXPECTED = (0.875, 1.375)
# (n, d, alpha): more examples than features and fewer
RIDGE_PROBLEMS = ((50, 5, 3.0), (30, 10, 0.1), (100, 3, 10.0), (10, 40, 1.0), (8, 8, 0.5), (25, 60, 2.5))
RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
_SINGULAR_HINT = Diagnosis(
    "a singular system", "XᵀX is singular when n < d, but XᵀX + alpha·I is not for alpha > 0: is alpha·I missing?"
)


def _ridge_reference(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """The minimiser of ‖y - Xw‖² + alpha·‖w‖² (scikit-learn's Ridge, fit_intercept=False)."""
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)


def _ridge_missing_alpha(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _ridge_with_gram(change: Callable[[np.ndarray, float, int], np.ndarray]) -> Callable[..., np.ndarray]:
    """A wrong ridge solution that solves ``change(XᵀX, alpha, n) w = Xᵀy``."""

    def solve(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
        return np.linalg.solve(change(X.T @ X, alpha, X.shape[0]), X.T @ y)

    return solve


_RIDGE_MISTAKES: tuple[tuple[Callable[..., np.ndarray], Diagnosis], ...] = (
    (
        _ridge_with_gram(lambda g, a, n: g + a / 2 * np.eye(len(g))),
        Diagnosis(
            "the halved alpha",
            "alpha is scaled by ½: scikit-learn's Ridge objective ‖y−Xw‖² + α‖w‖² has no ½, and its minimiser "
            "solves (XᵀX + alpha·I)w = Xᵀy",
        ),
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + 2 * a * np.eye(len(g))),
        Diagnosis(
            "the doubled alpha",
            "alpha is doubled: the 2 in the gradient -2Xᵀ(y - Xw) + 2·alpha·w multiplies both terms, so it cancels",
        ),
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + n * a * np.eye(len(g))),
        Diagnosis(
            "alpha multiplied by n",
            "alpha is multiplied by n: that mixes in the 1/(2n) scaling of Lasso's objective; "
            "Ridge's objective ‖y−Xw‖² + α‖w‖² has no 1/n",
        ),
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + a),
        Diagnosis(
            "alpha added to every entry",
            "alpha is added to every entry of XᵀX: the penalty α‖w‖² adds alpha·I, to the diagonal only",
        ),
    ),
    (
        _ridge_missing_alpha,
        Diagnosis(
            "the missing alpha",
            "alpha is missing: that is (minimum-norm) least squares; the penalty adds alpha·I to XᵀX",
        ),
    ),
)
_RIDGE_FORMULA_HINT = "no typical mistake matches: the minimiser solves the normal equations (XᵀX + alpha·I)w = Xᵀy"
_RIDGE_VALIDATION = Diagnosis(
    "the missing argument checks",
    "validate the arguments before using them: a negative alpha, a 1-D X, or a y without one entry per row of X "
    "must raise ValueError naming the values",
)
_RIDGE_2D = Diagnosis(
    "a 2-D w", "w is a 1-D vector of shape (d,), not a column or row matrix: a 2-D y (or result) has crept in"
)
_RIDGE_DUAL = Diagnosis(
    "one coefficient per example",
    "that has one entry per example, like the dual coefficients (XXᵀ + alpha·I)⁻¹y; w has one per feature, "
    "from the d×d system (XᵀX + alpha·I)w = Xᵀy",
)
_RIDGE_SHAPE = Diagnosis("a w that is not a float vector of shape (d,)", "w is a float array of shape (d,)")


def _relative_difference(got: np.ndarray, expected: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(got - expected) / np.linalg.norm(expected))


def _ridge_mistakes_matching(got: np.ndarray, X: np.ndarray, y: np.ndarray, alpha: float) -> list[Diagnosis]:
    hints = []
    for mistake, hint in _RIDGE_MISTAKES:
        try:
            with np.errstate(all="ignore"):
                wrong = mistake(X, y, alpha)
        except np.linalg.LinAlgError:
            continue
        if got.shape == wrong.shape and _relative_difference(got, wrong) < 1e-6:
            hints.append(hint)
    return hints


def _ridge_problem(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X with standard normal entries and y = X·w_true + noise."""
    rng = _generator(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    return X, y


def _ridge(fn: Callable[..., Any], X: np.ndarray, y: np.ndarray, alpha: float, *, copies: bool = True) -> np.ndarray:
    """Call the student's ridge_fit (on copies, unless told otherwise) and require a float array of shape (d,)."""
    args = (X.copy(), y.copy()) if copies else (X, y)
    try:
        result = _as_array(_call(fn, *args, alpha))
    except _StudentRaised as raised:
        if isinstance(raised.error, np.linalg.LinAlgError) and alpha > 0:
            raise _Failed("a result", str(raised), _SINGULAR_HINT) from None
        raise
    n, d = X.shape
    if result is None:
        raise _Failed(f"coefficients of shape ({d},)", "None", _NO_RETURN)
    shape = getattr(result, "shape", None)
    if isinstance(result, np.ndarray) and shape in ((d, 1), (1, d)):
        raise _Failed(f"w of shape ({d},)", f"shape {shape}", _RIDGE_2D)
    if isinstance(result, np.ndarray) and shape == (n,) and n != d:
        raise _Failed(f"w of shape ({d},)", f"shape {shape}, one entry per example (n = {n})", _RIDGE_DUAL)
    return _require_float_array(result, (d,), "w", _RIDGE_SHAPE)


def _ridge_returns_vector(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(50, 5, RIDGE_SEED)
    _ridge(fn, X, y, 3.0)
    return ""


def _ridge_hand_made(fn: Callable[..., Any]) -> str:
    X, y = np.array(RIDGE_CASE_X), np.array(RIDGE_CASE_Y)
    got = _ridge(fn, X, y, RIDGE_CASE_ALPHA)
    expected = np.array(RIDGE_CASE_EXPECTED)
    if not _close(got, expected, rtol=1e-10, atol=0):
        hint = _one_of(_ridge_mistakes_matching(got, X, y, RIDGE_CASE_ALPHA), _RIDGE_FORMULA_HINT)
        raise _Failed(_numbers(expected), _numbers(got), hint)
    return ""


def _ridge_matches_reference(fn: Callable[..., Any]) -> str:
    for index, (n, d, alpha) in enumerate(RIDGE_PROBLEMS):
        X, y = _ridge_problem(n, d, RIDGE_SEED + 1 + index)
        got, expected = _ridge(fn, X, y, alpha), _ridge_reference(X, y, alpha)
        difference = _relative_difference(got, expected)
        if not difference < RIDGE_RTOL:
            hint = _one_of(_ridge_mistakes_matching(got, X, y, alpha), _RIDGE_FORMULA_HINT)
            got_text = f"relative difference {difference:.2g} for X of shape ({n}, {d}), alpha = {alpha}"
            raise _Failed(f"(XᵀX + alpha·I)⁻¹Xᵀy within {RIDGE_RTOL:.0e}", got_text, hint)
    return f"{len(RIDGE_PROBLEMS)} of {len(RIDGE_PROBLEMS)} agree"


def _ridge_gradient_vanishes(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(50, 5, RIDGE_SEED + 10)
    alpha = 3.0
    w = _ridge(fn, X, y, alpha)
    with np.errstate(all="ignore"):
        gradient = -2 * X.T @ (y - X @ w) + 2 * alpha * w
        size = float(np.linalg.norm(gradient) / np.linalg.norm(2 * X.T @ y))
    if not size < RIDGE_RTOL:
        hint = _one_of(_ridge_mistakes_matching(w, X, y, alpha), _RIDGE_FORMULA_HINT)
        got_text = f"{size:.2g}: w is not a minimiser of ‖y - Xw‖² + alpha·‖w‖²"
        raise _Failed(f"‖gradient‖ / ‖2Xᵀy‖ < {RIDGE_RTOL:.0e}", got_text, hint)
    return ""


def _ridge_zero_alpha_is_least_squares(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(60, 4, RIDGE_SEED + 11)
    try:
        got = _ridge(fn, X, y, 0.0)
    except _StudentRaised as raised:
        if isinstance(raised.error, ValueError) and not isinstance(raised.error, np.linalg.LinAlgError):
            hint = "alpha = 0 is allowed (ordinary least squares): reject only alpha < 0"
            raise _Failed("a result for alpha = 0", str(raised), hint) from None
        raise
    difference = _relative_difference(got, np.linalg.lstsq(X, y, rcond=None)[0])
    if not difference < RIDGE_RTOL:
        hint = "with alpha = 0 ridge is ordinary least squares, the solution of (XᵀX)w = Xᵀy"
        got_text = f"relative difference {difference:.2g}"
        raise _Failed(f"np.linalg.lstsq's solution within {RIDGE_RTOL:.0e}", got_text, hint)
    return ""


def _ridge_shrinks_monotonically(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(40, 8, RIDGE_SEED + 12)
    solutions = [_ridge(fn, X, y, alpha) for alpha in RIDGE_ALPHAS]
    norms = [float(np.linalg.norm(w)) for w in solutions]
    text = ", ".join(f"{norm:.4g}" for norm in norms)
    if not all(later < earlier for earlier, later in zip(norms, norms[1:])):
        every_alpha = [  # a mistake that gives the student's w at every alpha
            diagnosis
            for diagnosis in _ridge_mistakes_matching(solutions[0], X, y, RIDGE_ALPHAS[0])
            if all(diagnosis in _ridge_mistakes_matching(w, X, y, a) for w, a in zip(solutions, RIDGE_ALPHAS))
        ]
        fallback = "a larger alpha must give a smaller ‖w‖: alpha weighs the penalty ‖w‖² against the fit"
        raise _Failed("‖w‖ decreasing as alpha grows", f"‖w‖ = {text}", _one_of(every_alpha, fallback))
    return f"‖w‖ = {text}"


def _ridge_works_with_more_features(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(20, 200, RIDGE_SEED + 13)
    alpha = 1.0
    got = _ridge(fn, X, y, alpha)
    difference = _relative_difference(got, _ridge_reference(X, y, alpha))
    if not difference < RIDGE_RTOL:
        hint = _one_of(_ridge_mistakes_matching(got, X, y, alpha), _SINGULAR_HINT)
        raise _Failed(f"(XᵀX + alpha·I)⁻¹Xᵀy within {RIDGE_RTOL:.0e}", f"relative difference {difference:.2g}", hint)
    return ""


def _ridge_leaves_inputs_unchanged(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(30, 5, RIDGE_SEED + 14)
    X_before, y_before = X.copy(), y.copy()
    _ridge(fn, X, y, 1.0, copies=False)  # the caller's arrays, not copies
    for name, now, before in (("X", X, X_before), ("y", y, y_before)):
        hint = f"{name} is changed in place (e.g. `{name} -= {name}.mean(axis=0)`), but the caller still holds it"
        _require_unchanged(name, now, before, hint)
    return ""


def _ridge_rejects_negative_alpha(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(30, 5, RIDGE_SEED + 15)
    hint = _RIDGE_VALIDATION
    _expect_value_error("ValueError for alpha = -1.0", hint, fn, X, y, -1.0)
    return ""


def _ridge_rejects_mismatched_shapes(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(30, 5, RIDGE_SEED + 16)
    hint = _RIDGE_VALIDATION
    _expect_value_error("ValueError for X of shape (30, 5) and y of shape (29,)", hint, fn, X, y[:-1].copy(), 1.0)
    _expect_value_error("ValueError for X of shape (30,) and y of shape (30,)", hint, fn, X[:, 0].copy(), y, 1.0)
    return ""


_RIDGE_SHAPES = ", ".join(f"{n}×{d}" for n, d, _ in RIDGE_PROBLEMS)
_RIDGE_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns a float array of shape (d,) (X of shape (50, 5))", _ridge_returns_vector),
    (
        f"ridge_fit(X={[list(row) for row in RIDGE_CASE_X]}, y={list(RIDGE_CASE_Y)}, alpha={RIDGE_CASE_ALPHA}) == "
        f"{list(RIDGE_CASE_EXPECTED)} ((XᵀX + I)w = Xᵀy is [[3, 1], [1, 3]]w = [4, 5])",
        _ridge_hand_made,
    ),
    (
        f"matches (XᵀX + alpha·I)⁻¹Xᵀy on {len(RIDGE_PROBLEMS)} random problems "
        f"(n×d = {_RIDGE_SHAPES}; relative difference < {RIDGE_RTOL:.0e})",
        _ridge_matches_reference,
    ),
    (
        f"the gradient of ‖y - Xw‖² + alpha·‖w‖² vanishes at w (relative to ‖2Xᵀy‖, < {RIDGE_RTOL:.0e})",
        _ridge_gradient_vanishes,
    ),
    ("alpha = 0 with n > d gives least squares (np.linalg.lstsq)", _ridge_zero_alpha_is_least_squares),
    (
        f"larger alpha gives a smaller ‖w‖ (alpha = {', '.join(f'{a:g}' for a in RIDGE_ALPHAS)})",
        _ridge_shrinks_monotonically,
    ),
    ("works when n < d (X of shape (20, 200), alpha = 1)", _ridge_works_with_more_features),
    ("leaves X and y unchanged", _ridge_leaves_inputs_unchanged),
    ("alpha < 0 raises ValueError (-1.0)", _ridge_rejects_negative_alpha),
    ("mismatched shapes raise ValueError (y one entry short; X 1-D)", _ridge_rejects_mismatched_shapes),
]


@_checker("ridge_fit(X, y, alpha) -> w", _RIDGE_PROPERTIES)
def check_ridge_fit(fn: Callable[..., Any]) -> CheckReport:
    """The contract: the coefficient vector ``w`` of shape ``(d,)`` minimising
    ``‖y - Xw‖² + alpha·‖w‖²``, scikit-learn's ``Ridge(alpha,
    fit_intercept=False)`` objective (no ½, no 1/n), i.e. the solution of
    ``(XᵀX + alpha·I) w = Xᵀy``; it must work when there are fewer examples than
    features (``n < d``), leave ``X`` and ``y`` unchanged, and raise
    ``ValueError`` for ``alpha < 0`` and for mismatched shapes. Prints one line
    per property; a wrong answer is matched against typical mistakes (alpha
    halved, doubled, multiplied by n, added to every entry, or missing) to pick
    the hint.
    """


# --- choose_alpha --------------------------------------------------------------------------

CHOICE_SEED = 2021  # a draw on which the validation error has its minimum inside the grid (see the tests)
CHOICE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
CHOICE_SHAPES = (20, 40, 30)  # training rows, validation rows, features: fewer rows than features, as in d2l


def _choice_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_val, y_val): y = Xw + noise, w ~ N(0, 0.3²) per feature, unit noise."""
    n_train, n_val, d = CHOICE_SHAPES
    rng = _generator(CHOICE_SEED)
    w = 0.3 * rng.standard_normal(d)
    X_train = rng.standard_normal((n_train, d))
    y_train = X_train @ w + rng.standard_normal(n_train)
    X_val = rng.standard_normal((n_val, d))
    y_val = X_val @ w + rng.standard_normal(n_val)
    return X_train, y_train, X_val, y_val


def _mse(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return float(np.mean((X @ w - y) ** 2))


class _RecordingFit:
    """A ``fit(X, y, alpha)`` that solves ridge exactly and records a copy of what it was called with."""

    def __init__(self, solve: Callable[[np.ndarray, np.ndarray, float], np.ndarray] = _ridge_reference) -> None:
        self.solve = solve
        self.calls: list[tuple[np.ndarray, np.ndarray, Any]] = []

    def __call__(self, X: Any, y: Any, alpha: Any) -> np.ndarray:
        X, y = np.array(X, dtype=float), np.array(y, dtype=float)
        self.calls.append((X.copy(), y.copy(), alpha))
        return self.solve(X, y, alpha)


def _errors(alphas: Iterable[float], X_fit: np.ndarray, y_fit: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[float, float]:
    return {alpha: _mse(X, y, _ridge_reference(X_fit, y_fit, alpha)) for alpha in alphas}


def _argmin(errors: dict[float, float]) -> float:
    return min(errors, key=errors.get)


_CHOICE_RULE_HINT = "fit on the training data for each alpha and keep the alpha whose fit has the lowest validation MSE"
_CHOSE_ON_TRAIN = Diagnosis(
    "choosing on the training error",
    "the training error always prefers the weakest penalty, since the penalty only ever costs training fit: "
    "compare the fits by their error on the validation data",
)
_CHOSE_HIGHEST = Diagnosis("the highest error chosen", "the best alpha has the *lowest* validation MSE")
_FIT_ON_VALIDATION = Diagnosis(
    "fitting on the validation data",
    "fit only on (X_train, y_train): a fit that has seen the validation data is scored on examples it was "
    "trained on, and the comparison no longer measures generalization",
)
_NOT_AN_ALPHA = Diagnosis(
    "a result that is not one of the alphas",
    "return the chosen value of alpha itself (an element of alphas), not its position, its weights or its error",
)


def _choose_alpha(fn: Callable[..., Any], alphas: list[float], fit: _RecordingFit | None = None) -> tuple[Any, _RecordingFit]:
    """Call the student's function on copies of the problem with a recording ``fit``; check an alpha came back."""
    X_train, y_train, X_val, y_val = _choice_problem()
    fit = fit or _RecordingFit()
    choice = _call(fn, X_train, y_train, X_val, y_val, list(alphas), fit)
    if isinstance(choice, (bool, np.bool_)) or not isinstance(choice, (int, float, np.number)) or choice not in alphas:
        hint = _NO_RETURN if choice is None else _NOT_AN_ALPHA
        raise _Failed(f"one of alphas {_numbers(alphas)}", _describe_choice(choice), hint)
    return choice, fit




def _describe_choice(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return f"a {type(value).__name__}" if value is not None else "None"


def _alpha_diagnosis(choice: float, alphas: list[float], fit: _RecordingFit) -> Diagnosis | str:
    X_train, y_train, X_val, y_val = _choice_problem()
    if _used_other_data(fit):
        return _FIT_ON_VALIDATION
    validation = _errors(alphas, X_train, y_train, X_val, y_val)
    rules = {
        _CHOSE_ON_TRAIN: _argmin(_errors(alphas, X_train, y_train, X_train, y_train)),
        _CHOSE_HIGHEST: max(validation, key=validation.get),
    }
    return _one_of([diagnosis for diagnosis, alpha in rules.items() if alpha == choice], _CHOICE_RULE_HINT)


def _used_other_data(fit: _RecordingFit) -> bool:
    X_train, y_train, _, _ = _choice_problem()
    return any(
        X.shape != X_train.shape or y.shape != y_train.shape or not (np.array_equal(X, X_train) and np.array_equal(y, y_train))
        for X, y, _ in fit.calls
    )


def _choice_is_validation_best(fn: Callable[..., Any], alphas: list[float]) -> str:
    X_train, y_train, X_val, y_val = _choice_problem()
    validation = _errors(alphas, X_train, y_train, X_val, y_val)
    best = _argmin(validation)
    choice, fit = _choose_alpha(fn, alphas)
    if choice != best:
        expected = f"alpha = {best:g} (validation MSE {validation[best]:.4f})"
        got = f"alpha = {float(choice):g} (validation MSE {validation[choice]:.4f})"
        raise _Failed(expected, got, _alpha_diagnosis(choice, alphas, fit))
    return f"alpha = {float(choice):g}, validation MSE {validation[best]:.4f}"


def _choice_ascending(fn: Callable[..., Any]) -> str:
    return _choice_is_validation_best(fn, list(CHOICE_ALPHAS))


def _choice_descending(fn: Callable[..., Any]) -> str:
    _choice_is_validation_best(fn, list(reversed(CHOICE_ALPHAS)))
    return ""


def _choice_fits_on_training_data(fn: Callable[..., Any]) -> str:
    _, fit = _choose_alpha(fn, list(CHOICE_ALPHAS))
    n_train, n_val, d = CHOICE_SHAPES
    expected = f"every call fit(X_train, y_train, alpha) with the ({n_train}, {d}) training data"
    if not fit.calls:
        raise _Failed(expected, "fit never called", "use the `fit` you are given to fit each alpha")
    if _used_other_data(fit):
        shapes = sorted({X.shape for X, _, _ in fit.calls})
        raise _Failed(expected, f"calls with X of shapes {shapes} or other values", _FIT_ON_VALIDATION)
    return f"{len(fit.calls)} calls"


def _choice_fits_every_alpha(fn: Callable[..., Any]) -> str:
    alphas = list(CHOICE_ALPHAS)
    _, fit = _choose_alpha(fn, alphas)
    called = [alpha for _, _, alpha in fit.calls]
    if sorted(called) != sorted(alphas):
        hint = "fit once for each alpha of alphas (the grid you are given, each value once) and compare them all"
        raise _Failed(f"one fit per alpha, alphas {_numbers(alphas)}", f"fits for {_numbers(called)}", hint)
    return ""


def _choice_single_alpha(fn: Callable[..., Any]) -> str:
    _choose_alpha(fn, [3.0])  # its only valid answer is 3.0
    return ""


def _choice_tie_keeps_first(fn: Callable[..., Any]) -> str:
    # fit gives the same weights for 1 and 10 (the best two), so their validation errors tie exactly
    tied = _RecordingFit(lambda X, y, alpha: _ridge_reference(X, y, 10.0 if alpha in (1.0, 10.0) else alpha))
    alphas = [0.1, 1.0, 10.0, 1000.0]
    choice, fit = _choose_alpha(fn, alphas, tied)
    if choice != 1.0:
        hint: Diagnosis | str = "of alphas with the same validation MSE, keep the first one in alphas"
        if choice != 10.0:
            hint = _tie_diagnosis(choice, alphas, tied)
        raise _Failed("alpha = 1 (tied with 10, and listed first)", f"alpha = {float(choice):g}", hint)
    return ""


def _tie_diagnosis(choice: float, alphas: list[float], fit: _RecordingFit) -> Diagnosis | str:
    """Why neither tied alpha was chosen, with the tie's ``fit``: the same rules as :func:`_alpha_diagnosis`."""
    if _used_other_data(fit):
        return _FIT_ON_VALIDATION
    X_train, y_train, X_val, y_val = _choice_problem()
    scores = {
        _CHOSE_ON_TRAIN: {a: _mse(X_train, y_train, fit.solve(X_train, y_train, a)) for a in alphas},
        _CHOSE_HIGHEST: {a: -_mse(X_val, y_val, fit.solve(X_train, y_train, a)) for a in alphas},
    }
    return _one_of([d for d, errors in scores.items() if _argmin(errors) == choice], _CHOICE_RULE_HINT)


def _choice_leaves_inputs_unchanged(fn: Callable[..., Any]) -> str:
    arrays = _choice_problem()
    before = [a.copy() for a in arrays]
    alphas = list(CHOICE_ALPHAS)
    _call(fn, *arrays, alphas, _RecordingFit())  # the caller's objects, not copies
    hint = "do not modify the data or alphas in place (no `sort`, `pop` or `-=`): read them, and return an alpha"
    for name, now, then in zip(("X_train", "y_train", "X_val", "y_val"), arrays, before):
        _require_unchanged(name, now, then, hint)
    _require_unchanged("alphas", alphas, np.array(CHOICE_ALPHAS), hint)
    return ""


def _choice_rejects_empty(fn: Callable[..., Any]) -> str:
    hint = "with no alpha there is nothing to choose: an empty `alphas` must raise ValueError"
    _expect_value_error("ValueError for alphas = []", hint, fn, *_choice_problem(), [], _RecordingFit())
    return ""


_N_TRAIN, _N_VAL, _D = CHOICE_SHAPES
_CHOICE_PROPERTIES: list[tuple[str, _Property]] = [
    (
        f"returns the alpha of lowest validation MSE (alphas {_numbers(CHOICE_ALPHAS)}; n = {_N_TRAIN} training, "
        f"{_N_VAL} validation rows, d = {_D}; the training error prefers another alpha)",
        _choice_ascending,
    ),
    ("the same alpha with alphas in descending order", _choice_descending),
    ("calls fit only with the training data", _choice_fits_on_training_data),
    ("calls fit once for every alpha", _choice_fits_every_alpha),
    ("a single alpha is chosen", _choice_single_alpha),
    ("a tie goes to the alpha listed first", _choice_tie_keeps_first),
    ("leaves X_train, y_train, X_val, y_val and alphas unchanged", _choice_leaves_inputs_unchanged),
    ("alphas = [] raises ValueError", _choice_rejects_empty),
]


@_checker("choose_alpha(X_train, y_train, X_val, y_val, alphas, fit) -> alpha", _CHOICE_PROPERTIES)
def check_choose_alpha(fn: Callable[..., Any]) -> CheckReport:
    """For each ``alpha`` of ``alphas`` the function fits
    ``w = fit(X_train, y_train, alpha)`` on the training data only, scores it by
    the validation mean squared error ``mean((X_val @ w - y_val)**2)``, and returns
    the alpha with the lowest score (the first on a tie), leaving its inputs
    unchanged and raising ``ValueError`` for an empty ``alphas``. The checker's
    ``fit`` solves ridge exactly and records every call, so fitting on the
    validation data is seen; on its data the training error prefers another alpha,
    recognised in the hint. Prints one line per property.
    """

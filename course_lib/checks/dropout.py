"""Checkers for the exercises of the chapter "Dropout": ``dropout_forward``, ``dropout_backward`` and ``dropout_layer``.

The contracts are those of :mod:`course_lib.dropout`: inverted dropout with a
boolean keep mask, the identity at inference, randomness drawn from ``rng``,
and a backward pass that reuses the forward mask (checked against central
differences). A wrong scale of the survivors (1, p, 1 - p or 1/p instead of
1/(1 - p)) is recognised and named in the hint. ``dropout_layer`` puts the two
functions into a torch module, checked against ``nn.Dropout``'s contract and
then used: an MLP with it must over-fit MNIST-1D less than one without dropout.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from course_lib.checks.report import (
    CheckReport,
    _call,
    _checker,
    _describe,
    Diagnosis,
    _expect_value_error,
    _Failed,
    _NO_RETURN,
    _generator,
    _identical,
    _Property,
    _require_different,
    _require_float_array,
    _require_identical,
    _require_unchanged,
    _run,
    _signed_input,
    _StudentRaised,
)
from course_lib.dropout import dropout_forward as _reference_forward
from course_lib.experiments import ClassifierConfig, SeedSummary, run_over_seeds, train_classifier
from course_lib.data import load_mnist1d_splits
from course_lib.gradcheck import numerical_gradient, rel_error

__all__ = [
    "check_dropout_forward",
    "check_dropout_backward",
    "check_dropout_layer",
]


# --- dropout: inputs -----------------------------------------------------------------------

P = 0.3  # 1 - p, 1/(1 - p), p and 1/p are all different, so each wrong scale is told apart
SEED = 2014  # Srivastava et al.
LARGE = 100_000  # units in the statistical properties


# --- dropout_forward -----------------------------------------------------------------------

_RETURN = Diagnosis("a result that is not (out, mask)", "the contract returns a pair: the output and the keep mask")
_MASK = Diagnosis(
    "a mask that is not boolean",
    "the mask is the boolean keep mask (True where a unit is kept), not a float or scaled mask",
)
_NO_MASK = Diagnosis("the missing mask", "mask is None only when nothing is dropped (training=False or p = 0)")
_OUT = Diagnosis("an out that is not a float array of x's shape", "out must be a new float array with x's shape")
_RNG = Diagnosis(
    "a mask not drawn from rng",
    "the mask must come from the `rng` argument, not from np.random.* or a new generator",
)


def _forward(fn: Callable[..., Any], x: np.ndarray, p: float, **kwargs: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Call the student's forward on a copy of ``x`` and check the shape of what comes back."""
    result = _call(fn, x.copy(), p, **kwargs)
    if not isinstance(result, tuple) or len(result) != 2:
        raise _Failed("a tuple (out, mask)", _describe(result), _NO_RETURN if result is None else _RETURN)
    out, mask = result
    _require_float_array(out, x.shape, "out", _OUT)
    if mask is not None and (not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != x.shape):
        raise _Failed(f"mask a boolean array of shape {x.shape} (or None)", _describe(mask), _MASK)
    return out, mask


def _require_mask(mask: np.ndarray | None, p: float) -> np.ndarray:
    if mask is None:
        raise _Failed(f"a boolean keep mask for training=True and p = {p}", "mask None", _NO_MASK)
    return mask


def _forward_returns_out_and_mask(fn: Callable[..., Any]) -> str:
    x = _signed_input((4, 5), SEED)
    _, mask = _forward(fn, x, P, training=True, rng=_generator(SEED))
    _require_mask(mask, P)
    return ""


def _forward_works_without_rng(fn: Callable[..., Any]) -> str:
    x = _signed_input((4, 5), SEED)
    _require_mask(_forward(fn, x, P)[1], P)
    return ""


def _identity_failure(x: np.ndarray, out: np.ndarray, mask: np.ndarray | None, when: str, why: str) -> _Failed:
    """Explain how ``(out, mask)`` differs from ``(x, None)``; ``why`` says why the identity is right."""
    expected = f"out equal to x and mask None ({when})"
    zeroed = int(np.count_nonzero(out == 0))
    if zeroed:
        return _Failed(expected, f"{zeroed} of {x.size} units zeroed", f"nothing is dropped when {when}; {why}")
    ratio = out / x
    scale = float(np.median(ratio))
    if not np.array_equal(out, x) and np.allclose(ratio, scale, rtol=1e-9, atol=0):
        return _Failed(expected, f"out = x × {scale:.4f}", f"do not rescale when {when}; {why}")
    if not np.array_equal(out, x):
        changed = int(np.count_nonzero(out != x))
        got = f"out differs from x at {changed} of {x.size} units"
        return _Failed(expected, got, f"return x unchanged when {when}")
    return _Failed(expected, f"mask {_describe(mask)}", f"return mask None when {when}: nothing was dropped")


def _forward_inference_is_identity(fn: Callable[..., Any]) -> str:
    x = _signed_input(1000, SEED + 1)
    out, mask = _forward(fn, x, P, training=False, rng=_generator(SEED + 1))
    if mask is not None or not np.array_equal(out, x):
        why = "at inference every unit is used and inverted dropout needs no rescaling: return x unchanged"
        raise _identity_failure(x, out, mask, "training=False", why)
    return ""


def _forward_zero_rate_is_identity(fn: Callable[..., Any]) -> str:
    x = _signed_input(1000, SEED + 2)
    out, mask = _forward(fn, x, 0.0, training=True, rng=_generator(SEED + 2))
    if mask is not None or not np.array_equal(out, x):
        raise _identity_failure(x, out, mask, "p = 0", "return x unchanged (a copy) and mask None")
    return ""


_FORWARD_SCALES = (
    (
        lambda p: 1.0,
        Diagnosis(
            "the survivors not rescaled",
            "survivors are not rescaled: inverted dropout multiplies them by 1/(1-p), so that E[out] = x",
        ),
    ),
    (
        lambda p: p,
        Diagnosis("survivors multiplied by p", "survivors are multiplied by p: the inverted-dropout factor is 1/(1-p)"),
    ),
    (
        lambda p: 1 - p,
        Diagnosis(
            "survivors multiplied by 1-p",
            "survivors are multiplied by (1-p), the old inference-time factor: inverted dropout uses 1/(1-p)",
        ),
    ),
    (
        lambda p: 1 / p,
        Diagnosis(
            "survivors divided by p",
            "survivors are divided by p, the drop probability: the factor is one over the keep probability, 1/(1-p)",
        ),
    ),
)
_BACKWARD_SCALES = (
    (
        lambda p: 1.0,
        Diagnosis("the missing scale", "the scale is missing: the gradient gets the forward pass's factor 1/(1-p)"),
    ),
    (
        lambda p: p,
        Diagnosis(
            "the gradient multiplied by p",
            "the gradient is multiplied by p: the factor is 1/(1-p), the same as in the forward pass",
        ),
    ),
    (
        lambda p: 1 - p,
        Diagnosis(
            "the gradient multiplied by 1-p",
            "the gradient is multiplied by (1-p): the factor is 1/(1-p), the same as in the forward pass",
        ),
    ),
    (
        lambda p: 1 / p,
        Diagnosis(
            "the gradient divided by p",
            "the gradient is divided by p, the drop probability: the factor is one over the keep probability, 1/(1-p)",
        ),
    ),
)
_INVERTED_MASK = Diagnosis(
    "the inverted mask", "the mask is True where a unit is dropped: it must be True for *kept* units"
)
_SAME_MASK = Diagnosis(
    "a mask that ignores the state of rng",
    "the mask must be drawn from rng on every call: not cached, and not from a generator seeded inside the function",
)
_KEPT_WITH_P = Diagnosis(
    "units kept with probability p",
    "units are kept with probability p, but p is the probability of dropping: they are kept with 1 - p",
)


_Scales = tuple[tuple[Callable[[float], float], Diagnosis], ...]  # (the wrong factor as a function of p, …)


def _scale_hint(scale: float, p: float, diagnoses: _Scales) -> Diagnosis | str:
    """The diagnosis of the one wrong scale that ``scale`` is at this ``p``, or a generic hint.

    At p = 0.5, p and 1 - p are the same number (and 1/p the right factor): a scale that
    fits two mistakes names neither.
    """
    matching = [diagnosis for wrong, diagnosis in diagnoses if math.isclose(scale, wrong(p), rel_tol=1e-6)]
    return matching[0] if len(matching) == 1 else "the factor must be 1/(1-p)"


def _forward_scales_survivors(fn: Callable[..., Any]) -> str:
    x = _signed_input(2000, SEED + 3)
    out, mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 3))
    mask = _require_mask(mask, P)
    expected = f"0 where mask is False and x/(1-p) = x × {1 / (1 - P):.4f} where True (p = {P}, rtol 1e-12)"
    nonzero_dropped = int(np.count_nonzero(out[~mask]))
    if nonzero_dropped:
        if mask.any() and not np.any(out[mask]):
            raise _Failed(expected, "nonzero values only where mask is False", _INVERTED_MASK)
        got = f"{nonzero_dropped} nonzero outputs where mask is False"
        raise _Failed(expected, got, "dropped units must be exactly 0")
    if not mask.any():
        raise _Failed(expected, "no unit kept", "each unit is kept with probability 1 - p")
    return _survivors_scaled(expected, x[mask], out[mask])


def _survivors_scaled(expected: str, x_kept: np.ndarray, out_kept: np.ndarray) -> str:
    """Fail unless every kept unit is x/(1-p); name a wrong fixed scale. The note: the measured scale."""
    ratio = out_kept / x_kept
    if not np.allclose(ratio, 1 / (1 - P), rtol=1e-12, atol=0):
        scale = float(np.median(ratio))
        if np.allclose(ratio, scale, rtol=1e-9, atol=0):
            raise _Failed(expected, f"survivors = x × {scale:.4f}", _scale_hint(scale, P, _FORWARD_SCALES))
        raise _Failed(expected, "survivors not a fixed multiple of x", "each survivor is x/(1-p)")
    return f"survivors = x × {float(np.median(ratio)):.4f}"


def _forward_kept_fraction(fn: Callable[..., Any]) -> str:
    out, mask = _forward(fn, np.ones(LARGE), P, training=True, rng=_generator(SEED + 4))
    mask = _require_mask(mask, P)
    kept = float(mask.mean())
    tolerance = 4 * math.sqrt(P * (1 - P) / LARGE)
    expected = f"1 - p = {1 - P:.4f} ± {tolerance:.4f}"
    measured = f"kept fraction {kept:.4f}"
    if abs(kept - (1 - P)) > tolerance:
        if mask.any() and not np.any(out[mask]) and np.all(out[~mask]):
            hint: Diagnosis | str = _INVERTED_MASK  # the right units are kept, but the mask marks the others
        elif abs(kept - P) <= tolerance:
            hint = _KEPT_WITH_P
        else:
            hint = "each unit must be kept independently with probability 1 - p"
        raise _Failed(expected, measured, hint)
    return f"{measured}, expected {expected}"


def _mean_diagnosis(x: np.ndarray, out_mean: float) -> Diagnosis | str:
    """The typical mistake whose expected mean(out) is within 4 standard errors of ``out_mean``, or a hint.

    Keeping units with probability k and scaling survivors by s gives E[mean(out)] = k·s·mean(x), with
    standard error s·sqrt(k(1 - k)·sum(x²))/n.
    """
    square_sum, n = float(np.sum(x**2)), x.size
    candidates = [(1 - P, scale(P), diagnosis) for scale, diagnosis in _FORWARD_SCALES]
    candidates.append((P, 1 / (1 - P), _KEPT_WITH_P))
    for keep, scale, diagnosis in candidates:
        error = scale * math.sqrt(keep * (1 - keep) * square_sum) / n
        if abs(out_mean - keep * scale * float(x.mean())) <= 4 * error:
            return diagnosis
    return "keeping units with probability 1 - p and scaling survivors by 1/(1-p) makes E[out] = x"


def _forward_preserves_mean(fn: Callable[..., Any]) -> str:
    x = _generator(SEED + 5).uniform(0.5, 1.5, LARGE)
    out, _ = _forward(fn, x, P, training=True, rng=_generator(SEED + 6))
    # mean(out) = sum(m_i x_i) / ((1 - p) n) has standard error sqrt(p / (1 - p) * sum(x_i^2)) / n
    standard_error = math.sqrt(P / (1 - P) * float(np.sum(x**2))) / LARGE
    tolerance = 4 * standard_error
    x_mean, out_mean = float(x.mean()), float(out.mean())
    measured = f"mean(out) = {out_mean:.4f}, mean(x) = {x_mean:.4f}, tolerance ±{tolerance:.4f}"
    if not abs(out_mean - x_mean) <= tolerance:
        got = f"{out_mean:.4f} (mean(out)/mean(x) = {out_mean / x_mean:.3f})"
        raise _Failed(f"mean(out) = {x_mean:.4f} ± {tolerance:.4f}", got, _mean_diagnosis(x, out_mean))
    return measured


def _forward_uses_rng(fn: Callable[..., Any]) -> str:
    x = np.ones(1000)
    first, first_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 7))
    second, second_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 7))
    _, other_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 8))
    first_mask, second_mask = _require_mask(first_mask, P), _require_mask(second_mask, P)
    if not _identical((first_mask, first), (second_mask, second)):
        differing = int(np.count_nonzero(first_mask != second_mask))
        got = f"masks differing at {differing} of 1000 units" if differing else "different outputs for the same mask"
        raise _Failed("identical results from two identically seeded generators", got, _RNG)
    expected = "different masks from differently seeded generators"
    _require_different(first_mask, _require_mask(other_mask, P), expected, "the same mask", _SAME_MASK)
    return ""


def _forward_fresh_mask_per_call(fn: Callable[..., Any]) -> str:
    rng = _generator(SEED + 9)
    _, first = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    _, second = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    first, second = _require_mask(first, P), _require_mask(second, P)
    _require_different(first, second, "a different mask on the second call", "the same mask twice", _SAME_MASK)
    return ""


def _forward_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    x = _signed_input(1000, SEED + 10)
    before = x.copy()
    hint = "do not modify x in place (e.g. `x *= mask`); compute a new array"
    for training in (True, False):
        _call(fn, x, P, training=training, rng=_generator(SEED + 10))  # the caller's array, not a copy
        _require_unchanged("x", x, before, hint, got=f"x modified (training={training})")
    return ""


def _forward_rejects_bad_rate(fn: Callable[..., Any]) -> str:
    x = np.ones(10)
    hint = "validate p before using it: a p outside [0, 1) must raise ValueError naming the value"
    for p in (-0.1, 1.0, 1.5):
        _expect_value_error(f"ValueError for p = {p}", hint, fn, x, p, training=True, rng=_generator(SEED + 11))
    return ""


_FORWARD_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns (out, mask): out a float array and mask a boolean array of x's shape", _forward_returns_out_and_mask),
    ("works without rng (rng=None)", _forward_works_without_rng),
    ("training=False returns x unchanged and mask None", _forward_inference_is_identity),
    ("p = 0 returns x unchanged and mask None", _forward_zero_rate_is_identity),
    (f"dropped units are 0 and survivors are x/(1-p) (p = {P})", _forward_scales_survivors),
    (f"kept fraction within 4σ of 1 - p (p = {P}, n = {LARGE})", _forward_kept_fraction),
    (f"mean of out within 4 standard errors of mean of x (p = {P}, n = {LARGE})", _forward_preserves_mean),
    ("uses rng: same seed gives the same mask, another seed a different one", _forward_uses_rng),
    ("a fresh mask on each call with the same generator", _forward_fresh_mask_per_call),
    ("leaves x unchanged", _forward_leaves_input_unchanged),
    ("p outside [0, 1) raises ValueError (p = -0.1, 1.0, 1.5)", _forward_rejects_bad_rate),
]


@_checker("dropout_forward(x, p, training=True, rng=None) -> (out, mask)", _FORWARD_PROPERTIES)
def check_dropout_forward(fn: Callable[..., Any]) -> CheckReport:
    """The contract is that of :func:`course_lib.dropout.dropout_forward`: inverted
    dropout with a boolean keep mask (``None`` when nothing is dropped), the
    identity at inference, randomness drawn from ``rng``, and ``ValueError`` for
    ``p`` outside [0, 1). Prints one ``✓``/``✗`` line per property.
    """


# --- dropout_backward ----------------------------------------------------------------------


_GRAD_SHAPE = Diagnosis(
    "a gradient that is not a float array of grad_out's shape", "dL/dx is a float array of grad_out's shape"
)


def _backward(fn: Callable[..., Any], grad_out: np.ndarray, mask: np.ndarray | None, p: float) -> np.ndarray:
    result = _call(fn, grad_out.copy(), mask, p)
    if result is None:
        raise _Failed("the gradient array", "None", _NO_RETURN)
    return _require_float_array(result, grad_out.shape, "grad_x", _GRAD_SHAPE)


def _reference_mask(shape: tuple[int, ...], p: float, seed: int) -> np.ndarray:
    mask = _reference_forward(np.ones(shape), p, rng=_generator(seed))[1]
    if mask is None:
        raise RuntimeError(f"the reference dropout_forward returned no mask for p = {p}")
    return mask


def _backward_matches_formula(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input(2000, SEED + 20)
    mask = _reference_mask(grad_out.shape, P, SEED + 21)
    grad_x = _backward(fn, grad_out, mask, P)
    if np.allclose(grad_x, grad_out * mask / (1 - P), rtol=1e-12, atol=0):
        return ""
    expected = f"grad_out * mask / (1 - p) (p = {P}, rtol 1e-12)"
    zero = grad_x == 0
    if not zero.any():
        raise _Failed(expected, "no zero gradients", _MASK_IGNORED)
    if not np.array_equal(~zero, mask):
        wrong = int(np.count_nonzero(~zero != mask))
        got = f"zeros in other places than the mask's ({wrong} of {mask.size} units differ)"
        raise _Failed(expected, got, _INVERTED_MASK if np.array_equal(zero, mask) else _RESAMPLED)
    ratio = grad_x[mask] / grad_out[mask]
    scale = float(np.median(ratio))
    if np.allclose(ratio, scale, rtol=1e-9, atol=0):
        raise _Failed(expected, f"grad_out × {scale:.4f} on kept units", _scale_hint(scale, P, _BACKWARD_SCALES))
    hint = "each kept unit's gradient is scaled by the forward pass's factor 1/(1-p)"
    raise _Failed(expected, "kept units not a fixed multiple of grad_out", hint)


def _backward_without_mask_passes_through(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input(100, SEED + 22)
    grad_x = _backward(fn, grad_out, None, P)
    hint = "mask None means nothing was dropped (training=False or p = 0): return grad_out unchanged"
    _require_identical(grad_x, grad_out, "grad_out unchanged", "a different array", hint)
    return ""


def _backward_is_deterministic(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input(1000, SEED + 23)
    mask = _reference_mask(grad_out.shape, P, SEED + 24)
    first, second = _backward(fn, grad_out, mask, P), _backward(fn, grad_out, mask, P)
    expected, got = "the same gradient from two identical calls", "two different gradients"
    _require_identical(second, first, expected, got, _RESAMPLED)
    return ""


_MASK_IGNORED = Diagnosis(
    "the mask ignored in backward", "dropped units get zero gradient: the forward pass's mask applies in backward too"
)
_RESAMPLED = Diagnosis(
    "a new mask drawn in backward",
    "the backward pass must reuse the forward pass's mask; it never draws random numbers of its own",
)
_GRADCHECK_HINT = (
    "the gradient disagrees with central differences of the forward pass: backward must apply the "
    "forward pass's mask and scale"
)
GRADCHECK_P = 0.5
GRADCHECK_TOLERANCE = 1e-8
_GRADCHECK_TOLERANCE_TEXT = "1e-8"


def _backward_gradient_check(fn: Callable[..., Any]) -> str:
    # Inputs, weights, step and scale are small dyadic fractions, so every sum is exact in float64:
    # a correct backward gives relative error exactly 0 on every platform (a stable printed line).
    rng = _generator(SEED + 25)
    x = rng.integers(-16, 17, (4, 6)) / 8.0
    weights = rng.integers(-8, 9, (4, 6)) / 4.0

    def loss(z: np.ndarray) -> float:  # the same mask on every call: a freshly seeded generator
        return float(np.sum(weights * _reference_forward(z, GRADCHECK_P, rng=_generator(SEED + 26))[0]))

    mask = _reference_forward(x, GRADCHECK_P, rng=_generator(SEED + 26))[1]
    analytic = _backward(fn, weights, mask, GRADCHECK_P)
    numerical = numerical_gradient(loss, x, h=2.0**-6)
    error = rel_error(analytic, numerical)
    measured = f"relative error {error:.1e}"
    if not error < GRADCHECK_TOLERANCE:
        hint = _gradient_check_diagnosis(fn, analytic, numerical, weights, mask)
        raise _Failed(f"relative error < {_GRADCHECK_TOLERANCE_TEXT}", f"{error:.1e}", hint)
    return measured


def _gradient_check_diagnosis(
    fn: Callable[..., Any], analytic: np.ndarray, numerical: np.ndarray, weights: np.ndarray, mask: np.ndarray
) -> Diagnosis | str:
    """Why a backward pass fails the gradient check: a resampled or ignored mask, a wrong scale, or a hint."""
    if not _identical(_backward(fn, weights, mask, GRADCHECK_P), analytic):
        return _RESAMPLED
    kept = mask & (weights != 0)
    if np.any(analytic[~mask] != 0):
        return _MASK_IGNORED if np.all(analytic[~mask & (weights != 0)] != 0) else _GRADCHECK_HINT
    ratio = analytic[kept] / numerical[kept]
    scale = float(np.median(ratio)) / (1 - GRADCHECK_P) if ratio.size else math.nan
    if ratio.size and np.allclose(ratio, np.median(ratio), rtol=1e-9, atol=0):
        diagnosis = _scale_hint(scale, GRADCHECK_P, _BACKWARD_SCALES)
        if isinstance(diagnosis, Diagnosis):
            return diagnosis
    return _GRADCHECK_HINT


def _backward_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input(1000, SEED + 27)
    before = grad_out.copy()
    _call(fn, grad_out, _reference_mask(grad_out.shape, P, SEED + 28), P)  # the caller's array, not a copy
    hint = "do not modify grad_out in place (e.g. `grad_out *= mask`); compute a new array"
    _require_unchanged("grad_out", grad_out, before, hint)
    return ""


def _backward_rejects_shape_mismatch(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input((3, 4), SEED + 29)
    mask = _reference_mask((4,), P, SEED + 30)  # broadcasts against grad_out: only an explicit check catches it
    hint = "a mask of another shape broadcasts silently: mask.shape and grad_out.shape must be checked (ValueError)"
    _expect_value_error("ValueError", hint, fn, grad_out, mask, P)
    return ""


_BACKWARD_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns grad_out * mask / (1 - p) for a mask from dropout_forward (p = {P})", _backward_matches_formula),
    ("mask None passes grad_out through unchanged", _backward_without_mask_passes_through),
    ("deterministic: the same inputs give the same gradient", _backward_is_deterministic),
    (
        f"numerical gradient check (float64, p = {GRADCHECK_P}, relative error < {_GRADCHECK_TOLERANCE_TEXT})",
        _backward_gradient_check,
    ),
    ("leaves grad_out unchanged", _backward_leaves_input_unchanged),
    ("mask shape (4,) with grad_out shape (3, 4) raises ValueError", _backward_rejects_shape_mismatch),
]


@_checker("dropout_backward(grad_out, mask, p) -> grad_x", _BACKWARD_PROPERTIES)
def check_dropout_backward(fn: Callable[..., Any]) -> CheckReport:
    """The contract is that of :func:`course_lib.dropout.dropout_backward`: the
    gradient ``grad_out * mask / (1 - p)`` with the forward pass's mask (never a
    new one), ``grad_out`` unchanged when ``mask`` is None, and ``ValueError``
    when the shapes of ``mask`` and ``grad_out`` differ. Masks come from the
    reference :func:`course_lib.dropout.dropout_forward`, so this checker does
    not depend on the student's forward pass. Prints one line per property.
    """


# --- dropout_layer: your dropout as a torch module ------------------------------------------

LAYER_SEED = 2012  # Hinton et al., "Improving neural networks by preventing co-adaptation of feature detectors"
#: The experiment of :func:`check_dropout_layer`: an MLP on MNIST-1D trained with this config over
#: :data:`GAP_SEEDS`, with the student's layer at rate ``GAP_CONFIG.dropout`` and without dropout. Module
#: constants, so that a test can make the experiment cheaper.
GAP_CONFIG = ClassifierConfig(hidden=(128, 128), epochs=15, dropout=P)
GAP_SEEDS = (0, 1, 2)

_NOT_A_MODULE = Diagnosis(
    "a result that is not an nn.Module",
    "dropout_layer(p, rng) returns the layer itself: an instance of your nn.Module subclass",
)
_LAYER_OUTPUT = Diagnosis(
    "an output that is not a tensor of x's shape and dtype",
    "the layer returns a torch tensor with the input's shape and dtype (convert the NumPy result back with "
    "the input's dtype)",
)
_ON_IN_EVAL = Diagnosis(
    "dropout left on in eval mode",
    "after model.eval() (self.training is False) nothing is dropped and nothing rescaled: the layer is the identity",
)
_NO_GRAPH = Diagnosis(
    "an output cut off from autograd",
    "the output must be connected to x in the autograd graph: compute it inside a torch.autograd.Function whose "
    "backward returns the gradient for x",
)
_LAYER_RESAMPLED = Diagnosis(
    "a new mask drawn in backward",
    "backward must use the mask that forward drew (keep it on ctx); a new mask gives the gradient of another "
    "sub-network",
)
_LAYER_UNSCALED_GRAD = Diagnosis(
    "the gradient without the 1/(1-p) factor",
    "the forward pass multiplies the survivors by 1/(1-p), so their gradient gets the same factor",
)
_LAYER_RNG = Diagnosis(
    "a mask not drawn from the layer's rng",
    "the layer draws its masks from the `rng` it was made with: two layers made with identically seeded "
    "generators drop the same units",
)


def _make_layer(fn: Callable[..., Any], p: float, seed: int | None) -> nn.Module:
    layer = _call(fn, p, rng=None if seed is None else _generator(seed))
    if not isinstance(layer, nn.Module):
        raise _Failed("an nn.Module", _describe(layer), _NOT_A_MODULE)
    return layer


def _apply(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = _call(layer, x)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape or out.dtype != x.dtype:
        got = (
            f"a {out.dtype} tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else _describe(out)
        )
        raise _Failed(f"a {x.dtype} tensor of shape {tuple(x.shape)}", got, _LAYER_OUTPUT)
    return out


def _signed_tensor(shape: tuple[int, ...] | int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.from_numpy(_signed_input(shape, seed)).to(dtype)


def _layer_is_a_module(fn: Callable[..., Any]) -> str:
    layer = _make_layer(fn, P, LAYER_SEED)
    return type(layer).__name__


def _layer_keeps_shape_and_dtype(fn: Callable[..., Any]) -> str:
    for dtype, shape in ((torch.float32, (8, 50)), (torch.float64, (3, 4, 5))):
        _apply(_make_layer(fn, P, LAYER_SEED + 1).train(), _signed_tensor(shape, LAYER_SEED + 1, dtype))
    return ""


def _layer_scales_survivors(fn: Callable[..., Any]) -> str:
    x = _signed_tensor(2000, LAYER_SEED + 2)
    out = _apply(_make_layer(fn, P, LAYER_SEED + 2).train(), x).detach().numpy()
    x = x.numpy()
    kept = out != 0
    expected = f"0 or x/(1-p) = x × {1 / (1 - P):.4f} (p = {P}, rtol 1e-12)"
    if not kept.any():
        raise _Failed(expected, "every unit 0", "each unit is kept with probability 1 - p")
    return _survivors_scaled(expected, x[kept], out[kept])


def _layer_kept_fraction(fn: Callable[..., Any]) -> str:
    out = _apply(_make_layer(fn, P, LAYER_SEED + 3).train(), torch.ones(LARGE, dtype=torch.float64))
    kept = float((out != 0).double().mean())
    tolerance = 4 * math.sqrt(P * (1 - P) / LARGE)
    if abs(kept - (1 - P)) > tolerance:
        hint: Diagnosis | str = _KEPT_WITH_P if abs(kept - P) <= tolerance else "keep each unit with probability 1 - p"
        raise _Failed(f"1 - p = {1 - P:.4f} ± {tolerance:.4f}", f"kept fraction {kept:.4f}", hint)
    return f"kept fraction {kept:.4f}"


def _layer_identity_in_eval(fn: Callable[..., Any]) -> str:
    x = _signed_tensor(1000, LAYER_SEED + 4)
    layer = _make_layer(fn, P, LAYER_SEED + 4)
    out = _apply(layer.eval(), x)
    if not torch.equal(out, x):
        zeroed = int((out == 0).sum())
        got = f"{zeroed} of {x.numel()} units zeroed" if zeroed else "out differs from x"
        raise _Failed("out equal to x after layer.eval()", got, _ON_IN_EVAL)
    return ""


def _layer_zero_rate_is_identity(fn: Callable[..., Any]) -> str:
    x = _signed_tensor(1000, LAYER_SEED + 5)
    out = _apply(_make_layer(fn, 0.0, LAYER_SEED + 5).train(), x)
    if not torch.equal(out, x):
        hint = "with p = 0 nothing is dropped and the factor 1/(1-p) is 1: the output equals the input"
        raise _Failed("out equal to x for p = 0 in training mode", "out differs from x", hint)
    return ""


def _layer_gradient(fn: Callable[..., Any]) -> str:
    x = _signed_tensor((20, 50), LAYER_SEED + 6).requires_grad_(True)
    weights = _signed_tensor((20, 50), LAYER_SEED + 7)
    out = _apply(_make_layer(fn, P, LAYER_SEED + 6).train(), x)
    expected = f"dL/dx = w × mask/(1-p) with the forward pass's mask (L = sum(w × out), p = {P}, rtol 1e-12)"
    if not out.requires_grad:
        raise _Failed(expected, "an output that does not require grad", _NO_GRAPH)
    _call(lambda: (weights * out).sum().backward())
    if x.grad is None:
        raise _Failed(expected, "x.grad None", _NO_GRAPH)
    mask = (out != 0).detach().numpy()
    grad, w = x.grad.numpy(), weights.numpy()
    if np.allclose(grad, w * mask / (1 - P), rtol=1e-12, atol=0):
        return ""
    if not np.array_equal(grad != 0, mask):
        wrong = int(np.count_nonzero((grad != 0) != mask))
        raise _Failed(expected, f"zero gradients elsewhere than the dropped units ({wrong} of {mask.size} differ)", _LAYER_RESAMPLED)
    ratio = grad[mask] / w[mask]
    scale = float(np.median(ratio))
    if np.allclose(ratio, 1.0, rtol=1e-9, atol=0):
        raise _Failed(expected, "w × mask (no factor)", _LAYER_UNSCALED_GRAD)
    if np.allclose(ratio, scale, rtol=1e-9, atol=0):
        raise _Failed(expected, f"w × mask × {scale:.4f}", _scale_hint(scale, P, _BACKWARD_SCALES))
    raise _Failed(expected, "a gradient that is not a fixed multiple of w on the kept units", _LAYER_UNSCALED_GRAD)


def _layer_uses_rng(fn: Callable[..., Any]) -> str:
    x = torch.ones(1000, dtype=torch.float64)
    first = _apply(_make_layer(fn, P, LAYER_SEED + 8).train(), x)
    second = _apply(_make_layer(fn, P, LAYER_SEED + 8).train(), x)
    if not torch.equal(first, second):
        raise _Failed("the same mask from two layers made with identically seeded rngs", "different masks", _LAYER_RNG)
    layer = _make_layer(fn, P, LAYER_SEED + 9).train()
    again = (_apply(layer, x), _apply(layer, x))
    if torch.equal(*again):
        hint = "draw a new mask on every forward call (from the layer's rng), not once when the layer is made"
        raise _Failed("a different mask on the second forward call", "the same mask twice", hint)
    return ""


_LAYER_CONTRACT: list[tuple[str, _Property]] = [
    (f"dropout_layer(p, rng) returns an nn.Module (p = {P})", _layer_is_a_module),
    ("training mode: a tensor of the input's shape and dtype (float32 (8, 50), float64 (3, 4, 5))", _layer_keeps_shape_and_dtype),
    (f"training mode: each output 0 or x/(1-p) (p = {P})", _layer_scales_survivors),
    (f"training mode: kept fraction within 4σ of 1 - p (n = {LARGE})", _layer_kept_fraction),
    ("eval mode: the identity", _layer_identity_in_eval),
    ("p = 0: the identity in training mode", _layer_zero_rate_is_identity),
    ("backward: the gradient is w × mask/(1-p) on the forward pass's mask (float64, through autograd)", _layer_gradient),
    ("masks come from the layer's rng, a new one on each forward call", _layer_uses_rng),
]


def _gap_summaries(fn: Callable[..., Any], config: Any, seeds: tuple[int, ...]) -> tuple[Any, Any]:
    """Train–test accuracy gaps over ``seeds`` on MNIST-1D: (the student's layer at ``config.dropout``, no dropout)."""
    data = load_mnist1d_splits()
    own = []
    for seed in seeds:
        layer = lambda p, seed=seed: fn(p, rng=_generator(seed))  # noqa: E731
        try:
            own.append(train_classifier(data, config, seed, dropout_layer=layer).gap)
        except Exception as error:  # the student's layer raised inside training
            raise _StudentRaised(error) from error
    without = run_over_seeds(data, config.but(dropout=0.0), seeds)["gap"]
    return SeedSummary(tuple(own)), without


def _layer_shrinks_the_gap(fn: Callable[..., Any]) -> str:
    for _, prop in _LAYER_CONTRACT:  # the experiment means something only for a layer that keeps the contract
        prop(fn)
    config, seeds = GAP_CONFIG, GAP_SEEDS
    own, without = _gap_summaries(fn, config, seeds)
    measured = f"train-test gap {own.format()} with your dropout, {without.format()} without ({len(seeds)} seeds)"
    if not own.high < without.low:
        hint = (
            "with a layer that keeps the properties above, dropout should shrink the gap on MNIST-1D: check "
            "that your module is used in training mode and switched off in eval mode"
        )
        raise _Failed("a smaller gap with dropout for every seed (ranges that do not overlap)", measured, hint)
    return measured


def _experiment_name() -> str:
    hidden = ", ".join(map(str, GAP_CONFIG.hidden))
    return (
        f"experiment: an MLP ({hidden}) with your dropout (p = {GAP_CONFIG.dropout}) on MNIST-1D, {GAP_CONFIG.epochs} "
        f"epochs: a smaller train-test gap than without dropout, beyond the seed spread"
    )


def _layer_properties() -> list[tuple[str, _Property]]:
    return [*_LAYER_CONTRACT, (_experiment_name(), _layer_shrinks_the_gap)]


def check_dropout_layer(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``dropout_layer(p, rng=None) -> nn.Module``.

    The module wraps ``dropout_forward`` and ``dropout_backward`` in a
    ``torch.autograd.Function``, with the contract of ``nn.Dropout``: in
    training mode each unit is kept with probability ``1 - p`` and scaled by
    ``1/(1-p)`` (a mask drawn from the layer's ``rng``, new on each call), in
    eval mode and for ``p = 0`` it is the identity, and the gradient is
    ``mask/(1-p)`` with the forward pass's mask. The last property is the
    experiment: an MLP (:data:`GAP_CONFIG`, seeds :data:`GAP_SEEDS`) built by
    ``make_mlp(dropout_layer=...)`` with this layer, trained on MNIST-1D, must
    have a smaller train–test accuracy gap than without dropout for every seed;
    it runs only when the other properties hold. Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("dropout_layer", fn, _layer_properties())

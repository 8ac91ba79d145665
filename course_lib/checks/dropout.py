"""Checkers for the exercises of the chapter "Dropout": ``dropout_forward`` and ``dropout_backward``.

The contracts are those of :mod:`course_lib.dropout`: inverted dropout with a
boolean keep mask, the identity at inference, randomness drawn from ``rng``,
and a backward pass that reuses the forward mask (checked against central
differences). A wrong scale of the survivors (1, p, 1 - p or 1/p instead of
1/(1 - p)) is recognised and named in the hint.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from course_lib.checks.report import (
    CheckReport,
    _call,
    _checker,
    _describe,
    _expect_value_error,
    _Failed,
    _generator,
    _identical,
    _Property,
    _require_different,
    _require_float_array,
    _require_identical,
    _require_unchanged,
    _signed_input,
)
from course_lib.dropout import dropout_forward as _reference_forward
from course_lib.gradcheck import numerical_gradient, rel_error

__all__ = [
    "check_dropout_forward",
    "check_dropout_backward",
]


# --- dropout: inputs -----------------------------------------------------------------------

P = 0.3  # 1 - p, 1/(1 - p), p and 1/p are all different, so each wrong scale is told apart
SEED = 2014  # Srivastava et al.
LARGE = 100_000  # units in the statistical properties


# --- dropout_forward -----------------------------------------------------------------------

_RETURN_HINT = "return both the output and the boolean keep mask: `return out, mask`"
_MASK_HINT = "return the boolean keep mask (True = kept, e.g. `rng.random(x.shape) >= p`), not a float or scaled mask"


def _forward(fn: Callable[..., Any], x: np.ndarray, p: float, **kwargs: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Call the student's forward on a copy of ``x`` and check the shape of what comes back."""
    result = _call(fn, x.copy(), p, **kwargs)
    if not isinstance(result, tuple) or len(result) != 2:
        hint = "did you forget to `return out, mask`?" if result is None else _RETURN_HINT
        raise _Failed("a tuple (out, mask)", _describe(result), hint)
    out, mask = result
    _require_float_array(out, x.shape, "out", "out must be a new float array with x's shape")
    if mask is not None and (not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != x.shape):
        raise _Failed(f"mask a boolean array of shape {x.shape} (or None)", _describe(mask), _MASK_HINT)
    return out, mask


def _require_mask(mask: np.ndarray | None, p: float) -> np.ndarray:
    if mask is None:
        raise _Failed(
            f"a boolean keep mask for training=True and p = {p}",
            "mask None",
            "mask is None only when nothing is dropped (training=False or p = 0)",
        )
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


_FORWARD_SCALE_HINTS = (
    (1.0, "survivors are not rescaled: multiply them by 1/(1-p) (inverted dropout) so that E[out] = x"),
    (P, "survivors are multiplied by p: the inverted-dropout factor is 1/(1-p)"),
    (1 - P, "survivors are multiplied by (1-p), the old inference-time factor: inverted dropout uses 1/(1-p)"),
    (1 / P, "survivors are divided by p, the drop probability: divide by the keep probability, i.e. by (1-p)"),
)
_BACKWARD_SCALE_HINTS = (
    (1.0, "the scale is missing: multiply by 1/(1-p), the same factor as in the forward pass"),
    (P, "the gradient is multiplied by p: the factor is 1/(1-p), the same as in the forward pass"),
    (1 - P, "the gradient is multiplied by (1-p): the factor is 1/(1-p), the same as in the forward pass"),
    (1 / P, "the gradient is divided by p: divide by the keep probability, i.e. multiply by 1/(1-p)"),
)


def _scale_hint(scale: float, hints: tuple[tuple[float, str], ...]) -> str:
    """The hint for a recognised wrong scale, or a generic one."""
    for wrong, hint in hints:
        if math.isclose(scale, wrong, rel_tol=1e-6):
            return hint
    return "the factor must be 1/(1-p)"


def _forward_scales_survivors(fn: Callable[..., Any]) -> str:
    x = _signed_input(2000, SEED + 3)
    out, mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 3))
    mask = _require_mask(mask, P)
    expected = f"0 where mask is False and x/(1-p) = x × {1 / (1 - P):.4f} where True (p = {P}, rtol 1e-12)"
    nonzero_dropped = int(np.count_nonzero(out[~mask]))
    if nonzero_dropped:
        if mask.any() and not np.any(out[mask]):
            got = "nonzero values only where mask is False"
            raise _Failed(expected, got, "the mask must be True for *kept* units")
        got = f"{nonzero_dropped} nonzero outputs where mask is False"
        raise _Failed(expected, got, "dropped units must be exactly 0")
    if not mask.any():
        raise _Failed(expected, "no unit kept", "keep each unit with probability 1 - p")
    ratio = out[mask] / x[mask]
    if not np.allclose(out[mask], x[mask] / (1 - P), rtol=1e-12, atol=0):
        scale = float(np.median(ratio))
        if np.allclose(ratio, scale, rtol=1e-9, atol=0):
            raise _Failed(expected, f"survivors = x × {scale:.4f}", _scale_hint(scale, _FORWARD_SCALE_HINTS))
        raise _Failed(expected, "survivors not a fixed multiple of x", "multiply each survivor by 1/(1-p)")
    return f"survivors = x × {float(np.median(ratio)):.4f}"


def _forward_kept_fraction(fn: Callable[..., Any]) -> str:
    _, mask = _forward(fn, np.ones(LARGE), P, training=True, rng=_generator(SEED + 4))
    kept = float(_require_mask(mask, P).mean())
    tolerance = 4 * math.sqrt(P * (1 - P) / LARGE)
    expected = f"1 - p = {1 - P:.4f} ± {tolerance:.4f}"
    measured = f"kept fraction {kept:.4f}"
    if abs(kept - (1 - P)) > tolerance:
        if abs(kept - P) <= tolerance:
            hint = "units are kept with probability p, but p is the probability of dropping: keep them with 1 - p"
        else:
            hint = "keep each unit independently with probability 1 - p (e.g. `rng.random(x.shape) >= p`)"
        raise _Failed(expected, measured, hint)
    return f"{measured}, expected {expected}"


def _forward_preserves_mean(fn: Callable[..., Any]) -> str:
    x = _generator(SEED + 5).uniform(0.5, 1.5, LARGE)
    out, _ = _forward(fn, x, P, training=True, rng=_generator(SEED + 6))
    # mean(out) = sum(m_i x_i) / ((1 - p) n) has standard error sqrt(p / (1 - p) * sum(x_i^2)) / n
    standard_error = math.sqrt(P / (1 - P) * float(np.sum(x**2))) / LARGE
    tolerance = 4 * standard_error
    x_mean, out_mean = float(x.mean()), float(out.mean())
    measured = f"mean(out) = {out_mean:.4f}, mean(x) = {x_mean:.4f}, tolerance ±{tolerance:.4f}"
    if not abs(out_mean - x_mean) <= tolerance:
        hint = (
            f"mean(out)/mean(x) = {out_mean / x_mean:.3f}; keeping units with probability 1 - p "
            "and scaling survivors by 1/(1-p) makes E[out] = x"
        )
        raise _Failed(f"mean(out) = {x_mean:.4f} ± {tolerance:.4f}", f"{out_mean:.4f}", hint)
    return measured


def _forward_uses_rng(fn: Callable[..., Any]) -> str:
    x = np.ones(1000)
    first, first_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 7))
    second, second_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 7))
    _, other_mask = _forward(fn, x, P, training=True, rng=_generator(SEED + 8))
    first_mask, second_mask = _require_mask(first_mask, P), _require_mask(second_mask, P)
    hint = "draw the mask from the `rng` argument (`rng.random(x.shape)`), not from np.random.* or a new generator"
    if not _identical((first_mask, first), (second_mask, second)):
        differing = int(np.count_nonzero(first_mask != second_mask))
        got = f"masks differing at {differing} of 1000 units" if differing else "different outputs for the same mask"
        raise _Failed("identical results from two identically seeded generators", got, hint)
    expected = "different masks from differently seeded generators"
    _require_different(first_mask, _require_mask(other_mask, P), expected, "the same mask", hint)
    return ""


def _forward_fresh_mask_per_call(fn: Callable[..., Any]) -> str:
    rng = _generator(SEED + 9)
    _, first = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    _, second = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    first, second = _require_mask(first, P), _require_mask(second, P)
    hint = "draw a new mask from rng on every call; do not cache it or re-seed a generator inside the function"
    _require_different(first, second, "a different mask on the second call", "the same mask twice", hint)
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
    hint = "check p up front: `if not 0 <= p < 1: raise ValueError(f\"p must be in [0, 1), got {p}\")`"
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


def _backward(fn: Callable[..., Any], grad_out: np.ndarray, mask: np.ndarray | None, p: float) -> np.ndarray:
    result = _call(fn, grad_out.copy(), mask, p)
    if result is None:
        raise _Failed("the gradient array", "None", "did you forget to `return` the gradient?")
    return _require_float_array(result, grad_out.shape, "grad_x", "return dL/dx, a float array of grad_out's shape")


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
        raise _Failed(expected, "no zero gradients", "dropped units get zero gradient: multiply by the mask")
    if not np.array_equal(~zero, mask):
        wrong = int(np.count_nonzero(~zero != mask))
        got = f"zeros in other places than the mask's ({wrong} of {mask.size} units differ)"
        raise _Failed(expected, got, "reuse the mask from the forward pass; never draw a new one in backward")
    ratio = grad_x[mask] / grad_out[mask]
    scale = float(np.median(ratio))
    if np.allclose(ratio, scale, rtol=1e-9, atol=0):
        raise _Failed(expected, f"grad_out × {scale:.4f} on kept units", _scale_hint(scale, _BACKWARD_SCALE_HINTS))
    raise _Failed(expected, "kept units not a fixed multiple of grad_out", "multiply grad_out by mask / (1 - p)")


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
    hint = "the backward pass must reuse the forward mask; do not draw random numbers in backward"
    _require_identical(second, first, "the same gradient from two identical calls", "two different gradients", hint)
    return ""


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
    error = rel_error(analytic, numerical_gradient(loss, x, h=2.0**-6))
    measured = f"relative error {error:.1e}"
    if not error < GRADCHECK_TOLERANCE:
        hint = "the gradient disagrees with central differences of the forward pass: return grad_out * mask / (1 - p)"
        raise _Failed(f"relative error < {_GRADCHECK_TOLERANCE_TEXT}", f"{error:.1e}", hint)
    return measured


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
    hint = "compare mask.shape with grad_out.shape and raise ValueError naming both shapes"
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

"""Checkers for the autograded exercises: property tests that explain what went wrong.

Each ``check_*`` function runs a student's implementation against a list of
properties (shapes and dtypes, exact identities, hand-made cases, agreement with
a reference implementation on random inputs, statistics within a stated
tolerance, a numerical gradient check, input validation), prints one line per
property and returns a :class:`CheckReport` that is truthy only if every
property holds, so an nbgrader test cell can simply ``assert`` it::

    assert check_dropout_forward(dropout_forward)

A property that fails prints ``✗ <property>: expected …, got … — <hint>``.
An exception raised by the student's code (including the
``NotImplementedError`` of an untouched exercise) is reported on that line
instead of crashing the cell. Every input is drawn from a fixed seed, so the
printed lines are the same on every run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

import numpy as np
import torch

from course_lib.data import train_val_split as _reference_split
from course_lib.dropout import dropout_forward as _reference_forward
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.train import early_stop_epoch as _reference_early_stop_epoch

__all__ = [
    "PropertyResult",
    "CheckReport",
    "check_dropout_forward",
    "check_dropout_backward",
    "check_early_stop_epoch",
    "check_train_val_split",
    "check_sgd_l2_step",
    "check_sgd_decoupled_step",
    "check_soft_threshold",
    "check_ridge_fit",
    "check_adam_l2_step",
    "check_adamw_step",
]

PASS_MARK = "✓"
FAIL_MARK = "✗"
_MAX_MESSAGE = 160  # characters of a student's exception message shown on a ✗ line
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # "<function f at 0x7f…>" would make output vary between runs


@dataclass(frozen=True)
class PropertyResult:
    """The verdict on one property.

    Attributes:
        name: what was checked, including its tolerance (e.g. ``"kept fraction
            within 4σ of 1 - p"``).
        passed: whether the property holds.
        message: for a pass, an optional measured value; for a failure,
            ``"expected …, got … — hint"``.
    """

    name: str
    passed: bool
    message: str = ""

    @property
    def line(self) -> str:
        """The printed line: ``"✓ name[: message]"`` or ``"✗ name: message"``."""
        mark = PASS_MARK if self.passed else FAIL_MARK
        return f"{mark} {self.name}: {self.message}" if self.message else f"{mark} {self.name}"


class CheckReport:
    """The results of one checker: truthy if and only if every property holds.

    A report with no results is falsy (nothing was shown to hold).

    Example:
        >>> report = CheckReport("f", [PropertyResult("a", True), PropertyResult("b", False, "x")])
        >>> bool(report), report
        (False, CheckReport(f: 1/2 properties hold))
    """

    def __init__(self, subject: str, results: Iterable[PropertyResult]) -> None:
        if not isinstance(subject, str) or not subject:
            raise TypeError(f"subject must be a non-empty str, got {type(subject).__name__}")
        self.subject = subject
        self.results: list[PropertyResult] = list(results)
        for index, result in enumerate(self.results):
            if not isinstance(result, PropertyResult):
                raise TypeError(f"results[{index}] must be a PropertyResult, got {type(result).__name__}")

    @property
    def passed(self) -> list[PropertyResult]:
        """The properties that hold."""
        return [r for r in self.results if r.passed]

    @property
    def failed(self) -> list[PropertyResult]:
        """The properties that do not hold."""
        return [r for r in self.results if not r.passed]

    def lines(self) -> list[str]:
        """One ``✓``/``✗`` line per property, in the order they were checked."""
        return [r.line for r in self.results]

    def __bool__(self) -> bool:
        return bool(self.results) and not self.failed

    def __len__(self) -> int:
        return len(self.results)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"CheckReport({self.subject}: {len(self.passed)}/{len(self.results)} properties hold)"


# --- running properties --------------------------------------------------------------------


class _Failed(Exception):
    """Raised inside a property: the student's result contradicts it."""

    def __init__(self, expected: str, got: str, hint: str) -> None:
        super().__init__(f"expected {expected}, got {got} — {hint}")


class _StudentRaised(Exception):
    """Wraps an exception raised by the student's function."""

    def __init__(self, error: Exception) -> None:
        super().__init__(_describe_exception(error))
        self.error = error


_Property = Callable[[Callable[..., Any]], str]


def _run(subject: str, fn: Callable[..., Any], properties: list[tuple[str, _Property]]) -> CheckReport:
    """Evaluate each property on ``fn`` and print the report's lines.

    The lines are printed in one call, so a notebook stores them as a single
    output whatever the kernel's output buffering.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function (the one you implemented), got {type(fn).__name__}")
    report = CheckReport(subject, [_evaluate(name, prop, fn) for name, prop in properties])
    print(report, flush=True)
    return report


def _evaluate(name: str, prop: _Property, fn: Callable[..., Any]) -> PropertyResult:
    try:
        note = prop(fn)
    except _Failed as failure:
        return PropertyResult(name, False, str(failure))
    except _StudentRaised as raised:
        return PropertyResult(name, False, f"expected a result, got {raised} — {_exception_hint(raised.error)}")
    except Exception as error:  # a returned value so odd that inspecting it failed
        got = f"one that raised {_describe_exception(error)} when inspected"
        return PropertyResult(name, False, f"expected plain NumPy arrays, got {got} — return what the contract asks for")
    return PropertyResult(name, True, note)


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; NumPy floating-point warnings are silenced (results are checked)."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except Exception as error:
        raise _StudentRaised(error) from error


def _describe_exception(error: BaseException) -> str:
    """``"Type: first line of the message"``, shortened, with object addresses removed."""
    text = _ADDRESS.sub("", str(error)).strip()
    message = text.splitlines()[0] if text else ""
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _exception_hint(error: BaseException) -> str:
    """What to do about an exception raised by the student's function."""
    if isinstance(error, NotImplementedError):
        return "replace `raise NotImplementedError()` with your implementation"
    return "your function raised an exception on this input; read the message and the contract above"


def _describe(value: Any) -> str:
    """A short description of a value that never shows an object address."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, (bool, int, float, np.generic)):
        return f"{type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def _require_float_array(value: Any, shape: tuple[int, ...], what: str, hint: str) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.shape != shape or not np.issubdtype(value.dtype, np.floating):
        raise _Failed(f"{what} a float array of shape {shape}", _describe(value), hint)
    return value


def _expect_value_error(expected: str, hint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call the student's ``fn(*args, **kwargs)``; fail unless it raises ValueError.

    ``expected`` names the case (e.g. ``"ValueError for p = 1.5"``); a return value
    or another exception is reported as what was got, followed by ``hint``.
    """
    try:
        result = _call(fn, *args, **kwargs)
    except _StudentRaised as raised:
        if isinstance(raised.error, ValueError):
            return
        raise _Failed(expected, str(raised), hint) from None
    raise _Failed(expected, f"a return value ({_describe(result)})", hint)


# --- dropout: inputs -----------------------------------------------------------------------

P = 0.3  # 1 - p, 1/(1 - p), p and 1/p are all different, so each wrong scale is told apart
SEED = 2014  # Srivastava et al.
LARGE = 100_000  # units in the statistical properties


def _signed_input(shape: tuple[int, ...] | int, seed: int) -> np.ndarray:
    """float64 values with 0.5 <= |x| <= 1.5: no zeros, so a zeroed unit is always visible."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _generator(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


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
    if not (np.array_equal(first_mask, second_mask) and np.array_equal(first, second)):
        differing = int(np.count_nonzero(first_mask != second_mask))
        got = f"masks differing at {differing} of 1000 units" if differing else "different outputs for the same mask"
        raise _Failed("identical results from two identically seeded generators", got, hint)
    if np.array_equal(first_mask, _require_mask(other_mask, P)):
        raise _Failed("different masks from differently seeded generators", "the same mask", hint)
    return ""


def _forward_fresh_mask_per_call(fn: Callable[..., Any]) -> str:
    rng = _generator(SEED + 9)
    _, first = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    _, second = _forward(fn, np.ones(1000), P, training=True, rng=rng)
    if np.array_equal(_require_mask(first, P), _require_mask(second, P)):
        raise _Failed(
            "a different mask on the second call",
            "the same mask twice",
            "draw a new mask from rng on every call; do not cache it or re-seed a generator inside the function",
        )
    return ""


def _forward_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    x = _signed_input(1000, SEED + 10)
    before = x.copy()
    for training in (True, False):
        _call(fn, x, P, training=training, rng=_generator(SEED + 10))  # the caller's array, not a copy
        if not np.array_equal(x, before):
            raise _Failed(
                "x unchanged after the call",
                f"x modified (training={training})",
                "do not modify x in place (e.g. `x *= mask`); compute a new array",
            )
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


def check_dropout_forward(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``dropout_forward(x, p, training=True, rng=None) -> (out, mask)``.

    The contract is that of :func:`course_lib.dropout.dropout_forward`: inverted
    dropout with a boolean keep mask (``None`` when nothing is dropped), the
    identity at inference, randomness drawn from ``rng``, and ``ValueError`` for
    ``p`` outside [0, 1). Prints one ``✓``/``✗`` line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("dropout_forward", fn, _FORWARD_PROPERTIES)


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
    if not np.array_equal(grad_x, grad_out):
        raise _Failed(
            "grad_out unchanged",
            "a different array",
            "mask None means nothing was dropped (training=False or p = 0): return grad_out unchanged",
        )
    return ""


def _backward_is_deterministic(fn: Callable[..., Any]) -> str:
    grad_out = _signed_input(1000, SEED + 23)
    mask = _reference_mask(grad_out.shape, P, SEED + 24)
    first, second = _backward(fn, grad_out, mask, P), _backward(fn, grad_out, mask, P)
    if not np.array_equal(first, second):
        raise _Failed(
            "the same gradient from two identical calls",
            "two different gradients",
            "the backward pass must reuse the forward mask; do not draw random numbers in backward",
        )
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
    if not np.array_equal(grad_out, before):
        raise _Failed(
            "grad_out unchanged after the call",
            "grad_out modified",
            "do not modify grad_out in place (e.g. `grad_out *= mask`); compute a new array",
        )
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


def check_dropout_backward(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``dropout_backward(grad_out, mask, p) -> grad_x``.

    The contract is that of :func:`course_lib.dropout.dropout_backward`: the
    gradient ``grad_out * mask / (1 - p)`` with the forward pass's mask (never a
    new one), ``grad_out`` unchanged when ``mask`` is None, and ``ValueError``
    when the shapes of ``mask`` and ``grad_out`` differ. Masks come from the
    reference :func:`course_lib.dropout.dropout_forward`, so this checker does
    not depend on the student's forward pass. Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("dropout_backward", fn, _BACKWARD_PROPERTIES)


# --- early_stop_epoch ----------------------------------------------------------------------

_STOP_RULE = (
    "an epoch improves only if its loss is strictly below every earlier loss; stop at the first epoch e "
    "at which epochs e-patience+1 … e all failed to improve, else return len(val_losses) - 1"
)


@dataclass(frozen=True)
class _StopCase:
    """A hand-made loss curve with the stop epoch the contract gives for it."""

    what: str
    losses: tuple[float, ...]
    patience: int
    expected: int

    @property
    def name(self) -> str:
        return f"{_stop_call(list(self.losses), self.patience)} == {self.expected} ({self.what})"


def _stop_call(losses: list[float], patience: int) -> str:
    return f"early_stop_epoch({losses}, patience={patience})"


_STOP_CASES = (
    _StopCase("steady decrease: never stops", (1.0, 0.8, 0.6, 0.5, 0.45, 0.42), 2, 5),
    _StopCase("plateau from the start", (0.5, 0.5, 0.5, 0.5, 0.5, 0.5), 3, 3),
    _StopCase("a late improvement resets the count", (1.0, 0.9, 0.95, 0.97, 0.85, 0.9, 0.92, 0.93, 0.94), 3, 7),
    _StopCase("a tie with the best is no improvement", (1.0, 0.8, 0.9, 0.8, 0.85, 0.7), 2, 3),
    _StopCase("beating the previous epoch is not enough", (1.0, 0.6, 0.9, 0.8, 0.7, 0.65, 0.62), 3, 4),
    _StopCase("patience longer than the run", (0.9, 0.95, 0.97, 0.99), 10, 3),
    _StopCase("patience = 1", (1.0, 0.7, 0.8, 0.6, 0.5), 1, 2),
)


def _early_stop_variant(
    losses: Iterable[float],
    patience: int,
    *,
    ties_improve: bool = False,
    against_previous: bool = False,
    reset: bool = True,
    exceed: bool = False,
    plus_one: bool = False,
    best: bool = False,
    end_len: bool = False,
) -> int:
    """The stop epoch under the contract, or (with a flag) under a typical misreading of it.

    Only used to recognise a student's mistake from the value it returns; the
    reference is :func:`course_lib.train.early_stop_epoch`.
    """
    losses = list(losses)
    best_loss = previous = math.inf
    best_epoch = waited = 0
    for epoch, loss in enumerate(losses):
        target = previous if against_previous else best_loss
        if loss < target or (ties_improve and loss == target):
            waited = 0 if reset else waited
        else:
            waited += 1
        if loss < best_loss:
            best_loss, best_epoch = loss, epoch
        previous = loss
        if waited > patience if exceed else waited >= patience:
            return best_epoch if best else epoch + 1 if plus_one else epoch
    return best_epoch if best else len(losses) if end_len else len(losses) - 1


# Typical mistakes, each with the hint shown when a student's answer matches it.
_STOP_MISTAKES: tuple[tuple[dict[str, bool], str], ...] = (
    ({"plus_one": True}, "one epoch late: return the epoch e at which the patience runs out, not e + 1"),
    ({"exceed": True}, "stop when the count of epochs without improvement reaches patience, not when it exceeds it"),
    ({"best": True}, "that is the best epoch; return the epoch at which training stops"),
    ({"ties_improve": True}, "a tie with the best loss is not an improvement: use a strict <"),
    ({"against_previous": True}, "compare each loss with the best so far, not with the previous epoch"),
    ({"reset": False}, "reset the count to 0 on every improvement: patience counts consecutive epochs without one"),
    ({"end_len": True}, "if the patience never runs out, return the last index, len(val_losses) - 1"),
)


def _stop_hint(matching: list[str]) -> str:
    if not matching:
        return _STOP_RULE
    if len(matching) == 1:
        return matching[0]
    return "either " + "; or ".join(matching)


def _stop_mistakes_matching(losses: list[float], patience: int, got: int) -> list[str]:
    return [hint for flags, hint in _STOP_MISTAKES if _early_stop_variant(losses, patience, **flags) == got]


def _stop_epoch(fn: Callable[..., Any], losses: Any, patience: int) -> int:
    """Call the student's function on a copy of ``losses`` and require an int back."""
    result = _call(fn, losses.copy(), patience)
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, np.integer)):
        hint = "did you forget to `return` the epoch?" if result is None else "return the stop epoch as an int"
        raise _Failed("an int epoch index", _describe(result), hint)
    return int(result)


def _stop_case_property(case: _StopCase) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        losses = list(case.losses)
        got = _stop_epoch(fn, losses, case.patience)
        if got != case.expected:
            hint = _stop_hint(_stop_mistakes_matching(losses, case.patience, got))
            raise _Failed(str(case.expected), str(got), hint)
        return ""

    return prop


STOP_SEED = 1998  # Prechelt, "Early stopping — but when?"
STOP_CURVES = 300


def _random_loss_curves(count: int, seed: int) -> list[tuple[list[float], int]]:
    """U-shaped validation curves in steps of 0.1 (so ties and plateaus occur), with a patience each."""
    rng = _generator(seed)
    curves = []
    for _ in range(count):
        length = int(rng.integers(1, 26))
        turn = int(rng.integers(0, length + 1))  # falls before the turn, rises after it (over-fitting)
        steps = np.where(np.arange(length) < turn, rng.integers(-4, 3, length), rng.integers(-2, 5, length))
        tenths = np.maximum(30 + np.cumsum(steps), 1)
        curves.append(([int(t) / 10 for t in tenths], int(rng.integers(1, 6))))
    return curves


def _stop_agrees_with_reference(fn: Callable[..., Any]) -> str:
    disagreements = []  # (losses, patience, expected, got as text, got as int or None)
    for losses, patience in _random_loss_curves(STOP_CURVES, STOP_SEED):
        expected = int(_reference_early_stop_epoch(losses, patience))
        try:
            got = _stop_epoch(fn, losses, patience)
        except _StudentRaised as raised:
            disagreements.append((losses, patience, expected, str(raised), None))
            continue
        if got != expected:
            disagreements.append((losses, patience, expected, str(got), got))
    if not disagreements:
        return f"{STOP_CURVES} of {STOP_CURVES} agree"
    losses, patience, expected, got_text, got = min(disagreements, key=lambda d: len(d[0]))
    every_time = [  # a mistake that explains every disagreement is the likeliest one
        hint
        for flags, hint in _STOP_MISTAKES
        if all(d[4] is not None and _early_stop_variant(d[0], d[1], **flags) == d[4] for d in disagreements)
    ]
    matching = every_time or ([] if got is None else _stop_mistakes_matching(losses, patience, got))
    shortest = f"; the shortest of {len(disagreements)} disagreeing curves"
    raise _Failed(f"{_stop_call(losses, patience)} = {expected}", got_text + shortest, _stop_hint(matching))


def _stop_accepts_list_and_array(fn: Callable[..., Any]) -> str:
    case = _STOP_CASES[2]  # whether the answer is right is checked above: here only that both kinds work alike
    results = {}
    for kind, losses in (("list", list(case.losses)), ("NumPy array", np.array(case.losses))):
        try:
            results[kind] = _stop_epoch(fn, losses, case.patience)
        except _StudentRaised as raised:
            hint = _exception_hint(raised.error)
            if "truth value of an array" in str(raised):
                hint = "`if not val_losses` fails for an array: test `len(val_losses) == 0` instead"
            raise _Failed(f"a result for a {kind}", str(raised), hint) from None
    if len(set(results.values())) > 1:
        got = ", ".join(f"{value} for a {kind}" for kind, value in results.items())
        raise _Failed("the same epoch for a list and an array", got, "use only len(), indexing and iteration")
    return ""


def _stop_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    case = _STOP_CASES[2]
    for kind, losses in (("list", list(case.losses)), ("array", np.array(case.losses))):
        before = np.array(losses, copy=True)
        _call(fn, losses, case.patience)  # the caller's object, not a copy
        if len(losses) != len(before) or not np.array_equal(np.asarray(losses), before):
            raise _Failed(
                f"the {kind} val_losses unchanged after the call",
                f"the {kind} modified",
                "do not sort, pop or overwrite val_losses; track the best loss in a variable",
            )
    return ""


def _stop_rejects_bad_patience(fn: Callable[..., Any]) -> str:
    hint = "check patience up front: `if patience < 1: raise ValueError(f\"patience must be >= 1, got {patience}\")`"
    for patience in (0, -1):
        _expect_value_error(f"ValueError for patience = {patience}", hint, fn, [1.0, 0.9, 0.8], patience)
    return ""


def _stop_rejects_empty_losses(fn: Callable[..., Any]) -> str:
    hint = "check up front: `if len(val_losses) == 0: raise ValueError(\"val_losses must not be empty\")`"
    _expect_value_error("ValueError", hint, fn, [], 2)
    return ""


_STOP_PROPERTIES: list[tuple[str, _Property]] = [
    *((case.name, _stop_case_property(case)) for case in _STOP_CASES),
    (
        f"agrees with course_lib.train.early_stop_epoch on {STOP_CURVES} random loss curves "
        f"(seed {STOP_SEED}, 1–25 epochs, patience 1–5)",
        _stop_agrees_with_reference,
    ),
    ("accepts a list and a NumPy array (the same epoch for both)", _stop_accepts_list_and_array),
    ("leaves val_losses unchanged (list and array)", _stop_leaves_input_unchanged),
    ("patience < 1 raises ValueError (patience = 0, -1)", _stop_rejects_bad_patience),
    ("empty val_losses raises ValueError", _stop_rejects_empty_losses),
]


def check_early_stop_epoch(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``early_stop_epoch(val_losses, patience) -> int``.

    The contract is that of :func:`course_lib.train.early_stop_epoch`: epochs
    are numbered from 0; an epoch improves if its validation loss is strictly
    below every earlier one (epoch 0 always improves); training stops after the
    first epoch ``e`` at which the last ``patience`` epochs all failed to
    improve, and the function returns that ``e``, or ``len(val_losses) - 1`` if
    it never happens. ``ValueError`` for ``patience < 1`` and for an empty
    ``val_losses``. Prints one line per property: seven hand-made curves (a
    wrong answer is matched against typical mistakes to pick the hint), then
    agreement with the reference on random curves, showing the shortest
    counterexample.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("early_stop_epoch", fn, _STOP_PROPERTIES)


# --- train_val_split -----------------------------------------------------------------------

SPLIT_FRACTION = 0.3
# n_c × 0.3 = 36, 19.2, 4.2 and 2.7: rounding (36, 19, 4, 3) differs from truncating (2.7 → 2) and from
# rounding up (19.2 → 20); no class lands on .5, where rounding conventions disagree. 207 × 0.3 = 62.1
# rounds to 62 = 36 + 19 + 4 + 3, so an unstratified split has the right total and only its per-class
# counts give it away.
SPLIT_CLASS_SIZES = (120, 64, 14, 9)
SPLIT_SEED = 1995  # Kohavi's study that recommends stratified cross-validation
_SPLIT_PARTS = "(X_train, y_train, X_val, y_val)"
_SAME_INDEX_HINT = "index X and y with the same index array (X[idx], y[idx]) so each pair stays together"


def _split_data(seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0–3 in random order, and X whose first column is the row's id (0, 1, 2, …)."""
    rng = _generator(seed)
    y = rng.permutation(np.repeat(np.arange(len(SPLIT_CLASS_SIZES)), SPLIT_CLASS_SIZES))
    X = np.column_stack([np.arange(len(y), dtype=float), rng.normal(size=(len(y), 2))])
    return X, y


def _counts(labels: np.ndarray) -> dict[int, int]:
    values, sizes = np.unique(labels, return_counts=True)
    return {int(c): int(n) for c, n in zip(values, sizes)}


def _expected_val_counts(X: np.ndarray, y: np.ndarray, val_fraction: float) -> dict[int, int]:
    """Validation count per class from the reference, course_lib.data.train_val_split: round(n_c * val_fraction)."""
    return _counts(_reference_split(X, y, val_fraction, _generator(SPLIT_SEED))[3])


def _split(
    fn: Callable[..., Any], X: np.ndarray, y: np.ndarray, seed: int, *, copies: bool = True
) -> tuple[np.ndarray, ...]:
    """Call the student's split with a fresh generator; check the structure of what comes back."""
    args = (X.copy(), y.copy()) if copies else (X, y)
    result = _call(fn, *args, SPLIT_FRACTION, _generator(seed))
    if not isinstance(result, tuple) or len(result) != 4:
        if result is None:
            hint = "did you forget to `return X_train, y_train, X_val, y_val`?"
        elif isinstance(result, list) and len(result) == 4:
            hint = "return a tuple, not a list: `return X_train, y_train, X_val, y_val`"
        else:
            hint = f"return the four arrays {_SPLIT_PARTS}, in that order"
        raise _Failed(f"a tuple {_SPLIT_PARTS}", _describe(result), hint)
    names = ("X_train", "y_train", "X_val", "y_val")
    for name, part, like in zip(names, result, (X, y, X, y)):
        if not isinstance(part, np.ndarray) or part.ndim != like.ndim or part.shape[1:] != like.shape[1:]:
            shape = "(n, " + ", ".join(map(str, like.shape[1:])) + ")" if like.ndim > 1 else "(n,)"
            hint = "return NumPy arrays holding rows of X and entries of y (index them: X[idx], y[idx])"
            raise _Failed(f"{name} a NumPy array of shape {shape}", _describe(part), hint)
    X_train, y_train, X_val, y_val = result
    for part, X_part, y_part in (("train", X_train, y_train), ("val", X_val, y_val)):
        if len(X_part) != len(y_part):
            raise _Failed(f"len(X_{part}) == len(y_{part})", f"{len(X_part)} and {len(y_part)}", _SAME_INDEX_HINT)
    return X_train, y_train, X_val, y_val


def _row_ids(X_part: np.ndarray, X: np.ndarray, name: str) -> np.ndarray:
    """The ids (first column) of the rows in ``X_part``; fail if some row is not a row of X."""
    ids = X_part[:, 0]
    valid = (ids == np.round(ids)) & (ids >= 0) & (ids < len(X))
    safe = np.where(valid, ids, 0).astype(int)
    if not (valid.all() and np.array_equal(X_part, X[safe])):
        bad = int(np.count_nonzero(~valid | np.any(X_part != X[safe], axis=1)))
        hint = "return whole rows of X, selected by index (X[idx]); do not build or modify rows"
        raise _Failed(f"every row of {name} a row of X", f"{bad} of {len(X_part)} rows found nowhere in X", hint)
    return safe


def _split_ids(fn: Callable[..., Any], seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    X, y = _split_data()
    X_train, _, X_val, _ = _split(fn, X, y, seed)
    return _row_ids(X_train, X, "X_train"), _row_ids(X_val, X, "X_val")


def _split_returns_four_arrays(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_train, _, X_val, _ = _split(fn, X, y, SPLIT_SEED)
    return f"{len(X_train)} train rows, {len(X_val)} validation rows"


def _split_partitions_rows(fn: Callable[..., Any]) -> str:
    train, val = _split_ids(fn)
    n = sum(SPLIT_CLASS_SIZES)
    expected = f"each of the {n} rows in exactly one part"
    for name, ids in (("X_train", train), ("X_val", val)):
        repeated = len(ids) - len(np.unique(ids))
        if repeated:
            hint = "select rows without replacement: split one permutation of the indices (rng.permutation)"
            raise _Failed(expected, f"{repeated} rows repeated within {name}", hint)
    overlap = len(np.intersect1d(train, val))
    if overlap:
        hint = "train and val must be disjoint: val takes some indices, train gets exactly the others"
        raise _Failed(expected, f"{overlap} rows in both train and val", hint)
    missing = n - len(train) - len(val)
    if missing:
        hint = "no row may be lost: train gets every index val did not take (check your slice bounds)"
        raise _Failed(expected, f"{missing} rows in neither part", hint)
    return ""


def _split_keeps_pairs(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_train, y_train, X_val, y_val = _split(fn, X, y, SPLIT_SEED)
    for name, X_part, y_part in (("train", X_train, y_train), ("val", X_val, y_val)):
        ids = _row_ids(X_part, X, f"X_{name}")
        wrong = int(np.count_nonzero(y_part != y[ids]))
        if wrong:
            got = f"{wrong} of {len(ids)} labels in y_{name} belong to another row"
            raise _Failed(f"y_{name}[k] == y[i] whenever X_{name}[k] == X[i]", got, _SAME_INDEX_HINT)
    return ""


def _split_is_stratified(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    _, _, _, y_val = _split(fn, X, y, SPLIT_SEED)
    expected = _expected_val_counts(X, y, SPLIT_FRACTION)
    got = _counts(y_val)
    if got == expected:
        return f"validation counts {got}"
    sizes = _counts(y)
    got_list = [got.get(c, 0) for c in sizes]
    if got.keys() - sizes.keys():
        hint = "y_val must hold labels from y"
    elif got_list == [n - expected[c] for c, n in sizes.items()]:
        hint = "train and val are swapped: validation gets the val_fraction share, training the rest"
    elif got_list == [math.floor(n * SPLIT_FRACTION) for n in sizes.values()]:
        hint = "use round(n_c * val_fraction); int() truncates 2.7 to 2"
    elif got_list == [math.ceil(n * SPLIT_FRACTION) for n in sizes.values()]:
        hint = "use round(n_c * val_fraction), not a ceiling (19.2 rounds to 19)"
    elif {g - e for g, e in zip(got_list, expected.values())} in ({1}, {-1}):
        hint = "off by one in every class: take exactly round(n_c * val_fraction) rows of each class"
    elif sum(got_list) == sum(expected.values()):
        hint = "the total is right but the classes are not: split each class separately (stratify)"
    else:
        hint = "for each class c, put round(n_c * val_fraction) of its rows, chosen with rng, in validation"
    raise _Failed(f"validation counts {expected}", str(got), hint)


def _split_chooses_rows_at_random(fn: Callable[..., Any]) -> str:
    _, val = _split_ids(fn)
    _, y = _split_data()
    ids = np.arange(len(y))
    val_set = set(val.tolist())
    hint = "choose the validation rows at random: permute the indices with rng.permutation before slicing"
    if not val_set:
        raise _Failed("a random choice of validation rows", "an empty validation set", "see the stratified line")
    for where, chosen in (("first", ids[: len(val)]), ("last", ids[len(ids) - len(val) :])):
        if val_set == set(chosen.tolist()):
            raise _Failed("a random choice of validation rows", f"the {where} {len(val)} rows of X", hint)
    for where in ("first", "last"):
        picks = []
        for c in np.unique(y):
            members = ids[y == c]
            k = int(np.count_nonzero(y[val] == c))
            picks.append(members[:k] if where == "first" else members[len(members) - k :])
        if picks and val_set == set(np.concatenate(picks).tolist()):
            raise _Failed("a random choice of validation rows", f"the {where} rows of each class", hint)
    return ""


def _split_uses_rng(fn: Callable[..., Any]) -> str:
    state = np.random.get_state()
    try:
        np.random.seed(SPLIT_SEED)  # the same global state for both calls: only `rng` should matter
        first = _split(fn, *_split_data(), SPLIT_SEED + 1)
        np.random.seed(SPLIT_SEED)
        second = _split(fn, *_split_data(), SPLIT_SEED + 1)
        other = _split(fn, *_split_data(), SPLIT_SEED + 2)
    finally:
        np.random.set_state(state)
    hint = "draw every random number from the `rng` argument (rng.permutation), not from a new generator"
    if not all(np.array_equal(a, b) for a, b in zip(first, second)):
        raise _Failed("the same split from two identically seeded generators", "two different splits", hint)
    if np.array_equal(first[2], other[2]) and np.array_equal(first[0], other[0]):
        raise _Failed("a different split from a differently seeded generator", "the same split", hint)
    return ""


def _split_ignores_global_state(fn: Callable[..., Any]) -> str:
    state = np.random.get_state()
    try:
        splits = []
        for global_seed in (1, 2):
            np.random.seed(global_seed)
            splits.append(_split(fn, *_split_data(), SPLIT_SEED + 3))
    finally:
        np.random.set_state(state)
    if not all(np.array_equal(a, b) for a, b in zip(*splits)):
        raise _Failed(
            "the same split whatever the state of np.random",
            "a split that changes with np.random.seed",
            "use the `rng` argument (rng.permutation), not np.random.permutation / np.random.shuffle",
        )
    return ""


def _split_leaves_inputs_unchanged(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_before, y_before = X.copy(), y.copy()
    _split(fn, X, y, SPLIT_SEED, copies=False)  # the caller's arrays, not copies
    for name, now, before in (("X", X, X_before), ("y", y, y_before)):
        if not np.array_equal(now, before):
            raise _Failed(
                f"{name} unchanged after the call",
                f"{name} modified",
                "do not shuffle in place (rng.shuffle(X)); index with a permutation instead (X[idx])",
            )
    return ""


def _split_rejects_bad_fraction(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    hint = "check up front: `if not 0 < val_fraction < 1: raise ValueError(...)` naming the value"
    for fraction in (0.0, 1.0, 1.5):
        expected = f"ValueError for val_fraction = {fraction}"
        _expect_value_error(expected, hint, fn, X.copy(), y.copy(), fraction, _generator(SPLIT_SEED))
    return ""


def _split_rejects_length_mismatch(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    hint = "check up front that len(X) == len(y) and raise ValueError naming both lengths"
    expected = f"ValueError for len(X) = {len(X) - 1}, len(y) = {len(y)}"
    _expect_value_error(expected, hint, fn, X[:-1].copy(), y.copy(), SPLIT_FRACTION, _generator(SPLIT_SEED))
    return ""


_SIZES_TEXT = ", ".join(map(str, SPLIT_CLASS_SIZES))
_SPLIT_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns {_SPLIT_PARTS}: NumPy arrays, X's row shape, matching lengths", _split_returns_four_arrays),
    ("every row in exactly one part (rows tagged with unique ids)", _split_partitions_rows),
    ("each (X[i], y[i]) pair stays together", _split_keeps_pairs),
    (
        f"stratified: exactly round(n_c × {SPLIT_FRACTION}) rows of each class c in validation "
        f"(class sizes {_SIZES_TEXT}; no tolerance)",
        _split_is_stratified,
    ),
    (
        "validation rows chosen at random (not the first or last rows, overall or per class)",
        _split_chooses_rows_at_random,
    ),
    ("uses rng: same seed gives the same split, another seed a different one", _split_uses_rng),
    ("does not use np.random's global state", _split_ignores_global_state),
    ("leaves X and y unchanged", _split_leaves_inputs_unchanged),
    ("val_fraction outside (0, 1) raises ValueError (0.0, 1.0, 1.5)", _split_rejects_bad_fraction),
    ("len(X) != len(y) raises ValueError", _split_rejects_length_mismatch),
]


def check_train_val_split(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``train_val_split(X, y, val_fraction, rng) -> (X_train, y_train, X_val, y_val)``.

    The contract is that of :func:`course_lib.data.train_val_split`: a
    stratified split (exactly ``round(n_c * val_fraction)`` examples of each
    class ``c`` go to validation), every row in exactly one part, ``(X[i], y[i])``
    pairs kept together, rows chosen at random with the given ``rng`` only,
    inputs left unchanged, and ``ValueError`` for ``val_fraction`` outside
    (0, 1) or ``len(X) != len(y)``. The data has 207 rows in four classes; the
    first column of ``X`` holds each row's id, so the checker can tell which
    rows went where. Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("train_val_split", fn, _SPLIT_PROPERTIES)


# --- weight decay: shared helpers ----------------------------------------------------------

WD_SEED = 2019  # Loshchilov & Hutter, "Decoupled weight decay regularization"


def _as_array(value: Any) -> Any:
    """A torch tensor as a NumPy array (a student may compute with torch); anything else unchanged."""
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def _numbers(values: Iterable[float]) -> str:
    """``[1.5, -0.75]``: a short, platform-independent rendering of a few numbers."""
    return "[" + ", ".join(f"{float(v) + 0.0:.6g}" for v in values) + "]"  # + 0.0 prints -0.0 as 0


def _one_of(hints: list[str], fallback: str) -> str:
    """The hint for the mistakes an answer matches (without repeats), or ``fallback`` if it matches none."""
    unique = list(dict.fromkeys(hints))
    if not unique:
        return fallback
    if len(unique) == 1:
        return unique[0]
    return "either " + "; or ".join(unique)


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
    """A typical wrong update rule, with the hint shown for each of the two exercises."""

    update: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]
    l2_hint: str
    decoupled_hint: str


_STEP_MISTAKES: dict[str, _StepMistake] = {
    "uphill": _StepMistake(
        lambda w, g, lr, wd: w + lr * (g + wd * w),
        "sign error: the step goes uphill; subtract lr·(grad + weight_decay·w) from w, do not add it",
        "sign error: the step goes uphill; multiply w by (1 - lr·weight_decay) and subtract lr·grad",
    ),
    "grad_sign": _StepMistake(
        lambda w, g, lr, wd: (1 - lr * wd) * w + lr * g,
        "sign error: lr·grad is added; a descent step subtracts it",
        "sign error: lr·grad is added; a descent step subtracts it",
    ),
    "decay_sign": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g - wd * w),
        "sign error in the decay: the gradient of (λ/2)‖w‖² is +λw, so the step subtracts lr·λ·w and pulls w towards 0",
        "sign error in the decay: w must shrink, by the factor (1 - lr·weight_decay) < 1, not grow",
    ),
    "no_lr": _StepMistake(
        lambda w, g, lr, wd: w - lr * g - wd * w,
        "the decay is not multiplied by lr: λw is part of the gradient, so the step is lr·(grad + λw)",
        "the decay is not multiplied by lr: in the torch.optim.AdamW convention w shrinks by (1 - lr·weight_decay)",
    ),
    "half": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g + wd * w / 2),
        "the penalty is scaled by ½: the gradient of (λ/2)‖w‖² is λw, not λw/2",
        "the decay is halved: the decoupled step multiplies w by (1 - lr·weight_decay), with no ½",
    ),
    "double": _StepMistake(
        lambda w, g, lr, wd: w - lr * (g + 2 * wd * w),
        "the penalty gradient is 2λw, the gradient of λ‖w‖²; the penalty here is (λ/2)‖w‖², whose gradient is λw",
        "the decay is doubled: multiply w by (1 - lr·weight_decay), not (1 - 2·lr·weight_decay)",
    ),
    "factor_after": _StepMistake(
        lambda w, g, lr, wd: (w - lr * g) * (1 - wd),
        "the decay is applied as a factor (1 - λ) to the updated weights: add λw to the gradient instead, "
        "w - lr·(grad + λw), so that w shrinks by (1 - lr·λ)",
        "the decay is applied as a factor (1 - weight_decay) to the updated weights: "
        "shrink the old w by (1 - lr·weight_decay), then subtract lr·grad",
    ),
    "after": _StepMistake(
        lambda w, g, lr, wd: (w - lr * g) * (1 - lr * wd),
        "the decay is applied to the updated weights (w - lr·grad): decay the old w, w - lr·(grad + λw); "
        "the two differ by lr²·λ·grad",
        "the decay is applied to the updated weights (w - lr·grad): decay the old w, "
        "(1 - lr·weight_decay)·w - lr·grad; the two differ by lr²·weight_decay·grad",
    ),
    "ignored": _StepMistake(
        lambda w, g, lr, wd: w - lr * g,
        "weight_decay is ignored: add weight_decay·w to the gradient",
        "weight_decay is ignored: multiply w by (1 - lr·weight_decay) before subtracting lr·grad",
    ),
    "no_grad": _StepMistake(
        lambda w, g, lr, wd: (1 - lr * wd) * w,
        "the loss gradient is missing: the step is lr·(grad + weight_decay·w)",
        "the gradient step is missing: subtract lr·grad as well",
    ),
}


@dataclass(frozen=True)
class _StepRule:
    """What distinguishes the two step exercises: name, formula, reference and hints."""

    name: str
    formula: str
    reference: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]
    decoupled: bool

    def hint(self, mistake: str) -> str:
        entry = _STEP_MISTAKES[mistake]
        return entry.decoupled_hint if self.decoupled else entry.l2_hint

    @property
    def generic_hint(self) -> str:
        return f"compute {self.formula} as a new array"


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
        raise _Failed("the updated weights", "None", "did you forget to `return` the new weights?")
    hint = "return the updated weights, a float array of w's shape"
    return _require_float_array(result, w.shape, "new weights:", hint)


def _step_mistakes_matching(
    rule: _StepRule, got: np.ndarray, w: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float
) -> list[str]:
    """The hints of the typical mistakes whose update gives ``got`` on these inputs."""
    return [
        rule.hint(key)
        for key, mistake in _STEP_MISTAKES.items()
        if _close(got, mistake.update(w, grad, lr, weight_decay), rtol=1e-9, atol=1e-12)
    ]


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
            matching = _step_mistakes_matching(rule, got, w, grad, STEP_CASE_LR, STEP_CASE_DECAY)
            raise _Failed(_numbers(expected), _numbers(got), _one_of(matching, rule.generic_hint))
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
            if _close(got, w + 0.1 * grad, rtol=1e-9, atol=1e-12):
                hint = rule.hint("uphill")
            else:
                hint = "with weight_decay = 0 the step is plain SGD, w - lr·grad"
            raise _Failed("w - lr·grad (lr = 0.1, weight_decay = 0)", "a different array", hint)
        return ""

    return prop


_PURE_DECAY_HINT = "with grad = 0 the step is w·(1 - lr·weight_decay)"


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
        if not uniform:
            raise _Failed(expected, "not a fixed multiple of w", _PURE_DECAY_HINT)
        wrong_factors = {
            "no_lr": 1 - weight_decay,
            "half": 1 - lr * weight_decay / 2,
            "double": 1 - 2 * lr * weight_decay,
            "decay_sign": 1 + lr * weight_decay,
            "ignored": 1.0,
        }
        matching = [rule.hint(key) for key, wrong in wrong_factors.items() if math.isclose(scale, wrong, rel_tol=1e-9)]
        raise _Failed(expected, f"w × {scale:.6f}", _one_of(matching, _PURE_DECAY_HINT))

    return prop


def _step_leaves_inputs_unchanged(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        w, grad = _signed_input((4, 5), WD_SEED + 6), _signed_input((4, 5), WD_SEED + 7)
        w_before, grad_before = w.copy(), grad.copy()
        _step(fn, w, grad, 0.1, 0.01, copies=False)  # the caller's arrays, not copies
        if not np.array_equal(w, w_before):
            hint = "do not update w in place (`w -= …`); return a new array: the caller still holds the old w"
            raise _Failed("w unchanged after the call", "w modified", hint)
        if not np.array_equal(grad, grad_before):
            hint = "do not add the decay into grad in place (`grad += weight_decay * w`); compute a new array"
            raise _Failed("grad unchanged after the call", "grad modified", hint)
        return ""

    return prop


def _step_rejects_negative_decay(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        hint = (
            "check up front: `if weight_decay < 0: "
            "raise ValueError(f\"weight_decay must be >= 0, got {weight_decay}\")`"
        )
        w = _signed_input(5, WD_SEED + 8)
        _expect_value_error("ValueError for weight_decay = -0.01", hint, fn, w, w.copy(), 0.1, -0.01)
        return ""

    return prop


def _step_rejects_bad_lr(rule: _StepRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        hint = "check up front: `if lr <= 0: raise ValueError(f\"lr must be > 0, got {lr}\")`"
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
            matching = _step_mistakes_matching(
                _DECOUPLED_RULE, student, previous, grad, TRAJECTORY_LR, TRAJECTORY_DECAY
            )
            fallback = _DECOUPLED_RULE.generic_hint
            if step > 1:
                fallback += "; the earlier steps agreed: the step must depend only on its arguments (keep no state)"
            raise _Failed(f"sgd_l2_step's weights after step {step}", "different weights", _one_of(matching, fallback))
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


def check_sgd_l2_step(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``sgd_l2_step(w, grad, lr, weight_decay) -> new w``.

    The contract: one SGD step on ``loss + (weight_decay / 2)·‖w‖²``, whose
    gradient is ``grad + weight_decay·w``, so the result is
    ``w - lr·(grad + weight_decay·w)``, a new array (``w`` and ``grad`` are left
    unchanged); ``ValueError`` for ``weight_decay < 0`` and for ``lr <= 0``.
    Prints one line per property; a wrong answer is matched against typical
    mistakes (sign errors, the decay not multiplied by lr, a ½ or a 2 in the
    penalty's gradient, the decay applied to the updated weights) to pick the hint.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("sgd_l2_step", fn, _L2_PROPERTIES)


def check_sgd_decoupled_step(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``sgd_decoupled_step(w, grad, lr, weight_decay) -> new w``.

    The contract: decoupled weight decay (Loshchilov & Hutter, 2019) in the
    convention of ``torch.optim.AdamW``, where the decay is multiplied by the
    learning rate: ``(1 - lr·weight_decay)·w - lr·grad``, a new array; for plain
    SGD this is the same update as :func:`check_sgd_l2_step`'s, which a
    50-step trajectory on a quadratic loss confirms. ``ValueError`` for
    ``weight_decay < 0`` and for ``lr <= 0``. Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("sgd_decoupled_step", fn, _DECOUPLED_PROPERTIES)


# --- soft_threshold ------------------------------------------------------------------------

L1_SEED = 1996  # Tibshirani, "Regression shrinkage and selection via the lasso"
L1_RTOL = 1e-12


def _soft_threshold(w: np.ndarray, threshold: float) -> np.ndarray:
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


_HARD_HINT = "keeps survivors unchanged — that is hard thresholding; soft thresholding also shrinks them by t"
_SOFT_MISTAKES: tuple[tuple[Callable[[np.ndarray, float], np.ndarray], str], ...] = (
    (lambda w, t: np.where(np.abs(w) > t, w, 0.0), _HARD_HINT),
    (lambda w, t: np.where(np.abs(w) >= t, w, 0.0), _HARD_HINT),
    (
        lambda w, t: w - t * np.sign(w),
        "shrinks every entry by t without zeroing: entries with |w| < t cross zero and change sign; "
        "max(|w| - t, 0) sets them to exactly 0",
    ),
    (
        lambda w, t: np.maximum(np.abs(w) - t, 0.0),
        "the sign is lost: multiply max(|w| - t, 0) by sign(w), negative weights stay negative",
    ),
    (
        lambda w, t: np.maximum(w - t, 0.0),
        "negative weights are zeroed: max(w - t, 0) only handles w > 0; use sign(w)·max(|w| - t, 0)",
    ),
    (
        lambda w, t: _soft_threshold(w, t / 2),
        "the threshold is scaled by ½: the minimiser of ½(x - w)² + t|x| shrinks by t, not t/2",
    ),
    (
        lambda w, t: _soft_threshold(w, 2 * t),
        "the threshold is doubled: the minimiser of ½(x - w)² + t|x| shrinks by t, not 2t",
    ),
    (
        lambda w, t: np.clip(w, -t, t),
        "that is clipping (np.clip(w, -t, t)); soft thresholding sets [-t, t] to 0 and shrinks the rest by t",
    ),
)
_SOFT_FORMULA_HINT = "compute sign(w)·max(|w| - threshold, 0), elementwise"

# The hand-made case: every number is a short binary fraction (the answer is exact), the boundary
# |w| = t appears on both sides, and each typical mistake gives a different answer.
SOFT_CASE_W = (-3.0, -1.5, -1.0, -0.25, 0.0, 0.75, 1.0, 2.5)
SOFT_CASE_THRESHOLD = 1.0
SOFT_CASE_EXPECTED = (-2.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5)
SOFT_THRESHOLDS = (0.1, 0.5, 1.0, 2.0, 3.0)


def _soft(fn: Callable[..., Any], w: np.ndarray, threshold: float, *, copy: bool = True) -> np.ndarray:
    result = _as_array(_call(fn, w.copy() if copy else w, threshold))
    if result is None:
        raise _Failed("the thresholded array", "None", "did you forget to `return` the result?")
    return _require_float_array(result, w.shape, "a result:", "return a new float array of w's shape")


def _soft_mistakes_matching(
    got: np.ndarray, w: np.ndarray, threshold: float, where: np.ndarray | None = None
) -> list[str]:
    """Hints of the typical mistakes that give ``got`` (only the entries ``where``, if given)."""
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
        if not np.any(got[inside & ~boundary]):
            hint = "entries with |w| == t must become 0 too: max(|w| - t, 0) is 0 there (keep only |w| > t)"
        else:
            matching = _soft_mistakes_matching(got, w, threshold, inside)
            hint = _one_of(matching, "set every entry with |w| <= t to exactly 0")
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
    if not np.array_equal(w, before):
        hint = "do not modify w in place (e.g. `w[np.abs(w) <= t] = 0`); compute a new array"
        raise _Failed("w unchanged after the call", "w modified", hint)
    return ""


def _soft_rejects_negative_threshold(fn: Callable[..., Any]) -> str:
    hint = "check up front: `if threshold < 0: raise ValueError(f\"threshold must be >= 0, got {threshold}\")`"
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


def check_soft_threshold(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``soft_threshold(w, threshold) -> array``.

    The contract: elementwise ``sign(w)·max(|w| - threshold, 0)``, the proximal
    step of ``threshold·|x|`` (the minimiser of ``½(x - w)² + threshold·|x|``):
    exact zeros where ``|w| <= threshold``, survivors shrunk towards 0 by exactly
    ``threshold``, a new array (``w`` unchanged), ``ValueError`` for a negative
    threshold. Prints one line per property; a wrong answer is matched against
    typical mistakes (hard thresholding, shrinking without zeroing, a lost sign,
    a halved threshold, clipping) to pick the hint.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("soft_threshold", fn, _SOFT_PROPERTIES)


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
_SINGULAR_HINT = "XᵀX is singular when n<d only if alpha=0; did you forget to add alpha·I?"


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


_RIDGE_MISTAKES: tuple[tuple[Callable[..., np.ndarray], str], ...] = (
    (
        _ridge_with_gram(lambda g, a, n: g + a / 2 * np.eye(len(g))),
        "alpha is scaled by ½: scikit-learn's Ridge has no ½: its objective is ‖y−Xw‖² + α‖w‖², "
        "so solve (XᵀX + alpha·I)w = Xᵀy",
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + 2 * a * np.eye(len(g))),
        "alpha is doubled: setting the gradient -2Xᵀ(y - Xw) + 2·alpha·w to 0 gives (XᵀX + alpha·I)w = Xᵀy",
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + n * a * np.eye(len(g))),
        "alpha is multiplied by n: that mixes in the 1/(2n) scaling of Lasso's objective; "
        "Ridge's objective ‖y−Xw‖² + α‖w‖² has no 1/n",
    ),
    (
        _ridge_with_gram(lambda g, a, n: g + a),
        "alpha is added to every entry of XᵀX: add it to the diagonal only, XᵀX + alpha·np.eye(d)",
    ),
    (
        _ridge_missing_alpha,
        "alpha is missing: that is (minimum-norm) least squares; solve (XᵀX + alpha·I)w = Xᵀy",
    ),
)
_RIDGE_FORMULA_HINT = "solve (XᵀX + alpha·I) w = Xᵀy with np.linalg.solve"


def _relative_difference(got: np.ndarray, expected: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(got - expected) / np.linalg.norm(expected))


def _ridge_mistakes_matching(got: np.ndarray, X: np.ndarray, y: np.ndarray, alpha: float) -> list[str]:
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
        raise _Failed(f"coefficients of shape ({d},)", "None", "did you forget to `return` w?")
    shape = getattr(result, "shape", None)
    if isinstance(result, np.ndarray) and shape in ((d, 1), (1, d)):
        hint = f"return a 1-D vector of shape ({d},), not {shape}: keep y 1-D or .ravel() the result"
        raise _Failed(f"w of shape ({d},)", f"shape {shape}", hint)
    if isinstance(result, np.ndarray) and shape == (n,) and n != d:
        hint = (
            f"that has one entry per example (n = {n}), like the dual coefficients (XXᵀ + alpha·I)⁻¹y; "
            f"w has one per feature (d = {d}): solve the d×d system (XᵀX + alpha·I)w = Xᵀy"
        )
        raise _Failed(f"w of shape ({d},)", f"shape {shape}", hint)
    return _require_float_array(result, (d,), "w", "return the coefficient vector, a float array of shape (d,)")


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
        hint = "not a minimiser of ‖y - Xw‖² + alpha·‖w‖²; " + _one_of(
            _ridge_mistakes_matching(w, X, y, alpha), _RIDGE_FORMULA_HINT
        )
        raise _Failed(f"‖gradient‖ / ‖2Xᵀy‖ < {RIDGE_RTOL:.0e}", f"{size:.2g}", hint)
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
    norms = [float(np.linalg.norm(_ridge(fn, X, y, alpha))) for alpha in RIDGE_ALPHAS]
    text = ", ".join(f"{norm:.4g}" for norm in norms)
    if not all(later < earlier for earlier, later in zip(norms, norms[1:])):
        hint = "a larger alpha must give a smaller ‖w‖: add alpha·I to XᵀX (alpha multiplies the penalty ‖w‖²)"
        raise _Failed("‖w‖ decreasing as alpha grows", f"‖w‖ = {text}", hint)
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
        if not np.array_equal(now, before):
            hint = f"do not modify {name} in place (e.g. `{name} -= {name}.mean(axis=0)`); work on new arrays"
            raise _Failed(f"{name} unchanged after the call", f"{name} modified", hint)
    return ""


def _ridge_rejects_negative_alpha(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(30, 5, RIDGE_SEED + 15)
    hint = "check up front: `if alpha < 0: raise ValueError(f\"alpha must be >= 0, got {alpha}\")`"
    _expect_value_error("ValueError for alpha = -1.0", hint, fn, X, y, -1.0)
    return ""


def _ridge_rejects_mismatched_shapes(fn: Callable[..., Any]) -> str:
    X, y = _ridge_problem(30, 5, RIDGE_SEED + 16)
    hint = "check up front that X is 2-D and y has len(X) entries; raise ValueError naming both shapes"
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


def check_ridge_fit(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``ridge_fit(X, y, alpha) -> w``.

    The contract: the coefficient vector ``w`` of shape ``(d,)`` minimising
    ``‖y - Xw‖² + alpha·‖w‖²``, scikit-learn's ``Ridge(alpha,
    fit_intercept=False)`` objective (no ½, no 1/n), i.e. the solution of
    ``(XᵀX + alpha·I) w = Xᵀy``; it must work when there are fewer examples than
    features (``n < d``), leave ``X`` and ``y`` unchanged, and raise
    ``ValueError`` for ``alpha < 0`` and for mismatched shapes. Prints one line
    per property; a wrong answer is matched against typical mistakes (alpha
    halved, doubled, multiplied by n, added to every entry, or missing) to pick
    the hint.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("ridge_fit", fn, _RIDGE_PROPERTIES)


# --- adam_l2_step and adamw_step -----------------------------------------------------------

ADAM_SEED = 2015  # Kingma & Ba, "Adam: a method for stochastic optimization"
ADAM_RTOL = 1e-10
ADAM_ATOL = 1e-14  # absolute slack for entries that pass through 0
_MATCH_RTOL, _MATCH_ATOL = 1e-9, 1e-12  # how closely a wrong answer must follow a typical mistake to be named
_FLOAT32_RTOL = 1e-5
DEFAULT_BETAS = (0.9, 0.999)
DEFAULT_EPS = 1e-8
ADAM_STATE_NAMES = ("w", "m", "v")

# The hand-made first steps: t = 1 from m = v = 0, where bias correction gives m̂ = g and √v̂ = |g|, so the
# step is lr·g/(|g| + eps). With eps = 1 the gradients 1, -3 and 0 give 1/2, -3/4 and 0 exactly, and
# lr·weight_decay = 1/8; each typical mistake gives a different answer (tests/test_checks_adamw.py checks it).
ADAM_CASE_LR = 0.5
ADAM_CASE_EPS = 1.0
ADAM_CASE_DECAY = 0.25
ADAMW_CASE_W = (2.0, -1.0, 0.5)
ADAMW_CASE_GRAD = (1.0, -3.0, 0.0)
ADAMW_CASE_EXPECTED = (1.5, -0.5, 0.4375)  # w·(1 - 1/8) - 0.5·[1/2, -3/4, 0]
ADAM_L2_CASE_W = (2.0, -4.0, 1.0)
ADAM_L2_CASE_GRAD = (0.5, -2.0, -0.25)  # grad + 0.25·w = [1, -3, 0]
ADAM_L2_CASE_EXPECTED = (1.75, -3.625, 1.0)  # w - 0.5·[1/2, -3/4, 0]
ADAM_CASE_M = (0.1, -0.3, 0.0)  # (1 - β₁)·g for the gradient g = [1, -3, 0] that both cases feed to the moments
ADAM_CASE_V = (0.001, 0.009, 0.0)  # (1 - β₂)·g²

ADAM_BIAS_STEPS = (1, 2, 3, 10, 1000)
ADAM_ROW_SCALES = (1e-3, 1e-1, 1e1, 1e3)  # the gradient scale of each row of w in the multi-step properties
ADAM_SHAPE = (len(ADAM_ROW_SCALES), 5)
ADAM_STEPS = 100
ADAM_SHORT_STEPS = 20
# (lr, betas or None for the defaults, eps or None for the default, weight_decay) of the long runs
ADAM_SETTINGS: tuple[tuple[float, tuple[float, float] | None, float | None, float], ...] = (
    (0.01, None, None, 0.1),
    (0.05, (0.8, 0.99), 1e-6, 0.5),
)
ADAM_DECAY_W = (4.0, 1.0, 0.25, -0.5, -2.0)
ADAM_DECAY_LR = 0.1
ADAM_DECAY_WEIGHT_DECAY = 0.01
ADAM_DECAY_STEPS = 10

_AdamState = tuple[np.ndarray, np.ndarray, np.ndarray]  # (w, m, v)


@dataclass(frozen=True)
class _AdamVariant:
    """One way of computing an Adam step: the two right rules and every typical mistake are variants."""

    l2: bool = False  # weight_decay·w is added to the gradient that feeds m and v
    decoupled: bool = False  # w is also multiplied by (1 - lr·weight_decay)
    decay_lr: bool = True  # False: the decoupled factor is (1 - weight_decay)
    decay_after: bool = False  # the decoupled factor multiplies the updated weights, not the old ones
    decay_sign: float = 1.0  # -1.0: the decay pushes w away from 0
    bias_m: bool = True  # m̂ = m/(1 - β₁ᵗ)
    bias_v: bool = True  # v̂ = v/(1 - β₂ᵗ)
    t_shift: int = 0  # the bias correction uses t + t_shift
    eps_inside: bool = False  # √(v̂ + ε) instead of √v̂ + ε
    sqrt: bool = True  # False: v̂ + ε
    direction: float = -1.0  # +1.0: the step goes uphill
    betas_swapped: bool = False  # m ← (1 - β₁)·m + β₁·g
    returns_hat: bool = False  # returns m̂ and v̂ instead of m and v
    returns_v_m: bool = False  # returns (w, v, m)


@dataclass(frozen=True)
class _AdamProblem:
    """The arguments of one call: NumPy float64 arrays and numbers."""

    w: np.ndarray
    grad: np.ndarray
    m: np.ndarray
    v: np.ndarray
    t: int
    lr: float
    betas: tuple[float, float] = DEFAULT_BETAS
    eps: float = DEFAULT_EPS
    weight_decay: float = 0.01

    def step(self, variant: _AdamVariant) -> _AdamState:
        return _adam_variant_step(variant, self)


def _adam_variant_step(variant: _AdamVariant, problem: _AdamProblem) -> _AdamState:
    """One step of ``variant`` in NumPy (division by zero gives inf/nan, as it does in torch)."""
    p, (beta1, beta2) = problem, problem.betas
    with np.errstate(all="ignore"):
        g = p.grad + variant.decay_sign * p.weight_decay * p.w if variant.l2 else p.grad
        if variant.betas_swapped:
            m = (1 - beta1) * p.m + beta1 * g
            v = (1 - beta2) * p.v + beta2 * g**2
        else:
            m = beta1 * p.m + (1 - beta1) * g
            v = beta2 * p.v + (1 - beta2) * g**2
        power = p.t + variant.t_shift
        m_hat = m / (1 - beta1**power) if variant.bias_m else m
        v_hat = v / (1 - beta2**power) if variant.bias_v else v
        if variant.eps_inside:
            denominator = np.sqrt(v_hat + p.eps)
        else:
            denominator = (np.sqrt(v_hat) if variant.sqrt else v_hat) + p.eps
        step = variant.direction * p.lr * m_hat / denominator
        factor = 1.0
        if variant.decoupled:
            factor = 1 - variant.decay_sign * (p.lr if variant.decay_lr else 1.0) * p.weight_decay
        w = (p.w + step) * factor if variant.decay_after else p.w * factor + step
    m_out, v_out = (m_hat, v_hat) if variant.returns_hat else (m, v)
    return (w, v_out, m_out) if variant.returns_v_m else (w, m_out, v_out)


@dataclass(frozen=True)
class _AdamRule:
    """What distinguishes the two Adam exercises: the right variant, the torch reference and the hints."""

    name: str
    variant: _AdamVariant
    optimizer: str  # the torch.optim class with the same update
    generic_hint: str
    mistakes: tuple[tuple[_AdamVariant, str], ...]

    @property
    def optimizer_class(self) -> type[torch.optim.Optimizer]:
        return getattr(torch.optim, self.optimizer)


_ADAM_MOMENTS_TEXT = (
    "m ← β₁·m + (1 - β₁)·g; v ← β₂·v + (1 - β₂)·g²; w ← w - lr·m̂/(√v̂ + ε) with m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ)"
)
_ADAM_COMMON_MISTAKES: tuple[tuple[dict[str, Any], str], ...] = (
    (
        {"bias_m": False, "bias_v": False},
        "no bias correction: m and v start at 0, so the step must use m̂ = m/(1 - β₁ᵗ) and v̂ = v/(1 - β₂ᵗ)",
    ),
    ({"bias_m": False}, "m is not bias-corrected: the step uses m̂ = m/(1 - β₁ᵗ)"),
    ({"bias_v": False}, "v is not bias-corrected: the step uses v̂ = v/(1 - β₂ᵗ)"),
    (
        {"t_shift": -1},
        "off by one in the bias correction: t counts from 1, use β₁ᵗ and β₂ᵗ with the t you are given, "
        "not t - 1 (at t = 1, 1 - β⁰ = 0 gives nan)",
    ),
    (
        {"t_shift": 1},
        "off by one in the bias correction: the t you are given is already this step's number (it counts "
        "from 1), use β₁ᵗ and β₂ᵗ, not t + 1",
    ),
    (
        {"eps_inside": True},
        "ε is inside the square root: torch adds ε to √v̂, the step is lr·m̂/(√v̂ + ε), not lr·m̂/√(v̂ + ε)",
    ),
    ({"sqrt": False}, "the square root is missing: divide m̂ by √v̂ + ε, not by v̂ + ε"),
    ({"direction": 1.0}, "sign error: the step goes uphill; subtract lr·m̂/(√v̂ + ε) from w"),
    (
        {"betas_swapped": True},
        "β and 1 - β are swapped in the moving averages: m ← β₁·m + (1 - β₁)·g and v ← β₂·v + (1 - β₂)·g²",
    ),
    (
        {"returns_hat": True},
        "return the moments m and v themselves (the state for the next step), not the bias-corrected m̂ and v̂",
    ),
    ({"returns_v_m": True}, "m and v are swapped: return (w, m, v) in this order"),
)


def _adam_mistakes(
    right: _AdamVariant, specific: tuple[tuple[_AdamVariant, str], ...]
) -> tuple[tuple[_AdamVariant, str], ...]:
    common = tuple((replace(right, **changes), hint) for changes, hint in _ADAM_COMMON_MISTAKES)
    return specific + common


_ADAMW_VARIANT = _AdamVariant(decoupled=True)
_ADAM_L2_VARIANT = _AdamVariant(l2=True)
_ADAM_L2_IS_NOT_ADAMW = "that is Adam with L2, not AdamW: decoupled decay must not go through m and v"
_ADAMW_RULE = _AdamRule(
    name="adamw_step",
    variant=_ADAMW_VARIANT,
    optimizer="AdamW",
    generic_hint="compute, in this order, w ← w·(1 - lr·weight_decay); then, with g = grad, " + _ADAM_MOMENTS_TEXT,
    mistakes=_adam_mistakes(
        _ADAMW_VARIANT,
        (
            (
                _ADAM_L2_VARIANT,
                _ADAM_L2_IS_NOT_ADAMW + "; multiply w by (1 - lr·weight_decay) and feed only grad to m and v",
            ),
            (
                _AdamVariant(l2=True, decoupled=True),
                "the moments are updated with the decayed gradient grad + weight_decay·w while w is also "
                "decayed: in AdamW m and v see only grad, the decay acts on w alone",
            ),
            (
                _AdamVariant(decoupled=True, decay_lr=False),
                "the decay is not multiplied by lr: in the torch.optim.AdamW convention w shrinks by "
                "(1 - lr·weight_decay), not (1 - weight_decay)",
            ),
            (
                _AdamVariant(decoupled=True, decay_after=True),
                "the decay is applied after the Adam step, to the updated weights: decay the old w first, "
                "w·(1 - lr·weight_decay) - lr·m̂/(√v̂ + ε), as torch.optim.AdamW does; the two differ by "
                "lr²·weight_decay·m̂/(√v̂ + ε)",
            ),
            (
                _AdamVariant(decoupled=True, decay_sign=-1.0),
                "sign error in the decay: w must shrink, by the factor (1 - lr·weight_decay) < 1, not grow",
            ),
            (_AdamVariant(), "weight_decay is ignored: multiply w by (1 - lr·weight_decay) before the Adam step"),
        ),
    ),
)
_ADAM_L2_RULE = _AdamRule(
    name="adam_l2_step",
    variant=_ADAM_L2_VARIANT,
    optimizer="Adam",
    generic_hint="compute g = grad + weight_decay·w, then " + _ADAM_MOMENTS_TEXT,
    mistakes=_adam_mistakes(
        _ADAM_L2_VARIANT,
        (
            (
                _ADAMW_VARIANT,
                "that is AdamW's decoupled decay, not Adam with L2: add weight_decay·w to grad before "
                "updating m and v, and do not shrink w separately",
            ),
            (
                _AdamVariant(l2=True, decoupled=True),
                "w is also shrunk by (1 - lr·weight_decay): in Adam with L2 the decay acts only through "
                "the gradient, g = grad + weight_decay·w",
            ),
            (
                _AdamVariant(decoupled=True, decay_lr=False),
                "the decay is applied as w·(1 - weight_decay), outside the gradient and not multiplied by lr: "
                "in Adam with L2, weight_decay·w is added to grad before the moments",
            ),
            (
                _AdamVariant(l2=True, decay_sign=-1.0),
                "sign error in the decay: the gradient of (λ/2)‖w‖² is +λw, so g = grad + weight_decay·w",
            ),
            (_AdamVariant(), "weight_decay is ignored: add weight_decay·w to grad before updating m and v"),
        ),
    ),
)

_FLOAT32_HINT = (
    "the result agrees only to about float32 precision: keep the input dtype (float64) in every "
    "intermediate: no .float(), and no float32 tensors made from Python numbers"
)
_ADAM_RETURN_HINT = "return the new weights and moments as a tuple of tensors: `return w, m, v`"


def _describe_tensor(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    return _describe(value)


def _adam_result(result: Any, shape: tuple[int, ...]) -> _AdamState:
    """Check that the student returned three float64 tensors of w's shape; their values as NumPy copies."""
    if result is None:
        raise _Failed("a tuple (w, m, v)", "None", "did you forget to `return w, m, v`?")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise _Failed("a tuple (w, m, v)", _describe_tensor(result), _ADAM_RETURN_HINT)
    arrays = []
    for name, value in zip(ADAM_STATE_NAMES, result):
        expected = f"{name} a float64 tensor of shape {shape}"
        if not isinstance(value, torch.Tensor):
            hint = _ADAM_RETURN_HINT
            if isinstance(value, np.ndarray):
                hint = "return torch tensors, not NumPy arrays: use torch operations on the tensors you are given"
            raise _Failed(expected, _describe_tensor(value), hint)
        if tuple(value.shape) != shape:
            hint = f"{name} must have w's shape: every operation is elementwise"
            raise _Failed(expected, _describe_tensor(value), hint)
        if value.dtype != torch.float64:
            hint = "keep the input dtype: the inputs are float64 tensors; do not convert with .float() or .to(…)"
            raise _Failed(expected, _describe_tensor(value), hint)
        arrays.append(value.detach().cpu().numpy().copy())
    return arrays[0], arrays[1], arrays[2]


def _adam_call(fn: Callable[..., Any], problem: _AdamProblem, *, defaults: bool = False) -> _AdamState:
    """Call the student's step on tensor copies of the problem's arrays; ``defaults`` leaves betas and eps out."""
    tensors = [torch.from_numpy(np.array(a, dtype=np.float64)) for a in (problem.w, problem.grad, problem.m, problem.v)]
    options: dict[str, Any] = {"weight_decay": problem.weight_decay}
    if not defaults:
        options.update(betas=problem.betas, eps=problem.eps)
    return _adam_result(_call(fn, *tensors, problem.t, problem.lr, **options), problem.w.shape)


def _adam_differences(
    got: _AdamState, expected: _AdamState, rtol: float = ADAM_RTOL, atol: float = ADAM_ATOL
) -> list[str]:
    """The names (of w, m, v) where ``got`` and ``expected`` differ."""
    differing = []
    for name, a, b in zip(ADAM_STATE_NAMES, got, expected):
        with np.errstate(all="ignore"):
            same = a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        if not same:
            differing.append(name)
    return differing


def _differ_text(differing: list[str]) -> str:
    """``"w differs (m and v agree)"``, ``"m and v differ (w agrees)"``, ``"w, m and v differ"``."""
    agreeing = [name for name in ADAM_STATE_NAMES if name not in differing]

    def join(names: list[str]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    text = f"{join(differing)} {'differs' if len(differing) == 1 else 'differ'}"
    if agreeing:
        text += f" ({join(agreeing)} {'agrees' if len(agreeing) == 1 else 'agree'})"
    return text


_STATEFUL_HINT = (
    "the same arguments gave a different result on a second call: the step must depend only on its "
    "arguments (keep no state between calls, use the t you are given)"
)


def _adam_hint(
    rule: _AdamRule,
    fn: Callable[..., Any],
    got: _AdamState,
    problem: _AdamProblem,
    fallback: str | None = None,
    *,
    defaults: bool = False,
) -> str:
    """The hint for the typical mistakes whose step gives ``got`` on ``problem``, or a fallback.

    If no mistake matches, the student's function is called once more on the same problem: an answer
    that changes from call to call comes from hidden state (e.g. a step counter kept instead of ``t``).
    """
    matching = [
        hint
        for variant, hint in rule.mistakes
        if not _adam_differences(got, problem.step(variant), _MATCH_RTOL, _MATCH_ATOL)
    ]
    if matching:
        return _one_of(matching, "")
    if not _adam_differences(got, problem.step(rule.variant), _FLOAT32_RTOL, 1e-9):
        return _FLOAT32_HINT
    try:
        again = _adam_call(fn, problem, defaults=defaults)
    except (_Failed, _StudentRaised):
        return _STATEFUL_HINT
    if _adam_differences(again, got, rtol=0, atol=0):
        return _STATEFUL_HINT
    return fallback or rule.generic_hint


def _torch_trajectory(
    optimizer_class: type[torch.optim.Optimizer], w0: np.ndarray, grads: np.ndarray, **options: Any
) -> list[_AdamState]:
    """(w, m, v) after each step of a torch optimizer fed the gradients ``grads`` (float64, single-tensor code path)."""
    parameter = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = optimizer_class([parameter], foreach=False, **options)
    states = []
    for grad in grads:
        parameter.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        state = optimizer.state[parameter]
        states.append(
            (parameter.detach().numpy().copy(), state["exp_avg"].numpy().copy(), state["exp_avg_sq"].numpy().copy())
        )
    return states


def _adam_gradients(steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(w0, grads): standard normal weights and a gradient sequence whose rows differ in scale by up to 10⁶."""
    rng = _generator(seed)
    w0 = rng.normal(size=ADAM_SHAPE)
    scales = np.array(ADAM_ROW_SCALES)[:, None]
    return w0, scales * (0.5 + rng.normal(size=(steps, *ADAM_SHAPE)))


def _follow_torch(
    rule: _AdamRule,
    fn: Callable[..., Any],
    optimizer_class: type[torch.optim.Optimizer],
    seed: int,
    steps: int,
    lr: float,
    betas: tuple[float, float] | None,
    eps: float | None,
    weight_decay: float,
) -> int:
    """Run the student's step beside torch's optimizer from m = v = 0; fail at the first step that differs."""
    w0, grads = _adam_gradients(steps, seed)
    defaults = betas is None and eps is None
    betas = DEFAULT_BETAS if betas is None else betas
    eps = DEFAULT_EPS if eps is None else eps
    expected_states = _torch_trajectory(
        optimizer_class, w0, grads, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay
    )
    w, m, v = w0, np.zeros_like(w0), np.zeros_like(w0)
    for t, (grad, expected) in enumerate(zip(grads, expected_states), start=1):
        problem = _AdamProblem(w, grad, m, v, t, lr, betas, eps, weight_decay)
        got = _adam_call(fn, problem, defaults=defaults)
        differing = _adam_differences(got, expected)
        if differing:
            fallback = rule.generic_hint
            if t > 1:
                fallback += "; the earlier steps agreed: the step must depend only on its arguments (keep no state)"
            reference = f"torch.optim.{optimizer_class.__name__}"
            raise _Failed(
                f"w, m and v equal to {reference}'s after every step (rtol {ADAM_RTOL:.0e})",
                f"{_differ_text(differing)} after step t = {t}",
                _adam_hint(rule, fn, got, problem, fallback, defaults=defaults),
            )
        w, m, v = got
    return steps


def _adam_returns_tensors(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        for shape in ((3, 4), (5,)):
            w = _signed_input(shape, ADAM_SEED)
            zeros = np.zeros(shape)
            _adam_call(fn, _AdamProblem(w, _signed_input(shape, ADAM_SEED + 1), zeros, zeros, 1, 1e-3))
        return ""

    return prop


def _adam_case(rule: _AdamRule) -> tuple[_AdamProblem, tuple[float, ...]]:
    w, grad, expected = (
        (ADAMW_CASE_W, ADAMW_CASE_GRAD, ADAMW_CASE_EXPECTED)
        if rule is _ADAMW_RULE
        else (ADAM_L2_CASE_W, ADAM_L2_CASE_GRAD, ADAM_L2_CASE_EXPECTED)
    )
    zeros = np.zeros(len(w))
    problem = _AdamProblem(
        np.array(w), np.array(grad), zeros, zeros, 1, ADAM_CASE_LR, DEFAULT_BETAS, ADAM_CASE_EPS, ADAM_CASE_DECAY
    )
    return problem, expected


def _adam_hand_made(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        problem, expected_w = _adam_case(rule)
        got = _adam_call(fn, problem)
        expected = (np.array(expected_w), np.array(ADAM_CASE_M), np.array(ADAM_CASE_V))
        differing = _adam_differences(got, expected, rtol=1e-12, atol=1e-15)
        if not differing:
            return ""
        shown = ("w",) if "w" in differing else ("m", "v")
        expected_text = ", ".join(f"{name} = {_numbers(expected['wmv'.index(name)])}" for name in shown)
        got_text = ", ".join(f"{name} = {_numbers(got['wmv'.index(name)])}" for name in shown)
        if got_text == expected_text:
            got_text += " (equal to 6 digits only)"
        raise _Failed(expected_text, got_text, _adam_hint(rule, fn, got, problem))

    return prop


def _adam_bias_correction(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        rng = _generator(ADAM_SEED + 2)
        w, grad, m = rng.normal(size=6), rng.normal(size=6), 0.1 * rng.normal(size=6)
        v = 0.01 * rng.uniform(0.5, 1.5, size=6)
        for t in ADAM_BIAS_STEPS:
            problem = _AdamProblem(w, grad, m, v, t, 0.01, DEFAULT_BETAS, DEFAULT_EPS, 0.1)
            got = _adam_call(fn, problem)
            differing = _adam_differences(got, problem.step(rule.variant))
            if differing:
                fallback = "use the t you are given in the bias correction: m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ)"
                raise _Failed(
                    f"the step with m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ) at t = {t} (rtol {ADAM_RTOL:.0e})",
                    _differ_text(differing),
                    _adam_hint(rule, fn, got, problem, fallback),
                )
        return f"{len(ADAM_BIAS_STEPS)} of {len(ADAM_BIAS_STEPS)} agree"

    return prop


def _adam_large_eps(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        _follow_torch(rule, fn, rule.optimizer_class, ADAM_SEED + 3, ADAM_SHORT_STEPS, 0.01, DEFAULT_BETAS, 1.0, 0.1)
        return f"{ADAM_SHORT_STEPS} of {ADAM_SHORT_STEPS} steps agree"

    return prop


def _adam_zero_decay_is_adam(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        try:
            _follow_torch(
                rule, fn, torch.optim.Adam, ADAM_SEED + 4, ADAM_SHORT_STEPS, 0.01, DEFAULT_BETAS, DEFAULT_EPS, 0.0
            )
        except _StudentRaised as raised:
            if isinstance(raised.error, ValueError):
                hint = "weight_decay = 0 is allowed (plain Adam): reject only weight_decay < 0, if anything"
                raise _Failed("a result for weight_decay = 0", str(raised), hint) from None
            raise
        return f"{ADAM_SHORT_STEPS} of {ADAM_SHORT_STEPS} steps agree"

    return prop


def _adam_agrees_with_torch(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        total = 0
        for index, (lr, betas, eps, weight_decay) in enumerate(ADAM_SETTINGS):
            total += _follow_torch(
                rule, fn, rule.optimizer_class, ADAM_SEED + 5 + index, ADAM_STEPS, lr, betas, eps, weight_decay
            )
        return f"{total} of {total} steps agree"

    return prop


def _adamw_pure_decay(fn: Callable[..., Any]) -> str:
    rule, lr, weight_decay = _ADAMW_RULE, ADAM_DECAY_LR, ADAM_DECAY_WEIGHT_DECAY
    factor = 1 - lr * weight_decay
    w = np.array(ADAM_DECAY_W)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, ADAM_DECAY_STEPS + 1):
        problem = _AdamProblem(w, np.zeros_like(w), m, v, t, lr, DEFAULT_BETAS, DEFAULT_EPS, weight_decay)
        got = _adam_call(fn, problem)
        expected = (w * factor, np.zeros_like(w), np.zeros_like(w))
        differing = _adam_differences(got, expected, rtol=1e-12, atol=0)
        if differing:
            fallback = (
                "with grad = 0 and m = v = 0 the Adam step is 0/(0 + ε) = 0, so AdamW only multiplies w "
                "by (1 - lr·weight_decay)"
            )
            got_text = f"{_differ_text(differing)} at step t = {t}: w = {_numbers(got[0])}"
            raise _Failed(f"w × {factor:g} and m = v = 0", got_text, _adam_hint(rule, fn, got, problem, fallback))
        w, m, v = got
    return f"w × {factor:g} per step, m = v = 0, for {ADAM_DECAY_STEPS} of {ADAM_DECAY_STEPS} steps"


def _adam_l2_decay_is_normalised(fn: Callable[..., Any]) -> str:
    rule, lr, weight_decay = _ADAM_L2_RULE, ADAM_DECAY_LR, ADAM_DECAY_WEIGHT_DECAY
    w = np.array(ADAM_DECAY_W)
    zeros = np.zeros_like(w)
    problem = _AdamProblem(w, zeros, zeros, zeros, 1, lr, DEFAULT_BETAS, DEFAULT_EPS, weight_decay)
    got = _adam_call(fn, problem)
    expected = problem.step(rule.variant)
    moved = np.abs(w) - np.abs(got[0])
    differing = _adam_differences(got, expected)
    if differing or not np.all(np.abs(moved - lr) < 1e-6):
        fallback = (
            "with grad = 0, g = weight_decay·w; at t = 1 the step is lr·g/(|g| + ε): every weight moves by "
            "about lr towards 0"
        )
        got_text = f"w = {_numbers(got[0])}" + (f" ({_differ_text(differing)})" if differing else "")
        raise _Failed(f"every weight {lr:g} closer to 0", got_text, _adam_hint(rule, fn, got, problem, fallback))
    return f"every |w| decreased by {lr:g} (± 1e-6)"


def _adam_leaves_inputs_unchanged(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        rng = _generator(ADAM_SEED + 7)
        arrays = [rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), 0.1 * rng.normal(size=(4, 5))]
        arrays.append(0.01 * rng.uniform(0.5, 1.5, size=(4, 5)))
        tensors = [torch.from_numpy(a.copy()) for a in arrays]
        _adam_result(_call(fn, *tensors, 3, 0.01, betas=DEFAULT_BETAS, eps=DEFAULT_EPS, weight_decay=0.1), (4, 5))
        hints = {
            "w": "do not update w in place (`w.mul_(…)`, `w -= …`); start from w.clone() or build new tensors: "
            "the caller still holds the old w",
            "grad": "do not add the decay into grad in place (`grad.add_(…)`, `grad += …`); compute a new tensor",
            "m": "do not update m in place (`m.mul_(beta1)`, `m.lerp_(…)`); start from m.clone() or write "
            "m = beta1 * m + (1 - beta1) * g",
            "v": "do not update v in place (`v.mul_(beta2)`, `v.addcmul_(…)`); start from v.clone() or write "
            "v = beta2 * v + (1 - beta2) * g * g",
        }
        for name, tensor, before in zip(("w", "grad", "m", "v"), tensors, arrays):
            if not np.array_equal(tensor.numpy(), before):
                raise _Failed(f"{name} unchanged after the call", f"{name} modified", hints[name])
        return ""

    return prop


def _adam_properties(rule: _AdamRule) -> list[tuple[str, _Property]]:
    problem, expected = _adam_case(rule)
    case = (
        f"{rule.name}(w={problem.w.tolist()}, grad={problem.grad.tolist()}, m=0, v=0, t=1, lr={ADAM_CASE_LR}, "
        f"eps={ADAM_CASE_EPS}, weight_decay={ADAM_CASE_DECAY}) returns w = {list(expected)}, "
        f"m = {list(ADAM_CASE_M)}, v = {list(ADAM_CASE_V)}"
    )
    shrink = 1 - ADAM_CASE_LR * ADAM_CASE_DECAY
    if rule is _ADAMW_RULE:
        worked = f"at t = 1, m̂ = grad and √v̂ = |grad|: w·{shrink} - {ADAM_CASE_LR}·grad/(|grad| + 1)"
    else:
        worked = (
            f"g = grad + {ADAM_CASE_DECAY}·w = [1, -3, 0]; at t = 1, m̂ = g and √v̂ = |g|: "
            f"w - {ADAM_CASE_LR}·g/(|g| + 1)"
        )
    reference = f"torch.optim.{rule.optimizer}"
    decay_factor = 1 - ADAM_DECAY_LR * ADAM_DECAY_WEIGHT_DECAY
    decay_case = f"w = {list(ADAM_DECAY_W)}, lr = {ADAM_DECAY_LR}, weight_decay = {ADAM_DECAY_WEIGHT_DECAY}"
    if rule is _ADAMW_RULE:
        pure_decay = (
            f"grad = 0 from m = v = 0: the Adam step is 0/(0 + ε) = 0, so every weight shrinks by the same factor "
            f"1 - lr·weight_decay = {decay_factor:g} per step ({decay_case}; {ADAM_DECAY_STEPS} steps)",
            _adamw_pure_decay,
        )
    else:
        pure_decay = (
            f"grad = 0 from m = v = 0: g = weight_decay·w is divided by √v̂ = weight_decay·|w|, so every weight "
            f"moves lr = {ADAM_DECAY_LR} towards 0 whatever its size ({decay_case}; t = 1)",
            _adam_l2_decay_is_normalised,
        )
    settings = "; ".join(
        f"lr = {lr}, {f'betas = {betas}, eps = {eps:g}' if betas else 'default betas and eps'}, weight_decay = {wd}"
        for lr, betas, eps, wd in ADAM_SETTINGS
    )
    scales = f"{min(ADAM_ROW_SCALES):g} to {max(ADAM_ROW_SCALES):g}"
    return [
        (f"returns (w, m, v), three float64 tensors of w's shape ((3, 4) and (5,))", _adam_returns_tensors(rule)),
        (f"{case} ({worked})", _adam_hand_made(rule)),
        (
            f"bias correction uses the t it is given: one step from the same (w, m, v) at t = "
            f"{', '.join(map(str, ADAM_BIAS_STEPS))} (rtol {ADAM_RTOL:.0e})",
            _adam_bias_correction(rule),
        ),
        (
            f"eps = 1.0 is added to √v̂, outside the square root: {ADAM_SHORT_STEPS} steps agree with "
            f"{reference}(eps=1.0) (w, m and v, rtol {ADAM_RTOL:.0e})",
            _adam_large_eps(rule),
        ),
        pure_decay,
        (
            f"weight_decay = 0 gives plain Adam: {ADAM_SHORT_STEPS} steps agree with torch.optim.Adam "
            f"(rtol {ADAM_RTOL:.0e})",
            _adam_zero_decay_is_adam(rule),
        ),
        (
            f"agrees with {reference} over {ADAM_STEPS} steps from m = v = 0 ({settings}; NumPy-drawn "
            f"gradients, rows scaled {scales}): w, m and v after every step, rtol {ADAM_RTOL:.0e}",
            _adam_agrees_with_torch(rule),
        ),
        ("leaves w, grad, m and v unchanged", _adam_leaves_inputs_unchanged(rule)),
    ]


_ADAMW_PROPERTIES = _adam_properties(_ADAMW_RULE)
_ADAM_L2_PROPERTIES = _adam_properties(_ADAM_L2_RULE)


def check_adam_l2_step(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``adam_l2_step(w, grad, m, v, t, lr, betas, eps, weight_decay) -> (w, m, v)``.

    The contract: one step of Adam (Kingma & Ba, 2015) with an L2 penalty in the
    gradient, ``torch.optim.Adam``'s ``weight_decay``: ``g = grad + weight_decay·w``;
    ``m ← β₁m + (1 - β₁)g``; ``v ← β₂v + (1 - β₂)g²``; ``m̂ = m/(1 - β₁ᵗ)``,
    ``v̂ = v/(1 - β₂ᵗ)``; ``w ← w - lr·m̂/(√v̂ + ε)``, with ``t`` counting from 1.
    The arguments are float64 tensors (``t`` an int, the rest numbers; defaults
    ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=1e-2``); the result is
    three new float64 tensors, the inputs are left unchanged. The checker
    compares with ``torch.optim.Adam`` over many steps and matches a wrong
    answer against typical mistakes (decoupled decay instead of L2, no or
    off-by-one bias correction, ε inside the square root, a sign error, …) to
    pick the hint. Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("adam_l2_step", fn, _ADAM_L2_PROPERTIES)


def check_adamw_step(fn: Callable[..., Any]) -> CheckReport:
    """Check an implementation of ``adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay) -> (w, m, v)``.

    The contract: one step of AdamW (Loshchilov & Hutter, 2019) in
    ``torch.optim.AdamW``'s convention: ``w ← w·(1 - lr·weight_decay)``; then the
    Adam step on ``grad`` alone, ``m ← β₁m + (1 - β₁)grad``,
    ``v ← β₂v + (1 - β₂)grad²``, ``m̂ = m/(1 - β₁ᵗ)``, ``v̂ = v/(1 - β₂ᵗ)``,
    ``w ← w - lr·m̂/(√v̂ + ε)``, with ``t`` counting from 1. Same arguments and
    return value as :func:`check_adam_l2_step`'s function. The checker compares
    with ``torch.optim.AdamW`` over many steps, checks that with no gradient
    every weight shrinks by the same factor ``1 - lr·weight_decay``, and matches
    a wrong answer against typical mistakes (Adam with L2 instead of decoupled
    decay, the decay not multiplied by lr or applied after the step, no or
    off-by-one bias correction, ε inside the square root, …) to pick the hint.
    Prints one line per property.

    Args:
        fn: the function to check.

    Returns:
        A :class:`CheckReport`, truthy if and only if every property holds.
    """
    return _run("adamw_step", fn, _ADAMW_PROPERTIES)

"""Argument checks shared by course_lib's public functions.

Every public function validates its input up front and raises an error that
names the argument and the offending value, in the style of scikit-learn.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from numbers import Real
from typing import Any

import numpy as np


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a real number (a bool is not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {describe_value(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a real number within the float range, got {describe_value(value)}") from None


def _check_finite_positive(name: str, value: Any, *, allow_zero: bool) -> float:
    """Return ``value`` as a float after checking it is a finite number > 0 (or >= 0 with ``allow_zero``)."""
    value = check_real(name, value)
    lower_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (math.isfinite(value) and lower_ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def check_finite_real(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite real number (a bool is not)."""
    value = check_real(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def check_probability(name: str, value: Any, *, allow_one: bool = False) -> float:
    """Return ``value`` as a float after checking it lies in [0, 1) (or [0, 1])."""
    value = check_real(name, value)
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if math.isnan(value) or value < 0.0 or not upper_ok:
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite number > 0."""
    return _check_finite_positive(name, value, allow_zero=False)


def check_bool(name: str, value: Any) -> bool:
    """Reject truthy stand-ins such as 0/1 or strings for a boolean flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_ndarray(name: str, value: Any) -> np.ndarray:
    """Require a NumPy array with a numeric (non-complex) dtype."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__name__}")
    if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
        raise TypeError(f"{name} must have a real numeric dtype, got {value.dtype}")
    return value


def check_generator(name: str, value: Any) -> np.random.Generator:
    """Require a ``numpy.random.Generator`` (not a seed, not the legacy RandomState)."""
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {type(value).__name__}"
        )
    return value


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool) and at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite number >= 0."""
    return _check_finite_positive(name, value, allow_zero=True)


# --- the one dtype rule for arrays and tensors --------------------------------------------------
#
# Real numbers of any integer or floating dtype are accepted and computed in a floating type wide
# enough that nothing wraps or overflows: float64 for NumPy input and for integer tensors, float32
# for float16/bfloat16 tensors, the tensor's own dtype for float32/float64. Bool, complex, string
# and object data are rejected with a TypeError naming the argument (a bool mask is not a number
# to compute with, and dropping an imaginary part silently gives a wrong answer).


def real_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a new NumPy array of at least float64 precision, under the one dtype rule.

    Accepts array-likes of ints and floats (and torch tensors, detached to NumPy). Raises
    ``TypeError`` naming ``name`` for bool, complex, string or object data and for ragged input.
    """
    if _is_tensor(value):
        value = value.detach().cpu()
        _check_tensor_dtype(name, value)
        value = value.double().numpy()
    try:
        array = np.array(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a real array, got {type(value).__name__}") from error
    _check_numpy_dtype(name, array.dtype)
    # C order always: the same values give the same result whatever the caller's memory layout.
    return array.astype(np.result_type(array.dtype, np.float64), order="C", copy=False)


def real_tensor(name: str, value: Any) -> Any:
    """A torch tensor under the one dtype rule: integers → float64, float16/bfloat16 → float32.

    float32 and float64 tensors are returned as they are (the autograd graph is kept). Raises
    ``TypeError`` naming ``name`` for a non-tensor and for bool or complex tensors.
    """
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    _check_tensor_dtype(name, value)
    if not value.is_floating_point():
        return value.to(torch.float64)
    if value.dtype in (torch.float16, torch.bfloat16):
        return value.to(torch.float32)
    return value


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "is_floating_point")


def _check_numpy_dtype(name: str, dtype: np.dtype) -> None:
    if dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (an integer or floating dtype), got dtype {dtype}")


def _check_tensor_dtype(name: str, tensor: Any) -> None:
    import torch

    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"{name} must hold real numbers (an integer or floating dtype), got dtype {tensor.dtype}")


# --- finite values in, finite values out ------------------------------------------------------


def check_finite(name: str, value: Any) -> Any:
    """``value`` (an ndarray or tensor) itself, after checking it holds no NaN or infinity.

    The ``ValueError`` names ``name``, the first bad entry and its flat index, and how many there are.
    """
    if _is_tensor(value):
        if bool(value.detach().isfinite().all()):
            return value
        flat = value.detach().reshape(-1)
        bad = (~flat.isfinite()).nonzero().reshape(-1)
    else:
        flat = np.asarray(value).reshape(-1)
        if np.isfinite(flat).all():
            return value
        bad = np.flatnonzero(~np.isfinite(flat))
    first = int(bad[0])
    count = f"{len(bad)} NaN or infinite entr{'y' if len(bad) == 1 else 'ies'}"
    raise ValueError(f"{name} must be finite, got {flat[first].item()!r} at flat index {first} ({count})")


@contextmanager
def overflow_is_an_error(names: str) -> Iterator[None]:
    """Turn a float overflow (or an invalid operation such as inf - inf) into a ``ValueError`` naming ``names``.

    Covers NumPy arithmetic (through its error state) and Python float arithmetic (``OverflowError``).

    ``names`` lists the arguments whose magnitudes decide the result, e.g. ``"X and alpha"``.
    """
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield
    except (FloatingPointError, OverflowError) as error:  # OverflowError: Python float arithmetic
        raise ValueError(f"the magnitudes of {names} are beyond float64's range: the computation hit {error}") from None


def check_finite_result(result: Any, names: str) -> Any:
    """``result`` (a float, ndarray or tensor) itself, after checking the computation did not overflow to inf or NaN.

    For code paths NumPy's error state does not cover (torch, Python floats); the ``ValueError``
    names the arguments ``names`` whose magnitudes overflowed the result's floating type.
    """
    if _is_tensor(result):
        finite = bool(result.detach().isfinite().all())
        dtype = str(result.dtype).replace("torch.", "")
    else:
        finite = bool(np.all(np.isfinite(result)))
        dtype = "float64"
    if not finite:
        raise ValueError(f"the magnitudes of {names} are beyond {dtype}'s range: the result overflows to inf or NaN")
    return result


def check_choice(name: str, value: Any, choices: Iterable[str], *, described: str | None = None) -> str:
    """``value``, a str among ``choices``; the errors say what is allowed (``described``, or "one of (...)")."""
    choices = tuple(choices)
    allowed = described if described is not None else f"one of {choices}"
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, {allowed}, got {describe_value(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


# --- field checks of course_lib's record types (data, dropout, linear_models, train) ------------


def describe_value(value: Any) -> str:
    """``"<type> <short repr>"`` of a rejected value, for error messages."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def record_array(name: str, value: Any, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """A record's array field: ``value`` itself if it is a floating ndarray of at least float64 precision.

    Anything else is converted by :func:`real_array` (the one dtype rule), so
    the arrays course_lib's functions build are kept as they are, never copied. ``shape`` (``None``
    entries match any length; ``None`` alone any shape) is checked after. ``TypeError`` naming
    ``name`` and the value for data that is not a real array, ``ValueError`` for a wrong shape.
    """
    wanted = "a real array" if shape is None else f"a {len(shape)}-D real array"
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize >= 8):
        try:
            value = real_array(name, value)
        except TypeError as error:
            raise TypeError(f"{name} must be {wanted}, got {describe_value(value)}") from error
    if shape is not None and (
        value.ndim != len(shape) or any(want is not None and want != got for want, got in zip(shape, value.shape))
    ):
        expected = ", ".join("any" if want is None else str(want) for want in shape) + ("," if len(shape) == 1 else "")
        raise ValueError(f"{name} must be {wanted} of shape ({expected}), got shape {value.shape}")
    return value


def set_record_fields(record: Any, checked: dict[str, Any]) -> None:
    """Store the checked (possibly converted) field values on a frozen dataclass ``record``."""
    for name, value in checked.items():
        object.__setattr__(record, name, value)


class ValidatedTuple:
    """Mixin for a NamedTuple subclass whose ``__new__`` checks the fields: ``_make`` and ``_replace`` check too."""

    __slots__ = ()

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        return cls(*iterable)

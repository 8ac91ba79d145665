"""One bad-input call: run it under a time limit and judge the outcome.

A call passes when it ends within its time limit and either

- raises ``TypeError`` or ``ValueError`` whose message names the argument (as a word), or
- returns a finite result (every float in it, through tuples, records, arrays and tensors) that is
  correct: equal to the result for the equivalent valid value where the bad input has one,
  otherwise satisfying the callable's property (:attr:`Case.verify`).

Anything else is a failure: another exception, an error that does not name the argument, a hang,
a non-finite or wrong result, or a NumPy RuntimeWarning (overflow, invalid value) on the way to an
accepted result.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import signal
import warnings
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .values import BadInput

TYPE_ERROR = "rejected: TypeError naming the argument"
VALUE_ERROR = "rejected: ValueError naming the argument"
EQUIVALENT = "accepted: same result as the equivalent valid input"
VERIFIED = "accepted: finite result with the function's property"
PASSING_OUTCOMES = (TYPE_ERROR, VALUE_ERROR, EQUIVALENT, VERIFIED)


@dataclass(frozen=True)
class Case:
    """A public callable, a factory of valid keyword arguments, and the property of its result.

    ``verify(result, kwargs)`` asserts what must hold for any accepted arguments (``kwargs`` are
    the arguments of the call, one of them replaced). ``fixed`` names arguments that are not
    replaced, each with the reason. ``time_limit`` is in seconds per call. ``non_finite`` is set
    (to the reason) only for a callable whose correct result may hold NaN or infinity, such as a
    log-probability of ``-inf``; its ``verify`` then checks where they sit.
    """

    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    verify: Callable[[Any, dict[str, Any]], None]
    fixed: Mapping[str, str] = field(default_factory=dict)
    time_limit: float = 10.0
    examples: int = 12
    non_finite: str = ""

    def parameters(self) -> list[str]:
        return [
            name
            for name, parameter in inspect.signature(self.call).parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]

    def mutated(self) -> list[str]:
        return [name for name in self.parameters() if name not in self.fixed]

    def valid_value(self, kwargs: dict[str, Any], name: str) -> Any:
        if name in kwargs:
            return kwargs[name]
        default = inspect.signature(self.call).parameters[name].default
        assert default is not inspect.Parameter.empty, f"{self.name}: valid() gives no value for {name}"
        return default


class CallTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in the code under test swallows it."""


@contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise CallTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def attempt(case: Case, name: str, kwargs: dict[str, Any], bad: BadInput, equivalent_kwargs: dict[str, Any] | None) -> tuple[str, str | None]:
    """Call ``case`` with ``kwargs`` (``name`` already replaced by ``bad.value``): ``(outcome, failure or None)``."""
    where = f"{case.name}({name}={bad.label})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            try:
                with time_limit(case.time_limit):
                    result = case.call(**kwargs)
            except CallTimeout:
                return "failure", f"{where}: did not end within {case.time_limit:g} s"
            except (TypeError, ValueError) as error:
                kind = type(error).__name__
                if names_argument(str(error), name):
                    return (TYPE_ERROR if isinstance(error, TypeError) else VALUE_ERROR), None
                return "failure", f"{where}: {kind} does not name {name!r}: {error}"
            except Exception as error:  # noqa: BLE001 - every other exception is the failure being reported
                return "failure", f"{where}: raised {type(error).__name__}: {error}"
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning) and _is_numeric_warning(str(w.message))]
    if numeric:
        return "failure", f"{where}: accepted with a numerical warning: {numeric[0].message}"
    bad_float = None if case.non_finite else first_non_finite(result)
    if bad_float is not None:
        return "failure", f"{where}: returned a non-finite value ({bad_float})"
    if equivalent_kwargs is not None:
        try:
            with warnings.catch_warnings(), time_limit(case.time_limit):
                warnings.simplefilter("ignore")
                expected = case.call(**equivalent_kwargs)
        except (Exception, CallTimeout) as error:  # noqa: BLE001
            return "failure", f"{where}: accepted, but the equivalent valid input fails ({type(error).__name__}: {error})"
        difference = first_difference(result, expected)
        if difference is not None:
            return "failure", f"{where}: differs from the result for the equivalent valid input: {difference}"
        return EQUIVALENT, None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            case.verify(result, kwargs)
    except AssertionError as error:
        return "failure", f"{where}: accepted, but the result is wrong: {error}"
    except Exception as error:  # noqa: BLE001
        return "failure", f"{where}: accepted, and checking the result raised {type(error).__name__}: {error}"
    return VERIFIED, None


def _is_numeric_warning(message: str) -> bool:
    return any(word in message for word in ("overflow", "invalid value", "divide by zero"))


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (tuple, list)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, nn.Module):
        return list(value.state_dict().values())
    return []


def first_non_finite(value: Any) -> str | None:
    """A description of the first NaN or infinity inside ``value``, or ``None``."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        return None
    if isinstance(value, torch.Tensor):
        if (value.is_floating_point() or value.is_complex()) and not bool(torch.isfinite(value.detach()).all()):
            return f"tensor of shape {tuple(value.shape)}"
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return f"array of shape {value.shape}"
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isfinite(value) else repr(value)
    for child in _children(value):
        found = first_non_finite(child)
        if found is not None:
            return found
    return None


def first_difference(a: Any, b: Any, path: str = "result") -> str | None:
    """Where two results differ (beyond rounding), or ``None``."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        a, b = a.detach().double().numpy(), b.detach().double().numpy()
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return f"{path}: shape {a.shape} vs {b.shape}"
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            if not np.allclose(a, b, rtol=1e-9, atol=1e-300, equal_nan=True):
                return f"{path}: largest difference {np.nanmax(np.abs(a.astype(float) - b.astype(float)))}"
            return None
        return None if np.array_equal(a, b) else f"{path}: values differ"
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating, int)):
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) or (math.isnan(a) and math.isnan(b)) else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, nn.Module) and isinstance(b, nn.Module):
        a, b = a.state_dict(), b.state_dict()
    children_a, children_b = _children(a), _children(b)
    if children_a or children_b:
        if len(children_a) != len(children_b):
            return f"{path}: {len(children_a)} vs {len(children_b)} entries"
        for index, (x, y) in enumerate(zip(children_a, children_b)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if isinstance(a, (np.random.Generator, torch.Generator)) or callable(a):
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"

"""The report machinery that every chapter's checkers share.

A checker (a ``check_*`` function in a chapter module) is made by the
decorator :func:`_checker` from a stub that documents the contract, and a list
of ``(name, property)`` pairs that it hands to :func:`_run`. Each property calls
the student's function through :func:`_call` and returns a note for its ``✓``
line, or raises :class:`_Failed` to print ``✗ <property>: expected …, got … —
<hint>``. An exception raised by the student's code (including the
``NotImplementedError`` of an untouched exercise) is reported on that line
instead of crashing the cell. :func:`_run` prints the lines and returns a
:class:`CheckReport` that is truthy only if every property holds. Also here:
the helpers that more than one chapter uses to describe values, check results
(:func:`_require_unchanged`, …), draw seeded inputs and word hints.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

__all__ = [
    "PropertyResult",
    "CheckReport",
    "PASS_MARK",
    "FAIL_MARK",
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


# What ``help(check_…)`` shows after the contract, the same for every checker.
_CHECKER_DOC_TAIL = (
    "Args:",
    "    fn: the function to check.",
    "",
    "Returns:",
    "    A :class:`CheckReport`, truthy if and only if every property holds.",
)
_Checker = Callable[[Callable[..., Any]], CheckReport]


def _checker(implements: str, properties: list[tuple[str, _Property]]) -> Callable[[Callable[..., Any]], _Checker]:
    """Make the checker ``check_<name>`` from a stub: its signature, and a docstring that states the contract.

    ``implements`` is the exercise's call, ``"<name>(arguments) -> result"``. The checker
    runs ``properties`` on the function it is given through :func:`_run`, reporting under
    ``<name>``. Its ``__doc__`` (see :func:`_checker_doc`) is the summary line that names
    the call, the stub's docstring, and the Args and Returns section that every checker
    shares, so ``help(check_…)`` shows the whole text. ``functools.wraps`` keeps the
    stub's name, qualified name, module and annotations, and sets ``__wrapped__`` to the
    stub, whose signature :func:`inspect.signature` reports. The stub's body is never run.

    Example::

        @_checker("dropout_forward(x, p, training=True, rng=None) -> (out, mask)", _FORWARD_PROPERTIES)
        def check_dropout_forward(fn: Callable[..., Any]) -> CheckReport:
            '''The contract is that of :func:`course_lib.dropout.dropout_forward`: …'''
    """

    def decorate(stub: Callable[..., Any]) -> _Checker:
        name = stub.__name__
        subject = name.removeprefix("check_")
        if subject == name or not implements.startswith(f"{subject}(") or not (stub.__doc__ or "").strip():
            raise TypeError(
                f"a checker stub is named check_<name> and documents the contract of the call <name>(…) that it "
                f"is given, got {name!r} for {implements!r}"
            )

        @functools.wraps(stub)
        def checker(fn: Callable[..., Any]) -> CheckReport:
            return _run(subject, fn, properties)

        checker.__doc__ = _checker_doc(implements, stub.__doc__)
        return checker

    return decorate


def _checker_doc(implements: str, contract: str) -> str:
    """A checker's docstring: ``Check an implementation of <the call>.``, ``contract``, :data:`_CHECKER_DOC_TAIL`.

    The lines added are indented like the closing line of ``contract`` (a stub's
    docstring), so the result reads as one docstring written in the source.
    """
    stripped = contract.rstrip(" ")
    indent = contract[len(stripped) :] if stripped.endswith("\n") else ""
    summary = f"Check an implementation of ``{implements}``."
    tail = "\n".join(indent + line if line else "" for line in _CHECKER_DOC_TAIL)
    return f"{summary}\n\n{indent}{contract.strip()}\n\n{tail}\n{indent}"


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


def _identical(first: Any, second: Any) -> bool:
    """Whether two arrays (or lists), or two tuples of arrays, hold exactly the same values.

    Values are compared with ``np.array_equal``, after the lengths: a list that lost
    or gained an entry differs without its values being compared.
    """
    if isinstance(first, tuple) and isinstance(second, tuple):
        return len(first) == len(second) and all(_identical(a, b) for a, b in zip(first, second))
    return len(first) == len(second) and bool(np.array_equal(first, second))


def _require_identical(got: Any, expected: Any, expected_text: str, got_text: str, hint: str) -> None:
    """Fail with ``expected <expected_text>, got <got_text> — <hint>`` unless :func:`_identical`."""
    if not _identical(got, expected):
        raise _Failed(expected_text, got_text, hint)


def _require_different(first: Any, second: Any, expected_text: str, got_text: str, hint: str) -> None:
    """Fail with ``expected <expected_text>, got <got_text> — <hint>`` if the two are :func:`_identical`."""
    if _identical(first, second):
        raise _Failed(expected_text, got_text, hint)


def _require_unchanged(name: str, now: Any, before: np.ndarray, hint: str, *, got: str | None = None) -> None:
    """Fail unless an input the student's function was given still equals its copy ``before``.

    ``now`` is the caller's own object (an array, or a list that a ``pop`` or an
    ``append`` would lengthen or shorten). The failure reads ``expected <name>
    unchanged after the call, got <name> modified`` (or ``got``) followed by ``hint``.
    """
    _require_identical(now, before, f"{name} unchanged after the call", got or f"{name} modified", hint)


# --- inputs and hints shared by the chapters -----------------------------------------------


def _signed_input(shape: tuple[int, ...] | int, seed: int) -> np.ndarray:
    """float64 values with 0.5 <= |x| <= 1.5: no zeros, so a zeroed unit is always visible."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _generator(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


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

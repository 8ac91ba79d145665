"""The report machinery that every chapter's checkers share.

A checker (a ``check_*`` function in a chapter module) is made by the
decorator :func:`_checker` from a stub that documents the contract, and a list
of ``(name, property)`` pairs that it hands to :func:`_run`. Each property calls
the student's function through :func:`_call` and returns a note for its ``✓``
line, or raises :class:`_Failed` to print ``✗ <property>: expected …, got … —
<hint>``. An exception raised by the student's code (including the
``NotImplementedError`` of an untouched exercise) is reported on that line
instead of crashing the cell. :func:`_run` prints the lines and returns a
:class:`CheckReport` that is truthy only if every property holds.

A failure carries its hint as a :class:`Diagnosis`, apart from its expected/got
text: a chapter names each typical mistake once (a short name and a hint that
points at the concept), and every property that recognises the mistake raises
that same diagnosis. One root mistake usually breaks several properties; the
report prints its hint in full on the first ✗ line only, marks the later ✗ lines
with the same diagnosis as ``a consequence of <name> (see above)``, and, when
one diagnosis explains every failure, closes with ``Diagnosis: <name> …``.

Also here: the helpers that more than one chapter uses to describe values,
check results (:func:`_require_unchanged`, …), draw seeded inputs and combine
diagnoses (:func:`_one_of`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

__all__ = [
    "Diagnosis",
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
class Diagnosis:
    """What went wrong: one typical mistake (or one hint), told once however many properties it breaks.

    Two failures have the same diagnosis when all three fields are equal; the report
    then prints the hint on the first ✗ line only (see :meth:`CheckReport.lines`).

    Attributes:
        name: a short noun phrase naming the mistake (``"the missing bias correction"``),
            shown on the ✗ lines of the other properties it breaks (``a consequence of
            <name> (see above)``) and on the closing ``Diagnosis:`` line; ``""`` for a
            hint that names no particular mistake.
        hint: the explanation, shown in full once. It points at the concept, not at the
            line of code that fixes it.
        key: tells apart diagnoses with the same name and hint, e.g. two different
            exceptions raised by the student's function; ``""`` if not needed.

    Example:
        >>> Diagnosis("the sign error", "the step goes uphill").consequence
        'a consequence of the sign error (see above)'
    """

    name: str
    hint: str
    key: str = ""

    def __post_init__(self) -> None:
        for field in ("name", "hint", "key"):
            if not isinstance(getattr(self, field), str):
                raise TypeError(f"{field} must be a str, got {type(getattr(self, field)).__name__}")
        if not self.hint:
            raise ValueError("hint must be a non-empty str, got ''")

    @property
    def consequence(self) -> str:
        """What a later ✗ line with this diagnosis says in place of the hint."""
        return f"a consequence of {self.name} (see above)" if self.name else "the same hint as above"


@dataclass(frozen=True)
class PropertyResult:
    """The verdict on one property.

    Attributes:
        name: what was checked, including its tolerance (e.g. ``"kept fraction
            within 4σ of 1 - p"``).
        passed: whether the property holds.
        message: for a pass, an optional measured value; for a failure,
            ``"expected …, got …"`` (followed by ``" — hint"`` when there is no
            ``diagnosis``).
        diagnosis: for a failure, what went wrong (see :class:`Diagnosis`).
    """

    name: str
    passed: bool
    message: str = ""
    diagnosis: Diagnosis | None = None

    @property
    def line(self) -> str:
        """The line on its own: ``"✓ name[: message]"`` or ``"✗ name: message[ — hint]"``, the hint in full."""
        if self.diagnosis is not None and not self.passed:
            return self._failure_line(self.diagnosis.hint)
        mark = PASS_MARK if self.passed else FAIL_MARK
        return f"{mark} {self.name}: {self.message}" if self.message else f"{mark} {self.name}"

    def _failure_line(self, hint: str) -> str:
        text = f"{self.message} — {hint}" if self.message else hint
        return f"{FAIL_MARK} {self.name}: {text}"


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

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The one named diagnosis behind every failure, or None (all pass, an unnamed hint, or several causes)."""
        diagnoses = {r.diagnosis for r in self.failed}
        if len(diagnoses) != 1:
            return None
        (diagnosis,) = diagnoses
        return diagnosis if diagnosis is not None and diagnosis.name else None

    def lines(self) -> list[str]:
        """One ``✓``/``✗`` line per property, in the order they were checked, and the diagnosis that explains them.

        A diagnosis is told once: the first ✗ line that has it shows its hint, a later
        one says ``a consequence of <name> (see above)`` instead. When two or more
        properties fail and one diagnosis explains them all, a last line names it.
        """
        lines, told = [], set()
        for result in self.results:
            diagnosis = None if result.passed else result.diagnosis
            if diagnosis is not None and diagnosis in told:
                lines.append(result._failure_line(diagnosis.consequence))
            else:
                lines.append(result.line)
                if diagnosis is not None:
                    told.add(diagnosis)
        if self.diagnosis is not None and len(self.failed) > 1:
            lines.append(
                f"Diagnosis: {self.diagnosis.name} — it explains all {len(self.failed)} ✗ lines; "
                "the hint is on the first"
            )
        return lines

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
    """Raised inside a property: the student's result contradicts it.

    ``hint`` is a :class:`Diagnosis` (a named typical mistake) or a plain string (a hint
    that names no mistake, made an unnamed diagnosis).
    """

    def __init__(self, expected: str, got: str, hint: Diagnosis | str) -> None:
        self.expected, self.got = expected, got
        self.diagnosis = _as_diagnosis(hint)
        super().__init__(f"expected {expected}, got {got} — {self.diagnosis.hint}")

    @property
    def message(self) -> str:
        return f"expected {self.expected}, got {self.got}"


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
        return PropertyResult(name, False, failure.message, failure.diagnosis)
    except _StudentRaised as raised:
        return PropertyResult(name, False, f"expected a result, got {raised}", _exception_diagnosis(raised.error))
    except Exception as error:  # a returned value so odd that inspecting it failed
        got = f"one that raised {_describe_exception(error)} when inspected"
        return PropertyResult(name, False, f"expected plain NumPy arrays, got {got}", _ODD_RESULT)
    return PropertyResult(name, True, note)


_ODD_RESULT = Diagnosis("a result of an unexpected type", "return what the contract asks for")
_NO_RETURN = Diagnosis("the missing return", "the function returned None: did you forget to return the result?")


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


_NOT_IMPLEMENTED = Diagnosis(
    "the `raise NotImplementedError()` still in place", "replace `raise NotImplementedError()` with your implementation"
)


def _exception_diagnosis(error: BaseException) -> Diagnosis:
    """What to do about an exception raised by the student's function.

    The same exception (type and message) raised on several inputs is one diagnosis, so
    its hint is printed once; an untouched stub's ``NotImplementedError`` is one whatever
    its message.
    """
    if isinstance(error, NotImplementedError):
        return _NOT_IMPLEMENTED
    return Diagnosis(
        f"the {type(error).__name__} your function raised",
        "your function raised an exception on this input; read the message and the contract above",
        key=_describe_exception(error),
    )


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


def _require_float_array(value: Any, shape: tuple[int, ...], what: str, hint: Diagnosis | str) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.shape != shape or not np.issubdtype(value.dtype, np.floating):
        raise _Failed(f"{what} a float array of shape {shape}", _describe(value), hint)
    return value


def _expect_value_error(
    expected: str, hint: Diagnosis | str, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:
    """Call the student's ``fn(*args, **kwargs)``; fail unless it raises ValueError.

    ``expected`` names the case (e.g. ``"ValueError for p = 1.5"``); a return value
    or another exception is reported as what was got, followed by ``hint``. A
    ``NotImplementedError`` is left to the runner: it is the untouched stub, not a
    missing check.
    """
    try:
        result = _call(fn, *args, **kwargs)
    except _StudentRaised as raised:
        if isinstance(raised.error, ValueError):
            return
        if isinstance(raised.error, NotImplementedError):
            raise
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


def _require_identical(got: Any, expected: Any, expected_text: str, got_text: str, hint: Diagnosis | str) -> None:
    """Fail with ``expected <expected_text>, got <got_text> — <hint>`` unless :func:`_identical`."""
    if not _identical(got, expected):
        raise _Failed(expected_text, got_text, hint)


def _require_different(
    first: Any, second: Any, expected_text: str, got_text: str, hint: Diagnosis | str
) -> None:
    """Fail with ``expected <expected_text>, got <got_text> — <hint>`` if the two are :func:`_identical`."""
    if _identical(first, second):
        raise _Failed(expected_text, got_text, hint)


def _require_unchanged(
    name: str, now: Any, before: np.ndarray, hint: Diagnosis | str, *, got: str | None = None
) -> None:
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


def _as_diagnosis(hint: Diagnosis | str) -> Diagnosis:
    """A diagnosis as it is; a plain hint as an unnamed diagnosis."""
    if isinstance(hint, Diagnosis):
        return hint
    if isinstance(hint, str):
        return Diagnosis("", hint)
    raise TypeError(f"hint must be a Diagnosis or a str, got {type(hint).__name__}")


def _one_of(matching: Iterable[Diagnosis | str], fallback: Diagnosis | str) -> Diagnosis | str:
    """The diagnosis of the mistakes an answer matches (without repeats), or ``fallback`` if it matches none.

    Several matches make one diagnosis, ``either <first>; or <second>`` (named
    ``either <first name> or <second name>`` if every match is named).
    """
    unique = list(dict.fromkeys(_as_diagnosis(d) for d in matching))
    if not unique:
        return fallback
    if len(unique) == 1:
        return unique[0]
    name = "either " + " or ".join(d.name for d in unique) if all(d.name for d in unique) else ""
    return Diagnosis(name, "either " + "; or ".join(d.hint for d in unique), key="|".join(d.key for d in unique))

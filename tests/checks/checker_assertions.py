"""Assertions shared by the checker tests (tests/checks/test_*.py): how a report must look when it rejects."""

from __future__ import annotations

import contextlib
import functools
import io
from typing import Any, Callable

from course_lib.checks.report import CheckReport, Diagnosis

DIAGNOSIS_LINE = "Diagnosis: "
# What a pasted solution looks like: a return statement, a validation line, an update recipe. Hints point at
# the concept instead (a formula of the contract stated as the idea is fine).
PASTED_FIXES = ("`return", "raise ValueError(", "←", "in this order", "rng.random(x.shape)")


@functools.lru_cache(maxsize=None)
def run_checker(checker: Callable[[Any], CheckReport], fn: Any) -> tuple[CheckReport, str]:
    """``(report, printed lines)`` of one run of ``checker`` on ``fn``, cached: the tests that look at one run share it."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        report = checker(fn)
    return report, printed.getvalue()


def assert_every_property_holds(report: CheckReport, printed: str, count: int) -> None:
    """The report is truthy with ``count`` results, and exactly its ``count`` ✓ lines were printed (no diagnosis)."""
    lines = printed.splitlines()
    assert report and len(report) == count
    assert len(lines) == count and all(line.startswith("✓ ") for line in lines)
    assert lines == report.lines()


def assert_rejected(report: CheckReport, property_fragment: str, *phrases: str, printed: str | None = None) -> None:
    """The report is falsy, and the failing line of the first property named with the fragment has each phrase.

    The phrases are looked for in that property's own line with its diagnosis in full
    (:attr:`PropertyResult.line`), so a property that recognises a mistake is tested even
    when the printed report calls it a consequence of an earlier line. With ``printed``
    (the checker's captured output), a ✗ line must also have been shown to the student,
    and every diagnosis told there once (:func:`assert_each_diagnosis_told_once`).
    """
    assert not report
    if printed is not None:
        assert "✗ " in printed
        assert_each_diagnosis_told_once(report, printed)
    lines = [result.line for result in report.failed if property_fragment in result.name]
    assert lines, f"no failing line about {property_fragment!r} in {[r.line for r in report.failed]}"
    for phrase in phrases:
        assert phrase in lines[0], f"{phrase!r} not in {lines[0]!r}"


def assert_each_diagnosis_told_once(report: CheckReport, printed: str) -> None:
    """What the student saw: each diagnosis's hint on one ✗ line, later lines with it marked as its consequences.

    ``printed`` is the report's lines (one per property, then a ``Diagnosis:`` line exactly
    when two or more properties fail and one named diagnosis explains them all).
    """
    lines = printed.splitlines()
    assert lines == report.lines()
    for marker in PASTED_FIXES:
        assert marker not in printed, f"a hint pastes a fix ({marker!r}): {printed}"
    failed_lines = [line for result, line in zip(report.results, lines) if not result.passed]
    told: set[Diagnosis] = set()
    for result, line in zip(report.failed, failed_lines):
        diagnosis = result.diagnosis
        if diagnosis is None:
            assert line == result.line
        elif diagnosis in told:
            assert line.endswith(f" — {diagnosis.consequence}"), line
            assert diagnosis.hint not in line, line
        else:
            assert line == result.line and line.endswith(f" — {diagnosis.hint}"), line
            told.add(diagnosis)
    for diagnosis in told:
        assert sum(line.endswith(f" — {diagnosis.hint}") for line in lines) == 1, diagnosis
    summary = [line for line in lines if line.startswith(DIAGNOSIS_LINE)]
    if report.diagnosis is not None and len(report.failed) > 1:
        assert summary == [lines[-1]] and lines[-1].startswith(f"{DIAGNOSIS_LINE}{report.diagnosis.name} — ")
        assert f"all {len(report.failed)} ✗ lines" in lines[-1]
    else:
        assert summary == [] and len(lines) == len(report)


def assert_one_root_cause(report: CheckReport, printed: str, *phrases: str) -> Diagnosis:
    """Two or more properties fail, all with one named diagnosis: its hint is printed once, and it is named last.

    The hint holds each phrase. Returns the diagnosis.
    """
    assert not report and len(report.failed) >= 2
    diagnosis = report.diagnosis
    assert diagnosis is not None, [result.line for result in report.failed]
    assert_each_diagnosis_told_once(report, printed)
    lines = printed.splitlines()
    assert sum(diagnosis.hint in line for line in lines) == 1
    consequences = [line for line in lines if line.endswith(f" — {diagnosis.consequence}")]
    assert len(consequences) == len(report.failed) - 1
    assert lines[-1].startswith(f"{DIAGNOSIS_LINE}{diagnosis.name}")
    for phrase in phrases:
        assert phrase in diagnosis.hint, f"{phrase!r} not in {diagnosis.hint!r}"
    return diagnosis


def assert_stub_told_once(report: CheckReport, printed: str) -> None:
    """An untouched stub fails every property; the NotImplementedError hint is printed on the first line only."""
    assert not report and len(report.failed) == len(report)
    lines = printed.splitlines()
    assert len(lines) == len(report) + 1
    assert all(line.startswith("✗ ") and "got NotImplementedError" in line for line in lines[:-1])
    assert sum("replace `raise NotImplementedError()` with your implementation" in line for line in lines) == 1
    assert lines[0].endswith("— replace `raise NotImplementedError()` with your implementation")
    consequence = "— a consequence of the `raise NotImplementedError()` still in place (see above)"
    assert all(line.endswith(consequence) for line in lines[1:-1])
    assert lines[-1].startswith("Diagnosis: the `raise NotImplementedError()` still in place")
    assert_one_root_cause(report, printed)


def assert_output_is_deterministic(checker: Callable[[Any], CheckReport], fn: Any, capsys: Any) -> None:
    """Two runs of ``checker(fn)`` print the same lines and report the same, with no object address."""
    first = (repr(checker(fn)), capsys.readouterr().out)
    second = (repr(checker(fn)), capsys.readouterr().out)
    assert first == second
    assert " at 0x" not in first[0] + first[1]


def failed_names(report: CheckReport) -> list[str]:
    """Names of the properties that failed, in report order."""
    return [result.name for result in report.failed]


def assert_fails_exactly(failed: list[str], prefixes: set[str]) -> None:
    """Every prefix names a failed property, and every failed property starts with one of the prefixes."""
    assert {prefix for prefix in prefixes if any(name.startswith(prefix) for name in failed)} == prefixes
    assert all(any(name.startswith(prefix) for prefix in prefixes) for name in failed), failed


def not_implemented(*args: Any, **kwargs: Any):
    """An untouched exercise stub."""
    raise NotImplementedError()

"""Assertions shared by the checker tests (tests/test_checks_*.py): how a report must look when it rejects."""

from __future__ import annotations

from typing import Any

from course_lib.checks import CheckReport


def assert_rejected(report: CheckReport, property_fragment: str, *phrases: str) -> None:
    """The report is falsy, and the failing line of the first property named with the fragment has each phrase."""
    assert not report
    lines = [result.line for result in report.failed if property_fragment in result.name]
    assert lines, f"no failing line about {property_fragment!r} in {[r.line for r in report.failed]}"
    for phrase in phrases:
        assert phrase in lines[0], f"{phrase!r} not in {lines[0]!r}"


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

"""Tests for course_lib.checks.report: the report, the runner, the re-exports, the checker decorator, the helpers."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable

import numpy as np
import pytest

import course_lib.checks
from course_lib.checks.dropout import check_dropout_forward
from course_lib.checks.report import (
    CheckReport,
    Diagnosis,
    PropertyResult,
    _call,
    _checker,
    _expect_value_error,
    _Failed,
    _identical,
    _require_different,
    _require_identical,
    _one_of,
    _require_unchanged,
)
from course_lib.dropout import dropout_forward

Rng = np.random.Generator | None


# --- what the runner reports instead of raising --------------------------------------------


class _UncomparableArray(np.ndarray):
    """An array whose comparisons raise: the checker must report it, not crash."""

    def __eq__(self, other):
        raise RuntimeError("comparison is not supported")

    __ne__ = __eq__


def returns_uncomparable_output(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    return out.view(_UncomparableArray), mask


def test_a_result_the_checker_cannot_inspect_is_reported_not_raised() -> None:
    report = check_dropout_forward(returns_uncomparable_output)
    assert not report
    assert any("raised RuntimeError: comparison is not supported when inspected" in line for line in report.lines())


def raises_with_an_address_in_the_message(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    raise TypeError(f"cannot use {raises_with_an_address_in_the_message!r}")


def test_object_addresses_are_removed_from_exception_messages() -> None:
    lines = check_dropout_forward(raises_with_an_address_in_the_message).lines()
    assert all("TypeError: cannot use <function raises_with_an_address_in_the_message>" in line for line in lines)
    assert not any("0x" in line for line in lines)


# --- CheckReport ---------------------------------------------------------------------------


def test_check_report_truthiness_and_repr() -> None:
    good, bad = PropertyResult("a", True), PropertyResult("b", False, "expected 1, got 2 — hint")
    assert CheckReport("f", [good, good])
    assert not CheckReport("f", [good, bad])
    assert not CheckReport("f", [])
    report = CheckReport("f", [good, bad])
    assert repr(report) == "CheckReport(f: 1/2 properties hold)"
    assert report.passed == [good] and report.failed == [bad]
    assert str(report) == "✓ a\n✗ b: expected 1, got 2 — hint"


def test_check_report_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="results\\[0\\] must be a PropertyResult, got str"):
        CheckReport("f", ["✓ a"])
    with pytest.raises(TypeError, match="subject must be a non-empty str"):
        CheckReport("", [])


# --- diagnoses: one root mistake is told once ----------------------------------------------

SIGN = Diagnosis("the sign error", "the step goes uphill, along the gradient instead of against it")
SCALE = Diagnosis("the missing scale", "survivors keep their size: inverted dropout rescales them")


def _failure(name: str, diagnosis: Diagnosis | None = SIGN, got: str = "2") -> PropertyResult:
    return PropertyResult(name, False, f"expected 1, got {got}", diagnosis)


def test_a_diagnosis_is_printed_in_full_once_and_its_other_failures_are_marked_as_consequences() -> None:
    report = CheckReport("f", [PropertyResult("shape", True), _failure("a"), _failure("b", got="3"), _failure("c")])
    assert report.lines() == [
        "✓ shape",
        "✗ a: expected 1, got 2 — the step goes uphill, along the gradient instead of against it",
        "✗ b: expected 1, got 3 — a consequence of the sign error (see above)",
        "✗ c: expected 1, got 2 — a consequence of the sign error (see above)",
        "Diagnosis: the sign error — it explains all 3 ✗ lines; the hint is on the first",
    ]
    assert str(report) == "\n".join(report.lines())
    assert report.diagnosis is SIGN and not report and len(report) == 4
    assert [result.line for result in report.failed][1].endswith("against it")  # each result keeps its full line


def test_two_diagnoses_are_each_told_once_and_no_single_cause_is_claimed() -> None:
    report = CheckReport("f", [_failure("a"), _failure("b", SCALE), _failure("c"), _failure("d", SCALE)])
    lines = report.lines()
    assert lines[2].endswith("— a consequence of the sign error (see above)")
    assert lines[3].endswith("— a consequence of the missing scale (see above)")
    assert lines[1].endswith(SCALE.hint) and len(lines) == 4
    assert report.diagnosis is None


def test_one_failure_gets_its_hint_and_no_closing_line() -> None:
    report = CheckReport("f", [PropertyResult("a", True, "measured"), _failure("b")])
    assert report.lines() == ["✓ a: measured", f"✗ b: expected 1, got 2 — {SIGN.hint}"]
    assert report.diagnosis is SIGN


def test_an_unnamed_hint_is_not_repeated_and_names_no_cause() -> None:
    plain = Diagnosis("", "the contract returns a pair")
    report = CheckReport("f", [_failure("a", plain), _failure("b", plain)])
    assert report.lines() == [
        "✗ a: expected 1, got 2 — the contract returns a pair",
        "✗ b: expected 1, got 2 — the same hint as above",
    ]
    assert report.diagnosis is None


def test_a_failure_without_a_diagnosis_keeps_its_message_and_blocks_the_closing_line() -> None:
    report = CheckReport("f", [_failure("a"), PropertyResult("b", False, "expected 1, got 2 — a hint")])
    assert report.lines() == [f"✗ a: expected 1, got 2 — {SIGN.hint}", "✗ b: expected 1, got 2 — a hint"]
    assert report.diagnosis is None


def test_a_passing_report_has_no_diagnosis_even_if_a_passing_result_carries_one() -> None:
    report = CheckReport("f", [PropertyResult("a", True, "", SIGN)])
    assert report and report.diagnosis is None and report.lines() == ["✓ a"]


def test_diagnosis_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="hint must be a non-empty str, got ''"):
        Diagnosis("a name", "")
    with pytest.raises(TypeError, match="name must be a str, got NoneType"):
        Diagnosis(None, "a hint")
    assert Diagnosis("", "h").consequence == "the same hint as above"
    assert Diagnosis("x", "h") != Diagnosis("x", "h", key="TypeError: a")


def test_failed_keeps_expected_got_and_the_diagnosis_apart() -> None:
    failure = _Failed("4", "3", SIGN)
    assert (failure.expected, failure.got, failure.diagnosis) == ("4", "3", SIGN)
    assert failure.message == "expected 4, got 3" and str(failure) == f"expected 4, got 3 — {SIGN.hint}"
    assert _Failed("4", "3", "a plain hint").diagnosis == Diagnosis("", "a plain hint")
    with pytest.raises(TypeError, match="hint must be a Diagnosis or a str, got int"):
        _Failed("4", "3", 7)


def test_one_of_combines_several_matches_into_one_diagnosis() -> None:
    assert _one_of([], "fallback") == "fallback"
    assert _one_of([SIGN, SIGN], "fallback") is SIGN
    both = _one_of([SIGN, SCALE, SIGN], "fallback")
    assert both == Diagnosis("either the sign error or the missing scale", f"either {SIGN.hint}; or {SCALE.hint}", "|")
    assert _one_of(["a", SIGN], "fallback").name == ""  # an unnamed hint makes the combination unnamed


def test_the_same_student_exception_is_one_diagnosis_and_a_different_one_another(capsys) -> None:
    calls = []

    def raises(x):
        calls.append(x)
        raise KeyError(f"key {len(calls) // 3}")  # the same message for the first two properties, then another

    def prop(fn):
        _call(fn, 1)
        return ""

    @_checker("lookup(x) -> y", [("one", prop), ("two", prop), ("three", prop)])
    def check_lookup(fn: Callable[..., Any]) -> CheckReport:
        """The contract."""

    report = check_lookup(raises)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("read the message and the contract above")
    assert lines[1] == (
        "✗ two: expected a result, got KeyError: 'key 0' — a consequence of the KeyError your function raised "
        "(see above)"
    )
    assert lines[2].endswith("read the message and the contract above") and "'key 1'" in lines[2]
    assert len(lines) == 3 and report.diagnosis is None


def test_an_untouched_stub_is_named_once_even_by_a_property_that_expects_a_value_error(capsys) -> None:
    def not_implemented(*args: Any) -> None:
        raise NotImplementedError()

    with pytest.raises(Exception) as raised:
        _expect_value_error("ValueError for x = -1", "validate x", not_implemented, -1)
    assert not isinstance(raised.value, _Failed)  # left to the runner, which names the stub

    def validates(fn):
        _expect_value_error("ValueError for x = -1", "validate x", fn, -1)
        return ""

    @_checker("f(x) -> y", [("returns", lambda fn: _call(fn, 1) or ""), ("x < 0 raises ValueError", validates)])
    def check_f(fn: Callable[..., Any]) -> CheckReport:
        """The contract."""

    report = check_f(not_implemented)
    assert capsys.readouterr().out.splitlines() == [
        "✗ returns: expected a result, got NotImplementedError — replace `raise NotImplementedError()` with your "
        "implementation",
        "✗ x < 0 raises ValueError: expected a result, got NotImplementedError — a consequence of the "
        "`raise NotImplementedError()` still in place (see above)",
        "Diagnosis: the `raise NotImplementedError()` still in place — it explains all 2 ✗ lines; the hint is on "
        "the first",
    ]
    assert report.diagnosis.name == "the `raise NotImplementedError()` still in place"


# --- the package re-exports every name of the old flat module ------------------------------

# The public names of the old course_lib/checks.py, in its __all__ order, with the module that now defines each.
# Released nbgrader exercises import them as `from course_lib.checks import check_…`.
FLAT_NAMES = {
    "PropertyResult": "report",
    "CheckReport": "report",
    "check_dropout_forward": "dropout",
    "check_dropout_backward": "dropout",
    "check_early_stop_epoch": "intro",
    "check_train_val_split": "intro",
    "check_sgd_l2_step": "weight_decay",
    "check_sgd_decoupled_step": "weight_decay",
    "check_soft_threshold": "weight_decay",
    "check_ridge_fit": "weight_decay",
    "check_adam_l2_step": "adamw",
    "check_adamw_step": "adamw",
}


# Checkers added since, for the exercise parts that use an implementation in an experiment.
EXPERIMENT_NAMES = {
    "check_choose_by_validation": "intro",
    "check_dropout_layer": "dropout",
    "check_choose_alpha": "weight_decay",
    "check_adamw_optimizer": "adamw",
}

# The Monte-Carlo dropout chapter's checkers.
MC_DROPOUT_NAMES = {
    "check_mc_predict": "mc_dropout",
    "check_mutual_information": "mc_dropout",
    "check_choose_n_samples": "mc_dropout",
}

# The label smoothing chapter's checkers.
LABEL_SMOOTHING_NAMES = {
    "check_smooth_targets": "label_smoothing",
    "check_label_smoothing_cross_entropy": "label_smoothing",
    "check_compare_smoothing": "label_smoothing",
}

# The dropout variants chapter's checkers.
VARIANTS_NAMES = {
    "check_drop_path": "variants",
    "check_spatial_dropout": "variants",
    "check_expected_active_blocks": "variants",
}

# The "Regularization in practice" chapter's checkers.
PRACTICE_NAMES = {
    "check_configure_adamw": "practice",
    "check_evaluate": "practice",
}


def test_every_old_name_is_importable_from_the_package_and_is_its_chapter_modules_object() -> None:
    assert course_lib.checks.__all__ == (
        list(FLAT_NAMES)
        + list(EXPERIMENT_NAMES)
        + list(MC_DROPOUT_NAMES)
        + list(LABEL_SMOOTHING_NAMES)
        + list(VARIANTS_NAMES)
        + list(PRACTICE_NAMES)
    )
    chapters = {**FLAT_NAMES, **EXPERIMENT_NAMES, **MC_DROPOUT_NAMES, **LABEL_SMOOTHING_NAMES, **VARIANTS_NAMES,
                **PRACTICE_NAMES}
    for name, module_name in chapters.items():
        module = importlib.import_module(f"course_lib.checks.{module_name}")
        assert name in module.__all__, f"{name} not in course_lib.checks.{module_name}.__all__"
        assert getattr(course_lib.checks, name) is getattr(module, name), name


# --- _checker: the decorator that makes every check_* function ------------------------------

CHECKERS = [getattr(course_lib.checks, name) for name in FLAT_NAMES if name.startswith("check_")]
DOC_TAIL = (
    "Args:\n"
    "    fn: the function to check.\n"
    "\n"
    "Returns:\n"
    "    A :class:`CheckReport`, truthy if and only if every property holds."
)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_every_checker_documents_its_call_contract_args_and_returns(checker) -> None:
    exercise = checker.__name__.removeprefix("check_")
    doc = inspect.getdoc(checker)  # what help() shows
    assert doc.startswith(f"Check an implementation of ``{exercise}(")
    assert doc.endswith("\n\n" + DOC_TAIL)
    contract = inspect.getdoc(checker.__wrapped__)
    assert contract and f"\n\n{contract}\n\n" in doc  # the stub's docstring, whole, between summary and tail
    assert checker.__doc__.endswith("holds.\n    ")  # indented like a docstring written in the source


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_the_decorator_keeps_each_checkers_name_module_and_signature(checker) -> None:
    stub = checker.__wrapped__
    assert stub is not checker and stub.__name__ == checker.__name__ == checker.__qualname__
    assert checker.__module__ == stub.__module__ == f"course_lib.checks.{FLAT_NAMES[checker.__name__]}"
    signature = inspect.signature(checker)
    assert list(signature.parameters) == ["fn"]
    assert signature.return_annotation in (CheckReport, "CheckReport")


def _toy_properties() -> list[tuple[str, Any]]:
    def doubles(fn) -> str:
        if _call(fn, 2) != 4:
            raise _Failed("4", str(_call(fn, 2)), "multiply by 2")
        return "measured"

    return [("doubles 2", doubles)]


def test_a_decorated_stub_runs_its_properties_under_the_exercises_name(capsys) -> None:
    @_checker("double(x) -> y", _toy_properties())
    def check_double(fn: Callable[..., Any]) -> CheckReport:
        """The contract: twice x.

        More about it.
        """

    assert check_double.__doc__ == (
        "Check an implementation of ``double(x) -> y``.\n\n        The contract: twice x.\n\n        More about it.\n\n"
        "        Args:\n            fn: the function to check.\n\n"
        "        Returns:\n            A :class:`CheckReport`, truthy if and only if every property holds.\n        "
    )
    help_text = "Check an implementation of ``double(x) -> y``.\n\nThe contract: twice x.\n\nMore about it.\n\n" + DOC_TAIL
    assert inspect.getdoc(check_double) == help_text
    good = check_double(lambda x: 2 * x)
    assert repr(good) == "CheckReport(double: 1/1 properties hold)" and good.lines() == ["✓ doubles 2: measured"]
    bad = check_double(lambda x: x + 1)
    assert not bad and bad.lines() == ["✗ doubles 2: expected 4, got 3 — multiply by 2"]
    assert capsys.readouterr().out == "✓ doubles 2: measured\n✗ doubles 2: expected 4, got 3 — multiply by 2\n"
    with pytest.raises(TypeError, match="fn must be a function"):
        check_double(4)


def test_a_one_line_stub_docstring_gets_an_unindented_tail() -> None:
    @_checker("double(x) -> y", _toy_properties())
    def check_double(fn: Callable[..., Any]) -> CheckReport:
        """The contract: twice x."""

    assert check_double.__doc__ == (
        "Check an implementation of ``double(x) -> y``.\n\nThe contract: twice x.\n\n" + DOC_TAIL + "\n"
    )


def _documented(fn: Callable[..., Any]) -> CheckReport:
    """The contract."""


def check_double(fn: Callable[..., Any]) -> CheckReport:
    """The contract."""


def check_undocumented(fn: Callable[..., Any]) -> CheckReport: ...


@pytest.mark.parametrize(
    ("implements", "stub"),
    [
        ("_documented(x) -> y", _documented),  # not named check_<name>
        ("triple(x) -> y", check_double),  # the call is not the one the checker is named after
        ("double -> y", check_double),  # no argument list
        ("undocumented(x) -> y", check_undocumented),  # no contract
    ],
)
def test_the_decorator_rejects_a_stub_that_does_not_match_its_call(implements: str, stub) -> None:
    with pytest.raises(TypeError, match="a checker stub is named check_<name>"):
        _checker(implements, _toy_properties())(stub)


# --- the comparison helpers shared by the chapters -----------------------------------------


def test_identical_compares_arrays_lists_and_tuples_of_arrays_exactly() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert _identical(a, a.copy()) and _identical([1.0, 2.0, 3.0], a)
    assert not _identical(a, a + 1e-12) and not _identical([1.0, 2.0], a) and not _identical([1.0, 2.0, 3.0, 4.0], a)
    assert _identical((a, np.zeros((2, 3))), (a.copy(), np.zeros((2, 3))))  # parts of different shapes
    assert not _identical((a, np.zeros((2, 3))), (a, np.ones((2, 3))))
    assert not _identical((a, a), (a,))


def test_require_identical_different_and_unchanged_fail_with_the_given_words() -> None:
    a = np.array([1.0, 2.0])
    _require_identical(a, a.copy(), "e", "g", "h")
    _require_different(a, a + 1, "e", "g", "h")
    _require_unchanged("x", a, a.copy(), "h")
    with pytest.raises(_Failed, match="^expected e, got g — h$"):
        _require_identical(a, a + 1, "e", "g", "h")
    with pytest.raises(_Failed, match="^expected e, got g — h$"):
        _require_different(a, a.copy(), "e", "g", "h")
    with pytest.raises(_Failed, match="^expected x unchanged after the call, got x modified — h$"):
        _require_unchanged("x", a + 1, a, "h")
    with pytest.raises(_Failed, match="^expected the list v unchanged after the call, got the list modified — h$"):
        _require_unchanged("the list v", [1.0], a, "h", got="the list modified")

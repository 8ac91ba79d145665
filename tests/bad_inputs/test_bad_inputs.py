"""Bad input never hangs, never gives a silent wrong answer, and gets an error naming the argument.

For every public callable of the topic modules (``TOPIC_MODULES``) and every one of its arguments,
a valid call has that argument replaced by each value of the fixed catalogue
(:func:`~.values.bad_inputs`) and by values hypothesis draws (:func:`~.values.generated_bad_input`);
:func:`~.runner.attempt` judges each call. The counts of calls and outcomes by kind are printed at
the end of the test run (``tests/conftest.py``).
"""

from __future__ import annotations

import importlib
import inspect
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BAD_INPUT_OUTCOMES

from .runner import Case, attempt
from .values import bad_inputs, generated_bad_input

TOPIC_MODULES = (
    "book",
    "data",
    "double_descent",
    "dropout",
    "experiments",
    "gradcheck",
    "linear_models",
    "losses",
    "mc_dropout",
    "metrics",
    "models",
    "optim",
    "optimizer_paths",
    "regularizers",
    "synthetic",
    "train",
    "transformer",
    "variants",
)

CASES: list[Case] = [case for module in TOPIC_MODULES for case in importlib.import_module(f"{__package__}.calls_{module}").CASES]
MUTATIONS = [(case, name) for case in CASES for name in case.mutated()]


def _public_callables(module_name: str) -> list[str]:
    """``module.name`` of every public function and class, and ``module.Class.method`` of every public method."""
    module = importlib.import_module(f"course_lib.{module_name}")
    found = []
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) and issubclass(value, BaseException):
            continue  # course_lib's exception and warning classes
        if inspect.isfunction(value) or inspect.isclass(value):
            found.append(f"{module_name}.{name}")
        if inspect.isclass(value):
            for method_name, method in vars(value).items():
                if inspect.isfunction(method) and not method_name.startswith("_") and method_name != "extra_repr":
                    found.append(f"{module_name}.{name}.{method_name}")
    return found


def test_every_public_callable_has_a_case() -> None:
    expected = {name for module in TOPIC_MODULES for name in _public_callables(module)}
    covered = {case.name.split("[")[0] for case in CASES}  # "module.f[torch]": a second valid call of f
    assert not expected - covered, f"public callables without a bad-input case: {sorted(expected - covered)}"
    assert not covered - expected, f"cases for no public callable: {sorted(covered - expected)}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_valid_call_passes_its_own_check(case: Case) -> None:
    """The starting point is valid: the unchanged call returns a result with the case's property."""
    kwargs = case.valid()
    case.verify(case.call(**kwargs), kwargs)


def _record(record_property, counts: Counter) -> None:
    record_property(BAD_INPUT_OUTCOMES, dict(counts))


@pytest.mark.parametrize(("case", "name"), MUTATIONS, ids=[f"{case.name}-{name}" for case, name in MUTATIONS])
def test_catalogue_of_bad_inputs(case: Case, name: str, record_property) -> None:
    counts: Counter = Counter()
    failures = []
    for index in range(len(bad_inputs(case.valid_value(case.valid(), name)))):
        kwargs = case.valid()
        bad = bad_inputs(case.valid_value(kwargs, name))[index]
        kwargs[name] = bad.value
        equivalent_kwargs = None
        if bad.has_equivalent:
            equivalent_kwargs = case.valid()
            equivalent_kwargs[name] = bad_inputs(case.valid_value(equivalent_kwargs, name))[index].equivalent
        outcome, failure = attempt(case, name, kwargs, bad, equivalent_kwargs)
        counts[outcome] += 1
        if failure:
            failures.append(failure)
    _record(record_property, counts)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("case", "name"), MUTATIONS, ids=[f"{case.name}-{name}" for case, name in MUTATIONS])
def test_generated_bad_inputs(case: Case, name: str, record_property) -> None:
    counts: Counter = Counter()

    @settings(max_examples=case.examples, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def run(data) -> None:
        kwargs = case.valid()
        bad = data.draw(generated_bad_input(case.valid_value(kwargs, name)), label=name)
        kwargs[name] = bad.value
        equivalent_kwargs = None
        if bad.has_equivalent:
            equivalent_kwargs = case.valid()
            equivalent_kwargs[name] = bad.equivalent
        outcome, failure = attempt(case, name, kwargs, bad, equivalent_kwargs)
        counts[outcome] += 1
        assert failure is None, failure

    try:
        run()
    finally:
        _record(record_property, counts)

"""course_lib.notebook: the one set-up call at the top of every notebook."""

from __future__ import annotations

import random

import matplotlib
import numpy as np
import pytest
import torch

import course_lib
from course_lib.notebook import PLOT_STYLE, setup_notebook


@pytest.fixture(autouse=True)
def restore_global_state():
    """setup_notebook changes process-wide settings; give the other tests theirs back."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    params = matplotlib.rcParams.copy()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    matplotlib.rcParams.update(params)


def _draws(rng: np.random.Generator) -> tuple:
    return (random.random(), np.random.rand(), rng.random(), course_lib.default_rng().random(), torch.rand(1).item())


def test_the_same_seed_gives_the_same_draws_from_every_generator() -> None:
    first = _draws(setup_notebook(5))
    second = _draws(setup_notebook(5))
    other = _draws(setup_notebook(6))
    assert first == second
    assert all(a != b for a, b in zip(first, other))


def test_the_returned_generator_is_the_one_course_lib_uses_for_rng_none() -> None:
    rng = setup_notebook(2)
    assert rng is course_lib.default_rng()
    assert isinstance(rng, np.random.Generator)


def test_threads_determinism_and_plot_style_are_set() -> None:
    setup_notebook(0, threads=2)
    assert torch.get_num_threads() == 2
    assert torch.are_deterministic_algorithms_enabled()
    for key, value in PLOT_STYLE.items():
        current = matplotlib.rcParams[key]
        assert (list(current) if isinstance(value, tuple) else current) == (list(value) if isinstance(value, tuple) else value), key
    setup_notebook(0)
    assert torch.get_num_threads() == 1  # the default: one thread, so reductions do not depend on the core count


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "seed must be a non-negative int, got -1"),
        ({"seed": 1.5}, "seed must be a non-negative int, got 1.5"),
        ({"seed": True}, "seed must be a non-negative int, got True"),
        ({"threads": 0}, "threads must be a positive int, got 0"),
        ({"threads": "2"}, "threads must be a positive int, got '2'"),
    ],
)
def test_bad_arguments_are_named_in_the_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        setup_notebook(**kwargs)


def _documented(x: float, *, scale: float = 2.0) -> float:
    """Scale x.

    A docstring of several lines, which the listing leaves out.
    """
    y = x * scale
    return y


def _undocumented(x):
    return x + 1


def test_function_code_shows_the_definition_without_its_docstring() -> None:
    from course_lib.notebook import function_code

    assert function_code(_documented) == (
        "def _documented(x: float, *, scale: float = 2.0) -> float:\n    y = x * scale\n    return y"
    )
    assert function_code(_undocumented) == "def _undocumented(x):\n    return x + 1"
    from course_lib.variants import spatial_dropout

    listing = function_code(spatial_dropout)
    assert listing.startswith("def spatial_dropout(") and '"""' not in listing and "_keep_mask" in listing


@pytest.mark.parametrize("value", [len, int, lambda x: x, "spatial_dropout"])
def test_function_code_names_a_value_that_is_not_a_def_function(value) -> None:
    from course_lib.notebook import function_code

    with pytest.raises(TypeError, match="function must be a Python function defined with def"):
        function_code(value)

"""Tests for course_lib.plots itself: the package layout and the style helpers the chapter modules share."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import is_color_like
from matplotlib.figure import Figure

import course_lib.plots as plots
from course_lib.plots import _coordinate_name, _labels_and_legend_beside, _new_axes, _real_array

CHAPTER_MODULES = ("training", "intro", "dropout", "mc_dropout", "weight_decay", "adamw", "label_smoothing",
                   "variants", "practice")


def _module(name: str):
    return importlib.import_module(f"course_lib.plots.{name}")


# --- the layout ------------------------------------------------------------------------------


def test_the_package_module_holds_no_figure():
    for name in CHAPTER_MODULES:
        _module(name)  # importing the chapter modules must not add figures to the package namespace
    assert not [name for name in vars(plots) if name.startswith("plot_")]
    assert not [name for name in plots.__all__ if name.startswith("plot_")]
    public_functions = [name for name, value in vars(plots).items()
                        if inspect.isfunction(value) and not name.startswith("_")]
    assert public_functions == []


def test_the_package_has_one_module_per_chapter_and_the_training_figures():
    found = {info.name for info in pkgutil.iter_modules(plots.__path__)}
    assert found == set(CHAPTER_MODULES)


def test_every_public_name_has_exactly_one_home():
    homes: dict[str, list[str]] = {}
    for name in CHAPTER_MODULES:
        module = _module(name)
        assert len(module.__all__) == len(set(module.__all__))
        for public in module.__all__:
            value = getattr(module, public)
            if inspect.isfunction(value):
                assert value.__module__ == module.__name__, f"{public} is defined in {value.__module__}"
            homes.setdefault(public, []).append(name)
    assert {public: where for public, where in homes.items() if len(where) > 1} == {}


def test_the_shared_colours_are_colours_and_are_the_ones_the_chapters_use():
    for name in plots.__all__:
        assert is_color_like(getattr(plots, name)), name
    assert _module("training").STOPPED_EPOCH_COLOR == plots.CROSS_COLOR
    assert _module("dropout").CROSS_COLOR is plots.CROSS_COLOR
    for name in ("training", "intro", "weight_decay", "adamw"):
        assert _module(name).BEST_EPOCH_COLOR is plots.BEST_EPOCH_COLOR
    for name in ("weight_decay", "adamw"):
        assert _module(name).UNREGULARIZED_COLOR is plots.UNREGULARIZED_COLOR
    assert _module("practice").SITE_COLOR is plots.CROSS_COLOR  # a dropout site: the colour of dropped units
    assert _module("practice").THRESHOLD_COLOR is plots.BEST_EPOCH_COLOR


# --- _new_axes ---------------------------------------------------------------------------------


def test_new_axes_opens_a_pyplot_figure_of_the_fixed_size():
    fig, ax = _new_axes(None, (5.0, 2.5))
    assert plt.get_fignums() == [fig.number]
    assert tuple(fig.get_size_inches()) == (5.0, 2.5)
    assert fig.axes == [ax]
    assert fig.get_layout_engine() is not None  # constrained layout: labels are not cut off


def test_new_axes_draws_into_a_given_axes_without_opening_a_figure():
    fig = Figure()
    ax = fig.add_subplot()
    assert _new_axes(ax, (5.0, 2.5)) == (fig, ax)
    assert not plt.get_fignums()


@pytest.mark.parametrize("ax", ["left", 0, Figure()])
def test_new_axes_rejects_what_is_not_an_axes(ax):
    with pytest.raises(TypeError, match=f"ax must be a matplotlib Axes or None, got {type(ax).__name__}"):
        _new_axes(ax, (5.0, 2.5))


# --- the shared validators and labels --------------------------------------------------------------


def test_real_array_returns_float64_of_the_asked_dimension():
    values = _real_array("x", [1, 2, 3])
    assert values.dtype == np.float64 and values.tolist() == [1.0, 2.0, 3.0]
    assert _real_array("grid", [[1, 2], [3, 4]], ndim=2).shape == (2, 2)


@pytest.mark.parametrize(
    ("values", "ndim", "message"),
    [
        (["a", "b"], 1, "x must hold real numbers"),
        ([], 1, r"x must be a non-empty 1-D array, got shape \(0,\)"),
        ([1.0, 2.0], 2, r"x must be a non-empty 2-D array, got shape \(2,\)"),
        ([[1.0], [2.0]], 1, r"x must be a non-empty 1-D array, got shape \(2, 1\)"),
        ([1.0, np.nan], 1, "x must hold finite numbers"),
        ([1.0, -np.inf], 1, "x must hold finite numbers"),
    ],
)
def test_real_array_names_the_argument_it_rejects(values, ndim, message):
    with pytest.raises(ValueError, match=message):
        _real_array("x", values, ndim=ndim)


def test_coordinate_names_are_one_based_with_subscripts():
    assert [_coordinate_name(i) for i in (0, 1, 9, 11)] == ["w₁", "w₂", "w₁₀", "w₁₂"]


def test_labels_and_legend_beside_labels_the_axes_and_puts_the_legend_outside_on_the_right():
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    _labels_and_legend_beside(ax, "x label", "y label", "the title")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x label", "y label", "the title")
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["a line"]
    assert legend.get_texts()[0].get_fontsize() == 8
    fig.draw_without_rendering()
    legend_box, axes_box = legend.get_window_extent(), ax.get_window_extent()
    assert legend_box.x0 > axes_box.x1  # beside the axes, not over the data
    assert axes_box.y1 - 10 < legend_box.y1 <= axes_box.y1  # at the top, a small pad below the axes' top edge

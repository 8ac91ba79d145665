"""Tests for course_lib.plots.intro: the generalization gap, data sets and polynomial feature counts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.synthetic import gap_regression_function, make_gap_regression, make_spirals, make_two_moons
from course_lib.plots import intro as intro_plots


def _lines_with_gid(ax, gid: str) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


# --- the generalization gap --------------------------------------------------------------------

CAPACITY = np.array([2, 4, 8, 16, 32, 64])
TRAIN_ERROR = np.array([0.5, 0.3, 0.15, 0.05, 0.01, 0.0])
VAL_ERROR = np.array([0.55, 0.38, 0.25, 0.2, 0.22, 0.27])


def test_gap_figure_shades_the_gap_and_splits_regions_at_the_lowest_validation_error():
    fig = intro_plots.plot_generalization_gap(CAPACITY, TRAIN_ERROR, VAL_ERROR, xlabel="hidden units", log_x=True)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == intro_plots.GENERALIZATION_GAP_FIGSIZE
    assert ax.get_xlabel() == "hidden units" and ax.get_ylabel() == "error" and ax.get_title()
    assert ax.get_xscale() == "log"
    assert list(ax.get_xticks()) == list(CAPACITY) and [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in CAPACITY]
    assert not ax.xaxis.get_minor_ticks()
    (gap,) = [c for c in ax.collections if c.get_gid() == "gap-band"]
    under = [p for p in ax.patches if p.get_gid() == "underfitting-region"]
    over = [p for p in ax.patches if p.get_gid() == "overfitting-region"]
    assert len(under) == len(over) == 1
    (best,) = _lines_with_gid(ax, "lowest-validation-error")
    assert best.get_xdata()[0] == 16  # argmin of VAL_ERROR
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts == {"underfitting-label": "under-fitting", "overfitting-label": "over-fitting"}
    assert gap.get_label() == "generalization gap"


def test_gap_figure_with_several_runs_and_without_regions():
    runs = np.stack([TRAIN_ERROR, TRAIN_ERROR + 0.02, TRAIN_ERROR + 0.04])
    ax = intro_plots.plot_generalization_gap(
        [50, 100, 200, 400, 800, 1600], runs, VAL_ERROR, xlabel="training examples", mark_regions=False
    ).axes[0]
    training = [line for line in ax.get_lines() if line.get_label() == "training error"][0]
    np.testing.assert_allclose(training.get_ydata(), TRAIN_ERROR + 0.02)  # the mean over runs
    assert not [p for p in ax.patches if p.get_gid() in ("underfitting-region", "overfitting-region")]
    assert len(ax.collections) == 2  # the gap band and the training runs' min-max band


def test_gap_figure_with_the_minimum_at_an_end_draws_one_region():
    ax = intro_plots.plot_generalization_gap(CAPACITY, TRAIN_ERROR, TRAIN_ERROR + 0.1, xlabel="width").axes[0]
    assert [p.get_gid() for p in ax.patches] == ["underfitting-region"]


@pytest.mark.parametrize(
    ("x", "train", "val", "message"),
    [
        ([1, 1, 2], [0.1] * 3, [0.2] * 3, "strictly increasing"),
        ([1], [0.1], [0.2], "at least two values"),
        ([1, 2, 3], [0.1] * 2, [0.2] * 3, r"train_error must have shape \(3,\)"),
        ([1, 2, 3], [0.1] * 3, np.zeros((2, 2, 3)), "val_error must have shape"),
    ],
)
def test_gap_figure_validates_its_input(x, train, val, message):
    with pytest.raises(ValueError, match=message):
        intro_plots.plot_generalization_gap(x, train, val, xlabel="x")


def test_gap_figure_needs_positive_x_on_a_log_axis():
    with pytest.raises(ValueError, match="log_x needs positive x values"):
        intro_plots.plot_generalization_gap([0, 1, 2], [0.1] * 3, [0.2] * 3, xlabel="x", log_x=True)


# --- data sets -------------------------------------------------------------------------------------


def test_regression_data_figure_draws_every_split_and_the_true_function():
    data = make_gap_regression(n_train=20, n_val=10, n_test=30)
    fig = intro_plots.plot_data_splits(data, true_function=gap_regression_function)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == intro_plots.DATA_SPLITS_FIGSIZE
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "target y"
    assert ax.get_title() == "The gap regression data set"
    assert [len(c.get_offsets()) for c in ax.collections] == [20, 10, 30]
    (truth,) = [line for line in ax.get_lines() if line.get_label() == "true function"]
    np.testing.assert_allclose(truth.get_ydata(), gap_regression_function(truth.get_xdata()))


def test_classification_data_figure_colours_classes_and_marks_splits():
    data = make_spirals(n_samples=90, n_arms=3)
    ax = intro_plots.plot_data_splits(data, title="spirals").axes[0]
    assert ax.get_title() == "spirals" and ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert sum(len(c.get_offsets()) for c in ax.collections) == 90
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["arm 0", "arm 1", "arm 2", "training (54)", "validation (18)", "test (18)"]


def test_data_figure_rejects_other_data():
    from course_lib.data import load_digits_splits

    with pytest.raises(ValueError, match="1-D regression or 2-D classification"):
        intro_plots.plot_data_splits(load_digits_splits())
    with pytest.raises(ValueError, match="true_function only applies"):
        intro_plots.plot_data_splits(make_two_moons(), true_function=np.sin)


def test_monomial_counts_plot_draws_the_binomial_counts() -> None:
    import math

    from course_lib.plots.intro import plot_monomial_counts

    fig = plot_monomial_counts([2, 10], range(1, 5))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "degree d" and ax.get_ylabel()
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["k = 2 variables", "k = 10 variables"]
    assert list(lines[1].get_ydata()) == [math.comb(9 + d, 9) for d in range(1, 5)]
    with pytest.raises(ValueError, match="variables must be"):
        plot_monomial_counts([0], [1])
    plt.close(fig)


def test_monomial_counts_plot_up_to_degree_counts_a_polynomial_models_weights() -> None:
    import itertools
    import math

    fig = intro_plots.plot_monomial_counts([3, 10], range(0, 5), up_to_degree=True)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "monomials of degree at most d"
    lines = ax.get_lines()
    assert list(lines[1].get_ydata()) == [math.comb(10 + d, 10) for d in range(0, 5)]
    # degree <= d in k variables, enumerated: every multiset of at most d variables (the empty one is the constant)
    enumerated = [sum(1 for j in range(d + 1) for _ in itertools.combinations_with_replacement(range(3), j)) for d in range(5)]
    assert list(lines[0].get_ydata()) == enumerated == [1, 4, 10, 20, 35]
    plt.close(fig)

"""Tests for course_lib.weight_decay_plots.weight_decay (constraint geometry, histograms, paths, pruning)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.plots import weight_decay as weight_decay_plots
from course_lib.regularizers import penalized_quadratic_optimum

ANGLE = np.deg2rad(30.0)
ROTATION = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
HESSIAN = ROTATION @ np.diag([1.0, 8.0]) @ ROTATION.T
CENTER = np.array([2.0, 0.6])


def _by_gid(ax, gid: str) -> list:
    artists = [*ax.get_lines(), *ax.patches, *ax.collections]
    return [artist for artist in artists if artist.get_gid() == gid]


def _one_point(ax, gid: str) -> np.ndarray:
    (line,) = _by_gid(ax, gid)
    return np.array([line.get_xdata()[0], line.get_ydata()[0]])


def _assert_labelled(fig: Figure, figsize: tuple[float, float]) -> None:
    assert tuple(fig.get_size_inches()) == figsize
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


# --- constraint geometry ---------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_constraint_geometry_marks_both_optima_at_their_exact_coordinates(norm):
    fig = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 1.0, norm)
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.CONSTRAINT_GEOMETRY_FIGSIZE)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w₁", "w₂")
    optimum = penalized_quadratic_optimum(HESSIAN, CENTER, 1.0, norm=norm)
    np.testing.assert_array_equal(_one_point(ax, "unregularized-optimum"), CENTER)
    np.testing.assert_array_equal(_one_point(ax, "regularized-optimum"), optimum)
    assert ax.get_aspect() == 1.0
    assert len(_by_gid(ax, "loss-contours")[0].get_segments()) >= 5
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any(text.startswith("unregularized optimum") for text in legend)
    assert any(text.startswith("regularized optimum") for text in legend)


def test_constraint_geometry_l2_ball_is_the_disc_through_the_optimum():
    ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 1.0, "l2").axes[0]
    optimum = penalized_quadratic_optimum(HESSIAN, CENTER, 1.0)
    (ball,) = _by_gid(ax, "constraint-ball")
    assert ball.get_radius() == pytest.approx(np.linalg.norm(optimum))
    assert tuple(ball.center) == (0.0, 0.0)
    shrinkage = 100 * (1 - np.linalg.norm(optimum) / np.linalg.norm(CENTER))
    assert ax.get_title() == f"L2 penalty, λ = 1: ‖w‖₂ shrunk by {shrinkage:.1f}%"
    assert "exactly" not in ax.get_title()


def test_constraint_geometry_l1_ball_is_a_diamond_and_the_title_names_the_zero():
    ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 1.0, "l1").axes[0]
    optimum = penalized_quadratic_optimum(HESSIAN, CENTER, 1.0, norm="l1")
    assert optimum[1] == 0.0 and optimum[0] != 0.0  # the default geometry's point: a corner
    (ball,) = _by_gid(ax, "constraint-ball")
    radius = np.abs(optimum).sum()
    corners = ball.get_xy()[:4]
    np.testing.assert_allclose(corners, [[radius, 0], [0, radius], [-radius, 0], [0, -radius]])
    assert ax.get_title().startswith("L1 penalty, λ = 1:")
    assert ax.get_title().endswith("\nw₂ = 0 exactly")


def test_constraint_geometry_emphasised_level_passes_through_the_optimum():
    for norm in ("l1", "l2"):
        ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 0.7, norm).axes[0]
        optimum = penalized_quadratic_optimum(HESSIAN, CENTER, 0.7, norm=norm)
        (ring,) = _by_gid(ax, "optimum-level")
        points = np.column_stack([ring.get_xdata(), ring.get_ydata()])
        loss = 0.5 * np.einsum("ni,ij,nj->n", points - CENTER, HESSIAN, points - CENTER)
        target = 0.5 * (optimum - CENTER) @ HESSIAN @ (optimum - CENTER)
        np.testing.assert_allclose(loss, target, rtol=1e-9)
        # the ring touches the ball at w_λ: no point of the ring lies strictly inside the ball
        inside = np.abs(points).sum(axis=1) if norm == "l1" else np.linalg.norm(points, axis=1)
        radius = np.abs(optimum).sum() if norm == "l1" else np.linalg.norm(optimum)
        assert inside.min() >= radius - 1e-3


def test_constraint_geometry_strong_l1_penalty_zeroes_both_coordinates():
    ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 4.0, "l1").axes[0]
    np.testing.assert_array_equal(_one_point(ax, "regularized-optimum"), [0.0, 0.0])
    assert "shrunk by 100.0%" in ax.get_title() and "w₁ = w₂ = 0 exactly" in ax.get_title()


def test_constraint_geometry_without_penalty_leaves_the_optimum_in_place():
    ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 0.0, "l2").axes[0]
    np.testing.assert_allclose(_one_point(ax, "regularized-optimum"), CENTER)
    assert "shrunk by 0.0%" in ax.get_title()


def test_constraint_geometry_draws_into_a_given_axes():
    fig = Figure()
    assert weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 1.0, ax=fig.add_subplot()) is fig
    assert not plt.get_fignums()


@pytest.mark.parametrize(
    ("hessian", "center", "strength", "norm", "message"),
    [
        (np.eye(3), CENTER, 1.0, "l2", "hessian must be a symmetric positive-definite 2x2"),
        ([[1.0, 2.0], [0.0, 1.0]], CENTER, 1.0, "l2", "hessian must be"),
        ([[1.0, 0.0], [0.0, -1.0]], CENTER, 1.0, "l2", "hessian must be"),
        (HESSIAN, [1.0, 2.0, 3.0], 1.0, "l2", "center must be"),
        (HESSIAN, [0.0, 0.0], 1.0, "l2", "center must be a non-zero point"),
        (HESSIAN, CENTER, -0.5, "l2", "strength must be a finite number λ >= 0, got -0.5"),
        (HESSIAN, CENTER, float("inf"), "l2", "strength must be"),
        (HESSIAN, CENTER, "1", "l2", "strength must be a number"),
        (HESSIAN, CENTER, 1.0, "L1", "norm must be 'l1' or 'l2', got 'L1'"),
    ],
)
def test_constraint_geometry_validates_its_input(hessian, center, strength, norm, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_constraint_geometry(hessian, center, strength, norm)


# --- weight histograms and norms ---------------------------------------------------------------


def _snapshots(epochs: int = 7) -> dict[float, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    initial = rng.standard_normal(200)
    return {strength: [initial * (1 - strength) ** e for e in range(epochs)] for strength in (0.0, 0.1, 0.3)}


def test_weight_histograms_one_panel_per_strength_with_first_middle_last_epochs():
    snapshots = _snapshots()
    fig = weight_decay_plots.plot_weight_histograms(snapshots)
    assert tuple(fig.get_size_inches()) == (3 * weight_decay_plots.WEIGHT_HISTOGRAM_PANEL_FIGSIZE[0],
                                            2 * weight_decay_plots.WEIGHT_HISTOGRAM_PANEL_FIGSIZE[1])
    panels, norms = fig.axes[:3], fig.axes[3]
    assert [ax.get_title() for ax in panels] == ["λ = 0", "λ = 0.1", "λ = 0.3"]
    assert fig.get_suptitle()
    limits = {ax.get_xlim() for ax in panels}
    assert len(limits) == 1  # one shared x-range
    for ax, (strength, arrays) in zip(panels, snapshots.items()):
        assert ax.get_xlabel() == "weight value" and ax.get_ylabel()
        steps = _by_gid(ax, "weight-histogram")
        assert [step.get_label() for step in steps] == ["epoch 0", "epoch 3", "epoch 6"]
        for step, epoch in zip(steps, (0, 3, 6)):
            counts = step.get_data().values
            assert counts.sum() == arrays[epoch].size  # every weight counted once
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["epoch 0", "epoch 3", "epoch 6"]
    lines = _by_gid(norms, "weight-norm")
    assert [line.get_label() for line in lines] == ["λ = 0", "λ = 0.1", "λ = 0.3"]
    np.testing.assert_allclose(lines[2].get_ydata(), [np.linalg.norm(a) for a in snapshots[0.3]])
    assert norms.get_xlabel() == "epoch" and norms.get_ylabel()


def test_weight_histograms_with_chosen_epochs_and_without_norms():
    fig = weight_decay_plots.plot_weight_histograms(_snapshots(), epochs_to_show=[1, 5], bins=10, show_norms=False)
    assert len(fig.axes) == 3
    steps = _by_gid(fig.axes[0], "weight-histogram")
    assert [s.get_label() for s in steps] == ["epoch 1", "epoch 5"]
    assert len(steps[0].get_data().values) == 10


@pytest.mark.parametrize(
    ("snapshots", "kwargs", "message"),
    [
        ({}, {}, "snapshots must map at least one"),
        ({-0.1: [np.ones(3)]}, {}, "snapshots keys must be finite weight-decay values"),
        ({"a": [np.ones(3)]}, {}, "snapshots keys must be weight-decay values"),
        ({0.1: []}, {}, r"snapshots\[0.1\] must hold at least one epoch"),
        ({0.1: np.ones(3)}, {}, r"snapshots\[0.1\] must be a sequence of 1-D arrays"),
        ({0.1: [np.ones(3), np.array([])]}, {}, r"snapshots\[0.1\]\[1\] must be a non-empty"),
        ({0.1: [np.ones(3)] * 3}, {"epochs_to_show": [3]}, r"epochs_to_show must be epochs in \[0, 2\]"),
        ({0.1: [np.ones(3)] * 3}, {"bins": 0}, "bins must be a positive int"),
    ],
)
def test_weight_histograms_validate_their_input(snapshots, kwargs, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_weight_histograms(snapshots, **kwargs)


def test_weight_norms_figure_and_its_validation():
    fig = weight_decay_plots.plot_weight_norms({0.0: [3.0, 3.5, 4.0], 1e-3: [3.0, 2.0, 1.0]}, log_y=True)
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.WEIGHT_NORMS_FIGSIZE)
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in _by_gid(ax, "weight-norm")] == ["λ = 0", "λ = 0.001"]
    np.testing.assert_array_equal(_by_gid(ax, "weight-norm")[1].get_xdata(), [0, 1, 2])
    with pytest.raises(ValueError, match="norms_by_strength must map"):
        weight_decay_plots.plot_weight_norms({})
    with pytest.raises(ValueError, match=r"norms_by_strength\[0.1\] must hold norms"):
        weight_decay_plots.plot_weight_norms({0.1: [1.0, -1.0]})
    with pytest.raises(ValueError, match=r"norms_by_strength\[0.1\] must be a non-empty"):
        weight_decay_plots.plot_weight_norms({0.1: []})


# --- sparsity path, error vs strength, pruning, Hessian shrinkage ---------------------------------

STRENGTHS = np.logspace(-3, 1, 5)


def test_sparsity_path_counts_zeros_on_a_log_axis_with_a_comparison_series():
    fig = weight_decay_plots.plot_sparsity_path(STRENGTHS, [0, 2, 5, 9, 10], 10, other={"L2 penalty": [0] * 5})
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.SPARSITY_PATH_FIGSIZE)
    assert ax.get_xscale() == "log"
    (l1,) = _by_gid(ax, "zero-counts")
    (l2,) = _by_gid(ax, "other-zero-counts")
    np.testing.assert_array_equal(l1.get_xdata(), STRENGTHS)
    np.testing.assert_array_equal(l1.get_ydata(), [0, 2, 5, 9, 10])
    assert (l1.get_label(), l2.get_label()) == ("L1 penalty", "L2 penalty")
    (everything,) = _by_gid(ax, "all-weights")
    assert everything.get_ydata()[0] == 10


@pytest.mark.parametrize(
    ("strengths", "counts", "n_weights", "other", "message"),
    [
        ([0.0, 1.0], [0, 1], 5, None, "strengths must be at least 1 positive, strictly increasing"),
        ([1.0, 0.1], [0, 1], 5, None, "strengths must be"),
        ([0.1, 1.0], [0, 1, 2], 5, None, r"zero_counts\['L1 penalty'\] must have 2 values"),
        ([0.1, 1.0], [0, 6], 5, None, r"counts of 'L1 penalty' must be whole numbers in \[0, 5\]"),
        ([0.1, 1.0], [0, 1], 0, None, "n_weights must be a positive int"),
        ([0.1, 1.0], [0, 1], 5, {"L2": [0]}, r"other\['L2'\] must have 2 values"),
        ([], [], 5, None, "strengths must be a non-empty"),
    ],
)
def test_sparsity_path_validates_its_input(strengths, counts, n_weights, other, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_sparsity_path(strengths, counts, n_weights, other=other)


def test_error_vs_strength_marks_the_lowest_test_error():
    errors = {"training": [0.0, 0.1, 0.3, 0.6, 0.9], "test": [2.0, 1.1, 0.7, 0.8, 1.0]}
    fig = weight_decay_plots.plot_error_vs_strength(STRENGTHS, errors)
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.ERROR_VS_STRENGTH_FIGSIZE)
    assert ax.get_xscale() == "log"
    (best_line,) = _by_gid(ax, "best-strength")
    assert best_line.get_xdata()[0] == STRENGTHS[2]
    np.testing.assert_array_equal(_one_point(ax, "best-point"), [STRENGTHS[2], 0.7])
    assert best_line.get_label() == "lowest test error at λ = 0.1"
    labels = [line.get_label() for line in ax.get_lines()]
    assert "training error" in labels and "test error" in labels


def test_error_vs_strength_best_of_a_named_series_or_none():
    errors = {"a": [3.0, 2.0, 1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]}
    ax = weight_decay_plots.plot_error_vs_strength(STRENGTHS, errors).axes[0]  # no "test": the last series
    assert _by_gid(ax, "best-strength")[0].get_xdata()[0] == STRENGTHS[0]
    ax = weight_decay_plots.plot_error_vs_strength(STRENGTHS, errors, best_of="a", log_y=True).axes[0]
    assert _by_gid(ax, "best-strength")[0].get_xdata()[0] == STRENGTHS[2]
    assert ax.get_yscale() == "log"
    ax = weight_decay_plots.plot_error_vs_strength(STRENGTHS, errors, best=False).axes[0]
    assert not _by_gid(ax, "best-strength") and not _by_gid(ax, "best-point")


@pytest.mark.parametrize(
    ("strengths", "errors", "kwargs", "message"),
    [
        ([0.1], {"test": [1.0]}, {}, "strengths must be at least 2 positive"),
        ([-1.0, 1.0], {"test": [1.0, 2.0]}, {}, "strengths must be"),
        ([0.1, 1.0], {}, {}, "errors must map at least one label"),
        ([0.1, 1.0], {"test": [1.0]}, {}, r"errors\['test'\] must have 2 values"),
        ([0.1, 1.0], {"test": [1.0, np.nan]}, {}, r"errors\['test'\] must hold finite numbers"),
        ([0.1, 1.0], {"test": [1.0, 2.0]}, {"best_of": "val"}, "best_of must be one of"),
        ([0.1, 1.0], {"test": [0.0, 2.0]}, {"log_y": True}, "errors must be positive with log_y"),
    ],
)
def test_error_vs_strength_validates_its_input(strengths, errors, kwargs, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_error_vs_strength(strengths, errors, **kwargs)


def test_pruning_curves_one_line_per_model_in_percent_kept_on_a_reversed_log_axis():
    accuracies = {"no weight decay": [0.95, 0.9, 0.5], "λ = 0.001": [0.95, 0.94, 0.8]}
    fig = weight_decay_plots.plot_pruning_curves([0.0, 0.5, 0.9], accuracies)
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.PRUNING_CURVES_FIGSIZE)
    lines = _by_gid(ax, "pruning-curve")
    assert [line.get_label() for line in lines] == list(accuracies)
    np.testing.assert_allclose(lines[0].get_xdata(), [100.0, 50.0, 10.0])  # percent of the weights kept
    np.testing.assert_array_equal(lines[1].get_ydata(), accuracies["λ = 0.001"])
    assert ax.get_xscale() == "log"
    left, right = ax.get_xlim()
    assert left > 100.0 and right < 10.0  # reversed: more pruning to the right, every point inside
    np.testing.assert_allclose(ax.get_xticks(), [100.0, 50.0, 10.0])  # one tick per measured fraction ...
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "50", "90"]  # ... labelled with the pruned %
    assert "pruned" in ax.get_xlabel()
    with pytest.raises(ValueError, match=r"fractions must be strictly increasing values in \[0, 1\)"):
        weight_decay_plots.plot_pruning_curves([0.0, 1.5], {"a": [1.0, 0.5]})
    with pytest.raises(ValueError, match=r"fractions must be strictly increasing values in \[0, 1\)"):
        weight_decay_plots.plot_pruning_curves([0.0, 1.0], {"a": [1.0, 0.1]})  # nothing kept: no log position
    with pytest.raises(ValueError, match=r"accuracies\['a'\] must have 2 values"):
        weight_decay_plots.plot_pruning_curves([0.0, 0.5], {"a": [1.0]})
    with pytest.raises(ValueError, match="accuracies must map at least one label"):
        weight_decay_plots.plot_pruning_curves([0.0, 0.5], {})


def test_pruning_curves_give_the_hard_pruning_end_room():
    """The book's grid: on a linear axis 90–98 % would take 8 % of the width; here it takes a large share."""
    fractions = np.array([0.0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98])
    ax = weight_decay_plots.plot_pruning_curves(fractions, {"a": np.linspace(1.0, 0.2, 10)}).axes[0]
    to_axes = ax.transAxes.inverted().transform
    x = [to_axes(ax.transData.transform((100.0 * (1 - f), 0.5)))[0] for f in (0.0, 0.9, 0.98)]
    assert 0.0 < x[0] < x[1] < x[2] < 1.0
    assert x[2] - x[1] > 0.35  # the last 8 % pruned span more than a third of the axis
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0", "50", "70", "80", "85", "90", "93", "95", "97", "98"]


@pytest.mark.parametrize("n_points", [5, 9, 13, 25])
def test_log_axes_have_their_ticks_at_the_data_points(n_points):
    strengths = np.logspace(-3, 3, n_points)
    for fig in (
        weight_decay_plots.plot_error_vs_strength(strengths, {"test": np.linspace(2.0, 1.0, n_points)}),
        weight_decay_plots.plot_sparsity_path(strengths, np.arange(n_points), n_points),
    ):
        ax = fig.axes[0]
        np.testing.assert_allclose(ax.get_xticks(), strengths)
        assert not len(ax.xaxis.get_minorticklocs())  # no stray minor ticks between the points
        labels = [t.get_text() for t in ax.get_xticklabels()]
        shown = [text for text in labels if text]
        assert labels[0] and 2 <= len(shown) <= 7  # readable: at most 7 labels, the first always
        plt.close(fig)


def test_log_tick_labels_are_plain_numbers_or_powers_of_ten():
    fig = weight_decay_plots.plot_error_vs_strength(np.logspace(-3, 3, 25), {"test": np.ones(25)})
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert labels == ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]  # every 4th point: the decades
    fig = weight_decay_plots.plot_sparsity_path([1e-5, 2.5e-5, 1e5], [0, 1, 2], 2)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["$10^{-5}$", "$2.5\\times10^{-5}$", "$10^{5}$"]


def test_format_strength_is_one_precision_for_every_label():
    assert [weight_decay_plots.format_strength(v) for v in (10**0.7, 0.001, 1.0, 0.0, 3e-2, 0.012589)] == [
        "5.01", "0.001", "1", "0", "0.03", "0.0126"]
    assert weight_decay_plots.strength_label(10**0.7) == "λ = 5.01"
    ax = weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 10**0.7, "l1").axes[0]
    assert ax.get_title().startswith("L1 penalty, λ = 5.01:")
    assert ax.get_title().endswith("w₁ = w₂ = 0 exactly: the optimum is the origin")


def test_weight_histogram_panels_share_one_y_scale():
    rng = np.random.default_rng(0)
    wide, narrow = rng.normal(size=500), 0.1 * rng.normal(size=500)
    fig = weight_decay_plots.plot_weight_histograms({0.0: [wide, wide], 0.1: [wide, narrow]}, show_norms=False)
    tallest = max(step.get_data().values.max() for ax in fig.axes for step in _by_gid(ax, "weight-histogram"))
    limits = {ax.get_ylim() for ax in fig.axes}
    assert len(limits) == 1  # one y-range ...
    (low, high), = limits
    assert low == 0.0 and tallest <= high <= 1.1 * tallest  # ... fitted to the tallest bar of any panel


def test_hessian_shrinkage_points_lie_on_the_curve_and_half_way_is_marked():
    eigenvalues = np.array([0.01, 0.5, 2.0, 40.0])
    fig = weight_decay_plots.plot_hessian_shrinkage(eigenvalues, 0.5)
    ax = fig.axes[0]
    _assert_labelled(fig, weight_decay_plots.HESSIAN_SHRINKAGE_FIGSIZE)
    assert ax.get_xscale() == "log"
    (points,) = _by_gid(ax, "hessian-eigenvalues")
    np.testing.assert_array_equal(points.get_xdata(), eigenvalues)
    np.testing.assert_allclose(points.get_ydata(), eigenvalues / (eigenvalues + 0.5))
    (curve,) = _by_gid(ax, "shrinkage-curve")
    x = curve.get_xdata()
    assert x.min() < eigenvalues.min() and x.max() > eigenvalues.max()
    np.testing.assert_allclose(curve.get_ydata(), x / (x + 0.5))
    np.testing.assert_array_equal(_one_point(ax, "half-way-point"), [0.5, 0.5])
    assert _by_gid(ax, "half-way")[0].get_xdata()[0] == 0.5
    assert "λ = 0.5" in ax.get_title()
    # the eigenvalues are hᵢ, the decay strength λ: no label uses λ for both
    texts = [ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.get_legend().get_texts())]
    assert ax.get_xlabel() == "Hessian eigenvalue hᵢ" and ax.get_ylabel() == "shrinkage factor hᵢ / (hᵢ + λ)"
    assert not any("λᵢ" in text for text in texts)
    np.testing.assert_allclose(ax.get_xticks(), [0.01, 0.5, 2.0, 40.0])  # ticks at the eigenvalues (λ among them)
    assert not len(ax.xaxis.get_minorticklocs())


@pytest.mark.parametrize(
    ("eigenvalues", "weight_decay", "message"),
    [
        ([], 0.1, "eigenvalues must be a non-empty"),
        ([0.0, 1.0], 0.1, "eigenvalues must be > 0"),
        ([1.0], 0.0, "weight_decay must be a finite number λ > 0, got 0.0"),
        ([1.0], -1.0, "weight_decay must be"),
        ([1.0], None, "weight_decay must be a number"),
    ],
)
def test_hessian_shrinkage_validates_its_input(eigenvalues, weight_decay, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_hessian_shrinkage(eigenvalues, weight_decay)


def test_weight_decay_figures_render_without_warnings(tmp_path):
    """Every glyph (λ, ‖, subscripts) exists in the font: saving raises no warning (warnings are errors)."""
    figures = [
        weight_decay_plots.plot_constraint_geometry(HESSIAN, CENTER, 1.0, "l1"),
        weight_decay_plots.plot_weight_histograms(_snapshots()),
        weight_decay_plots.plot_sparsity_path(STRENGTHS, [0, 1, 2, 3, 4], 4, other={"L2 penalty": [0] * 5}),
        weight_decay_plots.plot_error_vs_strength(STRENGTHS, {"test": [5.0, 4.0, 3.0, 4.0, 5.0]}),
        weight_decay_plots.plot_pruning_curves([0.0, 0.5], {"λ = 0.001": [0.9, 0.8]}),
        weight_decay_plots.plot_hessian_shrinkage([0.1, 10.0], 1.0),
    ]
    for k, fig in enumerate(figures):
        fig.savefig(tmp_path / f"figure{k}.png")
        assert (tmp_path / f"figure{k}.png").stat().st_size > 0


def test_error_vs_strength_names_the_strength_as_asked():
    fig = weight_decay_plots.plot_error_vs_strength(
        [0.01, 0.1, 1.0], {"train": [0.1, 0.2, 0.3], "test": [0.5, 0.3, 0.4]}, strength_name="α"
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "penalty strength α"
    assert "lowest test error at α = 0.1" in [line.get_label() for line in ax.get_lines()]
    plt.close(fig)
    with pytest.raises(ValueError, match="strength_name"):
        weight_decay_plots.plot_error_vs_strength([0.01, 0.1], {"test": [0.5, 0.3]}, strength_name="")


def test_sparsity_path_names_the_strength_as_asked():
    fig = weight_decay_plots.plot_sparsity_path([0.01, 0.1, 1.0], [1, 2, 3], 3, strength_name="α")
    assert fig.axes[0].get_xlabel() == "penalty strength α"
    plt.close(fig)
    with pytest.raises(ValueError, match="strength_name"):
        weight_decay_plots.plot_sparsity_path([0.01, 0.1], [1, 2], 3, strength_name=None)


# --- seeds: spread bands and the configuration comparison -----------------------------------


def test_error_vs_strength_draws_the_seed_spread_as_a_band_and_fits_the_y_range_to_it():
    means = np.array([3.0, 2.0, 1.0, 2.0, 3.0])
    spread = np.array([0.1, 0.2, 0.1, 0.3, 0.4])
    fig = weight_decay_plots.plot_error_vs_strength(
        STRENGTHS, {"test": means, "closed form": [2.5, 2.5, 2.5, 2.5, 2.5]}, spreads={"test": spread})
    ax = fig.axes[0]
    (band,) = _by_gid(ax, "spread-band")
    vertices = band.get_paths()[0].vertices
    assert np.isclose(vertices[:, 1].max(), 3.4) and np.isclose(vertices[:, 1].min(), 0.9)
    low, high = ax.get_ylim()
    assert 0.7 < low < 0.9 and 3.4 < high < 3.6  # fitted to the band, with a small margin
    assert "test: ± spread over seeds" in ax.get_legend_handles_labels()[1]
    np.testing.assert_array_equal(_one_point(ax, "best-point"), [STRENGTHS[2], 1.0])
    assert not _by_gid(weight_decay_plots.plot_error_vs_strength(STRENGTHS, {"test": means}).axes[0], "spread-band")


@pytest.mark.parametrize(
    ("spreads", "kwargs", "message"),
    [
        ({"val": [0.1] * 5}, {}, r"spreads must use labels of errors \['test'\], got 'val'"),
        ({"test": [0.1] * 4}, {}, r"spreads\['test'\] must have 5 values"),
        ({"test": [0.1, -0.1, 0.1, 0.1, 0.1]}, {}, r"spreads\['test'\] must be half-widths >= 0"),
        ({"test": [2.0] * 5}, {"log_y": True}, "must leave errors - spread positive with log_y"),
        ({}, {}, "spreads must map at least one label"),
    ],
)
def test_error_vs_strength_validates_the_spreads(spreads, kwargs, message):
    with pytest.raises(ValueError, match=message):
        weight_decay_plots.plot_error_vs_strength(STRENGTHS, {"test": [3.0, 2.0, 1.0, 2.0, 3.0]}, spreads=spreads,
                                                  **kwargs)


def test_seed_figures_render_without_warnings(tmp_path):
    figures = [
        weight_decay_plots.plot_error_vs_strength(STRENGTHS, {"test": [3.0, 2.0, 1.0, 2.0, 3.0]},
                                                  spreads={"test": [0.1] * 5}, strength_name="λ"),
    ]
    for k, fig in enumerate(figures):
        fig.savefig(tmp_path / f"seeds{k}.png")
        assert (tmp_path / f"seeds{k}.png").stat().st_size > 0


def test_pruning_curves_draw_the_mean_and_a_min_max_band_for_several_runs():
    runs = {"a": [[1.0, 0.8, 0.4], [0.9, 0.7, 0.2]], "b": [1.0, 0.9, 0.8]}
    fig = weight_decay_plots.plot_pruning_curves([0.0, 0.5, 0.9], runs)
    ax = fig.axes[0]
    lines = _by_gid(ax, "pruning-curve")
    assert np.allclose(lines[0].get_ydata(), [0.95, 0.75, 0.3]) and np.allclose(lines[1].get_ydata(), [1.0, 0.9, 0.8])
    bands = [c for c in ax.collections if c.get_gid() == "pruning-band"]
    assert len(bands) == 1  # only the model with several runs has a band
    assert "mean of 2" in lines[0].get_label()
    with pytest.raises(ValueError, match="3 values"):
        weight_decay_plots.plot_pruning_curves([0.0, 0.5, 0.9], {"a": [[1.0, 0.5], [1.0, 0.4]]})
    plt.close(fig)

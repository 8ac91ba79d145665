"""Tests for course_lib.plots.mc_dropout: each figure draws what it is given, with fixed size, labels and titles."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.figure import Figure

from course_lib.plots import mc_dropout as mc_plots

X_TRAIN = np.array([-2.5, -2.0, -1.5, 1.5, 2.0, 2.5])
Y_TRAIN = np.array([0.2, -0.1, 0.4, 0.9, 0.3, -0.2])
X_GRID = np.linspace(-4.0, 4.0, 41)
MEAN = 0.1 * X_GRID
STD = 0.05 + 0.1 * np.abs(X_GRID)
TRUTH = np.sin(X_GRID)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _by_gid(artists, gid: str) -> list:
    return [artist for artist in artists if artist.get_gid() == gid]


def _band_ax(**kwargs):
    fig = Figure()
    ax = fig.add_subplot()
    arguments = {"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_grid": X_GRID, "mean": MEAN, "std": STD, **kwargs}
    return mc_plots.draw_predictive_band(ax, **arguments)


def _band_edges(ax) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edge of the band, read off its polygon at the grid points."""
    (band,) = _by_gid(ax.collections, "band")
    vertices = band.get_paths()[0].vertices
    lower, upper = [], []
    for x in X_GRID:
        ys = vertices[np.isclose(vertices[:, 0], x), 1]
        lower.append(ys.min())
        upper.append(ys.max())
    return np.array(lower), np.array(upper)


# --- one predictive band -----------------------------------------------------------------------


def test_band_draws_mean_band_truth_data_and_gap():
    ax = _band_ax(truth=TRUTH, title="one band")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "y", "one band")
    assert ax.get_xlim() == (-4.0, 4.0)
    (mean,) = _by_gid(ax.get_lines(), "mean")
    np.testing.assert_allclose(mean.get_xdata(), X_GRID)
    np.testing.assert_allclose(mean.get_ydata(), MEAN)
    lower, upper = _band_edges(ax)
    np.testing.assert_allclose(lower, MEAN - 2 * STD)
    np.testing.assert_allclose(upper, MEAN + 2 * STD)
    (truth,) = _by_gid(ax.get_lines(), "truth")
    assert truth.get_linestyle() == "--"
    np.testing.assert_allclose(truth.get_ydata(), TRUTH)
    (points,) = _by_gid(ax.collections, "training-data")
    np.testing.assert_allclose(points.get_offsets(), np.column_stack([X_TRAIN, Y_TRAIN]))
    (gap,) = _by_gid(ax.patches, "gap")  # a Rectangle from x = -1 to 1 (data), over the whole height (axes)
    assert (gap.get_x(), gap.get_x() + gap.get_width(), gap.get_y(), gap.get_height()) == (-1.0, 1.0, 0.0, 1.0)
    (label,) = _by_gid(ax.texts, "gap-label")
    assert label.get_text() == "no training data" and label.get_position()[0] == 0.0
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["mean ± 2σ", "predictive mean", "noiseless truth", "training data"]


def test_band_y_range_is_fitted_to_band_and_data():
    ax = _band_ax()
    low, high = ax.get_ylim()
    assert low < min((MEAN - 2 * STD).min(), Y_TRAIN.min()) and high > max((MEAN + 2 * STD).max(), Y_TRAIN.max())
    span = max((MEAN + 2 * STD).max(), Y_TRAIN.max()) - min((MEAN - 2 * STD).min(), Y_TRAIN.min())
    assert high - low < 1.2 * span  # fitted, not matplotlib's round-number margins


def test_band_half_width_follows_n_std_and_optional_parts_can_be_left_out():
    ax = _band_ax(n_std=1.0, gap=None, legend=False)
    lower, upper = _band_edges(ax)
    np.testing.assert_allclose(upper - lower, 2 * STD)
    assert ax.get_legend() is None
    assert not _by_gid(ax.patches, "gap") and not _by_gid(ax.texts, "gap-label")
    assert not _by_gid(ax.get_lines(), "truth")
    assert _by_gid(ax.collections, "band")[0].get_label() == "mean ± 1σ"


def test_band_accepts_column_tensors_as_a_regression_network_returns_them():
    column = {name: torch.as_tensor(values[:, None], dtype=torch.float32)
              for name, values in (("x_train", X_TRAIN), ("y_train", Y_TRAIN), ("x_grid", X_GRID),
                                   ("mean", MEAN), ("std", STD))}
    ax = _band_ax(**column)
    (mean,) = _by_gid(ax.get_lines(), "mean")
    np.testing.assert_allclose(mean.get_ydata(), MEAN, rtol=1e-6, atol=1e-7)
    assert _by_gid(ax.collections, "training-data")[0].get_offsets().shape == (len(X_TRAIN), 2)


def test_band_picture_changes_with_the_std():
    first, second = Figure(), Figure()
    mc_plots.draw_predictive_band(first.add_subplot(), X_TRAIN, Y_TRAIN, X_GRID, MEAN, STD)
    mc_plots.draw_predictive_band(second.add_subplot(), X_TRAIN, Y_TRAIN, X_GRID, MEAN, 2 * STD)
    assert _png(first) != _png(second)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"std": STD[:-1]}, ValueError, r"std must have 41 values \(one per entry of x_grid\), got 40"),
        ({"mean": np.ones((41, 2))}, ValueError, r"mean must be a non-empty 1-D array .*got shape \(41, 2\)"),
        ({"y_train": Y_TRAIN[:3]}, ValueError, "y_train must have 6 values"),
        ({"std": -STD}, ValueError, r"std must be >= 0"),
        ({"x_grid": X_GRID[::-1]}, ValueError, "x_grid must be strictly increasing"),
        ({"mean": np.where(X_GRID > 0, np.nan, MEAN)}, ValueError, "mean must hold finite numbers, got nan at index 21"),
        ({"truth": TRUTH[:5]}, ValueError, "truth must have 41 values"),
        ({"gap": (1.0, -1.0)}, ValueError, r"gap must be None or \(low, high\)"),
        ({"n_std": 0.0}, ValueError, "n_std must be a finite number > 0"),
        ({"n_std": "2"}, TypeError, "n_std must be a real number"),
        ({"x_train": X_TRAIN > 0}, TypeError, "x_train must hold real numbers"),
        ({"mean": None}, TypeError, "mean must be an array"),
        ({"x_train": np.array([])}, ValueError, "x_train must be a non-empty 1-D array"),
    ],
)
def test_band_validates_its_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        _band_ax(**kwargs)


def test_band_needs_an_axes():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        mc_plots.draw_predictive_band(None, X_TRAIN, Y_TRAIN, X_GRID, MEAN, STD)


# --- bands side by side ------------------------------------------------------------------------


def test_bands_one_panel_per_entry_with_one_shared_fitted_y_range():
    panels = {"p = 0.1": (MEAN, STD), "p = 0.5": (MEAN + 1.0, 3 * STD)}
    fig = mc_plots.plot_predictive_bands(X_TRAIN, Y_TRAIN, X_GRID, panels, truth=TRUTH, suptitle="bands")
    assert fig.get_suptitle() == "bands"
    width, height = mc_plots.PREDICTIVE_BANDS_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * width, height + mc_plots.GRID_LEGEND_HEIGHT))
    assert [ax.get_title() for ax in fig.axes] == ["p = 0.1", "p = 0.5"]
    limits = {ax.get_ylim() for ax in fig.axes}
    assert len(limits) == 1
    (low, high), = limits
    lowest = min((mean - 2 * std).min() for mean, std in panels.values())
    highest = max((mean + 2 * std).max() for mean, std in panels.values())
    assert lowest < (MEAN - 2 * STD).min()  # the second band reaches lower than the first ...
    assert low < lowest and high > highest  # ... and every band fits
    assert high - low < 1.2 * (highest - lowest)
    for ax, (mean, std) in zip(fig.axes, panels.values()):
        np.testing.assert_allclose(_by_gid(ax.get_lines(), "mean")[0].get_ydata(), mean)
        assert ax.get_legend() is None and (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    (legend,) = fig.legends
    assert "predictive mean" in [text.get_text() for text in legend.get_texts()]


def test_bands_wrap_after_four_panels():
    panels = {f"p = {p}": (MEAN, (1 + p) * STD) for p in (0.05, 0.1, 0.2, 0.3, 0.5)}
    fig = mc_plots.plot_predictive_bands(X_TRAIN, Y_TRAIN, X_GRID, panels)
    assert len(fig.axes) == 5
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    columns = [ax.get_subplotspec().colspan.start for ax in fig.axes]
    assert rows == [0, 0, 0, 0, 1] and columns == [0, 1, 2, 3, 0]
    width, height = mc_plots.PREDICTIVE_BANDS_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx((4 * width, 2 * height + mc_plots.GRID_LEGEND_HEIGHT))


@pytest.mark.parametrize(
    ("panels", "error", "message"),
    [
        ({}, ValueError, "panels must map at least one label"),
        ([(MEAN, STD)], TypeError, "panels must be a mapping"),
        ({"a": (MEAN,)}, ValueError, r"panels\['a'\] must be a pair \(mean, std\)"),
        ({"a": (MEAN, STD), "b": (MEAN, STD[:3])}, ValueError, r"panels\['b'\] std must have 41 values"),
        ({"": (MEAN, STD)}, ValueError, "panels labels must be non-empty strings"),
    ],
)
def test_bands_validate_the_panels(panels, error, message):
    with pytest.raises(error, match=message):
        mc_plots.plot_predictive_bands(X_TRAIN, Y_TRAIN, X_GRID, panels)


# --- uncertainty maps ------------------------------------------------------------------------------

GRID_X = np.linspace(-2.0, 3.0, 11)
GRID_Y = np.linspace(-1.0, 1.5, 6)
MESH_X, MESH_Y = np.meshgrid(GRID_X, GRID_Y)
MAPS = {"predictive entropy": np.exp(-MESH_X**2) * 0.69, "mutual information": 0.1 * np.abs(MESH_Y)}
POINTS = np.array([[-1.0, 0.0], [-0.5, 0.5], [1.0, -0.5], [2.0, 1.0], [1.5, 0.2]])
CLASSES = np.array([0, 0, 1, 1, 1])


def test_maps_have_a_panel_and_a_nats_colour_bar_per_score_and_the_points_by_class():
    fig = mc_plots.plot_uncertainty_maps(GRID_X, GRID_Y, MAPS, POINTS, CLASSES, suptitle="maps")
    assert fig.get_suptitle() == "maps"
    panels = [ax for ax in fig.axes if _by_gid(ax.collections, "class-0")]
    assert [ax.get_title() for ax in panels] == list(MAPS)
    for ax, (label, values) in zip(panels, MAPS.items()):
        (mesh,) = _by_gid(ax.collections, f"map-{label}")
        assert isinstance(mesh, QuadMesh)
        np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(values.shape), values)
        assert mesh.get_clim() == pytest.approx((0.0, values.max()))
        assert mesh.colorbar is not None and mesh.colorbar.ax.get_ylabel() == "nats"
        for k in (0, 1):
            (points,) = _by_gid(ax.collections, f"class-{k}")
            assert isinstance(points, PathCollection)
            np.testing.assert_allclose(points.get_offsets(), POINTS[CLASSES == k])
        assert [text.get_text() for text in ax.get_legend().get_texts()] == ["class 0", "class 1"]
        assert ax.get_aspect() == 1.0
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x₁", "x₂")
    assert len(fig.axes) == 4  # two maps, two colour bars


def test_maps_accept_meshgrid_arrays_tensors_and_class_names():
    fig = mc_plots.plot_uncertainty_maps(MESH_X, MESH_Y, {"entropy": MAPS["predictive entropy"]},
                                         torch.as_tensor(POINTS, dtype=torch.float32), torch.as_tensor(CLASSES),
                                         class_names=("left moon", "right moon"))
    (ax,) = [ax for ax in fig.axes if ax.get_title() == "entropy"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["left moon", "right moon"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"maps": {"entropy": MAPS["predictive entropy"].T}}, ValueError, r"must have the grid's shape \(6, 11\)"),
        ({"maps": {"entropy": -MAPS["predictive entropy"]}}, ValueError, "must be >= 0"),
        ({"maps": {}}, ValueError, "maps must map at least one label"),
        ({"y": np.array([0, 1, 2, 1, 0])}, ValueError, "y must hold the classes 0 and 1 only, got 2 at index 2"),
        ({"y": CLASSES.astype(float)}, TypeError, "y must hold integer classes"),
        ({"y": CLASSES[:3]}, ValueError, r"y must have shape \(5,\)"),
        ({"X": POINTS[:, :1]}, ValueError, r"X must have shape \(N, 2\)"),
        ({"grid_x": GRID_X[::-1]}, ValueError, "grid_x must be strictly increasing"),
        ({"grid_y": MESH_Y}, ValueError, "grid_x and grid_y must both be"),
        ({"class_names": "ab"}, ValueError, "class_names must be two strings"),
    ],
)
def test_maps_validate_their_input(kwargs, error, message):
    arguments = {"grid_x": GRID_X, "grid_y": GRID_Y, "maps": MAPS, "X": POINTS, "y": CLASSES, **kwargs}
    with pytest.raises(error, match=message):
        mc_plots.plot_uncertainty_maps(**arguments)


# --- score histograms ------------------------------------------------------------------------

_RNG = np.random.default_rng(0)
SCORES = {
    "predictive entropy": {"test (in distribution)": _RNG.uniform(0.0, 0.3, 200),
                           "shuffled signals": _RNG.uniform(0.2, 0.8, 100), "noise": _RNG.uniform(0.5, 1.0, 100)},
    "mutual information": {"test (in distribution)": _RNG.uniform(0.0, 0.05, 200),
                           "shuffled signals": _RNG.uniform(0.0, 0.2, 100), "noise": _RNG.uniform(0.1, 0.3, 100)},
}
AUROCS = {"predictive entropy": {"shuffled signals": 0.9123, "noise": 0.9987},
          "mutual information": {"shuffled signals": 0.7512, "noise": 0.99}}


def _step_outlines(ax) -> dict[str, np.ndarray]:
    return {patch.get_gid()[len("hist-"):]: patch.get_xy() for patch in ax.patches
            if (patch.get_gid() or "").startswith("hist-")}


def test_histograms_one_panel_per_score_shared_bins_densities_and_aurocs_in_the_legend():
    fig = mc_plots.plot_score_histograms(SCORES, aurocs=AUROCS, bins=20)
    assert [ax.get_title() for ax in fig.axes] == list(SCORES)
    width, height = mc_plots.SCORE_HISTOGRAM_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * width, height))
    for ax, (name, sets) in zip(fig.axes, SCORES.items()):
        assert ax.get_ylabel() == "density" and ax.get_xlabel() == f"{name} (nats)"
        outlines = _step_outlines(ax)
        assert list(outlines) == list(sets)
        everything = np.concatenate(list(sets.values()))
        edges = np.linspace(everything.min(), everything.max(), 21)
        for set_name, outline in outlines.items():
            xs = np.unique(outline[:, 0])
            np.testing.assert_allclose(xs, edges)  # every set on the panel's shared bins
            heights = np.histogram(sets[set_name], bins=edges, density=True)[0]
            np.testing.assert_allclose(np.sum(heights * np.diff(edges)), 1.0)
            assert outline[:, 1].max() == pytest.approx(heights.max())  # drawn as a density
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        expected = f"{AUROCS[name]['shuffled signals']:.3f}"
        assert labels == ["test (in distribution)", f"shuffled signals (AUROC {expected})",
                          f"noise (AUROC {AUROCS[name]['noise']:.3f})"]
        assert ax.get_legend().get_title().get_text() == "AUROC against test (in distribution)"


def test_histograms_without_aurocs_name_the_sets_only():
    fig = mc_plots.plot_score_histograms({"entropy": SCORES["predictive entropy"]}, unit="")
    (ax,) = fig.axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(SCORES["predictive entropy"])
    assert ax.get_xlabel() == "entropy" and ax.get_legend().get_title().get_text() == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scores": {}}, ValueError, "scores must map at least one label"),
        ({"scores": {"entropy": {}}}, ValueError, r"scores\['entropy'\] must map at least one label"),
        ({"scores": {"entropy": {"test": np.ones((3, 2))}}}, ValueError, r"scores\['entropy'\]\['test'\] must be"),
        ({"aurocs": {"entropy": {"noise": 0.9}}}, ValueError, r"aurocs has scores that are not in scores: \['entropy'\]"),
        ({"aurocs": {"predictive entropy": {"test (in distribution)": 0.5}}}, ValueError,
         "must name out-of-distribution sets"),
        ({"aurocs": {"predictive entropy": {"noise": 1.2}}}, ValueError, r"must be a number in \[0, 1\], got 1.2"),
        ({"bins": 0}, ValueError, "bins must be an int >= 1"),
    ],
)
def test_histograms_validate_their_input(kwargs, error, message):
    arguments = {"scores": SCORES, **kwargs}
    with pytest.raises(error, match=message):
        mc_plots.plot_score_histograms(**arguments)


# --- referral curves -----------------------------------------------------------------------------

FRACTIONS = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
CURVES = {
    "predictive entropy": np.array([[0.62, 0.66, 0.70, 0.74, 0.78], [0.64, 0.67, 0.71, 0.76, 0.80]]),
    "random order": np.array([0.63, 0.63, 0.62, 0.64, 0.63]),
}


def test_referral_curves_draw_the_mean_a_band_for_several_seeds_and_fit_the_y_range():
    fig = mc_plots.plot_referral_curves(FRACTIONS, CURVES, title="referral")
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == mc_plots.REFERRAL_CURVES_FIGSIZE
    assert ax.get_title() == "referral" and ax.get_ylabel() == "accuracy on the kept inputs"
    assert ax.get_xlabel().startswith("fraction of inputs referred")
    (entropy,) = _by_gid(ax.get_lines(), "referral-predictive entropy")
    np.testing.assert_allclose(entropy.get_ydata(), CURVES["predictive entropy"].mean(axis=0))
    np.testing.assert_allclose(entropy.get_xdata(), FRACTIONS)
    assert entropy.get_label() == "predictive entropy (mean of 2 seeds, min–max band)"
    (band,) = _by_gid(ax.collections, "referral-band-predictive entropy")
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.62) and ys.max() == pytest.approx(0.80)
    assert not _by_gid(ax.collections, "referral-band-random order")  # one seed: no band
    low, high = ax.get_ylim()
    assert 0.55 < low < 0.62 and 0.80 < high < 0.85  # fitted: a 0-1 axis would flatten the effect


def test_referral_curves_draw_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert mc_plots.plot_referral_curves(FRACTIONS, CURVES, ax=ax) is fig
    assert not plt.get_fignums()


@pytest.mark.parametrize(
    ("fractions", "curves", "message"),
    [
        (FRACTIONS, {"a": np.ones((2, 4))}, r"curves\['a'\] must have shape \(seeds, 5\)"),
        (FRACTIONS, {"a": np.full(5, 1.5)}, r"curves\['a'\] must hold accuracies in \[0, 1\]"),
        (FRACTIONS, {}, "curves must map at least one label"),
        (np.array([0.0, 0.5, 1.0, 1.1, 1.2]), CURVES, r"referral_fractions must lie in \[0, 1\)"),
        (FRACTIONS[::-1], CURVES, "referral_fractions must be strictly increasing"),
    ],
)
def test_referral_curves_validate_their_input(fractions, curves, message):
    with pytest.raises(ValueError, match=message):
        mc_plots.plot_referral_curves(fractions, curves)


# --- standard error against M -------------------------------------------------------------------

PASSES = np.array([10, 30, 100, 300, 1000])
MEASURED = 0.3 / np.sqrt(PASSES) * np.array([1.05, 0.97, 1.02, 0.99, 1.01])


def test_standard_error_is_log_log_with_the_measured_points_and_the_sigma_over_root_m_line():
    fig = mc_plots.plot_standard_error(PASSES, MEASURED, predicted=0.3)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == mc_plots.STANDARD_ERROR_FIGSIZE
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("number of passes M", "standard error of the MC estimate")
    (measured,) = _by_gid(ax.get_lines(), "measured")
    np.testing.assert_allclose(measured.get_xdata(), PASSES)
    np.testing.assert_allclose(measured.get_ydata(), MEASURED)
    (predicted,) = _by_gid(ax.get_lines(), "predicted")
    xs, ys = np.asarray(predicted.get_xdata()), np.asarray(predicted.get_ydata())
    assert xs[0] == 10 and xs[-1] == pytest.approx(1000)
    np.testing.assert_allclose(ys, 0.3 / np.sqrt(xs))  # slope -1/2
    assert predicted.get_label() == "σ/√M, σ = 0.3"


def test_standard_error_takes_a_predicted_array_or_none():
    ax = mc_plots.plot_standard_error(PASSES, MEASURED, predicted=0.3 / np.sqrt(PASSES)).axes[0]
    np.testing.assert_allclose(_by_gid(ax.get_lines(), "predicted")[0].get_ydata(), 0.3 / np.sqrt(PASSES))
    ax = mc_plots.plot_standard_error(PASSES, MEASURED).axes[0]
    assert not _by_gid(ax.get_lines(), "predicted")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measured": -MEASURED}, r"measured must be > 0 \(a log axis\)"),
        ({"measured": MEASURED[:3]}, r"measured must have 5 values \(one per entry of n_samples\)"),
        ({"n_samples": PASSES[::-1]}, "n_samples must be strictly increasing"),
        ({"n_samples": PASSES - 10}, r"n_samples must be > 0"),
        ({"predicted": -0.3}, "predicted must be a finite number > 0"),
        ({"predicted": np.zeros(5)}, r"predicted must be > 0"),
    ],
)
def test_standard_error_validates_its_input(kwargs, message):
    arguments = {"n_samples": PASSES, "measured": MEASURED, **kwargs}
    with pytest.raises(ValueError, match=message):
        mc_plots.plot_standard_error(**arguments)

"""Tests for course_lib.plots.dropout: each figure draws what it is given, with fixed size, labels and title."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from course_lib.plots import dropout as dropout_plots


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _assert_labelled(ax, xlabel: str, ylabel: str | None = None) -> None:
    assert ax.get_xlabel() == xlabel
    if ylabel is not None:
        assert ax.get_ylabel() == ylabel
    assert ax.get_title()


# --- the network drawing ---------------------------------------------------

SIZES = (3, 4, 2)
MASKS = (np.array([True, True, True]), np.array([True, False, False, True]), np.array([True, True]))


def test_network_figure_has_fixed_size_labels_and_title():
    fig = dropout_plots.plot_dropout_network(SIZES, MASKS, title="my network")
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == dropout_plots.NETWORK_FIGSIZE
    _assert_labelled(ax, "layer")
    assert ax.get_title() == "my network"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["input\n(3 units)", "hidden\n(4 units)", "output\n(2 units)"]


def _artists(fig: Figure, gid: str) -> list:
    return [c for c in fig.axes[0].collections if c.get_gid() == gid]


def test_network_figure_draws_active_and_silent_connections_from_the_masks():
    fig = dropout_plots.plot_dropout_network(SIZES, MASKS)
    (active,), (silent,) = _artists(fig, "active-connections"), _artists(fig, "silent-connections")
    assert isinstance(active, LineCollection)
    # input->hidden: 3*2 active of 12; hidden->output: 2*2 active of 8
    assert len(active.get_segments()) == 3 * 2 + 2 * 2
    assert len(silent.get_segments()) == (12 + 8) - 10


def test_network_figure_crosses_exactly_the_dropped_units():
    fig = dropout_plots.plot_dropout_network(SIZES, MASKS)
    crossed = np.concatenate([c.get_offsets() for c in _artists(fig, "dropped-crosses")])
    kept = np.concatenate([c.get_offsets() for c in _artists(fig, "kept-units")])
    assert len(kept) == sum(m.sum() for m in MASKS)
    # the two dropped hidden units sit in column 1, at heights 0.5 and -0.5 (the 2nd and 3rd of 4)
    np.testing.assert_allclose(sorted(map(tuple, crossed)), [(1.0, -0.5), (1.0, 0.5)])


def test_network_figure_changes_with_the_mask():
    all_kept = tuple(np.ones(n, dtype=bool) for n in SIZES)
    assert _png(dropout_plots.plot_dropout_network(SIZES, MASKS)) != _png(
        dropout_plots.plot_dropout_network(SIZES, all_kept)
    )


def test_network_figure_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert dropout_plots.plot_dropout_network(SIZES, MASKS, ax=ax) is fig
    assert not plt.get_fignums()  # no pyplot figure was opened


@pytest.mark.parametrize(
    ("sizes", "masks", "message"),
    [
        ((3,), (np.ones(3, bool),), "at least two"),
        (SIZES, MASKS[:2], "one keep mask per layer"),
        (SIZES, (np.ones(3), *MASKS[1:]), "boolean array"),
        (SIZES, (np.ones(2, bool), *MASKS[1:]), r"shape \(3,\)"),
    ],
)
def test_network_figure_validates_its_input(sizes, masks, message):
    with pytest.raises(ValueError, match=message):
        dropout_plots.plot_dropout_network(sizes, masks)


def test_network_figure_rejects_a_non_axes():
    with pytest.raises(TypeError, match="ax must be"):
        dropout_plots.plot_dropout_network(SIZES, MASKS, ax="left")


# --- the running mean ------------------------------------------------------


def test_running_mean_figure_plots_each_output_band_and_eval_line():
    n = 100
    running_mean = np.column_stack([np.linspace(0, 1, n), np.linspace(2, 1, n)])
    standard_error = np.full((n, 2), 0.1)
    standard_error[0] = np.nan
    fig = dropout_plots.plot_running_mean(running_mean, standard_error, np.array([1.0, 1.0]), output_labels=["a", "b"])
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == dropout_plots.RUNNING_MEAN_FIGSIZE
    _assert_labelled(ax, "number of training-mode passes N", "running mean of the output")
    assert ax.get_xscale() == "log"
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_label() for line in solid] == ["a", "b"]
    np.testing.assert_array_equal(solid[0].get_xdata(), np.arange(1, n + 1))
    assert [line.get_ydata()[0] for line in dashed] == [1.0, 1.0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    # the band spans mean ± 2 SE
    vertices = bands[0].get_paths()[0].vertices
    assert vertices[:, 1].max() == pytest.approx(1.0 + 0.2)
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "±2 standard errors" in legend_texts and "eval-mode output" in legend_texts


def test_running_mean_figure_accepts_a_single_output():
    fig = dropout_plots.plot_running_mean(np.ones(10), np.full(10, 0.1), 1.0)
    assert [line.get_label() for line in fig.axes[0].get_lines() if line.get_linestyle() == "-"] == ["output 0"]


def test_running_mean_figure_validates_shapes():
    with pytest.raises(ValueError, match="share a shape"):
        dropout_plots.plot_running_mean(np.ones((5, 2)), np.ones((5, 3)), np.ones(2))
    with pytest.raises(ValueError, match="output_labels"):
        dropout_plots.plot_running_mean(np.ones((5, 2)), np.ones((5, 2)), np.ones(2), output_labels=["only one"])


# --- the other figures -----------------------------------------------------


def test_ensemble_figure_has_one_labelled_panel_per_network():
    q = np.array([[0.2, 0.8], [0.6, 0.4]])
    fig = dropout_plots.plot_ensemble_vs_eval([q, q], [q, q + 0.05], [q + 0.1, q], ["one", "two"])
    assert len(fig.axes) == 2
    assert tuple(fig.get_size_inches()) == (
        2 * dropout_plots.ENSEMBLE_PANEL_FIGSIZE[0], dropout_plots.ENSEMBLE_PANEL_FIGSIZE[1]
    )
    for ax, title in zip(fig.axes, ["one", "two"]):
        _assert_labelled(ax, "eval-mode probability", "ensemble probability")
        assert ax.get_title() == title
    geometric = fig.axes[1].collections[0].get_offsets()
    np.testing.assert_allclose(geometric[:, 1] - geometric[:, 0], 0.05)
    assert fig.get_suptitle()


def test_ensemble_figure_validates_lengths():
    q = np.ones((2, 2)) / 2
    with pytest.raises(ValueError, match="same non-zero length"):
        dropout_plots.plot_ensemble_vs_eval([q], [q, q], [q], ["x"])


def test_shrinkage_figure_draws_one_bar_per_method_and_feature():
    ratios = {"ridge": np.array([0.2, 0.5, 0.9]), "dropout": np.full(3, 0.7)}
    fig = dropout_plots.plot_feature_shrinkage(["a", "b", "c"], ratios)
    ax = fig.axes[0]
    _assert_labelled(ax, "feature", "fitted weight / least-squares weight")
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == pytest.approx([0.2, 0.5, 0.9, 0.7, 0.7, 0.7])
    with pytest.raises(ValueError, match="shape"):
        dropout_plots.plot_feature_shrinkage(["a"], {"ridge": np.ones(2)})


def test_time_masks_figure_shows_each_mask():
    per_step = np.array([[True, False], [False, True], [True, True]])
    locked = np.repeat([[True, False]], 3, axis=0)
    fig = dropout_plots.plot_time_masks({"per step": per_step, "locked": locked})
    assert [ax.get_title() for ax in fig.axes] == ["per step", "locked"]
    for ax in fig.axes:
        _assert_labelled(ax, "hidden unit", "time step")
    np.testing.assert_array_equal(fig.axes[1].get_images()[0].get_array(), locked)
    # The legend says which colour is kept and which dropped, in the colours the images use.
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["kept", "dropped"]
    image = fig.axes[0].get_images()[0]
    kept_patch, dropped_patch = legend.get_patches()
    np.testing.assert_allclose(kept_patch.get_facecolor(), image.cmap(image.norm(1)))
    np.testing.assert_allclose(dropped_patch.get_facecolor(), image.cmap(image.norm(0)))
    assert kept_patch.get_facecolor()[0] < 0.6 < dropped_patch.get_facecolor()[0]  # kept dark, dropped light
    with pytest.raises(ValueError, match="boolean"):
        dropout_plots.plot_time_masks({"bad": np.ones((2, 2))})


# --- the printed tables ---------------------------------------------------------------------


def test_mode_means_table_lines_up_one_row_per_form():
    text = dropout_plots.mode_means_table({"inverted": (np.array([2.0, -1.0]), np.array([2.0, -1.0])),
                                           "original form": (np.array([1.004, -0.5]), np.array([1.0, -0.5]))})
    header, first, second = text.splitlines()
    assert "training mean" in header and "evaluation" in header
    assert first.startswith("inverted") and second.startswith("original form")
    assert "[ 1.  -0.5]" in second and len(first) == len(second) == len(header)
    with pytest.raises(ValueError, match="rows"):
        dropout_plots.mode_means_table({"bad": (np.zeros(2), np.zeros(3))})
    with pytest.raises(ValueError, match="rows"):
        dropout_plots.mode_means_table({})


def test_ensemble_table_reports_the_largest_gaps():
    from course_lib.dropout import dropout_ensemble

    gen = np.random.default_rng(0)
    layers = [(gen.normal(size=(3, 4)), gen.normal(size=3))]
    deep = [(gen.normal(size=(4, 4)), gen.normal(size=4)), (gen.normal(size=(3, 4)), gen.normal(size=3))]
    x = gen.normal(size=(5, 4))
    ensembles = {"linear": dropout_ensemble(x, layers, 0.5), "deep": dropout_ensemble(x, deep, 0.5, dropout_on=(0,))}
    header, linear, deep_row = dropout_plots.ensemble_table(ensembles).splitlines()
    assert "sub-networks" in header and "max |G - eval|" in header
    assert linear.split()[1] == "16" and "< 1e-12" in linear  # exact for one softmax layer
    e = ensembles["deep"]
    assert deep_row.split()[-2] == f"{np.abs(e.geometric_mean - e.eval_output).max():.4f}"
    assert deep_row.split()[-1] == f"{np.abs(e.arithmetic_mean - e.eval_output).max():.4f}"
    with pytest.raises(ValueError, match="ensembles"):
        dropout_plots.ensemble_table({})


def test_shrinkage_table_has_the_numbers_of_the_figure():
    text = dropout_plots.shrinkage_table(["scale 0.5", "scale 2"], {"ridge": np.array([0.25, 0.9221]),
                                                                   "dropout": np.array([0.7, 0.7])})
    header, ridge, dropout = text.splitlines()
    assert header.split()[-1] == "2" and "scale 0.5" in header
    assert ridge.split()[1:] == ["0.250", "0.922"] and dropout.split()[1:] == ["0.700", "0.700"]
    with pytest.raises(ValueError, match="shape"):
        dropout_plots.shrinkage_table(["a"], {"ridge": np.zeros(2)})

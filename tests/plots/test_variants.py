"""Tests for course_lib.plots.variants: each figure draws what it is given, with fixed size, labels and titles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from course_lib.plots import BEST_EPOCH_COLOR, CROSS_COLOR
from course_lib.plots import variants as vp
from course_lib.plots.variants import MaskPanel
from course_lib.variants import (
    drop_block1d,
    drop_block2d,
    drop_path,
    drop_path_rates,
    gaussian_dropout,
    locked_dropout,
    spatial_dropout,
)


def _ax():
    return Figure().add_subplot()


def _by_gid(artists, gid: str) -> list:
    return [artist for artist in artists if artist.get_gid() == gid]


def _legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _panels(fig: Figure) -> list:
    """The gallery's image axes (not the colour bar's)."""
    return [ax for ax in fig.axes if ax.images]


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the mask gallery ----------------------------------------------------------------------------


def _chapter_panels() -> dict[str, MaskPanel]:
    """The chapter's gallery, drawn by the real implementations."""
    g = _generator()
    ones = torch.ones(1, 8, 32)
    return {
        "spatial dropout": MaskPanel(spatial_dropout(ones, 0.25, generator=g)[0], "position", "channel"),
        "DropBlock-1D": MaskPanel(drop_block1d(ones, 0.2, 5, generator=g)[0], "position", "channel"),
        "DropBlock-2D": MaskPanel(drop_block2d(torch.ones(1, 1, 24, 24), 0.2, 5, generator=g)[0, 0], "column", "row"),
        "DropPath": MaskPanel(drop_path(torch.ones(8, 16), 0.25, generator=g), "feature", "example"),
        "locked dropout": MaskPanel(locked_dropout(torch.ones(12, 1, 16), 0.25, generator=g)[:, 0], "feature",
                                    "time step"),
        "Gaussian dropout": MaskPanel(gaussian_dropout(torch.ones(8, 32), 0.2, generator=g), "position", "channel"),
    }


def test_gallery_draws_each_mask_as_it_is_with_its_dropped_fraction_in_the_subtitle():
    panels = _chapter_panels()
    fig = vp.plot_mask_gallery(panels, suptitle="the variants")
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == vp.mask_gallery_figsize(6, 3) == (7.2, 5.5)
    assert fig.get_suptitle() == "the variants"
    axes = _panels(fig)
    assert len(axes) == 6
    for ax, (title, panel) in zip(axes, panels.items()):
        mask = panel.mask.numpy().astype(np.float64)
        (image,) = ax.images
        np.testing.assert_array_equal(np.asarray(image.get_array()), mask)
        first, second = ax.get_title().split("\n")
        assert first == title
        assert second.startswith(f"dropped {100 * np.mean(mask == 0):.1f}%")
        assert (ax.get_xlabel(), ax.get_ylabel()) == (panel.xlabel, panel.ylabel)
    # The structures the chapter points at: whole rows, contiguous runs, whole examples, constant columns.
    spatial, _, _, path, locked, _ = (panel.mask.numpy() for panel in panels.values())
    assert all(len(set(row)) == 1 for row in spatial) and all(len(set(row)) == 1 for row in path)
    assert all(len(set(column)) == 1 for column in locked.T)


def test_gallery_colours_two_valued_masks_dropped_and_kept_and_names_them_in_a_legend():
    mask = np.array([[0.0, 1.25, 1.25, 1.25], [1.25, 0.0, 1.25, 1.25]])
    fig = vp.plot_mask_gallery({"dropout": MaskPanel(mask, "position", "channel")}, fig=Figure(layout="constrained"))
    (ax,) = fig.axes  # no colour bar for a two-valued mask
    (image,) = ax.images
    assert image.cmap(image.norm(0.0)) == to_rgba(vp.DROPPED_COLOR) == to_rgba(CROSS_COLOR)
    assert image.cmap(image.norm(1.25)) == to_rgba(vp.KEPT_COLOR)
    assert ax.get_title() == "dropout\ndropped 25.0%, kept ×1.25"
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == ["kept (× the kept scale)", "dropped (× 0)"]
    colours = [patch.get_facecolor() for patch in legend.get_patches()]
    assert colours == [to_rgba(vp.KEPT_COLOR), to_rgba(vp.DROPPED_COLOR)]


def test_gallery_draws_gaussian_multipliers_by_value_with_a_colour_bar():
    noise = gaussian_dropout(torch.ones(6, 10, dtype=torch.float64), 0.3, generator=_generator(1)).numpy()
    dropout = np.array([[0.0, 2.0], [2.0, 2.0]])
    fig = vp.plot_mask_gallery({"Gaussian": MaskPanel(noise), "dropout": MaskPanel(dropout)}, ncols=2)
    gaussian_ax, dropout_ax = _panels(fig)
    colorbars = [ax for ax in fig.axes if ax.get_gid() == "colorbar"]
    assert len(colorbars) == 1 and colorbars[0].get_xlabel() == "multiplier (0 = dropped)"
    (image,) = gaussian_ax.images
    assert image.norm.vmin == min(0.0, noise.min()) and image.norm.vmax == noise.max()
    assert image.get_cmap().name == vp.SCALE_CMAP
    assert gaussian_ax.get_title() == f"Gaussian\ndropped 0.0%, range {noise.min():.2f} to {noise.max():.2f}"
    assert dropout_ax.images[0].get_cmap().name == "dropped-kept"  # the two-valued mask keeps its two colours
    assert (gaussian_ax.get_xlabel(), gaussian_ax.get_ylabel()) == ("column", "row")  # MaskPanel's defaults
    assert len(fig.legends) == 1


def test_gallery_with_show_scale_draws_every_mask_by_value_ticked_at_zero_and_the_kept_scales():
    masks = {"a": np.array([[0.0, 2.0], [2.0, 2.0]]), "b": np.array([[1.25, 0.0], [1.25, 1.25]])}
    fig = vp.plot_mask_gallery({title: MaskPanel(mask) for title, mask in masks.items()}, show_scale=True)
    axes = _panels(fig)
    assert all(ax.images[0].get_cmap().name == vp.SCALE_CMAP for ax in axes)
    assert [ax.images[0].norm.vmax for ax in axes] == [2.0, 2.0]  # one shared scale
    (colorbar,) = [ax for ax in fig.axes if ax.get_gid() == "colorbar"]
    assert [tick.get_text() for tick in colorbar.get_xticklabels()] == ["0", "1.25", "2"]
    assert [ax.get_title() for ax in axes] == ["a\ndropped 25.0%, kept ×2", "b\ndropped 25.0%, kept ×1.25"]
    assert not fig.legends  # nothing is drawn in the two colours


def test_gallery_lays_out_rows_of_ncols_and_removes_the_empty_cells():
    panels = {f"mask {k}": MaskPanel(np.eye(3) * 2.0) for k in range(5)}
    fig = vp.plot_mask_gallery(panels, ncols=2)
    assert tuple(fig.get_size_inches()) == vp.mask_gallery_figsize(5, 2) == (4.8, 8.0)
    assert len(fig.axes) == 5  # the sixth cell of the 3 × 2 grid is gone
    positions = [ax.get_subplotspec().get_geometry() for ax in fig.axes]
    assert [geometry[:2] for geometry in positions] == [(3, 2)] * 5
    assert fig.axes[0].get_title() == "mask 0\ndropped 66.7%, kept ×2"


def test_gallery_of_a_mask_that_drops_everything_or_nothing():
    fig = vp.plot_mask_gallery({"all": MaskPanel(np.zeros((2, 3))), "none": MaskPanel(np.ones((2, 3)))})
    all_ax, none_ax = _panels(fig)
    assert all_ax.get_title() == "all\ndropped 100.0%, none kept"
    assert none_ax.get_title() == "none\ndropped 0.0%, kept ×1"
    assert all_ax.images[0].cmap(all_ax.images[0].norm(0.0)) == to_rgba(vp.DROPPED_COLOR)


def test_dropped_fraction_counts_the_exact_zeros():
    assert vp.dropped_fraction([[0.0, 2.0], [2.0, 2.0]]) == 0.25
    assert vp.dropped_fraction(torch.tensor([0.0, 0.0, 1e-30])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="mask must have at least one entry"):
        vp.dropped_fraction([])


@pytest.mark.parametrize(
    ("panels", "kwargs", "error", "message"),
    [
        ([MaskPanel(np.ones((2, 2)))], {}, TypeError, "panels must be a mapping of labels to data"),
        ({}, {}, ValueError, "panels must map at least one label"),
        ({"a": np.ones((2, 2))}, {}, TypeError, r"panels\['a'\] must be a MaskPanel\(mask, xlabel, ylabel\)"),
        ({"a": MaskPanel(np.ones(4))}, {}, ValueError, r"panels\['a'\].mask must be a non-empty 2-D array .* \(4,\)"),
        ({"a": MaskPanel(np.array([[1.0, np.nan]]))}, {}, ValueError,
         r"panels\['a'\].mask must hold finite numbers, got nan at index \(0, 1\)"),
        ({"a": MaskPanel(np.array([[True, False]]))}, {}, TypeError, r"panels\['a'\].mask"),
        ({"a": MaskPanel(np.ones((2, 2)), xlabel=3)}, {}, TypeError, r"panels\['a'\].xlabel must be a str, got int 3"),
        ({"a": MaskPanel(np.ones((2, 2)))}, {"ncols": 0}, ValueError, "ncols must be an int >= 1, got 0"),
        ({"a": MaskPanel(np.ones((2, 2)))}, {"show_scale": 1}, TypeError, "show_scale must be a bool, got int 1"),
        ({"a": MaskPanel(np.ones((2, 2)))}, {"fig": "figure"}, TypeError, "fig must be a matplotlib Figure or None"),
        ({"a": MaskPanel(np.ones((2, 2)))}, {"suptitle": None}, TypeError, "suptitle must be a str"),
    ],
)
def test_gallery_validates_its_input(panels, kwargs, error, message):
    with pytest.raises(error, match=message):
        vp.plot_mask_gallery(panels, **kwargs)


def test_gallery_draws_only_into_an_empty_figure():
    fig = Figure()
    fig.add_subplot()
    with pytest.raises(ValueError, match="fig must be an empty Figure to draw the gallery into, got one with 1 axes"):
        vp.plot_mask_gallery({"a": MaskPanel(np.ones((2, 2)))}, fig=fig)
    with pytest.raises(ValueError, match="n_panels must be an int >= 1"):
        vp.mask_gallery_figsize(0)


# --- DropBlock's realised fraction -----------------------------------------------------------------

P_VALUES = np.array([0.05, 0.1, 0.2, 0.3])
REALISED = {"2-D 32×32, block 7": np.array([0.048, 0.094, 0.18, 0.251]),
            "2-D 16×16, block 3": np.array([0.049, 0.095, 0.182, 0.259])}


def test_dropblock_rates_draws_one_line_per_setting_error_bars_and_the_diagonal():
    spread = {"2-D 32×32, block 7": np.array([0.001, 0.002, 0.003, 0.004])}
    fig = vp.plot_dropblock_rates(P_VALUES, REALISED, spread=spread, title="rates")
    assert plt.fignum_exists(fig.number) and tuple(fig.get_size_inches()) == vp.DROPBLOCK_RATES_FIGSIZE
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("requested drop rate $p$", "realised drop fraction",
                                                                  "rates")
    for label, values in REALISED.items():
        (line,) = _by_gid(ax.get_lines(), f"realised-{label}")
        np.testing.assert_allclose(line.get_xdata(), P_VALUES)
        np.testing.assert_allclose(line.get_ydata(), values)
        assert line.get_marker() == "o"
    (diagonal,) = _by_gid(ax.get_lines(), "diagonal")
    assert diagonal.get_linestyle() == "--" and to_rgba(diagonal.get_color()) == to_rgba(BEST_EPOCH_COLOR)
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())  # y = p
    assert diagonal.get_xdata()[0] == 0.0 and diagonal.get_xdata()[-1] == pytest.approx(0.3 * 1.05)
    (bars,) = _by_gid(ax.collections, "spread-2-D 32×32, block 7")
    segments = bars.get_segments()
    np.testing.assert_allclose([segment[:, 1] for segment in segments],
                               np.stack([REALISED["2-D 32×32, block 7"] - spread["2-D 32×32, block 7"],
                                         REALISED["2-D 32×32, block 7"] + spread["2-D 32×32, block 7"]], axis=1))
    assert not _by_gid(ax.collections, "spread-2-D 16×16, block 3")  # no spread given for it
    assert _legend_texts(ax) == [*REALISED, "asked for: y = p"]
    assert ax.get_xlim() == ax.get_ylim() == (0.0, pytest.approx(0.315))


def test_dropblock_rates_from_torch_tensors_into_a_given_axes():
    ax = _ax()
    fig = vp.plot_dropblock_rates(torch.tensor(P_VALUES), {"a": torch.tensor(REALISED["2-D 16×16, block 3"])}, ax=ax)
    assert fig is ax.figure and not plt.get_fignums()
    np.testing.assert_allclose(_by_gid(ax.get_lines(), "realised-a")[0].get_ydata(), REALISED["2-D 16×16, block 3"])


@pytest.mark.parametrize(
    ("p_values", "realised", "spread", "error", "message"),
    [
        ([0.1, 1.0], {"a": [0.1, 0.2]}, None, ValueError,
         r"p_values must hold fractions in \[0, 1\), got 1.0 at index 1"),
        ([0.1, 0.2], {"a": [0.1]}, None, ValueError, r"realised\['a'\] must have shape \(2,\) .* got \(1,\)"),
        ([0.1, 0.2], {"a": [0.1, 1.2]}, None, ValueError, r"realised\['a'\] must hold fractions in \[0, 1\], got 1.2"),
        ([0.1, 0.2], {"a": [0.1, 0.2]}, {"b": [0.0, 0.0]}, ValueError,
         "spread has a label that is not in realised: 'b'"),
        ([0.1, 0.2], {"a": [0.1, 0.2]}, {"a": [0.0, -0.1]}, ValueError,
         r"spread\['a'\] must hold non-negative half-lengths, got -0.1 at index 1"),
        ([0.1, 0.2], {"a": [0.1, 0.2]}, {"a": [0.0]}, ValueError, r"spread\['a'\] must have shape \(2,\)"),
        ([[0.1]], {"a": [0.1]}, None, ValueError, "p_values must be a non-empty 1-D array"),
        ([0.1, 0.2], [0.1, 0.2], None, TypeError, "realised must be a mapping"),
    ],
)
def test_dropblock_rates_validates_its_input(p_values, realised, spread, error, message):
    with pytest.raises(error, match=message):
        vp.plot_dropblock_rates(p_values, realised, spread=spread, ax=_ax())


# --- the stochastic-depth schedule -------------------------------------------------------------------


def test_drop_path_schedule_draws_one_bar_per_block_with_the_rate_heights_and_measured_markers():
    rates = drop_path_rates(12, 0.2)
    measured = np.array(rates) + 0.01
    fig = vp.plot_drop_path_schedule(rates, measured=measured, title="schedule")
    assert plt.fignum_exists(fig.number) and tuple(fig.get_size_inches()) == vp.DROP_PATH_SCHEDULE_FIGSIZE
    (ax,) = fig.axes
    bars = _by_gid(ax.patches, "rate")
    assert len(bars) == 12
    np.testing.assert_allclose([bar.get_height() for bar in bars], rates)
    np.testing.assert_allclose([bar.get_x() + bar.get_width() / 2 for bar in bars], np.arange(1, 13))
    assert [bar.get_height() for bar in bars] == sorted(bar.get_height() for bar in bars)  # linear in depth
    (markers,) = _by_gid(ax.get_lines(), "measured")
    np.testing.assert_allclose(markers.get_xdata(), np.arange(1, 13))
    np.testing.assert_allclose(markers.get_ydata(), measured)
    assert markers.get_linestyle() == "None"
    assert [tick.get_text() for tick in ax.get_xticklabels()] == [str(block) for block in range(1, 13)]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("residual block $l$", "drop probability", "schedule")
    assert _legend_texts(ax) == ["measured drop frequency", "scheduled drop rate $p_l$"]
    assert ax.get_ylim()[1] == pytest.approx(1.15 * measured.max())


def test_drop_path_schedule_without_measurements():
    ax = vp.plot_drop_path_schedule(torch.tensor([0.0, 0.1]), ax=_ax()).axes[0]
    assert not _by_gid(ax.get_lines(), "measured") and _legend_texts(ax) == ["scheduled drop rate $p_l$"]
    zero = vp.plot_drop_path_schedule([0.0, 0.0], ax=_ax()).axes[0]  # max_rate = 0: an empty schedule still draws
    assert zero.get_ylim() == (0.0, 1.0)


@pytest.mark.parametrize(
    ("rates", "measured", "message"),
    [
        ([0.1, 1.0], None, r"rates must hold fractions in \[0, 1\), got 1.0 at index 1"),
        ([0.1, -0.1], None, r"rates must hold fractions in \[0, 1\), got -0.1 at index 1"),
        ([0.1, 0.2], [0.1], r"measured must have shape \(2,\) \(one frequency per block of rates\), got \(1,\)"),
        ([0.1, 0.2], [0.1, 1.5], r"measured must hold fractions in \[0, 1\], got 1.5 at index 1"),
        ([], None, "rates must be a non-empty 1-D array"),
    ],
)
def test_drop_path_schedule_validates_its_input(rates, measured, message):
    with pytest.raises(ValueError, match=message):
        vp.plot_drop_path_schedule(rates, measured=measured, ax=_ax())


# --- activation histograms -----------------------------------------------------------------------------


def test_activation_histograms_share_bins_and_give_mean_and_std_in_the_legend():
    rng = np.random.default_rng(0)
    samples = {"alpha dropout": rng.normal(0.0, 1.0, 4000), "standard dropout": rng.normal(0.4, 1.5, 1000)}
    fig = vp.plot_activation_histograms(samples, reference=(0.0, 1.0), reference_label="SELU fixed point", bins=30)
    assert plt.fignum_exists(fig.number) and tuple(fig.get_size_inches()) == vp.ACTIVATION_HISTOGRAMS_FIGSIZE
    (ax,) = fig.axes
    everything = np.concatenate(list(samples.values()))
    edges = np.linspace(everything.min(), everything.max(), 31)
    for label, values in samples.items():
        (outline,) = _by_gid(ax.patches, f"hist-{label}")
        xy = outline.get_xy()
        np.testing.assert_allclose(np.unique(xy[:, 0]), edges)  # the shared bins
        density, _ = np.histogram(values, bins=edges, density=True)
        np.testing.assert_allclose(xy[1:-1:2, 1][:30], density)  # step tops: the densities, bin by bin
    assert _legend_texts(ax) == [
        f"alpha dropout (mean {samples['alpha dropout'].mean():.3f}, std {samples['alpha dropout'].std():.3f})",
        f"standard dropout (mean {samples['standard dropout'].mean():.3f}, "
        f"std {samples['standard dropout'].std():.3f})",
        "SELU fixed point: mean 0, std 1",
    ]
    (reference,) = _by_gid(ax.get_lines(), "reference")
    assert reference.get_linestyle() == "--" and list(reference.get_xdata()) == [0.0, 0.0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("activation", "density")
    assert ax.get_xlim() == (everything.min(), everything.max())


def test_activation_histograms_widen_the_range_to_a_reference_outside_the_data():
    ax = vp.plot_activation_histograms({"a": [1.0, 2.0, 3.0]}, reference=(-1.0, 1.0), ax=_ax()).axes[0]
    assert ax.get_xlim() == (-1.0, 3.0)
    constant = vp.plot_activation_histograms({"c": torch.tensor([0.5, 0.5])}, ax=_ax()).axes[0]
    assert constant.get_xlim() == (0.0, 1.0) and _legend_texts(constant) == ["c (mean 0.500, std 0.000)"]


@pytest.mark.parametrize(
    ("samples", "kwargs", "error", "message"),
    [
        ({"a": [1.0, np.inf]}, {}, ValueError, r"samples\['a'\] must hold finite numbers, got inf at index 1"),
        ({"a": [[1.0]]}, {}, ValueError, r"samples\['a'\] must be a non-empty 1-D array"),
        ({"a": [1.0]}, {"reference": 0.0}, TypeError, "reference must be None or a \\(mean, std\\) pair, got float"),
        ({"a": [1.0]}, {"reference": (0.0, -1.0)}, ValueError,
         r"reference\[1\] \(the standard deviation\) must be a finite number >= 0, got -1.0"),
        ({"a": [1.0]}, {"reference": (np.nan, 1.0)}, ValueError, r"reference\[0\] \(the mean\) must be a finite"),
        ({"a": [1.0]}, {"reference": ("0", 1.0)}, TypeError, r"reference\[0\] must be a real number"),
        ({"a": [1.0]}, {"bins": 0}, ValueError, "bins must be an int >= 1, got 0"),
        ({"": [1.0]}, {}, ValueError, "samples labels must be non-empty strings"),
    ],
)
def test_activation_histograms_validate_their_input(samples, kwargs, error, message):
    with pytest.raises(error, match=message):
        vp.plot_activation_histograms(samples, ax=_ax(), **kwargs)

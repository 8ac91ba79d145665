"""Tests for course_lib.plots.label_smoothing: each figure draws what it is given, with fixed size, labels and titles."""

from __future__ import annotations

import io
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from course_lib.losses import optimal_logit_gap, optimal_logits, smooth_targets
from course_lib.plots import BEST_EPOCH_COLOR
from course_lib.plots import label_smoothing as ls_plots


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _by_gid(artists, gid: str) -> list:
    return [artist for artist in artists if artist.get_gid() == gid]


def _legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _ax():
    return Figure().add_subplot()


# --- the logit gap during training -----------------------------------------------------------

STEPS = np.array([1, 3, 10, 30, 100, 300, 1000])
CE_GAP = 1.5 * np.log(STEPS) + 0.2
LS_GAP = 4.4 * (1 - np.exp(-STEPS / 50))
RUNS = {"cross-entropy (ε = 0)": CE_GAP, "label smoothing ε = 0.1": LS_GAP}
OPTIMUM = optimal_logit_gap(10, 0.1)


def test_gap_growth_draws_one_line_per_run_and_dashed_optimal_lines_in_the_runs_colours():
    others = optimal_logit_gap(10, 0.1, "others")
    fig = ls_plots.plot_logit_gap_growth(
        STEPS, RUNS, optimal={"label smoothing ε = 0.1": OPTIMUM, "ε/(K − 1) convention": others}, title="gaps")
    assert plt.fignum_exists(fig.number) and tuple(fig.get_size_inches()) == ls_plots.LOGIT_GAP_GROWTH_FIGSIZE
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("training step", ls_plots.GAP_LABEL, "gaps")
    assert ax.get_xscale() == "log" and ax.get_xlim() == (1.0, 1000.0)
    lines = {}
    for label, values in RUNS.items():
        (line,) = _by_gid(ax.get_lines(), f"gap-{label}")
        np.testing.assert_allclose(line.get_xdata(), STEPS)
        np.testing.assert_allclose(line.get_ydata(), values)
        assert line.get_linestyle() == "-"
        lines[label] = line
    (own,) = _by_gid(ax.get_lines(), "optimal-label smoothing ε = 0.1")
    (other,) = _by_gid(ax.get_lines(), "optimal-ε/(K − 1) convention")
    for line, value in ((own, OPTIMUM), (other, others)):
        assert line.get_linestyle() == "--"
        np.testing.assert_allclose(line.get_ydata(), [value, value])
    assert own.get_color() == lines["label smoothing ε = 0.1"].get_color()  # the optimum of that run
    assert other.get_color() == BEST_EPOCH_COLOR  # an optimum of no run drawn
    assert _legend_texts(ax) == [*RUNS, "optimum for label smoothing ε = 0.1: 4.511", "ε/(K − 1) convention: 4.394"]
    low, high = ax.get_ylim()
    assert low < min(CE_GAP.min(), LS_GAP.min()) and high > CE_GAP.max()
    assert high - low < 1.25 * (CE_GAP.max() - min(CE_GAP.min(), LS_GAP.min()))  # fitted to the data


def test_gap_growth_on_a_linear_axis_with_seeds_draws_mean_and_band():
    seeds = np.stack([LS_GAP - 0.1, LS_GAP, LS_GAP + 0.4])
    ax = ls_plots.plot_logit_gap_growth(STEPS - 1, {"LS": seeds}, log_x=False, ax=_ax()).axes[0]
    assert ax.get_xscale() == "linear" and ax.get_xlim() == (0.0, 999.0)
    (line,) = _by_gid(ax.get_lines(), "gap-LS")
    np.testing.assert_allclose(line.get_ydata(), seeds.mean(axis=0))
    (band,) = _by_gid(ax.collections, "gap-band-LS")
    vertices = band.get_paths()[0].vertices
    assert vertices[:, 1].max() == pytest.approx(seeds.max()) and vertices[:, 1].min() == pytest.approx(seeds.min())
    assert _legend_texts(ax) == ["LS (mean of 3, min–max band)"]
    assert not [line for line in ax.get_lines() if (line.get_gid() or "").startswith("optimal-")]


def test_gap_growth_y_range_takes_in_an_optimum_above_the_curves():
    ax = ls_plots.plot_logit_gap_growth(STEPS, {"LS": LS_GAP}, optimal={"far": 20.0}, ax=_ax()).axes[0]
    assert ax.get_ylim()[1] > 20.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": STEPS[::-1]}, ValueError, "steps must be strictly increasing"),
        ({"steps": STEPS - 1}, ValueError, r"steps must be > 0 with log_x=True \(a log axis\), got 0.0"),
        ({"gaps": {"CE": CE_GAP[:3]}}, ValueError, r"gaps\['CE'\] must have shape \(7,\) or \(seeds, 7\)"),
        ({"gaps": {"CE": np.where(STEPS > 10, np.nan, CE_GAP)}}, ValueError,
         r"gaps\['CE'\] must hold finite numbers, got nan at index 3"),
        ({"gaps": {}}, ValueError, "gaps must map at least one label"),
        ({"gaps": [CE_GAP]}, TypeError, "gaps must be a mapping"),
        ({"gaps": {"CE": CE_GAP > 1}}, TypeError, r"gaps\['CE'\] must hold real numbers"),
        ({"optimal": {"CE": math.inf}}, ValueError, r"optimal\['CE'\] must be a finite number \(ε = 0 has no finite"),
        ({"optimal": {"CE": "4.5"}}, TypeError, r"optimal\['CE'\] must be a real number"),
        ({"optimal": {"CE": math.nan}}, ValueError, r"optimal\['CE'\] must be a finite number, got nan"),
        ({"log_x": 1}, TypeError, "log_x must be a bool"),
        ({"title": None}, TypeError, "title must be a str"),
    ],
)
def test_gap_growth_validates_its_input(kwargs, error, message):
    arguments = {"steps": STEPS, "gaps": RUNS, **kwargs}
    with pytest.raises(error, match=message):
        ls_plots.plot_logit_gap_growth(**arguments, ax=_ax())


# --- target distributions --------------------------------------------------------------------

K, EPS, Y = 10, 0.1, 3
ONE_HOT = smooth_targets(torch.tensor([Y]), K, 0.0, dtype=torch.float64)[0].numpy()
PYTORCH = smooth_targets(torch.tensor([Y]), K, EPS, dtype=torch.float64)[0].numpy()
OTHERS = np.where(np.arange(K) == Y, 1 - EPS, EPS / (K - 1))
TARGETS = {"one-hot": ONE_HOT, "ε = 0.1 (PyTorch: ε/K to every class)": PYTORCH,
           "ε = 0.1 (ε/(K−1) to the others)": OTHERS}


def test_targets_are_grouped_bars_of_the_given_heights_with_the_target_class_marked():
    fig = ls_plots.plot_smoothed_targets(TARGETS, target_class=Y, title="targets")
    assert tuple(fig.get_size_inches()) == ls_plots.SMOOTHED_TARGETS_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_title() == "targets" and ax.get_ylim() == (0.0, 1.0) and ax.get_xlim() == (-0.5, K - 0.5)
    assert ax.get_xlabel() == "class $c$ (shaded: the target class $y$ = 3)"
    width = 0.8 / 3
    for j, (label, values) in enumerate(TARGETS.items()):
        bars = _by_gid(ax.patches, f"bars-{label}")
        assert len(bars) == K
        np.testing.assert_allclose([bar.get_height() for bar in bars], values)
        np.testing.assert_allclose([bar.get_x() + bar.get_width() / 2 for bar in bars],
                                   np.arange(K) + (j - 1) * width)  # grouped around each class
        (text,) = _by_gid(ax.texts, f"target-value-{label}")
        assert text.get_text() == f"{values[Y]:.3f}"
        assert text.get_position()[0] == pytest.approx(Y + (j - 1) * width)
    assert [text.get_text() for text in ax.texts] == ["1.000", "0.910", "0.900"]
    (span,) = _by_gid(ax.patches, "target-class")
    assert (span.get_x(), span.get_x() + span.get_width()) == (Y - 0.5, Y + 0.5)
    weights = [label.get_fontweight() for label in ax.get_xticklabels()]
    assert weights[Y] == "bold" and all(weight == "normal" for k, weight in enumerate(weights) if k != Y)
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(c) for c in range(K)]
    assert _legend_texts(ax) == list(TARGETS)


def test_targets_picture_changes_with_the_distribution_and_a_short_bar_is_labelled_above_its_top():
    flat = np.full(4, 0.25)
    ax = ls_plots.plot_smoothed_targets({"uniform": flat}, target_class=0, ax=_ax()).axes[0]
    (text,) = ax.texts
    assert text.get_text() == "0.250" and text.get_position()[1] > 0.25 and text.get_va() == "bottom"
    first = ls_plots.plot_smoothed_targets({"a": PYTORCH}, target_class=Y)
    second = ls_plots.plot_smoothed_targets({"a": OTHERS}, target_class=Y)
    assert _png(first) != _png(second)


@pytest.mark.parametrize(
    ("targets", "target_class", "error", "message"),
    [
        ({"a": PYTORCH}, K, ValueError, r"target_class must be in \[0, 10\)"),
        ({"a": PYTORCH}, -1, ValueError, "target_class must be an int >= 0"),
        ({"a": PYTORCH}, 3.0, TypeError, "target_class must be an int"),
        ({"a": PYTORCH, "b": PYTORCH[:5] / PYTORCH[:5].sum()}, Y, ValueError,
         r"targets\['b'\] must have as many classes as targets\['a'\] \(10\), got 5"),
        ({"a": PYTORCH * 2}, Y, ValueError, r"targets\['a'\] must hold probabilities in \[0, 1\], got 1.82 at index 3"),
        ({"a": PYTORCH * 0.9}, Y, ValueError, r"targets\['a'\] must sum to 1"),
        ({"a": [1.0]}, 0, ValueError, "between 2 and MAX_BAR_CLASSES = 30 classes, got 1"),
        ({"a": np.full(31, 1 / 31)}, 0, ValueError, "between 2 and MAX_BAR_CLASSES = 30 classes, got 31"),
        ({}, Y, ValueError, "targets must map at least one label"),
        ({"a": np.ones((2, 5)) / 5}, Y, ValueError, r"targets\['a'\] must be a non-empty 1-D array"),
    ],
)
def test_targets_validate_their_input(targets, target_class, error, message):
    with pytest.raises(error, match=message):
        ls_plots.plot_smoothed_targets(targets, target_class=target_class, ax=_ax())


def test_targets_accept_float32_tensors_that_sum_to_one_in_float32():
    target = smooth_targets(torch.tensor([1]), 7, 0.3)[0]  # float32: the sum is 1 only to ~1e-7
    ax = ls_plots.plot_smoothed_targets({"torch": target}, target_class=1, ax=_ax()).axes[0]
    np.testing.assert_allclose([bar.get_height() for bar in _by_gid(ax.patches, "bars-torch")], target.numpy())


# --- optimal logits --------------------------------------------------------------------------

LOGITS = {"one-hot": None, "ε = 0.1 (PyTorch: ε/K to every class)": optimal_logits(PYTORCH),
          "ε = 0.1 (ε/(K−1) to the others)": optimal_logits(OTHERS)}
UNBOUNDED = "one-hot: no finite optimum ($z_y - z_c \\to \\infty$)"


def test_optimal_logits_are_grouped_bars_of_the_finite_entries_and_the_one_hot_target_is_named():
    fig = ls_plots.plot_optimal_logits(LOGITS, target_class=Y, num_classes=K, title="logits")
    assert tuple(fig.get_size_inches()) == ls_plots.OPTIMAL_LOGITS_FIGSIZE == ls_plots.SMOOTHED_TARGETS_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_title() == "logits" and ax.get_xlim() == (-0.5, K - 0.5)
    assert ax.get_xlabel() == "class $c$ (shaded: the target class $y$ = 3)"
    assert ax.get_ylabel() == "optimal logit $z^*_c$ (mean 0)"
    drawn = list(LOGITS)[1:]
    width = 0.8 / 2  # two groups: the one-hot target takes no room
    for j, label in enumerate(drawn):
        bars = _by_gid(ax.patches, f"bars-{label}")
        np.testing.assert_allclose([bar.get_height() for bar in bars], LOGITS[label])
        np.testing.assert_allclose([bar.get_x() + bar.get_width() / 2 for bar in bars], np.arange(K) + (j - 0.5) * width)
        np.testing.assert_allclose(bars[0].get_facecolor()[:3], to_rgb(f"C{j + 1}"))  # the colours of the targets picture
        (text,) = _by_gid(ax.texts, f"target-value-{label}")
        assert text.get_text() == f"{LOGITS[label][Y]:.3f}"
    assert not _by_gid(ax.patches, "bars-one-hot")
    pytorch, others = ([bar.get_height() for bar in _by_gid(ax.patches, f"bars-{label}")] for label in drawn)
    assert pytorch[Y] - pytorch[0] == pytest.approx(math.log(91), rel=1e-12)  # optimal_logit_gap, PyTorch's convention
    assert others[Y] - others[0] == pytest.approx(math.log(81), rel=1e-12)
    assert [text.get_text() for text in ax.texts] == ["4.060", "3.955"]
    assert _legend_texts(ax) == [*drawn, UNBOUNDED]
    (zero,) = _by_gid(ax.get_lines(), "zero")
    np.testing.assert_allclose(zero.get_ydata(), [0.0, 0.0])
    (span,) = _by_gid(ax.patches, "target-class")
    assert (span.get_x(), span.get_x() + span.get_width()) == (Y - 0.5, Y + 0.5)
    assert [label.get_fontweight() for label in ax.get_xticklabels()][Y] == "bold"
    low, high = ax.get_ylim()  # fitted to the bars and 0
    assert low < min(LOGITS[drawn[0]]) < 0 < 4.06 < high < 4.5


def test_optimal_logits_on_a_fixed_range_and_short_bars_labelled_beyond_their_end():
    ax = ls_plots.plot_optimal_logits(LOGITS, target_class=Y, num_classes=K, ylim=(-3.0, 8.0), ax=_ax()).axes[0]
    assert ax.get_ylim() == (-3.0, 8.0)
    long_bar = _by_gid(ax.texts, "target-value-ε = 0.1 (PyTorch: ε/K to every class)")[0]
    assert long_bar.get_position()[1] < 4.06 and long_bar.get_va() == "top"  # inside the end of a long bar
    negative = {"a": np.array([-0.5, 0.25, 0.25])}  # the target class below 0, a short bar: labelled below it
    ax = ls_plots.plot_optimal_logits(negative, target_class=0, num_classes=3, ylim=(-3.0, 8.0), ax=_ax()).axes[0]
    (text,) = ax.texts
    assert text.get_text() == "-0.500" and text.get_position()[1] < -0.5 and text.get_va() == "top"
    first = ls_plots.plot_optimal_logits(LOGITS, target_class=Y, num_classes=K, ylim=(-3.0, 8.0))
    second = ls_plots.plot_optimal_logits({**LOGITS, "ε = 0.1 (PyTorch: ε/K to every class)": None}, target_class=Y,
                                          num_classes=K, ylim=(-3.0, 8.0))
    assert _png(first) != _png(second)


def test_optimal_logits_with_no_finite_entry_draw_no_bars_and_say_so():
    fig = ls_plots.plot_optimal_logits({"one-hot": None, "ε = 0": None}, target_class=1, num_classes=4)
    (ax,) = fig.axes
    assert not [patch for patch in ax.patches if (patch.get_gid() or "").startswith("bars-")]
    (note,) = _by_gid(ax.texts, "no-finite-optimum")
    assert note.get_text().startswith("no finite optimum")
    assert _legend_texts(ax) == [UNBOUNDED, "ε = 0: no finite optimum ($z_y - z_c \\to \\infty$)"]
    assert ax.get_ylim() == (-1.0, 1.0) and ax.get_xlim() == (-0.5, 3.5)  # the classes are still on the axis
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0", "1", "2", "3"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"logits": {}}, ValueError, "logits must map at least one label"),
        ({"logits": [LOGITS["ε = 0.1 (ε/(K−1) to the others)"]]}, TypeError, "logits must be a mapping"),
        ({"logits": {"a": optimal_logits(PYTORCH)[:5]}}, ValueError,
         r"logits\['a'\] must have num_classes = 10 entries, got 5"),
        ({"logits": {"a": optimal_logits(PYTORCH) + 1.0}}, ValueError,
         r"logits\['a'\] must be centred at mean 0 \(as course_lib.losses.optimal_logits gives them\), got mean 1.0"),
        ({"logits": {"a": np.log(PYTORCH)}}, ValueError, r"logits\['a'\] must be centred at mean 0"),
        ({"logits": {"a": np.where(np.arange(K) == 2, np.inf, 0.0)}}, ValueError,
         r"logits\['a'\] must hold finite numbers, got inf at index 2"),
        ({"logits": {"a": "logits"}}, TypeError, r"logits\['a'\] must be an array"),
        ({"logits": {"": None}}, ValueError, "logits labels must be non-empty strings"),
        ({"target_class": K}, ValueError, r"target_class must be in \[0, 10\)"),
        ({"target_class": 2.0}, TypeError, "target_class must be an int"),
        ({"num_classes": 1}, ValueError, "num_classes must be an int >= 2"),
        ({"num_classes": 31}, ValueError, "num_classes must be between 2 and MAX_BAR_CLASSES = 30, got 31"),
        ({"num_classes": 10.0}, TypeError, "num_classes must be an int"),
        ({"ylim": (0.0, 1.0)}, ValueError, r"ylim must hold every logit drawn \(-0.451 to 4.060\), got \(0.0, 1.0\)"),
        ({"ylim": (8.0, -3.0)}, ValueError, "ylim must be two finite numbers, low < high"),
        ({"ylim": (-3.0, math.inf)}, ValueError, "ylim must be two finite numbers"),
        ({"ylim": (-3.0, "8")}, TypeError, "ylim must be a real number"),
        ({"ylim": 8.0}, TypeError, r"ylim must be None or a pair \(low, high\) of numbers"),
        ({"ylim": (-3.0, 0.0, 8.0)}, TypeError, "ylim must be None or a pair"),
        ({"title": None}, TypeError, "title must be a str"),
    ],
)
def test_optimal_logits_validate_their_input(kwargs, error, message):
    arguments = {"logits": LOGITS, "target_class": Y, "num_classes": K, **kwargs}
    with pytest.raises(error, match=message):
        ls_plots.plot_optimal_logits(**arguments, ax=_ax())


def test_optimal_logits_accept_tensors_and_lists():
    z = optimal_logits(smooth_targets(torch.tensor([1]), 4, 0.2)[0])
    for given in (torch.from_numpy(z).float(), z.tolist()):
        ax = ls_plots.plot_optimal_logits({"a": given}, target_class=1, num_classes=4, ax=_ax()).axes[0]
        np.testing.assert_allclose([bar.get_height() for bar in _by_gid(ax.patches, "bars-a")], z, rtol=1e-6)


# --- confidences -------------------------------------------------------------------------------

_RNG = np.random.default_rng(0)
CONFIDENCES = {"cross-entropy": np.clip(1 - _RNG.exponential(0.02, 300), 0.2, 1.0),
               "label smoothing 0.1": np.clip(0.9 - _RNG.exponential(0.08, 200), 0.2, 1.0)}


def test_confidence_histograms_share_bins_over_zero_to_one_show_shares_and_name_the_means():
    fig = ls_plots.plot_confidence_histograms(CONFIDENCES, bins=10, title="confidence")
    assert tuple(fig.get_size_inches()) == ls_plots.CONFIDENCE_HISTOGRAMS_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_title() == "confidence" and ax.get_xlim() == (0.0, 1.0)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("confidence (largest softmax probability)", "share of predictions")
    for label, values in CONFIDENCES.items():
        (patch,) = _by_gid(ax.patches, f"hist-{label}")
        xs = np.unique(patch.get_xy()[:, 0])
        np.testing.assert_allclose(xs, np.linspace(0, 1, 11))  # shared bins over [0, 1]
        shares = np.histogram(values, bins=np.linspace(0, 1, 11))[0] / values.size
        assert patch.get_xy()[:, 1].max() == pytest.approx(shares.max())  # a share, not a count or a density
        (mean,) = _by_gid(ax.get_lines(), f"mean-{label}")
        np.testing.assert_allclose(mean.get_xdata(), [values.mean()] * 2)
    assert _legend_texts(ax) == [f"{label} (mean {values.mean():.3f})" for label, values in CONFIDENCES.items()]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"confidences": {"a": [0.5, 1.2]}}, ValueError, r"confidences\['a'\] must hold probabilities in \[0, 1\], "
                                                        "got 1.2 at index 1"),
        ({"confidences": {"a": []}}, ValueError, r"confidences\['a'\] must be a non-empty 1-D array"),
        ({"confidences": {"a": [0.5, np.nan]}}, ValueError, "must hold finite numbers"),
        ({"confidences": {"": [0.5]}}, ValueError, "confidences labels must be non-empty strings"),
        ({"bins": 0}, ValueError, "bins must be an int >= 1"),
        ({"bins": 2.5}, TypeError, "bins must be an int"),
    ],
)
def test_confidence_histograms_validate_their_input(kwargs, error, message):
    arguments = {"confidences": CONFIDENCES, **kwargs}
    with pytest.raises(error, match=message):
        ls_plots.plot_confidence_histograms(**arguments, ax=_ax())


# --- per-example logit gaps --------------------------------------------------------------------

GAPS = {"cross-entropy": _RNG.normal(9.0, 3.0, 400), "label smoothing 0.1": _RNG.normal(4.3, 0.6, 300)}


def test_logit_gaps_share_bins_that_span_data_and_optimum_with_the_optimum_dashed():
    fig = ls_plots.plot_logit_gaps(GAPS, optimal=OPTIMUM, optimal_label="optimum (log 91)", bins=25)
    assert tuple(fig.get_size_inches()) == ls_plots.LOGIT_GAPS_FIGSIZE
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == (ls_plots.GAP_LABEL, "share of examples")
    everything = np.concatenate(list(GAPS.values()))
    edges = np.linspace(everything.min(), everything.max(), 26)
    for label, values in GAPS.items():
        (patch,) = _by_gid(ax.patches, f"hist-{label}")
        np.testing.assert_allclose(np.unique(patch.get_xy()[:, 0]), edges)
        shares = np.histogram(values, bins=edges)[0] / values.size
        assert patch.get_xy()[:, 1].max() == pytest.approx(shares.max())
    (optimal,) = _by_gid(ax.get_lines(), "optimal")
    assert optimal.get_linestyle() == "--"
    np.testing.assert_allclose(optimal.get_xdata(), [OPTIMUM, OPTIMUM])
    assert _legend_texts(ax) == [f"{label} (mean {values.mean():.2f})" for label, values in GAPS.items()] + [
        "optimum (log 91): 4.511"]


def test_logit_gaps_bins_reach_an_optimum_outside_the_data_and_work_without_one():
    ax = ls_plots.plot_logit_gaps({"a": [1.0, 2.0]}, optimal=4.0, bins=3, ax=_ax()).axes[0]
    np.testing.assert_allclose(np.unique(_by_gid(ax.patches, "hist-a")[0].get_xy()[:, 0]), [1.0, 2.0, 3.0, 4.0])
    ax = ls_plots.plot_logit_gaps({"a": [2.0, 2.0]}, ax=_ax()).axes[0]
    assert not _by_gid(ax.get_lines(), "optimal")
    assert ax.get_xlim()[0] < 1.5 and ax.get_xlim()[1] > 2.5  # one value: a unit-wide range around it


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"optimal": optimal_logit_gap(10, 0.0)}, ValueError, "optimal must be a finite number \\(ε = 0 has no"),
        ({"optimal": True}, TypeError, "optimal must be a real number"),
        ({"gaps": {"a": [[1.0, 2.0]]}}, ValueError, r"gaps\['a'\] must be a non-empty 1-D array"),
        ({"gaps": {"a": None}}, TypeError, r"gaps\['a'\] must be an array"),
        ({"optimal_label": 3}, TypeError, "optimal_label must be a str"),
        ({"bins": -2}, ValueError, "bins must be an int >= 1"),
    ],
)
def test_logit_gaps_validate_their_input(kwargs, error, message):
    arguments = {"gaps": GAPS, **kwargs}
    with pytest.raises(error, match=message):
        ls_plots.plot_logit_gaps(**arguments, ax=_ax())


# --- penultimate-layer projections --------------------------------------------------------------

LABELS = np.array([0, 1, 2, 0, 1, 2, 2])
CENTRES = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.0]])
POINTS = {"cross-entropy": 3 * CENTRES[LABELS] + _RNG.normal(0, 1.0, (7, 2)),
          "label smoothing 0.1": CENTRES[LABELS] + _RNG.normal(0, 0.1, (7, 2))}
NAMES = ("plane", "car", "bird")


def test_projection_one_square_panel_per_model_points_by_class_and_one_legend():
    fig = ls_plots.plot_penultimate_projection(POINTS, LABELS, class_names=NAMES,
                                               titles_extra={"label smoothing 0.1": "spread 0.05"}, suptitle="proj")
    assert fig.get_suptitle() == "proj"
    width, height = ls_plots.PROJECTION_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * width, height + ls_plots._PROJECTION_LEGEND_HEIGHT))
    assert [ax.get_title() for ax in fig.axes] == ["cross-entropy", "label smoothing 0.1\nspread 0.05"]
    for ax, values in zip(fig.axes, POINTS.values()):
        for c in range(3):
            (points,) = _by_gid(ax.collections, f"class-{c}")
            assert isinstance(points, PathCollection)
            np.testing.assert_allclose(points.get_offsets(), values[LABELS == c])
            np.testing.assert_allclose(points.get_facecolor()[0][:3],
                                       to_rgb(ls_plots.PROJECTION_CLASS_COLORS[c]))
        assert ax.get_aspect() == 1.0
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert x1 - x0 == pytest.approx(y1 - y0)  # a square window ...
        assert x0 < values[:, 0].min() and x1 > values[:, 0].max() and y0 < values[:, 1].min() < values[:, 1].max() < y1
        span = max(np.ptp(values[:, 0]), np.ptp(values[:, 1]))
        assert x1 - x0 < 1.2 * span  # ... fitted to this panel's points
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("plane coordinate 1", "plane coordinate 2")
    first, second = (ax.get_xlim() for ax in fig.axes)
    assert first != second  # each panel its own limits
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == list(NAMES)


def test_projection_wraps_after_four_panels():
    panels = {f"model {k}": POINTS["cross-entropy"] * (k + 1) for k in range(5)}
    fig = ls_plots.plot_penultimate_projection(panels, LABELS, class_names=NAMES)
    assert len(fig.axes) == 5
    assert [ax.get_subplotspec().rowspan.start for ax in fig.axes] == [0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"labels": LABELS[:4]}, ValueError, r"labels must have shape \(7,\)"),
        ({"labels": np.where(LABELS == 2, 3, LABELS)}, ValueError, r"labels must be classes in \[0, 3\).*got 3 at index 2"),
        ({"labels": LABELS.astype(float)}, TypeError, "labels must hold integer classes"),
        ({"labels": torch.tensor(LABELS, dtype=torch.float32)}, TypeError, "labels must hold integer classes"),
        ({"points": {"a": POINTS["cross-entropy"][:, :1]}}, ValueError, r"points\['a'\] must have shape \(N, 2\)"),
        ({"points": {"a": POINTS["cross-entropy"], "b": POINTS["cross-entropy"][:5]}}, ValueError,
         r"points\['b'\] must have as many points as points\['a'\] \(7\)"),
        ({"class_names": "abc"}, TypeError, "class_names must be a sequence of strings"),
        ({"class_names": ("a", "")}, ValueError, "class_names must hold non-empty strings"),
        ({"class_names": tuple("abcdefghijk")}, ValueError, "class_names must name between 1 and 10 classes, got 11"),
        ({"titles_extra": {"other": "x"}}, ValueError, "titles_extra has panels that are not in points"),
        ({"titles_extra": {"cross-entropy": 0.5}}, TypeError, r"titles_extra\['cross-entropy'\] must be a str"),
        ({"axis_labels": ("x",)}, ValueError, "axis_labels must be two strings"),
    ],
)
def test_projection_validates_its_input(kwargs, error, message):
    arguments = {"points": POINTS, "labels": LABELS, "class_names": NAMES, **kwargs}
    with pytest.raises(error, match=message):
        ls_plots.plot_penultimate_projection(**arguments)


def test_projection_accepts_tensors():
    points = {label: torch.as_tensor(values, dtype=torch.float32) for label, values in POINTS.items()}
    fig = ls_plots.plot_penultimate_projection(points, torch.as_tensor(LABELS), class_names=NAMES)
    np.testing.assert_allclose(_by_gid(fig.axes[0].collections, "class-0")[0].get_offsets(),
                               POINTS["cross-entropy"][LABELS == 0], rtol=1e-6)

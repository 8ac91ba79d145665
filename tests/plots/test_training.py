"""Tests for course_lib.plots.training: learning curves of one run and of several settings."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from course_lib.plots import training as training_plots
from course_lib.train import History


def _history(*, stopped: int | None = 4, classification: bool = True) -> History:
    train = [1.0, 0.6, 0.4, 0.3, 0.25]
    return History(
        train_loss=train, val_loss=[1.1, 0.8, 0.7, 0.75, 0.8], train_batch_loss=[t + 0.1 for t in train],
        train_accuracy=[0.5, 0.7, 0.8, 0.9, 0.95] if classification else None,
        val_accuracy=[0.45, 0.6, 0.7, 0.68, 0.66] if classification else None,
        lr=[0.1] * 5, best_epoch=2, stopped_epoch=stopped,
    )


def _lines_with_gid(ax, gid: str) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _assert_labelled(ax, xlabel: str, ylabel: str | None = None) -> None:
    assert ax.get_xlabel() == xlabel
    if ylabel is not None:
        assert ax.get_ylabel() == ylabel
    assert ax.get_title()


# --- learning curves of one run --------------------------------------------------------------


def test_history_figure_draws_both_curves_and_marks_best_and_stop():
    history = _history()
    fig = training_plots.plot_history(history)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == training_plots.HISTORY_FIGSIZE
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and ax.get_title()
    curves = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(curves["training loss (eval mode)"].get_ydata(), history.train_loss)
    np.testing.assert_array_equal(curves["validation loss"].get_ydata(), history.val_loss)
    np.testing.assert_array_equal(curves["validation loss"].get_xdata(), np.arange(5))
    (best,) = _lines_with_gid(ax, "best-epoch")
    (stop,) = _lines_with_gid(ax, "stopped-epoch")
    assert best.get_xdata()[0] == 2 and best.get_label() == "best epoch (2)"
    assert stop.get_xdata()[0] == 4


def test_history_figure_without_an_early_stop_has_no_stop_line():
    ax = training_plots.plot_history(_history(stopped=None)).axes[0]
    assert not _lines_with_gid(ax, "stopped-epoch")
    assert len(_lines_with_gid(ax, "best-epoch")) == 1


def test_history_figure_accuracy_batch_loss_and_log_scale():
    ax = training_plots.plot_history(_history(), metric="accuracy").axes[0]
    assert ax.get_ylabel() == "accuracy"
    assert "validation accuracy" in [line.get_label() for line in ax.get_lines()]
    ax = training_plots.plot_history(_history(), show_batch_loss=True, log_scale=True).axes[0]
    assert ax.get_yscale() == "log"
    assert "training mini-batch loss (train mode)" in [line.get_label() for line in ax.get_lines()]


def test_history_figure_rejects_what_it_cannot_draw():
    with pytest.raises(ValueError, match="history has no accuracy values"):
        training_plots.plot_history(_history(classification=False), metric="accuracy")
    with pytest.raises(ValueError, match="metric must be 'loss' or 'accuracy', got 'f1'"):
        training_plots.plot_history(_history(), metric="f1")
    with pytest.raises(ValueError, match="show_batch_loss only applies"):
        training_plots.plot_history(_history(), metric="accuracy", show_batch_loss=True)
    with pytest.raises(TypeError, match="ax must be"):
        training_plots.plot_history(_history(), ax="left")


def test_history_figure_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert training_plots.plot_history(_history(), ax=ax) is fig
    assert not plt.get_fignums()


def test_history_panels_show_loss_and_accuracy_for_classification_only():
    fig = training_plots.plot_history_panels(_history())
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert tuple(fig.get_size_inches()) == (
        2 * training_plots.HISTORY_PANEL_FIGSIZE[0], training_plots.HISTORY_PANEL_FIGSIZE[1]
    )
    assert fig.get_suptitle() == "Learning curves"
    assert [
        ax.get_ylabel() for ax in training_plots.plot_history_panels(_history(classification=False)).axes
    ] == ["loss"]


# --- curves of several settings -------------------------------------------------------------


def test_learning_curves_draw_mean_and_range_of_several_runs():
    steps = np.arange(5)
    runs = np.array([[1.0, 0.8, 0.6, 0.5, 0.4], [1.2, 1.0, 0.8, 0.7, 0.6]])
    curves = {"p = 0.5": runs, "p = 0": runs[0] + 1}
    fig = training_plots.plot_learning_curves(steps, curves, ylabel="loss", title="curves", ylim=(0, 3))
    ax = fig.axes[0]
    assert ax.get_ylim() == (0, 3)
    _assert_labelled(ax, "training step", "loss")
    mean_line = ax.get_lines()[0]
    np.testing.assert_allclose(mean_line.get_ydata(), runs.mean(axis=0))
    assert mean_line.get_label() == "p = 0.5 (mean of 2)"
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
    with pytest.raises(ValueError, match="columns"):
        training_plots.plot_learning_curves(steps, {"bad": np.ones(3)}, ylabel="loss", title="t")


# --- configurations compared over seeds ------------------------------------------------------


class _Runs:
    """A stand-in for course_lib.experiments.SeedRuns: summary(metric) of fixed values."""

    def __init__(self, **values: tuple[float, ...]) -> None:
        self.values = values

    def summary(self, metric: str):
        from course_lib.experiments import SeedSummary

        return SeedSummary(self.values[metric])


def test_seed_comparison_draws_every_seed_and_fits_each_panel_to_its_values():
    runs = {
        "none": _Runs(test_accuracy=(0.62, 0.63, 0.61), test_nll=(1.4, 1.5, 1.45)),
        "dropout": _Runs(test_accuracy=(0.65, 0.66, 0.64), test_nll=(0.93, 0.92, 0.94)),
    }
    fig = training_plots.plot_seed_comparison(runs, ("test_accuracy", "test_nll"), suptitle="Test")
    accuracy_ax, nll_ax = fig.axes
    low, high = accuracy_ax.get_ylim()
    assert 0.55 < low < 0.61 and 0.66 < high < 0.7  # fitted: a 0-1 axis would hide a 3-point effect
    assert nll_ax.get_ylim()[0] < 0.92 and nll_ax.get_ylim()[1] > 1.5
    dots = [c for c in accuracy_ax.collections if c.get_offsets().shape[0] == 3]
    assert len(dots) == 2  # one scatter of three seeds per configuration
    assert [t.get_text() for t in accuracy_ax.get_xticklabels()] == ["none", "dropout"]
    assert accuracy_ax.get_ylabel() == "test accuracy" and "3 seeds" in fig._suptitle.get_text()
    reference = [line for line in accuracy_ax.get_lines() if line.get_linestyle() == "--"]
    assert len(reference) == 1 and reference[0].get_ydata()[0] == pytest.approx(0.62)
    plt.close(fig)


@pytest.mark.parametrize("metrics", [(), ("accuracy",), "test_accuracy"])
def test_seed_comparison_names_unknown_metrics(metrics):
    with pytest.raises(ValueError, match="metrics must be"):
        training_plots.plot_seed_comparison({"a": _Runs(test_accuracy=(0.5,))}, metrics)


def test_seed_comparison_needs_runs():
    with pytest.raises(ValueError, match="runs must map"):
        training_plots.plot_seed_comparison({})


# --- reliability diagrams --------------------------------------------------------------------


def _predictions(seed: int, concentration: float, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(3, concentration), n)
    labels = np.where(rng.random(n) < 0.6, probs.argmax(axis=1), rng.integers(0, 3, n))
    return probs, labels


def _bars(ax, gid: str) -> list:
    return [patch for patch in ax.patches if patch.get_gid() == gid]


def test_reliability_diagrams_draw_bins_gaps_diagonal_counts_and_the_ece_in_each_title():
    from course_lib.metrics import expected_calibration_error, reliability_diagram

    data = {"over-confident": (_predictions(0, 0.3), 15), "MC averaged": (_predictions(1, 1.0), 10)}
    diagrams = {label: reliability_diagram(*predictions, n_bins=bins) for label, (predictions, bins) in data.items()}
    fig = training_plots.plot_reliability_diagrams(diagrams, suptitle="calibration")
    assert fig.get_suptitle() == "calibration" and len(fig.axes) == 4
    width, height = training_plots.RELIABILITY_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * width, height))
    tops, bottoms = fig.axes[:2], fig.axes[2:]
    for top, bottom, (label, ((probs, labels), bins)) in zip(tops, bottoms, data.items()):
        diagram = diagrams[label]
        ece = expected_calibration_error(probs, labels, n_bins=bins)
        title_label, ece_text = top.get_title().split("\n")
        assert title_label == label and ece_text == f"ECE = {ece:.3f}"
        filled = diagram.count > 0
        assert not filled.all()  # some bins are empty (confidence >= 1/3): they get no bar
        middles = (diagram.edges[:-1] + diagram.edges[1:]) / 2
        accuracy = _bars(top, "accuracy-bars")
        assert len(accuracy) == filled.sum()
        np.testing.assert_allclose([bar.get_x() + bar.get_width() / 2 for bar in accuracy], middles[filled])
        np.testing.assert_allclose([bar.get_width() for bar in accuracy], 1 / bins)
        np.testing.assert_allclose([bar.get_height() for bar in accuracy], diagram.accuracy[filled])
        gaps = _bars(top, "gap-bars")
        np.testing.assert_allclose([bar.get_height() for bar in gaps],
                                   np.abs(diagram.accuracy[filled] - diagram.confidence[filled]))
        np.testing.assert_allclose([bar.get_y() for bar in gaps],
                                   np.minimum(diagram.accuracy[filled], diagram.confidence[filled]))
        (diagonal,) = [line for line in top.get_lines() if line.get_gid() == "diagonal"]
        assert list(diagonal.get_xdata()) == list(diagonal.get_ydata()) == [0.0, 1.0]
        assert top.get_ylabel() == "accuracy" and top.get_xlim() == top.get_ylim() == (0.0, 1.0)
        counts = _bars(bottom, "count-bars")
        assert [bar.get_height() for bar in counts] == diagram.count.tolist()
        assert sum(bar.get_height() for bar in counts) == len(labels)
        assert bottom.get_xlabel() == "confidence (largest probability)" and bottom.get_ylabel() == "count"
    legend = [text.get_text() for text in tops[0].get_legend().get_texts()]
    assert "perfect calibration" in legend and "gap to its mean confidence" in legend


def test_reliability_diagram_of_a_hand_made_record():
    from course_lib.metrics import ReliabilityDiagram

    diagram = ReliabilityDiagram(edges=[0.0, 0.5, 0.75, 1.0], confidence=[np.nan, 0.7, 0.9],
                                 accuracy=[np.nan, 0.5, 0.95], count=[0, 4, 6])
    fig = training_plots.plot_reliability_diagrams({"hand-made": diagram})
    top = fig.axes[0]
    assert top.get_title() == f"hand-made\nECE = {0.4 * 0.2 + 0.6 * 0.05:.3f}"  # 0.110
    accuracy = _bars(top, "accuracy-bars")
    assert [(bar.get_x(), bar.get_width(), bar.get_height()) for bar in accuracy] == [(0.5, 0.25, 0.5),
                                                                                      (0.75, 0.25, 0.95)]
    gaps = _bars(top, "gap-bars")  # over-confident bin: the gap above the bar; under-confident: inside it
    assert [(bar.get_y(), round(bar.get_height(), 12)) for bar in gaps] == [(0.5, 0.2), (0.9, 0.05)]


def test_reliability_diagrams_validate_their_input():
    from course_lib.metrics import reliability_diagram

    diagram = reliability_diagram([[0.9, 0.1], [0.2, 0.8]], [0, 1], n_bins=5)
    with pytest.raises(ValueError, match="diagrams must map at least one label"):
        training_plots.plot_reliability_diagrams({})
    with pytest.raises(TypeError, match="diagrams must be a mapping"):
        training_plots.plot_reliability_diagrams([diagram])
    with pytest.raises(TypeError, match=r"diagrams\['raw'\] must be a ReliabilityDiagram"):
        training_plots.plot_reliability_diagrams({"raw": tuple(diagram)})
    with pytest.raises(ValueError, match="diagrams labels must be non-empty strings"):
        training_plots.plot_reliability_diagrams({0.1: diagram})

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

"""Figures of training runs, shared by several chapters.

Learning curves of one run (:func:`plot_history`, :func:`plot_history_panels`,
drawn from a :class:`course_lib.train.History`) and curves of several settings
with their spread over runs (:func:`plot_learning_curves`, shown in the intro
and the dropout chapter), and configurations compared over seeds
(:func:`plot_seed_comparison`, from :mod:`course_lib.experiments` runs), and
reliability diagrams of classifiers (:func:`plot_reliability_diagrams`, shown in
the MC-dropout and the label-smoothing chapters). Sizes, ``ax`` and the other
conventions are those of :mod:`course_lib.plots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib._validation import describe_value
from course_lib.metrics import ReliabilityDiagram
from course_lib.plots import BEST_EPOCH_COLOR, CROSS_COLOR, _new_axes

if TYPE_CHECKING:  # the figure functions only read attributes; no import cost at run time
    from course_lib.train import History

__all__ = [
    "CURVES_FIGSIZE", "plot_learning_curves", "HISTORY_FIGSIZE", "HISTORY_PANEL_FIGSIZE", "plot_history",
    "plot_history_panels", "SEED_COMPARISON_PANEL_FIGSIZE", "plot_seed_comparison", "RELIABILITY_PANEL_FIGSIZE",
    "plot_reliability_diagrams",
]

CURVES_FIGSIZE = (7.0, 3.4)
HISTORY_FIGSIZE = (7.0, 3.4)
HISTORY_PANEL_FIGSIZE = (4.6, 3.4)  # per panel

STOPPED_EPOCH_COLOR = CROSS_COLOR


def plot_learning_curves(
    steps: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    ylabel: str,
    title: str,
    ylim: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """One line per setting; a 2-D curve ``(runs, steps)`` draws its mean with a min–max band.

    Args:
        steps: ``(steps,)`` x positions (e.g. optimisation steps).
        curves: label -> ``(steps,)`` or ``(runs, steps)`` values.
        ylabel, title: axis label and title.
        ylim: fixed y-range (default: matplotlib's automatic one).
    """
    steps = np.asarray(steps)
    if not curves:
        raise ValueError("curves must map at least one label to values")
    fig, ax = _new_axes(ax, CURVES_FIGSIZE)
    for k, (label, values) in enumerate(curves.items()):
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if values.ndim != 2 or values.shape[1] != steps.shape[0]:
            raise ValueError(f"curves[{label!r}] must have {steps.shape[0]} columns, got shape {values.shape}")
        shown = label if len(values) == 1 else f"{label} (mean of {len(values)})"
        ax.plot(steps, values.mean(axis=0), color=f"C{k}", label=shown)
        if len(values) > 1:
            ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=f"C{k}", alpha=0.2, linewidth=0)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


_HISTORY_METRICS = {
    "loss": ("train_loss", "val_loss", "loss"),
    "accuracy": ("train_accuracy", "val_accuracy", "accuracy"),
}


def _history_curves(history: History, metric: str) -> tuple[np.ndarray, np.ndarray, str]:
    if metric not in _HISTORY_METRICS:
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    train_name, val_name, label = _HISTORY_METRICS[metric]
    train, val = getattr(history, train_name, None), getattr(history, val_name, None)
    if train is None or val is None:
        raise ValueError(f"history has no {metric} values (accuracy is only recorded for classification)")
    train, val = np.asarray(train, dtype=np.float64), np.asarray(val, dtype=np.float64)
    if train.ndim != 1 or train.shape != val.shape or len(train) == 0:
        raise ValueError(f"history.{train_name} and history.{val_name} must be non-empty lists of one length")
    return train, val, label


def plot_history(
    history: History,
    *,
    metric: str = "loss",
    title: str | None = None,
    show_batch_loss: bool = False,
    log_scale: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Learning curves of one run: training and validation ``metric`` per epoch.

    Args:
        history: a :class:`course_lib.train.History`.
        metric: ``"loss"`` or ``"accuracy"`` (classification only).
        title: the axes title (default names the metric).
        show_batch_loss: also draw the mean training-mode mini-batch loss
            (``history.train_batch_loss``, dotted), to show how dropout noise
            lifts it above the evaluation-mode training loss.
        log_scale: logarithmic y axis (losses spanning decades).
        ax: draw here instead of opening a new figure.

    Epochs are numbered from 0, as in :attr:`History.best_epoch`. A dashed
    vertical line (gid ``best-epoch``) and a dot mark the best epoch; a
    dotted red line (gid ``stopped-epoch``) marks where early stopping ended
    training, if it did.
    """
    train, val, label = _history_curves(history, metric)
    if show_batch_loss and metric != "loss":
        raise ValueError("show_batch_loss only applies to metric='loss'")
    fig, ax = _new_axes(ax, HISTORY_FIGSIZE)
    epochs = np.arange(len(train))
    ax.plot(epochs, train, color="C0", label=f"training {label} (eval mode)")
    if show_batch_loss:
        ax.plot(epochs, np.asarray(history.train_batch_loss, dtype=np.float64), color="C0", ls=":", lw=1.2,
                label="training mini-batch loss (train mode)")
    ax.plot(epochs, val, color="C1", label=f"validation {label}")
    best = int(history.best_epoch)
    ax.axvline(best, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="best-epoch", label=f"best epoch ({best})")
    ax.plot([best], [val[best]], "o", color="C1", mec=BEST_EPOCH_COLOR, zorder=3)
    if history.stopped_epoch is not None:
        stopped = int(history.stopped_epoch)
        ax.axvline(stopped, color=STOPPED_EPOCH_COLOR, ls=":", lw=1.5, gid="stopped-epoch",
                   label=f"training stopped (epoch {stopped})")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.set_title(title if title is not None else f"Learning curves: {label} per epoch")
    ax.legend(fontsize=8)
    return fig


def plot_history_panels(history: History, *, suptitle: str = "Learning curves") -> Figure:
    """Loss and, for classification, accuracy side by side (:func:`plot_history` in each panel)."""
    metrics = ["loss"] + (["accuracy"] if getattr(history, "train_accuracy", None) is not None else [])
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(HISTORY_PANEL_FIGSIZE[0] * len(metrics), HISTORY_PANEL_FIGSIZE[1]),
        layout="constrained", squeeze=False,
    )
    for ax, metric in zip(axes[0], metrics):
        plot_history(history, metric=metric, title=metric, ax=ax)
    fig.suptitle(suptitle)
    return fig


SEED_COMPARISON_PANEL_FIGSIZE = (3.6, 3.4)  # per panel
_SEED_METRIC_LABELS = {
    "train_accuracy": "training accuracy",
    "val_accuracy": "validation accuracy",
    "test_accuracy": "test accuracy",
    "test_nll": "test NLL (nats)",
    "test_ece": "test ECE (15 bins)",
    "gap": "train - test accuracy",
    "val_gap": "train - validation accuracy",
}


def plot_seed_comparison(
    runs: Mapping[str, object], metrics: tuple[str, ...] = ("train_accuracy", "test_accuracy", "test_nll"),
    *, suptitle: str = "Configurations over seeds",
) -> Figure:
    """One panel per metric: each configuration's seeds as dots and its mean with a min–max bar.

    The y-range of every panel is fitted to its values (with a margin), so a
    difference of a few points stays visible; the dashed line is the first
    configuration's mean (the reference the others are compared with).

    Args:
        runs: name -> :class:`course_lib.experiments.SeedRuns` (anything whose
            ``summary(metric)`` gives a :class:`~course_lib.experiments.SeedSummary`).
        metrics: metric names of :data:`course_lib.experiments.METRICS`, ``"gap"`` or ``"val_gap"``.
        suptitle: the figure's title.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must map at least one name to SeedRuns")
    unknown = [m for m in metrics if m not in _SEED_METRIC_LABELS]
    if isinstance(metrics, str) or not metrics or unknown:
        raise ValueError(f"metrics must be a tuple of names from {tuple(_SEED_METRIC_LABELS)}, got {metrics!r}")
    width, height = SEED_COMPARISON_PANEL_FIGSIZE
    fig, axes = plt.subplots(1, len(metrics), figsize=(width * len(metrics), height), layout="constrained", squeeze=False)
    names = list(runs)
    positions = np.arange(len(names))
    for ax, metric in zip(axes[0], metrics):
        summaries = [runs[name].summary(metric) for name in names]
        for k, (position, summary) in enumerate(zip(positions, summaries)):
            values = np.asarray(summary.values)
            offsets = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(position + offsets, values, s=12, color=f"C{k}", alpha=0.55, linewidths=0, zorder=2)
            ax.errorbar(position, summary.mean, yerr=[[summary.mean - summary.low], [summary.high - summary.mean]],
                        fmt="o", color=f"C{k}", markersize=6, capsize=5, linewidth=1.5, zorder=3)
        ax.axhline(summaries[0].mean, color=BEST_EPOCH_COLOR, linestyle="--", linewidth=0.8, zorder=1)
        low = min(s.low for s in summaries)
        high = max(s.high for s in summaries)
        margin = 0.12 * (high - low) if high > low else 0.01 * max(abs(high), 1.0)
        ax.set_ylim(low - margin, high + margin)
        ax.set_xticks(positions, names, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.5, len(names) - 0.5)
        ax.set_ylabel(_SEED_METRIC_LABELS[metric])
        ax.grid(axis="y", alpha=0.3)
    n_seeds = sorted({len(runs[name].summary(metrics[0]).values) for name in names})
    fig.suptitle(f"{suptitle} (dots: seeds; bars: min–max over {'/'.join(map(str, n_seeds))} seeds)", fontsize=11)
    return fig


RELIABILITY_PANEL_FIGSIZE = (3.6, 4.4)  # per panel: the diagram above its count histogram
RELIABILITY_BAR_COLOR = "C0"
RELIABILITY_GAP_COLOR = CROSS_COLOR
RELIABILITY_COUNT_COLOR = "0.6"


def _check_diagrams(diagrams: object) -> dict[str, ReliabilityDiagram]:
    if not isinstance(diagrams, Mapping):
        raise TypeError(f"diagrams must be a mapping of labels to ReliabilityDiagram, got {describe_value(diagrams)}")
    if not diagrams:
        raise ValueError("diagrams must map at least one label to a ReliabilityDiagram, got an empty mapping")
    for label, diagram in diagrams.items():
        if not isinstance(label, str) or not label:
            raise ValueError(f"diagrams labels must be non-empty strings, got {label!r}")
        if not isinstance(diagram, ReliabilityDiagram):
            raise TypeError(
                f"diagrams[{label!r}] must be a ReliabilityDiagram (course_lib.metrics.reliability_diagram), "
                f"got {describe_value(diagram)}"
            )
    return dict(diagrams)


def _diagram_ece(diagram: ReliabilityDiagram) -> float:
    r"""The ECE of the diagram's own bins: :math:`\sum_m \frac{|B_m|}{N} |\mathrm{acc}(B_m) - \mathrm{conf}(B_m)|`."""
    filled = diagram.count > 0
    weights = diagram.count[filled] / diagram.count.sum()
    return float(np.sum(weights * np.abs(diagram.accuracy[filled] - diagram.confidence[filled])))


def plot_reliability_diagrams(
    diagrams: Mapping[str, ReliabilityDiagram], *, suptitle: str = "Reliability diagrams"
) -> Figure:
    r"""One reliability diagram per model (Guo et al., 2017), with each bin's count below it.

    Top row: per confidence bin, a bar as wide as the bin at its midpoint up to
    the bin's accuracy (gid ``accuracy-bars``; empty bins have no bar), the gap
    between that accuracy and the bin's mean confidence shaded red (gid
    ``gap-bars``: above the bar when the model is over-confident, inside it
    when under-confident) and the diagonal of perfect calibration (gid
    ``diagonal``). The panel title gives the ECE of the diagram's own bins,

    .. math::

        \mathrm{ECE} = \sum_m \frac{|B_m|}{N}\,\bigl|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\bigr|,

    the value :func:`course_lib.metrics.expected_calibration_error` gives for
    the same predictions and bins. Bottom row: the number of predictions per
    bin (gid ``count-bars``), which says how much each bar weighs in the ECE.

    Args:
        diagrams: label -> :class:`course_lib.metrics.ReliabilityDiagram`
            (from :func:`course_lib.metrics.reliability_diagram`), e.g.
            ``{"one pass (eval mode)": …, "MC dropout, 100 passes": …}``.
        suptitle: the figure's title.
    """
    checked = _check_diagrams(diagrams)
    if not isinstance(suptitle, str):
        raise TypeError(f"suptitle must be a str, got {describe_value(suptitle)}")
    width, height = RELIABILITY_PANEL_FIGSIZE
    fig = plt.figure(figsize=(width * len(checked), height), layout="constrained")
    axes = fig.subplots(2, len(checked), sharex="col", squeeze=False, gridspec_kw={"height_ratios": (3, 1)})
    for k, (label, diagram) in enumerate(checked.items()):
        top, bottom = axes[0, k], axes[1, k]
        widths = np.diff(diagram.edges)
        middles = diagram.edges[:-1] + widths / 2
        filled = diagram.count > 0
        accuracy, confidence = diagram.accuracy[filled], diagram.confidence[filled]
        top.bar(middles[filled], accuracy, width=widths[filled], color=RELIABILITY_BAR_COLOR, edgecolor="white",
                linewidth=0.6, label="accuracy of the bin", gid="accuracy-bars")
        top.bar(middles[filled], np.abs(accuracy - confidence), bottom=np.minimum(accuracy, confidence),
                width=widths[filled], color=RELIABILITY_GAP_COLOR, alpha=0.35, edgecolor=RELIABILITY_GAP_COLOR,
                linewidth=0, hatch="//", label="gap to its mean confidence", gid="gap-bars")
        top.plot([0.0, 1.0], [0.0, 1.0], ls="--", lw=1.0, color=BEST_EPOCH_COLOR, label="perfect calibration",
                 gid="diagonal")
        top.set_xlim(0.0, 1.0)
        top.set_ylim(0.0, 1.0)
        top.set_ylabel("accuracy")
        top.set_title(f"{label}\nECE = {_diagram_ece(diagram):.3f}", fontsize=10)
        top.tick_params(labelbottom=False)
        if k == 0:
            top.legend(loc="upper left", fontsize=7)
        bottom.bar(middles, diagram.count, width=widths, color=RELIABILITY_COUNT_COLOR, edgecolor="white",
                   linewidth=0.6, gid="count-bars")
        bottom.set_xlabel("confidence (largest probability)")
        bottom.set_ylabel("count")
    fig.suptitle(suptitle)
    return fig

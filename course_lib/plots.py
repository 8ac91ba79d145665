"""The book's figures: each function takes data, draws it, and returns the Figure.

Figures have fixed sizes (the constants below), labelled axes and a title, so
stored notebook outputs are reproducible. Every function accepts an optional
``ax``: without one it opens a new pyplot figure of the fixed size (shown by
``plt.show()`` in a notebook); with one it draws there, which is how
:mod:`course_lib.widgets` renders into off-screen figures. No function here
computes anything an algorithm module should: pass in the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, Polygon

if TYPE_CHECKING:  # the figure functions only read attributes; no import cost at run time
    from course_lib.data import DataSplits
    from course_lib.train import History

__all__ = [
    "NETWORK_FIGSIZE",
    "RUNNING_MEAN_FIGSIZE",
    "ENSEMBLE_PANEL_FIGSIZE",
    "SHRINKAGE_FIGSIZE",
    "CURVES_FIGSIZE",
    "TIME_MASKS_PANEL_FIGSIZE",
    "plot_dropout_network",
    "plot_running_mean",
    "plot_ensemble_vs_eval",
    "plot_feature_shrinkage",
    "plot_learning_curves",
    "plot_time_masks",
    "HISTORY_FIGSIZE",
    "HISTORY_PANEL_FIGSIZE",
    "GENERALIZATION_GAP_FIGSIZE",
    "DATA_SPLITS_FIGSIZE",
    "plot_history",
    "plot_history_panels",
    "plot_generalization_gap",
    "plot_data_splits",
    "MONOMIAL_FIGSIZE",
    "plot_monomial_counts",
    "CONSTRAINT_GEOMETRY_FIGSIZE",
    "WEIGHT_HISTOGRAM_PANEL_FIGSIZE",
    "WEIGHT_NORMS_FIGSIZE",
    "SPARSITY_PATH_FIGSIZE",
    "ERROR_VS_STRENGTH_FIGSIZE",
    "PRUNING_CURVES_FIGSIZE",
    "HESSIAN_SHRINKAGE_FIGSIZE",
    "strength_label",
    "plot_constraint_geometry",
    "plot_weight_histograms",
    "plot_weight_norms",
    "plot_sparsity_path",
    "plot_error_vs_strength",
    "plot_pruning_curves",
    "plot_hessian_shrinkage",
    "OPTIMIZER_PATHS_FIGSIZE",
    "EFFECTIVE_DECAY_FIGSIZE",
    "HYPERPARAMETER_GRID_PANEL_FIGSIZE",
    "HYPERPARAMETER_COLORBAR_WIDTH",
    "plot_optimizer_paths",
    "plot_effective_decay",
    "plot_hyperparameter_grids",
    "best_strength_per_row",
]

NETWORK_FIGSIZE = (6.4, 3.6)
RUNNING_MEAN_FIGSIZE = (7.0, 3.6)
ENSEMBLE_PANEL_FIGSIZE = (3.3, 3.4)  # per panel
SHRINKAGE_FIGSIZE = (6.4, 3.4)
CURVES_FIGSIZE = (7.0, 3.4)
TIME_MASKS_PANEL_FIGSIZE = (3.6, 2.9)  # per panel
HISTORY_FIGSIZE = (7.0, 3.4)
HISTORY_PANEL_FIGSIZE = (4.6, 3.4)  # per panel
GENERALIZATION_GAP_FIGSIZE = (7.0, 3.6)
DATA_SPLITS_FIGSIZE = (6.4, 4.0)

KEPT_COLORS = {"input": "#8fb3de", "hidden": "#4c72b0", "output": "#dd8452"}
DROPPED_COLOR = "0.88"
CROSS_COLOR = "#c44e52"
ACTIVE_EDGE_COLOR = "#4c72b0"
INACTIVE_EDGE_COLOR = "0.85"
BEST_EPOCH_COLOR = "0.25"
STOPPED_EPOCH_COLOR = CROSS_COLOR
UNDERFITTING_COLOR = "#8fb3de"
OVERFITTING_COLOR = "#e8a27c"
SPLIT_MARKERS = {"train": "o", "val": "^", "test": "s"}


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def _check_layer_masks(layer_sizes: Sequence[int], masks: Sequence[np.ndarray]) -> tuple[list[int], list[np.ndarray]]:
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
        raise ValueError(f"layer_sizes must list at least two positive ints, got {tuple(layer_sizes)!r}")
    masks = [np.asarray(m) for m in masks]
    if len(masks) != len(sizes):
        raise ValueError(f"masks must hold one keep mask per layer ({len(sizes)}), got {len(masks)}")
    for i, (n, m) in enumerate(zip(sizes, masks)):
        if m.dtype != np.bool_ or m.shape != (n,):
            raise ValueError(f"masks[{i}] must be a boolean array of shape ({n},), got {m.dtype} {m.shape}")
    return [int(n) for n in sizes], masks


def _layer_names(n_layers: int) -> list[str]:
    if n_layers == 2:
        return ["input", "output"]
    hidden = ["hidden"] if n_layers == 3 else [f"hidden {i}" for i in range(1, n_layers - 1)]
    return ["input", *hidden, "output"]


def plot_dropout_network(
    layer_sizes: Sequence[int],
    masks: Sequence[np.ndarray],
    *,
    title: str = "A dropout network: kept and dropped units",
    ax: Axes | None = None,
) -> Figure:
    """Draw a fully connected network with its dropped units greyed out and crossed.

    Args:
        layer_sizes: units per layer, input first, e.g. ``(4, 6, 6, 2)``.
        masks: one boolean keep mask per layer (True = kept).
        title: the axes title.
        ax: draw here instead of opening a new figure.

    A connection is drawn dark when both of its end units are kept (it carries
    signal in this pass) and faint otherwise. The artists carry gids
    (``active-connections``, ``silent-connections``, ``kept-units``,
    ``dropped-units``, ``dropped-crosses``) so tests can find them.
    """
    sizes, masks = _check_layer_masks(layer_sizes, masks)
    fig, ax = _new_axes(ax, NETWORK_FIGSIZE)
    tallest = max(sizes)
    positions = [
        np.column_stack([np.full(n, float(layer)), (n - 1) / 2.0 - np.arange(n)]) for layer, n in enumerate(sizes)
    ]

    active, inactive = [], []
    for layer in range(len(sizes) - 1):
        for i, start in enumerate(positions[layer]):
            for j, end in enumerate(positions[layer + 1]):
                (active if masks[layer][i] and masks[layer + 1][j] else inactive).append([start, end])
    silent_lines = LineCollection(inactive, colors=INACTIVE_EDGE_COLOR, linewidths=0.6, linestyles=":", zorder=1)
    active_lines = LineCollection(active, colors=ACTIVE_EDGE_COLOR, linewidths=0.9, alpha=0.7, zorder=2)
    silent_lines.set_gid("silent-connections")
    active_lines.set_gid("active-connections")
    ax.add_collection(silent_lines)
    ax.add_collection(active_lines)

    names = _layer_names(len(sizes))
    size = 420 if tallest <= 8 else 220
    for layer, (xy, keep) in enumerate(zip(positions, masks)):
        kind = "input" if layer == 0 else "output" if layer == len(sizes) - 1 else "hidden"
        kept, dropped = xy[keep], xy[~keep]
        ax.scatter(kept[:, 0], kept[:, 1], s=size, c=KEPT_COLORS[kind], edgecolors="black", linewidths=0.8, zorder=3,
                   gid="kept-units")
        ax.scatter(dropped[:, 0], dropped[:, 1], s=size, c=DROPPED_COLOR, edgecolors="0.6", linewidths=0.8, zorder=3,
                   gid="dropped-units")
        ax.scatter(dropped[:, 0], dropped[:, 1], s=size * 0.45, marker="x", c=CROSS_COLOR, linewidths=2.0, zorder=4,
                   gid="dropped-crosses")

    ax.set_xticks(range(len(sizes)), [f"{name}\n({n} units)" for name, n in zip(names, sizes)])
    ax.set_yticks([])
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-tallest / 2.0, tallest / 2.0)
    ax.set_xlabel("layer")
    ax.set_title(title)
    ax.grid(False)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    handles = [
        Line2D([], [], marker="o", ls="", ms=9, mfc=KEPT_COLORS["hidden"], mec="black", label="kept unit"),
        Line2D([], [], marker="X", ls="", ms=9, mfc=CROSS_COLOR, mec=DROPPED_COLOR, label="dropped unit"),
        Line2D([], [], color=ACTIVE_EDGE_COLOR, label="active connection"),
        Line2D([], [], color="0.6", ls=":", label="silent connection"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def plot_running_mean(
    running_mean: np.ndarray,
    standard_error: np.ndarray,
    eval_output: np.ndarray,
    *,
    output_labels: Sequence[str] | None = None,
    title: str = "Training-mode passes average to the eval-mode output",
    ax: Axes | None = None,
) -> Figure:
    r"""Running mean of N training-mode outputs with a ±2 standard-error band, against the eval output.

    Args:
        running_mean: ``(N,)`` or ``(N, outputs)`` running means after 1..N passes.
        standard_error: same shape; NaN entries (e.g. after one pass) draw no band.
        eval_output: ``()`` or ``(outputs,)`` evaluation-mode values, drawn dashed.
        output_labels: legend label per output (default ``output 0``, ``output 1`` …).
    """
    running_mean = np.asarray(running_mean, dtype=np.float64)
    standard_error = np.asarray(standard_error, dtype=np.float64)
    eval_output = np.atleast_1d(np.asarray(eval_output, dtype=np.float64))
    if running_mean.ndim == 1:
        running_mean, standard_error = running_mean[:, None], standard_error[:, None]
    shapes_agree = standard_error.shape == running_mean.shape and eval_output.shape == running_mean.shape[1:]
    if running_mean.ndim != 2 or not shapes_agree:
        raise ValueError(
            "running_mean and standard_error must share a shape (N, outputs) and eval_output have shape (outputs,), "
            f"got {running_mean.shape}, {standard_error.shape} and {eval_output.shape}"
        )
    n_outputs = running_mean.shape[1]
    labels = list(output_labels) if output_labels is not None else [f"output {k}" for k in range(n_outputs)]
    if len(labels) != n_outputs:
        raise ValueError(f"output_labels must have {n_outputs} entries, got {len(labels)}")
    fig, ax = _new_axes(ax, RUNNING_MEAN_FIGSIZE)
    passes = np.arange(1, running_mean.shape[0] + 1)
    for k in range(n_outputs):
        color = f"C{k}"
        band = np.isfinite(standard_error[:, k])
        lower = running_mean[:, k] - 2 * np.where(band, standard_error[:, k], 0.0)
        upper = running_mean[:, k] + 2 * np.where(band, standard_error[:, k], 0.0)
        ax.fill_between(passes, lower, upper, where=band, color=color, alpha=0.2, linewidth=0)
        ax.plot(passes, running_mean[:, k], color=color, label=labels[k])
        ax.axhline(eval_output[k], color=color, ls="--", lw=1.2)
    if running_mean.shape[0] > 1:
        ax.set_xscale("log")
    ax.set_xlim(1, max(running_mean.shape[0], 2))
    ax.set_xlabel("number of training-mode passes N")
    ax.set_ylabel("running mean of the output")
    ax.set_title(title)
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="0.3", ls="--", lw=1.2, label="eval-mode output"),
        Patch(color="0.3", alpha=0.2, label="±2 standard errors"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def plot_ensemble_vs_eval(
    eval_outputs: Sequence[np.ndarray],
    geometric_means: Sequence[np.ndarray],
    arithmetic_means: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    suptitle: str = "Exact dropout ensembles against the eval-mode (weight-scaled) network",
) -> Figure:
    """One scatter panel per network: ensemble probabilities against eval-mode probabilities.

    Points on the diagonal mean the eval-mode network reproduces the ensemble
    exactly. Each argument holds one array per panel, all of one shape
    ``(..., classes)`` within a panel.
    """
    panels = [list(eval_outputs), list(geometric_means), list(arithmetic_means), list(titles)]
    if len({len(a) for a in panels}) != 1 or len(panels[0]) == 0:
        raise ValueError(
            "eval_outputs, geometric_means, arithmetic_means and titles must have the same non-zero length"
        )
    n = len(panels[0])
    fig, axes = plt.subplots(
        1, n, figsize=(ENSEMBLE_PANEL_FIGSIZE[0] * n, ENSEMBLE_PANEL_FIGSIZE[1]), layout="constrained", squeeze=False
    )
    for ax, eval_output, geometric, arithmetic, title in zip(axes[0], *panels):
        eval_output, geometric, arithmetic = (
            np.asarray(a, dtype=np.float64).ravel() for a in (eval_output, geometric, arithmetic)
        )
        if not eval_output.shape == geometric.shape == arithmetic.shape:
            raise ValueError(f"panel {title!r}: the three arrays must have the same size")
        ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="ensemble = eval")
        ax.scatter(eval_output, geometric, s=22, color="C0", label="normalised geometric mean", zorder=3)
        ax.scatter(eval_output, arithmetic, s=22, facecolors="none", edgecolors="C3", label="arithmetic mean", zorder=3)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("eval-mode probability")
        ax.set_ylabel("ensemble probability")
        ax.set_title(title, fontsize=10)
    axes[0][0].legend(loc="upper left", fontsize=7)
    fig.suptitle(suptitle)
    return fig


def plot_feature_shrinkage(
    feature_labels: Sequence[str],
    shrinkage: Mapping[str, np.ndarray],
    *,
    title: str = "Per-feature shrinkage relative to least squares",
    ax: Axes | None = None,
) -> Figure:
    """Grouped bars: each method's fitted weight divided by the least-squares weight, per feature.

    Args:
        feature_labels: one tick label per feature (e.g. its scale).
        shrinkage: method name -> ``(features,)`` ratios ``w_method / w_ols``.
    """
    labels = list(feature_labels)
    if not shrinkage:
        raise ValueError("shrinkage must map at least one method name to its ratios")
    for name, ratios in shrinkage.items():
        if np.shape(ratios) != (len(labels),):
            raise ValueError(f"shrinkage[{name!r}] must have shape ({len(labels)},), got {np.shape(ratios)}")
    fig, ax = _new_axes(ax, SHRINKAGE_FIGSIZE)
    width = 0.8 / len(shrinkage)
    positions = np.arange(len(labels))
    for k, (name, ratios) in enumerate(shrinkage.items()):
        ax.bar(positions + (k - (len(shrinkage) - 1) / 2) * width, ratios, width=width, color=f"C{k}", label=name)
    ax.axhline(1.0, color="0.4", lw=1, ls="--", label="no shrinkage")
    ax.set_xticks(positions, labels)
    ax.set_xlabel("feature")
    ax.set_ylabel("fitted weight / least-squares weight")
    ax.set_ylim(0, 1.15)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


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


def plot_time_masks(
    masks: Mapping[str, np.ndarray],
    *,
    suptitle: str = "Keep masks over time for a recurrent hidden state",
) -> Figure:
    """One panel per scheme: a ``(time steps, units)`` boolean keep mask, kept = dark."""
    if not masks:
        raise ValueError("masks must map at least one title to a (time, units) mask")
    n = len(masks)
    fig, axes = plt.subplots(
        1, n, figsize=(TIME_MASKS_PANEL_FIGSIZE[0] * n, TIME_MASKS_PANEL_FIGSIZE[1]), layout="constrained",
        squeeze=False,
    )
    for ax, (title, mask) in zip(axes[0], masks.items()):
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.ndim != 2:
            raise ValueError(
                f"masks[{title!r}] must be a 2-D boolean array (time, units), got {mask.dtype} {mask.shape}"
            )
        ax.imshow(mask, cmap="Greys", vmin=0, vmax=1.4, aspect="auto", interpolation="nearest")
        ax.set_xlabel("hidden unit")
        ax.set_ylabel("time step")
        ax.set_title(title, fontsize=10)
        ax.grid(False)
    fig.suptitle(suptitle)
    return fig


# ---------------------------------------------------------------------------
# Training runs and data sets (course_lib.train, course_lib.data)
# ---------------------------------------------------------------------------

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


def _mean_and_band(name: str, values: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray | None]:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[-1] != n_points:
        raise ValueError(f"{name} must have shape ({n_points},) or (runs, {n_points}), got {values.shape}")
    if values.ndim == 1 or len(values) == 1:
        return values.reshape(-1, n_points)[0], None
    return values.mean(axis=0), np.stack([values.min(axis=0), values.max(axis=0)])


def _region_label(ax: Axes, low: float, high: float, text: str, log_x: bool, gid: str) -> None:
    middle = math.sqrt(low * high) if log_x else (low + high) / 2
    label = ax.text(middle, 0.97, text, transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize=9, color="0.3")
    label.set_gid(gid)


def plot_generalization_gap(
    x: np.ndarray,
    train_error: np.ndarray,
    val_error: np.ndarray,
    *,
    xlabel: str,
    ylabel: str = "error",
    title: str = "Training and validation error: the generalization gap",
    log_x: bool = False,
    mark_regions: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Final training and validation error against capacity (or training-set size), with the gap shaded.

    Args:
        x: ``(points,)`` strictly increasing capacities (hidden units,
            polynomial degree, …) or training-set sizes.
        train_error, val_error: ``(points,)`` values, or ``(runs, points)``
            to draw the mean with a min–max band.
        xlabel, ylabel, title: labels.
        log_x: logarithmic x axis (e.g. widths 2, 4, …, 1024).
        mark_regions: shade and label the **under-fitting** region (left of
            the lowest mean validation error) and the **over-fitting** region
            (right of it), with a dashed line at the minimum. Meant for a
            capacity axis; turn it off for a training-set-size axis.
        ax: draw here instead of opening a new figure.

    The area between the two mean curves (gid ``gap-band``) is the
    generalization gap. Regions carry gids ``underfitting-region`` and
    ``overfitting-region``, the line ``lowest-validation-error``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) < 2 or not np.all(np.diff(x) > 0):
        raise ValueError(f"x must be a strictly increasing 1-D array of at least two values, got {x!r}")
    if log_x and x[0] <= 0:
        raise ValueError(f"log_x needs positive x values, got x[0] = {x[0]!r}")
    train_mean, train_band = _mean_and_band("train_error", train_error, len(x))
    val_mean, val_band = _mean_and_band("val_error", val_error, len(x))
    fig, ax = _new_axes(ax, GENERALIZATION_GAP_FIGSIZE)
    if log_x:
        ax.set_xscale("log")
    gap = ax.fill_between(x, train_mean, val_mean, color="0.5", alpha=0.15, linewidth=0, label="generalization gap")
    gap.set_gid("gap-band")
    for mean, band, color, label in ((train_mean, train_band, "C0", "training"), (val_mean, val_band, "C1", "validation")):
        ax.plot(x, mean, "o-", color=color, ms=4, label=f"{label} error")
        if band is not None:
            ax.fill_between(x, band[0], band[1], color=color, alpha=0.2, linewidth=0)
    if mark_regions:
        best = int(np.argmin(val_mean))
        low, x_best, high = x[0], x[best], x[-1]
        if x_best > low:
            ax.axvspan(low, x_best, color=UNDERFITTING_COLOR, alpha=0.15, linewidth=0, gid="underfitting-region")
            _region_label(ax, low, x_best, "under-fitting", log_x, "underfitting-label")
        if high > x_best:
            ax.axvspan(x_best, high, color=OVERFITTING_COLOR, alpha=0.15, linewidth=0, gid="overfitting-region")
            _region_label(ax, x_best, high, "over-fitting", log_x, "overfitting-label")
        ax.axvline(x_best, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="lowest-validation-error",
                   label="lowest validation error")
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _as_numpy(tensor: object) -> np.ndarray:
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().numpy()  # type: ignore[union-attr]
    return np.asarray(tensor)


def plot_data_splits(
    data: DataSplits,
    *,
    true_function: Callable[[np.ndarray], np.ndarray] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Scatter a small data set's three splits: 1-D regression or 2-D classification.

    * one feature, regression targets: ``y`` against ``x``, one marker per
      split (``o`` train, ``^`` validation, ``s`` test); ``true_function``,
      if given, is drawn on a grid over the plotted range (e.g.
      :func:`course_lib.data.gap_regression_function`);
    * two features, class labels: the plane, one colour per class and one
      marker per split.

    Args:
        data: a :class:`course_lib.data.DataSplits`.
        true_function: noiseless target for the regression view.
        title: the axes title (default: the data set's name).
        ax: draw here instead of opening a new figure.
    """
    n_features = int(data.n_features)
    regression_1d = n_features == 1 and data.class_names is None
    classification_2d = n_features == 2 and data.class_names is not None
    if not (regression_1d or classification_2d):
        raise ValueError(
            "plot_data_splits draws 1-D regression or 2-D classification data, "
            f"got {n_features} feature(s) and {'class labels' if data.class_names else 'regression targets'}"
        )
    if true_function is not None and not regression_1d:
        raise ValueError("true_function only applies to 1-D regression data")
    fig, ax = _new_axes(ax, DATA_SPLITS_FIGSIZE)
    splits = {s: (_as_numpy(getattr(data, f"X_{s}")), _as_numpy(getattr(data, f"y_{s}"))) for s in SPLIT_MARKERS}
    names = {"train": "training", "val": "validation", "test": "test"}
    if regression_1d:
        for k, (split, (X, y)) in enumerate(splits.items()):
            ax.scatter(X[:, 0], y.reshape(len(y), -1)[:, 0], s=14, marker=SPLIT_MARKERS[split], color=f"C{k}",
                       alpha=0.8, label=f"{names[split]} ({len(X)})")
        if true_function is not None:
            lows, highs = zip(*((X.min(), X.max()) for X, _ in splits.values()))
            grid = np.linspace(min(lows), max(highs), 400)
            ax.plot(grid, np.asarray(true_function(grid), dtype=np.float64), color="0.2", lw=1.2, label="true function")
        ax.set_xlabel(data.feature_names[0])
        ax.set_ylabel("target y")
    else:
        for split, (X, y) in splits.items():
            for c, class_name in enumerate(data.class_names):
                members = y == c
                ax.scatter(X[members, 0], X[members, 1], s=14, marker=SPLIT_MARKERS[split], color=f"C{c}",
                           alpha=0.8 if split == "train" else 0.5, linewidths=0)
        handles = [Patch(color=f"C{c}", label=name) for c, name in enumerate(data.class_names)]
        handles += [Line2D([], [], marker=m, ls="", color="0.4", label=f"{names[s]} ({len(splits[s][0])})")
                    for s, m in SPLIT_MARKERS.items()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        ax.set_xlabel(data.feature_names[0])
        ax.set_ylabel(data.feature_names[1])
        ax.set_aspect("equal", adjustable="datalim")
    if regression_1d:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title if title is not None else f"The {data.name.replace('_', ' ')} data set")
    return fig


MONOMIAL_FIGSIZE = (7.0, 3.6)


def plot_monomial_counts(
    variables: Sequence[int],
    degrees: Sequence[int],
    *,
    ax: Axes | None = None,
    title: str = "The number of polynomial features explodes with k and d",
) -> Figure:
    r"""Number of monomials of degree exactly :math:`d` in :math:`k` variables, :math:`\binom{k-1+d}{k-1}`, on a log scale.

    One line per ``k`` in ``variables``, against the degrees ``degrees``.
    """
    ks = [int(k) for k in variables]
    ds = [int(d) for d in degrees]
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"variables must be a non-empty sequence of ints >= 1, got {list(variables)!r}")
    if not ds or any(d < 0 for d in ds):
        raise ValueError(f"degrees must be a non-empty sequence of ints >= 0, got {list(degrees)!r}")
    fig, ax = _new_axes(ax, MONOMIAL_FIGSIZE)
    for k in ks:
        ax.plot(ds, [math.comb(k - 1 + d, k - 1) for d in ds], "o-", ms=3, label=f"k = {k} variables")
    ax.set_yscale("log")
    ax.set_xlabel("degree d")
    ax.set_ylabel("monomials of degree exactly d")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# Weight decay and L1/L2 penalties (course_lib.regularizers)
# ---------------------------------------------------------------------------

CONSTRAINT_GEOMETRY_FIGSIZE = (7.4, 3.9)
WEIGHT_HISTOGRAM_PANEL_FIGSIZE = (3.4, 2.9)  # per panel (and the height of the norm row)
WEIGHT_NORMS_FIGSIZE = (7.0, 3.4)
SPARSITY_PATH_FIGSIZE = (7.0, 3.4)
ERROR_VS_STRENGTH_FIGSIZE = (7.0, 3.6)
PRUNING_CURVES_FIGSIZE = (7.0, 3.4)
HESSIAN_SHRINKAGE_FIGSIZE = (7.0, 3.4)

UNREGULARIZED_COLOR = "#dd8452"
REGULARIZED_COLOR = "#c44e52"
CONSTRAINT_COLOR = "#55a868"
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def strength_label(strength: float) -> str:
    """``"λ = 0.001"``: how the figures name a penalty strength (``:g`` format, ``"λ = 0"`` for none)."""
    return f"λ = {float(strength):g}"


def _coordinate_name(index: int) -> str:
    """``w₁``, ``w₂`` …: 1-based, as in the text, for the 0-based ``index``."""
    return "w" + str(index + 1).translate(_SUBSCRIPTS)


def _real_array(name: str, values: object, *, ndim: int = 1) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold real numbers, got {values!r}") from None
    if array.ndim != ndim or array.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers, got {array!r}")
    return array


def _check_strength_grid(name: str, strengths: object, *, minimum_points: int = 1) -> np.ndarray:
    """Positive, strictly increasing penalty strengths (they go on a log axis)."""
    values = _real_array(name, strengths)
    if len(values) < minimum_points or np.any(values <= 0) or np.any(np.diff(values) <= 0):
        raise ValueError(
            f"{name} must be at least {minimum_points} positive, strictly increasing values "
            f"(a log axis), got {values.tolist()!r}"
        )
    return values


def _check_series(name: str, series: Mapping[str, Sequence[float]], n_points: int) -> dict[str, np.ndarray]:
    """label -> ``(n_points,)`` finite values, at least one label."""
    if not isinstance(series, Mapping) or not series:
        raise ValueError(f"{name} must map at least one label to its values, got {series!r}")
    checked = {}
    for label, values in series.items():
        values = _real_array(f"{name}[{label!r}]", values)
        if values.shape != (n_points,):
            raise ValueError(f"{name}[{label!r}] must have {n_points} values (one per point), got {len(values)}")
        checked[str(label)] = values
    return checked


def _check_strength_keys(name: str, mapping: Mapping[float, object]) -> list[float]:
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(f"{name} must map at least one weight-decay value λ to its data, got {mapping!r}")
    strengths = []
    for key in mapping:
        if isinstance(key, bool) or not isinstance(key, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} keys must be weight-decay values λ (numbers), got {key!r}")
        if not (math.isfinite(key) and key >= 0):
            raise ValueError(f"{name} keys must be finite weight-decay values λ >= 0, got {key!r}")
        strengths.append(float(key))
    return strengths


def _check_quadratic(hessian: object, center: object) -> tuple[np.ndarray, np.ndarray]:
    hessian = _real_array("hessian", hessian, ndim=2)
    if hessian.shape != (2, 2) or not np.allclose(hessian, hessian.T) or np.linalg.eigvalsh(hessian).min() <= 0:
        raise ValueError(f"hessian must be a symmetric positive-definite 2x2 matrix, got {hessian.tolist()!r}")
    center = _real_array("center", center)
    if center.shape != (2,) or not np.any(center):
        raise ValueError(f"center must be a non-zero point of the plane (2 numbers), got {center.tolist()!r}")
    return hessian, center


def _loss_ellipse(hessian: np.ndarray, center: np.ndarray, level: float, points: int = 241) -> np.ndarray:
    """``(points, 2)`` on the curve ½(w−c)ᵀH(w−c) = level: w = c + √(2 level) H^{-1/2} u, |u| = 1."""
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    inverse_root = eigenvectors @ np.diag(1.0 / np.sqrt(eigenvalues)) @ eigenvectors.T
    angles = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.column_stack([np.cos(angles), np.sin(angles)])
    return center + math.sqrt(2.0 * max(level, 0.0)) * circle @ inverse_root.T


def plot_constraint_geometry(
    hessian: np.ndarray,
    center: np.ndarray,
    strength: float,
    norm: str = "l2",
    *,
    ax: Axes | None = None,
) -> Figure:
    r"""A penalty seen as a constraint: loss ellipses, the norm ball, and the two optima.

    The data loss is :math:`\tfrac12 (w-c)^\top H (w-c)` with its minimum at
    the unregularized optimum ``c``. The penalized optimum
    :math:`w_\lambda` (:func:`course_lib.regularizers.penalized_quadratic_optimum`)
    also minimises the data loss over the ball
    :math:`\{\|w\| \le r\}`, :math:`r = \|w_\lambda\|` (``‖·‖₂`` for ``"l2"``,
    ``‖·‖₁`` for ``"l1"``): penalty and constraint give the same point, where
    the loss ellipse through :math:`w_\lambda` (drawn emphasised) touches the
    ball. Under L1 the ball is a diamond whose corners put coordinates at
    exactly zero.

    Args:
        hessian: ``(2, 2)`` symmetric positive-definite curvature ``H``.
        center: ``(2,)`` unregularized optimum ``c`` (not the origin).
        strength: penalty strength λ >= 0.
        norm: ``"l2"`` (penalty ``λ/2 ‖w‖₂²``) or ``"l1"`` (``λ ‖w‖₁``).
        ax: draw here instead of opening a new figure.

    Artists carry gids: ``loss-contours`` (the other loss levels),
    ``optimum-level`` (the level through :math:`w_\lambda`), ``constraint-ball``,
    ``unregularized-optimum`` and ``regularized-optimum``. The title states the
    norm, λ, the shrinkage ``100 (1 − ‖w_λ‖₂ / ‖c‖₂)`` % and, under L1, which
    coordinates are exactly zero.
    """
    from course_lib.regularizers import penalized_quadratic_optimum  # the algorithm lives there

    hessian, center = _check_quadratic(hessian, center)
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.integer, np.floating)):
        raise ValueError(f"strength must be a number λ >= 0, got {strength!r}")
    if not (math.isfinite(strength) and strength >= 0):
        raise ValueError(f"strength must be a finite number λ >= 0, got {strength!r}")
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    optimum = np.asarray(penalized_quadratic_optimum(hessian, center, float(strength), norm=norm), dtype=np.float64)
    radius = float(np.abs(optimum).sum() if norm == "l1" else np.linalg.norm(optimum))
    shrinkage = round(100.0 * (1.0 - np.linalg.norm(optimum) / np.linalg.norm(center)), 1) + 0.0  # no "-0.0%"

    fig, ax = _new_axes(ax, CONSTRAINT_GEOMETRY_FIGSIZE)
    loss_at_origin = 0.5 * center @ hessian @ center
    levels = loss_at_origin * (np.arange(1, 11) / 7.0) ** 2  # evenly spaced ellipses, a few beyond the origin
    ellipses = LineCollection(
        [_loss_ellipse(hessian, center, level) for level in levels],
        cmap="Blues_r", linewidths=0.9, alpha=0.8, zorder=1, label="data-loss contours",
    )
    ellipses.set_array(np.linspace(0.0, 0.6, len(levels)))
    ellipses.set_gid("loss-contours")
    ax.add_collection(ellipses)
    optimum_level = 0.5 * (optimum - center) @ hessian @ (optimum - center)
    ring = _loss_ellipse(hessian, center, optimum_level)
    ax.plot(ring[:, 0], ring[:, 1], color="#4c72b0", lw=2.0, zorder=3, gid="optimum-level",
            label=r"loss level through $w_\lambda$")

    if norm == "l2":
        ball = Circle((0.0, 0.0), radius, label=f"L2 ball ‖w‖₂ ≤ {radius:.3f}")
    else:
        diamond = [(radius, 0.0), (0.0, radius), (-radius, 0.0), (0.0, -radius)]
        ball = Polygon(diamond, closed=True, label=f"L1 ball ‖w‖₁ ≤ {radius:.3f}")
    ball.set(facecolor=CONSTRAINT_COLOR, edgecolor=CONSTRAINT_COLOR, alpha=0.3, linewidth=1.5, zorder=2,
             gid="constraint-ball")
    ax.add_patch(ball)

    ax.axhline(0.0, color="0.3", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.3", lw=0.8, zorder=0)
    ax.plot([center[0]], [center[1]], marker="*", ms=14, ls="", color=UNREGULARIZED_COLOR, mec="black", zorder=5,
            gid="unregularized-optimum", label=f"unregularized optimum c = ({center[0]:.2f}, {center[1]:.2f})")
    ax.plot([optimum[0]], [optimum[1]], marker="o", ms=8, ls="", color=REGULARIZED_COLOR, mec="black", zorder=6,
            gid="regularized-optimum", label=rf"regularized optimum $w_\lambda$ = ({optimum[0]:.3f}, {optimum[1]:.3f})")

    reach = max(float(np.abs(center).max()), radius)
    pad = 0.35 * reach
    ax.set_xlim(min(-radius, center[0], 0.0) - pad, max(radius, center[0], 0.0) + pad)
    ax.set_ylim(min(-radius, center[1], 0.0) - pad, max(radius, center[1], 0.0) + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(_coordinate_name(0))
    ax.set_ylabel(_coordinate_name(1))
    title = f"{norm.upper()} penalty, {strength_label(strength)}: ‖w‖₂ shrunk by {shrinkage:.1f}%"
    if norm == "l1":
        zeros = [_coordinate_name(i) for i in np.flatnonzero(optimum == 0.0)]
        title += "\n" + (" = ".join(zeros) + " = 0 exactly" if zeros else "no coordinate exactly zero")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _default_epochs(n_epochs: int) -> list[int]:
    return sorted({0, (n_epochs - 1) // 2, n_epochs - 1})


def _check_snapshots(snapshots: Mapping[float, Sequence[np.ndarray]]) -> dict[float, list[np.ndarray]]:
    strengths = _check_strength_keys("snapshots", snapshots)
    checked = {}
    for strength, epochs in zip(strengths, snapshots.values()):
        if isinstance(epochs, np.ndarray) and epochs.ndim == 1:
            raise ValueError(f"snapshots[{strength:g}] must be a sequence of 1-D arrays (one per epoch), got one array")
        arrays = [_real_array(f"snapshots[{strength:g}][{k}]", epoch) for k, epoch in enumerate(epochs)]
        if not arrays:
            raise ValueError(f"snapshots[{strength:g}] must hold at least one epoch's weights")
        checked[strength] = arrays
    return checked


def plot_weight_histograms(
    snapshots: Mapping[float, Sequence[np.ndarray]],
    *,
    epochs_to_show: Sequence[int] | None = None,
    bins: int = 40,
    show_norms: bool = True,
    suptitle: str = "Weight decay pulls the weights towards zero",
) -> Figure:
    """Histograms of a network's weights over training, one column per weight-decay value.

    Args:
        snapshots: λ -> one 1-D array of all weights per recorded epoch (epoch 0
            = initialisation).
        epochs_to_show: the epochs overlaid in each panel (default: first,
            middle and last of each run).
        bins: number of bins over the x-range shared by all panels.
        show_norms: add a row underneath with ``‖w‖₂`` per epoch for every λ
            (:func:`plot_weight_norms` of the snapshots' norms).
        suptitle: the figure title.

    Each histogram is a step outline (gid ``weight-histogram``) labelled ``epoch k``.
    """
    runs = _check_snapshots(snapshots)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    if epochs_to_show is not None:
        shown = [int(e) for e in epochs_to_show]
        shortest = min(len(arrays) for arrays in runs.values())
        if not shown or any(e < 0 or e >= shortest for e in shown):
            raise ValueError(f"epochs_to_show must be epochs in [0, {shortest - 1}], got {list(epochs_to_show)!r}")
    shown_by_run = {s: (shown if epochs_to_show is not None else _default_epochs(len(a))) for s, a in runs.items()}
    values = np.concatenate([runs[s][e] for s, epochs in shown_by_run.items() for e in epochs])
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, int(bins) + 1)

    n = len(runs)
    width, height = WEIGHT_HISTOGRAM_PANEL_FIGSIZE
    fig = plt.figure(figsize=(max(width * n, WEIGHT_NORMS_FIGSIZE[0]), height * (2 if show_norms else 1)),
                     layout="constrained")
    grid = fig.add_gridspec(2 if show_norms else 1, n)
    for column, (strength, arrays) in enumerate(runs.items()):
        ax = fig.add_subplot(grid[0, column])
        for k, epoch in enumerate(shown_by_run[strength]):
            counts, _ = np.histogram(arrays[epoch], bins=edges)
            ax.stairs(counts, edges, color=f"C{k}", lw=1.4, label=f"epoch {epoch}", gid="weight-histogram")
        ax.set_xlim(low, high)
        ax.set_xlabel("weight value")
        ax.set_ylabel("number of weights")
        ax.set_title(strength_label(strength))
        ax.legend(fontsize=7)
    if show_norms:
        norms = {s: [float(np.linalg.norm(a)) for a in arrays] for s, arrays in runs.items()}
        plot_weight_norms(norms, ax=fig.add_subplot(grid[1, :]))
    fig.suptitle(suptitle)
    return fig


def plot_weight_norms(
    norms_by_strength: Mapping[float, Sequence[float]],
    *,
    log_y: bool = False,
    title: str = "Weight norm during training",
    ax: Axes | None = None,
) -> Figure:
    """``‖w‖₂`` per epoch (epoch 0 = initialisation), one line per weight-decay value λ (gid ``weight-norm``)."""
    strengths = _check_strength_keys("norms_by_strength", norms_by_strength)
    series = []
    for strength, norms in zip(strengths, norms_by_strength.values()):
        norms = _real_array(f"norms_by_strength[{strength:g}]", norms)
        if np.any(norms < 0) or (log_y and np.any(norms == 0)):
            raise ValueError(f"norms_by_strength[{strength:g}] must hold norms > 0 (>= 0 without log_y)")
        series.append((strength, norms))
    fig, ax = _new_axes(ax, WEIGHT_NORMS_FIGSIZE)
    for k, (strength, norms) in enumerate(series):
        ax.plot(np.arange(len(norms)), norms, "o-", ms=3, color=f"C{k}", label=strength_label(strength),
                gid="weight-norm")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖w‖₂ (all weights)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _check_strength_name(strength_name: object) -> None:
    if not isinstance(strength_name, str) or not strength_name:
        raise ValueError(f"strength_name must be a non-empty str, got {strength_name!r}")


def plot_sparsity_path(
    strengths: Sequence[float],
    zero_counts: Sequence[int],
    n_weights: int,
    *,
    label: str = "L1 penalty",
    other: Mapping[str, Sequence[int]] | None = None,
    title: str = "Only the L1 penalty sets weights exactly to zero",
    strength_name: str = "λ",
    ax: Axes | None = None,
) -> Figure:
    """Number of exactly-zero coefficients against the penalty strength λ (log x).

    Args:
        strengths: ``(points,)`` positive, increasing λ values.
        zero_counts: ``(points,)`` exactly-zero coefficients at each λ (gid ``zero-counts``).
        n_weights: number of coefficients (a dashed line, gid ``all-weights``).
        label: legend label of ``zero_counts``.
        other: further series, label -> counts (e.g. ``{"L2 penalty": [0, 0, …]}``).
        title: the axes title.
        strength_name: the symbol of the strength on the x axis (e.g. ``"α"``).
        ax: draw here instead of opening a new figure.
    """
    strengths = _check_strength_grid("strengths", strengths)
    _check_strength_name(strength_name)
    if isinstance(n_weights, bool) or not isinstance(n_weights, (int, np.integer)) or n_weights < 1:
        raise ValueError(f"n_weights must be a positive int, got {n_weights!r}")
    series = _check_series("zero_counts", {label: zero_counts}, len(strengths))
    if other is not None:
        series |= _check_series("other", other, len(strengths))
    for name, counts in series.items():
        if np.any(counts < 0) or np.any(counts > n_weights) or np.any(counts != np.round(counts)):
            raise ValueError(f"counts of {name!r} must be whole numbers in [0, {n_weights}], got {counts.tolist()!r}")
    fig, ax = _new_axes(ax, SPARSITY_PATH_FIGSIZE)
    for k, (name, counts) in enumerate(series.items()):
        ax.plot(strengths, counts, "o-" if k == 0 else "s--", ms=4, color=f"C{k}", label=name,
                gid="zero-counts" if k == 0 else "other-zero-counts")
    ax.axhline(n_weights, color="0.4", ls=":", lw=1.2, gid="all-weights", label=f"all {n_weights} weights")
    ax.set_xscale("log")
    ax.set_ylim(-0.03 * n_weights, 1.08 * n_weights)
    ax.set_xlabel(f"penalty strength {strength_name}")
    ax.set_ylabel("weights exactly zero")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def plot_error_vs_strength(
    strengths: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    *,
    best: bool = True,
    best_of: str | None = None,
    ylabel: str = "mean squared error",
    log_y: bool = False,
    title: str = "Training and test error against the penalty strength",
    strength_name: str = "λ",
    ax: Axes | None = None,
) -> Figure:
    """Errors against the penalty strength λ (log x), marking the λ with the lowest test error.

    Args:
        strengths: ``(points,)`` positive, increasing λ values.
        errors: label -> ``(points,)`` errors, e.g. ``{"training": …, "test": …}``.
        best: mark the λ minimising ``errors[best_of]`` (a dashed line, gid
            ``best-strength``, and a point, gid ``best-point``).
        best_of: the series to minimise (default: the label containing
            ``"test"``, else the last one).
        ylabel, title: labels; ``log_y``: logarithmic error axis.
        strength_name: the symbol of the strength on the axis and in the
            legend, e.g. ``"α"`` for scikit-learn's ``alpha``.
        ax: draw here instead of opening a new figure.
    """
    strengths = _check_strength_grid("strengths", strengths, minimum_points=2)
    _check_strength_name(strength_name)
    series = _check_series("errors", errors, len(strengths))
    if best_of is None:
        best_of = next((name for name in series if "test" in name.lower()), list(series)[-1])
    elif best_of not in series:
        raise ValueError(f"best_of must be one of the labels of errors {list(series)!r}, got {best_of!r}")
    if log_y and any(np.any(values <= 0) for values in series.values()):
        raise ValueError("errors must be positive with log_y")
    fig, ax = _new_axes(ax, ERROR_VS_STRENGTH_FIGSIZE)
    for k, (name, values) in enumerate(series.items()):
        ax.plot(strengths, values, "o-", ms=3, color=f"C{k}", label=f"{name} error")
    if best:
        index = int(np.argmin(series[best_of]))
        x_best, y_best = strengths[index], series[best_of][index]
        color = f"C{list(series).index(best_of)}"
        ax.axvline(x_best, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="best-strength",
                   label=f"lowest {best_of} error at {strength_name} = {x_best:.3g}")
        ax.plot([x_best], [y_best], "o", ms=9, color=color, mec=BEST_EPOCH_COLOR, zorder=3, gid="best-point")
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(f"penalty strength {strength_name}")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def plot_pruning_curves(
    fractions: Sequence[float],
    accuracies: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "test accuracy",
    title: str = "Accuracy after pruning the smallest weights",
    ax: Axes | None = None,
) -> Figure:
    """Accuracy against the fraction of weights pruned (smallest magnitude first), one line per model.

    Args:
        fractions: ``(points,)`` increasing fractions in [0, 1].
        accuracies: model label -> ``(points,)`` accuracies (gid ``pruning-curve``),
            e.g. ``{"no weight decay": …, "λ = 0.001": …}``.
    """
    fractions = _real_array("fractions", fractions)
    if np.any(fractions < 0) or np.any(fractions > 1) or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"fractions must be strictly increasing values in [0, 1], got {fractions.tolist()!r}")
    series = _check_series("accuracies", accuracies, len(fractions))
    fig, ax = _new_axes(ax, PRUNING_CURVES_FIGSIZE)
    for k, (name, values) in enumerate(series.items()):
        ax.plot(100.0 * fractions, values, "o-", ms=3, color=f"C{k}", label=name, gid="pruning-curve")
    ax.set_xlabel("weights pruned (%)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def plot_hessian_shrinkage(
    eigenvalues: Sequence[float],
    weight_decay: float,
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""Weight decay shrinks each Hessian eigen-direction by :math:`\lambda_i / (\lambda_i + \lambda)`.

    Draws the factor as a curve over a log range of eigenvalues (gid
    ``shrinkage-curve``), the chosen Hessian's eigenvalues as points on it
    (gid ``hessian-eigenvalues``), and the half-way point :math:`\lambda_i =
    \lambda` (line gid ``half-way``): directions of curvature well above λ are
    kept, those well below are suppressed.

    Args:
        eigenvalues: the Hessian's eigenvalues, all > 0.
        weight_decay: λ > 0.
        title: the axes title (default names λ).
        ax: draw here instead of opening a new figure.
    """
    eigenvalues = _real_array("eigenvalues", eigenvalues)
    if np.any(eigenvalues <= 0):
        raise ValueError(f"eigenvalues must be > 0 (a log axis), got {eigenvalues.tolist()!r}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float, np.integer, np.floating)):
        raise ValueError(f"weight_decay must be a number λ > 0, got {weight_decay!r}")
    if not (math.isfinite(weight_decay) and weight_decay > 0):
        raise ValueError(f"weight_decay must be a finite number λ > 0, got {weight_decay!r}")
    weight_decay = float(weight_decay)
    low = math.log10(min(eigenvalues.min(), weight_decay)) - 1.0
    high = math.log10(max(eigenvalues.max(), weight_decay)) + 1.0
    grid = np.logspace(low, high, 400)
    fig, ax = _new_axes(ax, HESSIAN_SHRINKAGE_FIGSIZE)
    ax.plot(grid, grid / (grid + weight_decay), color="C0", gid="shrinkage-curve", label="λᵢ / (λᵢ + λ)")
    ax.plot(eigenvalues, eigenvalues / (eigenvalues + weight_decay), "o", ms=6, color="C1", mec="black", zorder=3,
            gid="hessian-eigenvalues", label=f"the Hessian's {len(eigenvalues)} eigenvalues")
    ax.axvline(weight_decay, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="half-way",
               label=f"half-way: λᵢ = {strength_label(weight_decay)}")
    ax.plot([weight_decay], [0.5], "s", ms=6, color=BEST_EPOCH_COLOR, zorder=3, gid="half-way-point")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("Hessian eigenvalue λᵢ")
    ax.set_ylabel("shrinkage factor λᵢ / (λᵢ + λ)")
    ax.set_title(title if title is not None else f"Weight decay {strength_label(weight_decay)} per eigen-direction")
    ax.legend(loc="upper left", fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# Adam vs AdamW (course_lib.optim)
# ---------------------------------------------------------------------------

OPTIMIZER_PATHS_FIGSIZE = (7.4, 4.2)
EFFECTIVE_DECAY_FIGSIZE = (7.0, 3.8)
HYPERPARAMETER_GRID_PANEL_FIGSIZE = (3.7, 3.5)  # per panel; the colour bar adds HYPERPARAMETER_COLORBAR_WIDTH
HYPERPARAMETER_COLORBAR_WIDTH = 1.0

DIVERGED_COLOR = "0.82"
BEST_CELL_COLOR = "#c44e52"


def _check_labels(name: str, mapping: object) -> list[str]:
    """The keys of a non-empty mapping label -> data, checked to be non-empty strings."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(f"{name} must map at least one label to its data, got {mapping!r}")
    for label in mapping:
        if not isinstance(label, str) or not label:
            raise ValueError(f"{name} labels must be non-empty strings, got {label!r}")
    return list(mapping)


def _check_extent(extent: object) -> tuple[float, float, float, float]:
    values = _real_array("extent", extent)
    if values.shape != (4,) or not (values[0] < values[1] and values[2] < values[3]):
        raise ValueError(
            f"extent must be (w1_min, w1_max, w2_min, w2_max) with min < max, got {np.asarray(extent).tolist()!r}"
        )
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _check_paths(paths: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    checked = {}
    for label in _check_labels("paths", paths):
        path = _real_array(f"paths[{label!r}]", paths[label], ndim=2)
        if path.shape[1] != 2:
            raise ValueError(f"paths[{label!r}] must have shape (steps + 1, 2), got {path.shape}")
        checked[label] = path
    return checked


def _loss_levels(values: np.ndarray, levels: int) -> np.ndarray:
    """``levels`` contour levels spaced quadratically above the minimum: evenly spaced rings for a quadratic."""
    low, high = float(values.min()), float(values.max())
    return low + (high - low) * (np.arange(1, levels + 1) / (levels + 1)) ** 2


def plot_optimizer_paths(
    loss_on_grid: Callable[[np.ndarray, np.ndarray], np.ndarray],
    extent: Sequence[float],
    paths: Mapping[str, np.ndarray],
    *,
    optimum: Sequence[float] | None = None,
    levels: int = 12,
    grid_points: int = 201,
    title: str = "Optimizer paths on the loss surface",
    ax: Axes | None = None,
) -> Figure:
    """Paths of several optimizers over the contours of a loss of two weights.

    Args:
        loss_on_grid: NumPy loss of the plane: called once as ``loss_on_grid(W1, W2)``
            with the two ``(grid_points, grid_points)`` arrays of :func:`numpy.meshgrid`
            over ``extent``, it returns the loss at every grid point (an array of
            that shape). Element-wise NumPy code such as
            ``lambda W1, W2: 5 * W1**2 + 0.05 * W2**2`` qualifies.
        extent: ``(w1_min, w1_max, w2_min, w2_max)``: the region drawn (the axis limits).
        paths: label -> ``(steps + 1, 2)`` positions, row 0 the start (as returned
            by :func:`course_lib.optim.optimizer_path`).
        optimum: an optional point to mark, e.g. the unregularized minimum.
        levels: number of contour levels (spaced quadratically in the loss, so
            a quadratic's ellipses are evenly spaced).
        grid_points: grid points per axis for the contours.
        title: the axes title.
        ax: draw here instead of opening a new figure.

    Artists carry gids: ``loss-contours``, ``origin``, ``optimum``, and per path
    ``path-<label>`` (the line), ``start-<label>`` and ``final-<label>``
    (one-point markers). The legend gives each path's final position.
    """
    if not callable(loss_on_grid):
        raise ValueError(f"loss_on_grid must be a callable (W1, W2) -> loss values, got {loss_on_grid!r}")
    w1_min, w1_max, w2_min, w2_max = _check_extent(extent)
    checked = _check_paths(paths)
    for name, value, minimum in (("levels", levels, 1), ("grid_points", grid_points, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if optimum is not None:
        optimum = _real_array("optimum", optimum)
        if optimum.shape != (2,):
            raise ValueError(f"optimum must be a point of the plane (2 numbers), got shape {optimum.shape}")
    W1, W2 = np.meshgrid(np.linspace(w1_min, w1_max, grid_points), np.linspace(w2_min, w2_max, grid_points))
    values = np.asarray(loss_on_grid(W1, W2), dtype=np.float64)
    if values.shape != W1.shape or not np.all(np.isfinite(values)):
        raise ValueError(
            f"loss_on_grid must return finite values of the grid's shape {W1.shape}, got shape {values.shape}"
        )
    if values.max() == values.min():
        raise ValueError("loss_on_grid must vary over extent (a constant loss has no contours)")

    fig, ax = _new_axes(ax, OPTIMIZER_PATHS_FIGSIZE)
    contour_levels = _loss_levels(values, int(levels))
    contours = ax.contour(W1, W2, values, levels=contour_levels, cmap="Blues_r", linewidths=0.8, alpha=0.8, zorder=1,
                          vmin=contour_levels[0], vmax=1.5 * contour_levels[-1])  # the highest level stays visible
    contours.set_gid("loss-contours")
    ax.axhline(0.0, color="0.3", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.3", lw=0.8, zorder=0)
    ax.plot([0.0], [0.0], marker="P", ms=9, ls="", color="0.2", zorder=4, gid="origin", label="origin (w = 0)")
    if optimum is not None:
        ax.plot([optimum[0]], [optimum[1]], marker="*", ms=14, ls="", color=UNREGULARIZED_COLOR, mec="black",
                zorder=5, gid="optimum", label=f"unregularized optimum ({optimum[0]:.2f}, {optimum[1]:.2f})")
    for k, (label, path) in enumerate(checked.items()):
        color = f"C{k}"
        final = path[-1]
        ax.plot(path[:, 0], path[:, 1], color=color, lw=1.6, zorder=3, gid=f"path-{label}",
                label=f"{label}: final ({final[0]:.3f}, {final[1]:.3f})")
        ax.plot([path[0, 0]], [path[0, 1]], marker="o", ms=7, ls="", mfc="white", mec=color, mew=1.5, zorder=4,
                gid=f"start-{label}")
        ax.plot([final[0]], [final[1]], marker="o", ms=8, ls="", color=color, mec="black", zorder=6,
                gid=f"final-{label}")
    ax.set_xlim(w1_min, w1_max)
    ax.set_ylim(w2_min, w2_max)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(_coordinate_name(0))
    ax.set_ylabel(_coordinate_name(1))
    ax.set_title(title)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="o", ls="", mfc="white", mec="0.3", label="start"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _positive_array(name: str, values: object) -> np.ndarray:
    array = _real_array(name, values)
    if np.any(array <= 0):
        raise ValueError(f"{name} must hold values > 0 (a log axis), got {array.tolist()!r}")
    return array


def plot_effective_decay(
    gradient_scales: Sequence[float] | Mapping[str, Sequence[float]],
    rates: Mapping[str, Sequence[float]],
    *,
    reference: float | None = None,
    title: str = "Weight decay per step against the gradient scale",
    ax: Axes | None = None,
) -> Figure:
    r"""Each parameter's effective decay rate against its gradient scale, log-log, one series per optimizer.

    Under Adam with an L2 penalty the decay term is divided by the adaptive
    denominator, :math:`\eta\lambda/(\sqrt{\hat v}+\epsilon)`: parameters with a large
    gradient history decay *less*. AdamW decays every parameter by
    :math:`\eta\lambda` (:func:`course_lib.optim.effective_decay_rates`).

    Args:
        gradient_scales: per parameter its gradient scale (√v̂, or the RMS of its
            gradient history), all > 0: one 1-D array shared by every series, or a
            mapping with the labels of ``rates`` (each optimizer's own √v̂).
        rates: label -> per-parameter decay per step (the fraction of the weight
            removed by the decay term), all > 0, e.g. ``{"Adam + L2": …, "AdamW": …}``.
        reference: draw a horizontal line at this rate, e.g. ηλ (gid ``reference``).
        title: the axes title.
        ax: draw here instead of opening a new figure.

    Each series is a scatter with gid ``decay-<label>``.
    """
    labels = _check_labels("rates", rates)
    if isinstance(gradient_scales, Mapping):
        if set(_check_labels("gradient_scales", gradient_scales)) != set(labels):
            raise ValueError(
                f"gradient_scales must have the labels of rates {labels!r}, got {list(gradient_scales)!r}"
            )
        scales = {label: _positive_array(f"gradient_scales[{label!r}]", gradient_scales[label]) for label in labels}
    else:
        shared = _positive_array("gradient_scales", gradient_scales)
        scales = dict.fromkeys(labels, shared)
    series = {}
    for label in labels:
        values = _positive_array(f"rates[{label!r}]", rates[label])
        if values.shape != scales[label].shape:
            raise ValueError(
                f"rates[{label!r}] must have one value per gradient scale ({len(scales[label])}), got {len(values)}"
            )
        series[label] = values
    if reference is not None:
        if isinstance(reference, bool) or not isinstance(reference, (int, float, np.integer, np.floating)):
            raise ValueError(f"reference must be a number > 0 or None, got {reference!r}")
        if not (math.isfinite(reference) and reference > 0):
            raise ValueError(f"reference must be a finite number > 0 (a log axis), got {reference!r}")

    fig, ax = _new_axes(ax, EFFECTIVE_DECAY_FIGSIZE)
    markers = ("o", "s", "^", "D", "v")
    for k, (label, values) in enumerate(series.items()):
        ax.scatter(scales[label], values, s=22, marker=markers[k % len(markers)], color=f"C{k}", alpha=0.8,
                   edgecolors="none", zorder=3, label=label, gid=f"decay-{label}")
    if reference is not None:
        ax.axhline(float(reference), color=BEST_EPOCH_COLOR, ls="--", lw=1.2, zorder=2, gid="reference",
                   label=f"ηλ = {float(reference):g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("gradient scale √v̂")
    ax.set_ylabel("decay per step")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _check_grid_axis(name: str, values: object, *, allow_zero: bool) -> np.ndarray:
    array = _real_array(name, values)
    too_small = np.any(array < 0) if allow_zero else np.any(array <= 0)
    if too_small or np.any(np.diff(array) <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be strictly increasing values {bound}, got {array.tolist()!r}")
    return array


def _check_loss_grids(losses: object, shape: tuple[int, int], log_color: bool) -> dict[str, np.ndarray]:
    checked = {}
    for label in _check_labels("losses", losses):
        values = losses[label]  # type: ignore[index]
        try:
            grid = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"losses[{label!r}] must hold real numbers, got {values!r}") from None
        if grid.shape != shape:
            raise ValueError(
                f"losses[{label!r}] must have shape (len(learning_rates), len(strengths)) = {shape}, got {grid.shape}"
            )
        finite = grid[np.isfinite(grid)]
        if log_color and np.any(finite <= 0):
            raise ValueError(f"losses[{label!r}] must be > 0 where finite with log_color=True")
        checked[label] = np.where(np.isfinite(grid), grid, np.nan)  # every non-finite value is a diverged run
    if not any(np.any(np.isfinite(grid)) for grid in checked.values()):
        raise ValueError("losses must hold at least one finite value (every run diverged)")
    return checked


def _check_best_within(best_within: object) -> float:
    if isinstance(best_within, bool) or not isinstance(best_within, (int, float, np.floating)) \
            or not np.isfinite(best_within) or best_within < 0:
        raise ValueError(f"best_within must be a finite number >= 0, got {best_within!r}")
    return float(best_within)


def best_strength_per_row(losses: np.ndarray, best_within: float = 0.0) -> list[int]:
    """Column index of the best λ in each row of a loss grid (rows = η, columns = increasing λ).

    "Best" is the **largest** λ whose loss is at most ``(1 + best_within)`` times
    the row's smallest finite loss, so that a flat row (λ too small to matter)
    reports its strongest harmless λ instead of whichever tiny difference
    happens to be smallest. Non-finite losses never count. Every row needs at
    least one finite, positive-or-zero minimum.

    Example:
        >>> best_strength_per_row(np.array([[0.300, 0.301, 0.5], [0.4, 0.2, 0.3]]), best_within=0.01)
        [1, 1]
    """
    grid = np.asarray(losses, dtype=np.float64)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"losses must be a non-empty 2-D array, got shape {grid.shape}")
    best_within = _check_best_within(best_within)
    columns = []
    for i, row in enumerate(grid):
        finite = np.isfinite(row)
        if not finite.any():
            raise ValueError(f"losses row {i} has no finite value")
        threshold = row[finite].min() * (1.0 + best_within)
        columns.append(int(np.flatnonzero(finite & (row <= threshold)).max()))
    return columns


def plot_hyperparameter_grids(
    learning_rates: Sequence[float],
    strengths: Sequence[float] | Mapping[str, Sequence[float]],
    losses: Mapping[str, np.ndarray],
    *,
    best_per_row: bool = True,
    best_within: float = 0.0,
    log_color: bool = False,
    annotate: bool = False,
    value_format: str = ".3f",
    colorbar_label: str = "validation loss",
    title: str = "Validation loss over learning rate η and weight decay λ",
    xlabel: str = "weight decay λ",
    mark_best: bool = True,
) -> Figure:
    """Side-by-side heat-maps of a validation loss over a learning rate × weight decay grid, one per optimizer.

    Each panel has the learning rates η on the y axis (bottom to top) and the
    weight decays λ on the x axis, one cell per run, tick labels in ``:g``
    format; all panels share one colour scale and its colour bar, so colours
    compare across optimizers. With ``best_per_row`` the best λ of each η is
    marked (one white dot per row, gid ``best-<label>``), so one sees whether
    the best λ moves with η. The best cell of each panel is outlined (gid
    ``overall-best-<label>``) and named in the panel title. A non-finite loss
    (NaN or inf: a diverged run) is shown grey and is never "best".

    Args:
        learning_rates: ``(rows,)`` strictly increasing η > 0.
        strengths: ``(columns,)`` strictly increasing λ >= 0, shared by all
            panels, or label -> such a sequence (one λ grid per optimizer, all
            of the same length).
        losses: label -> ``(rows, columns)`` validation losses, e.g.
            ``{"Adam + L2": …, "AdamW": …}``; at least one finite value overall.
        best_per_row: mark the best λ of each η.
        best_within: relative tolerance of "best" (>= 0): the marked λ of a row
            is the **largest** λ whose loss is at most ``(1 + best_within)``
            times the row's minimum (:func:`best_strength_per_row`), so near
            ties in a flat row do not make the mark jump.
        log_color: logarithmic colour scale (finite losses must then be > 0).
        annotate: print each finite value in its cell, just below the centre
            (format ``value_format``; annotations with gid ``value-<label>``).
        colorbar_label: the colour bar's label.
        title: the figure title.
        xlabel: the x-axis label of every panel.
        mark_best: outline each panel's lowest cell and name it in the panel
            title; ``False`` for grids of a quantity that has no "best" (the
            panel title is then the label, plus "every run diverged" where
            that is so).

    The heat-maps are images with gid ``grid-<label>``; cell (i, j) is centred
    at x = j, y = i.
    """
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.patches import Rectangle

    learning_rates = _check_grid_axis("learning_rates", learning_rates, allow_zero=False)
    _check_labels("losses", losses)
    if isinstance(strengths, Mapping):
        if set(strengths) != set(losses):
            raise ValueError(f"strengths must have the labels of losses {list(losses)!r}, got {list(strengths)!r}")
        axes_by_label = {label: _check_grid_axis(f"strengths[{label!r}]", values, allow_zero=True)
                         for label, values in strengths.items()}
        if len({len(values) for values in axes_by_label.values()}) != 1:
            raise ValueError("strengths must give every optimizer the same number of λ values")
    else:
        shared = _check_grid_axis("strengths", strengths, allow_zero=True)
        axes_by_label = {label: shared for label in losses}
    best_within = _check_best_within(best_within)
    n_columns = len(next(iter(axes_by_label.values())))
    for name, flag in (("best_per_row", best_per_row), ("log_color", log_color), ("annotate", annotate),
                       ("mark_best", mark_best)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be a bool, got {flag!r}")
    if not isinstance(xlabel, str):
        raise ValueError(f"xlabel must be a str, got {xlabel!r}")
    try:
        format(1.0, value_format)
    except (TypeError, ValueError):
        raise ValueError(f"value_format must be a float format spec such as '.3f', got {value_format!r}") from None
    grids = _check_loss_grids(losses, (len(learning_rates), n_columns), bool(log_color))
    finite = np.concatenate([grid[np.isfinite(grid)] for grid in grids.values()])
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = (low / 2, high * 2) if log_color else (low - 0.5, high + 0.5)
    norm = LogNorm(vmin=low, vmax=high) if log_color else Normalize(vmin=low, vmax=high)
    cmap = plt.get_cmap("viridis").with_extremes(bad=DIVERGED_COLOR)

    n = len(grids)
    width, height = HYPERPARAMETER_GRID_PANEL_FIGSIZE
    fig, axes = plt.subplots(1, n, figsize=(width * n + HYPERPARAMETER_COLORBAR_WIDTH, height),
                             layout="constrained", squeeze=False)
    image = None
    for ax, (label, grid) in zip(axes[0], grids.items()):
        strengths = axes_by_label[label]
        image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", cmap=cmap, norm=norm, aspect="auto",
                          interpolation="nearest")
        image.set_gid(f"grid-{label}")
        if annotate:
            for i, j in zip(*np.nonzero(np.isfinite(grid))):
                dark = norm(grid[i, j]) < 0.5
                ax.annotate(format(grid[i, j], value_format), (j, i), xytext=(0, -7), textcoords="offset points",
                            ha="center", va="center", fontsize=7, color="white" if dark else "black",
                            gid=f"value-{label}")  # below the centre, where the best-λ dot goes
        finite_rows = [i for i in range(grid.shape[0]) if np.any(np.isfinite(grid[i]))]
        if best_per_row and finite_rows:
            columns = best_strength_per_row(grid[finite_rows], best_within)
            ax.plot(columns, finite_rows, "o", ms=5, color="white", mec="black", zorder=3, ls="",
                    gid=f"best-{label}", label="best λ for this η")
        panel_title = label
        if not np.any(np.isfinite(grid)):
            panel_title += "\nevery run diverged"
        elif mark_best:
            i, j = np.unravel_index(int(np.nanargmin(grid)), grid.shape)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1.0, 1.0, fill=False, edgecolor=BEST_CELL_COLOR, lw=2.2,
                                   zorder=4, gid=f"overall-best-{label}"))
            best = format(grid[i, j], value_format)
            panel_title += f"\nbest {best} at η = {learning_rates[i]:g}, λ = {strengths[j]:g}"
        rotate = len(strengths) > 4
        ax.set_xticks(range(len(strengths)), [f"{s:g}" for s in strengths],
                      rotation=45 if rotate else 0, ha="right" if rotate else "center")
        ax.set_yticks(range(len(learning_rates)), [f"{r:g}" for r in learning_rates])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("learning rate η")
        ax.set_title(panel_title, fontsize=9)
    colorbar = fig.colorbar(image, ax=list(axes[0]), label=colorbar_label)
    colorbar.ax.set_gid("colorbar")
    if any(np.any(np.isnan(grid)) for grid in grids.values()):
        fig.legend(handles=[Patch(color=DIVERGED_COLOR, label="diverged")], loc="lower right", fontsize=7)
    fig.suptitle(title)
    return fig

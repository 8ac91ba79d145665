"""The figures of the chapter "Dropout" (book.toml id ``dropout``).

A network with its dropped units, the running mean of training-mode passes
against the eval-mode output, exact dropout ensembles against the weight-scaled
network, per-feature shrinkage, and keep masks over time. The learning curves
the chapter also shows live in :mod:`course_lib.plots.training`. Sizes, ``ax``
and the other conventions are those of :mod:`course_lib.plots`.

The chapter's printed tables are here too, as text "figures" of the same
results: :func:`mode_means_table`, :func:`ensemble_table` and
:func:`shrinkage_table` (beside :func:`plot_feature_shrinkage`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from course_lib.plots import CROSS_COLOR, _new_axes

__all__ = [
    "NETWORK_FIGSIZE", "RUNNING_MEAN_FIGSIZE", "ENSEMBLE_PANEL_FIGSIZE", "SHRINKAGE_FIGSIZE",
    "TIME_MASKS_PANEL_FIGSIZE", "plot_dropout_network", "plot_running_mean", "plot_ensemble_vs_eval",
    "plot_feature_shrinkage", "plot_time_masks", "mode_means_table", "ensemble_table", "shrinkage_table",
]

NETWORK_FIGSIZE = (6.4, 3.6)
RUNNING_MEAN_FIGSIZE = (7.0, 3.6)
ENSEMBLE_PANEL_FIGSIZE = (3.3, 3.4)  # per panel
SHRINKAGE_FIGSIZE = (6.4, 3.4)
TIME_MASKS_PANEL_FIGSIZE = (3.6, 2.9)  # per panel

KEPT_COLORS = {"input": "#8fb3de", "hidden": "#4c72b0", "output": "#dd8452"}
DROPPED_COLOR = "0.88"
MASK_CMAP, MASK_VMAX = "Greys", 1.4  # keep masks: kept (1) dark grey, dropped (0) white
ACTIVE_EDGE_COLOR = "#4c72b0"
INACTIVE_EDGE_COLOR = "0.85"


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
    labels = _check_shrinkage(feature_labels, shrinkage)
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


def plot_time_masks(
    masks: Mapping[str, np.ndarray],
    *,
    suptitle: str = "Keep masks over time for a recurrent hidden state",
) -> Figure:
    """One panel per scheme: a ``(time steps, units)`` boolean keep mask, kept = dark, dropped = white.

    A figure legend names the two colours ("kept" and "dropped"); its patches
    carry the gid ``mask-legend``.
    """
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
        image = ax.imshow(mask, cmap=MASK_CMAP, vmin=0, vmax=MASK_VMAX, aspect="auto", interpolation="nearest")
        ax.set_xlabel("hidden unit")
        ax.set_ylabel("time step")
        ax.set_title(title, fontsize=10)
        ax.grid(False)
    handles = [
        Patch(facecolor=image.cmap(image.norm(value)), edgecolor="0.4", label=label, gid="mask-legend")
        for value, label in ((1, "kept"), (0, "dropped"))
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize=8, title="unit", title_fontsize=8)
    fig.suptitle(suptitle)
    return fig


# ---------------------------------------------------------------------------
# Printed tables of the chapter's results
# ---------------------------------------------------------------------------


def mode_means_table(rows: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """Text table: per dropout form, its mean training-mode output against its evaluation output (2 decimals).

    Args:
        rows: form name -> ``(training mean, evaluation output)``, two 1-D arrays of one length.
    """
    if not rows:
        raise ValueError("rows must map at least one name to (training mean, evaluation output)")
    width = max(len(name) for name in rows) + 3
    lines = [f"{'':{width}s}{'training mean':>22s}{'evaluation':>22s}"]
    for name, (train, evaluation) in rows.items():
        train, evaluation = np.asarray(train, dtype=np.float64), np.asarray(evaluation, dtype=np.float64)
        if train.ndim != 1 or train.shape != evaluation.shape:
            raise ValueError(
                f"rows[{name!r}] must hold two 1-D arrays of one shape, got {train.shape} and {evaluation.shape}"
            )
        lines.append(f"{name:{width}s}{np.array2string(train, precision=2):>22s}"
                     f"{np.array2string(evaluation, precision=2):>22s}")
    return "\n".join(lines)


def ensemble_table(ensembles: Mapping[str, object], *, exact_below: float = 1e-12) -> str:
    """Text table: per network, its number of sub-networks and how far each average is from the eval output.

    Args:
        ensembles: network name -> a :class:`course_lib.dropout.DropoutEnsemble`.
        exact_below: a largest gap below this is printed as ``< exact_below`` (it is rounding).

    Columns: the largest absolute difference from the eval-mode output of the
    normalised geometric mean (``G``) and of the arithmetic mean.
    """
    if not ensembles:
        raise ValueError("ensembles must map at least one name to a DropoutEnsemble")
    width = max(max(len(name) for name in ensembles), len("network")) + 3
    lines = [f"{'network':{width}s}{'sub-networks':>13s}{'max |G - eval|':>16s}{'max |mean - eval|':>19s}"]
    for name, ensemble in ensembles.items():
        geometric_gap = float(np.abs(ensemble.geometric_mean - ensemble.eval_output).max())
        arithmetic_gap = float(np.abs(ensemble.arithmetic_mean - ensemble.eval_output).max())
        shown = f"< {exact_below:.0e}" if geometric_gap < exact_below else f"{geometric_gap:.4f}"
        lines.append(f"{name:{width}s}{len(ensemble.masks):>13d}{shown:>16s}{arithmetic_gap:>19.4f}")
    return "\n".join(lines)


def _check_shrinkage(feature_labels: Sequence[str], shrinkage: Mapping[str, np.ndarray]) -> list[str]:
    """The feature labels as a list, after checking every method has one ratio per feature."""
    labels = list(feature_labels)
    if not shrinkage:
        raise ValueError("shrinkage must map at least one method name to its ratios")
    for name, ratios in shrinkage.items():
        if np.shape(ratios) != (len(labels),):
            raise ValueError(f"shrinkage[{name!r}] must have shape ({len(labels)},), got {np.shape(ratios)}")
    return labels


def shrinkage_table(
    feature_labels: Sequence[str], shrinkage: Mapping[str, np.ndarray], *, quantity: str = "w / w_ols"
) -> str:
    """The numbers of :func:`plot_feature_shrinkage` as a text table: one row per method, one column per feature."""
    labels = _check_shrinkage(feature_labels, shrinkage)
    width = max(max(len(name) for name in shrinkage), len(quantity)) + 3
    column = max(max(len(label) for label in labels) + 2, 7)
    lines = [f"{quantity:{width}s}" + "".join(f"{label:>{column}s}" for label in labels)]
    for name, ratios in shrinkage.items():
        lines.append(f"{name:{width}s}" + "".join(f"{r:>{column}.3f}" for r in np.asarray(ratios, dtype=np.float64)))
    return "\n".join(lines)

"""The figures of the chapter "Adam vs AdamW" (book.toml id ``adamw``).

Optimizer paths over a loss of two weights, each parameter's effective decay
against its gradient scale, and validation-loss heat-maps over a learning rate
× weight decay grid (with :func:`best_strength_per_row`); the algorithms live
in :mod:`course_lib.optim`. Sizes, ``ax`` and the other conventions are those
of :mod:`course_lib.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

from course_lib.plots import (BEST_EPOCH_COLOR, UNREGULARIZED_COLOR, _coordinate_name, _labels_and_legend_beside,
                              _new_axes, _real_array)

__all__ = [
    "OPTIMIZER_PATHS_FIGSIZE", "EFFECTIVE_DECAY_FIGSIZE", "HYPERPARAMETER_GRID_PANEL_FIGSIZE",
    "HYPERPARAMETER_COLORBAR_WIDTH", "plot_optimizer_paths", "plot_effective_decay", "plot_hyperparameter_grids",
    "best_strength_per_row",
]

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
            by :func:`course_lib.optimizer_paths.optimizer_path`).
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
    _labels_and_legend_beside(ax, "gradient scale √v̂", "decay per step", title)
    return fig


def _one_two_five_ticks(low: float, high: float) -> list[float]:
    """The numbers 1, 2 and 5 times a power of ten that lie in ``[low, high]`` (0 < low <= high), in order."""
    exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    candidates = (float(f"{m}e{e}") for e in exponents for m in (1, 2, 5))  # exact decimals: 0.02, not 0.0200…04
    return [tick for tick in candidates if low <= tick <= high]


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
        log_color: logarithmic colour scale (finite losses must then be > 0); the
            colour bar is labelled at the plain numbers 1, 2, 5 × 10^k in its range
            (0.2, 0.5, 1, …) when at least two lie there.
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
    ticks = _one_two_five_ticks(low, high) if log_color else []
    if len(ticks) >= 2:  # plain 1-2-5 numbers (0.2, 0.5, 1), read like the values in the cells, not 2×10⁻¹
        colorbar.set_ticks(ticks, labels=[f"{tick:g}" for tick in ticks])
        colorbar.ax.yaxis.set_minor_formatter(NullFormatter())
    if any(np.any(np.isnan(grid)) for grid in grids.values()):
        fig.legend(handles=[Patch(color=DIVERGED_COLOR, label="diverged")], loc="lower right", fontsize=7)
    fig.suptitle(title)
    return fig

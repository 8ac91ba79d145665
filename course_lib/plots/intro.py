"""The figures of the chapter "Why regularize" (book.toml id ``intro``).

The generalization gap against capacity or training-set size, a small data
set's three splits, and how the number of polynomial features grows. The
learning curves the chapter also shows live in :mod:`course_lib.plots.training`.
Sizes, ``ax`` and the other conventions are those of :mod:`course_lib.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from course_lib.plots import BEST_EPOCH_COLOR, _labels_and_legend_beside, _new_axes

if TYPE_CHECKING:  # the figure functions only read attributes; no import cost at run time
    from course_lib.data import DataSplits

__all__ = [
    "GENERALIZATION_GAP_FIGSIZE", "DATA_SPLITS_FIGSIZE", "plot_generalization_gap", "plot_data_splits",
    "MONOMIAL_FIGSIZE", "plot_monomial_counts",
]

GENERALIZATION_GAP_FIGSIZE = (7.0, 3.6)
DATA_SPLITS_FIGSIZE = (6.4, 4.0)
MONOMIAL_FIGSIZE = (7.0, 3.6)

UNDERFITTING_COLOR = "#8fb3de"
OVERFITTING_COLOR = "#e8a27c"
SPLIT_MARKERS = {"train": "o", "val": "^", "test": "s"}


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
        log_x: logarithmic x axis (e.g. widths 2, 4, …, 1024), ticked at the
            values of ``x``.
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
    if log_x:  # a log axis's decade ticks (10^1, 10^2) hide which values were run: tick the data points
        ax.set_xticks(x, [f"{value:g}" for value in x])
        ax.minorticks_off()
    _labels_and_legend_beside(ax, xlabel, ylabel, title)
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
      :func:`course_lib.synthetic.gap_regression_function`);
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


def plot_monomial_counts(
    variables: Sequence[int],
    degrees: Sequence[int],
    *,
    up_to_degree: bool = False,
    ax: Axes | None = None,
    title: str = "The number of polynomial features explodes with k and d",
) -> Figure:
    r"""Number of monomials in :math:`k` variables against the degree :math:`d`, on a log scale.

    One line per ``k`` in ``variables``, against the degrees ``degrees``. By default
    the monomials of degree exactly :math:`d`, :math:`\binom{k-1+d}{k-1}`; with
    ``up_to_degree`` those of degree at most :math:`d` (constant included),
    :math:`\binom{k+d}{k}`: the number of weights of a degree-:math:`d` polynomial model.
    """
    ks = [int(k) for k in variables]
    ds = [int(d) for d in degrees]
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"variables must be a non-empty sequence of ints >= 1, got {list(variables)!r}")
    if not ds or any(d < 0 for d in ds):
        raise ValueError(f"degrees must be a non-empty sequence of ints >= 0, got {list(degrees)!r}")
    fig, ax = _new_axes(ax, MONOMIAL_FIGSIZE)
    for k in ks:
        counts = [math.comb(k + d, k) if up_to_degree else math.comb(k - 1 + d, k - 1) for d in ds]
        ax.plot(ds, counts, "o-", ms=3, label=f"k = {k} variables")
    ax.set_yscale("log")
    ax.set_xlabel("degree d")
    ax.set_ylabel("monomials of degree at most d" if up_to_degree else "monomials of degree exactly d")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig

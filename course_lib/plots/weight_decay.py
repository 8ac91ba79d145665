"""The figures of the chapter "Weight decay, L2 and L1" (book.toml id ``weight_decay``).

Penalties seen as constraints (loss ellipses and the norm ball), weights and
their norms over training, the L1 sparsity path, error against the penalty
strength, accuracy after pruning, and the shrinkage of each Hessian
eigen-direction; the algorithms live in :mod:`course_lib.regularizers`. Sizes,
``ax`` and the other conventions are those of :mod:`course_lib.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from course_lib.plots import (BEST_EPOCH_COLOR, UNREGULARIZED_COLOR, _coordinate_name, _labels_and_legend_beside,
                              _new_axes, _real_array)

__all__ = [
    "CONSTRAINT_GEOMETRY_FIGSIZE", "WEIGHT_HISTOGRAM_PANEL_FIGSIZE", "WEIGHT_NORMS_FIGSIZE",
    "SPARSITY_PATH_FIGSIZE", "ERROR_VS_STRENGTH_FIGSIZE", "PRUNING_CURVES_FIGSIZE", "HESSIAN_SHRINKAGE_FIGSIZE",
    "format_strength", "strength_label", "plot_constraint_geometry", "plot_weight_histograms", "plot_weight_norms",
    "plot_sparsity_path", "plot_error_vs_strength", "plot_pruning_curves", "plot_hessian_shrinkage",
]

CONSTRAINT_GEOMETRY_FIGSIZE = (7.4, 3.9)
WEIGHT_HISTOGRAM_PANEL_FIGSIZE = (3.4, 2.9)  # per panel (and the height of the norm row)
WEIGHT_NORMS_FIGSIZE = (7.0, 3.4)
SPARSITY_PATH_FIGSIZE = (7.0, 3.4)
ERROR_VS_STRENGTH_FIGSIZE = (7.0, 3.6)
PRUNING_CURVES_FIGSIZE = (7.0, 3.4)
HESSIAN_SHRINKAGE_FIGSIZE = (7.0, 3.4)

REGULARIZED_COLOR = "#c44e52"
CONSTRAINT_COLOR = "#55a868"


def format_strength(strength: float) -> str:
    """A penalty strength as the chapter's figures and demos print it: 3 significant digits, ``:.3g``.

    ``5.011872`` → ``"5.01"``, ``0.001`` → ``"0.001"``, ``1.0`` → ``"1"``: one precision everywhere
    (figure titles, legends, the demos' readouts and sliders).
    """
    return f"{float(strength):.3g}"


def strength_label(strength: float) -> str:
    """``"λ = 0.001"``: how the figures name a penalty strength (:func:`format_strength`, ``"λ = 0"`` for none)."""
    return f"λ = {format_strength(strength)}"


def _tick_text(value: float) -> str:
    """A tick label on a log axis: plain digits in [1e-3, 1e4) (3 significant), a power of ten beyond."""
    if 1e-3 <= abs(value) < 1e4:
        return np.format_float_positional(value, precision=3, unique=True, fractional=False, trim="-")
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10.0**exponent
    if abs(mantissa - round(mantissa)) < 1e-9 and round(mantissa) == 1:
        return f"$10^{{{exponent}}}$"
    return f"${mantissa:.2g}\\times10^{{{exponent}}}$"


def _ticks_at_points(ax: Axes, values: Sequence[float], *, max_labels: int = 7,
                     labels: Sequence[str] | None = None) -> None:
    """Put the x ticks of a log axis at the data points, labelling every k-th so that at most ``max_labels`` show.

    The default log locator puts ticks at powers of ten, which a grid of a few points per decade
    rarely hits; a reader then cannot tell at which strengths the curve was measured. Here every
    measured point has a tick (no minor ticks), and labels go to points 0, k, 2k, … (all of them
    when they fit). ``labels``: the text for each point (default :func:`_tick_text`).
    """
    points = np.asarray(values, dtype=np.float64)
    texts = [_tick_text(v) for v in points] if labels is None else list(labels)
    step = max(1, math.ceil(len(points) / max_labels))
    ax.xaxis.set_major_locator(FixedLocator(points))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FixedFormatter([t if k % step == 0 else "" for k, t in enumerate(texts)]))


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
    norm, λ (:func:`format_strength`), the shrinkage ``100 (1 − ‖w_λ‖₂ / ‖c‖₂)`` % and, under L1,
    which coordinates are exactly zero (or that the optimum is the origin, once both are).
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
        if len(zeros) == optimum.size:
            title += "\n" + " = ".join(zeros) + " = 0 exactly: the optimum is the origin"
        else:
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

    Each histogram is a step outline (gid ``weight-histogram``) labelled ``epoch k``. All panels
    share one x-range and one y-range (the largest count of any panel), so the heights of two
    panels can be compared directly: a narrower distribution is a taller one.
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
    counts = {s: [np.histogram(runs[s][e], bins=edges)[0] for e in epochs] for s, epochs in shown_by_run.items()}
    top = 1.05 * max(int(c.max()) for per_run in counts.values() for c in per_run)
    for column, (strength, epochs) in enumerate(shown_by_run.items()):
        ax = fig.add_subplot(grid[0, column])
        for k, (epoch, epoch_counts) in enumerate(zip(epochs, counts[strength])):
            ax.stairs(epoch_counts, edges, color=f"C{k}", lw=1.4, label=f"epoch {epoch}", gid="weight-histogram")
        ax.set_xlim(low, high)
        ax.set_ylim(0.0, max(top, 1.0))  # one y-scale for every panel
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
    _labels_and_legend_beside(ax, "epoch", "‖w‖₂ (all weights)", title)
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

    The log x axis has a tick at every strength of the grid (labels on up to 7 of them).
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
    _ticks_at_points(ax, strengths)
    ax.set_ylim(-0.03 * n_weights, 1.08 * n_weights)
    _labels_and_legend_beside(ax, f"penalty strength {strength_name}", "weights exactly zero", title)
    return fig


def plot_error_vs_strength(
    strengths: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    *,
    best: bool = True,
    best_of: str | None = None,
    spreads: Mapping[str, Sequence[float]] | None = None,
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
        spreads: label -> ``(points,)`` half-widths >= 0 (e.g. half the min–max
            range over seeds, when ``errors`` holds the means): a shaded band
            ``errors ± spread`` around that series (gid ``spread-band``), and
            the y-range fitted to the bands. Labels must be labels of ``errors``.
        ylabel, title: labels; ``log_y``: logarithmic error axis.
        strength_name: the symbol of the strength on the axis and in the
            legend, e.g. ``"α"`` for scikit-learn's ``alpha``.
        ax: draw here instead of opening a new figure.

    The log x axis has a tick at every strength of the grid (labels on up to 7 of them).
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
    bands = _check_spreads(spreads, series, len(strengths), log_y)
    fig, ax = _new_axes(ax, ERROR_VS_STRENGTH_FIGSIZE)
    for k, (name, values) in enumerate(series.items()):
        ax.plot(strengths, values, "o-", ms=3, color=f"C{k}", label=f"{name} error")
        if name in bands:
            ax.fill_between(strengths, values - bands[name], values + bands[name], color=f"C{k}", alpha=0.2,
                            lw=0, gid="spread-band", label=f"{name}: ± spread over seeds")
    if best:
        index = int(np.argmin(series[best_of]))
        x_best, y_best = strengths[index], series[best_of][index]
        color = f"C{list(series).index(best_of)}"
        ax.axvline(x_best, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="best-strength",
                   label=f"lowest {best_of} error at {strength_name} = {x_best:.3g}")
        ax.plot([x_best], [y_best], "o", ms=9, color=color, mec=BEST_EPOCH_COLOR, zorder=3, gid="best-point")
    ax.set_xscale("log")
    _ticks_at_points(ax, strengths)
    if log_y:
        ax.set_yscale("log")
    elif bands:
        low = min(float(np.min(v - bands.get(n, 0.0))) for n, v in series.items())
        high = max(float(np.max(v + bands.get(n, 0.0))) for n, v in series.items())
        pad = 0.05 * (high - low) if high > low else 0.05 * max(abs(high), 1.0)
        ax.set_ylim(low - pad, high + pad)
    _labels_and_legend_beside(ax, f"penalty strength {strength_name}", ylabel, title)
    return fig


def _check_spreads(spreads: Mapping[str, Sequence[float]] | None, series: dict[str, np.ndarray], n_points: int,
                   log_y: bool) -> dict[str, np.ndarray]:
    """label -> ``(n_points,)`` half-widths >= 0, each label one of ``series`` (empty for ``None``)."""
    if spreads is None:
        return {}
    bands = _check_series("spreads", spreads, n_points)
    for name, values in bands.items():
        if name not in series:
            raise ValueError(f"spreads must use labels of errors {list(series)!r}, got {name!r}")
        if np.any(values < 0):
            raise ValueError(f"spreads[{name!r}] must be half-widths >= 0, got {values.tolist()!r}")
        if log_y and np.any(series[name] - values <= 0):
            raise ValueError(f"spreads[{name!r}] must leave errors - spread positive with log_y")
    return bands


def plot_pruning_curves(
    fractions: Sequence[float],
    accuracies: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "test accuracy",
    title: str = "Accuracy after pruning the smallest weights",
    ax: Axes | None = None,
) -> Figure:
    """Accuracy against the fraction of weights pruned (smallest magnitude first), one line per model.

    What happens to a pruned network happens near the end, between 90 % and 99 % pruned, where
    a linear axis in the pruned percentage has no room. The x axis is therefore the share of
    weights *kept*, ``100 (1 − f)`` %, on a log scale and reversed (pruning grows to the right,
    as in Frankle & Carbin's lottery-ticket plots): each halving of what is kept gets the same
    width. Every measured fraction has a tick, labelled with its pruned percentage.

    Args:
        fractions: ``(points,)`` increasing fractions pruned, in [0, 1) (1 would keep nothing,
            which a log axis cannot show).
        accuracies: model label -> ``(points,)`` accuracies, or ``(runs, points)`` (e.g. one
            row per seed) to draw the mean with a min–max band (gid ``pruning-band``). The line
            has gid ``pruning-curve`` and x data the percent kept, e.g.
            ``{"no weight decay": …, "λ = 0.001": …}``.
    """
    fractions = _real_array("fractions", fractions)
    if np.any(fractions < 0) or np.any(fractions >= 1) or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"fractions must be strictly increasing values in [0, 1), got {fractions.tolist()!r}")
    if not isinstance(accuracies, Mapping) or not accuracies:
        raise ValueError(f"accuracies must map at least one label to its values, got {accuracies!r}")
    runs = {}
    for label, values in accuracies.items():
        try:
            ndim = 2 if np.asarray(values, dtype=np.float64).ndim == 2 else 1
        except (TypeError, ValueError):
            ndim = 1  # _real_array names the problem
        values = np.atleast_2d(_real_array(f"accuracies[{label!r}]", values, ndim=ndim))
        if values.shape[1] != len(fractions):  # _real_array: at least one row
            raise ValueError(
                f"accuracies[{label!r}] must have {len(fractions)} values (one per point) in each row, got shape {values.shape}"
            )
        runs[str(label)] = values
    fig, ax = _new_axes(ax, PRUNING_CURVES_FIGSIZE)
    kept = 100.0 * (1.0 - fractions)
    for k, (name, values) in enumerate(runs.items()):
        shown = name if len(values) == 1 else f"{name} (mean of {len(values)}, min-max band)"
        ax.plot(kept, values.mean(axis=0), "o-", ms=3, color=f"C{k}", label=shown, gid="pruning-curve")
        if len(values) > 1:
            ax.fill_between(kept, values.min(axis=0), values.max(axis=0), color=f"C{k}", alpha=0.2, linewidth=0,
                            gid="pruning-band")
    ax.set_xscale("log")
    ax.set_xlim(kept[0] * 1.15, kept[-1] / 1.15)  # reversed: more pruning to the right
    _ticks_at_points(ax, kept, max_labels=12,
                     labels=[np.format_float_positional(100.0 * f, precision=1, trim="-") for f in fractions])
    ax.set_xlabel("weights pruned (%), spaced by the log of the share kept")
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
    r"""Weight decay shrinks each Hessian eigen-direction by :math:`h_i / (h_i + \lambda)`.

    Draws the factor as a curve over a log range of eigenvalues (gid
    ``shrinkage-curve``), the chosen Hessian's eigenvalues as points on it
    (gid ``hessian-eigenvalues``), and the half-way point :math:`h_i =
    \lambda` (line gid ``half-way``): directions of curvature well above λ are
    kept, those well below are suppressed. The eigenvalues are called
    :math:`h_i` and the decay strength λ, so the one letter never names both;
    the log x axis has its ticks at the eigenvalues and at λ.

    Args:
        eigenvalues: the Hessian's eigenvalues :math:`h_i`, all > 0.
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
    ax.plot(grid, grid / (grid + weight_decay), color="C0", gid="shrinkage-curve", label="hᵢ / (hᵢ + λ)")
    ax.plot(eigenvalues, eigenvalues / (eigenvalues + weight_decay), "o", ms=6, color="C1", mec="black", zorder=3,
            gid="hessian-eigenvalues", label=f"the Hessian's {len(eigenvalues)} eigenvalues")
    ax.axvline(weight_decay, color=BEST_EPOCH_COLOR, ls="--", lw=1.2, gid="half-way",
               label=f"half-way: hᵢ = {strength_label(weight_decay)}")
    ax.plot([weight_decay], [0.5], "s", ms=6, color=BEST_EPOCH_COLOR, zorder=3, gid="half-way-point")
    ax.set_xscale("log")
    ax.set_xlim(grid[0], grid[-1])
    _ticks_at_points(ax, np.unique(np.append(eigenvalues, weight_decay)), max_labels=12)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("Hessian eigenvalue hᵢ")
    ax.set_ylabel("shrinkage factor hᵢ / (hᵢ + λ)")
    ax.set_title(title if title is not None else f"Weight decay {strength_label(weight_decay)} per eigen-direction")
    ax.legend(loc="upper left", fontsize=8)
    return fig

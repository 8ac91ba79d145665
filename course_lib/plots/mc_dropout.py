r"""The figures of the chapter "Monte-Carlo dropout" (book.toml id ``mc_dropout``).

Predictive bands of a regression network under MC dropout
(:func:`draw_predictive_band`, :func:`plot_predictive_bands`), maps of the
uncertainty scores over a 2-D input plane (:func:`plot_uncertainty_maps`),
histograms of the scores on in- and out-of-distribution inputs
(:func:`plot_score_histograms`), selective-prediction curves
(:func:`plot_referral_curves`) and the :math:`\sigma/\sqrt M` shrinking of an
MC estimate's standard error (:func:`plot_standard_error`). The numbers come
from :mod:`course_lib.mc_dropout` (``mc_predict``, ``predictive_entropy``,
``mutual_information``, ``referral_curve``); these functions only draw them.
Reliability diagrams, which the label-smoothing chapter shows too, live in
:mod:`course_lib.plots.training`. Sizes, ``ax`` and the other conventions are
those of :mod:`course_lib.plots`.

Array arguments may be NumPy arrays, sequences or torch tensors (detached);
1-D data may also come as an ``(n, 1)`` column, as a regression network's
inputs and outputs do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from course_lib._validation import _is_tensor, describe_value
from course_lib.plots import BEST_EPOCH_COLOR, _array, _check_labels, _finite, _new_axes

__all__ = [
    "PREDICTIVE_BAND_FIGSIZE", "PREDICTIVE_BANDS_PANEL_FIGSIZE", "MAX_PANELS_PER_ROW", "UNCERTAINTY_MAP_PANEL_FIGSIZE",
    "SCORE_HISTOGRAM_PANEL_FIGSIZE", "REFERRAL_CURVES_FIGSIZE", "STANDARD_ERROR_FIGSIZE", "CLASS_COLORS",
    "draw_predictive_band", "plot_predictive_bands", "plot_uncertainty_maps", "plot_score_histograms",
    "plot_referral_curves", "plot_standard_error",
]

PREDICTIVE_BAND_FIGSIZE = (7.0, 3.6)  # one band with its legend beside it (the widget's picture)
PREDICTIVE_BANDS_PANEL_FIGSIZE = (3.5, 3.1)  # per panel; the shared legend below adds GRID_LEGEND_HEIGHT
GRID_LEGEND_HEIGHT = 0.45
MAX_PANELS_PER_ROW = 4
UNCERTAINTY_MAP_PANEL_FIGSIZE = (4.3, 3.6)  # per panel, colour bar included
SCORE_HISTOGRAM_PANEL_FIGSIZE = (4.4, 3.4)  # per panel
REFERRAL_CURVES_FIGSIZE = (7.0, 3.6)
STANDARD_ERROR_FIGSIZE = (6.4, 3.6)

TRAINING_DATA_COLOR = "0.15"
GAP_COLOR = "0.93"
TRUTH_COLOR = "0.35"
UNCERTAINTY_CMAP = "Blues"
CLASS_COLORS = ("#dd8452", "#55a868")  # class 0 and class 1 over the blue uncertainty maps
CLASS_MARKERS = ("o", "s")
BAND_ALPHA = 0.25


# --- argument checks -------------------------------------------------------------------------


def _vector(name: str, values: Any, length: int | None = None, *, length_of: str = "") -> np.ndarray:
    """A non-empty finite 1-D array; an ``(n, 1)`` column is flattened. ``length``: the required size."""
    array = _array(name, values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (or an (n, 1) column), got shape {array.shape}")
    if length is not None and array.size != length:
        raise ValueError(f"{name} must have {length} values (one per entry of {length_of}), got {array.size}")
    return _finite(name, array)


def _increasing(name: str, array: np.ndarray) -> np.ndarray:
    if np.any(np.diff(array) <= 0):
        index = int(np.argmax(np.diff(array) <= 0)) + 1
        raise ValueError(f"{name} must be strictly increasing, got {array[index - 1]!r} then {array[index]!r} at index {index}")
    return array


def _positive_number(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {describe_value(value)}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_gap(gap: Any) -> tuple[float, float] | None:
    if gap is None:
        return None
    values = _array("gap", gap)
    if values.shape != (2,) or not np.isfinite(values).all() or not values[0] < values[1]:
        raise ValueError(f"gap must be None or (low, high) with finite low < high, got {gap!r}")
    return float(values[0]), float(values[1])


def _grid_shape(n_panels: int) -> tuple[int, int]:
    """(rows, columns) for ``n_panels`` panels, at most :data:`MAX_PANELS_PER_ROW` per row."""
    columns = min(n_panels, MAX_PANELS_PER_ROW)
    return math.ceil(n_panels / columns), columns


def _panel_grid(n_panels: int, panel_size: tuple[float, float], extra_height: float = 0.0) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure of ``n_panels`` axes in rows of at most four; unused cells are removed."""
    rows, columns = _grid_shape(n_panels)
    width, height = panel_size
    fig, grid = plt.subplots(rows, columns, figsize=(width * columns, height * rows + extra_height),
                             layout="constrained", squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n_panels:]:
        fig.delaxes(ax)
    return fig, axes[:n_panels]


def _fitted_limits(low: float, high: float, margin: float = 0.06) -> tuple[float, float]:
    """``[low, high]`` widened by ``margin`` of its length on each side (by 0.5 if it has none)."""
    pad = margin * (high - low) if high > low else 0.5
    return low - pad, high + pad


# --- predictive bands (regression) -------------------------------------------------------------


class _Band:
    """The checked inputs of one predictive band."""

    def __init__(self, x_train: Any, y_train: Any, x_grid: Any, mean: Any, std: Any, truth: Any, n_std: Any,
                 mean_name: str = "mean", std_name: str = "std") -> None:
        self.x_train = _vector("x_train", x_train)
        self.y_train = _vector("y_train", y_train, self.x_train.size, length_of="x_train")
        self.x_grid = _increasing("x_grid", _vector("x_grid", x_grid))
        n = self.x_grid.size
        if n < 2:
            raise ValueError(f"x_grid must have at least 2 points (a line to draw), got {n}")
        self.mean = _vector(mean_name, mean, n, length_of="x_grid")
        self.std = _vector(std_name, std, n, length_of="x_grid")
        if np.any(self.std < 0):
            index = int(np.argmax(self.std < 0))
            raise ValueError(f"{std_name} must be >= 0 (a standard deviation), got {self.std[index]!r} at index {index}")
        self.truth = None if truth is None else _vector("truth", truth, n, length_of="x_grid")
        self.n_std = _positive_number("n_std", n_std)

    def y_range(self) -> tuple[float, float]:
        """The smallest and largest y of the band, the data and the truth."""
        parts = [self.mean - self.n_std * self.std, self.mean + self.n_std * self.std, self.y_train]
        if self.truth is not None:
            parts.append(self.truth)
        values = np.concatenate(parts)
        return float(values.min()), float(values.max())


def _draw_band(ax: Axes, band: _Band, gap: tuple[float, float] | None, title: str) -> None:
    x = band.x_grid
    if gap is not None:
        ax.axvspan(*gap, color=GAP_COLOR, zorder=0, linewidth=0, gid="gap")  # labelled in place, not in the legend
        to_axes = blended_transform_factory(ax.transData, ax.transAxes)
        ax.text(sum(gap) / 2, 0.97, "no training data", transform=to_axes, ha="center", va="top", fontsize=8,
                color="0.35", style="italic", gid="gap-label", clip_on=True)
    ax.fill_between(x, band.mean - band.n_std * band.std, band.mean + band.n_std * band.std, color="C0",
                    alpha=BAND_ALPHA, linewidth=0, zorder=1, gid="band", label=f"mean ± {band.n_std:g}σ")
    ax.plot(x, band.mean, color="C0", lw=1.8, zorder=2, gid="mean", label="predictive mean")
    if band.truth is not None:
        ax.plot(x, band.truth, color=TRUTH_COLOR, ls="--", lw=1.2, zorder=2, gid="truth", label="noiseless truth")
    ax.scatter(band.x_train, band.y_train, s=12, color=TRAINING_DATA_COLOR, zorder=3, linewidths=0,
               gid="training-data", label="training data")
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_ylim(*_fitted_limits(*band.y_range()))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)


def draw_predictive_band(
    ax: Axes,
    x_train: Any,
    y_train: Any,
    x_grid: Any,
    mean: Any,
    std: Any,
    *,
    truth: Any = None,
    gap: tuple[float, float] | None = (-1.0, 1.0),
    title: str = "",
    n_std: float = 2.0,
    legend: bool = True,
) -> Axes:
    r"""Draw a regression network's predictive mean and its band :math:`\mu(x) \pm k\,\sigma(x)` on ``ax``.

    With MC dropout, :math:`\mu` and :math:`\sigma` are the predictive mean and
    standard deviation of :func:`course_lib.mc_dropout.mc_predict`; for a
    Gaussian predictive distribution the band with :math:`k = 2` holds about
    95% of it.

    Drawn (each artist has a gid): the input ``gap`` shaded lightly (``gap``)
    and labelled "no training data" (``gap-label``), the band (``band``), the
    mean (``mean``), the noiseless truth dashed if given (``truth``), the
    training points (``training-data``). The x-range is that of ``x_grid``,
    the y-range is fitted to the band, the data and the truth.

    Args:
        ax: the axes to draw on.
        x_train, y_train: the training data, ``(n,)`` each (or ``(n, 1)``).
        x_grid: ``(m,)`` strictly increasing inputs where ``mean`` and ``std`` were computed.
        mean, std: ``(m,)`` predictive mean and standard deviation (``std >= 0``).
        truth: ``(m,)`` noiseless target on ``x_grid``, or ``None``.
        gap: ``(low, high)``, the interval without training inputs, or ``None``.
        title: the axes title.
        n_std: :math:`k > 0`, the band's half-width in standard deviations.
        legend: put a legend beside the axes (off in :func:`plot_predictive_bands`,
            which draws one legend for all panels).

    Returns:
        ``ax``.

    Example:
        >>> fig = Figure()
        >>> x = np.linspace(-3, 3, 7)
        >>> ax = draw_predictive_band(fig.add_subplot(), [-2.0, 2.0], [0.1, -0.1], x, 0 * x, 0.1 + 0 * x)
        >>> ax.get_xlabel(), ax.get_ylabel(), [float(limit) for limit in ax.get_xlim()]
        ('x', 'y', [-3.0, 3.0])
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {describe_value(ax)}")
    band = _Band(x_train, y_train, x_grid, mean, std, truth, n_std)
    gap = _check_gap(gap)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {describe_value(title)}")
    _draw_band(ax, band, gap, title)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


def plot_predictive_bands(
    x_train: Any,
    y_train: Any,
    x_grid: Any,
    panels: Mapping[str, tuple[Any, Any]],
    *,
    truth: Any = None,
    gap: tuple[float, float] | None = (-1.0, 1.0),
    suptitle: str = "Predictive mean ± 2σ under MC dropout",
    n_std: float = 2.0,
) -> Figure:
    """One :func:`draw_predictive_band` panel per entry of ``panels``, in rows of at most four, one shared y-range.

    Every panel has the same training data, grid, truth and gap; the panel's
    title is its key. The y-range is fitted to all bands, the data and the
    truth together, so the band widths compare across panels; one legend
    below the panels explains the artists.

    Args:
        x_train, y_train, x_grid, truth, gap, n_std: as for :func:`draw_predictive_band`.
        panels: title -> ``(mean, std)`` on ``x_grid``, e.g. ``{"p = 0.1": mc_predict(...)}``.
        suptitle: the figure's title.
    """
    labels = _check_labels("panels", panels)
    bands = {}
    for label in labels:
        pair = panels[label]
        if isinstance(pair, (str, bytes, Mapping)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"panels[{label!r}] must be a pair (mean, std), got {describe_value(pair)}")
        bands[label] = _Band(x_train, y_train, x_grid, pair[0], pair[1], truth, n_std,
                             mean_name=f"panels[{label!r}] mean", std_name=f"panels[{label!r}] std")
    gap = _check_gap(gap)
    fig, axes = _panel_grid(len(bands), PREDICTIVE_BANDS_PANEL_FIGSIZE, extra_height=GRID_LEGEND_HEIGHT)
    for ax, (label, band) in zip(axes, bands.items()):
        _draw_band(ax, band, gap, label)
    ranges = np.array([band.y_range() for band in bands.values()])
    for ax in axes:
        ax.set_ylim(*_fitted_limits(float(ranges[:, 0].min()), float(ranges[:, 1].max())))
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.suptitle(suptitle)
    return fig


# --- uncertainty over a 2-D input plane (classification) ------------------------------------


def _check_class_labels(labels: Any, n: int) -> np.ndarray:
    if _is_tensor(labels):
        if labels.is_floating_point() or labels.is_complex() or str(labels.dtype) == "torch.bool":
            raise TypeError(f"y must hold integer classes 0 and 1, got dtype {labels.dtype}")
        labels = labels.detach().cpu().numpy()
    if labels is None or isinstance(labels, (str, bytes, Mapping)):
        raise TypeError(f"y must be an array of integer classes 0 and 1, got {describe_value(labels)}")
    array = np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer classes 0 and 1, got dtype {array.dtype}")
    if array.shape != (n,):
        raise ValueError(f"y must have shape ({n},) (one class per row of X), got shape {array.shape}")
    bad = (array != 0) & (array != 1)
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"y must hold the classes 0 and 1 only, got {int(array[index])} at index {index}")
    return array.astype(np.int64)


def _check_map_grid(grid_x: Any, grid_y: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """1-D increasing axes (maps are ``(len(grid_y), len(grid_x))``) or two 2-D meshgrid arrays of one shape."""
    gx, gy = _finite("grid_x", _array("grid_x", grid_x)), _finite("grid_y", _array("grid_y", grid_y))
    if gx.ndim == 1 and gy.ndim == 1 and gx.size >= 2 and gy.size >= 2:
        return _increasing("grid_x", gx), _increasing("grid_y", gy), (gy.size, gx.size)
    if gx.ndim == 2 and gx.shape == gy.shape and min(gx.shape) >= 2:
        return gx, gy, gx.shape
    raise ValueError(
        "grid_x and grid_y must both be 1-D axes of at least 2 points or two 2-D meshgrid arrays of one shape, "
        f"got shapes {gx.shape} and {gy.shape}"
    )


def plot_uncertainty_maps(
    grid_x: Any,
    grid_y: Any,
    maps: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    class_names: tuple[str, str] = ("class 0", "class 1"),
    suptitle: str = "Uncertainty over the input plane",
) -> Figure:
    r"""One map per uncertainty score over a 2-D input plane, each with its own colour bar in nats.

    E.g. ``{"predictive entropy": H[p̄], "mutual information": I}`` of
    :func:`course_lib.mc_dropout.predictive_entropy` and
    :func:`~course_lib.mc_dropout.mutual_information` on a grid: the entropy is
    high wherever the classes meet (aleatoric and epistemic together), the
    mutual information only where the sub-networks disagree, typically away
    from the data. The training points are drawn over every map, coloured and
    shaped by class (gids ``class-0``, ``class-1``); each map has gid
    ``map-<label>``, a colour scale from 0 to its own maximum and equal aspect.

    Args:
        grid_x, grid_y: the grid: 1-D increasing axes (then each map is
            ``(len(grid_y), len(grid_x))``, rows along ``grid_y``) or 2-D
            ``np.meshgrid`` arrays of the maps' shape.
        maps: title -> the score on the grid, finite and >= 0 (nats).
        X: ``(N, 2)`` training inputs; y: ``(N,)`` classes 0 and 1 (integers).
        class_names: the legend's names of class 0 and class 1.
        suptitle: the figure's title.
    """
    gx, gy, shape = _check_map_grid(grid_x, grid_y)
    checked = {}
    for label in _check_labels("maps", maps):
        values = _finite(f"maps[{label!r}]", _array(f"maps[{label!r}]", maps[label]))
        if values.shape != shape:
            raise ValueError(f"maps[{label!r}] must have the grid's shape {shape}, got shape {values.shape}")
        if np.any(values < 0):
            raise ValueError(f"maps[{label!r}] must be >= 0 (an uncertainty in nats), got minimum {values.min()!r}")
        checked[label] = values
    points = _finite("X", _array("X", X))
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 1:
        raise ValueError(f"X must have shape (N, 2) with N >= 1 (2-D inputs), got shape {points.shape}")
    classes = _check_class_labels(y, points.shape[0])
    if (isinstance(class_names, (str, bytes)) or not isinstance(class_names, (tuple, list)) or len(class_names) != 2
            or not all(isinstance(name, str) for name in class_names)):
        raise ValueError(f"class_names must be two strings, got {class_names!r}")

    fig, axes = _panel_grid(len(checked), UNCERTAINTY_MAP_PANEL_FIGSIZE)
    for ax, (label, values) in zip(axes, checked.items()):
        mesh = ax.pcolormesh(gx, gy, values, cmap=UNCERTAINTY_CMAP, vmin=0.0, vmax=max(float(values.max()), 1e-12),
                             shading="nearest" if gx.ndim == 1 else "auto", rasterized=True, gid=f"map-{label}")
        fig.colorbar(mesh, ax=ax, label="nats", shrink=0.9)
        for k in (0, 1):
            chosen = points[classes == k]
            ax.scatter(chosen[:, 0], chosen[:, 1], s=14, marker=CLASS_MARKERS[k], color=CLASS_COLORS[k],
                       edgecolors="black", linewidths=0.4, label=class_names[k], gid=f"class-{k}", zorder=3)
        ax.set_aspect("equal")
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.set_title(label)
        ax.legend(loc="upper right", fontsize=7, framealpha=0.85)
    fig.suptitle(suptitle)
    return fig


# --- score histograms: in distribution against out of distribution ---------------------------


def _check_aurocs(aurocs: Any, scores: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, dict[str, float]] | None:
    if aurocs is None:
        return None
    names = _check_labels("aurocs", aurocs)
    unknown = [name for name in names if name not in scores]
    if unknown:
        raise ValueError(f"aurocs has scores that are not in scores: {unknown!r} (scores has {list(scores)!r})")
    checked: dict[str, dict[str, float]] = {}
    for name in names:
        sets = list(scores[name])
        values = aurocs[name]
        inner = _check_labels(f"aurocs[{name!r}]", values)
        stray = [s for s in inner if s not in sets[1:]]
        if stray:
            raise ValueError(
                f"aurocs[{name!r}] must name out-of-distribution sets of scores[{name!r}] {sets[1:]!r} "
                f"(each is compared with the first set, {sets[0]!r}), got {stray!r}"
            )
        checked[name] = {}
        for key in inner:
            value = values[key]
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not 0.0 <= value <= 1.0:
                raise ValueError(f"aurocs[{name!r}][{key!r}] must be a number in [0, 1], got {value!r}")
            checked[name][key] = float(value)
    return checked


def plot_score_histograms(
    scores: Mapping[str, Mapping[str, Any]],
    *,
    aurocs: Mapping[str, Mapping[str, float]] | None = None,
    bins: int = 30,
    unit: str = "nats",
    suptitle: str = "Uncertainty scores on in- and out-of-distribution inputs",
) -> Figure:
    """One panel per score: the score's histogram on each input set, overlaid on shared bins, as densities.

    The first input set of each panel is the reference (the in-distribution
    test set); a useful score puts the other sets (out-of-distribution inputs)
    to its right. With ``aurocs`` the legend label of each
    out-of-distribution set gives the AUROC of telling it apart from the
    reference by the score, e.g. "noise (AUROC 0.912)" (0.5: no better than
    chance, 1: perfectly separated). Each histogram is a light fill with a step
    outline (gid ``hist-<set>``); bins are shared within a panel.

    Args:
        scores: score name -> (input set -> ``(n,)`` scores), e.g.
            ``{"predictive entropy": {"test (in distribution)": …, "noise": …}}``.
        aurocs: score name -> (out-of-distribution set -> AUROC in [0, 1]), or ``None``.
        bins: the number of bins per panel (int >= 1).
        unit: the scores' unit for the x label ("" for none).
        suptitle: the figure's title.
    """
    names = _check_labels("scores", scores)
    checked: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        sets = _check_labels(f"scores[{name!r}]", scores[name])
        checked[name] = {s: _vector(f"scores[{name!r}][{s!r}]", scores[name][s]) for s in sets}
    aurocs = _check_aurocs(aurocs, checked)
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be an int >= 1, got {bins!r}")
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a str, got {describe_value(unit)}")

    fig, axes = _panel_grid(len(checked), SCORE_HISTOGRAM_PANEL_FIGSIZE)
    for ax, (name, sets) in zip(axes, checked.items()):
        edges = np.histogram_bin_edges(np.concatenate(list(sets.values())), bins=int(bins))
        reference = next(iter(sets))
        for k, (set_name, values) in enumerate(sets.items()):
            shown = set_name
            if aurocs is not None and set_name in aurocs.get(name, {}):
                shown = f"{set_name} (AUROC {aurocs[name][set_name]:.3f})"
            ax.hist(values, bins=edges, density=True, histtype="stepfilled", color=f"C{k}", alpha=0.2, linewidth=0)
            ax.hist(values, bins=edges, density=True, histtype="step", color=f"C{k}", linewidth=1.5, label=shown,
                    gid=f"hist-{set_name}")
        ax.set_xlabel(f"{name} ({unit})" if unit else name)
        ax.set_ylabel("density")
        ax.set_title(name)
        legend_title = f"AUROC against {reference}" if aurocs is not None and aurocs.get(name) else None
        ax.legend(fontsize=7, title=legend_title, title_fontsize=7)
    fig.suptitle(suptitle)
    return fig


# --- selective prediction: referral curves ----------------------------------------------------


def plot_referral_curves(
    referral_fractions: Any,
    curves: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str = "Accuracy on the inputs kept when the most uncertain are referred",
) -> Figure:
    """Accuracy on the kept inputs against the fraction referred, one line per ordering score.

    Each curve (from :func:`course_lib.mc_dropout.referral_curve`) is drawn as
    its mean over the rows (seeds) with a min–max band when there are several
    rows (gids ``referral-<label>`` and ``referral-band-<label>``). A score that
    ranks the errors first rises with the fraction referred; a random order
    stays flat. The y-range is fitted to the curves.

    Args:
        referral_fractions: ``(k,)`` strictly increasing fractions in ``[0, 1)``.
        curves: label -> ``(seeds, k)`` accuracies in [0, 1] (a ``(k,)`` curve is one seed),
            e.g. ``{"predictive entropy": …, "mutual information": …, "random order": …}``.
        ax: draw here instead of opening a new figure.
        title: the axes title.
    """
    fractions = _increasing("referral_fractions", _vector("referral_fractions", referral_fractions))
    if np.any(fractions < 0) or np.any(fractions >= 1):
        raise ValueError(f"referral_fractions must lie in [0, 1), got {fractions.tolist()!r}")
    runs = {}
    for label in _check_labels("curves", curves):
        values = _finite(f"curves[{label!r}]", _array(f"curves[{label!r}]", curves[label]))
        values = values[None, :] if values.ndim == 1 else values
        if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] != fractions.size:
            raise ValueError(
                f"curves[{label!r}] must have shape (seeds, {fractions.size}) (one column per referral fraction), "
                f"got shape {np.shape(values)}"
            )
        if np.any(values < 0) or np.any(values > 1):
            raise ValueError(f"curves[{label!r}] must hold accuracies in [0, 1], got range "
                             f"[{values.min()!r}, {values.max()!r}]")
        runs[label] = values
    fig, ax = _new_axes(ax, REFERRAL_CURVES_FIGSIZE)
    for k, (label, values) in enumerate(runs.items()):
        seeds = len(values)
        shown = label if seeds == 1 else f"{label} (mean of {seeds} seeds, min–max band)"
        ax.plot(fractions, values.mean(axis=0), "o-", ms=3, color=f"C{k}", label=shown, gid=f"referral-{label}")
        if seeds > 1:
            ax.fill_between(fractions, values.min(axis=0), values.max(axis=0), color=f"C{k}", alpha=0.2,
                            linewidth=0, gid=f"referral-band-{label}")
    everything = np.concatenate([values.ravel() for values in runs.values()])
    ax.set_ylim(*_fitted_limits(float(everything.min()), float(everything.max()), margin=0.08))
    ax.set_xlim(*_fitted_limits(float(fractions[0]), float(fractions[-1]), margin=0.02))
    ax.xaxis.set_major_formatter(lambda value, _position: f"{100 * value:.0f}%")
    ax.set_xlabel("fraction of inputs referred (most uncertain first)")
    ax.set_ylabel("accuracy on the kept inputs")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return fig


# --- the standard error of an MC estimate ----------------------------------------------------


def plot_standard_error(
    n_samples: Any,
    measured: Any,
    *,
    predicted: Any = None,
    ax: Axes | None = None,
    title: str = "Standard error of the MC estimate against the number of passes",
) -> Figure:
    r"""Log–log: the measured standard error of an MC average against the number of passes :math:`M`.

    The mean of :math:`M` independent passes with spread :math:`\sigma` has
    standard error :math:`\sigma/\sqrt M`: a line of slope :math:`-1/2` on
    log–log axes, so each further digit costs 100 times the passes. The
    measured values (points, gid ``measured``) are e.g. the spread of the MC
    estimate over repeated seeds; the prediction (line, gid ``predicted``) is
    drawn if given.

    Args:
        n_samples: ``(k,)`` strictly increasing numbers of passes :math:`M > 0`.
        measured: ``(k,)`` measured standard errors, > 0.
        predicted: ``None``; a number :math:`\sigma > 0`, drawn as
            :math:`\sigma/\sqrt M` over the range of ``n_samples``; or ``(k,)``
            predicted standard errors > 0 at ``n_samples``.
        ax: draw here instead of opening a new figure.
        title: the axes title.
    """
    passes = _increasing("n_samples", _vector("n_samples", n_samples))
    if np.any(passes <= 0):
        raise ValueError(f"n_samples must be > 0 (a log axis), got {passes.tolist()!r}")
    errors = _vector("measured", measured, passes.size, length_of="n_samples")
    if np.any(errors <= 0):
        raise ValueError(f"measured must be > 0 (a log axis), got {errors.tolist()!r}")
    line = None
    if predicted is not None:
        if isinstance(predicted, (int, float, np.integer, np.floating)) and not isinstance(predicted, (bool, np.bool_)):
            sigma = _positive_number("predicted", predicted)
            dense = np.geomspace(passes[0], passes[-1], 100) if passes.size > 1 else passes
            line = (dense, sigma / np.sqrt(dense), f"σ/√M, σ = {sigma:.3g}")
        else:
            values = _vector("predicted", predicted, passes.size, length_of="n_samples")
            if np.any(values <= 0):
                raise ValueError(f"predicted must be > 0 (a log axis), got {values.tolist()!r}")
            line = (passes, values, "σ/√M prediction")
    fig, ax = _new_axes(ax, STANDARD_ERROR_FIGSIZE)
    if line is not None:
        ax.plot(line[0], line[1], color=BEST_EPOCH_COLOR, ls="--", lw=1.2, label=line[2], gid="predicted", zorder=2)
    ax.plot(passes, errors, "o", color="C0", ms=5, label="measured", gid="measured", zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of passes M")
    ax.set_ylabel("standard error of the MC estimate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig

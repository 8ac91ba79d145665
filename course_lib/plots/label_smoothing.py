r"""The figures of the chapter "Label smoothing" (book.toml id ``label_smoothing``).

What the smoothed target asks of a network, and what the trained networks do:

* :func:`plot_smoothed_targets` -- the target distributions over the classes
  (one-hot and :func:`course_lib.losses.smooth_targets`, under PyTorch's
  :math:`\varepsilon/K` convention or the :math:`\varepsilon/(K-1)` one), as
  grouped bars;
* :func:`plot_optimal_logits` -- the logits that minimise the cross-entropy
  against each of those targets (:func:`course_lib.losses.optimal_logits`),
  as grouped bars; a target without a finite optimum (one-hot) is named,
  not drawn;
* :func:`plot_logit_gap_growth` -- the logit gap :math:`z_y - z_c` against the
  training step: without smoothing it keeps growing, with smoothing it levels
  off near :func:`course_lib.losses.optimal_logit_gap`;
* :func:`plot_logit_gaps` -- the per-example gaps of trained models, with the
  optimal gap;
* :func:`plot_confidence_histograms` -- the largest softmax probability of
  each model's predictions;
* :func:`plot_penultimate_projection` -- penultimate-layer activations of
  three classes projected onto a plane, one panel per model (the picture of
  Müller, Kornblith & Hinton, 2019: label smoothing gathers each class into a
  tight, equidistant cluster).

Reliability diagrams, which this chapter shows too, are
:func:`course_lib.plots.training.plot_reliability_diagrams`. The numbers come
from :mod:`course_lib.losses` and the caller's trained networks; these
functions only draw them. Sizes, ``ax`` and the other conventions are those of
:mod:`course_lib.plots`. Array arguments may be NumPy arrays, sequences or
torch tensors (detached).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_lib._validation import _is_tensor, check_bool, check_int, check_real, describe_value
from course_lib.plots import BEST_EPOCH_COLOR, _array, _check_labels, _check_str, _finite, _new_axes, _vector

__all__ = [
    "LOGIT_GAP_GROWTH_FIGSIZE", "SMOOTHED_TARGETS_FIGSIZE", "MAX_BAR_CLASSES", "CONFIDENCE_HISTOGRAMS_FIGSIZE",
    "LOGIT_GAPS_FIGSIZE", "PROJECTION_PANEL_FIGSIZE", "PROJECTION_CLASS_COLORS", "GAP_LABEL",
    "OPTIMAL_LOGITS_FIGSIZE", "plot_logit_gap_growth", "plot_smoothed_targets", "plot_optimal_logits",
    "plot_confidence_histograms", "plot_logit_gaps", "plot_penultimate_projection",
]

LOGIT_GAP_GROWTH_FIGSIZE = (7.0, 3.6)
SMOOTHED_TARGETS_FIGSIZE = (7.2, 3.4)  # also the widget's picture: 864 CSS pixels wide
OPTIMAL_LOGITS_FIGSIZE = SMOOTHED_TARGETS_FIGSIZE  # the widget's other view: the picture keeps its size
#: The most classes :func:`plot_smoothed_targets` draws bars for (beyond that the bars are unreadable).
MAX_BAR_CLASSES = 30
CONFIDENCE_HISTOGRAMS_FIGSIZE = (6.4, 3.4)
LOGIT_GAPS_FIGSIZE = (6.4, 3.4)
PROJECTION_PANEL_FIGSIZE = (3.4, 3.4)  # per panel; the shared legend below adds _PROJECTION_LEGEND_HEIGHT
_PROJECTION_LEGEND_HEIGHT = 0.4
_PROJECTION_PANELS_PER_ROW = 4
#: Class colours of :func:`plot_penultimate_projection` (class 0, 1, 2, ...).
PROJECTION_CLASS_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
                           "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")
#: The y label of :func:`plot_logit_gap_growth` and x label of :func:`plot_logit_gaps` (the caller says which c).
GAP_LABEL = r"logit gap $z_y - z_c$"

TARGET_CLASS_COLOR = "0.92"
OPTIMAL_COLOR = BEST_EPOCH_COLOR
_SUM_TOLERANCE = 1e-6  # how far from 1 a target distribution may sum (float32 input)
_CENTRED_TOLERANCE = 1e-6  # how far from 0 centred logits may average, relative to their largest magnitude (float32)


# --- argument checks -------------------------------------------------------------------------






def _check_bins(bins: Any) -> int:
    return check_int("bins", bins, minimum=1)


def _check_gap_value(name: str, value: Any) -> float:
    """A finite optimal gap; ``math.inf`` (what ε = 0 gives) gets its own message."""
    gap = check_real(name, value)
    if math.isinf(gap):
        raise ValueError(f"{name} must be a finite number (ε = 0 has no finite optimal gap: leave it out), got {gap!r}")
    if math.isnan(gap):
        raise ValueError(f"{name} must be a finite number, got {gap!r}")
    return gap


def _fitted_limits(low: float, high: float, margin: float = 0.06) -> tuple[float, float]:
    """``[low, high]`` widened by ``margin`` of its length on each side (by 0.5 if it has none)."""
    pad = margin * (high - low) if high > low else 0.5
    return low - pad, high + pad


def _fraction_weights(values: np.ndarray) -> np.ndarray:
    """Weights ``1/n`` per value: a histogram of them shows the share of the values in each bin."""
    return np.full(values.shape, 1.0 / values.size)


# --- the logit gap during training -----------------------------------------------------------


def plot_logit_gap_growth(
    steps: Any,
    gaps: Mapping[str, Any],
    *,
    optimal: Mapping[str, float] | None = None,
    log_x: bool = True,
    ylabel: str = GAP_LABEL,
    ax: Axes | None = None,
    title: str = "The logit gap during training",
) -> Figure:
    r"""The logit gap :math:`z_y - z_c` against the training step, one line per run, with the optimal gaps dashed.

    Plain cross-entropy is minimised only as :math:`z_y - z_c \to \infty`: its
    gap keeps growing for as long as training runs. Smoothed targets have a
    finite optimum (:func:`course_lib.losses.optimal_logit_gap`, e.g.
    :math:`\log 91 \approx 4.511` for :math:`K = 10`, :math:`\varepsilon = 0.1`
    under PyTorch's convention), near which the gap levels off. Which gap is
    measured (target logit minus the largest other logit, or minus the mean of
    the others, averaged over a batch) is the caller's choice; say it in
    ``ylabel``.

    Drawn (each artist has a gid): per run, the gap (``gap-<label>``; the mean
    over the rows for a ``(seeds, steps)`` array, with a min–max band
    ``gap-band-<label>``), and per entry of ``optimal`` a dashed horizontal
    line (``optimal-<key>``) in the colour of the run of that name, if there is
    one (legend "optimum for <key>: 4.511"), grey otherwise ("<key>: 4.511").
    The y-range is fitted to the curves and the optimal lines.

    Args:
        steps: ``(k,)`` strictly increasing training steps (> 0 with ``log_x``).
        gaps: label -> ``(k,)`` gaps, or ``(seeds, k)`` for several runs, e.g.
            ``{"cross-entropy (ε = 0)": …, "label smoothing ε = 0.1": …}``.
        optimal: ``None`` or key -> a finite optimal gap (ε = 0 has none: leave it out).
        log_x: a logarithmic step axis (the gap grows roughly with log t).
        ylabel: the y label (default :data:`GAP_LABEL`).
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_logit_gap_growth([1, 10, 100], {"CE": [0.5, 3.0, 7.0], "LS": [0.5, 3.0, 4.4]},
        ...                             optimal={"LS": 4.511}, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['CE', 'LS', 'optimum for LS: 4.511']
    """
    step_values = _vector("steps", steps)
    if np.any(np.diff(step_values) <= 0):
        index = int(np.argmax(np.diff(step_values) <= 0)) + 1
        raise ValueError(f"steps must be strictly increasing, got {float(step_values[index - 1])!r} then "
                         f"{float(step_values[index])!r} at index {index}")
    log_x = check_bool("log_x", log_x)
    if log_x and step_values[0] <= 0:
        raise ValueError(f"steps must be > 0 with log_x=True (a log axis), got {float(step_values[0])!r}")
    runs = {}
    for label in _check_labels("gaps", gaps):
        values = _finite(f"gaps[{label!r}]", _array(f"gaps[{label!r}]", gaps[label]))
        values = values[None, :] if values.ndim == 1 else values
        if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] != step_values.size:
            raise ValueError(f"gaps[{label!r}] must have shape ({step_values.size},) or (seeds, {step_values.size}) "
                             f"(one column per step), got shape {values.shape}")
        runs[label] = values
    optimal_values = {}
    if optimal is not None:
        for key in _check_labels("optimal", optimal):
            optimal_values[key] = _check_gap_value(f"optimal[{key!r}]", optimal[key])
    _check_str("ylabel", ylabel)
    _check_str("title", title)

    fig, ax = _new_axes(ax, LOGIT_GAP_GROWTH_FIGSIZE)
    colors = {}
    for k, (label, values) in enumerate(runs.items()):
        colors[label] = f"C{k}"
        seeds = len(values)
        shown = label if seeds == 1 else f"{label} (mean of {seeds}, min–max band)"
        ax.plot(step_values, values.mean(axis=0), color=colors[label], lw=1.8, label=shown, gid=f"gap-{label}")
        if seeds > 1:
            ax.fill_between(step_values, values.min(axis=0), values.max(axis=0), color=colors[label], alpha=0.2,
                            linewidth=0, gid=f"gap-band-{label}")
    for key, value in optimal_values.items():
        color = colors.get(key, OPTIMAL_COLOR)
        shown = f"optimum for {key}: {value:.3f}" if key in runs else f"{key}: {value:.3f}"
        ax.axhline(value, color=color, ls="--", lw=1.2, label=shown, gid=f"optimal-{key}", zorder=1)
    everything = np.concatenate([values.ravel() for values in runs.values()] + [np.array(list(optimal_values.values()))])
    ax.set_ylim(*_fitted_limits(float(everything.min()), float(everything.max()), margin=0.08))
    if log_x:
        ax.set_xscale("log")
    ax.set_xlim(float(step_values[0]), float(step_values[-1]))
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


# --- target distributions --------------------------------------------------------------------


def _check_targets(targets: Any) -> dict[str, np.ndarray]:
    checked: dict[str, np.ndarray] = {}
    for label in _check_labels("targets", targets):
        name = f"targets[{label!r}]"
        values = _vector(name, targets[label])
        if checked and values.size != next(iter(checked.values())).size:
            first = next(iter(checked))
            raise ValueError(f"{name} must have as many classes as targets[{first!r}] "
                             f"({checked[first].size}), got {values.size}")
        if not 2 <= values.size <= MAX_BAR_CLASSES:
            raise ValueError(f"{name} must have between 2 and MAX_BAR_CLASSES = {MAX_BAR_CLASSES} classes, "
                             f"got {values.size}")
        if np.any(values < 0) or np.any(values > 1):
            index = int(np.argmax((values < 0) | (values > 1)))
            raise ValueError(f"{name} must hold probabilities in [0, 1], got {float(values[index])!r} at index {index}")
        if abs(values.sum() - 1.0) > _SUM_TOLERANCE:
            raise ValueError(f"{name} must sum to 1 (a distribution over the classes), got sum {float(values.sum())!r}")
        checked[label] = values
    return checked


def plot_smoothed_targets(
    targets: Mapping[str, Any],
    *,
    target_class: int,
    ax: Axes | None = None,
    title: str = "Target distributions over the classes",
) -> Figure:
    r"""Grouped bars: one or more target distributions over the :math:`K` classes, the target class shaded.

    E.g. the one-hot target, PyTorch's smoothed target
    :math:`q_c = (1-\varepsilon)[c = y] + \varepsilon/K`
    (:func:`course_lib.losses.smooth_targets`: the target class keeps
    :math:`1 - \varepsilon + \varepsilon/K`) and the other convention
    :math:`q_y = 1-\varepsilon`, :math:`q_{c \ne y} = \varepsilon/(K-1)`.

    Drawn (each artist has a gid): the target class's column shaded
    (``target-class``) and its tick label in bold; per distribution, one bar
    per class (every bar has gid ``bars-<label>``, in class order) and the
    target class's value written at the top of its bar
    (``target-value-<label>``, 3 decimals). The y-range is [0, 1].

    Args:
        targets: label -> ``(K,)`` distribution (entries in [0, 1] summing to 1), every one of the same
            :math:`2 \le K \le` :data:`MAX_BAR_CLASSES`, e.g. ``{"one-hot": …,
            "ε = 0.1 (PyTorch: ε/K to every class)": …}``.
        target_class: :math:`y`, an int in ``[0, K)``.
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_smoothed_targets({"one-hot": [0, 1, 0], "ε = 0.3": [0.1, 0.8, 0.1]}, target_class=1,
        ...                             ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].texts]
        ['1.000', '0.800']
    """
    distributions = _check_targets(targets)
    num_classes = next(iter(distributions.values())).size
    target_class = check_int("target_class", target_class, minimum=0)
    if target_class >= num_classes:
        raise ValueError(f"target_class must be in [0, {num_classes}) (one of the K = {num_classes} classes), "
                         f"got {target_class}")
    _check_str("title", title)

    fig, ax = _new_axes(ax, SMOOTHED_TARGETS_FIGSIZE)
    classes = np.arange(num_classes)
    width = 0.8 / len(distributions)
    fontsize = 7 if num_classes * len(distributions) <= 36 else 6  # narrower bars, smaller value labels
    ax.axvspan(target_class - 0.5, target_class + 0.5, color=TARGET_CLASS_COLOR, linewidth=0, zorder=0,
               gid="target-class")
    for j, (label, values) in enumerate(distributions.items()):
        offset = (j - (len(distributions) - 1) / 2) * width
        bars = ax.bar(classes + offset, values, width=width, color=f"C{j}", label=label, zorder=2)
        for bar in bars:
            bar.set_gid(f"bars-{label}")
        value = float(values[target_class])
        inside = value > 0.25  # written inside the top of a tall bar, above a short one
        ax.text(target_class + offset, value - 0.02 if inside else value + 0.02, f"{value:.3f}", rotation=90,
                ha="center", va="top" if inside else "bottom", fontsize=fontsize, zorder=3, gid=f"target-value-{label}",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xticks(classes, [str(c) for c in classes], fontsize=8)
    ax.get_xticklabels()[target_class].set_fontweight("bold")
    ax.set_xlim(-0.5, num_classes - 0.5)
    ax.set_ylim(0.0, 1.0)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(f"class $c$ (shaded: the target class $y$ = {target_class})")
    ax.set_ylabel(r"target probability $q_c$")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.9, edgecolor="none")
    return fig


def _check_optimal_logits(logits: Any, num_classes: int) -> dict[str, np.ndarray | None]:
    """label -> centred ``(K,)`` logits, or ``None`` for a target without a finite optimum."""
    checked: dict[str, np.ndarray | None] = {}
    for label in _check_labels("logits", logits):
        name = f"logits[{label!r}]"
        if logits[label] is None:
            checked[label] = None
            continue
        values = _vector(name, logits[label])
        if values.size != num_classes:
            raise ValueError(f"{name} must have num_classes = {num_classes} entries, got {values.size}")
        mean = float(values.mean())
        if abs(mean) > _CENTRED_TOLERANCE * max(1.0, float(np.abs(values).max())):
            raise ValueError(f"{name} must be centred at mean 0 (as course_lib.losses.optimal_logits gives them), "
                             f"got mean {mean!r}")
        checked[label] = values
    return checked


def _check_ylim(ylim: Any, drawn: dict[str, np.ndarray]) -> tuple[float, float]:
    if not isinstance(ylim, (tuple, list)) or len(ylim) != 2:
        raise TypeError(f"ylim must be None or a pair (low, high) of numbers, got {describe_value(ylim)}")
    low, high = (check_real("ylim", value) for value in ylim)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"ylim must be two finite numbers, low < high, got {tuple(ylim)!r}")
    if drawn:
        everything = np.concatenate(list(drawn.values()))
        smallest, largest = float(everything.min()), float(everything.max())
        if smallest < low or largest > high:
            raise ValueError(f"ylim must hold every logit drawn ({smallest:.3f} to {largest:.3f}), got {tuple(ylim)!r}")
    return low, high


def plot_optimal_logits(
    logits: Mapping[str, Any],
    *,
    target_class: int,
    num_classes: int,
    ylim: tuple[float, float] | None = None,
    ax: Axes | None = None,
    title: str = "Optimal logits: the minimisers of the cross-entropy against each target",
) -> Figure:
    r"""Grouped bars: the centred logits that minimise the cross-entropy against each target, the target class shaded.

    Against a target :math:`q` with no zero entry the cross-entropy is
    minimised where :math:`\operatorname{softmax}(z) = q`, i.e. at
    :math:`z^*_c = \log q_c - \frac1K \sum_k \log q_k` (centred at mean 0;
    :func:`course_lib.losses.optimal_logits`): for a smoothed target,
    :math:`z^*_y - z^*_c` is :func:`course_lib.losses.optimal_logit_gap`. A
    one-hot target has no finite optimum (:math:`z_y - z_c \to \infty`): give it
    as ``None``, and it is named in the legend instead of drawn.

    Drawn (each artist has a gid): the target class's column shaded
    (``target-class``) and its tick label in bold, a line at 0 (``zero``); per
    finite entry, one bar per class (every bar has gid ``bars-<label>``, in class
    order) and the target class's logit written at the end of its bar, inside a
    long one, beyond a short one (``target-value-<label>``, 3 decimals); per
    ``None`` entry a legend line "<label>: no finite optimum
    (:math:`z_y - z_c \to \infty`)". Colours follow the order of ``logits``
    (``C0``, ``C1``, …, ``None`` entries included), so the same
    mapping order as :func:`plot_smoothed_targets` gives each target its colour
    there. When every entry is ``None`` no bar is drawn and the axes say so
    (``no-finite-optimum``).

    Args:
        logits: label -> ``(K,)`` centred optimal logits, or ``None`` for a target without a finite
            optimum, e.g. ``{"one-hot": None, "ε = 0.1 (PyTorch: ε/K to every class)": …}``.
        target_class: :math:`y`, an int in ``[0, K)``.
        num_classes: :math:`2 \le K \le` :data:`MAX_BAR_CLASSES`, the classes on the x-axis (drawn
            even when no entry is finite).
        ylim: ``None`` (fitted to the bars and 0) or a fixed ``(low, high)`` holding every logit, e.g.
            one range for every setting of a widget, so that shrinking logits are seen to shrink.
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_optimal_logits({"one-hot": None, "ε = 0.3": [-0.693, 1.386, -0.693]}, target_class=1,
        ...                           num_classes=3, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['ε = 0.3', 'one-hot: no finite optimum ($z_y - z_c \\to \\infty$)']
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if num_classes > MAX_BAR_CLASSES:
        raise ValueError(f"num_classes must be between 2 and MAX_BAR_CLASSES = {MAX_BAR_CLASSES}, got {num_classes}")
    entries = _check_optimal_logits(logits, num_classes)
    target_class = check_int("target_class", target_class, minimum=0)
    if target_class >= num_classes:
        raise ValueError(f"target_class must be in [0, {num_classes}) (one of the K = {num_classes} classes), "
                         f"got {target_class}")
    drawn = {label: values for label, values in entries.items() if values is not None}
    if ylim is None and not drawn:
        low, high = -1.0, 1.0
    elif ylim is None:
        everything = np.concatenate([np.zeros(1), *drawn.values()])
        low, high = _fitted_limits(float(everything.min()), float(everything.max()), margin=0.08)
    else:
        low, high = _check_ylim(ylim, drawn)
    _check_str("title", title)

    fig, ax = _new_axes(ax, OPTIMAL_LOGITS_FIGSIZE)
    classes = np.arange(num_classes)
    ax.axvspan(target_class - 0.5, target_class + 0.5, color=TARGET_CLASS_COLOR, linewidth=0, zorder=0,
               gid="target-class")
    ax.axhline(0.0, color="0.35", lw=0.8, zorder=1, gid="zero")
    width = 0.8 / max(len(drawn), 1)
    fontsize = 7 if num_classes * len(drawn) <= 36 else 6
    pad = 0.02 * (high - low)
    handles, unbounded = [], []  # the legend: the drawn targets, then those without a finite optimum
    for j, (label, values) in enumerate(entries.items()):
        if values is None:  # a hatched outline in its colour stands for the bars that cannot be drawn
            unbounded.append(Patch(facecolor="none", edgecolor=f"C{j}", hatch="///", linewidth=0.8,
                                   label=f"{label}: no finite optimum ($z_y - z_c \\to \\infty$)"))
            continue
        offset = (list(drawn).index(label) - (len(drawn) - 1) / 2) * width
        bars = ax.bar(classes + offset, values, width=width, color=f"C{j}", label=label, zorder=2)
        for bar in bars:
            bar.set_gid(f"bars-{label}")
        handles.append(bars)
        value = float(values[target_class])
        inside = abs(value) > 0.25 * (high - low)  # written inside the end of a long bar, beyond a short one
        outward = 1.0 if (value >= 0) != inside else -1.0
        ax.text(target_class + offset, value + outward * pad, f"{value:.3f}", rotation=90, ha="center",
                va="bottom" if outward > 0 else "top", fontsize=fontsize, zorder=3, gid=f"target-value-{label}",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    handles += unbounded
    if not drawn:
        ax.text(0.5, 0.5, "no finite optimum: the cross-entropy keeps pushing $z_y - z_c$ towards $\\infty$",
                transform=ax.transAxes, ha="center", va="center", fontsize=9, gid="no-finite-optimum")
    ax.set_xticks(classes, [str(c) for c in classes], fontsize=8)
    ax.get_xticklabels()[target_class].set_fontweight("bold")
    ax.set_xlim(-0.5, num_classes - 0.5)
    ax.set_ylim(low, high)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(f"class $c$ (shaded: the target class $y$ = {target_class})")
    ax.set_ylabel("optimal logit $z^*_c$ (mean 0)")
    ax.set_title(title)
    ax.legend(handles=handles, loc="best" if drawn else "upper left", fontsize=8, frameon=True, framealpha=0.9,
              edgecolor="none")
    return fig


# --- confidences and per-example gaps of trained models ----------------------------------------


def _check_sets(name: str, sets: Any) -> dict[str, np.ndarray]:
    return {label: _vector(f"{name}[{label!r}]", sets[label]) for label in _check_labels(name, sets)}


def _draw_histograms(ax: Axes, sets: dict[str, np.ndarray], edges: np.ndarray, mean_format: str) -> None:
    """Per set: a light fill and a step outline (gid ``hist-<label>``) of its shares on ``edges``, mean dotted."""
    for k, (label, values) in enumerate(sets.items()):
        weights = _fraction_weights(values)
        mean = float(values.mean())
        ax.hist(values, bins=edges, weights=weights, histtype="stepfilled", color=f"C{k}", alpha=0.15, linewidth=0)
        ax.hist(values, bins=edges, weights=weights, histtype="step", color=f"C{k}", linewidth=1.5,
                label=f"{label} (mean {mean:{mean_format}})", gid=f"hist-{label}")
        ax.axvline(mean, color=f"C{k}", ls=":", lw=1.2, gid=f"mean-{label}")


def plot_confidence_histograms(
    confidences: Mapping[str, Any],
    *,
    bins: int = 20,
    ax: Axes | None = None,
    title: str = "Confidence of the predictions",
) -> Figure:
    r"""Overlaid histograms of each model's confidence :math:`\max_c p_c` on shared bins over [0, 1].

    A network trained with plain cross-entropy puts most of its predictions
    in the last bin; label smoothing caps the confidence it is pushed to
    (:math:`1 - \varepsilon + \varepsilon/K` under PyTorch's convention) and
    moves the mass left. Each histogram shows the share of the model's
    predictions per bin (so sets of different sizes compare), as a light fill
    and a step outline (gid ``hist-<label>``); a dotted vertical line marks its
    mean (``mean-<label>``), which the legend gives too: "<label> (mean 0.873)".

    Args:
        confidences: label -> ``(n,)`` largest softmax probabilities, in [0, 1].
        bins: the number of equal bins over [0, 1] (int >= 1).
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_confidence_histograms({"CE": [0.99, 1.0], "LS": [0.8, 0.9]}, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['CE (mean 0.995)', 'LS (mean 0.850)']
    """
    sets = _check_sets("confidences", confidences)
    for label, values in sets.items():
        if np.any(values < 0) or np.any(values > 1):
            index = int(np.argmax((values < 0) | (values > 1)))
            raise ValueError(f"confidences[{label!r}] must hold probabilities in [0, 1], got {float(values[index])!r} "
                             f"at index {index}")
    bins = _check_bins(bins)
    _check_str("title", title)
    fig, ax = _new_axes(ax, CONFIDENCE_HISTOGRAMS_FIGSIZE)
    _draw_histograms(ax, sets, np.linspace(0.0, 1.0, bins + 1), ".3f")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("confidence (largest softmax probability)")
    ax.set_ylabel("share of predictions")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_logit_gaps(
    gaps: Mapping[str, Any],
    *,
    optimal: float | None = None,
    optimal_label: str = "optimal gap",
    bins: int = 40,
    xlabel: str = GAP_LABEL,
    ax: Axes | None = None,
    title: str = "Per-example logit gaps",
) -> Figure:
    r"""Overlaid histograms of each model's per-example logit gaps on shared bins, with the optimal gap dashed.

    Under smoothed targets the loss of one example is smallest at the gap
    :func:`course_lib.losses.optimal_logit_gap`; a network trained with them
    gathers its gaps around it, while plain cross-entropy spreads them far to
    the right. Each histogram shows the share of the model's examples per bin
    (light fill and step outline, gid ``hist-<label>``; its mean dotted,
    ``mean-<label>``, and in the legend "<label> (mean 8.21)"); the bins are
    shared and span the data and ``optimal``; the optimal gap is a dashed
    vertical line (gid ``optimal``, legend "<optimal_label>: 4.511").

    Args:
        gaps: label -> ``(n,)`` finite per-example gaps (negative for a misclassified example).
        optimal: ``None`` or the finite optimal gap (ε = 0 has none).
        optimal_label: the legend's name of the optimal gap, e.g. "optimum, ε = 0.1 (log 91)".
        bins: the number of equal bins (int >= 1).
        xlabel: the x label (default :data:`GAP_LABEL`).
        ax: draw here instead of opening a new figure.
        title: the axes title.
    """
    sets = _check_sets("gaps", gaps)
    optimal = None if optimal is None else _check_gap_value("optimal", optimal)
    _check_str("optimal_label", optimal_label)
    bins = _check_bins(bins)
    _check_str("xlabel", xlabel)
    _check_str("title", title)
    everything = np.concatenate(list(sets.values()) + ([np.array([optimal])] if optimal is not None else []))
    low, high = float(everything.min()), float(everything.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    fig, ax = _new_axes(ax, LOGIT_GAPS_FIGSIZE)
    _draw_histograms(ax, sets, np.linspace(low, high, bins + 1), ".2f")
    if optimal is not None:
        ax.axvline(optimal, color=OPTIMAL_COLOR, ls="--", lw=1.4, label=f"{optimal_label}: {optimal:.3f}", gid="optimal")
    ax.set_xlim(*_fitted_limits(low, high, margin=0.02))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of examples")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return fig


# --- penultimate-layer activations ---------------------------------------------------------------


def _check_class_names(class_names: Any) -> tuple[str, ...]:
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a sequence of strings, got {describe_value(class_names)}")
    if not 1 <= len(class_names) <= len(PROJECTION_CLASS_COLORS):
        raise ValueError(f"class_names must name between 1 and {len(PROJECTION_CLASS_COLORS)} classes, "
                         f"got {len(class_names)}")
    for name in class_names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"class_names must hold non-empty strings, got {name!r}")
    return tuple(class_names)


def _check_class_labels(labels: Any, n: int, num_classes: int) -> np.ndarray:
    if _is_tensor(labels):
        if labels.is_floating_point() or labels.is_complex() or str(labels.dtype) == "torch.bool":
            raise TypeError(f"labels must hold integer classes, got dtype {labels.dtype}")
        labels = labels.detach().cpu().numpy()
    if labels is None or isinstance(labels, (str, bytes, Mapping)):
        raise TypeError(f"labels must be an array of integer classes, got {describe_value(labels)}")
    array = np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise TypeError(f"labels must hold integer classes, got dtype {array.dtype}")
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) (one class per point of every panel), got shape {array.shape}")
    bad = (array < 0) | (array >= num_classes)
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"labels must be classes in [0, {num_classes}) (one per entry of class_names), "
                         f"got {int(array[index])} at index {index}")
    return array.astype(np.int64)


def _check_points(points: Any) -> dict[str, np.ndarray]:
    checked: dict[str, np.ndarray] = {}
    for label in _check_labels("points", points):
        name = f"points[{label!r}]"
        values = _finite(name, _array(name, points[label]))
        if values.ndim != 2 or values.shape[1] != 2 or values.shape[0] < 1:
            raise ValueError(f"{name} must have shape (N, 2) with N >= 1 (points of a plane), got shape {values.shape}")
        if checked and values.shape[0] != next(iter(checked.values())).shape[0]:
            first = next(iter(checked))
            raise ValueError(f"{name} must have as many points as points[{first!r}] "
                             f"({checked[first].shape[0]}): the panels share labels, got {values.shape[0]}")
        checked[label] = values
    return checked


def _check_titles_extra(titles_extra: Any, panels: Sequence[str]) -> dict[str, str]:
    if titles_extra is None:
        return {}
    if not isinstance(titles_extra, Mapping):
        raise TypeError(f"titles_extra must be None or a mapping of panel labels to text, "
                        f"got {describe_value(titles_extra)}")
    unknown = [key for key in titles_extra if key not in panels]
    if unknown:
        raise ValueError(f"titles_extra has panels that are not in points: {unknown!r} (points has {list(panels)!r})")
    for key, text in titles_extra.items():
        _check_str(f"titles_extra[{key!r}]", text)
    return dict(titles_extra)


def _square_window(values: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits of equal length around the points' bounding box: the longer side with its margin."""
    low, high = values.min(axis=0), values.max(axis=0)
    start, stop = _fitted_limits(0.0, float((high - low).max()))
    half, middle = (stop - start) / 2, (low + high) / 2
    return (float(middle[0] - half), float(middle[0] + half)), (float(middle[1] - half), float(middle[1] + half))


def plot_penultimate_projection(
    points: Mapping[str, Any],
    labels: Any,
    *,
    class_names: Sequence[str],
    titles_extra: Mapping[str, str] | None = None,
    axis_labels: tuple[str, str] = ("plane coordinate 1", "plane coordinate 2"),
    suptitle: str = "Penultimate-layer activations, projected onto a plane",
) -> Figure:
    r"""One scatter panel per model: 2-D projections of penultimate activations, coloured by class.

    Müller, Kornblith & Hinton (2019) project the penultimate activations of
    examples of three classes onto the plane through those classes' templates
    (the rows of the last layer's weight matrix): under plain cross-entropy
    each class forms a broad cluster, under label smoothing a tight one, and
    the three clusters sit at nearly equal distances, since smoothing asks
    every wrong class for the same logit. The caller computes the projections;
    this function draws them.

    Every panel has equal aspect and a square window fitted to its own points
    (the scales of two models differ: the longer side of the points' bounding
    box with a margin, the other centred to the same length), with its label as title and, if given, the
    text of ``titles_extra`` below it (e.g. a measured within-class spread).
    Each class is one scatter (gid ``class-<c>``, colour
    ``PROJECTION_CLASS_COLORS[c]``); one legend below the panels names the
    classes. At most four panels per row.

    Args:
        points: panel label -> ``(N, 2)`` projected activations, e.g.
            ``{"cross-entropy": …, "label smoothing 0.1": …}``; the same N in every panel.
        labels: ``(N,)`` integer classes in ``[0, len(class_names))``, shared by every panel.
        class_names: one non-empty name per class (at most ten), e.g. ``("class 0", "class 1", "class 2")``.
        titles_extra: ``None`` or panel label -> text for a second title line.
        axis_labels: the x and y labels of every panel.
        suptitle: the figure's title.
    """
    panels = _check_points(points)
    names = _check_class_names(class_names)
    classes = _check_class_labels(labels, next(iter(panels.values())).shape[0], len(names))
    extra = _check_titles_extra(titles_extra, list(panels))
    if (isinstance(axis_labels, (str, bytes)) or not isinstance(axis_labels, (tuple, list)) or len(axis_labels) != 2
            or not all(isinstance(label, str) for label in axis_labels)):
        raise ValueError(f"axis_labels must be two strings, got {axis_labels!r}")
    _check_str("suptitle", suptitle)

    columns = min(len(panels), _PROJECTION_PANELS_PER_ROW)
    rows = math.ceil(len(panels) / columns)
    width, height = PROJECTION_PANEL_FIGSIZE
    fig, grid = plt.subplots(rows, columns, figsize=(width * columns, height * rows + _PROJECTION_LEGEND_HEIGHT),
                             layout="constrained", squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[len(panels):]:
        fig.delaxes(ax)
    for ax, (label, values) in zip(axes, panels.items()):
        for c, class_name in enumerate(names):
            chosen = values[classes == c]
            ax.scatter(chosen[:, 0], chosen[:, 1], s=7, color=PROJECTION_CLASS_COLORS[c], alpha=0.6, linewidths=0,
                       label=class_name, gid=f"class-{c}", rasterized=True)
        x_limits, y_limits = _square_window(values)
        ax.set_xlim(*x_limits)
        ax.set_ylim(*y_limits)
        ax.set_aspect("equal")  # a square window at equal aspect: every panel is a square of the same size
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        ax.set_title(label if label not in extra else f"{label}\n{extra[label]}", fontsize=10)
    handles, shown = axes[0].get_legend_handles_labels()
    fig.legend(handles, shown, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False, markerscale=2.0)
    fig.suptitle(suptitle)
    return fig

r"""The figures of the chapter "Dropout variants" (book.toml id ``variants``).

What each variant of :mod:`course_lib.variants` drops, and what the measurements show:

* :func:`plot_mask_gallery` -- one image per mask (:class:`MaskPanel`): plain
  dropout on a (channels × positions) map, spatial dropout (whole rows),
  DropBlock (contiguous runs or squares), DropPath (whole examples), locked
  dropout (the same units at every time step), DropConnect (a weight mask) and
  Gaussian dropout (continuous multipliers), each titled with its realised
  dropped fraction;
* :func:`plot_dropblock_rates` -- the realised drop fraction of DropBlock
  against the requested :math:`p`, below the diagonal because blocks overlap;
* :func:`plot_drop_path_schedule` -- the stochastic-depth rate of each residual
  block (:func:`course_lib.variants.drop_path_rates`), with measured
  frequencies;
* :func:`plot_activation_histograms` -- overlaid histograms of activations
  (SELU after alpha dropout against after standard dropout), with each set's
  mean and standard deviation.

The experiment's seed comparison is
:func:`course_lib.plots.training.plot_seed_comparison`. The masks, rates and
activations come from :mod:`course_lib.variants` and the caller's networks;
these functions only draw them. Sizes, ``ax`` and the other conventions are
those of :mod:`course_lib.plots`. Array arguments may be NumPy arrays,
sequences or torch tensors (detached).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_lib._validation import check_bool, check_int, check_real, describe_value
from course_lib.plots import BEST_EPOCH_COLOR, CROSS_COLOR, _array, _check_labels, _check_str, _finite, _new_axes, _vector

__all__ = [
    "MASK_PANEL_FIGSIZE", "DROPBLOCK_RATES_FIGSIZE", "DROP_PATH_SCHEDULE_FIGSIZE", "ACTIVATION_HISTOGRAMS_FIGSIZE",
    "DROPPED_COLOR", "KEPT_COLOR", "SCALE_CMAP", "MaskPanel", "dropped_fraction", "mask_gallery_figsize",
    "plot_mask_gallery", "plot_dropblock_rates", "plot_drop_path_schedule", "plot_activation_histograms",
]

MASK_PANEL_FIGSIZE = (2.4, 2.5)  # per panel; the shared legend or colour bar adds _GALLERY_EXTRA
_GALLERY_EXTRA = (0.0, 0.5)
DROPBLOCK_RATES_FIGSIZE = (6.4, 3.6)
DROP_PATH_SCHEDULE_FIGSIZE = (6.4, 3.4)
ACTIVATION_HISTOGRAMS_FIGSIZE = (6.4, 3.4)

#: Colour of the dropped entries (multiplier 0) of a two-valued mask: the book's colour of dropped units.
DROPPED_COLOR = CROSS_COLOR
#: Colour of the kept entries of a two-valued mask.
KEPT_COLOR = "#dfe6ef"
#: The continuous colour map of masks drawn by value (Gaussian multipliers, or ``show_scale=True``).
SCALE_CMAP = "viridis"
DIAGONAL_COLOR = BEST_EPOCH_COLOR
_SCALE_RTOL = 1e-6  # kept entries within this relative distance of each other count as one value (float32 masks)


@dataclass(frozen=True)
class MaskPanel:
    """One panel of :func:`plot_mask_gallery`: a 2-D multiplier mask and its axis labels.

    Attributes:
        mask: a 2-D array of multipliers: 0 where an entry is dropped, the kept
            scale (``1/(1 - p)``, or DropBlock's ``numel / count_kept``) where it
            is kept; for Gaussian dropout any real multiplier.
        xlabel: what the columns are, e.g. ``"position"``, ``"feature"``, ``"input unit"``.
        ylabel: what the rows are, e.g. ``"channel"``, ``"example"``, ``"time step"``.
    """

    mask: Any
    xlabel: str = "column"
    ylabel: str = "row"


def dropped_fraction(mask: Any) -> float:
    """The share of entries of ``mask`` that are exactly 0 (dropped).

    Example:
        >>> dropped_fraction([[0.0, 2.0], [2.0, 2.0]])
        0.25
    """
    values = _array("mask", mask)
    if values.size == 0:
        raise ValueError(f"mask must have at least one entry, got shape {values.shape}")
    return float(np.mean(values == 0.0))


def _kept_scale(values: np.ndarray) -> float | None:
    """The one kept value of a two-valued mask (1.0 if nothing is kept); ``None`` if the mask is not two-valued."""
    kept = values[values != 0.0]
    if kept.size == 0:
        return 1.0
    scale = float(kept[0])
    if scale <= 0.0 or not np.allclose(kept, scale, rtol=_SCALE_RTOL, atol=0.0):
        return None
    return scale


def mask_gallery_figsize(n_panels: int, ncols: int = 3) -> tuple[float, float]:
    """The size of :func:`plot_mask_gallery`'s figure for ``n_panels`` panels in rows of at most ``ncols``.

    Example:
        >>> mask_gallery_figsize(8, 3)
        (7.2, 8.0)
    """
    n_panels = check_int("n_panels", n_panels, minimum=1)
    ncols = check_int("ncols", ncols, minimum=1)
    columns = min(ncols, n_panels)
    rows = math.ceil(n_panels / columns)
    width, height = MASK_PANEL_FIGSIZE
    return (round(width * columns + _GALLERY_EXTRA[0], 6), round(height * rows + _GALLERY_EXTRA[1], 6))




def _check_panels(panels: Any) -> dict[str, tuple[np.ndarray, MaskPanel]]:
    checked = {}
    for title in _check_labels("panels", panels):
        panel = panels[title]
        name = f"panels[{title!r}]"
        if not isinstance(panel, MaskPanel):
            raise TypeError(f"{name} must be a MaskPanel(mask, xlabel, ylabel), got {describe_value(panel)}")
        mask = _array(f"{name}.mask", panel.mask)
        if mask.ndim != 2 or mask.size == 0:
            raise ValueError(f"{name}.mask must be a non-empty 2-D array (rows, columns), got shape {mask.shape}")
        _finite(f"{name}.mask", mask)
        _check_str(f"{name}.xlabel", panel.xlabel)
        _check_str(f"{name}.ylabel", panel.ylabel)
        checked[title] = (mask, panel)
    return checked


def _panel_subtitle(mask: np.ndarray, scale: float | None) -> str:
    dropped = f"dropped {100.0 * float(np.mean(mask == 0.0)):.1f}%"
    if scale is not None:
        return f"{dropped}, kept ×{scale:.3g}" if np.any(mask != 0.0) else f"{dropped}, none kept"
    return f"{dropped}, range {float(mask.min()):.2f} to {float(mask.max()):.2f}"


def plot_mask_gallery(
    panels: Mapping[str, MaskPanel],
    *,
    ncols: int = 3,
    show_scale: bool = False,
    fig: Figure | None = None,
    suptitle: str = "What each dropout variant drops",
) -> Figure:
    r"""One image per mask: dropped entries in :data:`DROPPED_COLOR`, kept ones in :data:`KEPT_COLOR`.

    Each panel shows ``mask`` as it is (``ax.images[0]`` holds its values, row
    0 at the top), titled with its key and a second line giving the realised
    dropped fraction (the share of exact zeros) and the kept scale:
    "dropped 10.3%, kept ×1.11". A two-valued mask (0 and one kept value
    :math:`s > 0`: inverted dropout's :math:`1/(1-p)`, DropBlock's
    ``numel / count_kept``) is drawn in the two colours, named by a legend
    below the panels. A mask that is not
    two-valued (Gaussian dropout's multipliers :math:`\xi \sim \mathcal N(1, p/(1-p))`),
    and every mask when ``show_scale`` is true, is drawn by value in
    :data:`SCALE_CMAP` on one shared scale from :math:`\min(0, \text{smallest})`
    to the largest value, with one colour bar (gid ``colorbar``; ticked at 0
    and the kept scales when every mask it serves is two-valued). The subtitle
    of a mask that is not two-valued gives the range of its multipliers
    instead of the kept scale ("dropped 0.0%, range -0.44 to 2.34"). A square
    mask is drawn square; any other fills its cell (``aspect="auto"``), so a
    long map stays readable.

    Which structure to look for: dropout scatters single zeros; spatial
    dropout zeroes whole channels (rows of a channels × positions map);
    DropBlock zeroes contiguous runs or squares; DropPath zeroes whole
    examples (rows); locked dropout zeroes the same units at every time step
    (columns); DropConnect zeroes single weights; Gaussian dropout zeroes
    nothing.

    Args:
        panels: title -> :class:`MaskPanel`, e.g. ``{"spatial dropout": MaskPanel(mask, "position", "channel")}``.
        ncols: panels per row (int >= 1).
        show_scale: draw every mask by value with a colour bar (True), or two-valued masks in two colours (False).
        fig: an empty figure to draw into (an off-screen one of a widget); ``None`` opens a pyplot figure of
            :func:`mask_gallery_figsize`.
        suptitle: the figure's title.

    Example:
        >>> fig = plot_mask_gallery({"dropout": MaskPanel([[0.0, 2.0], [2.0, 2.0]], "position", "channel")},
        ...                         fig=Figure(layout="constrained"))
        >>> fig.axes[0].get_title()
        'dropout\ndropped 25.0%, kept ×2'
    """
    checked = _check_panels(panels)
    ncols = check_int("ncols", ncols, minimum=1)
    show_scale = check_bool("show_scale", show_scale)
    if fig is not None and not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or None, got {describe_value(fig)}")
    if fig is not None and fig.axes:
        raise ValueError(f"fig must be an empty Figure to draw the gallery into, got one with {len(fig.axes)} axes")
    _check_str("suptitle", suptitle)

    scales = {title: _kept_scale(mask) for title, (mask, _) in checked.items()}
    by_value = [title for title in checked if show_scale or scales[title] is None]
    columns = min(ncols, len(checked))
    rows = math.ceil(len(checked) / columns)
    if fig is None:
        fig = plt.figure(figsize=mask_gallery_figsize(len(checked), ncols), layout="constrained")
    grid = fig.subplots(rows, columns, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[len(checked):]:
        fig.delaxes(ax)
    norm = None
    if by_value:
        values = np.concatenate([checked[title][0].ravel() for title in by_value])
        low, high = min(0.0, float(values.min())), float(values.max())
        norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    two_colours = ListedColormap([DROPPED_COLOR, KEPT_COLOR], name="dropped-kept")
    value_image = None
    for ax, (title, (mask, panel)) in zip(axes, checked.items()):
        aspect = "equal" if mask.shape[0] == mask.shape[1] else "auto"  # a square map stays square
        if title in by_value:
            value_image = ax.imshow(mask, cmap=SCALE_CMAP, norm=norm, interpolation="nearest", aspect=aspect)
        else:
            ax.imshow(mask, cmap=two_colours, vmin=0.0, vmax=scales[title], interpolation="nearest", aspect=aspect)
        ax.set_title(f"{title}\n{_panel_subtitle(mask, scales[title])}", fontsize=9)
        ax.set_xlabel(panel.xlabel, fontsize=8)
        ax.set_ylabel(panel.ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(False)
    if value_image is not None:
        served = [ax for ax, title in zip(axes, checked) if title in by_value]
        colorbar = fig.colorbar(value_image, ax=served, location="bottom", fraction=0.06, pad=0.02, aspect=40,
                                shrink=0.6 if len(served) > 1 else 0.9)
        colorbar.set_label("multiplier (0 = dropped)", fontsize=8)
        colorbar.ax.tick_params(labelsize=7)
        colorbar.ax.set_gid("colorbar")
        if all(scales[title] is not None for title in by_value):  # two-valued masks by value: tick 0, the scales
            ticks = sorted({0.0, *(round(scales[title], 6) for title in by_value)})
            colorbar.set_ticks(ticks, labels=[f"{tick:.3g}" for tick in ticks])
    if len(by_value) < len(checked):
        handles = [Patch(facecolor=color, edgecolor="0.4", label=label)
                   for color, label in ((KEPT_COLOR, "kept (× the kept scale)"), (DROPPED_COLOR, "dropped (× 0)"))]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(suptitle)
    return fig


# --- DropBlock's realised drop fraction -------------------------------------------------------




def _check_fractions(name: str, values: np.ndarray, *, upper_open: bool) -> np.ndarray:
    bad = (values < 0.0) | ((values >= 1.0) if upper_open else (values > 1.0))
    if bad.any():
        index = int(np.argmax(bad))
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{name} must hold fractions in {interval}, got {float(values[index])!r} at index {index}")
    return values


def plot_dropblock_rates(
    p_values: Any,
    realised: Mapping[str, Any],
    *,
    spread: Mapping[str, Any] | None = None,
    ax: Axes | None = None,
    title: str = "DropBlock drops less than it is asked to",
) -> Figure:
    r"""The realised drop fraction against the requested :math:`p`, one line per setting, and the diagonal.

    DropBlock draws seeds at rate
    :math:`\gamma = \frac{p}{bs^2}\frac{HW}{(H-bs+1)(W-bs+1)}` so that seeds
    times block area is :math:`p\,HW`; overlapping blocks cover some positions
    twice, so the realised fraction :math:`\mathbb E[1 - (1-\gamma)^k]` lies
    below :math:`p`, the more the larger :math:`p` (see
    :func:`course_lib.variants.drop_block2d` for a table).

    Drawn (each artist has a gid): per label a line with markers
    (``realised-<label>``) and, if ``spread`` has the label, symmetric error
    bars (``spread-<label>``, e.g. two standard errors); the dashed diagonal
    (``diagonal``, legend "asked for: y = p"). Both axes start at 0 and end a
    little past the largest value.

    Args:
        p_values: ``(k,)`` requested drop rates, in [0, 1).
        realised: label -> ``(k,)`` measured drop fractions in [0, 1], e.g.
            ``{"2-D 32×32, block 7": …}``.
        spread: ``None`` or label (of ``realised``) -> ``(k,)`` non-negative error-bar half-lengths.
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_dropblock_rates([0.1, 0.3], {"block 3": [0.095, 0.26]}, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['block 3', 'asked for: y = p']
    """
    p = _check_fractions("p_values", _vector("p_values", p_values), upper_open=True)
    lines = {}
    for label in _check_labels("realised", realised):
        name = f"realised[{label!r}]"
        values = _check_fractions(name, _vector(name, realised[label]), upper_open=False)
        if values.shape != p.shape:
            raise ValueError(f"{name} must have shape {p.shape} (one fraction per entry of p_values), "
                             f"got {values.shape}")
        lines[label] = values
    bars = {}
    if spread is not None:
        for label in _check_labels("spread", spread):
            name = f"spread[{label!r}]"
            if label not in lines:
                raise ValueError(f"spread has a label that is not in realised: {label!r} "
                                 f"(realised has {list(lines)!r})")
            values = _vector(name, spread[label])
            if values.shape != p.shape:
                raise ValueError(f"{name} must have shape {p.shape} (one half-length per entry of p_values), "
                                 f"got {values.shape}")
            if np.any(values < 0):
                index = int(np.argmax(values < 0))
                raise ValueError(f"{name} must hold non-negative half-lengths, got {float(values[index])!r} "
                                 f"at index {index}")
            bars[label] = values
    _check_str("title", title)

    fig, ax = _new_axes(ax, DROPBLOCK_RATES_FIGSIZE)
    for k, (label, values) in enumerate(lines.items()):
        ax.plot(p, values, "o-", color=f"C{k}", lw=1.6, markersize=4, label=label, gid=f"realised-{label}", zorder=3)
        if label in bars:
            container = ax.errorbar(p, values, yerr=bars[label], fmt="none", ecolor=f"C{k}", elinewidth=1.0,
                                    capsize=3, zorder=2)
            for collection in container.lines[2]:
                collection.set_gid(f"spread-{label}")
    top = float(max([p.max(), *(values.max() for values in lines.values()),
                     *((lines[label] + bars[label]).max() for label in bars)]))
    top = 1.05 * top if top > 0 else 1.0
    ax.plot([0.0, top], [0.0, top], ls="--", lw=1.2, color=DIAGONAL_COLOR, label="asked for: y = p", gid="diagonal",
            zorder=1)
    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("requested drop rate $p$")
    ax.set_ylabel("realised drop fraction")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


# --- the stochastic-depth schedule ---------------------------------------------------------------


def plot_drop_path_schedule(
    rates: Any,
    *,
    measured: Any | None = None,
    ax: Axes | None = None,
    title: str = "Stochastic depth: the drop rate of each residual block",
) -> Figure:
    r"""Bars of each residual block's drop rate :math:`p_l`, blocks 1 … L, with measured frequencies as markers.

    Under the linear schedule of Huang et al. (2016),
    :func:`course_lib.variants.drop_path_rates`,
    :math:`p_l = p_{\max}\, l / L`: early blocks, which compute low-level
    features every later block uses, are rarely dropped; the last at
    :math:`p_{\max}`. Drawn: one bar per block (gid ``rate``, its height the
    rate, at x = 1 … L), and with ``measured`` the observed drop frequency of
    each block as a marker (gid ``measured``). Every block is a tick up to 25
    blocks.

    Args:
        rates: ``(L,)`` drop rates in [0, 1), first block to last.
        measured: ``None`` or ``(L,)`` measured drop frequencies in [0, 1].
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_drop_path_schedule([0.05, 0.1, 0.15, 0.2], ax=Figure().add_subplot())
        >>> [round(float(bar.get_height()), 2) for bar in fig.axes[0].patches]
        [0.05, 0.1, 0.15, 0.2]
    """
    values = _check_fractions("rates", _vector("rates", rates), upper_open=True)
    observed = None
    if measured is not None:
        observed = _check_fractions("measured", _vector("measured", measured), upper_open=False)
        if observed.shape != values.shape:
            raise ValueError(f"measured must have shape {values.shape} (one frequency per block of rates), "
                             f"got {observed.shape}")
    _check_str("title", title)

    fig, ax = _new_axes(ax, DROP_PATH_SCHEDULE_FIGSIZE)
    blocks = np.arange(1, values.size + 1)
    bars = ax.bar(blocks, values, width=0.7, color="C0", alpha=0.8, label="scheduled drop rate $p_l$", zorder=2)
    for bar in bars:
        bar.set_gid("rate")
    top = float(values.max())
    if observed is not None:
        ax.plot(blocks, observed, "o", color="C1", markersize=5, label="measured drop frequency", gid="measured",
                zorder=3)
        top = max(top, float(observed.max()))
    ax.set_xlim(0.4, values.size + 0.6)
    ax.set_ylim(0.0, 1.15 * top if top > 0 else 1.0)
    if values.size <= 25:
        ax.set_xticks(blocks, [str(block) for block in blocks], fontsize=8)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("residual block $l$")
    ax.set_ylabel("drop probability")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


# --- activation statistics -------------------------------------------------------------------------


def _check_reference(reference: Any) -> tuple[float, float] | None:
    if reference is None:
        return None
    if isinstance(reference, (str, bytes)) or not isinstance(reference, (tuple, list)) or len(reference) != 2:
        raise TypeError(f"reference must be None or a (mean, std) pair, got {describe_value(reference)}")
    mean, std = (check_real(f"reference[{i}]", value) for i, value in enumerate(reference))
    if not math.isfinite(mean):
        raise ValueError(f"reference[0] (the mean) must be a finite number, got {mean!r}")
    if not (math.isfinite(std) and std >= 0.0):
        raise ValueError(f"reference[1] (the standard deviation) must be a finite number >= 0, got {std!r}")
    return mean, std


def plot_activation_histograms(
    samples: Mapping[str, Any],
    *,
    reference: tuple[float, float] | None = None,
    reference_label: str = "reference",
    bins: int = 50,
    xlabel: str = "activation",
    ax: Axes | None = None,
    title: str = "Activations after dropout",
) -> Figure:
    r"""Overlaid step histograms of activation sets on shared bins, with each set's mean and standard deviation.

    The chapter's use: SELU activations of a self-normalising network
    (Klambauer et al., 2017) stay near mean 0 and variance 1 under alpha
    dropout, which drops to SELU's negative saturation value and then
    rescales, but drift off under standard dropout, whose zeros are not that
    value. Each set is a density histogram (so sets of different sizes compare)
    drawn as a step outline (gid ``hist-<label>``) on bins shared by all sets;
    the legend gives "<label> (mean 0.012, std 0.997)" (the standard deviation
    with divisor n). ``reference = (mean, std)`` adds a dashed vertical line
    at the mean (gid ``reference``, legend "<reference_label>: mean 0, std 1").

    Args:
        samples: label -> ``(n,)`` finite activations.
        reference: ``None`` or the target ``(mean, std)``.
        reference_label: the legend's name of the reference.
        bins: the number of shared bins (int >= 1) over the range of all sets.
        xlabel: the x label.
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_activation_histograms({"alpha dropout": [-1.0, 0.0, 1.0]}, reference=(0.0, 1.0),
        ...                                  ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['alpha dropout (mean 0.000, std 0.816)', 'reference: mean 0, std 1']
    """
    sets = {label: _vector(f"samples[{label!r}]", samples[label]) for label in _check_labels("samples", samples)}
    target = _check_reference(reference)
    _check_str("reference_label", reference_label)
    bins = check_int("bins", bins, minimum=1)
    _check_str("xlabel", xlabel)
    _check_str("title", title)
    everything = np.concatenate(list(sets.values()) + ([np.array([target[0]])] if target is not None else []))
    low, high = float(everything.min()), float(everything.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)

    fig, ax = _new_axes(ax, ACTIVATION_HISTOGRAMS_FIGSIZE)
    for k, (label, values) in enumerate(sets.items()):
        ax.hist(values, bins=edges, density=True, histtype="step", color=f"C{k}", linewidth=1.5,
                label=f"{label} (mean {values.mean():.3f}, std {values.std():.3f})", gid=f"hist-{label}")
    if target is not None:
        mean, std = target
        ax.axvline(mean, color=BEST_EPOCH_COLOR, ls="--", lw=1.2,
                   label=f"{reference_label}: mean {mean:g}, std {std:g}", gid="reference")
    ax.set_xlim(low, high)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return fig

r"""The figures of the chapter "Regularization in practice" (book.toml id ``practice``).

Where the regularizers of the earlier chapters sit in a real model, and what
to watch while training one:

* :func:`plot_dropout_sites` -- a schematic of a pre-LN Transformer
  (:class:`course_lib.transformer.TransformerClassifier`) with every dropout
  site of :func:`course_lib.transformer.dropout_sites` marked at its place
  and labelled with its rate;
* :func:`plot_batch_noise` -- the variance of a batch statistic against the
  batch size :math:`B` on log-log axes, with the :math:`\sigma^2/B` line and
  the fitted slope: the noise that makes small batches (and batch norm)
  regularize;
* :func:`plot_double_descent` -- test error of random-features regression
  against the number of features, one line per ridge strength, with the
  interpolation threshold (:class:`course_lib.double_descent.DoubleDescentCurve`);
* :func:`plot_learning_rate_comparison` -- training loss and validation
  accuracy (or loss) of runs that differ in their learning rate;
* :func:`plot_gap_monitor` -- training against validation accuracy (or loss)
  of one run with the generalization gap shaded: it draws
  :func:`course_lib.plots.training.plot_history` and adds the gap.

The sites, variances, curves and histories come from the topic modules and
the caller's runs; these functions only draw them. Sizes, ``ax`` and the
other conventions are those of :mod:`course_lib.plots`. Array arguments may be
NumPy arrays, sequences or torch tensors (detached).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle
from matplotlib.ticker import NullLocator

from course_lib._validation import check_bool, check_int, check_positive, check_probability, describe_value
from course_lib.double_descent import DoubleDescentCurve
from course_lib.plots import BEST_EPOCH_COLOR, CROSS_COLOR, _check_labels, _check_str, _new_axes, _vector
from course_lib.plots.training import plot_history
from course_lib.train import History
from course_lib.transformer import DROPOUT_KINDS

__all__ = [
    "BATCH_NOISE_FIGSIZE", "DOUBLE_DESCENT_FIGSIZE", "LEARNING_RATE_FIGSIZE", "SITE_COLOR", "SITE_FACE",
    "OFF_SITE_COLOR", "OFF_SITE_FACE", "COMPONENT_FACE", "GAP_COLOR", "THRESHOLD_COLOR", "dropout_sites_figsize",
    "plot_dropout_sites", "plot_batch_noise", "plot_double_descent", "plot_learning_rate_comparison",
    "plot_gap_monitor",
]

BATCH_NOISE_FIGSIZE = (6.4, 3.6)
DOUBLE_DESCENT_FIGSIZE = (7.0, 3.8)
LEARNING_RATE_FIGSIZE = (9.6, 3.6)

#: Edge and text colour of a dropout site at a rate > 0: the book's colour of dropped units.
SITE_COLOR = CROSS_COLOR
SITE_FACE = "#f8e1e1"
#: Edge and text colour of a dropout site at rate 0 (present in the model, but the identity).
OFF_SITE_COLOR = "0.6"
OFF_SITE_FACE = "0.95"
#: Face of the diagram's computing boxes (LayerNorm, attention, feed-forward, embedding, head).
COMPONENT_FACE = "#e6ecf4"
#: The shaded generalization gap of :func:`plot_gap_monitor`.
GAP_COLOR = CROSS_COLOR
#: The interpolation threshold of :func:`plot_double_descent`.
THRESHOLD_COLOR = BEST_EPOCH_COLOR
_LINE_COLOR = "0.3"






def _positive(name: str, values: np.ndarray) -> np.ndarray:
    if np.any(values <= 0):
        index = int(np.argmax(values <= 0))
        raise ValueError(f"{name} must hold numbers > 0, got {float(values[index])!r} at index {index}")
    return values


def _empty_figure(fig: Any) -> None:
    if fig is not None and not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or None, got {describe_value(fig)}")
    if fig is not None and fig.axes:
        raise ValueError(f"fig must be an empty Figure to draw into, got one with {len(fig.axes)} axes")


# --- where dropout sits in a Transformer -----------------------------------------------------------

# The slots of one block, in the order data meets them (the order of dropout_sites).
_ATTENTION_PROBABILITIES, _RESIDUAL_ATTENTION, _DROP_PATH_ATTENTION, _RESIDUAL_FEED_FORWARD, _DROP_PATH_FEED_FORWARD = (
    range(5))
_SLOT_OF_KIND = {"attention probabilities": _ATTENTION_PROBABILITIES, "residual (attention)": _RESIDUAL_ATTENTION,
                 "residual (feed-forward)": _RESIDUAL_FEED_FORWARD}

# Diagram geometry, in data units: x runs over [0, 10], one unit of height is _INCHES_PER_UNIT inches.
_TRUNK_X = 1.3
_RETURN_X = 9.45
_HEADER_HEIGHT = 1.7
_ATTENTION_ROW_HEIGHT = 1.45
_FEED_FORWARD_ROW_HEIGHT = 1.25
_TAIL_HEIGHT = 0.9
_OTHER_ROW_HEIGHT = 0.75
_OTHERS_PER_ROW = 3
_MARGIN = 0.1
_INCHES_PER_UNIT = 0.55
_TITLE_INCHES = 0.45
_WIDTH_INCHES = 7.2


def _block_height() -> float:
    return _ATTENTION_ROW_HEIGHT + _FEED_FORWARD_ROW_HEIGHT


def _diagram_height(depth: int, n_other: int) -> float:
    other_rows = math.ceil(n_other / _OTHERS_PER_ROW)
    return 2 * _MARGIN + _HEADER_HEIGHT + depth * _block_height() + _TAIL_HEIGHT + other_rows * _OTHER_ROW_HEIGHT


def dropout_sites_figsize(depth: int, n_other: int = 0) -> tuple[float, float]:
    """The size of :func:`plot_dropout_sites`'s figure for ``depth`` blocks and ``n_other`` unplaced sites.

    Example:
        >>> dropout_sites_figsize(2)
        (7.2, 4.96)
    """
    depth = check_int("depth", depth, minimum=1)
    n_other = check_int("n_other", n_other, minimum=0)
    return (_WIDTH_INCHES, round(_INCHES_PER_UNIT * _diagram_height(depth, n_other) + _TITLE_INCHES, 6))


def _check_sites(sites: Any) -> list[tuple[str, str, float]]:
    if isinstance(sites, (str, bytes, Mapping)) or not isinstance(sites, Sequence):
        raise TypeError("sites must be a sequence of (module name, kind, rate) tuples "
                        f"(course_lib.transformer.dropout_sites), got {describe_value(sites)}")
    checked = []
    seen: set[str] = set()
    for index, site in enumerate(sites):
        if isinstance(site, (str, bytes)) or not isinstance(site, (tuple, list)) or len(site) != 3:
            raise TypeError(f"sites[{index}] must be a (module name, kind, rate) tuple, got {describe_value(site)}")
        name, kind, rate = site
        _check_str(f"sites[{index}] module name", name)
        if kind not in DROPOUT_KINDS:
            raise ValueError(f"sites[{index}] kind must be one of {DROPOUT_KINDS!r}, got {kind!r}")
        rate = check_probability(f"sites[{index}] rate", rate)
        if name in seen:
            raise ValueError(f"sites must name each module once, got {name!r} twice (at index {index})")
        seen.add(name)
        checked.append((name, kind, rate))
    return checked


def _drop_path_slot(name: str, current: int) -> int:
    """The branch of a drop-path site: by its module name when it says, else the branch after the last site."""
    if name.endswith("feed_forward"):
        return _DROP_PATH_FEED_FORWARD
    if name.endswith("attention"):
        return _DROP_PATH_ATTENTION
    return _DROP_PATH_ATTENTION if current < _DROP_PATH_ATTENTION else _DROP_PATH_FEED_FORWARD


def _place_sites(sites: list[tuple[str, str, float]]):
    """Split the sites into the embedding site, one slot -> site dict per block, and the 'other' sites.

    A site whose slot is not after the current block's last filled slot starts the next block.
    """
    embedding = None
    blocks: list[dict[int, tuple[str, str, float]]] = []
    others = []
    current = -1
    for site in sites:
        name, kind, _ = site
        if kind == "other":
            others.append(site)
            continue
        if kind == "embeddings + positions":
            if embedding is not None:
                raise ValueError(f"sites must hold at most one 'embeddings + positions' site, got {embedding[0]!r} "
                                 f"and {name!r}")
            embedding = site
            continue
        slot = _drop_path_slot(name, current) if kind == "drop path" else _SLOT_OF_KIND[kind]
        if not blocks or slot <= current:
            blocks.append({})
        blocks[-1][slot] = site
        current = slot
    return embedding, blocks, others


def _box(ax: Axes, center: tuple[float, float], size: tuple[float, float], text: str, gid: str, *,
         face: str = COMPONENT_FACE, edge: str = _LINE_COLOR, text_color: str = "0.1", linestyle: str = "-",
         fontsize: float = 7.5, zorder: float = 2) -> None:
    (x, y), (width, height) = center, size
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0,rounding_size=0.06", facecolor=face, edgecolor=edge,
                                linewidth=1.0, linestyle=linestyle, gid=gid, zorder=zorder))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=text_color, gid=f"{gid}-label",
            zorder=zorder + 0.5)


def _site(ax: Axes, center: tuple[float, float], size: tuple[float, float], site: tuple[str, str, float],
          what: str, *, zorder: float = 2) -> None:
    """A dropout site: a box labelled with what it drops and its rate, greyed at rate 0 (gids site-box-/site-)."""
    name, _, rate = site
    on = rate > 0
    text = f"{what}\np = {rate:g}" if on else f"{what}\np = 0 (off)"
    color = SITE_COLOR if on else OFF_SITE_COLOR
    (x, y), (width, height) = center, size
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0,rounding_size=0.06", facecolor=SITE_FACE if on else OFF_SITE_FACE,
                                edgecolor=color, linewidth=1.2, linestyle="-" if on else "--",
                                gid=f"site-box-{name}", zorder=zorder))
    ax.text(x, y, text, ha="center", va="center", fontsize=7, color=color, gid=f"site-{name}", zorder=zorder + 0.5,
            linespacing=1.1)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, zorder=1.5,
                arrowprops={"arrowstyle": "-|>", "color": _LINE_COLOR, "lw": 1.0, "shrinkA": 0, "shrinkB": 0,
                            "mutation_scale": 9})


def _add(ax: Axes, y: float, gid: str) -> None:
    """The residual add on the trunk: a circled plus (a text bbox, so it stays round on unequal axes)."""
    ax.text(_TRUNK_X, y, "+", ha="center", va="center", fontsize=9, fontweight="bold", color=_LINE_COLOR, gid=gid,
            zorder=4, bbox={"boxstyle": "circle,pad=0.12", "facecolor": "white", "edgecolor": _LINE_COLOR, "lw": 1.0})


def _draw_branch(ax: Axes, top: float, height: float, block: int, branch: str,
                 slots: dict[int, tuple[str, str, float]]) -> None:
    """One residual branch: LN -> sub-layer -> residual dropout -> drop path -> add back onto the trunk."""
    attention = branch == "attention"
    branch_y, return_y = top - 0.55, top - height + 0.22
    ax.plot([_TRUNK_X, _RETURN_X, _RETURN_X, _TRUNK_X + 0.5], [branch_y, branch_y, return_y, return_y],
            color=_LINE_COLOR, lw=1.0, zorder=1, gid=f"branch-block{block}-{branch}")
    ax.plot([_TRUNK_X], [branch_y], "o", color=_LINE_COLOR, markersize=3, zorder=3)
    _arrow(ax, (_TRUNK_X + 0.5, return_y), (_TRUNK_X + 0.2, return_y))
    _box(ax, (2.45, branch_y), (0.8, 0.4), "LN", f"box-block{block}-ln-{branch}")
    _arrow(ax, (_TRUNK_X, branch_y), (2.05, branch_y))
    if attention:
        _box(ax, (4.55, branch_y), (2.6, 0.95), "", f"box-block{block}-attention")
        ax.text(4.55, branch_y + 0.3, "multi-head self-attention", ha="center", va="center", fontsize=7.5,
                color="0.1", gid=f"box-block{block}-attention-title", zorder=2.5)
        if _ATTENTION_PROBABILITIES in slots:
            _site(ax, (4.55, branch_y - 0.13), (2.3, 0.5), slots[_ATTENTION_PROBABILITIES],
                  "dropout on softmax(QKᵀ/√d)", zorder=3)
        residual, drop_path = _RESIDUAL_ATTENTION, _DROP_PATH_ATTENTION
    else:
        _box(ax, (4.55, branch_y), (2.6, 0.6), "feed-forward\nLinear → GELU → Linear",
             f"box-block{block}-feed-forward")
        residual, drop_path = _RESIDUAL_FEED_FORWARD, _DROP_PATH_FEED_FORWARD
    if residual in slots:
        _site(ax, (6.7, branch_y), (1.3, 0.5), slots[residual], "residual dropout")
    if drop_path in slots:
        _site(ax, (8.3, branch_y), (1.3, 0.5), slots[drop_path], "drop path")
    _add(ax, return_y, f"add-block{block}-{branch}")


def plot_dropout_sites(
    sites: Sequence[tuple[str, str, float]],
    *,
    depth: int | None = None,
    ax: Axes | None = None,
    title: str = "Where dropout sits in a transformer",
) -> Figure:
    r"""A schematic of a pre-LN Transformer classifier with every dropout site marked and labelled with its rate.

    The diagram follows :class:`course_lib.transformer.TransformerClassifier`
    from the top down: the input's value embedding plus the positional
    embedding, then ``depth`` blocks of two residual branches each,

    .. math::
        h = x + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{Attn}(\mathrm{LN}(x)))),\qquad
        y = h + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{FFN}(\mathrm{LN}(h)))),

    and the final LayerNorm, the mean over positions and the linear head. The
    residual stream is the vertical trunk on the left; each branch leaves it,
    passes LN and its sub-layer, and is added back at a circled plus. The sites
    are drawn where :func:`course_lib.transformer.dropout_sites` says they act:
    embedding dropout on the trunk below embeddings + positions; attention
    dropout inside the attention box (on the probabilities
    :math:`\mathrm{softmax}(QK^\top/\sqrt{d})`, Vaswani et al., 2017); residual
    dropout on each branch's output before the add; drop path (Huang et al.,
    2016) after it, dropping the whole branch per example. A site at rate 0 is
    drawn greyed and dashed (:data:`OFF_SITE_COLOR`, "p = 0 (off)"): the module
    is there but is the identity. Sites of kind "other" (dropout modules the
    schematic has no place for) are listed below the head.

    Sites are assigned to blocks in the order given (the order of
    ``dropout_sites``): a site whose place in a block is not after the previous
    site's starts the next block; a drop-path site goes to the branch its
    module name ends with (``…attention`` or ``…feed_forward``), else to the
    branch after the previous site.

    Drawn, each with a gid: per site a box ``site-box-<module name>`` and its
    label ``site-<module name>`` ("residual dropout\np = 0.1"); per block a
    background ``block-<b>`` (from 0; label "block b+1"), the boxes
    ``box-block<b>-ln-attention``, ``box-block<b>-attention``,
    ``box-block<b>-ln-feed-forward``, ``box-block<b>-feed-forward`` and the adds
    ``add-block<b>-attention``, ``add-block<b>-feed-forward``; and
    ``box-embedding``, ``box-final-ln``, ``box-pool``, ``box-head``. Every box's
    text has its gid plus ``-label``. The diagram is pre-LN only; a post-LN
    block (``norm_first=False``) has the same sites, with LN after each add.

    Args:
        sites: ``(module name, kind, rate)`` tuples, as
            :func:`course_lib.transformer.dropout_sites` returns them; kinds from
            :data:`course_lib.transformer.DROPOUT_KINDS`, rates in [0, 1), each
            module name once. May be empty (a model without dropout).
        depth: blocks to draw (int >= 1, at least the blocks the sites fill;
            the extra ones are drawn without sites); ``None``: as many as the
            sites fill, at least one.
        ax: draw here instead of opening a figure of :func:`dropout_sites_figsize`.
        title: the axes title.

    Example:
        >>> from course_lib.transformer import TransformerClassifier, dropout_sites
        >>> fig = plot_dropout_sites(dropout_sites(TransformerClassifier(40, 10, depth=1)), ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].texts if text.get_gid() == "site-embedding_dropout"]
        ['embedding dropout\np = 0.1']
    """
    checked = _check_sites(sites)
    embedding, blocks, others = _place_sites(checked)
    if depth is None:
        depth = max(len(blocks), 1)
    else:
        depth = check_int("depth", depth, minimum=1)
        if depth < len(blocks):
            raise ValueError(f"depth must be at least the number of blocks the sites fill ({len(blocks)}), "
                             f"got {depth}")
    _check_str("title", title)

    height = _diagram_height(depth, len(others))
    fig, ax = _new_axes(ax, dropout_sites_figsize(depth, len(others)))
    ax.set_xlim(0.0, 10.0)
    ax.set_ylim(0.0, height)
    ax.set_axis_off()

    top = height - _MARGIN
    ax.text(_TRUNK_X, top, "input x: one value per position", ha="center", va="top", fontsize=7.5, color="0.1",
            gid="input")
    _box(ax, (_TRUNK_X, top - 0.65), (2.3, 0.5), "value embedding\n+ positions", "box-embedding")
    _arrow(ax, (_TRUNK_X, top - 0.22), (_TRUNK_X, top - 0.4))
    if embedding is not None:
        _site(ax, (_TRUNK_X, top - 1.3), (2.0, 0.5), embedding, "embedding dropout")
    top -= _HEADER_HEIGHT
    tail_top = top - depth * _block_height()
    ax.plot([_TRUNK_X, _TRUNK_X], [top + _HEADER_HEIGHT - 0.9, tail_top - 0.25], color=_LINE_COLOR, lw=1.2,
            zorder=1, gid="trunk")

    for block in range(depth):
        slots = blocks[block] if block < len(blocks) else {}
        ax.add_patch(Rectangle((0.05, top - _block_height() + 0.04), 9.75, _block_height() - 0.08, facecolor="0.975",
                               edgecolor="0.82", linewidth=0.8, zorder=0, gid=f"block-{block}"))
        ax.text(0.12, top - 0.08, f"block {block + 1}", ha="left", va="top", fontsize=7, color="0.35",
                gid=f"block-{block}-label")
        _draw_branch(ax, top, _ATTENTION_ROW_HEIGHT, block, "attention", slots)
        top -= _ATTENTION_ROW_HEIGHT
        _draw_branch(ax, top, _FEED_FORWARD_ROW_HEIGHT, block, "feed-forward", slots)
        top -= _FEED_FORWARD_ROW_HEIGHT

    row_y = top - 0.45
    _box(ax, (_TRUNK_X, row_y), (0.8, 0.4), "LN", "box-final-ln")
    _box(ax, (3.55, row_y), (2.4, 0.4), "mean over positions", "box-pool")
    _box(ax, (6.7, row_y), (2.6, 0.4), "head: Linear → logits", "box-head")
    _arrow(ax, (_TRUNK_X + 0.4, row_y), (2.35, row_y))
    _arrow(ax, (4.75, row_y), (5.4, row_y))
    top -= _TAIL_HEIGHT

    if others:
        ax.text(0.12, top - 0.1, "other dropout\n(not in the\nschematic):", ha="left", va="top", fontsize=7,
                color="0.35", gid="other-sites")
    for index, site in enumerate(others):
        row, column = divmod(index, _OTHERS_PER_ROW)
        _site(ax, (3.2 + 2.4 * column, top - 0.35 - row * _OTHER_ROW_HEIGHT), (2.2, 0.55), site, site[0] or "(model)")

    handles = [Patch(facecolor=SITE_FACE, edgecolor=SITE_COLOR, label="dropout site (rate > 0)"),
               Patch(facecolor=OFF_SITE_FACE, edgecolor=OFF_SITE_COLOR, linestyle="--", label="site at rate 0 (off)")]
    ax.legend(handles=handles, loc="upper right", fontsize=7, frameon=False)
    ax.set_title(title)
    return fig


# --- batch size and the noise of batch statistics -------------------------------------------------------


def _log_log_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of log y against log x (the exponent k of y ∝ x^k)."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def plot_batch_noise(
    batch_sizes: Any,
    variances: Any,
    *,
    reference: float | None = None,
    label: str = "measured",
    ylabel: str = "variance of the batch mean",
    ax: Axes | None = None,
    title: str = "Smaller batches, noisier batch statistics",
) -> Figure:
    r"""The variance of a batch statistic against the batch size :math:`B`, log-log, with :math:`\sigma^2/B`.

    For :math:`B` examples drawn independently from a distribution of variance
    :math:`\sigma^2`, the batch mean :math:`\mu_B = \frac1B\sum_i x_i` has

    .. math::
        \mathrm{Var}(\mu_B) = \frac{\sigma^2}{B},

    a line of slope :math:`-1` on log-log axes (drawn without replacement from
    :math:`n` examples, times :math:`(n-B)/(n-1)`). The same :math:`1/B` law
    governs the mini-batch gradient's noise and batch norm's (Ioffe & Szegedy,
    2015): a fixed example's normalized value :math:`(x - \mu_B)/\sigma_B`
    varies from batch to batch with variance about :math:`(1 + x^2/2)/B` for
    standard normal data (delta method). Small batches inject more noise,
    which is part of why they and batch norm regularize.

    Drawn, each with a gid: the measured variances as a line with markers
    (``measured``; legend "<label> (fitted log-log slope -0.99)", the
    least-squares slope of :math:`\log` variance on :math:`\log B`) and, with
    ``reference``, the dashed line :math:`\sigma^2/B` over the measured range
    (``reference``; legend ":math:`\sigma^2/B`, σ² = 1 (slope -1)"). Both axes
    are logarithmic, x in base 2 with a tick at every batch size (up to 12).

    Args:
        batch_sizes: ``(k,)`` batch sizes > 0, at least two different ones (the slope needs two).
        variances: ``(k,)`` measured variances > 0, one per batch size.
        reference: ``None`` or :math:`\sigma^2 > 0`, the variance of one example.
        label: the legend's name of the measured line.
        ylabel: the y label (e.g. "variance of BN's output for one example").
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> fig = plot_batch_noise([1, 4, 16], [2.0, 0.5, 0.125], reference=2.0, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['measured (fitted log-log slope -1.00)', '$\\sigma^2/B$, $\\sigma^2$ = 2 (slope -1)']
    """
    sizes = _positive("batch_sizes", _vector("batch_sizes", batch_sizes))
    values = _positive("variances", _vector("variances", variances))
    if values.shape != sizes.shape:
        raise ValueError(f"variances must have shape {sizes.shape} (one variance per batch size), got {values.shape}")
    if np.unique(sizes).size < 2:
        raise ValueError(f"batch_sizes must hold at least two different sizes to fit a slope, got {sizes.tolist()!r}")
    sigma2 = None if reference is None else check_positive("reference", reference)
    _check_str("label", label)
    _check_str("ylabel", ylabel)
    _check_str("title", title)

    order = np.argsort(sizes, kind="stable")
    sizes, values = sizes[order], values[order]
    slope = _log_log_slope(sizes, values)
    fig, ax = _new_axes(ax, BATCH_NOISE_FIGSIZE)
    ax.plot(sizes, values, "o-", color="C0", lw=1.6, markersize=4, label=f"{label} (fitted log-log slope {slope:.2f})",
            gid="measured", zorder=3)
    if sigma2 is not None:
        ax.plot(sizes, sigma2 / sizes, ls="--", lw=1.2, color=BEST_EPOCH_COLOR,
                label=rf"$\sigma^2/B$, $\sigma^2$ = {sigma2:g} (slope -1)", gid="reference", zorder=2)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    if sizes.size <= 12:
        ax.set_xticks(sizes, [f"{size:g}" for size in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    return fig


# --- double descent ----------------------------------------------------------------------------------

_DOUBLE_DESCENT_METRICS = {
    "test_mse": "test MSE (squared error to the one-hot label)",
    "test_error": "test error (1 - accuracy)",
}


def plot_double_descent(
    curve: DoubleDescentCurve,
    *,
    metric: str = "test_mse",
    ax: Axes | None = None,
    title: str = "Double descent: the test error peaks at the interpolation threshold",
) -> Figure:
    r"""Test error against the number of random features :math:`N`, one line per ridge strength :math:`\alpha`.

    Belkin et al. (2019): the minimum-norm least-squares fit on :math:`N`
    random ReLU features (:func:`course_lib.double_descent.double_descent_curve`)
    has a test error that falls, rises to a peak at the interpolation threshold
    :math:`N = n` (as many features as training examples, where the feature
    matrix is square and its smallest singular values are tiny) and falls again
    as :math:`N` grows past it. A ridge penalty :math:`\alpha > 0` replaces
    :math:`1/s` by :math:`s/(s^2 + \alpha)` and flattens the peak.

    Drawn, each with a gid: per :math:`\alpha` (row ``i`` of the curve) a line
    with markers over the widths in increasing order (``alpha-<i>``; legend
    "α = 0.001", and "α = 0 (minimum norm)" for 0); the dashed vertical line
    at :math:`N = n_{train}` (``interpolation-threshold``; legend
    "interpolation threshold (N = 100)"). x is logarithmic; y is logarithmic
    for ``"test_mse"`` (the peak spans decades) and linear for
    ``"test_error"``.

    Args:
        curve: a :class:`course_lib.double_descent.DoubleDescentCurve`.
        metric: ``"test_mse"`` (must be > 0 for the log axis) or ``"test_error"``
            (:math:`1 -` ``test_accuracy``).
        ax: draw here instead of opening a new figure.
        title: the axes title.

    Example:
        >>> curve = DoubleDescentCurve([5, 10, 20], [0.0], [[0.5, 0.0, 0.0]], [[0.8, 9.0, 1.2]],
        ...                            [[0.5, 0.2, 0.4]], 10)
        >>> fig = plot_double_descent(curve, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['α = 0 (minimum norm)', 'interpolation threshold (N = 10)']
    """
    if not isinstance(curve, DoubleDescentCurve):
        raise TypeError("curve must be a course_lib.double_descent.DoubleDescentCurve "
                        f"(from double_descent_curve), got {describe_value(curve)}")
    if not isinstance(metric, str) or metric not in _DOUBLE_DESCENT_METRICS:
        raise ValueError(f"metric must be one of {tuple(_DOUBLE_DESCENT_METRICS)!r}, got {metric!r}")
    _check_str("title", title)
    values = curve.test_mse if metric == "test_mse" else 1.0 - curve.test_accuracy
    if metric == "test_mse" and np.any(values <= 0):
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(values <= 0)), values.shape))
        raise ValueError(f"curve.test_mse must be > 0 for the log y axis, got {float(values[where])!r} at "
                         f"(alpha, width) index {where}; use metric='test_error'")

    order = np.argsort(curve.widths, kind="stable")
    widths = curve.widths[order].astype(np.float64)
    fig, ax = _new_axes(ax, DOUBLE_DESCENT_FIGSIZE)
    for i, alpha in enumerate(curve.alphas):
        shown = "α = 0 (minimum norm)" if alpha == 0 else f"α = {alpha:g}"
        ax.plot(widths, values[i, order], "o-", color=f"C{i}", lw=1.5, markersize=3.5, label=shown,
                gid=f"alpha-{i}", zorder=3)
    n_train = int(curve.n_train)
    ax.axvline(n_train, color=THRESHOLD_COLOR, ls="--", lw=1.2, label=f"interpolation threshold (N = {n_train})",
               gid="interpolation-threshold", zorder=2)
    ax.set_xscale("log")
    if metric == "test_mse":
        ax.set_yscale("log")
    low, high = min(float(widths.min()), n_train), max(float(widths.max()), n_train)
    ax.set_xlim(low / 1.25, high * 1.25)
    ax.set_xlabel("random features $N$")
    ax.set_ylabel(_DOUBLE_DESCENT_METRICS[metric])
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return fig


# --- learning rates and the generalization gap --------------------------------------------------------


def _check_history(name: str, history: Any) -> History:
    if not isinstance(history, History):
        raise TypeError(f"{name} must be a course_lib.train.History (from fit), got {describe_value(history)}")
    if history.epochs_run == 0:
        raise ValueError(f"{name} must hold at least one epoch, got an empty history")
    return history


def _finite_prefix(values: list[float]) -> np.ndarray:
    """The values up to the first non-finite one (a diverged run's last epoch may be NaN or infinite)."""
    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array)
    return array[: int(np.argmax(bad))] if bad.any() else array


def plot_learning_rate_comparison(
    histories: Mapping[str, History],
    *,
    validation: str = "accuracy",
    log_loss: bool = False,
    fig: Figure | None = None,
    suptitle: str = "Learning rates compared",
) -> Figure:
    r"""Two panels: the training loss per epoch of runs with different learning rates, and their validation metric.

    With plain SGD the step :math:`\theta \leftarrow \theta - \eta\, g` makes
    the learning rate a regularizer of its own: the noise of a step scales
    with :math:`\eta / B`, and larger rates (up to the edge of stability) tend
    to reach flatter minima that generalize better (Keskar et al., 2017;
    Smith & Le, 2018), while a rate too large diverges. Left: the training
    loss in evaluation mode (``history.train_loss``); right: the validation
    accuracy or loss. Epochs count from 0.

    Drawn, each with a gid: per run (colour ``C<k>`` in the mapping's order)
    the lines ``train-<label>`` (left) and ``val-<label>`` (right), the best
    epoch (lowest validation loss, ``history.best_epoch``) as a dot on the
    right (``best-<label>``), and for a diverged run a cross at its last finite
    value in each panel (``diverged-<label>``; its legend entry reads
    "<label> (diverged at epoch 7)"). A NaN or infinite loss is not drawn. The
    legend is in the left panel.

    Args:
        histories: label -> :class:`course_lib.train.History` (at least one
            epoch each), e.g. ``{"lr = 0.01": …, "lr = 0.1": …}``.
        validation: ``"accuracy"`` (each history must have accuracies) or ``"loss"``.
        log_loss: logarithmic y axis for the loss panels (losses spanning decades).
        fig: an empty figure to draw into; ``None`` opens one of :data:`LEARNING_RATE_FIGSIZE`.
        suptitle: the figure's title.

    Example:
        >>> run = History(train_loss=[1.0, 0.5], val_loss=[1.1, 0.9], train_batch_loss=[1.2, 0.6],
        ...               train_accuracy=[0.5, 0.8], val_accuracy=[0.4, 0.6], lr=[0.1, 0.1], best_epoch=1)
        >>> fig = plot_learning_rate_comparison({"lr = 0.1": run}, fig=Figure(layout="constrained"))
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['training loss (eval mode)', 'validation accuracy']
    """
    runs = {label: _check_history(f"histories[{label!r}]", histories[label])
            for label in _check_labels("histories", histories)}
    if not isinstance(validation, str) or validation not in ("accuracy", "loss"):
        raise ValueError(f"validation must be 'accuracy' or 'loss', got {validation!r}")
    if validation == "accuracy":
        for label, history in runs.items():
            if history.val_accuracy is None:
                raise ValueError(f"histories[{label!r}] has no val_accuracy (regression run); use validation='loss'")
    log_loss = check_bool("log_loss", log_loss)
    _empty_figure(fig)
    _check_str("suptitle", suptitle)

    if fig is None:
        fig = plt.figure(figsize=LEARNING_RATE_FIGSIZE, layout="constrained")
    left, right = fig.subplots(1, 2)
    for k, (label, history) in enumerate(runs.items()):
        color = f"C{k}"
        train = _finite_prefix(history.train_loss)
        val = _finite_prefix(history.val_loss if validation == "loss" else history.val_accuracy)
        shown = f"{label} (diverged at epoch {history.stopped_epoch})" if history.diverged else label
        left.plot(np.arange(train.size), train, color=color, lw=1.5, label=shown, gid=f"train-{label}")
        right.plot(np.arange(val.size), val, color=color, lw=1.5, gid=f"val-{label}")
        best = int(history.best_epoch)
        right.plot([best], [val[best]], "o", color=color, mec=BEST_EPOCH_COLOR, markersize=5, zorder=3,
                   gid=f"best-{label}")
        if history.diverged:
            for ax, values in ((left, train), (right, val)):
                if values.size:
                    ax.plot([values.size - 1], [values[-1]], "x", color=color, markersize=8, mew=2, zorder=4,
                            gid=f"diverged-{label}")
    if log_loss:
        left.set_yscale("log")
        if validation == "loss":
            right.set_yscale("log")
    for ax in (left, right):
        ax.set_xlabel("epoch")
    left.set_ylabel("training loss (eval mode)")
    right.set_ylabel(f"validation {validation}")
    left.set_title("training loss", fontsize=10)
    right.set_title(f"validation {validation} (dot: best epoch)", fontsize=10)
    left.legend(loc="best", fontsize=8)
    fig.suptitle(suptitle)
    return fig


def plot_gap_monitor(
    history: History,
    *,
    metric: str = "accuracy",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    r"""Training against validation ``metric`` per epoch with the generalization gap between them shaded.

    The gap :math:`\mathrm{acc}_{train} - \mathrm{acc}_{val}` (or
    :math:`L_{val} - L_{train}` for the loss) is what regularization trades
    training fit for: a gap that keeps widening while the validation curve
    stalls is the signal to regularize more or to stop early. This draws
    :func:`course_lib.plots.training.plot_history` (the two curves in
    evaluation mode, the best epoch as a dashed line with gid ``best-epoch`` and
    a dot, the early stop if any, gid ``stopped-epoch``) and adds the gap
    shaded between the curves (gid ``gap``, legend "gap: training - validation
    accuracy") and, at the best epoch, its value (a text with gid
    ``gap-at-best``: "gap 0.213"). The best epoch is that of the lowest
    validation loss (``history.best_epoch``), also for ``metric="accuracy"``.
    Epochs with a NaN or infinite value (a diverged run's last) are not shaded.

    Args:
        history: a :class:`course_lib.train.History` with at least one epoch.
        metric: ``"accuracy"`` (classification) or ``"loss"``.
        ax: draw here instead of opening a new figure (of
            :data:`course_lib.plots.training.HISTORY_FIGSIZE`).
        title: the axes title; ``None`` names the metric.

    Example:
        >>> run = History(train_loss=[1.0, 0.5], val_loss=[1.1, 0.9], train_batch_loss=[1.2, 0.6],
        ...               train_accuracy=[0.5, 0.9], val_accuracy=[0.4, 0.6], lr=[0.1, 0.1], best_epoch=1)
        >>> fig = plot_gap_monitor(run, ax=Figure().add_subplot())
        >>> [text.get_text() for text in fig.axes[0].texts]
        ['gap 0.300']
    """
    history = _check_history("history", history)
    if not isinstance(metric, str) or metric not in ("accuracy", "loss"):
        raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}")
    if metric == "accuracy" and history.train_accuracy is None:
        raise ValueError("history has no accuracies (a regression run); use metric='loss'")
    if title is not None:
        _check_str("title", title)
    name = "accuracy" if metric == "accuracy" else "loss"
    shown_title = title if title is not None else f"Generalization gap: training vs validation {name}"

    fig = plot_history(history, metric=metric, title=shown_title, ax=ax)
    ax = ax if ax is not None else fig.axes[0]
    train = np.asarray(history.train_accuracy if metric == "accuracy" else history.train_loss, dtype=np.float64)
    val = np.asarray(history.val_accuracy if metric == "accuracy" else history.val_loss, dtype=np.float64)
    finite = np.isfinite(train) & np.isfinite(val)
    epochs = np.arange(train.size)
    gap_label = "gap: training - validation accuracy" if metric == "accuracy" else "gap: validation - training loss"
    ax.fill_between(epochs, np.where(finite, train, 0.0), np.where(finite, val, 0.0), where=finite, color=GAP_COLOR,
                    alpha=0.18, linewidth=0, label=gap_label, gid="gap", zorder=1)
    best = int(history.best_epoch)
    gap = train[best] - val[best] if metric == "accuracy" else val[best] - train[best]
    ax.annotate(f"gap {gap:.3f}", xy=(best, (train[best] + val[best]) / 2), xytext=(5, 0), textcoords="offset points",
                ha="left", va="center", fontsize=8, color=GAP_COLOR, gid="gap-at-best")
    ax.legend(fontsize=8)
    return fig

"""The book's figures: each function takes data, draws it, and returns the Figure.

The package holds one module per chapter, named by its ``book.toml`` id
(:mod:`~course_lib.plots.intro`, :mod:`~course_lib.plots.dropout`,
:mod:`~course_lib.plots.mc_dropout`, :mod:`~course_lib.plots.weight_decay`,
:mod:`~course_lib.plots.adamw`, :mod:`~course_lib.plots.label_smoothing`,
:mod:`~course_lib.plots.variants`: masks of the dropout variants, DropBlock's
realised drop fraction, the stochastic-depth schedule, activation histograms;
:mod:`~course_lib.plots.practice`: where dropout sits in a Transformer, the
noise of batch statistics against batch size, double descent, runs with
different learning rates, the generalization-gap monitor),
plus :mod:`~course_lib.plots.training` for the figures of training runs that
several chapters show (learning curves, seed comparisons, reliability
diagrams). This module holds only what those modules
share: the axes and labelling helpers, argument validators and colours used by
more than one chapter. It re-exports no figure; a notebook imports its
chapter's module, e.g. ``from course_lib.plots import dropout as dropout_plots``.

Conventions of every module: figures have fixed sizes (the module's
``*_FIGSIZE`` constants), labelled axes and a title, so stored notebook outputs
are reproducible. Every single-axes figure accepts an optional ``ax``: without
one it opens a new pyplot figure of the fixed size (shown by ``plt.show()`` in
a notebook); with one it draws there, which is how :mod:`course_lib.widgets`
renders into off-screen figures. No function in the package computes anything
an algorithm module should: pass in the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib import _validation

__all__ = ["BEST_EPOCH_COLOR", "CROSS_COLOR", "UNREGULARIZED_COLOR"]

BEST_EPOCH_COLOR = "0.25"  # best epoch, lowest error, reference rate: training, intro, weight_decay, adamw
CROSS_COLOR = "#c44e52"  # dropped units (dropout) and the early-stop line (training)
UNREGULARIZED_COLOR = "#dd8452"  # the unregularized optimum: weight_decay, adamw
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def _labels_and_legend_beside(ax: Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Label both axes, set the title, and put the legend beside the axes (outside, top right)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


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


def _array(name: str, values: Any) -> np.ndarray:
    """``values`` as float64 NumPy (tensors detached) under the one dtype rule; ``None`` is a TypeError."""
    if values is None or isinstance(values, (str, bytes, Mapping)):
        raise TypeError(f"{name} must be an array of real numbers, got {_validation.describe_value(values)}")
    return _validation.real_array(name, values.detach().cpu() if _validation._is_tensor(values) else values)


def _finite(name: str, array: np.ndarray) -> np.ndarray:
    finite = np.isfinite(array)
    if not finite.all():
        index = np.unravel_index(int(np.argmin(finite)), array.shape)
        where = int(index[0]) if array.ndim == 1 else tuple(int(i) for i in index)
        raise ValueError(f"{name} must hold finite numbers, got {float(array[index])!r} at index {where}")
    return array


def _vector(name: str, values: Any) -> np.ndarray:
    """A non-empty, finite 1-D float64 array."""
    array = _array(name, values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    return _finite(name, array)


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_validation.describe_value(value)}")
    return value


def _check_labels(name: str, mapping: Any) -> list[str]:
    """The keys of a non-empty mapping label -> data, each a non-empty string."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a mapping of labels to data, got {_validation.describe_value(mapping)}")
    if not mapping:
        raise ValueError(f"{name} must map at least one label to its data, got an empty mapping")
    for label in mapping:
        if not isinstance(label, str) or not label:
            raise ValueError(f"{name} labels must be non-empty strings, got {label!r}")
    return list(mapping)

r"""Classification metrics on predicted probabilities: accuracy, NLL, Brier score and calibration.

Every function takes ``probs``, an ``(N, C)`` array (NumPy or torch) of
predicted class probabilities — each row non-negative and summing to 1 — and
``labels``, an ``(N,)`` array of integer classes in ``[0, C)``, and returns
plain Python floats (or NumPy arrays) computed in float64.

Calibration follows Guo et al. (2017), "On calibration of modern neural
networks": the *confidence* of a prediction is its largest probability
:math:`\hat p_i = \max_c p_{ic}`, and the predictions are grouped into
``n_bins`` equal-width bins :math:`B_m = \{i : \hat p_i \in ((m-1)/M,\ m/M]\}`
(bins closed on the right; a confidence of exactly 0 joins the first bin). Then

.. math::

    \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}\,
        \bigl|\operatorname{acc}(B_m) - \operatorname{conf}(B_m)\bigr|,

with :math:`\operatorname{acc}(B_m)` the share of correct predictions in the
bin and :math:`\operatorname{conf}(B_m)` their mean confidence.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from course_lib._validation import check_int, describe_value

__all__ = [
    "ROW_SUM_TOLERANCE",
    "ReliabilityDiagram",
    "accuracy",
    "nll",
    "brier_score",
    "expected_calibration_error",
    "reliability_diagram",
]

ROW_SUM_TOLERANCE = 1e-4  # how far a row of probs may sum from 1 (float32 softmax rows are within ~1e-6)
_SMALLEST_PROBABILITY = np.finfo(np.float64).tiny  # log(0) is clamped here: nll stays finite (at most ~708)


def _to_numpy(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, dict):
        raise TypeError(f"{name} must be an array, got {describe_value(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array, got {describe_value(value)}") from error
    return array


def _check_probs(probs: Any) -> np.ndarray:
    array = _to_numpy("probs", probs)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"probs must be a real float array, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"probs must have shape (N, C), got shape {array.shape}")
    n, c = array.shape
    if n < 1:
        raise ValueError(f"probs must hold at least one row, got shape {array.shape}")
    if c < 2:
        raise ValueError(f"probs must have at least 2 classes (columns), got shape {array.shape}")
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        index = np.unravel_index(int(np.argmin(finite.ravel())), array.shape)
        raise ValueError(f"probs must be finite, got {array[index]} at index {tuple(int(i) for i in index)}")
    if (array < 0).any() or (array > 1).any():
        index = np.unravel_index(int(np.argmax(((array < 0) | (array > 1)).ravel())), array.shape)
        raise ValueError(
            f"probs must lie in [0, 1], got {array[index]} at index {tuple(int(i) for i in index)}"
        )
    sums = array.sum(axis=1)
    off = np.abs(sums - 1.0)
    if (off > ROW_SUM_TOLERANCE).any():
        row = int(np.argmax(off))
        raise ValueError(
            f"probs rows must sum to 1 (within {ROW_SUM_TOLERANCE:g}), got a sum of {sums[row]:.6g} in row {row}; "
            "pass probabilities (e.g. softmax of the logits), not logits"
        )
    return array


def _check_labels(labels: Any, probs: np.ndarray) -> np.ndarray:
    array = _to_numpy("labels", labels)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"labels must be an integer array, got dtype {array.dtype}")
    n, c = probs.shape
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match probs of shape {probs.shape}, got shape {array.shape}")
    bad = (array < 0) | (array >= c)
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"labels must be classes in [0, {c}), got {int(array[index])} at index {index}")
    return array.astype(np.int64)


def _checked(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    probs = _check_probs(probs)
    return probs, _check_labels(labels, probs)


def accuracy(probs: Any, labels: Any) -> float:
    r"""The share of rows whose most probable class is the label: :math:`\frac1N\sum_i [\arg\max_c p_{ic} = y_i]`.

    Ties go to the lowest class index (``argmax``'s rule).
    """
    probs, labels = _checked(probs, labels)
    return float(np.mean(probs.argmax(axis=1) == labels))


def nll(probs: Any, labels: Any) -> float:
    r"""The mean negative log-likelihood :math:`-\frac1N\sum_i \log p_{i y_i}` in nats.

    A probability of exactly 0 for the true class is clamped to the smallest
    positive float64 (so the result stays finite, at most about 708 per row).
    """
    probs, labels = _checked(probs, labels)
    picked = np.maximum(probs[np.arange(len(labels)), labels], _SMALLEST_PROBABILITY)
    return float(-np.mean(np.log(picked)))


def brier_score(probs: Any, labels: Any) -> float:
    r"""The multi-class Brier score :math:`\frac1N\sum_i\sum_c (p_{ic} - [c = y_i])^2`, in ``[0, 2]`` (Brier 1950)."""
    probs, labels = _checked(probs, labels)
    one_hot = np.zeros_like(probs)
    one_hot[np.arange(len(labels)), labels] = 1.0
    return float(np.mean(np.sum((probs - one_hot) ** 2, axis=1)))


class ReliabilityDiagram(NamedTuple):
    """Per-bin data of a reliability diagram (see the module docstring for the bins).

    Attributes:
        edges: the ``n_bins + 1`` bin edges ``0, 1/M, …, 1``.
        confidence: mean confidence of each bin (NaN for an empty bin).
        accuracy: share of correct predictions in each bin (NaN for an empty bin).
        count: number of predictions in each bin.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray


def _check_bins(n_bins: Any) -> int:
    return check_int("n_bins", n_bins, minimum=1)


def reliability_diagram(probs: Any, labels: Any, n_bins: int = 15) -> ReliabilityDiagram:
    """Bin the predictions by confidence: each bin's mean confidence, accuracy and count.

    Bins are equal-width and closed on the right, ``((m-1)/M, m/M]``; a
    confidence of exactly 0 joins the first bin.
    """
    probs, labels = _checked(probs, labels)
    n_bins = _check_bins(n_bins)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.arange(n_bins + 1) / n_bins  # m/M correctly rounded, so a confidence of 0.3 meets the edge 3/10
    bins = np.searchsorted(edges[1:-1], confidence, side="left")  # (edges[m], edges[m+1]] -> m
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        bin_accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return ReliabilityDiagram(edges, mean_confidence, bin_accuracy, count)


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """The expected calibration error (module docstring): the count-weighted mean |accuracy - confidence| of the bins.

    Args:
        probs: ``(N, C)`` predicted probabilities.
        labels: ``(N,)`` integer classes.
        n_bins: the number of equal-width confidence bins (Guo et al. use 15).

    Example:
        >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=10)
        0.35
    """
    diagram = reliability_diagram(probs, labels, n_bins)
    filled = diagram.count > 0
    weights = diagram.count[filled] / diagram.count.sum()
    return float(np.sum(weights * np.abs(diagram.accuracy[filled] - diagram.confidence[filled])))

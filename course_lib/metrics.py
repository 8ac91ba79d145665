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

Input rules (a ``TypeError``/``ValueError`` naming the argument otherwise):
``probs`` follows the one dtype rule (any integer or floating dtype, NumPy or
torch, computed in float64; bool, complex, string and object data rejected),
is finite, lies in ``[0, 1]`` and has rows summing to 1 within
:data:`ROW_SUM_TOLERANCE` (``4 * eps`` of the dtype for float16/bfloat16
input). Rows are used as given, not renormalised. ``labels`` must hold
integers (a float, bool or complex array is rejected: ``2.0`` is not a class).
Ties in ``argmax`` go to the lowest class index, for accuracy and for the
correctness counted in a bin alike.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from course_lib._validation import ValidatedTuple, _is_tensor, check_int, describe_value, real_array

__all__ = [
    "ROW_SUM_TOLERANCE",
    "MAX_BINS",
    "ReliabilityDiagram",
    "accuracy",
    "nll",
    "brier_score",
    "expected_calibration_error",
    "reliability_diagram",
]

#: How far a row of ``probs`` may sum from 1 for float32/float64 input (float32 softmax rows are
#: within ~1e-6). Half-precision input is allowed ``4 * eps`` of its dtype instead (about 4e-3 for
#: float16, 3e-2 for bfloat16), since a softmax computed in half precision rounds that much.
ROW_SUM_TOLERANCE = 1e-4
#: The most confidence bins :func:`reliability_diagram` builds.
MAX_BINS = 100_000
_SMALLEST_PROBABILITY = np.finfo(np.float64).tiny  # log(0) is clamped here: nll stays finite (at most ~708)


def _reject_non_arrays(name: str, value: Any) -> None:
    if value is None or isinstance(value, (str, bytes, dict, set, frozenset)) or np.isscalar(value):
        raise TypeError(f"{name} must be an array, got {describe_value(value)}")


def _row_sum_tolerance(value: Any) -> float:
    """:data:`ROW_SUM_TOLERANCE`, or 4 eps of a half-precision input's dtype (NumPy float16, torch float16/bfloat16)."""
    if _is_tensor(value):
        import torch

        eps = torch.finfo(value.dtype).eps if value.is_floating_point() else 0.0
    else:
        dtype = getattr(value, "dtype", None)
        eps = float(np.finfo(dtype).eps) if isinstance(dtype, np.dtype) and dtype.kind == "f" else 0.0
    return max(ROW_SUM_TOLERANCE, 4 * eps)


def _check_probs(probs: Any, name: str = "probs", shape_text: str = "(N, C)", *,
                 tolerance: float | None = None) -> np.ndarray:
    """``probs`` as float64 NumPy, checked: finite, in [0, 1], each row along the last axis summing to 1.

    ``shape_text`` is the expected shape, e.g. ``"(N, C)"`` or ``"(T, N, C)"``; its number of
    entries is the required number of dimensions, and every axis but the last needs >= 1 entry.
    ``"(..., C)"`` takes any number of leading axes, none included (one distribution).
    ``tolerance`` on the row sums defaults to :func:`_row_sum_tolerance`.
    """
    _reject_non_arrays(name, probs)
    tolerance = _row_sum_tolerance(probs) if tolerance is None else tolerance
    array = real_array(name, probs)  # the one dtype rule: float64, bool/complex/str/object rejected
    any_leading = shape_text.startswith("(...,")
    ndim = max(array.ndim, 1) if any_leading else shape_text.count(",") + 1
    if array.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_text}, got shape {array.shape}")
    if ndim > 1 and min(array.shape[:-1]) < 1:
        what = "one row" if ndim == 2 else "one entry along every axis"
        raise ValueError(f"{name} must hold at least {what}, got shape {array.shape}")
    if array.shape[-1] < 2:
        raise ValueError(f"{name} must have at least 2 classes (along the last axis), got shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        index = np.unravel_index(int(np.argmin(finite.ravel())), array.shape)
        raise ValueError(f"{name} must be finite, got {array[index]} at index {tuple(int(i) for i in index)}")
    outside = (array < 0) | (array > 1)
    if outside.any():
        index = np.unravel_index(int(np.argmax(outside.ravel())), array.shape)
        raise ValueError(
            f"{name} must lie in [0, 1], got {array[index]} at index {tuple(int(i) for i in index)}"
        )
    sums = array.sum(axis=-1)
    off = np.abs(sums - 1.0)
    if (off > tolerance).any():
        row = tuple(int(i) for i in np.unravel_index(int(np.argmax(off)), off.shape))
        where = "" if ndim == 1 else f" in row {row[0]}" if ndim == 2 else f" in row {row}"
        raise ValueError(
            f"{name} rows must sum to 1 (within {tolerance:g}), got a sum of {sums[row]:.6g}{where}; "
            "pass probabilities (e.g. softmax of the logits), not logits"
        )
    return array


def _check_labels(labels: Any, probs: np.ndarray) -> np.ndarray:
    _reject_non_arrays("labels", labels)
    if _is_tensor(labels):
        if labels.is_floating_point() or labels.is_complex() or str(labels.dtype) == "torch.bool":
            raise TypeError(f"labels must hold integer classes, got dtype {labels.dtype}")
        labels = labels.detach().cpu().long().numpy()
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"labels must be an array of integer classes, got {describe_value(labels)}") from error
    if array.dtype.kind not in "iu":
        raise TypeError(f"labels must hold integer classes, got dtype {array.dtype}")
    n, c = probs.shape
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match probs of shape {probs.shape}, got shape {array.shape}")
    bad = (array < 0) | (array >= c)  # checked before the cast, so a uint64 beyond 2**63 cannot wrap into range
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


class _ReliabilityFields(NamedTuple):
    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray


class ReliabilityDiagram(ValidatedTuple, _ReliabilityFields):
    """Per-bin data of a reliability diagram (see the module docstring for the bins).

    A named tuple ``(edges, confidence, accuracy, count)``:

    Attributes:
        edges: the ``n_bins + 1`` bin edges ``0, 1/M, …, 1`` (increasing, from 0 to 1).
        confidence: mean confidence of each bin, in ``[0, 1]`` (NaN for an empty bin).
        accuracy: share of correct predictions in each bin, in ``[0, 1]`` (NaN for an empty bin).
        count: number of predictions in each bin (whole numbers >= 0, not all 0; stored as int64).

    The constructor checks the record is one :func:`reliability_diagram` could
    have built (TypeError/ValueError naming the field): the NaNs of
    ``confidence`` and ``accuracy`` sit exactly at the bins with ``count == 0``,
    and nowhere else is anything non-finite.
    """

    __slots__ = ()

    def __new__(cls, edges: Any, confidence: Any, accuracy: Any, count: Any) -> ReliabilityDiagram:
        edges = _record_vector("edges", edges)
        if len(edges) < 2 or not np.isfinite(edges).all() or edges[0] != 0.0 or edges[-1] != 1.0 or not (np.diff(edges) > 0).all():
            raise ValueError(f"edges must be at least 2 increasing bin edges from 0 to 1, got {edges!r}")
        n_bins = len(edges) - 1
        count = _record_counts(count, n_bins)
        empty = count == 0
        checked = {}
        for name, value in (("confidence", confidence), ("accuracy", accuracy)):
            value = _record_vector(name, value)
            if value.shape != (n_bins,):
                raise ValueError(f"{name} must have one entry per bin ({n_bins}), got shape {value.shape}")
            if not (np.isnan(value) == empty).all():
                raise ValueError(f"{name} must be NaN exactly at the empty bins (count == 0), got {value!r} for count {count!r}")
            filled = value[~empty]
            if not (np.isfinite(filled).all() and (filled >= 0).all() and (filled <= 1).all()):
                raise ValueError(f"{name} must lie in [0, 1] in every non-empty bin, got {value!r}")
            checked[name] = value
        return super().__new__(cls, edges, checked["confidence"], checked["accuracy"], count)


def _record_vector(name: str, value: Any) -> np.ndarray:
    _reject_non_arrays(name, value)
    array = real_array(name, value)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _record_counts(count: Any, n_bins: int) -> np.ndarray:
    """Counts under the one dtype rule: whole numbers in [0, 2**53] (a float array of whole numbers is accepted)."""
    array = _record_vector("count", count)
    if array.shape != (n_bins,):
        raise ValueError(f"count must have one entry per bin ({n_bins}), got shape {array.shape}")
    if not (np.isfinite(array).all() and (array >= 0).all() and (array <= 2.0**53).all() and (array == np.round(array)).all()):
        raise ValueError(f"count must hold whole numbers in [0, 2**53], got {array!r}")
    if not (array > 0).any():
        raise ValueError(f"count must have at least one non-empty bin, got {array!r}")
    return array.astype(np.int64)


def _check_bins(n_bins: Any) -> int:
    n_bins = check_int("n_bins", n_bins, minimum=1)
    if n_bins > MAX_BINS:
        raise ValueError(f"n_bins must be an int in [1, {MAX_BINS}] (MAX_BINS), got {n_bins}")
    return n_bins


def reliability_diagram(probs: Any, labels: Any, n_bins: int = 15) -> ReliabilityDiagram:
    """Bin the predictions by confidence: each bin's mean confidence, accuracy and count.

    Bins are equal-width and closed on the right, ``((m-1)/M, m/M]``; a
    confidence of exactly 0 joins the first bin. The edges are computed as
    ``m / M`` (correctly rounded), so a float64 confidence of ``0.3`` with
    ``n_bins=10`` meets the edge ``3/10`` exactly and lands in ``(0.2, 0.3]``.

    Args:
        probs: ``(N, C)`` predicted probabilities (module docstring).
        labels: ``(N,)`` integer classes.
        n_bins: the number of bins ``M``, an int in ``[1, MAX_BINS]``.

    Returns:
        A :class:`ReliabilityDiagram`; an empty bin has count 0 and NaN
        confidence and accuracy.

    Example:
        >>> diagram = reliability_diagram([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1], n_bins=2)
        >>> diagram.count.tolist(), diagram.accuracy.tolist()
        ([0, 3], [nan, 0.6666666666666666])
    """
    probs, labels = _checked(probs, labels)
    n_bins = _check_bins(n_bins)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.arange(n_bins + 1) / n_bins  # m/M correctly rounded, so a confidence of 0.3 meets the edge 3/10
    bins = np.searchsorted(edges[1:-1], confidence, side="left")  # (edges[m], edges[m+1]] -> m
    count = np.bincount(bins, minlength=n_bins)
    filled = count > 0
    mean_confidence = np.full(n_bins, np.nan)
    bin_accuracy = np.full(n_bins, np.nan)
    # A bin's mean lies between its smallest and largest confidence; the clip removes the last-ulp excess of the sum.
    mean_confidence[filled] = np.clip(np.bincount(bins, weights=confidence, minlength=n_bins)[filled] / count[filled], 0.0, 1.0)
    bin_accuracy[filled] = np.bincount(bins, weights=correct, minlength=n_bins)[filled] / count[filled]
    return ReliabilityDiagram(edges, mean_confidence, bin_accuracy, count)


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = 15) -> float:
    r"""The expected calibration error (module docstring): the count-weighted mean |accuracy - confidence| of the bins.

    It lies in ``[0, 1]``, and it is 0 exactly when every bin's accuracy
    equals its mean confidence. It is at most the overall mean of
    :math:`|[\hat y_i = y_i] - \hat p_i|` (the ECE with one example per bin).

    Args:
        probs: ``(N, C)`` predicted probabilities.
        labels: ``(N,)`` integer classes.
        n_bins: the number of equal-width confidence bins (Guo et al. use 15), an int in ``[1, MAX_BINS]``.

    Example:
        >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=10)
        0.35
    """
    diagram = reliability_diagram(probs, labels, n_bins)
    filled = diagram.count > 0
    weights = diagram.count[filled] / diagram.count.sum()
    return float(np.sum(weights * np.abs(diagram.accuracy[filled] - diagram.confidence[filled])))

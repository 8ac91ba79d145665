r"""Label smoothing: smoothed targets, the smoothed cross-entropy, its optimal logit gap, and temperature scaling.

Szegedy et al. (2016), "Rethinking the Inception architecture for computer
vision" (CVPR), replace the one-hot target of class :math:`y` among :math:`K`
classes by a mixture with the uniform distribution. This module follows
PyTorch's convention (``F.cross_entropy(..., label_smoothing=ε)``): the mass
:math:`\varepsilon` is spread over **all** :math:`K` classes, the target class
included,

.. math::

    q_c = (1-\varepsilon)\,[c = y] + \frac{\varepsilon}{K}
    \qquad\Bigl(q_y = 1 - \varepsilon + \tfrac{\varepsilon}{K},\ \ q_{c \ne y} = \tfrac{\varepsilon}{K}\Bigr),

so the smoothed cross-entropy splits into

.. math::

    -\sum_c q_c \log p_c = (1-\varepsilon)\,\mathrm{CE}(\text{one-hot}, p)
        + \varepsilon\,\mathrm{CE}(\text{uniform}, p) .

* :func:`smooth_targets` builds :math:`q`;
* :func:`label_smoothing_cross_entropy` (and the module :class:`LabelSmoothingCrossEntropy`)
  computes the loss from logits, equal to PyTorch's including ``weight``,
  ``ignore_index`` and every ``reduction``;
* :func:`optimal_logit_gap` is the gap :math:`z_y - z_c` that minimises it
  (finite, unlike plain cross-entropy, whose optimum is at infinity), under
  this convention and under the other one found in the literature, where the
  off-target classes get :math:`\varepsilon/(K-1)` each;
* :func:`optimal_logits` is the whole minimising logit vector for any target
  distribution with no zero entry, :math:`\log q` centred at mean 0;
* :func:`temperature_scale` fits the post-hoc alternative, one temperature
  on held-out logits (Guo et al., 2017).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from torch import nn

from course_lib._validation import (
    check_choice,
    check_finite,
    check_finite_result,
    check_int,
    check_probability,
    describe_value,
    overflow_is_an_error,
    real_array,
)
from course_lib.metrics import _check_probs

__all__ = [
    "REDUCTIONS",
    "CONVENTIONS",
    "MAX_CLASSES",
    "smooth_targets",
    "label_smoothing_cross_entropy",
    "LabelSmoothingCrossEntropy",
    "optimal_logit_gap",
    "optimal_logits",
    "temperature_scale",
]

#: The ``reduction`` values of :func:`label_smoothing_cross_entropy` (PyTorch's).
REDUCTIONS = ("mean", "sum", "none")
#: The two ways of spreading ε in :func:`optimal_logit_gap`: over all K classes, or over the K - 1 others.
CONVENTIONS = ("uniform", "others")
#: The most classes :func:`smooth_targets` builds targets for (its output has ``N * K`` entries).
MAX_CLASSES = 10_000_000
_TEMPERATURE_RANGE = (1e-3, 1e3)  # temperature_scale searches log T in this range
_INT64_RANGE = (-(2**63), 2**63 - 1)  # ignore_index is compared with int64 targets
_SUM_TOLERANCE = 1e-6  # how far from 1 a target distribution may sum (float32 input is accepted)


def _check_num_classes(num_classes: Any) -> int:
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if num_classes > MAX_CLASSES:
        raise ValueError(f"num_classes must be at most MAX_CLASSES = {MAX_CLASSES:,}, got {num_classes}")
    return num_classes


def _check_index_dtype(name: str, target: Any) -> torch.Tensor:
    """``target`` itself if it is a tensor of an integer dtype (not bool)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class indices, got {describe_value(target)}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(
            f"{name} must hold integer class indices, got dtype {target.dtype} "
            "(probability targets are already soft: smoothing them again is a mistake)"
        )
    return target


def _check_class_indices(name: str, target: Any, num_classes: int, ignore_index: int | None = None) -> torch.Tensor:
    """``target`` as an int64 tensor of classes in ``[0, num_classes)`` (``ignore_index`` allowed too)."""
    target = _check_index_dtype(name, target).long()
    valid = (target >= 0) & (target < num_classes)
    if ignore_index is not None:
        valid |= target == ignore_index
    if not bool(valid.all()):
        index = tuple(int(i) for i in torch.nonzero(~valid)[0])
        allowed = f"[0, {num_classes})" + ("" if ignore_index is None else f" or ignore_index = {ignore_index}")
        raise ValueError(f"{name} must hold classes in {allowed}, got {int(target[index])} at index {index}")
    return target


def smooth_targets(target: torch.Tensor, num_classes: int, smoothing: float, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Smoothed target distributions :math:`q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K` (PyTorch's convention).

    Args:
        target: integer class indices of any shape ``S``, each in ``[0, num_classes)``.
        num_classes: :math:`K \ge 2`.
        smoothing: :math:`\varepsilon` in ``[0, 1)``.
        dtype: floating dtype of the result (default: torch's default dtype).

    Returns:
        A tensor of shape ``(*S, K)`` whose rows sum to 1: the target class gets
        :math:`1-\varepsilon+\varepsilon/K`, every other class :math:`\varepsilon/K`.

    Example:
        >>> smooth_targets(torch.tensor([2]), num_classes=4, smoothing=0.2)
        tensor([[0.0500, 0.0500, 0.8500, 0.0500]])
    """
    num_classes = _check_num_classes(num_classes)
    smoothing = check_probability("smoothing", smoothing)
    target = _check_class_indices("target", target, num_classes)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {describe_value(dtype)}")
    one_hot = torch.nn.functional.one_hot(target, num_classes).to(dtype)
    return one_hot * (1.0 - smoothing) + smoothing / num_classes


def _check_logits(logits: Any) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {describe_value(logits)}")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.ndim < 2:
        raise ValueError(f"logits must have shape (N, C) or (N, C, d1, ...), got shape {tuple(logits.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"logits must have at least 2 classes (dimension 1), got shape {tuple(logits.shape)}")
    # One reading pass instead of a boolean tensor as large as the logits: a NaN or an infinity makes
    # the sum NaN or infinite, so a finite sum proves every entry finite; otherwise (a bad entry, or a
    # sum of finite values that overflowed) the entry-wise check decides and names the first bad entry.
    if not bool(torch.isfinite(logits.detach().sum())):
        check_finite("logits", logits)
    if logits.dtype in (torch.float16, torch.bfloat16):  # the one dtype rule: half precision is computed in float32
        logits = logits.float()
    return logits


def _check_weight_values(weight: Any) -> torch.Tensor | None:
    """``weight`` itself if it is ``None`` or a 1-D floating tensor of at least 2 finite, non-negative class weights."""
    if weight is None:
        return None
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        raise TypeError(f"weight must be None or a floating tensor of class weights, got {describe_value(weight)}")
    if weight.ndim != 1 or weight.shape[0] < 2:
        raise ValueError(f"weight must be a 1-D tensor of at least 2 class weights, got shape {tuple(weight.shape)}")
    check_finite("weight", weight)
    if bool((weight < 0).any()):
        raise ValueError(f"weight must be >= 0, got {weight.min().item()!r}")
    return weight


def _check_weight(weight: Any, logits: torch.Tensor) -> torch.Tensor | None:
    weight = _check_weight_values(weight)
    if weight is None:
        return None
    num_classes = logits.shape[1]
    if weight.shape != (num_classes,):
        raise ValueError(
            f"weight must have shape ({num_classes},), one weight per class of logits of shape {tuple(logits.shape)}, "
            f"got shape {tuple(weight.shape)}"
        )
    return weight.to(logits.dtype)


def _check_ignore_index(ignore_index: Any) -> int:
    ignore_index = check_int("ignore_index", ignore_index)
    low, high = _INT64_RANGE
    if not low <= ignore_index <= high:
        raise ValueError(f"ignore_index must fit in int64 (a label value), got {ignore_index}")
    return ignore_index


def _check_reduction(reduction: Any) -> str:
    return check_choice("reduction", reduction, REDUCTIONS)


def label_smoothing_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    smoothing: float = 0.1,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Cross-entropy against smoothed targets, from logits: PyTorch's ``F.cross_entropy(..., label_smoothing=ε)``.

    With :math:`\ell_{ic} = \log\operatorname{softmax}(z_i)_c` (computed as
    ``log_softmax``, stable for any finite logits) and class weights
    :math:`w` (all 1 without ``weight``), example :math:`i` with label
    :math:`y_i` contributes

    .. math::

        L_i = (1-\varepsilon)\,\bigl(-w_{y_i}\,\ell_{i y_i}\bigr)
              + \frac{\varepsilon}{K} \sum_{c=1}^{K} \bigl(-w_c\,\ell_{ic}\bigr),

    and examples whose label is ``ignore_index`` contribute 0. ``"sum"`` adds
    the :math:`L_i`; ``"mean"`` divides the sum by :math:`\sum_i w_{y_i}` over
    the examples not ignored (PyTorch's weighted mean; NaN, as in PyTorch, when
    every example is ignored); ``"none"`` returns them all.

    Args:
        logits: ``(N, C)`` or ``(N, C, d1, ...)`` finite floating logits
            (float16 and bfloat16 are computed in float32). Logits so far apart
            that a log-probability overflows are a ``ValueError``.
        target: class indices of shape ``(N,)`` or ``(N, d1, ...)``, each in
            ``[0, C)`` or equal to ``ignore_index``. (Probability targets are
            not accepted: smoothing a soft target again is a mistake.)
        smoothing: :math:`\varepsilon` in ``[0, 1)``; 0 gives the plain cross-entropy.
        weight: ``None`` or ``(C,)`` non-negative class weights.
        ignore_index: a label value to skip (int).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Example:
        >>> logits, target = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
        >>> ours = label_smoothing_cross_entropy(logits, target, smoothing=0.1)
        >>> bool(torch.isclose(ours, torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1)))
        True
    """
    logits = _check_logits(logits)
    smoothing = check_probability("smoothing", smoothing)
    ignore_index = _check_ignore_index(ignore_index)
    reduction = _check_reduction(reduction)
    weight = _check_weight(weight, logits)
    num_classes = logits.shape[1]
    expected = (logits.shape[0], *logits.shape[2:])
    _check_index_dtype("target", target)  # before the shape: a soft (N, C) target gets the message that explains
    if tuple(target.shape) != expected:
        raise ValueError(f"target must have shape {expected} to match logits of shape {tuple(logits.shape)}, got shape {tuple(target.shape)}")
    target = _check_class_indices("target", target, num_classes, ignore_index)

    log_probs = torch.log_softmax(logits, dim=1).movedim(1, -1)  # (N, d1, ..., C)
    ignored = target == ignore_index
    safe_target = target.masked_fill(ignored, 0)
    if weight is None:  # every weight 1: no (N, ..., C) product with a vector of ones, forward or backward
        target_weight = (~ignored).to(logits.dtype)
        uniform = -log_probs.sum(dim=-1).masked_fill(ignored, 0.0)
    else:
        target_weight = weight[safe_target].masked_fill(ignored, 0.0)
        uniform = -(log_probs * weight).sum(dim=-1).masked_fill(ignored, 0.0)
    hard = -log_probs.gather(-1, safe_target.unsqueeze(-1)).squeeze(-1) * target_weight
    per_example = (1.0 - smoothing) * hard + (smoothing / num_classes) * uniform
    check_finite_result(per_example, "logits")  # finite logits whose differences overflow (3e38 and -3e38 in float32)
    if reduction == "none":
        return per_example
    if reduction == "sum":
        return per_example.sum()
    return per_example.sum() / target_weight.sum()


class LabelSmoothingCrossEntropy(nn.Module):
    r"""The smoothed cross-entropy as a loss module: ``criterion(logits, target)``.

    Computes :func:`label_smoothing_cross_entropy` with the stored
    hyper-parameters; equal to ``nn.CrossEntropyLoss(label_smoothing=ε)``.

    Args:
        smoothing: :math:`\varepsilon` in ``[0, 1)``. Default: 0.1.
        weight, ignore_index, reduction: as for :func:`label_smoothing_cross_entropy`.

    Shape:
        - logits ``(N, C)`` or ``(N, C, d1, ...)``; target ``(N)`` or ``(N, d1, ...)``.
        - Output: a scalar, or the target's shape with ``reduction="none"``.

    Example:
        >>> criterion = LabelSmoothingCrossEntropy(smoothing=0.1)
        >>> criterion
        LabelSmoothingCrossEntropy(smoothing=0.1, reduction='mean')
        >>> round(criterion(torch.zeros(2, 5), torch.tensor([0, 3])).item(), 6) == round(math.log(5), 6)  # uniform logits
        True
    """

    def __init__(self, smoothing: float = 0.1, weight: torch.Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.smoothing = check_probability("smoothing", smoothing)
        self.ignore_index = _check_ignore_index(ignore_index)
        self.reduction = _check_reduction(reduction)
        self.register_buffer("weight", _check_weight_values(weight))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return label_smoothing_cross_entropy(logits, target, self.smoothing, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        ignore = "" if self.ignore_index == -100 else f", ignore_index={self.ignore_index}"
        return f"smoothing={self.smoothing}, reduction={self.reduction!r}{ignore}"


def optimal_logit_gap(num_classes: int, smoothing: float, convention: str = "uniform") -> float:
    r"""The gap :math:`z_y - z_c` between the target logit and every other logit that minimises the smoothed loss.

    The cross-entropy :math:`-\sum_c q_c \log \operatorname{softmax}(z)_c` is
    minimised when the softmax equals the target distribution :math:`q`; with
    every off-target class at the same probability, the optimal logits differ
    by :math:`\log(q_y / q_c)`:

    * ``"uniform"`` (PyTorch's ``label_smoothing``, :func:`smooth_targets`):
      :math:`q_y = 1-\varepsilon+\varepsilon/K`, :math:`q_c = \varepsilon/K`, so
      :math:`\log\bigl(1 + K(1-\varepsilon)/\varepsilon\bigr)` -- for :math:`K=10`,
      :math:`\varepsilon=0.1`: :math:`\log 91 \approx 4.511`;
    * ``"others"`` (ε shared by the :math:`K-1` wrong classes):
      :math:`q_y = 1-\varepsilon`, :math:`q_c = \varepsilon/(K-1)`, so
      :math:`\log\bigl((K-1)(1-\varepsilon)/\varepsilon\bigr)` -- :math:`\log 81 \approx 4.394`.

    The second formula is often quoted for PyTorch's convention; there it is wrong.
    Without smoothing (:math:`\varepsilon = 0`) there is no finite optimum: ``math.inf``.

    Example:
        >>> round(optimal_logit_gap(10, 0.1), 3), round(optimal_logit_gap(10, 0.1, "others"), 3)
        (4.511, 4.394)
    """
    num_classes = _check_num_classes(num_classes)
    smoothing = check_probability("smoothing", smoothing)
    if not isinstance(convention, str):
        raise TypeError(f"convention must be a str, one of {CONVENTIONS}, got {describe_value(convention)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if smoothing == 0.0:
        return math.inf
    if convention == "uniform":
        ratio = num_classes * (1.0 - smoothing) / smoothing  # q_y / q_c - 1
        if math.isfinite(ratio):
            return math.log1p(ratio)
        return math.log(num_classes * (1.0 - smoothing) + smoothing) - math.log(smoothing)  # a tiny ε: the ratio overflows
    ratio = (num_classes - 1) * (1.0 - smoothing) / smoothing
    if math.isfinite(ratio):
        return math.log(ratio)
    return math.log(num_classes - 1) + math.log1p(-smoothing) - math.log(smoothing)


def optimal_logits(targets: Any) -> np.ndarray:
    r"""The logits that minimise the cross-entropy against a target distribution :math:`q`, centred at mean 0.

    The cross-entropy :math:`-\sum_c q_c \log \operatorname{softmax}(z)_c` is
    convex in :math:`z`, with gradient :math:`\operatorname{softmax}(z) - q`: it is
    minimised exactly where :math:`\operatorname{softmax}(z) = q`, i.e. at
    :math:`z = \log q + b` for any shift :math:`b` (softmax is shift-invariant).
    Centring at mean 0 picks one representative,

    .. math::

        z^*_c = \log q_c - \frac1K \sum_{k=1}^{K} \log q_k ,

    so :math:`\sum_c z^*_c = 0`, :math:`\operatorname{softmax}(z^*) = q`, and every
    gap :math:`z^*_y - z^*_c = \log(q_y / q_c)`: for a smoothed target this is
    :func:`optimal_logit_gap` (:math:`\log 91` for PyTorch's :math:`K = 10`,
    :math:`\varepsilon = 0.1`). For the target class :math:`y` and a wrong class
    :math:`c` of such a target, :math:`z^*_y = \tfrac{K-1}{K}\,\mathrm{gap}` and
    :math:`z^*_c = -\tfrac{1}{K}\,\mathrm{gap}`. A class with :math:`q_c = 0` (every
    wrong class of a one-hot target) is matched only as :math:`z_c \to -\infty`:
    there is no finite optimum, and such a target is a ``ValueError``.

    Args:
        targets: ``(..., K)`` distributions over :math:`K \ge 2` classes on the last axis (NumPy, a
            sequence or a torch tensor, e.g. :func:`smooth_targets`), every entry in ``(0, 1]`` and
            every row summing to 1 (within ``1e-6``).

    Returns:
        A float64 NumPy array of the shape of ``targets``, each row summing to 0.

    Example:
        >>> optimal_logits([0.1, 0.8, 0.1]).round(4)  # -log 2, log 4, -log 2: the gap is log 8
        array([-0.6931,  1.3863, -0.6931])
    """
    q = _check_probs(targets, "targets", "(..., K)", tolerance=_SUM_TOLERANCE)
    zeros = q == 0.0
    if zeros.any():
        index = int(np.argmax(zeros.reshape(-1)))
        raise ValueError(f"targets must be > 0 in every class for a finite optimum, got 0.0 at flat index {index} "
                         "(a class with q_c = 0 is matched only as z_c → −∞: a one-hot target's z_y − z_c → ∞)")
    log_q = np.log(q)
    return log_q - log_q.mean(axis=-1, keepdims=True)


def _temperature_nll(log_temperature: float, logits: np.ndarray, labels: np.ndarray) -> float:
    scaled = logits / math.exp(log_temperature)
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    log_normaliser = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_normaliser - shifted[np.arange(len(labels)), labels]))


def temperature_scale(logits_val: Any, labels_val: Any) -> float:
    r"""The temperature :math:`T > 0` that minimises the NLL of ``softmax(logits_val / T)`` (Guo et al., 2017).

    Temperature scaling divides every logit by one number fitted on held-out
    data: it changes confidence, never the predicted class. The NLL is a
    smooth one-dimensional function of :math:`\log T`; it is minimised in
    float64 by bounded Brent search over :math:`T \in [10^{-3}, 10^{3}]`;
    where it keeps falling towards an end of that range (perfectly separated
    logits, whose NLL falls as :math:`T \to 0`), that end is returned.
    (:math:`T > 1` softens over-confident predictions.)

    Args:
        logits_val: ``(N, C)`` finite validation logits (NumPy or torch), ``C >= 2``.
        labels_val: ``(N,)`` integer classes in ``[0, C)``.

    Returns:
        The fitted temperature, a float.
    """
    logits = real_array("logits_val", logits_val)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(f"logits_val must have shape (N, C) with N >= 1 and C >= 2, got shape {logits.shape}")
    check_finite("logits_val", logits)
    if isinstance(labels_val, torch.Tensor):
        labels_val = labels_val.detach().cpu().numpy()
    labels = np.asarray(labels_val)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels_val must hold integer classes, got dtype {labels.dtype}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels_val must have shape ({logits.shape[0]},) to match logits_val, got shape {labels.shape}")
    bad = (labels < 0) | (labels >= logits.shape[1])
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"labels_val must be classes in [0, {logits.shape[1]}), got {int(labels[index])} at index {index}")
    low, high = (math.log(t) for t in _TEMPERATURE_RANGE)
    args = (logits, labels.astype(np.int64))
    with overflow_is_an_error("logits_val"):  # logits / T beyond float64 for the smallest T searched
        result = minimize_scalar(_temperature_nll, bounds=(low, high), args=args, method="bounded", options={"xatol": 1e-10})
        best_nll, temperature = float(result.fun), math.exp(result.x)
        # bounded Brent never evaluates the ends: where the NLL keeps falling towards one, that end is the minimiser
        for end, log_end in zip(_TEMPERATURE_RANGE, (low, high)):
            end_nll = _temperature_nll(log_end, *args)
            if end_nll < best_nll:
                best_nll, temperature = end_nll, end
    return float(temperature)

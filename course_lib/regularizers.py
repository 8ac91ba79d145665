r"""Weight decay, L2 and L1: penalties, priors, proximal steps, closed forms.

Parameter-norm penalties add :math:`\lambda\,R(w)` to the training loss
(Goodfellow, Bengio & Courville, 2016, *Deep Learning*, ch. 7):

* **L2 / weight decay**, :math:`R(w) = \tfrac12\|w\|_2^2`. With plain SGD the
  penalty's gradient :math:`\lambda w` turns every step into
  :math:`w \leftarrow (1 - \eta\lambda)\,w - \eta\,\nabla L`: the weights decay
  by the factor :math:`1 - \eta\lambda` before each gradient step (Krogh &
  Hertz, 1991, "A Simple Weight Decay Can Improve Generalization", NIPS 4).
  Near a minimum :math:`w^*` with Hessian :math:`H = Q\Lambda Q^\top` the
  regularised optimum is :math:`\tilde w = (H + \lambda I)^{-1} H w^*`: the
  component along eigenvector :math:`q_i` is shrunk by
  :math:`\lambda_i / (\lambda_i + \lambda)`.
* **L1**, :math:`R(w) = \|w\|_1` (the lasso, Tibshirani, 1996, "Regression
  Shrinkage and Selection via the Lasso", JRSS B 58). Its proximal operator is
  soft-thresholding, which sets small weights to *exactly* zero; iterating
  "gradient step, then soft-threshold" with Nesterov momentum is FISTA (Beck &
  Teboulle, 2009, "A Fast Iterative Shrinkage-Thresholding Algorithm for
  Linear Inverse Problems", SIAM J. Imaging Sciences 2), the solver of
  :func:`course_lib.linear_models.lasso_fit`.
* **Priors**: L2 is MAP estimation under a Gaussian prior, L1 under a Laplace
  prior (:func:`l2_strength_from_prior_variance`).

Closed forms (:func:`penalized_quadratic_optimum`; :func:`rotated_hessian`
and :func:`shrinkage_percent` for the two-dimensional constraint picture) and
the exact ridge and lasso solvers of :mod:`course_lib.linear_models` let the
chapter check what gradient descent and the widgets show;
:func:`prune_smallest_weights` is the magnitude-pruning baseline that L1's
sparsity is compared with.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from course_lib._validation import (
    check_finite,
    check_finite_result,
    check_int,
    check_non_negative,
    check_positive,
    check_real,
    overflow_is_an_error,
    real_array,
    real_tensor,
)

__all__ = [
    "penalized_quadratic_optimum",
    "hessian_shrinkage",
    "l2_regularized_optimum",
    "rotated_hessian",
    "shrinkage_percent",
    "soft_threshold",
    "l2_penalty",
    "l1_penalty",
    "sgd_l2_step",
    "sgd_decoupled_step",
    "decay_factor",
    "decay_after_steps",
    "l2_strength_from_prior_variance",
    "prior_variance_from_l2_strength",
    "l1_strength_from_laplace_scale",
    "laplace_scale_from_l1_strength",
    "weight_matrices",
    "prune_smallest_weights",
]

MAX_L1_DIMENSION = 8  # 3**8 = 6561 sign patterns for the exact L1 quadratic solver

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


# --- argument checks (_float_array and _check_center also serve course_lib.linear_models) -----

def _float_array(name: str, value: Any, ndim: int) -> np.ndarray:
    """``value`` as a finite float64 array with ``ndim`` dimensions (a new array, never a view).

    Integer and floating data (NumPy or torch) are accepted under the one dtype rule
    (:func:`course_lib._validation.real_array`); bool, complex, string and object data raise a
    ``TypeError`` naming ``name`` -- a complex input is never cut to its real part.
    """
    array = real_array(name, value).astype(np.float64, copy=False)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must not contain NaN or infinity")
    return array


def _check_spd(name: str, value: Any) -> np.ndarray:
    """A symmetric positive definite matrix as float64 (ValueError naming ``name`` otherwise)."""
    matrix = _float_array(name, value, 2)
    if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {matrix.shape}")
    scale = max(float(np.abs(matrix).max()), np.finfo(float).tiny)
    if not np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric, got max |H - H^T| = {np.abs(matrix - matrix.T).max():.3g}")
    matrix = (matrix + matrix.T) / 2.0
    smallest = float(np.linalg.eigvalsh(matrix)[0])
    if smallest <= 1e-12 * scale:
        raise ValueError(f"{name} must be positive definite, got smallest eigenvalue {smallest:.3g}")
    return matrix


def _check_center(name: str, value: Any, dimension: int) -> np.ndarray:
    vector = _float_array(name, value, 1)
    if vector.shape[0] != dimension:
        raise ValueError(f"{name} has length {vector.shape[0]} but the hessian is {dimension}x{dimension}")
    return vector


# --- quadratic models: closed forms -----------------------------------------------------------

def penalized_quadratic_optimum(
    hessian: np.ndarray, center: np.ndarray, strength: float, norm: str = "l2"
) -> np.ndarray:
    r"""Exact minimiser of a quadratic plus an L2 or L1 penalty.

    .. math::
        \tilde w = \arg\min_w\; \tfrac12 (w - c)^\top H (w - c) + \lambda\, R(w),
        \qquad R(w) = \tfrac12\|w\|_2^2 \;(\texttt{"l2"}) \quad\text{or}\quad \|w\|_1 \;(\texttt{"l1"}).

    * ``"l2"``: :math:`\tilde w = (H + \lambda I)^{-1} H c`.
    * ``"l1"``: no closed form unless :math:`H` is diagonal, so the minimiser
      is found *exactly* by enumeration. For every support :math:`S` and sign
      pattern :math:`s` (:math:`3^d` candidates) the stationarity condition
      :math:`H_{SS} w_S = (Hc)_S - \lambda s_S`, :math:`w_{\bar S} = 0` is a
      linear system; the answer is the candidate that satisfies the full KKT
      conditions, :math:`\operatorname{sign}(w_S) = s_S` and
      :math:`|(H(w - c))_j| \le \lambda` for :math:`j \notin S`. Coordinates
      outside the support are exactly ``0.0`` — the corners of the L1 ball
      that the constraint-geometry picture shows.

    Args:
        hessian: symmetric positive definite :math:`d\times d` matrix :math:`H`.
        center: unpenalised minimiser :math:`c`, shape ``(d,)``.
        strength: :math:`\lambda \ge 0`.
        norm: ``"l2"`` or ``"l1"`` (for ``"l1"``, ``d <= 8``).

    Returns:
        :math:`\tilde w`, a new float64 array of shape ``(d,)``.

    Example:
        >>> penalized_quadratic_optimum(np.diag([1.0, 4.0]), np.array([0.5, 2.0]), 1.0, norm="l1").tolist()
        [0.0, 1.75]
    """
    matrix = _check_spd("hessian", hessian)
    c = _check_center("center", center, matrix.shape[0])
    strength = check_non_negative("strength", strength)
    if norm == "l2":
        with overflow_is_an_error("hessian, center and strength"):
            return np.linalg.solve(matrix + strength * np.eye(len(c)), matrix @ c)
    if norm == "l1":
        if len(c) > MAX_L1_DIMENSION:
            raise ValueError(
                f"norm='l1' enumerates 3**d sign patterns and supports d <= {MAX_L1_DIMENSION}, "
                f"got d = {len(c)} (center has length {len(c)}); use lasso_fit for larger problems"
            )
        with overflow_is_an_error("hessian, center and strength"):
            return _l1_quadratic_by_enumeration(matrix, c, strength)
    raise ValueError(f"norm must be 'l2' or 'l1', got {norm!r}")


def _l1_quadratic_by_enumeration(matrix: np.ndarray, c: np.ndarray, strength: float) -> np.ndarray:
    """Try every (support, sign) pattern; keep the KKT point (the least-violating one if rounding blurs it)."""
    d = len(c)
    hc = matrix @ c
    scale = max(float(np.abs(hc).max()), strength, np.finfo(float).tiny)
    best, best_key = np.zeros(d), (math.inf, math.inf)
    for signs in itertools.product((0, 1, -1), repeat=d):  # smaller supports first: ties snap to 0.0
        s = np.array(signs, dtype=float)
        support = s != 0
        w = np.zeros(d)
        if support.any():
            w[support] = np.linalg.solve(matrix[np.ix_(support, support)], hc[support] - strength * s[support])
        gradient = matrix @ (w - c)
        sign_violation = np.max(-s[support] * w[support], initial=0.0)
        subgradient_violation = np.max(np.abs(gradient[~support]) - strength, initial=0.0)
        violation = max(sign_violation, subgradient_violation) / scale
        objective = 0.5 * (w - c) @ matrix @ (w - c) + strength * np.abs(w).sum()
        key = (max(violation, 1e-12), objective)  # violations below rounding level count as zero
        if key < best_key:
            best, best_key = w, key
    return best


def hessian_shrinkage(eigenvalues: np.ndarray, weight_decay: float) -> np.ndarray:
    r"""Factor by which L2 shrinks the optimum along each Hessian eigenvector: :math:`\lambda_i / (\lambda_i + \alpha)`.

    With :math:`H = Q \Lambda Q^\top`, the regularised optimum
    :math:`\tilde w = (H + \alpha I)^{-1} H w^*` satisfies
    :math:`q_i^\top \tilde w = \frac{\lambda_i}{\lambda_i + \alpha}\, q_i^\top w^*`:
    directions of high curvature (:math:`\lambda_i \gg \alpha`) are kept,
    flat ones (:math:`\lambda_i \ll \alpha`) are decayed towards zero.

    Args:
        eigenvalues: Hessian eigenvalues :math:`\lambda_i \ge 0`, any shape, integer or floating
            (bool or complex data raise ``TypeError``).
        weight_decay: :math:`\alpha \ge 0`.

    Returns:
        The factors in [0, 1], a new float64 array of ``eigenvalues``' shape.

    Example:
        >>> hessian_shrinkage(np.array([100.0, 1.0, 0.01]), 1.0).round(4).tolist()
        [0.9901, 0.5, 0.0099]
    """
    values = real_array("eigenvalues", eigenvalues)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"eigenvalues must be finite and >= 0, got {values!r}")
    weight_decay = check_non_negative("weight_decay", weight_decay)
    if weight_decay == 0.0 and np.any(values == 0.0):
        raise ValueError(
            "eigenvalues contains 0 and weight_decay is 0: the shrinkage 0/0 is undefined "
            "(a flat direction has no unique optimum without weight decay)"
        )
    return values / (values + weight_decay)


def l2_regularized_optimum(hessian: np.ndarray, w_star: np.ndarray, weight_decay: float) -> np.ndarray:
    r"""Optimum of the quadratic approximation plus weight decay: :math:`\tilde w = (H + \alpha I)^{-1} H w^*`.

    Minimises :math:`\tfrac12 (w - w^*)^\top H (w - w^*) + \tfrac{\alpha}{2}\|w\|^2`,
    the view of Goodfellow et al. (2016, §7.1.1); the L2 branch of
    :func:`penalized_quadratic_optimum`.

    Args:
        hessian: symmetric positive definite :math:`H` at the unregularised optimum.
        w_star: the unregularised optimum :math:`w^*`, shape ``(d,)``.
        weight_decay: :math:`\alpha \ge 0`.

    Returns:
        :math:`\tilde w`, a new float64 array of shape ``(d,)``.
    """
    matrix = _check_spd("hessian", hessian)
    center = _check_center("w_star", w_star, matrix.shape[0])
    weight_decay = check_non_negative("weight_decay", weight_decay)
    with overflow_is_an_error("hessian, w_star and weight_decay"):
        return np.linalg.solve(matrix + weight_decay * np.eye(len(center)), matrix @ center)


# --- the two-dimensional constraint picture: a rotated curvature, the shrinkage of w ----------

def rotated_hessian(eigenvalues: Sequence[float] = (1.0, 8.0), angle_degrees: float = 30.0) -> np.ndarray:
    r"""The 2x2 curvature :math:`H = R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top`.

    Its loss ellipses have axes along the rotated coordinate directions; the
    flat direction (the smaller eigenvalue) points at ``angle_degrees``.
    """
    values = real_array("eigenvalues", eigenvalues)
    if values.shape != (2,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"eigenvalues must be two positive numbers, got {eigenvalues!r}")
    angle_degrees = check_real("angle_degrees", angle_degrees)
    if not math.isfinite(angle_degrees):
        raise ValueError(f"angle_degrees must be a finite number, got {angle_degrees!r}")
    angle = np.deg2rad(angle_degrees % 360.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ np.diag(values) @ rotation.T


def shrinkage_percent(optimum: np.ndarray, center: np.ndarray) -> float:
    """``100 (1 − ‖optimum‖₂ / ‖center‖₂)``: the penalty's shortening of w, in percent."""
    optimum = check_finite("optimum", real_array("optimum", optimum))
    center = check_finite("center", real_array("center", center))
    if optimum.shape != center.shape or optimum.ndim != 1:
        raise ValueError(f"optimum and center must be 1-D arrays of one shape, got {optimum.shape} and {center.shape}")
    if not np.any(center):
        raise ValueError("center must not be the origin (nothing to shrink)")
    # Each norm taken after dividing by the vector's own largest entry, so entries near the float64
    # limits neither overflow nor underflow; only a ratio beyond float64's range is an error.
    with overflow_is_an_error("optimum and center"):
        ratio = _scaled_norm(optimum) / _scaled_norm(center)
        return float(100.0 * (1.0 - ratio))


def _scaled_norm(vector: np.ndarray) -> float:
    scale = float(np.abs(vector).max())
    return 0.0 if scale == 0.0 else np.linalg.norm(vector / scale) * np.float64(scale)  # NumPy: overflow raises


# --- the proximal operator of L1 and the penalties -------------------------------------------

def soft_threshold(w: Any, threshold: float) -> Any:
    r"""Soft-thresholding, the proximal operator of :math:`t\|\cdot\|_1`.

    .. math::
        S_t(v) = \operatorname{sign}(v)\,\max(|v| - t,\ 0)
               = \arg\min_x\; \tfrac12 (x - v)^2 + t\,|x| .

    Every entry moves towards zero by exactly :math:`t`; entries in
    :math:`[-t, t]` become exactly zero (``+0.0``, never ``-0.0``). Scaled by a step size, it is the
    "shrink" step of ISTA/FISTA and of :func:`course_lib.linear_models.lasso_fit`.

    Args:
        w: a NumPy array, a real scalar or a torch tensor (never modified), under the one
            dtype rule: integer arrays are computed in float64, integer tensors in float64,
            float16/bfloat16 tensors in float32; bool and complex data raise ``TypeError``.
        threshold: :math:`t \ge 0`, a real scalar.

    Returns:
        A new ndarray (at least float64) for an array, a float for a scalar, a tensor
        on the same device for a tensor, float32/float64 kept as they are (differentiable:
        the gradient is 1 on the survivors and 0 on the zeroed entries).

    Example:
        >>> soft_threshold(np.array([-2.0, -0.5, 0.0, 0.3, 1.5]), 1.0).tolist()
        [-1.0, 0.0, 0.0, 0.0, 0.5]
    """
    threshold = check_non_negative("threshold", threshold)
    if isinstance(w, torch.Tensor):
        w = check_finite("w", real_tensor("w", w))
        return torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    if isinstance(w, (bool, np.bool_)):
        raise TypeError(f"w must be a real array, scalar or tensor, got {type(w).__name__}")
    if isinstance(w, Real):
        value = check_real("w", w)
        if not math.isfinite(value):
            raise ValueError(f"w must be finite, got {value!r}")
        return math.copysign(max(abs(value) - threshold, 0.0), value) + 0.0
    if isinstance(w, np.ndarray):
        w = check_finite("w", real_array("w", w))  # int8 -128 must not wrap in abs()
        return np.asarray(np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0) + 0.0)  # an ndarray also for 0-d w
    raise TypeError(f"w must be a numpy.ndarray, a real scalar or a torch.Tensor, got {type(w).__name__}")


def _penalty_terms(weights: Any) -> tuple[str, list[Any]]:
    """Split ``weights`` into ('numpy' | 'torch', list of arrays/tensors) under the one dtype rule."""
    if isinstance(weights, torch.Tensor):
        return "torch", [check_finite("weights", real_tensor("weights", weights))]
    if isinstance(weights, np.ndarray):
        return "numpy", [check_finite("weights", real_array("weights", weights))]
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Iterable):
        raise TypeError(
            "weights must be a numpy.ndarray, a torch.Tensor or an iterable of tensors "
            f"(e.g. model.parameters()), got {type(weights).__name__}"
        )
    items = list(weights)
    if not items:
        raise ValueError("weights is empty: nothing to penalise")
    if all(isinstance(item, torch.Tensor) for item in items):
        return "torch", [check_finite(f"weights[{i}]", real_tensor(f"weights[{i}]", item)) for i, item in enumerate(items)]
    if all(isinstance(item, np.ndarray) for item in items):
        return "numpy", [check_finite(f"weights[{i}]", real_array(f"weights[{i}]", item)) for i, item in enumerate(items)]
    kinds = sorted({type(item).__name__ for item in items})
    raise TypeError(f"weights must hold only torch tensors or only numpy arrays, got {', '.join(kinds)}")


def l2_penalty(weights: Any, strength: float) -> Any:
    r"""The L2 (weight-decay) penalty :math:`\tfrac{\lambda}{2}\sum_i w_i^2`.

    Its gradient is :math:`\lambda w`, so adding it to the loss is SGD with
    weight decay :math:`\lambda` (:func:`sgd_l2_step`).

    Args:
        weights: a NumPy array, a torch tensor, or an iterable of tensors
            (``model.parameters()``, :func:`weight_matrices`) or of arrays. One dtype rule
            for both: integer data is summed in float64 (nothing wraps), float16/bfloat16
            tensors in float32 (nothing overflows); bool and complex data raise ``TypeError``.
        strength: :math:`\lambda \ge 0`.

    Returns:
        A Python float for NumPy input; for torch input a 0-d tensor that keeps
        the autograd graph, ready to add to a training loss (float32 for
        float16/bfloat16 weights, float64 for integer ones).

    Example:
        >>> l2_penalty(np.array([3.0, 4.0]), 0.1)
        1.25
    """
    strength = check_non_negative("strength", strength)
    kind, items = _penalty_terms(weights)
    if kind == "numpy":
        with overflow_is_an_error("weights and strength"):
            return 0.5 * strength * float(sum(np.sum(np.square(item)) for item in items))
    return check_finite_result(0.5 * strength * sum(item.pow(2).sum() for item in items), "weights and strength")


def l1_penalty(weights: Any, strength: float) -> Any:
    r"""The L1 penalty :math:`\lambda\sum_i |w_i|` (subgradient :math:`\lambda\operatorname{sign}(w)`).

    Arguments and return value as in :func:`l2_penalty`.

    Example:
        >>> l1_penalty(np.array([3.0, -4.0]), 0.1)
        0.7000000000000001
    """
    strength = check_non_negative("strength", strength)
    kind, items = _penalty_terms(weights)
    if kind == "numpy":
        with overflow_is_an_error("weights and strength"):
            return strength * float(sum(np.sum(np.abs(item)) for item in items))
    return check_finite_result(strength * sum(item.abs().sum() for item in items), "weights and strength")


# --- weight decay as an update rule -----------------------------------------------------------

def _check_step_arguments(w: Any, grad: Any, lr: float, weight_decay: float) -> tuple[Any, Any, float, float]:
    """Checked ``(w, grad, lr, weight_decay)``; ``w`` and ``grad`` under the one dtype rule."""
    lr = check_positive("lr", lr)
    weight_decay = check_non_negative("weight_decay", weight_decay)
    tensors = isinstance(w, torch.Tensor), isinstance(grad, torch.Tensor)
    arrays = isinstance(w, np.ndarray), isinstance(grad, np.ndarray)
    if not (all(tensors) or all(arrays)):
        raise TypeError(
            "w and grad must both be numpy arrays or both be torch tensors, "
            f"got {type(w).__name__} and {type(grad).__name__}"
        )
    if tuple(w.shape) != tuple(grad.shape):
        raise ValueError(f"grad shape {tuple(grad.shape)} differs from w shape {tuple(w.shape)}")
    convert = real_tensor if all(tensors) else real_array
    return check_finite("w", convert("w", w)), check_finite("grad", convert("grad", grad)), lr, weight_decay


def sgd_l2_step(w: ArrayOrTensor, grad: ArrayOrTensor, lr: float, weight_decay: float) -> ArrayOrTensor:
    r"""One SGD step on the L2-penalised loss: :math:`w - \eta\,(\nabla L + \lambda w)`.

    Args:
        w: current weights (NumPy array or torch tensor; not modified). Integer or floating
            data under the one dtype rule (integers computed in float64, float16/bfloat16
            tensors in float32); bool and complex data raise ``TypeError``.
        grad: :math:`\nabla L(w)` of the *unpenalised* loss, same shape and kind.
        lr: learning rate :math:`\eta > 0`.
        weight_decay: :math:`\lambda \ge 0`.

    Returns:
        The new weights, a new array or tensor.
    """
    w, grad, lr, weight_decay = _check_step_arguments(w, grad, lr, weight_decay)
    with overflow_is_an_error("w, grad, lr and weight_decay"):
        return check_finite_result(w - lr * (grad + weight_decay * w), "w, grad, lr and weight_decay")


def sgd_decoupled_step(w: ArrayOrTensor, grad: ArrayOrTensor, lr: float, weight_decay: float) -> ArrayOrTensor:
    r"""One SGD step with decoupled weight decay: :math:`(1 - \eta\lambda)\,w - \eta\,\nabla L`.

    For plain SGD this equals :func:`sgd_l2_step` term by term; the two
    differ only for adaptive methods such as Adam, where the L2 gradient is
    rescaled per coordinate but decoupled decay is not (AdamW, Loshchilov &
    Hutter, 2019). Arguments and return value as in :func:`sgd_l2_step`.
    """
    w, grad, lr, weight_decay = _check_step_arguments(w, grad, lr, weight_decay)
    with overflow_is_an_error("w, grad, lr and weight_decay"):
        return check_finite_result((1.0 - lr * weight_decay) * w - lr * grad, "w, grad, lr and weight_decay")


def decay_factor(lr: float, weight_decay: float) -> float:
    r"""Per-step multiplier of the weights under SGD weight decay: :math:`1 - \eta\lambda`.

    Args:
        lr: learning rate :math:`\eta > 0`.
        weight_decay: :math:`\lambda \ge 0`, with :math:`\eta\lambda \le 1`.

    Returns:
        The factor, in [0, 1].

    Example:
        >>> round(decay_factor(1e-3, 1e-2), 10)
        0.99999
    """
    lr = check_positive("lr", lr)
    weight_decay = check_non_negative("weight_decay", weight_decay)
    if lr * weight_decay > 1.0:
        raise ValueError(
            f"lr * weight_decay must be <= 1, got lr={lr!r} * weight_decay={weight_decay!r} = {lr * weight_decay!r}: "
            "the factor 1 - lr * weight_decay would be negative and flip the sign of the weights every step"
        )
    return 1.0 - lr * weight_decay


def decay_after_steps(lr: float, weight_decay: float, steps: int) -> float:
    r"""What weight decay alone leaves of a weight after ``steps`` SGD steps: :math:`(1 - \eta\lambda)^{k}`.

    Since :math:`(1 - x)^k \approx e^{-kx}`, the weights shrink by :math:`1/e`
    after about :math:`1/(\eta\lambda)` steps.

    ``steps`` may be any int >= 0, however large: a count too big for a float exponent
    (``10**400``) gives the exact limit, ``0.0`` for a factor below 1 (``1.0`` for a factor of 1).

    Example:
        >>> round(decay_after_steps(0.1, 0.01, 1000), 4)
        0.3677
    """
    factor = decay_factor(lr, weight_decay)
    steps = check_int("steps", steps, minimum=0)
    try:
        return factor**steps
    except OverflowError:  # steps > ~1.8e308: (1 - x)**steps <= exp(-steps * x) underflows for any x >= 1e-16
        return 0.0 if factor < 1.0 else 1.0


# --- priors ------------------------------------------------------------------------------------

def _noise_variance_over(name: str, value: float, noise_variance: float) -> float:
    r""":math:`\sigma_n^2 / x` after checking ``value`` :math:`= x > 0`, then :math:`\sigma_n^2 > 0`.

    Every strength <-> prior conversion below is this map; it is its own
    inverse, which is why each conversion's inverse is the same one-liner.
    A ``value`` whose quotient overflows to inf (a subnormal variance such as
    ``1e-320``) or underflows to 0 raises ``ValueError`` naming it, never a silent inf or 0.
    """
    value = check_positive(name, value)
    noise_variance = check_positive("noise_variance", noise_variance)
    result = noise_variance / value
    if math.isinf(result) or result == 0.0:
        side = "small" if math.isinf(result) else "large"
        raise ValueError(
            f"{name} is too {side} for float64: noise_variance / {name} = {noise_variance!r} / {value!r} "
            f"{'overflows to inf' if side == 'small' else 'underflows to 0'}"
        )
    return result


def l2_strength_from_prior_variance(variance: float, noise_variance: float = 1.0) -> float:
    r"""L2 strength equivalent to a Gaussian prior: :math:`\lambda = \sigma_n^2 / \sigma^2`.

    MAP estimation under :math:`y_i \sim \mathcal N(x_i^\top w, \sigma_n^2)` and
    :math:`w \sim \mathcal N(0, \sigma^2 I)` minimises the negative log posterior

    .. math::
        \frac{1}{2\sigma_n^2}\sum_i (y_i - x_i^\top w)^2 + \frac{1}{2\sigma^2}\|w\|^2 + \text{const},

    and multiplying by :math:`\sigma_n^2` gives the loss
    :math:`\tfrac12\sum_i (y_i - x_i^\top w)^2 + \tfrac{\lambda}{2}\|w\|^2` with
    :math:`\lambda = \sigma_n^2/\sigma^2` — i.e. :math:`\lambda = 1/\sigma^2` for a
    unit-scale likelihood. A tighter prior (small :math:`\sigma^2`) means stronger decay.

    Args:
        variance: prior variance :math:`\sigma^2 > 0`. A variance so small that :math:`\sigma_n^2/\sigma^2`
            overflows (``1e-320``) raises ``ValueError``; so do the other conversions.
        noise_variance: likelihood noise variance :math:`\sigma_n^2 > 0`.

    Example:
        >>> l2_strength_from_prior_variance(0.01)
        100.0
    """
    return _noise_variance_over("variance", variance, noise_variance)


def prior_variance_from_l2_strength(strength: float, noise_variance: float = 1.0) -> float:
    r"""Gaussian prior variance equivalent to an L2 strength: :math:`\sigma^2 = \sigma_n^2/\lambda` (inverse of :func:`l2_strength_from_prior_variance`)."""
    return _noise_variance_over("strength", strength, noise_variance)


def l1_strength_from_laplace_scale(scale: float, noise_variance: float = 1.0) -> float:
    r"""L1 strength equivalent to a Laplace prior: :math:`\lambda = \sigma_n^2 / b`.

    With :math:`w_j \sim \mathrm{Laplace}(0, b)`, :math:`-\log p(w) = \|w\|_1/b + \text{const}`;
    multiplying the negative log posterior by :math:`\sigma_n^2` as in
    :func:`l2_strength_from_prior_variance` gives
    :math:`\tfrac12\sum_i (y_i - x_i^\top w)^2 + \lambda\|w\|_1` with :math:`\lambda = \sigma_n^2/b`.

    Args:
        scale: Laplace scale :math:`b > 0` (the prior's variance is :math:`2b^2`).
        noise_variance: likelihood noise variance :math:`\sigma_n^2 > 0`.
    """
    return _noise_variance_over("scale", scale, noise_variance)


def laplace_scale_from_l1_strength(strength: float, noise_variance: float = 1.0) -> float:
    r"""Laplace prior scale equivalent to an L1 strength: :math:`b = \sigma_n^2/\lambda` (inverse of :func:`l1_strength_from_laplace_scale`)."""
    return _noise_variance_over("strength", strength, noise_variance)


# --- magnitude pruning -------------------------------------------------------------------------

_WEIGHTED_LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [module for module in model.modules() if isinstance(module, _WEIGHTED_LAYERS)]


def weight_matrices(model: nn.Module) -> list[torch.Tensor]:
    r"""The ``.weight`` parameters of every Linear and Conv layer of ``model``, in module order.

    Biases (and normalisation parameters) are left out, as weight decay and
    pruning usually leave them alone. The tensors are the live parameters, so
    ``l2_penalty(weight_matrices(model), lam)`` is a differentiable penalty on
    the weights only; call ``.detach()`` before plotting a histogram.

    Args:
        model: a torch module.

    Returns:
        A list of parameters (empty if the model has no Linear/Conv layer).

    Example:
        >>> [tuple(w.shape) for w in weight_matrices(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))]
        [(4, 3), (2, 4)]
    """
    return [layer.weight for layer in _weighted_layers(model)]


def prune_smallest_weights(model: nn.Module, fraction: float) -> nn.Module:
    r"""Global magnitude pruning: a copy of ``model`` with the smallest ``fraction`` of its weights set to 0.

    All weights of the Linear and Conv layers (not the biases) are ranked
    together by :math:`|w|` and the smallest ``round(fraction * total)`` are
    set to exactly zero, with
    :func:`torch.nn.utils.prune.global_unstructured` and
    :class:`~torch.nn.utils.prune.L1Unstructured`; :func:`~torch.nn.utils.prune.remove`
    then folds the mask in, so the result is a plain module with ordinary
    ``weight`` parameters. ``model`` itself is not modified.

    Args:
        model: a torch module with at least one Linear or Conv layer.
        fraction: share of the weights to zero, in [0, 1].

    Returns:
        The pruned deep copy.

    Example:
        >>> pruned = prune_smallest_weights(nn.Linear(10, 10), 0.3)
        >>> int((pruned.weight == 0).sum())
        30
    """
    fraction = check_non_negative("fraction", fraction)
    if fraction > 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    if not _weighted_layers(model):
        raise ValueError(f"model has no Linear or Conv layer to prune: {type(model).__name__}")
    pruned = copy.deepcopy(model)
    targets = [(layer, "weight") for layer in _weighted_layers(pruned)]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=fraction)
    for layer, name in targets:
        prune.remove(layer, name)
    return pruned

"""Dropout from scratch: NumPy forward/backward, a PyTorch module, and the analysis tools.

Dropout (Srivastava et al., 2014, "Dropout: A Simple Way to Prevent Neural
Networks from Overfitting", JMLR 15) zeroes each unit independently with
probability ``p`` during training. With keep mask ``m_i ~ Bernoulli(1 - p)``:

* **inverted dropout** (used by every modern framework) rescales the survivors
  at training time, ``y_i = m_i x_i / (1 - p)``, so ``E[y_i] = x_i`` and
  inference is the identity;
* the **original formulation** trains with ``y_i = m_i x_i`` and multiplies by
  ``(1 - p)`` at inference instead.

The backward pass of inverted dropout reuses the forward mask and scale:
``dL/dx_i = m_i / (1 - p) * dL/dy_i``. Drawing a fresh mask in backward is a bug.

The widgets of the chapter (:mod:`course_lib.widgets.dropout`) show two
things computed here: the keep masks and counts of one forward pass of a
drawn network (:func:`keep_masks`, :func:`network_statistics`,
:func:`expected_active_connections`), and a tiny fixed network whose
training-mode outputs average to its eval-mode output (:func:`tiny_network`,
:func:`training_mode_outputs`, :func:`eval_mode_output`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib._random import default_rng
from course_lib._validation import (
    check_bool,
    check_finite,
    check_generator,
    check_int,
    check_ndarray,
    check_probability,
    check_real,
    describe_value,
    real_array,
    record_array,
    set_record_fields,
)

__all__ = [
    "dropout_forward", "dropout_backward", "scaled_inference_dropout_forward", "inverted_dropout",
    "InvertedDropout", "all_keep_masks", "keep_mask_probabilities", "dropout_penalty",
    "dropout_regression_weights", "softmax", "log_softmax", "normalized_geometric_mean", "DropoutEnsemble",
    "dropout_ensemble", "running_mean_with_standard_error", "sample_dropout_regression_losses",
    "draw_unit_uniforms", "keep_masks", "NetworkStatistics", "network_statistics",
    "expected_active_connections", "TinyNetwork", "tiny_network", "eval_mode_output", "training_mode_outputs",
]


def dropout_forward(
    x: np.ndarray,
    p: float,
    training: bool = True,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Inverted dropout, forward pass.

    .. math::
        m_i \sim \mathrm{Bernoulli}(1 - p), \qquad
        y_i = \frac{m_i\, x_i}{1 - p} \quad\text{(training)}, \qquad
        y = x \quad\text{(evaluation)}

    so that :math:`\mathbb{E}[y_i] = x_i` and nothing changes at inference.

    Args:
        x: input array of any shape.
        p: probability of *dropping* a unit, in [0, 1).
        training: draw a mask (True) or return ``x`` unchanged (False).
        rng: generator for the mask; ``None`` uses the package generator
            seeded by :func:`course_lib.setup_notebook`.

    Returns:
        ``(out, mask)`` where ``mask`` is a boolean array of ``x``'s shape with
        True for the kept units, or ``None`` when nothing was dropped
        (``training=False`` or ``p == 0``). ``out`` is a new array (a float ``x``
        keeps its dtype, an integer one gives float64). NaN or inf in ``x``, or
        ``x / (1 - p)`` overflowing, raises ``ValueError`` naming ``x``.

    Example:
        >>> out, mask = dropout_forward(np.ones(4), 0.5, rng=np.random.default_rng(0))
        >>> sorted(set(out.tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    x = check_ndarray("x", x)
    p = check_probability("p", p)
    training = check_bool("training", training)
    rng = default_rng() if rng is None else check_generator("rng", rng)
    if not training or p == 0.0:
        return check_finite("x", x).copy(), None
    mask = np.asarray(rng.random(x.shape) >= p)
    return _rescale_kept("x", x, mask, p), mask


def _rescale_kept(name: str, x: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """``x * mask / (1 - p)``, a new float array (a float x keeps its dtype); ValueError on NaN, inf or overflow."""
    out = np.array(x, dtype=np.result_type(x, 1.0))
    with np.errstate(over="ignore", invalid="ignore"):
        out *= mask
        out /= 1.0 - p
        suspect = not np.isfinite(out.sum())  # one pass; NaN and inf reach the sum (which may also just overflow)
    if suspect and not np.all(np.isfinite(out)):  # NaN or inf in x, or overflow
        check_finite(name, x)
        raise ValueError(f"{name} / (1 - p) overflows {out.dtype}: max |{name}| = {np.abs(x).max():g} with p = {p!r}")
    return out


def dropout_backward(grad_out: np.ndarray, mask: np.ndarray | None, p: float) -> np.ndarray:
    r"""Inverted dropout, backward pass: :math:`\partial L/\partial x_i = m_i\,(\partial L/\partial y_i)/(1-p)`.

    Args:
        grad_out: upstream gradient :math:`\partial L/\partial y`.
        mask: the boolean keep mask returned by :func:`dropout_forward`, or
            ``None`` if the forward pass dropped nothing (the gradient passes
            through unchanged).
        p: the drop probability used in the forward pass.

    Returns:
        :math:`\partial L/\partial x`, a new array of ``grad_out``'s shape.
    """
    grad_out = check_ndarray("grad_out", grad_out)
    p = check_probability("p", p)
    if mask is None:
        return check_finite("grad_out", grad_out).copy()
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask must be a boolean numpy.ndarray (True = kept) or None, got {got}")
    if mask.shape != grad_out.shape:
        raise ValueError(f"mask shape {mask.shape} differs from grad_out shape {grad_out.shape}")
    return _rescale_kept("grad_out", grad_out, mask, p)


def scaled_inference_dropout_forward(
    x: np.ndarray,
    p: float,
    training: bool = True,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""The original (non-inverted) dropout of Srivastava et al. (2014).

    Training: :math:`y_i = m_i x_i` with no rescaling, so :math:`\mathbb{E}[y_i] = (1-p)\,x_i`.
    Inference: :math:`y = (1 - p)\,x`, to match that expectation. Every
    deployed model must remember to apply the factor, which is why frameworks
    moved the scale into training (:func:`dropout_forward`).

    Arguments and return value are as in :func:`dropout_forward`.
    """
    x = check_finite("x", check_ndarray("x", x))
    p = check_probability("p", p)
    training = check_bool("training", training)
    rng = default_rng() if rng is None else check_generator("rng", rng)
    dtype = np.result_type(x, 1.0)
    if not training:
        return np.asarray(x * (1.0 - p), dtype=dtype), None
    if p == 0.0:
        return x.astype(dtype), None
    mask = np.asarray(rng.random(x.shape) >= p)
    return np.asarray(np.where(mask, x, 0), dtype=dtype), mask


def _check_mask_generator(generator: Any) -> torch.Generator | np.random.Generator | None:
    if generator is not None and not isinstance(generator, (torch.Generator, np.random.Generator)):
        raise TypeError(
            f"generator must be a torch.Generator, a numpy.random.Generator or None, got {type(generator).__name__}"
        )
    return generator


def inverted_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    generator: torch.Generator | np.random.Generator | None = None,
) -> torch.Tensor:
    r"""Inverted dropout on a tensor, differentiable by autograd.

    Draws :math:`m \sim \mathrm{Bernoulli}(1-p)` elementwise and returns
    :math:`x \odot m / (1-p)`. Autograd saves the scaled mask, so the backward
    pass multiplies the upstream gradient by the *same* :math:`m/(1-p)`.
    Same semantics as :func:`torch.nn.functional.dropout` (without ``inplace``).

    The mask comes from ``generator``: torch's global generator (``None``), a
    ``torch.Generator``, or a ``numpy.random.Generator`` (``m = u >= p`` with
    :math:`u \sim \mathcal U[0, 1)`, as in :func:`dropout_forward`). torch's
    Bernoulli sampler can give other masks for the same seed on another
    processor; NumPy's streams are the same everywhere, so a NumPy generator
    makes a training run reproducible across machines.

    ``x`` must be a floating-point tensor: integer and bool tensors are
    rejected with a ``TypeError`` (not widened), because dropping and
    rescaling integers by :math:`1/(1-p)` is not meaningful.

    Example:
        >>> y = inverted_dropout(torch.ones(2, 4), 0.5, generator=np.random.default_rng(0))
        >>> sorted(set(y.flatten().tolist())) == [0.0, 2.0]
        True
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"x must be a floating-point tensor (dropout of integers or bools is not meaningful), got dtype {x.dtype}"
        )
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_mask_generator(generator)
    if not training or p == 0.0:
        return check_finite("x", x)
    if isinstance(generator, np.random.Generator):
        keep = torch.from_numpy(np.asarray(generator.random(tuple(x.shape)) >= p)).to(device=x.device)
        out = x * keep.to(x.dtype).div_(1.0 - p)
    else:
        out = x * torch.empty_like(x).bernoulli_(1.0 - p, generator=generator).div_(1.0 - p)
    if not math.isfinite(out.detach().sum().item()) and not bool(torch.isfinite(out.detach()).all()):  # cheap sum first
        check_finite("x", x)
        raise ValueError(f"x / (1 - p) overflows {x.dtype}: max |x| = {x.detach().abs().max().item():g} with p = {p!r}")
    return out


class InvertedDropout(nn.Module):
    r"""Inverted dropout as a module: a from-scratch twin of :class:`torch.nn.Dropout`.

    During training each element is zeroed with probability :math:`p` and the
    survivors are scaled by :math:`1/(1-p)`:

    .. math::
        y = \frac{m \odot x}{1 - p}, \qquad m_i \sim \mathrm{Bernoulli}(1 - p),
        \qquad \mathbb{E}[y] = x .

    In evaluation mode (``module.eval()``) the module is the identity. A new
    mask is drawn on every forward call, from torch's global generator or from
    ``generator`` (see :func:`inverted_dropout`: a NumPy generator gives the
    same masks on every machine).

    Args:
        p: probability of an element being zeroed, in [0, 1). Default: 0.5.
        generator: where masks come from: ``None`` (torch's global generator),
            a ``torch.Generator`` or a ``numpy.random.Generator``.

    Shape:
        - Input: any shape, a floating-point tensor (integer and bool tensors
          raise ``TypeError``, see :func:`inverted_dropout`). Output: the same shape.

    Example:
        >>> layer = InvertedDropout(p=0.2)
        >>> y = layer(torch.ones(3, 5))
        >>> layer.eval()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability("p", p)
        self.generator = _check_mask_generator(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return inverted_dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        if self.generator is None:
            return f"p={self.p}"
        source = "numpy.random.Generator" if isinstance(self.generator, np.random.Generator) else "torch.Generator"
        return f"p={self.p}, generator={source}"


def all_keep_masks(n: int) -> np.ndarray:
    """All ``2**n`` keep masks over ``n`` droppable units, as a ``(2**n, n)`` boolean array.

    Row ``k`` is the binary expansion of ``k`` (first unit = most significant bit).
    ``n`` is limited to 20 (about a million sub-networks).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 1 <= n <= 20:
        raise ValueError(f"n must be in [1, 20], got {n}")
    return np.array(list(itertools.product([False, True], repeat=int(n))), dtype=bool)


def keep_mask_probabilities(masks: np.ndarray, p: float) -> np.ndarray:
    r"""Probability of each keep mask under independent dropout: :math:`(1-p)^{k}\,p^{\,n-k}`, k = units kept."""
    if not isinstance(masks, np.ndarray) or masks.dtype != np.bool_ or masks.ndim != 2:
        raise TypeError(f"masks must be a 2-D boolean numpy.ndarray (one mask per row), got {describe_value(masks)}")
    p = check_probability("p", p)
    kept = masks.sum(axis=1)
    return (1.0 - p) ** kept * p ** (masks.shape[1] - kept)


def _check_regression(X: np.ndarray, w_or_y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, w_or_y)`` as float64 arrays under the one dtype rule, after checking their shapes and values."""
    X, w_or_y = real_array("X", X), real_array(name, w_or_y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    size = X.shape[1] if name == "w" else X.shape[0]
    if w_or_y.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match X {X.shape}, got {w_or_y.shape}")
    for label, array in (("X", X), (name, w_or_y)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{label} contains non-finite values (NaN or inf)")
    return X, w_or_y


def _power_of_two_scale(a: np.ndarray) -> float:
    """The power of two at or just below max |a| (1.0 for an empty or all-zero array)."""
    top = float(np.abs(a).max(initial=0.0))
    return math.ldexp(1.0, math.frexp(top)[1] - 1) if top > 0 else 1.0


def _check_solvable(X: np.ndarray, matrix: np.ndarray) -> None:
    """Raise a ValueError naming X when the regularised normal equations have no unique solution."""
    zero_columns = np.flatnonzero(~np.any(X != 0, axis=0))
    if zero_columns.size:
        raise ValueError(
            f"X is singular: feature column(s) {zero_columns.tolist()} are all zeros, so their weights are undefined"
        )
    if np.linalg.matrix_rank(matrix) < matrix.shape[0]:
        raise ValueError(
            "X is singular: its feature columns are linearly dependent (with p = 0 the normal equations "
            "have no unique solution); drop the redundant columns or use p > 0"
        )


def dropout_penalty(X: np.ndarray, w: np.ndarray, p: float) -> float:
    r"""The regulariser that input dropout adds to least squares (Wager et al., 2013).

    With inverted dropout on the inputs, :math:`\tilde x_{ij} = m_{ij} x_{ij}/(1-p)`,

    .. math::
        \mathbb{E}_m \lVert y - \tilde X w \rVert^2
        = \lVert y - X w \rVert^2 + \frac{p}{1-p} \sum_j w_j^2 \sum_i x_{ij}^2 ,

    an L2 penalty whose weight for feature j grows with that feature's
    energy :math:`\sum_i x_{ij}^2` -- data-dependent, unlike plain L2.
    Returns the second term.

    ``X`` and ``w`` may be any real array-likes (lists, integer or float16
    arrays): they are computed in float64 by the one dtype rule, so integer
    data do not wrap when squared.
    """
    X, w = _check_regression(X, w, "w")
    p = check_probability("p", p)
    with np.errstate(all="ignore"):
        penalty = float(p / (1.0 - p) * np.sum(w**2 * np.sum(X**2, axis=0)))
        if not math.isfinite(penalty):  # a square overflowed: the same sum of b_j**2, b_j = sqrt(p/(1-p)) |w_j| ||X_j||
            scale = np.abs(X).max()
            b = math.sqrt(p / (1.0 - p)) * np.abs(w) * (np.linalg.norm(X / scale, axis=0) * scale)
            top = b.max()
            penalty = float(top * top * np.sum((b / top) ** 2)) if top > 0 else 0.0
    if not math.isfinite(penalty):
        raise ValueError(
            f"the dropout penalty overflows float64: X and w are too large (max |X| = {np.abs(X).max():g}, "
            f"max |w| = {np.abs(w).max():g}, p = {p!r})"
        )
    return penalty


def dropout_regression_weights(X: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    r"""Minimiser of the expected input-dropout least-squares loss (see :func:`dropout_penalty`).

    .. math::
        \hat w = \Big(X^\top X + \tfrac{p}{1-p}\,\mathrm{diag}(X^\top X)\Big)^{-1} X^\top y

    ``X`` and ``y`` are computed in float64 (the one dtype rule: integer and
    float16 data are accepted). Raises ``ValueError`` naming ``X`` when the
    matrix is singular: a feature column that is all zeros (any ``p``), or
    linearly dependent columns (possible only with ``p = 0``).
    """
    X, y = _check_regression(X, y, "y")
    p = check_probability("p", p)
    # Solve for X / sx and y / sy, powers of two (exact): the Gram matrix of huge or tiny data stays in range.
    sx, sy = _power_of_two_scale(X), _power_of_two_scale(y)
    X = X / sx
    gram = X.T @ X
    matrix = gram + p / (1.0 - p) * np.diag(np.diag(gram))
    _check_solvable(X, matrix)
    with np.errstate(over="ignore"):
        w = np.linalg.solve(matrix, X.T @ (y / sy)) * (sy / sx)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"the weights overflow float64: y is too large for X (max |y| ~ {sy:g}, max |X| ~ {sx:g})")
    return w


# ---------------------------------------------------------------------------
# Analysis: the ensemble view, running means, and the regression penalty
# ---------------------------------------------------------------------------


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``, computed stably.

    :math:`\mathrm{softmax}(z)_k = e^{z_k - \max z} / \sum_j e^{z_j - \max z}`.
    Accepts what :func:`log_softmax` accepts.

    Example:
        >>> softmax(np.array([0.0, -np.inf])).tolist()
        [1.0, 0.0]
    """
    return np.exp(log_softmax(logits, axis=axis))


def _check_axis(axis: Any, ndim: int) -> int:
    """``axis`` as an int after checking it is an int (not a bool) within ``[-ndim, ndim)``."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"axis must be an int in [{-ndim}, {ndim - 1}] for logits with {ndim} dimension(s), got {axis}"
        )
    return int(axis)


def _check_logits(logits: Any) -> np.ndarray:
    """Non-empty float64 logits with no NaN or +inf (-inf, a probability of 0, is allowed)."""
    logits = real_array("logits", logits)
    if logits.ndim == 0:
        raise ValueError("logits must have at least one dimension")
    if logits.size == 0:
        raise ValueError(f"logits must be non-empty, got shape {logits.shape}")
    if np.any(np.isnan(logits)) or np.any(logits == np.inf):
        raise ValueError("logits contains non-finite values (NaN or inf); only -inf (probability 0) is allowed")
    return logits


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Log-softmax along ``axis``: :math:`z_k - \log\sum_j e^{z_j}`, without overflow for large logits.

    Args:
        logits: a non-empty real array-like of at least one dimension (lists
            and integer arrays are accepted and computed in float64). A logit
            of ``-inf`` is accepted deliberately: it is a class of probability
            exactly 0 (log-softmax ``-inf``), as long as each slice along
            ``axis`` has one finite logit. NaN and ``+inf`` raise ``ValueError``.
        axis: an int in ``[-ndim, ndim)``.
    """
    logits = _check_logits(logits)
    axis = _check_axis(axis, logits.ndim)
    top = logits.max(axis=axis, keepdims=True)
    if np.any(top == -np.inf):
        raise ValueError(f"logits must have a finite value in every slice along axis {axis}; some slice is all -inf")
    with np.errstate(over="ignore"):  # logits - top <= 0; an overflow to -inf is a probability that underflows to 0
        shifted = logits - top
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def normalized_geometric_mean(log_probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    r"""Weighted geometric mean of categorical distributions, renormalised to sum to one.

    .. math::
        G_k \propto \prod_m p_{m,k}^{\,w_m}
        \quad\Longleftrightarrow\quad
        G = \mathrm{softmax}\Big(\sum_m w_m \log p_m\Big)

    Args:
        log_probabilities: ``(members, ..., classes)`` log-probabilities of
            each ensemble member (log space keeps tiny probabilities exact).
        weights: ``(members,)`` non-negative weights summing to one (for a
            dropout ensemble: the probability of each keep mask).

    Returns:
        ``(..., classes)`` probabilities.

    A log-probability of ``-inf`` (a probability of exactly 0) is accepted:
    in a member of positive weight it gives that class probability 0 in
    :math:`G`. NaN and ``+inf`` raise ``ValueError``, and so does a row in which
    every class has probability 0 in some member (then :math:`G` is undefined).

    Example:
        >>> normalized_geometric_mean(np.array([[np.log(0.5)] * 2, [0.0, -np.inf]]), np.array([0.5, 0.5])).tolist()
        [1.0, 0.0]
    """
    log_probabilities = check_ndarray("log_probabilities", log_probabilities)
    if np.any(np.isnan(log_probabilities)) or np.any(log_probabilities == np.inf):
        raise ValueError("log_probabilities contains NaN or +inf (only -inf, a probability of 0, is allowed)")
    weights = check_ndarray("weights", weights).astype(np.float64)
    if log_probabilities.ndim < 2:
        raise ValueError(
            f"log_probabilities must be at least 2-D (members, ..., classes), got shape {log_probabilities.shape}"
        )
    if weights.shape != log_probabilities.shape[:1]:
        members = log_probabilities.shape
        raise ValueError(f"weights must have shape ({members[0]},), one per log_probabilities member, "
                         f"got {weights.shape}")
    if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"weights must be non-negative and sum to 1, got sum {weights.sum()!r}")
    # Members with zero weight contribute nothing (and may hold -inf log-probabilities).
    used = weights > 0
    mixed = np.tensordot(weights[used], log_probabilities[used].astype(np.float64), axes=1)
    if np.any(np.all(mixed == -np.inf, axis=-1)):
        raise ValueError(
            "log_probabilities give every class probability 0 in some row (all -inf after weighting); "
            "the geometric mean is undefined"
        )
    return softmax(mixed)


@dataclass(frozen=True)
class DropoutEnsemble:
    """Every sub-network of a small dropout network, and the three ways to combine them.

    Attributes:
        masks: ``(2**n, n)`` keep masks over the ``n`` droppable units.
        mask_probabilities: ``(2**n,)`` probability of each mask under dropout rate ``p``.
        member_probabilities: ``(2**n, ..., classes)`` softmax output of each sub-network.
        arithmetic_mean: ``(..., classes)`` mask-probability-weighted average of the members.
        geometric_mean: ``(..., classes)`` normalised weighted geometric mean of the members.
        eval_output: ``(..., classes)`` the full network in evaluation mode (inverted
            dropout: all units, no scaling), i.e. the weight-scaling rule.

    The constructor checks the fields (``masks`` a 2-D bool array, the others real
    arrays of the shapes above); a wrong field is a ``TypeError``/``ValueError`` naming it.
    """

    masks: np.ndarray
    mask_probabilities: np.ndarray
    member_probabilities: np.ndarray
    arithmetic_mean: np.ndarray
    geometric_mean: np.ndarray
    eval_output: np.ndarray

    def __post_init__(self) -> None:
        masks = self.masks
        if not (isinstance(masks, np.ndarray) and masks.dtype == np.bool_):
            raise TypeError(f"masks must be a 2-D boolean numpy.ndarray, got {describe_value(masks)}")
        if masks.ndim != 2:
            raise ValueError(f"masks must be a 2-D boolean numpy.ndarray, got shape {masks.shape}")
        members = record_array("member_probabilities", self.member_probabilities)
        if members.ndim < 2 or members.shape[0] != masks.shape[0]:
            raise ValueError(
                f"member_probabilities must have shape ({masks.shape[0]}, ..., classes), one row per mask of masks "
                f"{masks.shape}, got shape {members.shape}"
            )
        checked = {"member_probabilities": check_finite("member_probabilities", members)}
        fits = [("mask_probabilities", masks.shape[:1], f"masks {masks.shape}")]
        fits += [(name, members.shape[1:], f"member_probabilities {members.shape}") for name in _MEANS]
        for name, shape, match in fits:
            try:
                checked[name] = check_finite(name, record_array(name, getattr(self, name), shape))
            except ValueError as error:
                raise ValueError(f"{error}, to match {match}") from None
        set_record_fields(self, checked)


_MEANS = ("arithmetic_mean", "geometric_mean", "eval_output")
_MAX_SAMPLES = 10**6  # sample_dropout_regression_losses
_MAX_LAYER_WIDTH = 10**6  # the drawn network
_MAX_TINY_WIDTH = 1000
_MAX_PASS_ENTRIES = 10**7  # training_mode_outputs: n_passes * hidden units, 80 MB of float64
_ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh}
_MAX_ENSEMBLE_UNITS = 16


def _check_layers(layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    if not isinstance(layers, Sequence) or len(layers) == 0:
        raise TypeError("layers must be a non-empty sequence of (W, b) pairs")
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, tuple) or len(layer) != 2:
            raise TypeError(f"layers[{i}] must be a (W, b) tuple, got {type(layer).__name__}")
        W, b = check_ndarray(f"layers[{i}] W", layer[0]), check_ndarray(f"layers[{i}] b", layer[1])
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(
                f"layers[{i}] must hold W of shape (out, in) and b of shape (out,), got {W.shape} and {b.shape}"
            )
        if checked and W.shape[1] != checked[-1][0].shape[0]:
            raise ValueError(
                f"layers[{i}] W expects {W.shape[1]} inputs but layers[{i - 1}] has {checked[-1][0].shape[0]} outputs"
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"layers[{i}] must hold finite W and b, got NaN or inf")
        checked.append((W.astype(np.float64), b.astype(np.float64)))
    return checked


def _network_logits(
    x: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray]],
    input_scales: dict[int, np.ndarray],
    activation: str,
) -> np.ndarray:
    """Logits for a stack of M masks; ``input_scales[i]``, shape ``(M, d_i)``, multiplies layer i's input."""
    a = x[None]  # (1, batch, d_0): broadcast against the M masks
    for i, (W, b) in enumerate(layers):
        if i in input_scales:
            a = a * input_scales[i][:, None, :]
        a = a @ W.T + b
        if i < len(layers) - 1:
            a = _ACTIVATIONS[activation](a)
    return a


def _check_sequence(name: str, value: Any, what: str) -> tuple[Any, ...]:
    """``value`` as a tuple, after checking it is a sequence (or 1-D array), not a string, iterator or set."""
    is_vector = isinstance(value, np.ndarray) and value.ndim == 1
    if isinstance(value, (str, bytes)) or not (isinstance(value, Sequence) or is_vector):
        raise TypeError(f"{name} must be a sequence of {what}, got {describe_value(value)}")
    return tuple(value)


def dropout_ensemble(
    x: np.ndarray,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    p: float,
    dropout_on: Sequence[int] = (0,),
    activation: str = "relu",
) -> DropoutEnsemble:
    r"""Enumerate all :math:`2^n` sub-networks of a small dropout network and average them exactly.

    The network is ``layers[0] -> activation -> layers[1] -> ... -> softmax``,
    each layer ``(W, b)`` computing :math:`Wa + b`. Inverted dropout acts on
    the *input* of every layer listed in ``dropout_on`` (0 = the network
    inputs, i = the hidden units feeding layer i); their units, in order, are
    the :math:`n` droppable units. Mask :math:`m` has probability
    :math:`(1-p)^{|m|} p^{\,n-|m|}`, and the ensemble combines the members'
    softmax outputs :math:`q_m`:

    .. math::
        \bar q = \sum_m P(m)\, q_m, \qquad
        G \propto \prod_m q_m^{P(m)} .

    When every dropped unit feeds linearly into the final softmax layer (a
    single linear-softmax layer, or dropout only before the last layer),
    :math:`G` equals the evaluation-mode output exactly, because the
    members' logits average to the evaluation-mode logits; with a
    non-linearity after a dropped unit it is only an approximation, and the
    arithmetic mean :math:`\bar q` never is exact.

    Args:
        x: ``(features,)`` or ``(batch, features)`` input.
        layers: ``(W, b)`` pairs, ``W`` of shape ``(out, in)``.
        p: drop probability, in [0, 1).
        dropout_on: a sequence of the indices of the layers whose inputs are
            dropped (n <= 16 units in all); ``None`` or a non-sequence raises ``TypeError``.
        activation: hidden non-linearity, ``"relu"`` or ``"tanh"``.

    Returns:
        A :class:`DropoutEnsemble`; its arrays drop the batch axis if ``x`` is 1-D.
        A member whose logits are so far apart that a class's probability
        underflows has log-probability ``-inf`` there; that is accepted (a
        probability of exactly 0) and carried into the geometric mean.
    """
    layers = _check_layers(layers)
    x = check_finite("x", check_ndarray("x", x)).astype(np.float64)
    p = check_probability("p", p)
    if x.ndim not in (1, 2) or x.shape[-1] != layers[0][0].shape[1]:
        width = layers[0][0].shape[1]
        raise ValueError(f"x must have shape ({width},) or (batch, {width}), got {x.shape}")
    if not isinstance(activation, str) or activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    dropout_on = _check_sequence("dropout_on", dropout_on, "layer indices such as (0,)")
    if (
        not dropout_on
        or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in dropout_on)
        or len(set(dropout_on)) != len(dropout_on)
        or not all(0 <= i < len(layers) for i in dropout_on)
    ):
        raise ValueError(f"dropout_on must list distinct layer indices in [0, {len(layers) - 1}], got {dropout_on!r}")
    dropout_on = tuple(sorted(int(i) for i in dropout_on))
    widths = [layers[i][0].shape[1] for i in dropout_on]
    if sum(widths) > _MAX_ENSEMBLE_UNITS:
        raise ValueError(f"at most {_MAX_ENSEMBLE_UNITS} droppable units can be enumerated, got {sum(widths)}")

    batch = x if x.ndim == 2 else x[None]
    masks = all_keep_masks(sum(widths))
    probabilities = keep_mask_probabilities(masks, p)
    scaled = masks / (1.0 - p)
    bounds = np.cumsum([0, *widths])
    input_scales = {layer: scaled[:, lo:hi] for layer, lo, hi in zip(dropout_on, bounds[:-1], bounds[1:])}
    with np.errstate(over="ignore", invalid="ignore"):
        member_logits = _network_logits(batch, layers, input_scales, activation)
        eval_logits = _network_logits(batch, layers, {}, activation)[0]
    if not (np.all(np.isfinite(member_logits)) and np.all(np.isfinite(eval_logits))):
        raise ValueError(f"the logits overflow float64: x and layers are too large (max |x| = {np.abs(x).max():g})")
    member_log_probs = log_softmax(member_logits)

    member_probs = np.exp(member_log_probs)
    arithmetic = np.tensordot(probabilities, member_probs, axes=1)
    geometric = normalized_geometric_mean(member_log_probs, probabilities)
    eval_output = softmax(eval_logits)
    if x.ndim == 1:
        member_probs, arithmetic, geometric, eval_output = (
            member_probs[:, 0], arithmetic[0], geometric[0], eval_output[0]
        )
    return DropoutEnsemble(masks, probabilities, member_probs, arithmetic, geometric, eval_output)


def running_mean_with_standard_error(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Running mean and its standard error after each of ``N`` samples.

    For :math:`k = 1..N`, :math:`\bar x_k = \frac1k\sum_{i\le k} x_i` and
    :math:`\mathrm{SE}_k = s_k/\sqrt{k}` with :math:`s_k` the sample standard
    deviation (``ddof=1``) of the first :math:`k` samples; ``SE_1`` is NaN
    (one sample says nothing about spread). By the law of large numbers
    :math:`\bar x_k` converges to the expectation, and the band
    :math:`\bar x_k \pm 2\,\mathrm{SE}_k` narrows like :math:`1/\sqrt{k}`.

    Args:
        samples: ``(N, ...)`` array, one sample per row.

    Returns:
        ``(running_mean, standard_error)``, both of ``samples``' shape, float64.
    """
    samples = check_finite("samples", check_ndarray("samples", samples)).astype(np.float64)
    if samples.ndim == 0 or samples.shape[0] == 0:
        raise ValueError(f"samples must have at least one row, got shape {samples.shape}")
    count = np.arange(1, samples.shape[0] + 1, dtype=np.float64).reshape((-1,) + (1,) * (samples.ndim - 1))
    # Shift by the first sample (avoids cancellation); scale by powers of two (exact) so no square overflows.
    s0 = _power_of_two_scale(samples)
    s1 = _power_of_two_scale(centred := samples / s0 - samples[:1] / s0)
    centred = centred / s1
    sum1, sum2 = np.cumsum(centred, axis=0), np.cumsum(centred**2, axis=0)
    with np.errstate(over="ignore"):
        running_mean = samples[:1] + sum1 / count * s1 * s0
    standard_error = np.full(samples.shape, np.nan)
    if samples.shape[0] > 1:
        k = count[1:]
        variance = np.maximum(sum2[1:] - sum1[1:] ** 2 / k, 0.0) / (k - 1.0)
        with np.errstate(over="ignore"):
            standard_error[1:] = np.sqrt(variance / k) * s1 * s0
    if not (np.all(np.isfinite(running_mean)) and np.all(np.isfinite(standard_error[1:]))):
        raise ValueError(f"samples spread too wide for float64: max |samples| = {np.abs(samples).max():g}")
    return running_mean, standard_error


def sample_dropout_regression_losses(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    p: float,
    n_samples: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    r"""Squared loss of a linear model under ``n_samples`` independent input-dropout masks.

    Sample ``s`` draws a fresh mask for every entry of ``X`` and returns
    :math:`\lVert y - \tilde X^{(s)} w\rVert^2` with
    :math:`\tilde x_{ij} = m_{ij} x_{ij}/(1-p)`. Their mean estimates the
    expected dropout loss of :func:`dropout_penalty`.

    Returns:
        ``(n_samples,)`` float64 array of losses.
    """
    X, w = _check_regression(X, w, "w")
    _, y = _check_regression(X, y, "y")
    p = check_probability("p", p)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    if n_samples > _MAX_SAMPLES:
        raise ValueError(f"n_samples must be at most {_MAX_SAMPLES}, got {n_samples}")
    rng = default_rng() if rng is None else check_generator("rng", rng)
    losses = np.empty(n_samples)
    with np.errstate(over="ignore", invalid="ignore"):
        for s in range(n_samples):
            X_dropped = _rescale_kept("X", X, rng.random(X.shape) >= p, p) if p > 0 else X
            losses[s] = np.sum((y - X_dropped @ w) ** 2)
    if not np.all(np.isfinite(losses)):
        raise ValueError(f"the squared losses overflow float64: X, y and w too large (max |X| = {np.abs(X).max():g})")
    return losses


# --- the masks and counts of one forward pass of a drawn dropout network ----------------------


def _check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = _check_sequence("layer_sizes", layer_sizes, "layer widths such as (3, 5, 2)")
    is_int = [not isinstance(n, (bool, np.bool_)) and isinstance(n, (int, np.integer)) for n in sizes]
    is_width = [ok and 1 <= n <= _MAX_LAYER_WIDTH for ok, n in zip(is_int, sizes)]
    if len(sizes) < 2 or not all(is_width):
        raise ValueError(f"layer_sizes must list at least two ints in [1, {_MAX_LAYER_WIDTH}], got {sizes!r}")
    return tuple(int(n) for n in sizes)


def _droppable_layers(n_layers: int, drop_inputs: bool) -> list[bool]:
    """Hidden layers are droppable, the input layer only on request, the output layer never."""
    return [drop_inputs if i == 0 else i < n_layers - 1 for i in range(n_layers)]


def draw_unit_uniforms(layer_sizes: Sequence[int], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One U(0, 1) number per unit, per layer: the randomness behind one dropout pass.

    A unit is dropped when its number falls below ``p`` (:func:`keep_masks`), so
    for fixed uniforms raising ``p`` only ever drops *more* units: a slider
    moves smoothly instead of reshuffling the whole picture.
    """
    sizes = _check_layer_sizes(layer_sizes)
    rng = check_generator("rng", rng)
    return tuple(rng.random(n) for n in sizes)


def keep_masks(
    layer_sizes: Sequence[int],
    uniforms: Sequence[np.ndarray],
    p: float,
    *,
    training: bool = True,
    drop_inputs: bool = False,
) -> tuple[np.ndarray, ...]:
    """Boolean keep masks, one per layer, as a dropout network uses them in one forward pass.

    In training mode a droppable unit is kept when its uniform is ``>= p``
    (probability ``1 - p``); hidden layers are droppable, the input layer only
    if ``drop_inputs``, the output layer never. In evaluation mode every unit is kept.
    """
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    uniforms = _check_sequence("uniforms", uniforms, "arrays, one per layer")
    uniforms = [real_array(f"uniforms[{i}]", u) for i, u in enumerate(uniforms)]
    if len(uniforms) != len(sizes) or any(u.shape != (n,) for u, n in zip(uniforms, sizes)):
        shapes = [u.shape for u in uniforms]
        want = [(n,) for n in sizes]
        raise ValueError(f"uniforms must hold one array per layer of layer_sizes, shapes {want}, got {shapes}")
    if not all(np.all((u >= 0) & (u <= 1)) for u in uniforms):
        raise ValueError("uniforms must hold numbers in [0, 1], got a value outside it (or NaN)")
    droppable = _droppable_layers(len(sizes), drop_inputs)
    return tuple(
        (u >= p) if (training and can_drop) else np.ones(n, dtype=bool)
        for u, n, can_drop in zip(uniforms, sizes, droppable)
    )


@dataclass(frozen=True)
class NetworkStatistics:
    """What one forward pass of a dropout network looks like.

    Attributes:
        training: whether the network is in training mode.
        p: the drop rate of the droppable layers.
        units, droppable_units, dropped_units: unit counts (all layers; droppable layers; dropped now).
        connections, active_connections: weights between consecutive layers; those whose two
            end units are both kept (the weights that carry signal and get a gradient in this pass).
        keep_probability: probability that a droppable unit survives (``1 - p`` in training, 1 in eval).
        survivor_scale: factor applied to kept units (``1 / (1 - p)`` in training, 1 in eval).
    """

    training: bool
    p: float
    units: int
    droppable_units: int
    dropped_units: int
    connections: int
    active_connections: int
    keep_probability: float
    survivor_scale: float

    def __post_init__(self) -> None:
        checked: dict[str, Any] = {"training": check_bool("training", self.training)}
        checked["p"] = check_probability("p", self.p)
        for name in ("units", "droppable_units", "dropped_units", "connections", "active_connections"):
            checked[name] = check_int(name, getattr(self, name), minimum=0)
        checked["keep_probability"] = check_probability("keep_probability", self.keep_probability, allow_one=True)
        checked["survivor_scale"] = scale = check_real("survivor_scale", self.survivor_scale)
        if not (math.isfinite(scale) and scale >= 1.0):
            raise ValueError(f"survivor_scale must be a finite number >= 1, got {scale!r}")
        set_record_fields(self, checked)


def network_statistics(
    layer_sizes: Sequence[int],
    masks: Sequence[np.ndarray],
    p: float,
    *,
    training: bool,
    drop_inputs: bool = False,
) -> NetworkStatistics:
    """Count dropped units and active connections of a fully connected network under ``masks``."""
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    masks = [np.asarray(m) for m in _check_sequence("masks", masks, "boolean arrays, one per layer")]
    if len(masks) != len(sizes) or any(m.dtype != np.bool_ or m.shape != (n,) for m, n in zip(masks, sizes)):
        got = [f"{m.dtype} {m.shape}" for m in masks]
        want = [(n,) for n in sizes]
        raise ValueError(f"masks must hold one boolean array per layer of layer_sizes, shapes {want}, got {got}")
    kept = [int(m.sum()) for m in masks]
    droppable = _droppable_layers(len(sizes), drop_inputs)
    return NetworkStatistics(
        training=training,
        p=p,
        units=sum(sizes),
        droppable_units=sum(n for n, d in zip(sizes, droppable) if d),
        dropped_units=sum(sizes) - sum(kept),
        connections=sum(a * b for a, b in zip(sizes[:-1], sizes[1:])),
        active_connections=sum(a * b for a, b in zip(kept[:-1], kept[1:])),
        keep_probability=1.0 - p if training else 1.0,
        survivor_scale=1.0 / (1.0 - p) if training else 1.0,
    )


def expected_active_connections(
    layer_sizes: Sequence[int], p: float, *, training: bool = True, drop_inputs: bool = False
) -> float:
    r"""Expected number of active connections, :math:`\sum_l n_l n_{l+1} q_l q_{l+1}`.

    :math:`n_l` is the width and :math:`q_l` the keep probability of layer l
    (``1 - p`` for a droppable layer in training mode, otherwise 1).
    """
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    keep = [1.0 - p if (training and d) else 1.0 for d in _droppable_layers(len(sizes), drop_inputs)]
    return float(sum(a * b * qa * qb for a, b, qa, qb in zip(sizes[:-1], sizes[1:], keep[:-1], keep[1:])))


# --- a tiny network: training-mode passes against the eval-mode output ------------------------


@dataclass(frozen=True)
class TinyNetwork:
    r"""A fixed input and a two-layer network with dropout on its hidden units.

    ``h = relu(W1 x + b1)``; training: ``y = W2 dropout(h) + b2``; eval: ``y = W2 h + b2``.
    Dropout feeds the last, linear layer, so :math:`\mathbb{E}[y_{\text{train}}] = y_{\text{eval}}` exactly.
    """

    x: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    def __post_init__(self) -> None:
        names = ("x", "W1", "b1", "W2", "b2")
        checked = {name: check_finite(name, record_array(name, getattr(self, name))) for name in names}
        x, W1, b1, W2, b2 = checked.values()
        for name, value, ndim in (("x", x, 1), ("W1", W1, 2), ("b1", b1, 1), ("W2", W2, 2), ("b2", b2, 1)):
            if value.ndim != ndim or value.size == 0:
                raise ValueError(f"{name} must be a non-empty {ndim}-D real array, got shape {value.shape}")
        fits = (("W1", 1, "x", 0), ("b1", 0, "W1", 0), ("W2", 1, "W1", 0), ("b2", 0, "W2", 0))
        for name, axis, match, match_axis in fits:  # each field against the one it is applied to
            if checked[name].shape[axis] != checked[match].shape[match_axis]:
                raise ValueError(f"{name} {checked[name].shape} does not fit {match} {checked[match].shape}")
        set_record_fields(self, checked)

    @property
    def hidden(self) -> np.ndarray:
        return np.maximum(self.W1 @ self.x + self.b1, 0.0)


def tiny_network(seed: int = 0, inputs: int = 5, hidden: int = 16, outputs: int = 3) -> TinyNetwork:
    """A reproducible :class:`TinyNetwork` with standard-normal input and ``1/sqrt(fan_in)``-scaled weights."""
    for name, value in (("inputs", inputs), ("hidden", hidden), ("outputs", outputs)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_TINY_WIDTH:
            raise ValueError(f"{name} must be a positive int of at most {_MAX_TINY_WIDTH}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(seed)
    return TinyNetwork(
        x=rng.standard_normal(inputs),
        W1=rng.standard_normal((hidden, inputs)) / np.sqrt(inputs),
        b1=np.full(hidden, 0.1),
        W2=rng.standard_normal((outputs, hidden)) / np.sqrt(hidden),
        b2=np.zeros(outputs),
    )


def _check_network(network: Any) -> TinyNetwork:
    if not isinstance(network, TinyNetwork):
        raise TypeError(f"network must be a TinyNetwork, got {describe_value(network)}")
    return network


def eval_mode_output(network: TinyNetwork) -> np.ndarray:
    """The deterministic evaluation-mode output (all hidden units, no scaling)."""
    network = _check_network(network)
    with np.errstate(over="ignore", invalid="ignore"):
        return check_finite("the outputs of network", network.W2 @ network.hidden + network.b2)


def training_mode_outputs(network: TinyNetwork, p: float, n_passes: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_passes, outputs)``: one training-mode output per pass, each with a fresh inverted-dropout mask.

    ``n_passes`` times the number of hidden units is limited to ten million.
    """
    network = _check_network(network)
    p = check_probability("p", p)
    if isinstance(n_passes, bool) or not isinstance(n_passes, (int, np.integer)) or n_passes < 1:
        raise ValueError(f"n_passes must be a positive int, got {n_passes!r}")
    if n_passes * network.b1.size > _MAX_PASS_ENTRIES:
        limit = _MAX_PASS_ENTRIES // network.b1.size
        raise ValueError(f"n_passes must be at most {limit} for {network.b1.size} hidden units, got {n_passes}")
    rng = check_generator("rng", rng)
    with np.errstate(over="ignore", invalid="ignore"):
        hidden = np.broadcast_to(network.hidden, (int(n_passes), network.hidden.size)).copy()
        dropped = _rescale_kept("network", hidden, rng.random(hidden.shape) >= p, p) if p > 0 else hidden
        return check_finite("the outputs of network", dropped @ network.W2.T + network.b2)

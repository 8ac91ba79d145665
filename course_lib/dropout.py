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
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from course_lib._random import default_rng
from course_lib._validation import check_bool, check_generator, check_ndarray, check_probability

__all__ = [
    "dropout_forward",
    "dropout_backward",
    "scaled_inference_dropout_forward",
    "inverted_dropout",
    "InvertedDropout",
    "all_keep_masks",
    "keep_mask_probabilities",
    "dropout_penalty",
    "dropout_regression_weights",
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
        (``training=False`` or ``p == 0``). ``out`` is a new array.

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
        return x.copy(), None
    mask = rng.random(x.shape) >= p
    out = np.multiply(x, mask, dtype=np.result_type(x, 1.0))
    out /= 1.0 - p
    return out, mask


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
        return grad_out.copy()
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask must be a boolean numpy.ndarray (True = kept) or None, got {got}")
    if mask.shape != grad_out.shape:
        raise ValueError(f"mask shape {mask.shape} differs from grad_out shape {grad_out.shape}")
    grad_in = np.multiply(grad_out, mask, dtype=np.result_type(grad_out, 1.0))
    grad_in /= 1.0 - p
    return grad_in


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
    x = check_ndarray("x", x)
    p = check_probability("p", p)
    training = check_bool("training", training)
    rng = default_rng() if rng is None else check_generator("rng", rng)
    if not training:
        return (x * (1.0 - p)).astype(np.result_type(x, 1.0), copy=False), None
    if p == 0.0:
        return x.astype(np.result_type(x, 1.0)), None
    mask = rng.random(x.shape) >= p
    return np.where(mask, x, 0).astype(np.result_type(x, 1.0), copy=False), mask


def inverted_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Inverted dropout on a tensor, differentiable by autograd.

    Draws :math:`m \sim \mathrm{Bernoulli}(1-p)` elementwise and returns
    :math:`x \odot m / (1-p)`. Autograd saves the scaled mask, so the backward
    pass multiplies the upstream gradient by the *same* :math:`m/(1-p)`.
    Same semantics as :func:`torch.nn.functional.dropout` (without ``inplace``).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    p = check_probability("p", p)
    training = check_bool("training", training)
    if not training or p == 0.0:
        return x
    scaled_mask = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator).div_(1.0 - p)
    return x * scaled_mask


class InvertedDropout(nn.Module):
    r"""Inverted dropout as a module: a from-scratch twin of :class:`torch.nn.Dropout`.

    During training each element is zeroed with probability :math:`p` and the
    survivors are scaled by :math:`1/(1-p)`:

    .. math::
        y = \frac{m \odot x}{1 - p}, \qquad m_i \sim \mathrm{Bernoulli}(1 - p),
        \qquad \mathbb{E}[y] = x .

    In evaluation mode (``module.eval()``) the module is the identity. A new
    mask is drawn on every forward call, from torch's global generator.

    Args:
        p: probability of an element being zeroed, in [0, 1). Default: 0.5.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> layer = InvertedDropout(p=0.2)
        >>> y = layer(torch.ones(3, 5))
        >>> layer.eval()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_probability("p", p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return inverted_dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


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
        raise TypeError("masks must be a 2-D boolean numpy.ndarray (one mask per row)")
    p = check_probability("p", p)
    kept = masks.sum(axis=1)
    return (1.0 - p) ** kept * p ** (masks.shape[1] - kept)


def _check_regression(X: np.ndarray, w_or_y: np.ndarray, name: str) -> None:
    check_ndarray("X", X)
    check_ndarray(name, w_or_y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    size = X.shape[1] if name == "w" else X.shape[0]
    if w_or_y.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match X {X.shape}, got {w_or_y.shape}")


def dropout_penalty(X: np.ndarray, w: np.ndarray, p: float) -> float:
    r"""The regulariser that input dropout adds to least squares (Wager et al., 2013).

    With inverted dropout on the inputs, :math:`\tilde x_{ij} = m_{ij} x_{ij}/(1-p)`,

    .. math::
        \mathbb{E}_m \lVert y - \tilde X w \rVert^2
        = \lVert y - X w \rVert^2 + \frac{p}{1-p} \sum_j w_j^2 \sum_i x_{ij}^2 ,

    an L2 penalty whose weight for feature j grows with that feature's
    energy :math:`\sum_i x_{ij}^2` -- data-dependent, unlike plain L2.
    Returns the second term.
    """
    _check_regression(X, w, "w")
    p = check_probability("p", p)
    return float(p / (1.0 - p) * np.sum(w**2 * np.sum(X**2, axis=0)))


def dropout_regression_weights(X: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    r"""Minimiser of the expected input-dropout least-squares loss (see :func:`dropout_penalty`).

    .. math::
        \hat w = \Big(X^\top X + \tfrac{p}{1-p}\,\mathrm{diag}(X^\top X)\Big)^{-1} X^\top y
    """
    _check_regression(X, y, "y")
    p = check_probability("p", p)
    gram = X.T @ X
    return np.linalg.solve(gram + p / (1.0 - p) * np.diag(np.diag(gram)), X.T @ y)

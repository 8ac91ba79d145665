r"""Trajectories of optimizers on 2-D toy losses, and the Adam vs AdamW demo problem.

:func:`optimizer_path` records the positions of one parameter vector over the
steps of any ``torch.optim.Optimizer`` on a small differentiable loss -- the
picture of how an optimizer moves that the Adam vs AdamW chapter draws.

The chapter's demo problem is the loss :func:`adam_demo_loss`,
:math:`\tfrac12 \sum_i s_i (w_i - c_i)^2`, whose two weights have gradient
scales 100 apart (:data:`ADAM_DEMO_SCALES`); :func:`adam_demo_loss_numpy` is
its NumPy twin for contour plots. :func:`adam_and_adamw_paths` runs
:class:`course_lib.optim.Adam` with L2 in the gradient and
:class:`course_lib.optim.AdamW` (decoupled decay) from the same start;
Adam + L2 converges to :func:`adam_demo_l2_optimum`, the minimum of the
loss plus :math:`\tfrac{\lambda}{2}\|w\|^2`. The ``ADAM_DEMO_*`` constants fix
the problem and the defaults of :class:`course_lib.widgets.adamw.AdamPathsDemo`,
which wires λ and η sliders to these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib._validation import check_int, check_non_negative, check_positive
from course_lib.optim import Adam, AdamW, effective_decay_rates

__all__ = [
    "optimizer_path",
    "ADAM_DEMO_SCALES",
    "ADAM_DEMO_OPTIMUM",
    "ADAM_DEMO_START",
    "ADAM_DEMO_STEPS",
    "ADAM_DEMO_STRENGTH",
    "ADAM_DEMO_LEARNING_RATE",
    "ADAM_DEMO_EXTENT",
    "ADAM_DEMO_LABELS",
    "adam_demo_loss",
    "adam_demo_loss_numpy",
    "adam_demo_l2_optimum",
    "adam_and_adamw_paths",
]


# --- trajectories for the 2-D demo ------------------------------------------------------------

def optimizer_path(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    start: Any,
    make_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
    steps: int,
) -> np.ndarray:
    """Positions of one parameter vector over ``steps`` optimizer steps on ``loss_fn``.

    Args:
        loss_fn: maps the position ``w`` (float64 tensor of shape ``(d,)``) to a scalar loss tensor.
        start: the initial position, 1-D array-like of length ``d >= 1``, finite.
        make_optimizer: builds an optimizer over the list of parameters it is
            given, e.g. ``lambda params: AdamW(params, lr=0.05, weight_decay=0.5)``.
        steps: number of steps, >= 1.

    Returns:
        A float64 array of shape ``(steps + 1, d)``; row 0 is ``start``.

    Raises:
        ValueError: if the loss or the position becomes non-finite (the message
            names the step).

    Example:
        >>> from course_lib.optim import SGD
        >>> path = optimizer_path(lambda w: (w**2).sum(), [1.0, -2.0], lambda ps: SGD(ps, lr=0.1), steps=3)
        >>> path.shape
        (4, 2)
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be callable, got {type(make_optimizer).__name__}")
    steps = check_int("steps", steps, minimum=1)
    try:
        start_array = np.array(start.detach().cpu() if isinstance(start, torch.Tensor) else start, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"start must be a 1-D array of real numbers, got {type(start).__name__}") from error
    if start_array.ndim != 1 or start_array.size == 0:
        raise ValueError(f"start must be a non-empty 1-D array, got shape {start_array.shape}")
    if not np.all(np.isfinite(start_array)):
        raise ValueError(f"start must be finite, got {start_array}")

    position = nn.Parameter(torch.tensor(start_array, dtype=torch.float64))
    optimizer = make_optimizer([position])
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not any(p is position for group in optimizer.param_groups for p in group["params"]):
        raise ValueError("make_optimizer must build the optimizer over the parameters it is given")

    path = np.empty((steps + 1, start_array.size))
    path[0] = start_array
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(position)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__} {getattr(loss, 'shape', '')}")
        if not torch.isfinite(loss).all():
            raise ValueError(f"the loss became non-finite ({loss.item()}) at step {step} of {steps}, at w = {path[step - 1]}")
        loss.backward()
        optimizer.step()
        path[step] = position.detach().numpy()
        if not np.all(np.isfinite(path[step])):
            raise ValueError(f"the position became non-finite at step {step} of {steps}: w = {path[step]}")
    return path


# --- the Adam vs AdamW demo problem: one loss, gradient scales 100 apart ----------------------

#: Curvatures s = (s₁, s₂) of the demo loss ½ Σᵢ sᵢ (wᵢ − cᵢ)²: at the same distance
#: from the optimum, w₁'s gradient is 100 times w₂'s.
ADAM_DEMO_SCALES = (10.0, 0.1)
#: The demo loss's unregularized optimum c.
ADAM_DEMO_OPTIMUM = (2.0, 2.0)
#: Where both optimizers start (the weights "at initialisation").
ADAM_DEMO_START = (0.0, 0.0)
ADAM_DEMO_STEPS = 300
ADAM_DEMO_STRENGTH = 0.3
ADAM_DEMO_LEARNING_RATE = 0.03
#: The region drawn: (w1_min, w1_max, w2_min, w2_max).
ADAM_DEMO_EXTENT = (-0.4, 2.6, -0.4, 2.6)
ADAM_DEMO_LABELS = ("Adam + L2", "AdamW")
_ADAM_DEMO_SCALES_TENSOR = torch.tensor(ADAM_DEMO_SCALES, dtype=torch.float64)
_ADAM_DEMO_OPTIMUM_TENSOR = torch.tensor(ADAM_DEMO_OPTIMUM, dtype=torch.float64)


def adam_demo_loss(w: torch.Tensor) -> torch.Tensor:
    r"""The demo's loss :math:`\tfrac12 \sum_i s_i (w_i - c_i)^2` at a ``(2,)`` tensor ``w`` (differentiable).

    ``s`` = :data:`ADAM_DEMO_SCALES`, ``c`` = :data:`ADAM_DEMO_OPTIMUM`; the
    gradient :math:`s_i (w_i - c_i)` of w₁ is 100 times that of w₂ at the same
    distance from ``c``. :func:`adam_demo_loss_numpy` is its NumPy twin.
    """
    if not isinstance(w, torch.Tensor) or w.shape != (2,) or not torch.is_floating_point(w):
        shape = getattr(w, "shape", type(w).__name__)
        raise ValueError(f"w must be a floating-point tensor of shape (2,), got {shape}")
    scales, optimum = _ADAM_DEMO_SCALES_TENSOR.to(w.dtype), _ADAM_DEMO_OPTIMUM_TENSOR.to(w.dtype)
    return 0.5 * (scales * (w - optimum) ** 2).sum()


def adam_demo_loss_numpy(w1: np.ndarray | float, w2: np.ndarray | float) -> np.ndarray:
    """:func:`adam_demo_loss` element-wise on NumPy arrays of w₁ and w₂ (e.g. a meshgrid, for contours)."""
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    if w1.shape != w2.shape:
        raise ValueError(f"w1 and w2 must have one shape, got {w1.shape} and {w2.shape}")
    (s1, s2), (c1, c2) = ADAM_DEMO_SCALES, ADAM_DEMO_OPTIMUM
    return 0.5 * (s1 * (w1 - c1) ** 2 + s2 * (w2 - c2) ** 2)


def adam_demo_l2_optimum(strength: float) -> np.ndarray:
    r"""Minimum of the demo loss plus :math:`\tfrac{\lambda}{2}\|w\|^2`: :math:`w_i = s_i c_i / (s_i + \lambda)`.

    Where Adam + L2 converges: its fixed point is where the L2 gradient
    :math:`s_i (w_i - c_i) + \lambda w_i` vanishes. Measured against its own
    curvature :math:`s_i`, coordinate i feels the penalty :math:`\lambda / s_i`:
    w₁ (large gradients) is hardly shrunk, w₂ (small gradients) strongly.
    """
    strength = check_non_negative("strength", strength)
    scales, optimum = np.array(ADAM_DEMO_SCALES), np.array(ADAM_DEMO_OPTIMUM)
    return scales * optimum / (scales + strength)


def adam_and_adamw_paths(
    strength: float,
    learning_rate: float,
    *,
    steps: int = ADAM_DEMO_STEPS,
    start: Sequence[float] = ADAM_DEMO_START,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Both paths of the Adam vs AdamW demo on :func:`adam_demo_loss`, and each optimizer's final decay rates.

    What :class:`course_lib.widgets.adamw.AdamPathsDemo` draws. Runs :func:`optimizer_path` with
    ``course_lib.optim.Adam(lr=learning_rate, weight_decay=strength)`` (L2 in the
    gradient) and with ``course_lib.optim.AdamW`` (decoupled), from the same start.

    Returns:
        ``(paths, decay_rates)``: label (:data:`ADAM_DEMO_LABELS`) -> ``(steps + 1, 2)``
        positions, and label -> ``(2,)`` decay per step after the last step
        (:func:`course_lib.optim.effective_decay_rates`: ηλ/(√v̂ + ε) for Adam + L2, ηλ for AdamW).
    """
    strength, learning_rate = check_non_negative("strength", strength), check_positive("learning_rate", learning_rate)
    paths, rates = {}, {}
    for label, optimizer_class in zip(ADAM_DEMO_LABELS, (Adam, AdamW)):
        made: list[torch.optim.Optimizer] = []

        def make_optimizer(params: list, optimizer_class: type = optimizer_class) -> torch.optim.Optimizer:
            made.append(optimizer_class(params, lr=learning_rate, weight_decay=strength))
            return made[-1]

        paths[label] = optimizer_path(adam_demo_loss, start, make_optimizer, steps)
        rates[label] = effective_decay_rates(made[0])[0].detach().numpy().copy()
    return paths, rates

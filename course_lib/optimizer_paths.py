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

from course_lib._validation import check_finite, check_int, check_non_negative, check_positive, describe_value, real_array, real_tensor
from course_lib.optim import Adam, AdamW, effective_decay_rates

__all__ = [
    "optimizer_path",
    "MAX_PATH_STEPS",
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

#: Most steps :func:`optimizer_path` takes: a path is a picture, and a bound keeps every call short.
MAX_PATH_STEPS = 10_000


def _check_steps(steps: Any) -> int:
    steps = check_int("steps", steps, minimum=1)
    if steps > MAX_PATH_STEPS:
        raise ValueError(f"steps must be at most MAX_PATH_STEPS = {MAX_PATH_STEPS}, got {steps}")
    return steps


def _check_start(start: Any) -> np.ndarray:
    """``start`` as a finite, non-empty 1-D float64 array (the dtype rule; a bool entry is a TypeError)."""
    if isinstance(start, (list, tuple)) and any(isinstance(x, (bool, np.bool_)) for x in start):
        raise TypeError(f"start must hold real numbers, got a bool in {describe_value(start)}")
    try:
        start_array = real_array("start", start)
    except TypeError as error:
        raise TypeError(f"start must be a 1-D array of real numbers, got {describe_value(start)}") from error
    if start_array.ndim != 1 or start_array.size == 0:
        raise ValueError(f"start must be a non-empty 1-D array, got shape {start_array.shape}")
    if not np.all(np.isfinite(start_array)):
        raise ValueError(f"start must be finite, got {start_array}")
    return start_array.astype(np.float64)

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
        steps: number of steps, an int in [1, :data:`MAX_PATH_STEPS`].

    Returns:
        A float64 array of shape ``(steps + 1, d)``; row 0 is ``start``.

    Raises:
        ValueError: if the loss or the position becomes non-finite (the message
            names the step; a non-finite loss at the start names ``start``).
        TypeError/ValueError: an error raised by ``make_optimizer`` or
            ``loss_fn`` themselves is re-raised naming them (the original chained).

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
    steps = _check_steps(steps)
    start_array = _check_start(start)

    position = nn.Parameter(torch.tensor(start_array, dtype=torch.float64))
    try:
        optimizer = make_optimizer([position])
    except (TypeError, ValueError) as error:
        raise type(error)(f"make_optimizer([parameter]) raised {type(error).__name__}: {error}") from error
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not any(p is position for group in optimizer.param_groups for p in group["params"]):
        raise ValueError("make_optimizer must build the optimizer over the parameters it is given")

    path = np.empty((steps + 1, start_array.size))
    path[0] = start_array
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        try:
            loss = loss_fn(position)
        except (TypeError, ValueError, RuntimeError) as error:
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"loss_fn(w) raised {type(error).__name__} at step {step} of {steps}: {error}") from error
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__} {getattr(loss, 'shape', '')}")
        if not torch.isfinite(loss).all():
            if step == 1:
                raise ValueError(f"the loss is non-finite ({loss.item()}) at the start: loss_fn(start) must be finite")
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

    ``w`` follows the dtype rule (integers → float64, float16 → float32; bool
    and complex are a TypeError) and must be finite; a loss that overflows is
    a ValueError.
    """
    w = real_tensor("w", w)
    if w.shape != (2,):
        raise ValueError(f"w must be a tensor of shape (2,), got shape {tuple(w.shape)}")
    if not bool(torch.isfinite(w.detach()).all()):
        raise ValueError(f"w must be finite, got {w.detach().tolist()}")
    scales, optimum = _ADAM_DEMO_SCALES_TENSOR.to(w.dtype), _ADAM_DEMO_OPTIMUM_TENSOR.to(w.dtype)
    loss = 0.5 * (scales * (w - optimum) ** 2).sum()
    if not bool(torch.isfinite(loss.detach())):
        raise ValueError(f"the loss overflows {w.dtype} at w = {w.detach().tolist()}")
    return loss


def adam_demo_loss_numpy(w1: np.ndarray | float, w2: np.ndarray | float) -> np.ndarray:
    """:func:`adam_demo_loss` element-wise on NumPy arrays of w₁ and w₂ (e.g. a meshgrid, for contours).

    ``w1`` and ``w2`` are real arrays (or numbers) of one shape, finite, computed in float64; a
    loss that overflows float64 is a ValueError.
    """
    w1, w2 = real_array("w1", w1), real_array("w2", w2)
    if w1.shape != w2.shape:
        raise ValueError(f"w1 and w2 must have one shape, got {w1.shape} and {w2.shape}")
    check_finite("w1", w1)
    check_finite("w2", w2)
    (s1, s2), (c1, c2) = ADAM_DEMO_SCALES, ADAM_DEMO_OPTIMUM
    with np.errstate(over="ignore", invalid="ignore"):
        loss = 0.5 * (s1 * (w1 - c1) ** 2 + s2 * (w2 - c2) ** 2)
    if not np.all(np.isfinite(loss)):
        raise ValueError("the loss overflows float64 for some (w1, w2): their magnitude is too large")
    return loss


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
    ``start`` is two finite weights; a path that diverges or overflows (huge
    ``strength`` or ``learning_rate``) is a ValueError naming both.

    Returns:
        ``(paths, decay_rates)``: label (:data:`ADAM_DEMO_LABELS`) -> ``(steps + 1, 2)``
        positions, and label -> ``(2,)`` decay per step after the last step
        (:func:`course_lib.optim.effective_decay_rates`: ηλ/(√v̂ + ε) for Adam + L2, ηλ for AdamW).
    """
    strength, learning_rate = check_non_negative("strength", strength), check_positive("learning_rate", learning_rate)
    steps = _check_steps(steps)
    start_array = _check_start(start)
    if start_array.shape != (2,):
        raise ValueError(f"start must hold the two weights (w1, w2), got shape {start_array.shape}")
    paths, rates = {}, {}
    for label, optimizer_class in zip(ADAM_DEMO_LABELS, (Adam, AdamW)):
        made: list[torch.optim.Optimizer] = []

        def make_optimizer(params: list, optimizer_class: type = optimizer_class) -> torch.optim.Optimizer:
            made.append(optimizer_class(params, lr=learning_rate, weight_decay=strength))
            return made[-1]

        try:
            paths[label] = optimizer_path(adam_demo_loss, start_array, make_optimizer, steps)
        except ValueError as error:
            raise ValueError(
                f"{label} with strength={strength!r} and learning_rate={learning_rate!r} does not give a finite path: {error}"
            ) from error
        rates[label] = effective_decay_rates(made[0])[0].detach().numpy().copy()
    return paths, rates

"""Valid calls of course_lib.optimizer_paths.

Paths are checked step by step against the update rule written out again in ``np.longdouble``
(SGD on a quadratic, for :func:`optimizer_path`) or against ``torch.optim``'s own Adam and AdamW
(for :func:`adam_and_adamw_paths`); the demo loss against its formula.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_lib import optimizer_paths as op
from course_lib.optim import SGD

from .runner import Case

_SCALES, _OPTIMUM = np.array(op.ADAM_DEMO_SCALES, np.longdouble), np.array(op.ADAM_DEMO_OPTIMUM, np.longdouble)


def _bowl(w: torch.Tensor) -> torch.Tensor:
    """½ Σ k wₖ² with k = 1, 2, …: gradient k wₖ."""
    return 0.5 * (torch.arange(1, len(w) + 1, dtype=w.dtype) * w**2).sum()


def _sgd(params):
    return SGD(params, lr=0.1)


def _verify_optimizer_path(path, kwargs) -> None:
    start = np.asarray(kwargs["start"].tolist() if hasattr(kwargs["start"], "tolist") else kwargs["start"], np.longdouble)
    steps = int(kwargs["steps"])
    assert path.dtype == np.float64 and path.shape == (steps + 1, start.size)
    np.testing.assert_array_equal(path[0], start.astype(np.float64))
    curvature = np.arange(1, start.size + 1, dtype=np.longdouble)
    expected = start.copy()
    for step in range(1, steps + 1):
        expected = expected - np.longdouble(0.1) * curvature * expected
        np.testing.assert_allclose(path[step], expected.astype(np.float64), rtol=1e-12, atol=1e-300, err_msg=f"step {step}")


def _demo_loss_reference(w1, w2):
    w1, w2 = np.asarray(w1, np.longdouble), np.asarray(w2, np.longdouble)
    return 0.5 * (_SCALES[0] * (w1 - _OPTIMUM[0]) ** 2 + _SCALES[1] * (w2 - _OPTIMUM[1]) ** 2)


def _verify_adam_demo_loss(loss, kwargs) -> None:
    w = kwargs["w"].detach()
    assert isinstance(loss, torch.Tensor) and loss.shape == () and loss.dtype in (torch.float32, torch.float64)
    expected = _demo_loss_reference(w[0].double().item(), w[1].double().item())
    rtol = 1e-12 if loss.dtype == torch.float64 else 1e-6
    np.testing.assert_allclose(loss.item(), float(expected), rtol=rtol, atol=1e-300)


def _verify_adam_demo_loss_numpy(loss, kwargs) -> None:
    w1, w2 = np.asarray(kwargs["w1"]), np.asarray(kwargs["w2"])
    expected = _demo_loss_reference(w1, w2)
    assert loss.dtype == np.float64 and loss.shape == expected.shape
    np.testing.assert_allclose(loss, expected.astype(np.float64), rtol=1e-13, atol=1e-300)


def _verify_l2_optimum(w, kwargs) -> None:
    strength = np.longdouble(float(kwargs["strength"]))
    expected = _SCALES * _OPTIMUM / (_SCALES + strength)
    assert w.shape == (2,) and w.dtype == np.float64
    np.testing.assert_allclose(w, expected.astype(np.float64), rtol=1e-14, atol=1e-300)
    # the L2 gradient s (w - c) + λ w vanishes at the optimum
    assert np.all(np.abs(_SCALES * (w - _OPTIMUM) + strength * w) <= 1e-12 * (1 + strength))


def _torch_path(optimizer_class, strength, learning_rate, steps, start):
    w = nn.Parameter(torch.tensor(start, dtype=torch.float64))
    optimizer = optimizer_class([w], lr=learning_rate, weight_decay=strength, foreach=False)
    path = [w.detach().clone().numpy()]
    for _ in range(steps):
        optimizer.zero_grad()
        op.adam_demo_loss(w).backward()
        optimizer.step()
        path.append(w.detach().clone().numpy())
    return np.array(path), optimizer.state[w]


def _verify_adam_and_adamw_paths(result, kwargs) -> None:
    paths, rates = result
    strength, learning_rate = float(kwargs["strength"]), float(kwargs["learning_rate"])
    steps = int(kwargs.get("steps", op.ADAM_DEMO_STEPS))
    start = [float(x) for x in np.asarray(kwargs.get("start", op.ADAM_DEMO_START), dtype=float)]
    assert list(paths) == list(op.ADAM_DEMO_LABELS) == list(rates)
    for label, torch_class in zip(op.ADAM_DEMO_LABELS, (torch.optim.Adam, torch.optim.AdamW)):
        expected, state = _torch_path(torch_class, strength, learning_rate, steps, start)
        np.testing.assert_allclose(paths[label], expected, rtol=1e-12, atol=1e-300, err_msg=label)
        if torch_class is torch.optim.AdamW:
            expected_rate = np.full(2, learning_rate * strength)
        else:
            v_hat = state["exp_avg_sq"].numpy() / (1 - 0.999 ** float(state["step"]))
            expected_rate = learning_rate * strength / (np.sqrt(v_hat) + 1e-8)
        np.testing.assert_allclose(rates[label], expected_rate, rtol=1e-12, atol=1e-300, err_msg=f"{label} rate")


CASES = [
    Case(
        "optimizer_paths.optimizer_path", op.optimizer_path,
        lambda: dict(loss_fn=_bowl, start=np.array([1.0, -2.0]), make_optimizer=_sgd, steps=3), _verify_optimizer_path,
    ),
    Case("optimizer_paths.adam_demo_loss", op.adam_demo_loss, lambda: dict(w=torch.tensor([0.5, 1.5], dtype=torch.float64)), _verify_adam_demo_loss),
    Case(
        "optimizer_paths.adam_demo_loss_numpy", op.adam_demo_loss_numpy,
        lambda: dict(w1=np.array([[0.0, 1.0], [2.0, 2.5]]), w2=np.array([[1.0, 1.0], [-0.5, 2.0]])), _verify_adam_demo_loss_numpy,
    ),
    Case("optimizer_paths.adam_demo_l2_optimum", op.adam_demo_l2_optimum, lambda: dict(strength=0.3), _verify_l2_optimum),
    Case(
        "optimizer_paths.adam_and_adamw_paths", op.adam_and_adamw_paths,
        lambda: dict(strength=0.3, learning_rate=0.03, steps=20, start=(0.5, 0.0)), _verify_adam_and_adamw_paths, examples=6,
    ),
]

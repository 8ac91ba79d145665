"""Valid calls of course_lib.regularizers, and the property each result must have.

References are computed independently in ``np.longdouble`` (extended precision on x86-64, whose
exponent range covers the 1e±200 magnitudes of the catalogue) so an overflow in float64 cannot
hide in the reference too.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import regularizers

from .runner import Case

LD = np.longdouble


def _ld(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().double().numpy()
    return np.asarray(value, dtype=LD)


def _close(actual, expected, rtol: float = 1e-9, atol: float = 0.0) -> None:
    single = isinstance(actual, torch.Tensor) and actual.dtype == torch.float32
    tiny = LD(np.finfo(np.float32 if single else np.float64).tiny)  # results below it may have underflowed to 0
    actual, expected = _ld(actual), _ld(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert np.all(np.abs(actual - expected) <= rtol * np.abs(expected) + max(LD(atol), 4 * tiny)), (actual, expected)


def _float(value) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def _spd() -> np.ndarray:
    return np.array([[2.0, 0.5], [0.5, 1.0]])


def _verify_quadratic_optimum(w, kwargs) -> None:
    H, c, strength = _ld(kwargs["hessian"]), _ld(kwargs["center"]), LD(kwargs["strength"])
    w = _ld(w)
    assert w.shape == c.shape
    gradient = H @ (w - c)
    scale = np.abs(H).max() * max(np.abs(c).max(), np.abs(w).max(), 1.0)
    if kwargs.get("norm", "l2") == "l2":
        assert np.all(np.abs(gradient + strength * w) <= 1e-9 * (scale + strength * np.abs(w).max())), "KKT"
        return
    on = w != 0
    assert np.all(np.abs(gradient[on] + strength * np.sign(w[on])) <= 1e-9 * (scale + strength)), "KKT on the support"
    assert np.all(np.abs(gradient[~on]) <= strength + 1e-9 * scale), "KKT off the support"


def _verify_hessian_shrinkage(factors, kwargs) -> None:
    values, alpha = _ld(kwargs["eigenvalues"]), LD(kwargs["weight_decay"])
    _close(factors, values / (values + alpha))


def _verify_l2_optimum(w, kwargs) -> None:
    _verify_quadratic_optimum(w, dict(hessian=kwargs["hessian"], center=kwargs["w_star"], strength=kwargs["weight_decay"]))


def _verify_rotated_hessian(H, kwargs) -> None:
    eigenvalues = np.sort(np.asarray(kwargs.get("eigenvalues", (1.0, 8.0)), dtype=float))
    assert H.shape == (2, 2) and np.allclose(H, H.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), eigenvalues, rtol=1e-9)
    angle = math.radians(float(kwargs.get("angle_degrees", 30.0)) % 360.0)
    flat = np.array([math.cos(angle), math.sin(angle)])  # the direction of the first eigenvalue
    np.testing.assert_allclose(H @ flat, float(np.asarray(kwargs.get("eigenvalues", (1.0, 8.0)), dtype=float)[0]) * flat, rtol=1e-9, atol=1e-9 * eigenvalues.max())


def _verify_shrinkage_percent(percent, kwargs) -> None:
    optimum, center = _ld(kwargs["optimum"]), _ld(kwargs["center"])
    scale = max(np.abs(optimum).max(), np.abs(center).max())
    expected = 100 * (1 - np.sqrt(np.sum((optimum / scale) ** 2)) / np.sqrt(np.sum((center / scale) ** 2)))
    assert isinstance(percent, float)
    _close(percent, expected, atol=1e-9)


def _verify_soft_threshold(out, kwargs) -> None:
    w, t = kwargs["w"], LD(kwargs["threshold"])
    v = _ld(w)
    expected = np.sign(v) * np.maximum(np.abs(v) - t, 0)
    if isinstance(w, torch.Tensor):
        assert isinstance(out, torch.Tensor) and out.is_floating_point() and out.shape == w.shape
        _close(out, expected, rtol=1e-6 if out.dtype == torch.float32 else 1e-12)
    elif isinstance(w, np.ndarray):
        assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == w.shape
        _close(out, expected, rtol=1e-12)
    else:
        assert isinstance(out, float)
        _close(out, expected, rtol=1e-12)
    assert not np.any(np.signbit(_ld(out)) & (_ld(out) == 0)), "-0.0 in the result"


def _penalty_reference(weights, power: int) -> LD:
    items = [weights] if isinstance(weights, (np.ndarray, torch.Tensor)) else list(weights)
    return sum((np.abs(_ld(item)) ** power).sum() for item in items)


def _verify_penalty(power: int, factor: float):
    def verify(value, kwargs) -> None:
        weights = kwargs["weights"]
        expected = LD(factor) * LD(kwargs["strength"]) * _penalty_reference(weights, power)
        torch_input = isinstance(weights, torch.Tensor) or (
            not isinstance(weights, np.ndarray) and all(isinstance(item, torch.Tensor) for item in weights)
        )
        if torch_input:
            assert isinstance(value, torch.Tensor) and value.ndim == 0
            _close(value, expected, rtol=1e-5 if value.dtype == torch.float32 else 1e-12)
        else:
            assert isinstance(value, float)
            _close(value, expected, rtol=1e-12)

    return verify


def _verify_step(decoupled: bool):
    def verify(out, kwargs) -> None:
        w, grad = _ld(kwargs["w"]), _ld(kwargs["grad"])
        lr, wd = LD(kwargs["lr"]), LD(kwargs["weight_decay"])
        expected = (1 - lr * wd) * w - lr * grad if decoupled else w - lr * (grad + wd * w)
        assert type(out) is type(kwargs["w"]) or isinstance(out, type(kwargs["w"]))
        low_precision = isinstance(out, torch.Tensor) and out.dtype == torch.float32
        _close(out, expected, rtol=1e-5 if low_precision else 1e-12, atol=1e-12 * float(np.abs(expected).max(initial=0)))

    return verify


def _verify_decay_factor(factor, kwargs) -> None:
    _close(factor, 1 - LD(kwargs["lr"]) * LD(kwargs["weight_decay"]), atol=1e-16)
    assert 0.0 <= factor <= 1.0


def _verify_decay_after_steps(value, kwargs) -> None:
    factor = 1 - LD(kwargs["lr"]) * LD(kwargs["weight_decay"])
    steps = int(kwargs["steps"])
    assert 0.0 <= value <= 1.0
    if steps < 10**6:
        _close(value, factor ** LD(steps), rtol=1e-9)


def _verify_quotient(name: str):
    def verify(value, kwargs) -> None:
        _close(value, LD(kwargs.get("noise_variance", 1.0)) / LD(kwargs[name]), rtol=1e-15)

    return verify


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _verify_weight_matrices(weights, kwargs) -> None:
    expected = [m.weight for m in kwargs["model"].modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    assert len(weights) == len(expected) and all(a is b for a, b in zip(weights, expected))


def _verify_pruned(pruned, kwargs) -> None:
    model, fraction = kwargs["model"], float(kwargs["fraction"])
    original = [w.detach() for w in regularizers.weight_matrices(model)]
    new = [w.detach() for w in regularizers.weight_matrices(pruned)]
    assert pruned is not model and len(new) == len(original)
    total = sum(w.numel() for w in original)
    zeros = sum(int((w == 0).sum()) for w in new)
    assert zeros >= round(fraction * total), (zeros, fraction, total)
    kept = torch.cat([w[w != 0].abs() for w in new]) if zeros < total else torch.zeros(0)
    removed = torch.cat([o[(n == 0) & (o != 0)].abs() for o, n in zip(original, new)])
    if kept.numel() and removed.numel():
        assert removed.max() <= kept.min(), "a larger weight was pruned before a smaller one"
    for o, n in zip(original, new):
        assert torch.equal(n[n != 0], o[n != 0]), "surviving weights changed"


CASES = [
    Case(
        "regularizers.penalized_quadratic_optimum",
        regularizers.penalized_quadratic_optimum,
        lambda: dict(hessian=_spd(), center=np.array([1.0, -2.0]), strength=0.7, norm="l2"),
        _verify_quadratic_optimum,
    ),
    Case(
        "regularizers.penalized_quadratic_optimum[l1]",
        regularizers.penalized_quadratic_optimum,
        lambda: dict(hessian=_spd(), center=np.array([1.0, -0.2]), strength=0.7, norm="l1"),
        _verify_quadratic_optimum,
    ),
    Case(
        "regularizers.hessian_shrinkage",
        regularizers.hessian_shrinkage,
        lambda: dict(eigenvalues=np.array([100.0, 1.0, 0.01]), weight_decay=1.0),
        _verify_hessian_shrinkage,
    ),
    Case(
        "regularizers.l2_regularized_optimum",
        regularizers.l2_regularized_optimum,
        lambda: dict(hessian=_spd(), w_star=np.array([1.0, -2.0]), weight_decay=0.3),
        _verify_l2_optimum,
    ),
    Case(
        "regularizers.rotated_hessian",
        regularizers.rotated_hessian,
        lambda: dict(eigenvalues=(1.0, 8.0), angle_degrees=30.0),
        _verify_rotated_hessian,
    ),
    Case(
        "regularizers.shrinkage_percent",
        regularizers.shrinkage_percent,
        lambda: dict(optimum=np.array([0.5, -1.0]), center=np.array([1.0, -2.0])),
        _verify_shrinkage_percent,
    ),
    Case(
        "regularizers.soft_threshold",
        regularizers.soft_threshold,
        lambda: dict(w=np.array([-2.0, -0.5, 0.0, 0.3, 1.5]), threshold=1.0),
        _verify_soft_threshold,
    ),
    Case(
        "regularizers.soft_threshold[torch]",
        regularizers.soft_threshold,
        lambda: dict(w=torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5]), threshold=1.0),
        _verify_soft_threshold,
    ),
    Case(
        "regularizers.l2_penalty",
        regularizers.l2_penalty,
        lambda: dict(weights=np.array([[3.0, -4.0], [1.0, 0.5]]), strength=0.1),
        _verify_penalty(2, 0.5),
    ),
    Case(
        "regularizers.l2_penalty[parameters]",
        regularizers.l2_penalty,
        lambda: dict(weights=list(_model().parameters()), strength=0.1),
        _verify_penalty(2, 0.5),
    ),
    Case(
        "regularizers.l2_penalty[torch]",
        regularizers.l2_penalty,
        lambda: dict(weights=torch.tensor([[3.0, -4.0], [1.0, 0.5]]), strength=0.1),
        _verify_penalty(2, 0.5),
    ),
    Case(
        "regularizers.l1_penalty",
        regularizers.l1_penalty,
        lambda: dict(weights=np.array([[3.0, -4.0], [1.0, 0.5]]), strength=0.1),
        _verify_penalty(1, 1.0),
    ),
    Case(
        "regularizers.l1_penalty[torch]",
        regularizers.l1_penalty,
        lambda: dict(weights=torch.tensor([[3.0, -4.0], [1.0, 0.5]]), strength=0.1),
        _verify_penalty(1, 1.0),
    ),
    Case(
        "regularizers.sgd_l2_step",
        regularizers.sgd_l2_step,
        lambda: dict(w=np.array([1.0, -2.0, 0.5]), grad=np.array([0.1, 0.3, -0.2]), lr=0.1, weight_decay=0.01),
        _verify_step(decoupled=False),
    ),
    Case(
        "regularizers.sgd_decoupled_step",
        regularizers.sgd_decoupled_step,
        lambda: dict(w=torch.tensor([1.0, -2.0, 0.5]), grad=torch.tensor([0.1, 0.3, -0.2]), lr=0.1, weight_decay=0.01),
        _verify_step(decoupled=True),
    ),
    Case("regularizers.decay_factor", regularizers.decay_factor, lambda: dict(lr=0.1, weight_decay=0.01), _verify_decay_factor),
    Case(
        "regularizers.decay_after_steps",
        regularizers.decay_after_steps,
        lambda: dict(lr=0.1, weight_decay=0.01, steps=1000),
        _verify_decay_after_steps,
    ),
    Case(
        "regularizers.l2_strength_from_prior_variance",
        regularizers.l2_strength_from_prior_variance,
        lambda: dict(variance=0.01, noise_variance=2.0),
        _verify_quotient("variance"),
    ),
    Case(
        "regularizers.prior_variance_from_l2_strength",
        regularizers.prior_variance_from_l2_strength,
        lambda: dict(strength=100.0, noise_variance=2.0),
        _verify_quotient("strength"),
    ),
    Case(
        "regularizers.l1_strength_from_laplace_scale",
        regularizers.l1_strength_from_laplace_scale,
        lambda: dict(scale=0.5, noise_variance=2.0),
        _verify_quotient("scale"),
    ),
    Case(
        "regularizers.laplace_scale_from_l1_strength",
        regularizers.laplace_scale_from_l1_strength,
        lambda: dict(strength=4.0, noise_variance=2.0),
        _verify_quotient("strength"),
    ),
    Case("regularizers.weight_matrices", regularizers.weight_matrices, lambda: dict(model=_model()), _verify_weight_matrices),
    Case(
        "regularizers.prune_smallest_weights",
        regularizers.prune_smallest_weights,
        lambda: dict(model=_model(), fraction=0.3),
        _verify_pruned,
    ),
]

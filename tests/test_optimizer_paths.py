"""Tests for course_lib.optimizer_paths: optimizer_path, and the demo loss and paths of the Adam-vs-AdamW chapter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.optim import SGD, Adam, AdamW, effective_decay_rates
from course_lib.optimizer_paths import (
    ADAM_DEMO_LABELS,
    ADAM_DEMO_OPTIMUM,
    ADAM_DEMO_SCALES,
    ADAM_DEMO_START,
    ADAM_DEMO_STEPS,
    adam_and_adamw_paths,
    adam_demo_l2_optimum,
    adam_demo_loss,
    adam_demo_loss_numpy,
    optimizer_path,
)

OPTIMUM = np.array(ADAM_DEMO_OPTIMUM)


# --- optimizer_path ---------------------------------------------------------------------------

def elongated_bowl(w: torch.Tensor) -> torch.Tensor:
    return 0.5 * (w[0] ** 2 + 25.0 * w[1] ** 2)


def test_optimizer_path_shape_start_and_agreement_with_a_hand_loop() -> None:
    path = optimizer_path(elongated_bowl, [1.5, -1.0], lambda ps: SGD(ps, lr=0.02, momentum=0.5), steps=30)
    assert path.shape == (31, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [1.5, -1.0])
    w = torch.tensor([1.5, -1.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.02, momentum=0.5, foreach=False)
    for step in range(30):
        optimizer.zero_grad()
        elongated_bowl(w).backward()
        optimizer.step()
        np.testing.assert_array_equal(path[step + 1], w.detach().numpy())
    assert np.linalg.norm(path[-1]) < np.linalg.norm(path[0])


def test_optimizer_path_adam_l2_converges_to_the_l2_optimum_and_adamw_elsewhere() -> None:
    def shifted_bowl(w: torch.Tensor) -> torch.Tensor:  # minimum at (2, 1), curvatures 1 and 25
        return 0.5 * ((w[0] - 2.0) ** 2 + 25.0 * (w[1] - 1.0) ** 2)

    adam = optimizer_path(shifted_bowl, [0.0, 0.0], lambda ps: Adam(ps, lr=0.05, weight_decay=0.2), steps=400)
    adamw = optimizer_path(shifted_bowl, [0.0, 0.0], lambda ps: AdamW(ps, lr=0.05, weight_decay=0.2), steps=400)
    # Adam + L2 minimises loss + (0.2/2)|w|^2: the minimum (2/1.2, 25/25.2)
    np.testing.assert_allclose(adam[-1], [2.0 / 1.2, 25.0 / 25.2], atol=1e-6)
    assert np.abs(adam[-1] - adamw[-1]).max() > 0.05


def test_optimizer_path_reports_divergence_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"non-finite .* at step \d+ of 500"):
        optimizer_path(lambda w: torch.exp(w**2).sum(), [3.0], lambda ps: SGD(ps, lr=10.0), steps=500)
    with pytest.raises(ValueError, match="steps must be an int >= 1, got 0"):
        optimizer_path(elongated_bowl, [1.0, 1.0], lambda ps: SGD(ps, lr=0.1), steps=0)
    with pytest.raises(ValueError, match=r"start must be a non-empty 1-D array, got shape \(2, 1\)"):
        optimizer_path(elongated_bowl, [[1.0], [1.0]], lambda ps: SGD(ps, lr=0.1), steps=1)
    with pytest.raises(ValueError, match="start must be finite"):
        optimizer_path(elongated_bowl, [math.inf, 1.0], lambda ps: SGD(ps, lr=0.1), steps=1)
    with pytest.raises(TypeError, match="make_optimizer must return a torch.optim.Optimizer"):
        optimizer_path(elongated_bowl, [1.0, 1.0], lambda ps: ps, steps=1)
    with pytest.raises(ValueError, match="over the parameters it is given"):
        optimizer_path(elongated_bowl, [1.0, 1.0], lambda ps: SGD([nn.Parameter(torch.zeros(1))], lr=0.1), steps=1)
    with pytest.raises(TypeError, match="loss_fn must return a scalar tensor"):
        optimizer_path(lambda w: w * 2, [1.0, 1.0], lambda ps: SGD(ps, lr=0.1), steps=1)


# --- the Adam vs AdamW demo problem: the reference paths of torch.optim -----------------------

def _torch_reference_paths(strength: float, learning_rate: float, steps: int = ADAM_DEMO_STEPS) -> dict:
    """The two paths with the torch.optim built-ins instead of course_lib.optim."""
    makers = {
        "Adam + L2": lambda params: torch.optim.Adam(params, lr=learning_rate, weight_decay=strength),
        "AdamW": lambda params: torch.optim.AdamW(params, lr=learning_rate, weight_decay=strength),
    }
    return {label: optimizer_path(adam_demo_loss, ADAM_DEMO_START, make, steps) for label, make in makers.items()}


def _assert_paths_match_torch(paths: dict, strength: float, learning_rate: float) -> None:
    reference = _torch_reference_paths(strength, learning_rate)
    assert list(paths) == list(ADAM_DEMO_LABELS)
    for label in ADAM_DEMO_LABELS:
        assert paths[label].shape == (ADAM_DEMO_STEPS + 1, 2)
        np.testing.assert_allclose(paths[label], reference[label], rtol=0, atol=1e-12)


# --- the demo loss ---------------------------------------------------------------------------


def test_demo_loss_and_its_numpy_twin_agree():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1.0, 3.0, size=(20, 2))
    torch_values = [adam_demo_loss(torch.tensor(p)).item() for p in points]
    np.testing.assert_allclose(adam_demo_loss_numpy(points[:, 0], points[:, 1]), torch_values, rtol=1e-14)
    assert adam_demo_loss(torch.tensor(ADAM_DEMO_OPTIMUM, dtype=torch.float64)).item() == 0.0
    assert adam_demo_loss_numpy(0.0, 0.0) == pytest.approx(0.5 * (10.0 * 4 + 0.1 * 4))
    W1, W2 = np.meshgrid(np.linspace(0, 1, 3), np.linspace(0, 2, 4))
    assert adam_demo_loss_numpy(W1, W2).shape == (4, 3)


def test_demo_loss_gradient_of_w1_is_100_times_that_of_w2():
    assert ADAM_DEMO_SCALES[0] / ADAM_DEMO_SCALES[1] == pytest.approx(100.0)
    w = torch.tensor([1.5, 1.5], dtype=torch.float64, requires_grad=True)  # equally far from c = (2, 2)
    adam_demo_loss(w).backward()
    np.testing.assert_allclose(w.grad.numpy(), [-5.0, -0.05], rtol=1e-14)
    assert adam_demo_loss(torch.zeros(2, dtype=torch.float32)).dtype == torch.float32


def test_demo_loss_validates_its_input():
    with pytest.raises(ValueError, match=r"w must be a tensor of shape \(2,\), got shape \(3,\)"):
        adam_demo_loss(torch.zeros(3))
    with pytest.raises(TypeError, match="w must be a torch.Tensor, got ndarray"):
        adam_demo_loss(np.zeros(2))
    with pytest.raises(TypeError, match="w must hold real numbers"):
        adam_demo_loss(torch.zeros(2, dtype=torch.bool))
    with pytest.raises(ValueError, match="w must be finite"):
        adam_demo_loss(torch.tensor([math.nan, 0.0]))
    with pytest.raises(ValueError, match="the loss overflows torch.float64"):
        adam_demo_loss(torch.tensor([1e200, 0.0], dtype=torch.float64))
    # the dtype rule: integers are computed in float64, float16 in float32
    assert adam_demo_loss(torch.tensor([1, 3])).item() == adam_demo_loss(torch.tensor([1.0, 3.0], dtype=torch.float64)).item()
    assert adam_demo_loss(torch.tensor([0.5, 1.0], dtype=torch.float16)).dtype == torch.float32
    with pytest.raises(ValueError, match="the loss overflows float64"):
        adam_demo_loss_numpy(np.array([1e200]), np.array([0.0]))
    with pytest.raises(TypeError, match="w1 must hold real numbers"):
        adam_demo_loss_numpy(np.array([True]), np.array([0.0]))
    with pytest.raises(ValueError, match="w2 must be finite"):
        adam_demo_loss_numpy(np.array([0.0]), np.array([math.inf]))
    with pytest.raises(ValueError, match="w1 and w2 must have one shape"):
        adam_demo_loss_numpy(np.zeros(2), np.zeros(3))


def test_l2_optimum_zeroes_the_penalized_gradient():
    for strength in (0.0, 0.3, 1.0):
        w = adam_demo_l2_optimum(strength)
        gradient = np.array(ADAM_DEMO_SCALES) * (w - OPTIMUM) + strength * w
        np.testing.assert_allclose(gradient, 0.0, atol=1e-14)
    np.testing.assert_allclose(adam_demo_l2_optimum(0.3), [20 / 10.3, 0.5])
    with pytest.raises(ValueError, match="strength must be a finite number >= 0"):
        adam_demo_l2_optimum(-0.1)


# --- the two paths -------------------------------------------------------------------------------


def test_paths_match_the_torch_built_ins_and_report_the_decay_rates():
    paths, rates = adam_and_adamw_paths(0.3, 0.03)
    _assert_paths_match_torch(paths, 0.3, 0.03)
    np.testing.assert_array_equal(paths["AdamW"][0], ADAM_DEMO_START)
    np.testing.assert_allclose(rates["AdamW"], [0.03 * 0.3] * 2, rtol=1e-15)
    # Adam + L2: the decay rate of torch's own optimizer after the same steps
    optimizers = []

    def make(params):
        optimizers.append(torch.optim.Adam(params, lr=0.03, weight_decay=0.3))
        return optimizers[-1]

    optimizer_path(adam_demo_loss, ADAM_DEMO_START, make, ADAM_DEMO_STEPS)
    np.testing.assert_allclose(rates["Adam + L2"], effective_decay_rates(optimizers[0])[0].numpy(), rtol=1e-12)


def test_without_weight_decay_the_two_optimizers_coincide():
    paths, rates = adam_and_adamw_paths(0.0, 0.05, steps=50)
    np.testing.assert_array_equal(paths["Adam + L2"], paths["AdamW"])
    np.testing.assert_array_equal(rates["Adam + L2"], [0.0, 0.0])


def test_paths_accept_steps_and_start_and_validate_them():
    paths, _ = adam_and_adamw_paths(0.5, 0.01, steps=7, start=(1.0, -1.0))
    for path in paths.values():
        assert path.shape == (8, 2)
        np.testing.assert_array_equal(path[0], [1.0, -1.0])
    with pytest.raises(ValueError, match="strength must be a finite number >= 0"):
        adam_and_adamw_paths(-1.0, 0.01)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        adam_and_adamw_paths(0.1, 0.0)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        adam_and_adamw_paths(0.1, 0.01, steps=0)


# --- issue 12: bad input found by the bad-input tests ------------------------------------------


def _sgd(params):
    return SGD(params, lr=0.1)


@pytest.mark.parametrize(
    ("start", "error", "message"),
    [
        (np.array([True, False]), TypeError, "start must be a 1-D array of real numbers"),
        ([True, 0.0], TypeError, "start must hold real numbers, got a bool"),
        (np.array([1.0 + 1j, 0.0]), TypeError, "start must be a 1-D array of real numbers"),
        (np.array(["1.0", "2.0"]), TypeError, "start must be a 1-D array of real numbers"),
        ([10**400, 0.0], TypeError, "start must be a 1-D array of real numbers"),
        (np.array([1e200, 0.0]), ValueError, r"the loss is non-finite \(inf\) at the start: loss_fn\(start\) must be finite"),
    ],
)
def test_optimizer_path_checks_start_under_the_dtype_rule(start, error, message):
    with pytest.raises(error, match=message):
        optimizer_path(elongated_bowl, start, _sgd, steps=1)


def test_optimizer_path_bounds_steps_and_names_errors_of_the_callables():
    with pytest.raises(ValueError, match=r"steps must be at most MAX_PATH_STEPS = 10000, got 9223372036854775808"):
        optimizer_path(elongated_bowl, [1.0, 1.0], _sgd, steps=2**63)
    with pytest.raises(TypeError, match=r"make_optimizer\(\[parameter\]\) raised TypeError"):
        optimizer_path(elongated_bowl, [1.0, 1.0], int, steps=1)
    with pytest.raises(ValueError, match=r"loss_fn\(w\) raised ValueError at step 1 of 1: only one element tensors"):
        optimizer_path(int, [1.0, 1.0], _sgd, steps=1)
    # integer starts are computed in float64
    np.testing.assert_array_equal(optimizer_path(elongated_bowl, [1, 2], _sgd, steps=2), optimizer_path(elongated_bowl, [1.0, 2.0], _sgd, steps=2))


def test_adam_and_adamw_paths_name_strength_and_learning_rate_when_a_path_diverges():
    with pytest.raises(ValueError, match=r"Adam \+ L2 with strength=1e\+300 and learning_rate=0.03 does not give a finite path"):
        adam_and_adamw_paths(1e300, 0.03, steps=20)
    with pytest.raises(ValueError, match=r"with strength=0.3 and learning_rate=1e\+300 does not give a finite path"):
        adam_and_adamw_paths(0.3, 1e300, steps=20)
    with pytest.raises(ValueError, match=r"start must hold the two weights \(w1, w2\), got shape \(3,\)"):
        adam_and_adamw_paths(0.3, 0.03, steps=2, start=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="steps must be at most MAX_PATH_STEPS"):
        adam_and_adamw_paths(0.3, 0.03, steps=10**400)

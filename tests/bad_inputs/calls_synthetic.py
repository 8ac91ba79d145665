"""Valid calls of course_lib.synthetic, and the property each result must have."""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib import synthetic

from .calls_data import _check_stratified
from .runner import Case


def _problem_kwargs() -> dict:
    X_train = np.array([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.0], [3.0, 1.0]])
    X_test = np.array([[0.5, 0.5], [-2.0, 1.0], [1.5, -1.0]])
    w = np.array([2.0, -1.0])
    return dict(X_train=X_train, y_train=X_train @ w + 0.1, X_test=X_test, y_test=X_test @ w - 0.1,
                true_weights=w, noise_std=0.5)


def _verify_problem(problem, kwargs) -> None:
    for name in ("X_train", "y_train", "X_test", "y_test", "true_weights"):
        field = getattr(problem, name)
        expected = np.asarray(kwargs[name].numpy() if isinstance(kwargs[name], torch.Tensor) else kwargs[name])
        assert isinstance(field, np.ndarray) and field.dtype == np.float64
        np.testing.assert_array_equal(field, expected.astype(np.float64))
    n, d = problem.X_train.shape
    assert problem.y_train.shape == (n,) and problem.true_weights.shape == (d,)
    assert problem.X_test.shape[1] == d and problem.y_test.shape == (len(problem.X_test),)
    assert problem.noise_std == float(kwargs["noise_std"]) >= 0
    assert problem.intercept == float(kwargs.get("intercept", 0.0))


def _verify_gap_function(result, kwargs) -> None:
    x = kwargs["x"]
    is_tensor = isinstance(x, torch.Tensor)
    assert isinstance(result, torch.Tensor) == is_tensor
    x = np.asarray(x.detach().numpy() if is_tensor else x, dtype=np.longdouble)
    expected = 2 * np.sin(x) * np.cos(x) + np.longdouble(0.3) * x  # sin 2x without doubling x
    got = np.asarray(result.detach().double().numpy() if is_tensor else result, dtype=np.longdouble)
    assert got.shape == x.shape
    np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=1e-9, atol=1e-12)


def _in_gap_intervals(x: np.ndarray) -> bool:
    (a, b), (c, d) = synthetic.GAP_REGRESSION_INTERVALS
    return bool(np.all(((a <= x) & (x <= b)) | ((c <= x) & (x <= d))))


def _verify_gap_regression(splits, kwargs) -> None:
    sigma = float(kwargs["noise_std"])
    assert splits.sizes == (kwargs["n_train"], kwargs["n_val"], kwargs["n_test"]) and not splits.is_classification
    for split in ("train", "val", "test"):
        x = getattr(splits, f"X_{split}").double().numpy()
        y = getattr(splits, f"y_{split}").double().numpy()
        assert x.shape == y.shape == (len(x), 1)
        if split != "test" or not kwargs["test_covers_gap"]:
            assert _in_gap_intervals(x) and int(np.sum(x < 0)) == (len(x) + 1) // 2
        else:
            assert np.all(np.abs(x) <= 3)
        truth = np.sin(2 * x) + 0.3 * x
        assert np.all(np.abs(y - truth) <= 10 * sigma * (1 + 1e-6) + 1e-5)  # ten sigma: never, by chance


def _verify_classes(splits, kwargs, n_classes: int) -> None:
    n = int(kwargs["n_samples"])
    assert sum(splits.sizes) == n and splits.n_classes == n_classes and splits.n_features == 2
    labels = torch.cat([splits.y_train, splits.y_val, splits.y_test]).numpy()
    counts = np.bincount(labels, minlength=n_classes)
    assert counts.max() - counts.min() <= 1
    _check_stratified(splits, kwargs["fractions"])


def _verify_two_moons(splits, kwargs) -> None:
    _verify_classes(splits, kwargs, 2)
    sigma = float(kwargs["noise_std"])
    for split in ("train", "val", "test"):
        X, y = getattr(splits, f"X_{split}").double(), getattr(splits, f"y_{split}")
        centre = torch.where(y[:, None] == 0, torch.tensor([0.0, 0.0]).double(), torch.tensor([1.0, 0.5]).double())
        radius = torch.linalg.norm(X - centre, dim=1)
        assert torch.all(torch.abs(radius - 1) <= 15 * sigma + 1e-5)


def _verify_spirals(splits, kwargs) -> None:
    arms, turns, sigma = int(kwargs["n_arms"]), float(kwargs["turns"]), float(kwargs["noise_std"])
    _verify_classes(splits, kwargs, arms)
    for split in ("train", "val", "test"):
        X, y = getattr(splits, f"X_{split}").double(), getattr(splits, f"y_{split}").double()
        r = torch.linalg.norm(X, dim=1)
        assert torch.all((r >= 0.05 - 15 * sigma - 1e-6) & (r <= 1 + 15 * sigma + 1e-6))
        if sigma == 0 and turns <= 10:  # on the arm's curve: angle 2 pi (turns r + k / K)
            theta = 2 * math.pi * (turns * r + y / arms)
            direction = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
            assert torch.allclose(X / r[:, None], direction, atol=1e-4 * (1 + turns))


def _verify_sparse_regression(problem, kwargs) -> None:
    n, d, k = (int(kwargs[name]) for name in ("n_samples", "n_features", "n_informative"))
    sigma = float(kwargs["noise_std"])
    assert problem.X_train.shape == (n, d) and problem.X_test.shape == (int(kwargs["n_test"]), d)
    assert np.count_nonzero(problem.true_weights) == k == len(problem.support)
    for X, y in ((problem.X_train, problem.y_train), (problem.X_test, problem.y_test)):
        residual = y - X @ problem.true_weights
        assert np.all(np.abs(residual) <= 10 * sigma + 1e-9 * (1 + np.abs(y)))
    assert problem.noise_std == sigma


def _verify_dense_regression(problem, kwargs) -> None:
    n, d, n_test = (int(kwargs[name]) for name in ("n_samples", "n_features", "n_test"))
    weight, intercept, sigma = (float(kwargs[name]) for name in ("weight", "intercept", "noise_std"))
    assert problem.X_train.shape == (n, d) and problem.X_test.shape == (n_test, d)
    np.testing.assert_array_equal(problem.true_weights, np.full(d, weight))
    assert problem.intercept == intercept and problem.noise_std == sigma
    for X, y in ((problem.X_train, problem.y_train), (problem.X_test, problem.y_test)):
        assert np.all(np.isfinite(y))
        residual = y - X @ problem.true_weights - intercept
        scale = 1.0 + np.abs(X @ problem.true_weights) + abs(intercept)
        assert np.all(np.abs(residual) <= 10 * sigma + 1e-9 * scale)  # ten sigma: never, by chance


CASES = [
    Case("synthetic.LinearRegressionProblem", synthetic.LinearRegressionProblem, _problem_kwargs, _verify_problem),
    Case(
        "synthetic.gap_regression_function",
        synthetic.gap_regression_function,
        lambda: dict(x=np.array([-2.0, 0.5, 1.5])),
        _verify_gap_function,
    ),
    Case(
        "synthetic.make_gap_regression",
        synthetic.make_gap_regression,
        lambda: dict(n_train=5, n_val=4, n_test=6, noise_std=0.1, seed=0, test_covers_gap=True),
        _verify_gap_regression,
    ),
    Case(
        "synthetic.make_two_moons",
        synthetic.make_two_moons,
        lambda: dict(n_samples=30, noise_std=0.2, seed=0, fractions=(0.6, 0.2, 0.2)),
        _verify_two_moons,
    ),
    Case(
        "synthetic.make_spirals",
        synthetic.make_spirals,
        lambda: dict(n_samples=30, n_arms=3, noise_std=0.05, turns=1.0, seed=0, fractions=(0.6, 0.2, 0.2)),
        _verify_spirals,
    ),
    Case(
        "synthetic.make_sparse_linear_regression",
        synthetic.make_sparse_linear_regression,
        lambda: dict(n_samples=6, n_features=8, n_informative=3, noise_std=0.5, n_test=5, seed=0),
        _verify_sparse_regression,
    ),
    Case(
        "synthetic.make_dense_linear_regression",
        synthetic.make_dense_linear_regression,
        lambda: dict(n_samples=6, n_features=8, weight=0.01, intercept=0.05, noise_std=0.01, n_test=5, seed=0),
        _verify_dense_regression,
    ),
]

"""Valid calls of course_lib.double_descent, and the property each result must have.

Features are checked against the documented draw (``SeedSequence(seed).spawn(2)``, the scales
``1/sqrt(dN)`` and ``1/sqrt(N)``) computed here in ``np.longdouble``; least-squares results by
their optimality conditions (and, at ``alpha = 0``, by lying in the row space of ``Phi``); the curve
by recomputing it with NumPy's pseudo-inverse or normal equations on a tiny synthetic data set.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib import double_descent
from course_lib.data import DataSplits

from .runner import Case

LD = np.longdouble


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().double().numpy()
    return np.asarray(value, dtype=LD)


# --- random features ---------------------------------------------------------------------------

def _inputs() -> np.ndarray:
    return np.random.default_rng(5).normal(size=(6, 3))


def _verify_features(features, kwargs) -> None:
    X = _as_array(kwargs["X"])
    n_features, seed = int(kwargs["n_features"]), int(kwargs.get("seed", 0))
    assert isinstance(features, np.ndarray) and features.dtype == np.float64
    assert features.shape == (X.shape[0], n_features) and np.all(features >= 0)
    weight_stream, bias_stream = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    W = weight_stream.standard_normal((n_features, X.shape[1])).T.astype(LD) / LD(math.sqrt(X.shape[1] * n_features))
    b = bias_stream.standard_normal(n_features).astype(LD) / LD(math.sqrt(n_features))
    expected = np.maximum(X @ W + b, 0)
    scale = np.abs(X).max() * np.abs(W).max() * X.shape[1] + np.abs(b).max()
    assert np.all(np.abs(features - expected) <= 1e-12 * scale), "features differ from ReLU(X W + b)"


# --- least squares -----------------------------------------------------------------------------

def _wide_problem() -> tuple[np.ndarray, np.ndarray]:
    Phi = np.random.default_rng(6).uniform(0.0, 1.0, size=(5, 8))
    return Phi, np.eye(3)[[0, 1, 2, 0, 1]]


def _tall_problem() -> tuple[np.ndarray, np.ndarray]:
    Phi = np.random.default_rng(7).uniform(0.0, 1.0, size=(8, 5))
    return Phi, np.random.default_rng(8).normal(size=8)


def _verify_least_squares(coef, kwargs) -> None:
    Phi, Y = _as_array(kwargs["Phi"]), _as_array(kwargs["Y"])
    alpha = LD(kwargs.get("alpha", 0.0))
    assert isinstance(coef, np.ndarray) and coef.shape == (Phi.shape[1],) + Y.shape[1:]
    B = coef.astype(LD)
    n, N = Phi.shape
    phi, y, b = (max(float(np.abs(a).max()), 1e-300) for a in (Phi, Y, B))
    # Stationarity of ||Y - Phi B||^2 + alpha ||B||^2: Phi^T (Y - Phi B) = alpha B.
    gradient = Phi.T @ (Y - Phi @ B) - alpha * B
    assert np.all(np.abs(gradient) <= 1e-8 * (n * phi * (y + N * phi * b) + float(alpha) * b)), "normal equations"
    if alpha == 0:
        # The minimum-norm solution has no component in the null space of Phi.
        _, s, Vt = np.linalg.svd(np.asarray(Phi, dtype=np.float64))
        rank = int(np.sum(s > np.finfo(float).eps * max(n, N) * s[0])) if s.size and s[0] > 0 else 0
        null_space = Vt[rank:].astype(LD)
        assert np.all(np.abs(null_space @ B) <= 1e-7 * b), "not the minimum-norm solution"


# --- the curve record --------------------------------------------------------------------------

def _curve_fields() -> dict:
    return dict(
        widths=np.array([10, 20, 30]), alphas=np.array([0.0, 0.1]),
        train_mse=np.array([[0.5, 0.1, 0.0], [0.6, 0.3, 0.2]]), test_mse=np.array([[0.9, 5.0, 1.2], [0.9, 0.8, 0.8]]),
        test_accuracy=np.array([[0.3, 0.2, 0.4], [0.3, 0.35, 0.4]]), n_train=20,
    )


def _verify_curve_record(curve, kwargs) -> None:
    assert isinstance(curve, double_descent.DoubleDescentCurve)
    widths = np.asarray([int(w) for w in kwargs["widths"]])
    np.testing.assert_array_equal(curve.widths, widths)
    assert curve.widths.dtype == np.int64 and np.all(curve.widths >= 1)
    np.testing.assert_array_equal(curve.alphas, _as_array(kwargs["alphas"]).astype(np.float64))
    assert np.all(curve.alphas >= 0)
    for name in ("train_mse", "test_mse", "test_accuracy"):
        value = getattr(curve, name)
        assert value.dtype == np.float64 and value.shape == (curve.alphas.size, curve.widths.size), name
        np.testing.assert_array_equal(value, _as_array(kwargs[name]).astype(np.float64))
        assert np.all(value >= 0), name
    assert np.all(curve.test_accuracy <= 1) and curve.n_train == int(kwargs["n_train"]) >= 1


# --- the curve ---------------------------------------------------------------------------------

def _features(rows: int, seed: int) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(seed).normal(size=(rows, 3)), dtype=torch.float32)


def _splits() -> DataSplits:
    X = [_features(24, 1), _features(12, 2), _features(12, 3)]
    y = [((x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()) for x in X]
    return DataSplits("tiny", X[0], y[0], X[1], y[1], X[2], y[2], feature_names=("a", "b", "c"), class_names=("0", "1", "2"))


def _verify_curve(curve, kwargs) -> None:
    data = kwargs["data"]
    widths = [int(w) for w in kwargs["widths"]]
    alphas = [float(a) for a in kwargs.get("alphas", (0.0,))]
    n_train, seed, subset_seed = (int(kwargs.get(k, d)) for k, d in (("n_train", 300), ("seed", 0), ("subset_seed", 0)))
    assert isinstance(curve, double_descent.DoubleDescentCurve) and curve.n_train == n_train
    assert curve.widths.tolist() == widths and curve.alphas.tolist() == alphas
    subset = data.subset_train(n_train, seed=subset_seed)
    X, X_test = subset.X_train.double().numpy(), data.X_test.double().numpy()
    Y, labels = np.eye(data.n_classes)[subset.y_train.numpy()], data.y_test.numpy()
    for i, alpha in enumerate(alphas):
        for j, width in enumerate(widths):
            Phi = double_descent.random_relu_features(X, width, seed)
            if alpha == 0:
                coef = np.linalg.pinv(Phi) @ Y
            elif len(X) >= width:
                coef = np.linalg.solve(Phi.T @ Phi + alpha * np.eye(width), Phi.T @ Y)
            else:
                coef = Phi.T @ np.linalg.solve(Phi @ Phi.T + alpha * np.eye(len(X)), Y)
            prediction = double_descent.random_relu_features(X_test, width, seed) @ coef
            mse = np.mean(np.sum((prediction - np.eye(data.n_classes)[labels]) ** 2, axis=1))
            train_mse = np.mean(np.sum((Phi @ coef - Y) ** 2, axis=1))
            assert abs(curve.test_mse[i, j] - mse) <= 1e-6 * mse + 1e-12, "test_mse"
            assert abs(curve.train_mse[i, j] - train_mse) <= 1e-6 * train_mse + 1e-10, "train_mse"
            # An argmax can flip on a near tie between rounding errors: allow one test example.
            accuracy = np.mean(prediction.argmax(axis=1) == labels)
            assert abs(curve.test_accuracy[i, j] - accuracy) <= 1.0 / len(labels) + 1e-12, "test_accuracy"


CASES = [
    Case(
        "double_descent.random_relu_features",
        double_descent.random_relu_features,
        lambda: dict(X=_inputs(), n_features=5, seed=1),
        _verify_features,
    ),
    Case(
        "double_descent.min_norm_least_squares",
        double_descent.min_norm_least_squares,
        lambda: dict(Phi=_wide_problem()[0], Y=_wide_problem()[1], alpha=0.0),
        _verify_least_squares,
    ),
    Case(
        "double_descent.min_norm_least_squares[ridge]",
        double_descent.min_norm_least_squares,
        lambda: dict(Phi=_tall_problem()[0], Y=_tall_problem()[1], alpha=0.5),
        _verify_least_squares,
    ),
    Case(
        "double_descent.DoubleDescentCurve",
        double_descent.DoubleDescentCurve,
        _curve_fields,
        _verify_curve_record,
    ),
    Case(
        "double_descent.double_descent_curve",
        double_descent.double_descent_curve,
        lambda: dict(data=_splits(), widths=(4, 10, 40), alphas=(0.0, 0.5), n_train=20, seed=1, subset_seed=2),
        _verify_curve,
        examples=6,
    ),
]

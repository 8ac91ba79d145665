"""Tests for course_lib.double_descent: random features, minimum-norm least squares, the double-descent curve."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from course_lib.data import DataSplits, load_mnist1d_splits
from course_lib.double_descent import (
    MAX_FEATURE_ENTRIES,
    DoubleDescentCurve,
    double_descent_curve,
    min_norm_least_squares,
    random_relu_features,
)
from course_lib.linear_models import ridge_fit

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def problem(seed: int, n: int, width: int, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Phi = random_relu_features(rng.standard_normal((n, 20)), width, seed=seed)
    return Phi, one_hot(rng.integers(0, classes, size=n), classes)


@pytest.fixture(scope="module")
def mnist1d() -> DataSplits:
    return load_mnist1d_splits()


# --- random features ---------------------------------------------------------------------------

def test_features_are_relu_of_an_affine_map_with_the_documented_scales() -> None:
    n_inputs, width = 40, 20_000
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, n_inputs))
    # At x = 0 a feature is ReLU(b_k): half of them are zero and sqrt(N) b_k is standard normal.
    at_zero = random_relu_features(np.zeros((1, n_inputs)), width, seed=4)[0] * np.sqrt(width)
    assert 0.48 < np.mean(at_zero == 0) < 0.52
    assert np.sqrt(2 * np.mean(at_zero**2)) == pytest.approx(1.0, abs=0.02)  # E[ReLU(z)^2] = 1/2
    # Where b_k > 0, a small step t along the first input moves feature k by t W_1k: the slopes
    # are a sample of W's first row, of variance 1/(dN).
    features = random_relu_features(np.vstack([np.zeros(n_inputs), 1e-6 * np.eye(n_inputs)[0]]), width, seed=4)
    active = features[0] > 1e-3 / np.sqrt(width)
    slopes = (features[1] - features[0])[active] / 1e-6
    assert np.std(slopes) * np.sqrt(n_inputs * width) == pytest.approx(1.0, abs=0.03)
    # Standardised inputs give pre-activations of variance about 2 (after undoing the 1/sqrt(N)).
    phi = random_relu_features(X, width, seed=5) * np.sqrt(width)
    assert np.mean(phi**2) == pytest.approx(1.0, rel=0.1)  # E[ReLU(z)^2] = Var(z)/2 = 1
    assert phi.dtype == np.float64 and phi.shape == (3, width) and phi.min() >= 0


def test_features_are_reproducible_and_nested_across_widths() -> None:
    X = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_array_equal(random_relu_features(X, 7, seed=3), random_relu_features(X, 7, seed=3))
    assert not np.allclose(random_relu_features(X, 7, seed=3), random_relu_features(X, 7, seed=4))
    small, large = random_relu_features(X, 7, seed=3), random_relu_features(X, 28, seed=3)
    np.testing.assert_allclose(large[:, :7] * np.sqrt(28 / 7), small, rtol=1e-12, atol=1e-15)
    # Rows are featurised independently: a row's features do not depend on the other rows.
    np.testing.assert_allclose(random_relu_features(X[2:3], 7, seed=3), small[2:3], rtol=1e-13)


def test_features_reject_bad_arguments() -> None:
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        random_relu_features(np.ones(3), 5)
    with pytest.raises(ValueError, match="X must have at least one row and one column"):
        random_relu_features(np.ones((4, 0)), 5)
    with pytest.raises(ValueError, match="X must be finite"):
        random_relu_features(np.full((4, 3), np.nan), 5)
    with pytest.raises(TypeError, match="n_features must be an int"):
        random_relu_features(X, 5.0)
    with pytest.raises(ValueError, match="n_features must be an int >= 1"):
        random_relu_features(X, 0)
    with pytest.raises(ValueError, match="n_features = .* MAX_FEATURE_ENTRIES"):
        random_relu_features(X, MAX_FEATURE_ENTRIES)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        random_relu_features(X, 5, seed=-1)
    with pytest.raises(ValueError, match="magnitudes of X"):
        random_relu_features(np.full((1, 1), 1.5e308), 1, seed=0)  # W = [[1.44...]]: X W overflows


# --- minimum-norm least squares and ridge ------------------------------------------------------

@settings(max_examples=30)
@given(seed=seeds, n=st.integers(1, 12), width=st.integers(1, 30))
def test_alpha_zero_is_the_pseudo_inverse_solution(seed: int, n: int, width: int) -> None:
    Phi, Y = problem(seed, n, width)
    coef = min_norm_least_squares(Phi, Y)
    np.testing.assert_allclose(coef, np.linalg.pinv(Phi) @ Y, rtol=1e-7, atol=1e-8 * max(1.0, np.abs(coef).max()))


@pytest.mark.parametrize("width", [45, 50, 80, 400])
def test_interpolates_at_and_beyond_the_threshold_with_the_smallest_norm(width: int) -> None:
    n = 40
    Phi, Y = problem(7, n, width)
    assert np.linalg.matrix_rank(Phi) == n  # full row rank (a few features are dead at width 40)
    coef = min_norm_least_squares(Phi, Y)
    np.testing.assert_allclose(Phi @ coef, Y, atol=1e-8)
    # Every other interpolator is coef + Z with Phi Z = 0 and has a larger Frobenius norm, by
    # exactly ||Z||^2, since coef lies in the row space of Phi (orthogonal to the null space).
    _, _, Vt = np.linalg.svd(Phi)
    null_space = Vt[n:].T
    if null_space.shape[1]:
        Z = null_space @ np.random.default_rng(0).standard_normal((null_space.shape[1], Y.shape[1]))
        other = coef + Z
        np.testing.assert_allclose(Phi @ other, Y, atol=1e-8)
        assert np.sum(other**2) == pytest.approx(np.sum(coef**2) + np.sum(Z**2), rel=1e-9)
        assert np.sum(other**2) > np.sum(coef**2) * (1 + 1e-6)
    # ... and the coefficients lie in the row space: they are Phi^T z for some z.
    z = np.linalg.lstsq(Phi.T, coef, rcond=None)[0]
    np.testing.assert_allclose(Phi.T @ z, coef, atol=1e-8 * np.abs(coef).max())


def test_rank_deficient_features_still_get_the_minimum_norm_solution() -> None:
    Phi, Y = problem(3, 10, 4)
    doubled = np.hstack([Phi, Phi])  # every feature twice: rank 4, infinitely many least-squares solutions
    coef = min_norm_least_squares(doubled, Y)
    # The minimum-norm solution splits each weight equally between the two copies.
    np.testing.assert_allclose(coef[:4], coef[4:], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(coef[:4] + coef[4:], min_norm_least_squares(Phi, Y), rtol=1e-8, atol=1e-12)


@settings(max_examples=30)
@given(seed=seeds, n=st.integers(2, 25), width=st.integers(1, 25), alpha=st.floats(1e-4, 100.0))
def test_ridge_agrees_with_ridge_fit_and_sklearn(seed: int, n: int, width: int, alpha: float) -> None:
    Phi, Y = problem(seed, n, width)
    coef = min_norm_least_squares(Phi, Y, alpha=alpha)
    assert coef.shape == (width, Y.shape[1])
    for k in range(Y.shape[1]):
        np.testing.assert_allclose(coef[:, k], ridge_fit(Phi, Y[:, k], alpha).coef, rtol=1e-7, atol=1e-10)
    reference = Ridge(alpha=alpha, fit_intercept=False, solver="svd").fit(Phi, Y).coef_.T
    np.testing.assert_allclose(coef, reference, rtol=1e-7, atol=1e-10)


def test_vector_targets_give_vector_coefficients_and_ridge_tends_to_the_minimum_norm_solution() -> None:
    Phi, Y = problem(5, 8, 20)
    coef = min_norm_least_squares(Phi, Y[:, 0])
    assert coef.shape == (20,)
    np.testing.assert_allclose(coef, min_norm_least_squares(Phi, Y)[:, 0], rtol=1e-12)
    np.testing.assert_allclose(min_norm_least_squares(Phi, Y[:, 0], alpha=1e-10), coef, rtol=1e-5, atol=1e-7)
    ridge = min_norm_least_squares(Phi, Y[:, 0], alpha=1.0)
    assert np.linalg.norm(ridge) < np.linalg.norm(coef)  # the penalty shrinks the coefficients


def test_all_zero_features_give_zero_coefficients() -> None:
    for alpha in (0.0, 0.5):
        np.testing.assert_array_equal(min_norm_least_squares(np.zeros((3, 4)), np.ones((3, 2)), alpha), np.zeros((4, 2)))


def test_least_squares_rejects_bad_arguments() -> None:
    Phi, Y = problem(0, 6, 4)
    with pytest.raises(ValueError, match="Phi has 6 rows but Y has 5"):
        min_norm_least_squares(Phi, Y[:5])
    with pytest.raises(ValueError, match="Y must be a vector"):
        min_norm_least_squares(Phi, Y[None])
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        min_norm_least_squares(Phi, Y, alpha=-1e-3)
    with pytest.raises(TypeError, match="Phi must hold real numbers"):
        min_norm_least_squares(Phi > 0, Y)
    with pytest.raises(ValueError, match="Y must be finite"):
        min_norm_least_squares(Phi, np.full_like(Y, np.inf))
    with pytest.raises(ValueError, match="Phi must be a 2-D array"):
        min_norm_least_squares(Phi[0], Y)
    with pytest.raises(ValueError, match="magnitudes of Phi"):
        min_norm_least_squares(Phi * 1e-320, Y)  # 1/s overflows


# --- the curve ---------------------------------------------------------------------------------

WIDTHS = (10, 20, 40, 60, 80, 100, 120, 150, 200, 400, 1000)


@pytest.fixture(scope="module")
def curve(mnist1d) -> DoubleDescentCurve:
    return double_descent_curve(mnist1d, WIDTHS, alphas=(0.0, 1e-3, 1e-1), n_train=100, seed=0)


def test_curve_peaks_at_the_interpolation_threshold_and_ridge_flattens_it(curve) -> None:
    assert curve.test_mse.shape == curve.train_mse.shape == curve.test_accuracy.shape == (3, len(WIDTHS))
    assert curve.n_train == 100 and curve.widths.tolist() == list(WIDTHS)
    mse = curve.test_mse[0]
    peak_width = WIDTHS[int(np.argmax(mse))]
    assert 100 / 1.5 <= peak_width <= 100 * 1.5
    assert mse.max() > 5 * max(mse[0], mse[-1])  # a real peak, not a wiggle
    assert mse[-1] < mse.max() / 5  # the second descent
    # Test error rises to the threshold and falls again beyond it too.
    error = 1 - curve.test_accuracy[0]
    assert error[WIDTHS.index(100)] > error[WIDTHS.index(40)] and error[WIDTHS.index(100)] > error[-1]
    # Ridge lowers the peak: by far at alpha = 1e-3, removes it at alpha = 1e-1.
    assert curve.test_mse[1].max() < mse.max() / 5
    assert curve.test_mse[2].max() < 1.05 * curve.test_mse[2][0]


def test_dead_features_are_what_keeps_width_n_train_from_full_rank(mnist1d) -> None:
    X = mnist1d.subset_train(100, seed=0).X_train.double().numpy()
    Phi = random_relu_features(X, 100, seed=0)
    dead = int(np.sum(Phi.max(axis=0) == 0))  # features negative on every training signal
    assert 1 <= dead <= 5
    assert np.linalg.matrix_rank(Phi) == 100 - dead
    assert np.linalg.matrix_rank(random_relu_features(X, 100 + 2 * dead, seed=0)) == 100


def test_curve_interpolates_beyond_the_threshold_at_alpha_zero(curve) -> None:
    widths = np.asarray(WIDTHS)
    assert np.all(curve.train_mse[0][widths > 100] < 1e-12)
    assert 0 < curve.train_mse[0][widths == 100][0] < 0.1  # a few dead features: not quite interpolating
    assert np.all(curve.train_mse[0][widths < 100] > 1e-3)
    assert np.all(curve.train_mse[2] > 1e-3)  # ridge does not interpolate
    assert np.all(np.diff(curve.train_mse[0][widths <= 100]) < 0)  # nested features: more features fit better


def test_curve_matches_a_direct_computation(mnist1d) -> None:
    widths, alphas = (30, 150), (0.0, 0.1)
    result = double_descent_curve(mnist1d, widths, alphas, n_train=60, seed=2, subset_seed=1)
    subset = mnist1d.subset_train(60, seed=1)
    X, X_test = subset.X_train.double().numpy(), mnist1d.X_test.double().numpy()
    Y, labels = one_hot(subset.y_train.numpy(), 10), mnist1d.y_test.numpy()
    for i, alpha in enumerate(alphas):
        for j, width in enumerate(widths):
            Phi = random_relu_features(X, width, seed=2)
            if alpha == 0:
                coef = np.linalg.pinv(Phi) @ Y
            else:
                coef = np.linalg.solve(Phi.T @ Phi + alpha * np.eye(width), Phi.T @ Y)
            prediction = random_relu_features(X_test, width, seed=2) @ coef
            expected_mse = np.mean(np.sum((prediction - one_hot(labels, 10)) ** 2, axis=1))
            assert result.test_mse[i, j] == pytest.approx(expected_mse, rel=1e-6)
            assert result.test_accuracy[i, j] == pytest.approx(np.mean(prediction.argmax(1) == labels), abs=1e-12)
            assert result.train_mse[i, j] == pytest.approx(np.mean(np.sum((Phi @ coef - Y) ** 2, axis=1)), rel=1e-6, abs=1e-12)


def test_curve_is_reproducible_and_depends_on_its_seeds(mnist1d) -> None:
    def run(seed: int, subset_seed: int = 0) -> DoubleDescentCurve:
        return double_descent_curve(mnist1d, (20, 50), (0.0,), n_train=50, seed=seed, subset_seed=subset_seed)

    first, again = run(0), run(0)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first.test_mse, run(1).test_mse)
    assert not np.allclose(first.test_mse, run(0, subset_seed=1).test_mse)


def test_curve_rejects_bad_arguments(mnist1d) -> None:
    with pytest.raises(TypeError, match="data must be a course_lib.data.DataSplits"):
        double_descent_curve((mnist1d.X_train, mnist1d.y_train), (10,))
    regression = DataSplits("r", *(torch.zeros(4, 2) if i % 2 == 0 else torch.zeros(4) for i in range(6)), feature_names=("a", "b"))
    with pytest.raises(ValueError, match="data must be a classification data set"):
        double_descent_curve(regression, (10,))
    with pytest.raises(ValueError, match="widths must hold at least one entry"):
        double_descent_curve(mnist1d, ())
    with pytest.raises(TypeError, match=r"widths\[1\] must be an int"):
        double_descent_curve(mnist1d, (10, 20.5))
    with pytest.raises(ValueError, match=r"widths must all be in \[1, MAX_FEATURE_ENTRIES.*widths\[1\] = 0"):
        double_descent_curve(mnist1d, (10, 0))
    with pytest.raises(TypeError, match="widths must be a sequence"):
        double_descent_curve(mnist1d, {10, 20})
    with pytest.raises(ValueError, match=r"alphas\[1\] must be a finite number >= 0"):
        double_descent_curve(mnist1d, (10,), alphas=(0.0, -1.0))
    with pytest.raises(ValueError, match="n_train must be at most the training-set size 3200"):
        double_descent_curve(mnist1d, (10,), n_train=3201)
    with pytest.raises(ValueError, match="widths = .* MAX_FEATURE_ENTRIES"):
        double_descent_curve(mnist1d, (10, MAX_FEATURE_ENTRIES // 100), n_train=10)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        double_descent_curve(mnist1d, (10,), seed=-1)


def test_curve_record_checks_its_fields() -> None:
    fields = dict(
        widths=np.array([10, 20, 30]), alphas=np.array([0.0, 0.1]), train_mse=np.zeros((2, 3)),
        test_mse=np.ones((2, 3)), test_accuracy=np.full((2, 3), 0.5), n_train=20,
    )
    record = DoubleDescentCurve(**fields)
    assert record.widths.dtype == np.int64 and record.alphas.dtype == np.float64
    with pytest.raises(ValueError, match=r"test_mse must have shape \(len\(alphas\), len\(widths\)\) = \(2, 3\)"):
        DoubleDescentCurve(**{**fields, "test_mse": np.ones((3, 2))})
    with pytest.raises(ValueError, match=r"test_accuracy must lie in \[0, 1\]"):
        DoubleDescentCurve(**{**fields, "test_accuracy": np.full((2, 3), 1.5)})
    with pytest.raises(ValueError, match="train_mse must lie in"):
        DoubleDescentCurve(**{**fields, "train_mse": -np.ones((2, 3))})
    with pytest.raises(TypeError, match=r"widths\[0\] must be an int"):
        DoubleDescentCurve(**{**fields, "widths": np.array([10.0, 20.0, 30.0])})
    with pytest.raises(ValueError, match="alphas must be a non-empty array of numbers >= 0"):
        DoubleDescentCurve(**{**fields, "alphas": np.array([0.0, -0.1])})
    with pytest.raises(ValueError, match="n_train must be an int >= 1"):
        record._replace(n_train=0)

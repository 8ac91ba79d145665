"""Tests for course_lib.data: splits, loaders, synthetic generators and mini-batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_lib.data import (
    GAP_REGRESSION_INTERVALS,
    DataSplits,
    LinearRegressionProblem,
    gap_regression_function,
    iterate_minibatches,
    load_breast_cancer_splits,
    load_digits_splits,
    make_gap_regression,
    make_sparse_linear_regression,
    make_spirals,
    make_two_moons,
    stratified_split_indices,
    stratified_subsample_indices,
    train_val_split,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
class_counts = st.lists(st.integers(min_value=3, max_value=60), min_size=1, max_size=8)


@st.composite
def split_fractions(draw: st.DrawFn) -> tuple[float, ...]:
    weights = draw(st.lists(st.integers(min_value=1, max_value=20), min_size=2, max_size=3))
    return tuple(w / sum(weights) for w in weights)


def _labels(counts: list[int], seed: int) -> np.ndarray:
    """Labels with the given class counts, in a shuffled order."""
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(len(counts)), counts))


# --- stratified_split_indices -------------------------------------------------------


@given(counts=class_counts, fractions=split_fractions(), seed=seeds)
def test_split_is_disjoint_covering_sorted_and_stratified(counts, fractions, seed):
    y = _labels(counts, seed)
    try:
        parts = stratified_split_indices(y, fractions, seed)
    except ValueError as error:  # a tiny fraction may leave a split empty: that must be the reason
        assert "no examples" in str(error)
        return
    assert len(parts) == len(fractions)
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(joined), np.arange(len(y)))  # disjoint and covering
    for part, fraction in zip(parts, fractions):
        assert len(part) > 0
        assert np.all(np.diff(part) > 0)  # sorted ascending
        for label, count in enumerate(counts):
            assert abs(np.sum(y[part] == label) - fraction * count) <= 1 + 1e-9
        assert abs(len(part) - fraction * len(y)) <= 1 + 1e-9  # split sizes follow the fractions too


@given(counts=class_counts, fractions=split_fractions(), seed=seeds)
def test_split_is_deterministic_given_the_seed(counts, fractions, seed):
    y = _labels(counts, 0)
    try:
        first = stratified_split_indices(y, fractions, seed)
    except ValueError:
        return
    second = stratified_split_indices(y.copy(), list(fractions), seed)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_split_depends_on_the_seed():
    y = _labels([50, 50, 50], 0)
    a, b = stratified_split_indices(y, seed=0), stratified_split_indices(y, seed=1)
    assert not np.array_equal(a[0], b[0])


def test_split_defaults_to_sixty_twenty_twenty():
    parts = stratified_split_indices(np.repeat([0, 1], [50, 50]))
    assert [len(p) for p in parts] == [60, 20, 20]


def test_split_accepts_fractions_summing_to_one_within_1e_9():
    parts = stratified_split_indices(np.zeros(100, dtype=int), (0.1, 0.2, 0.7 + 5e-10))
    assert [len(p) for p in parts] == [10, 20, 70]
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        stratified_split_indices(np.zeros(100, dtype=int), (0.1, 0.2, 0.7 + 2e-9))


@pytest.mark.parametrize(
    ("y", "fractions", "error", "message"),
    [
        (np.zeros((4, 2)), (0.5, 0.5), ValueError, r"y must be 1-D .* got shape \(4, 2\)"),
        (np.zeros(0), (0.5, 0.5), ValueError, "y must hold at least one label"),
        ([0, 1, 0, 1], (0.5, 0.5), TypeError, "y must be a numpy.ndarray"),
        (np.zeros(10), (0.6, 0.5), ValueError, r"fractions must sum to 1, got \(0.6, 0.5\)"),
        (np.zeros(10), (1.2, -0.2), ValueError, r"fractions must all be positive, got fractions\[1\] = -0.2"),
        (np.zeros(10), (1.0, 0.0), ValueError, r"fractions must all be positive, got fractions\[1\] = 0.0"),
        (np.zeros(10), (0.5, float("nan")), ValueError, "fractions must all be positive"),
        (np.zeros(10), (1.0,), ValueError, "fractions must give at least two splits"),
        (np.zeros(10), (0.5, "0.5"), TypeError, r"fractions\[1\] must be a real number"),
        (np.zeros(10), 0.5, TypeError, "fractions must be a sequence"),
        (np.zeros(10), (0.98, 0.01, 0.01), ValueError, r"fractions\[1\] = 0.01 leaves split 1 with no examples"),
        (np.array([0, 0, 0, 1, 1]), (0.4, 0.3, 0.3), ValueError, "class 1 with 2 member.* fewer than the 3 splits"),
    ],
)
def test_split_rejects_bad_input_naming_the_argument(y, fractions, error, message):
    with pytest.raises(error, match=message):
        stratified_split_indices(y, fractions)


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_split_rejects_a_bad_seed(seed, error):
    with pytest.raises(error, match="seed must be an int"):
        stratified_split_indices(np.zeros(10), (0.5, 0.5), seed)


# --- stratified_subsample_indices ------------------------------------------------------


@given(counts=class_counts, seed=seeds, data=st.data())
def test_subsample_is_stratified_nested_and_sorted(counts, seed, data):
    y = _labels(counts, seed)
    n_small = data.draw(st.integers(1, len(y)))
    n_large = data.draw(st.integers(n_small, len(y)))
    small = stratified_subsample_indices(y, n_small, seed)
    large = stratified_subsample_indices(y, n_large, seed)
    assert len(small) == n_small and len(large) == n_large
    assert np.all(np.diff(small) > 0)
    assert set(small) <= set(large)  # nested: a larger subset only adds examples
    for label, count in enumerate(counts):
        assert abs(np.sum(y[small] == label) - n_small * count / len(y)) < 1


def test_subsample_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n must be at most len"):
        stratified_subsample_indices(np.zeros(5), 6)
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        stratified_subsample_indices(np.zeros(5), 0)


# --- train_val_split -------------------------------------------------------------------


def _indexed_data(counts: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features whose first column is the row index, so pairs can be traced."""
    y = _labels(counts, seed)
    X = np.column_stack([np.arange(len(y), dtype=np.float64), y * 10.0])
    return X, y


@given(counts=class_counts, val_fraction=st.floats(0.05, 0.95), seed=seeds)
def test_train_val_split_is_stratified_and_keeps_pairs(counts, val_fraction, seed):
    X, y = _indexed_data(counts)
    expected_val = [round(val_fraction * c) for c in counts]
    if sum(expected_val) in (0, len(y)):
        return
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction, np.random.default_rng(seed))
    np.testing.assert_array_equal(np.bincount(y_va, minlength=len(counts)), expected_val)
    np.testing.assert_array_equal(np.bincount(y_tr, minlength=len(counts)), np.array(counts) - expected_val)
    rows = np.concatenate([X_tr[:, 0], X_va[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(rows), np.arange(len(y)))  # disjoint and covering
    np.testing.assert_array_equal(y[X_tr[:, 0].astype(int)], y_tr)  # (X[i], y[i]) stay together
    np.testing.assert_array_equal(y[X_va[:, 0].astype(int)], y_va)


def test_train_val_split_rounds_half_to_even():
    X, y = _indexed_data([5, 7])  # 2.5 -> 2 and 3.5 -> 4 validation examples
    _, _, _, y_va = train_val_split(X, y, 0.5, np.random.default_rng(0))
    assert np.bincount(y_va).tolist() == [2, 4]


def test_train_val_split_shuffles_rows_and_returns_new_arrays():
    X, y = _indexed_data([100, 100])
    X_before, y_before = X.copy(), y.copy()
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, 0.25, np.random.default_rng(0))
    assert not np.all(np.diff(X_tr[:, 0]) > 0)  # not in the original order
    assert not np.all(np.diff(X_va[:, 0]) > 0)
    for out in (X_tr, y_tr, X_va, y_va):
        assert not np.shares_memory(out, X) and not np.shares_memory(out, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_train_val_split_is_reproducible_from_the_generator_state():
    X, y = _indexed_data([30, 20])
    first = train_val_split(X, y, 0.3, np.random.default_rng(7))
    second = train_val_split(X, y, 0.3, np.random.default_rng(7))
    other = train_val_split(X, y, 0.3, np.random.default_rng(8))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("val_fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_train_val_split_rejects_a_fraction_outside_the_open_interval(val_fraction):
    X, y = _indexed_data([10, 10])
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        train_val_split(X, y, val_fraction, np.random.default_rng(0))


def test_train_val_split_rejects_mismatched_lengths_and_bad_generators():
    X, y = _indexed_data([10, 10])
    with pytest.raises(ValueError, match="X and y must have the same length"):
        train_val_split(X[:-1], y, 0.2, np.random.default_rng(0))
    for rng in (0, np.random.RandomState(0), None):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            train_val_split(X, y, 0.2, rng)
    with pytest.raises(TypeError, match="val_fraction must be a real number"):
        train_val_split(X, y, "0.2", np.random.default_rng(0))
    with pytest.raises(ValueError, match="leaves the validation set empty"):
        train_val_split(X, y, 0.01, np.random.default_rng(0))


# --- DataSplits and the real data sets --------------------------------------------------


@pytest.fixture(scope="module")
def digits() -> DataSplits:
    return load_digits_splits()


def test_digits_splits_have_the_documented_types_and_sizes(digits):
    assert repr(digits) == "DataSplits('digits', train=1078, val=360, test=359, features=64, classes=10)"
    assert sum(digits.sizes) == 1797
    for split in ("train", "val", "test"):
        assert getattr(digits, f"X_{split}").dtype == torch.float32
        assert getattr(digits, f"y_{split}").dtype == torch.int64
    assert digits.n_features == 64 and digits.n_classes == 10 and digits.is_classification
    assert digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1")
    assert digits.class_names == tuple(str(k) for k in range(10))


@pytest.mark.parametrize("loader", [load_digits_splits, load_breast_cancer_splits])
def test_standardisation_uses_training_statistics_only(loader):
    data, raw = loader(seed=3), loader(seed=3, standardize=False)
    X = data.X_train.double()
    varying = raw.X_train.double().std(dim=0) > 0
    assert X.mean(dim=0).abs().max() < 1e-6
    np.testing.assert_allclose(X.std(dim=0, unbiased=False)[varying].numpy(), 1.0, atol=1e-5)
    # validation and test went through the *training* mean and spread, not their own
    mean = raw.X_train.double().mean(dim=0)
    std = torch.where(varying, raw.X_train.double().std(dim=0, unbiased=False), torch.ones_like(mean))
    np.testing.assert_allclose(data.X_val.numpy(), ((raw.X_val.double() - mean) / std).numpy(), atol=1e-5)
    assert data.X_val.double().mean(dim=0).abs().max() > 1e-3  # not re-centred on its own mean


def test_raw_digits_are_pixel_intensities_and_splits_are_stratified(digits):
    raw = load_digits_splits(standardize=False)
    assert raw.X_train.min() == 0 and raw.X_train.max() == 16
    counts = np.bincount(np.concatenate([digits.y_train, digits.y_val, digits.y_test]), minlength=10)
    for y, fraction in ((digits.y_train, 0.6), (digits.y_val, 0.2), (digits.y_test, 0.2)):
        assert np.all(np.abs(np.bincount(y.numpy(), minlength=10) - fraction * counts) <= 1)


def test_breast_cancer_is_the_labelled_medical_set():
    data = load_breast_cancer_splits()
    assert data.class_names == ("malignant", "benign")
    assert data.n_features == 30 and sum(data.sizes) == 569
    assert torch.bincount(torch.cat([data.y_train, data.y_val, data.y_test])).tolist() == [212, 357]


def test_loaders_are_deterministic_and_seeded(digits):
    again, other = load_digits_splits(seed=0), load_digits_splits(seed=1)
    assert torch.equal(digits.X_train, again.X_train) and torch.equal(digits.y_test, again.y_test)
    assert not torch.equal(digits.X_train, other.X_train)


def test_loaders_validate_their_arguments():
    with pytest.raises(ValueError, match="fractions must give three splits"):
        load_digits_splits(fractions=(0.5, 0.5))
    with pytest.raises(TypeError, match="standardize must be a bool"):
        load_breast_cancer_splits(standardize=1)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        load_digits_splits(seed=-1)


def test_subset_train_is_stratified_nested_and_keeps_the_held_out_sets(digits):
    small, large = digits.subset_train(100, seed=2), digits.subset_train(500, seed=2)
    assert small.sizes == (100, 360, 359)
    assert small.X_val is digits.X_val and small.X_test is digits.X_test
    shares = np.bincount(digits.y_train.numpy()) / len(digits.y_train)
    assert np.all(np.abs(np.bincount(small.y_train.numpy(), minlength=10) - 100 * shares) < 1)
    small_rows = {tuple(row) for row in small.X_train.tolist()}
    large_rows = {tuple(row) for row in large.X_train.tolist()}
    assert small_rows <= large_rows
    assert torch.equal(digits.subset_train(len(digits.y_train)).X_train, digits.X_train)


def test_subset_train_of_regression_data():
    data = make_gap_regression(n_train=30)
    subset = data.subset_train(10, seed=1)
    assert subset.sizes == (10, 40, 200)
    assert set(subset.X_train[:, 0].tolist()) <= set(data.X_train[:, 0].tolist())


def test_subset_train_rejects_bad_sizes(digits):
    with pytest.raises(ValueError, match="n must be at most the training-set size 1078, got 2000"):
        digits.subset_train(2000)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        digits.subset_train(0)


def test_data_splits_checks_dtypes_and_shapes(digits):
    parts = {f"{v}_{s}": getattr(digits, f"{v}_{s}") for v in "Xy" for s in ("train", "val", "test")}
    good = dict(name="d", feature_names=digits.feature_names, class_names=digits.class_names)
    with pytest.raises(ValueError, match="X_val must be a 2-D float32 tensor, got torch.float64"):
        DataSplits(**good, **{**parts, "X_val": parts["X_val"].double()})
    with pytest.raises(ValueError, match="y_train must be a 1-D int64 tensor of class labels"):
        DataSplits(**good, **{**parts, "y_train": parts["y_train"].float()})
    with pytest.raises(ValueError, match="X_test and y_test must hold the same"):
        DataSplits(**good, **{**parts, "y_test": parts["y_test"][:-1]})
    with pytest.raises(ValueError, match="labels outside"):
        DataSplits(**good, **{**parts, "y_train": parts["y_train"] + 1})
    with pytest.raises(ValueError, match="feature_names names 3"):
        DataSplits(**{**good, "feature_names": ("a", "b", "c")}, **parts)
    with pytest.raises(TypeError, match="X_train must be a torch.Tensor"):
        DataSplits(**good, **{**parts, "X_train": parts["X_train"].numpy()})
    with pytest.raises(ValueError, match="must be a 1-D or 2-D float32 tensor for regression"):
        DataSplits(**{**good, "class_names": None}, **parts)


# --- synthetic generators --------------------------------------------------------------


def test_gap_regression_has_no_inputs_in_the_gap():
    data = make_gap_regression(n_train=200, n_val=100, seed=4)
    (a_low, a_high), (b_low, b_high) = GAP_REGRESSION_INTERVALS
    for X in (data.X_train, data.X_val):
        x = X[:, 0]
        assert X.shape[1] == 1
        assert not torch.any((x > a_high) & (x < b_low))  # the gap is empty
        assert torch.all((x >= a_low) & (x <= b_high))
        assert abs(int((x < 0).sum()) - len(x) / 2) <= 0.5  # half the points on each side
    assert data.y_train.shape == (200, 1) and data.y_train.dtype == torch.float32
    assert data.n_classes is None and not data.is_classification
    x_test = data.X_test[:, 0]
    assert torch.any((x_test > a_high) & (x_test < b_low))  # the default test set crosses the gap
    inside = make_gap_regression(test_covers_gap=False).X_test[:, 0]
    assert not torch.any((inside > a_high) & (inside < b_low))


def test_gap_regression_targets_follow_the_true_function():
    exact = make_gap_regression(noise_std=0.0, seed=1)
    np.testing.assert_allclose(exact.y_train, gap_regression_function(exact.X_train), atol=1e-6)
    noisy = make_gap_regression(n_train=2000, noise_std=0.3, seed=1)
    residual = (noisy.y_train - gap_regression_function(noisy.X_train)).double()
    assert abs(residual.std().item() - 0.3) < 4 * 0.3 / math.sqrt(2 * 2000)
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(gap_regression_function(x), np.sin(2 * x) + 0.3 * x)


def test_two_moons_and_spirals_are_balanced_two_feature_classification():
    moons = make_two_moons(n_samples=301, seed=2)
    assert moons.n_features == 2 and moons.class_names == ("upper moon", "lower moon")
    labels = torch.cat([moons.y_train, moons.y_val, moons.y_test])
    assert torch.bincount(labels).tolist() == [151, 150]
    spirals = make_spirals(n_samples=300, n_arms=3, seed=2)
    assert spirals.class_names == ("arm 0", "arm 1", "arm 2") and spirals.sizes == (180, 60, 60)
    assert torch.bincount(torch.cat([spirals.y_train, spirals.y_val, spirals.y_test])).tolist() == [100] * 3


def test_noiseless_spiral_arms_lie_on_their_curves():
    data = make_spirals(n_samples=90, n_arms=3, noise_std=0.0, turns=1.5, seed=0)
    X, y = data.X_train.double(), data.y_train.double()
    r = X.norm(dim=1)
    theta = 2 * math.pi * (1.5 * r + y / 3)
    np.testing.assert_allclose(X.numpy(), (r[:, None] * torch.stack([theta.cos(), theta.sin()], 1)).numpy(), atol=1e-5)


def test_noiseless_moons_lie_on_their_half_circles():
    data = make_two_moons(noise_std=0.0)
    X, y = data.X_train.double(), data.y_train
    upper, lower = X[y == 0], X[y == 1] - torch.tensor([1.0, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(upper.norm(dim=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(lower.norm(dim=1), 1.0, atol=1e-6)
    assert torch.all(upper[:, 1] >= -1e-6) and torch.all(lower[:, 1] <= 1e-6)


@pytest.mark.parametrize(
    "make", [make_gap_regression, make_two_moons, make_spirals], ids=["gap", "moons", "spirals"]
)
def test_generators_are_deterministic_given_the_seed(make):
    a, b, c = make(seed=5), make(seed=5), make(seed=6)
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(a, f"X_{split}"), getattr(b, f"X_{split}"))
        assert torch.equal(getattr(a, f"y_{split}"), getattr(b, f"y_{split}"))
    assert not torch.equal(a.X_train, c.X_train)


def test_sparse_linear_regression_has_few_examples_and_a_sparse_truth():
    problem = make_sparse_linear_regression()
    assert problem.n_samples == 20 and problem.n_features == 200 and problem.n_samples < problem.n_features
    assert problem.X_train.shape == (20, 200) and problem.y_train.shape == (20,)
    assert problem.X_test.shape == (1000, 200) and problem.X_train.dtype == np.float64
    assert len(problem.support) == 10 and np.count_nonzero(problem.true_weights) == 10
    exact = make_sparse_linear_regression(noise_std=0.0, n_informative=3, seed=9)
    np.testing.assert_allclose(exact.X_train @ exact.true_weights, exact.y_train)
    np.testing.assert_allclose(exact.X_test @ exact.true_weights, exact.y_test)
    noisy = make_sparse_linear_regression(n_test=20_000, noise_std=0.5, seed=1)
    residual = noisy.y_test - noisy.X_test @ noisy.true_weights
    assert abs(residual.std() - 0.5) < 4 * 0.5 / math.sqrt(2 * 20_000)
    again = make_sparse_linear_regression()
    np.testing.assert_array_equal(again.X_train, problem.X_train)
    np.testing.assert_array_equal(again.true_weights, problem.true_weights)
    assert repr(problem).startswith("LinearRegressionProblem(n_samples=20, n_features=200, n_informative=10")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: make_gap_regression(n_train=0), ValueError, "n_train must be an int >= 1, got 0"),
        (lambda: make_gap_regression(noise_std=-0.1), ValueError, "noise_std must be a finite number >= 0"),
        (lambda: make_gap_regression(n_test=2.5), TypeError, "n_test must be an int"),
        (lambda: make_two_moons(n_samples=5), ValueError, r"n_samples must be at least 6 \(2 classes x 3 splits\)"),
        (lambda: make_two_moons(noise_std=float("nan")), ValueError, "noise_std must be a finite number"),
        (lambda: make_two_moons(fractions=(0.5, 0.6, -0.1)), ValueError, "fractions must all be positive"),
        (lambda: make_spirals(n_arms=1), ValueError, "n_arms must be an int >= 2"),
        (lambda: make_spirals(turns=0), ValueError, "turns must be a finite number > 0"),
        (lambda: make_spirals(n_samples=8, n_arms=3), ValueError, "n_samples must be at least 9"),
        (lambda: make_sparse_linear_regression(n_informative=201), ValueError, "n_informative must be at most"),
        (lambda: make_sparse_linear_regression(n_samples=0), ValueError, "n_samples must be an int >= 1"),
        (lambda: make_sparse_linear_regression(noise_std=-1), ValueError, "noise_std must be a finite number >= 0"),
        (lambda: make_sparse_linear_regression(seed=-3), ValueError, "seed must be an int >= 0"),
    ],
)
def test_generators_reject_bad_arguments_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- mini-batches ------------------------------------------------------------------------


@given(n=st.integers(1, 50), batch_size=st.integers(1, 60), seed=seeds)
def test_minibatches_cover_every_row_once_reproducibly(n, batch_size, seed):
    X = torch.arange(n, dtype=torch.float32)[:, None]
    y = torch.arange(n)

    def epoch() -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(iterate_minibatches(X, y, batch_size, generator=torch.Generator().manual_seed(seed)))

    batches = epoch()
    assert all(len(xb) <= batch_size for xb, _ in batches)
    assert len(batches) == math.ceil(n / batch_size) if batch_size < n else len(batches) == 1
    rows = torch.cat([yb for _, yb in batches])
    assert sorted(rows.tolist()) == list(range(n))
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in batches)  # pairs stay together
    assert all(torch.equal(a[1], b[1]) for a, b in zip(batches, epoch()))


def test_minibatches_full_batch_and_unshuffled():
    X, y = torch.randn(10, 3), torch.arange(10)
    ((xb, yb),) = list(iterate_minibatches(X, y))
    assert xb is X and yb is y
    ordered = torch.cat([yb for _, yb in iterate_minibatches(X, y, 3, shuffle=False)])
    assert ordered.tolist() == list(range(10))


def test_minibatches_validate_their_arguments():
    X, y = torch.randn(10, 3), torch.arange(10)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        iterate_minibatches(X, y, 0)
    with pytest.raises(ValueError, match="same number of rows"):
        iterate_minibatches(X, y[:-1], 2)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        iterate_minibatches(X, y, 2, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="X and y must be torch.Tensors"):
        iterate_minibatches(X.numpy(), y, 2)


# --- issue 12: hardening ---------------------------------------------------------------------


def _two_feature_parts() -> dict[str, torch.Tensor]:
    X, y = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    return {f"{v}_{s}": t for s in ("train", "val", "test") for v, t in (("X", X), ("y", y))}


@pytest.mark.parametrize("names", ["ab", b"ab", None, 2])
def test_data_splits_rejects_feature_names_that_are_not_a_sequence_of_names(names):
    with pytest.raises(TypeError, match="feature_names must be a sequence of names"):
        DataSplits(name="d", feature_names=names, class_names=("a", "b"), **_two_feature_parts())


def test_data_splits_rejects_a_str_as_class_names():
    with pytest.raises(TypeError, match="class_names must be a sequence of names"):
        DataSplits(name="d", feature_names=("x1", "x2"), class_names="ab", **_two_feature_parts())


def test_data_splits_accepts_any_sequence_of_names_and_converts_them_to_str():
    data = DataSplits(name="d", feature_names=np.array(["x1", "x2"]), class_names=[0, 1], **_two_feature_parts())
    assert data.feature_names == ("x1", "x2") and data.class_names == ("0", "1")


def test_subsample_and_train_val_split_reject_nan_labels():
    y = np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="y must not contain NaN"):
        stratified_subsample_indices(y, 3)
    with pytest.raises(ValueError, match="y must not contain NaN"):
        train_val_split(np.zeros((6, 2)), y, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="y must not contain NaN"):
        stratified_split_indices(y)


@pytest.mark.parametrize("x", [None, "1.0", [True, False], np.array([1 + 2j])])
def test_gap_regression_function_rejects_non_real_input_naming_x(x):
    with pytest.raises(TypeError, match="x must"):
        gap_regression_function(x)


def test_gap_regression_function_computes_integers_in_float():
    np.testing.assert_allclose(gap_regression_function(np.array([1], dtype=np.int8)), [math.sin(2.0) + 0.3])
    result = gap_regression_function(torch.tensor([1]))
    assert result.dtype == torch.float64 and math.isclose(result.item(), math.sin(2.0) + 0.3)


# --- the LinearRegressionProblem record ---------------------------------------


def _problem_fields(problem):
    return [problem.X_train, problem.y_train, problem.X_test, problem.y_test, problem.true_weights, problem.noise_std]


def test_linear_regression_problem_built_from_valid_fields_keeps_them():
    problem = make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3, seed=2)
    again = LinearRegressionProblem(*_problem_fields(problem))
    assert all(a is b for a, b in zip(_problem_fields(again), _problem_fields(problem)))  # no copies
    assert repr(again) == repr(problem) == (
        "LinearRegressionProblem(n_samples=5, n_features=7, n_informative=2, n_test=3, noise_std=0.5)"
    )
    converted = LinearRegressionProblem([[1, 2]], [3], [[4, 5]], [6], [1, 1], 0)
    assert converted.X_train.dtype == np.float64 and converted.noise_std == 0.0
    assert repr(converted) == "LinearRegressionProblem(n_samples=1, n_features=2, n_informative=2, n_test=1, noise_std=0.0)"


@pytest.mark.parametrize(
    ("index", "value", "error", "message"),
    [
        (0, None, TypeError, "X_train must be a 2-D real array, got NoneType None"),
        (1, None, TypeError, "y_train must be a 1-D real array, got NoneType None"),
        (2, "abc", TypeError, "X_test must be a 2-D real array, got str 'abc'"),
        (3, np.ones(3, dtype=bool), TypeError, "y_test must be a 1-D real array, got ndarray"),
        (4, None, TypeError, "true_weights must be a 1-D real array, got NoneType None"),
        (5, None, TypeError, "noise_std must be a real number, got NoneType None"),
        (5, -1.0, ValueError, "noise_std must be a finite number >= 0, got -1.0"),
        (0, np.ones(7), ValueError, r"X_train must be a 2-D real array of shape \(any, any\), got shape \(7,\)"),
        (1, np.ones(4), ValueError, r"y_train must be a 1-D real array of shape \(5,\), got shape \(4,\)"),
        (2, np.ones((3, 6)), ValueError, r"X_test must be a 2-D real array of shape \(any, 7\), got shape \(3, 6\)"),
        (3, np.ones(2), ValueError, r"y_test must be a 1-D real array of shape \(3,\), got shape \(2,\)"),
        (4, np.ones(6), ValueError, r"true_weights must be a 1-D real array of shape \(7,\), got shape \(6,\)"),
    ],
)
def test_linear_regression_problem_rejects_a_bad_field_by_name(index, value, error, message):
    fields = _problem_fields(make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3))
    fields[index] = value
    with pytest.raises(error, match=message):
        LinearRegressionProblem(*fields)


# --- issue 12: bad-input hardening found by tests/bad_inputs ---------------------------------


@pytest.mark.parametrize("entry", [None, 1.5, True])
def test_data_splits_rejects_a_name_that_is_not_a_str_or_int(entry):
    with pytest.raises(TypeError, match=r"feature_names\[0\] must be a str \(or an int\), got"):
        DataSplits(name="d", feature_names=(entry, "b"), class_names=("a", "b"), **_two_feature_parts())
    with pytest.raises(TypeError, match=r"class_names\[1\] must be a str \(or an int\), got"):
        DataSplits(name="d", feature_names=("x1", "x2"), class_names=("a", entry), **_two_feature_parts())


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_data_splits_rejects_non_finite_features_and_regression_targets(bad):
    parts = _two_feature_parts()
    parts["X_val"] = parts["X_val"].clone()
    parts["X_val"][1, 0] = bad
    with pytest.raises(ValueError, match=r"X_val must be finite, got .* at flat index 2"):
        DataSplits(name="d", feature_names=("x1", "x2"), class_names=("a", "b"), **parts)
    regression = {**_two_feature_parts(), **{f"y_{s}": torch.zeros(4) for s in ("train", "val", "test")}}
    regression["y_test"][3] = bad
    with pytest.raises(ValueError, match="y_test must be finite"):
        DataSplits(name="d", feature_names=("x1", "x2"), **regression)


def test_fractions_too_large_for_a_float_are_a_value_error():
    with pytest.raises(ValueError, match=r"fractions\[0\] must be a real number within the float range"):
        stratified_split_indices(np.repeat([0, 1], 5), (10**400, 0.5, 0.5))
    with pytest.raises(TypeError, match=r"fractions\[1\] must be a real number, got str"):
        stratified_split_indices(np.repeat([0, 1], 5), (0.5, "0.5"))


def test_labels_must_be_finite_and_not_complex():
    with pytest.raises(ValueError, match=r"y must not contain NaN or infinity .*got inf at index 1"):
        stratified_split_indices(np.array([0.0, np.inf, 1.0, 0.0, 1.0, 0.0]))
    with pytest.raises(TypeError, match="y must hold class labels .*got dtype complex128"):
        stratified_subsample_indices(np.array([0, 1, 0, 1]) + 0j, 2)


def test_train_val_split_rejects_non_finite_features_and_huge_fractions():
    X, y = np.zeros((6, 2)), np.array([0, 1, 0, 1, 0, 1])
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match="X must be finite, got nan at flat index 9"):
        train_val_split(X, y, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="val_fraction must be a real number within the float range"):
        train_val_split(np.zeros((6, 2)), y, 10**400, np.random.default_rng(0))


def test_boolean_flags_accept_numpy_bools_and_reject_ints():
    assert torch.equal(load_breast_cancer_splits(standardize=np.bool_(False)).X_train,
                       load_breast_cancer_splits(standardize=False).X_train)
    with pytest.raises(TypeError, match="standardize must be a bool, got int 1"):
        load_breast_cancer_splits(standardize=1)
    assert torch.equal(make_gap_regression(test_covers_gap=np.bool_(False)).X_test,
                       make_gap_regression(test_covers_gap=False).X_test)
    X, y = torch.arange(6.0)[:, None], torch.arange(6)
    assert len(list(iterate_minibatches(X, y, 2, shuffle=np.bool_(False)))) == 3
    with pytest.raises(TypeError, match="shuffle must be a bool, got int 1"):
        iterate_minibatches(X, y, 2, shuffle=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_gap_regression(n_train=2**63), r"n_train must be at most 10,000,000 .*got 9223372036854775808"),
        (lambda: make_two_moons(n_samples=10**400), "n_samples must be at most 10,000,000"),
        (lambda: make_spirals(n_samples=2**63), "n_samples must be at most 10,000,000"),
        (lambda: make_spirals(n_arms=2**63), r"n_samples must be at least .*\(n_arms = 9223372036854775808 classes"),
        (lambda: make_sparse_linear_regression(n_features=2**63), "n_features must be at most 10,000,000"),
        (lambda: make_sparse_linear_regression(n_test=10**6, n_features=100),
         r"n_test \* n_features must be at most 10,000,000 values, got 1000000 \* 100"),
    ],
)
def test_huge_sizes_are_rejected_before_any_allocation(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("make", [make_gap_regression, make_two_moons, make_spirals, make_sparse_linear_regression])
def test_noise_that_would_overflow_is_rejected(make):
    with pytest.raises(ValueError, match=r"noise_std must be at most 1e\+30 \(float32 features\), got 1e\+300"):
        make(noise_std=1e300)
    assert torch.isfinite(make_two_moons(noise_std=1e30).X_train).all()


def test_spiral_turns_whose_angle_overflows_are_rejected():
    with pytest.raises(ValueError, match=r"turns must be small enough that the angle 2\*pi\*\(turns \+ 1\) is finite"):
        make_spirals(turns=1e308)
    assert torch.isfinite(make_spirals(turns=1e300).X_train).all()


def test_gap_regression_function_rejects_non_finite_input_and_does_not_overflow_at_the_top_of_the_range():
    with pytest.raises(ValueError, match="x must be finite, got nan at flat index 1"):
        gap_regression_function(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="x must be finite, got inf at flat index 0"):
        gap_regression_function(torch.tensor([np.inf, 0.0]))
    x = np.array([1e308, -1.7e308, 1.0])
    with np.errstate(all="raise"):
        result = gap_regression_function(x)
    np.testing.assert_allclose(result, 2 * np.sin(x) * np.cos(x) + 0.3 * x, rtol=1e-12)
    assert result[2] == math.sin(2.0) + 0.3  # the usual formula below the top of the range
    big = gap_regression_function(torch.tensor([3e38, 1.0]))
    assert big.dtype == torch.float32 and torch.isfinite(big).all()


def test_minibatches_reject_non_finite_data():
    X, y = torch.arange(6.0)[:, None], torch.arange(6.0)
    X[2, 0] = math.nan
    with pytest.raises(ValueError, match="X must be finite, got nan at flat index 2"):
        iterate_minibatches(X, y, 2)
    with pytest.raises(ValueError, match="y must be finite, got -inf at flat index 0"):
        iterate_minibatches(torch.zeros(6, 1), torch.tensor([-math.inf, 0, 0, 0, 0, 0]), 2)


def test_linear_regression_problem_rejects_non_finite_fields_and_names_the_reference_of_a_mismatch():
    fields = _problem_fields(make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3))
    with_nan = [*fields]
    with_nan[3] = np.array([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="y_test must be finite, got nan at flat index 1"):
        LinearRegressionProblem(*with_nan)
    taller = [*fields]
    taller[0] = np.ones((6, 7))
    with pytest.raises(ValueError, match=r"y_train must be .* of shape \(6,\), got shape \(5,\): X_train has 6 rows"):
        LinearRegressionProblem(*taller)
    wider = [*fields]
    wider[0] = np.ones((5, 8))
    with pytest.raises(ValueError, match=r"X_test must be .* \(any, 8\), got shape \(3, 7\): X_train has 8 columns"):
        LinearRegressionProblem(*wider)

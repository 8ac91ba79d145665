"""Tests of course_lib.metrics: hand-computed cases, properties, and the scikit-learn / torchmetrics references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, log_loss
from torchmetrics.functional.classification import multiclass_calibration_error

from course_lib.metrics import (
    MAX_BINS,
    ReliabilityDiagram,
    accuracy,
    brier_score,
    expected_calibration_error,
    nll,
    reliability_diagram,
)

PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0]])
LABELS = np.array([0, 2, 2, 1])


def _random_probs(rng: np.random.Generator, n: int, c: int, sharpness: float = 3.0) -> np.ndarray:
    logits = rng.normal(size=(n, c)) * sharpness
    return torch.softmax(torch.tensor(logits), dim=1).numpy()


# --- hand-computed values ---------------------------------------------------------------------------


def test_accuracy_by_hand_with_ties_going_to_the_lowest_class() -> None:
    # predictions 0, 1, 2 and 0 (the tie of row 3 goes to class 0): rows 0 and 2 are right
    assert accuracy(PROBS, LABELS) == 0.5


def test_nll_by_hand() -> None:
    expected = -(math.log(0.7) + math.log(0.3) + math.log(0.4) + math.log(0.5)) / 4
    assert nll(PROBS, LABELS) == pytest.approx(expected, rel=1e-14)


def test_nll_of_a_zero_probability_is_clamped_and_finite() -> None:
    value = nll([[1.0, 0.0]], [1])
    assert math.isfinite(value) and value == pytest.approx(-math.log(np.finfo(np.float64).tiny))


def test_brier_score_by_hand() -> None:
    rows = [
        0.3**2 + 0.2**2 + 0.1**2,
        0.1**2 + 0.6**2 + 0.7**2,
        0.3**2 + 0.3**2 + 0.6**2,
        0.5**2 + 0.5**2 + 0.0**2,
    ]
    assert brier_score(PROBS, LABELS) == pytest.approx(sum(rows) / 4, rel=1e-14)


def test_one_hot_probs_score_perfectly_or_worst() -> None:
    one_hot = np.eye(3)[[0, 1, 2, 1]]
    right, wrong = np.array([0, 1, 2, 1]), np.array([1, 2, 0, 0])
    assert accuracy(one_hot, right) == 1.0 and accuracy(one_hot, wrong) == 0.0
    assert nll(one_hot, right) == 0.0
    assert brier_score(one_hot, right) == 0.0 and brier_score(one_hot, wrong) == 2.0
    assert expected_calibration_error(one_hot, right) == 0.0 and expected_calibration_error(one_hot, wrong) == 1.0


def test_integer_one_hot_probs_are_probabilities() -> None:
    one_hot = np.eye(2, dtype=np.int64)[[0, 1, 1]]
    assert brier_score(one_hot, [0, 1, 0]) == pytest.approx(2 / 3)


def test_reliability_diagram_by_hand() -> None:
    # confidences 0.7, 0.6, 0.4, 0.5 with correct = 1, 0, 1, 0; bins (0, .5], (.5, 1]
    diagram = reliability_diagram(PROBS, LABELS, n_bins=2)
    assert isinstance(diagram, ReliabilityDiagram)
    np.testing.assert_array_equal(diagram.edges, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(diagram.count, [2, 2])
    np.testing.assert_allclose(diagram.confidence, [0.45, 0.65], rtol=1e-14)
    np.testing.assert_allclose(diagram.accuracy, [0.5, 0.5], rtol=1e-14)
    # ECE = 1/2 |0.5 - 0.45| + 1/2 |0.5 - 0.65|
    assert expected_calibration_error(PROBS, LABELS, n_bins=2) == pytest.approx(0.1, rel=1e-12)


def test_ece_docstring_example_by_hand() -> None:
    # confidences 0.9 (right) and 0.6 (wrong), in separate bins: (|1 - 0.9| + |0 - 0.6|) / 2
    assert expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=10) == pytest.approx(0.35)


@pytest.mark.parametrize("edge", [1, 2, 3, 5, 7, 9])
def test_confidence_on_an_edge_joins_the_bin_it_closes(edge: int) -> None:
    """(lo, hi]: a confidence of exactly m/10 lies in bin m - 1, e.g. 0.3 in (0.2, 0.3]."""
    confidence = edge / 10
    probs = np.array([[confidence, 1 - confidence]]) if confidence >= 0.5 else np.array([[confidence] + [(1 - confidence) / 9] * 9])
    assert probs[0].max() == confidence
    diagram = reliability_diagram(probs, [0], n_bins=10)
    assert diagram.count.tolist() == [1 if m == edge - 1 else 0 for m in range(10)]
    assert diagram.edges[edge - 1] < confidence <= diagram.edges[edge]


def test_confidence_of_one_joins_the_last_bin() -> None:
    diagram = reliability_diagram([[1.0, 0.0]], [0], n_bins=15)
    assert diagram.count[-1] == 1 and diagram.count.sum() == 1


def test_empty_bins_have_count_zero_and_nan_statistics() -> None:
    diagram = reliability_diagram(PROBS, LABELS, n_bins=10)
    np.testing.assert_array_equal(diagram.count, [0, 0, 0, 1, 1, 1, 1, 0, 0, 0])
    empty = diagram.count == 0
    assert np.isnan(diagram.confidence[empty]).all() and np.isnan(diagram.accuracy[empty]).all()
    assert np.isfinite(diagram.confidence[~empty]).all() and np.isfinite(diagram.accuracy[~empty]).all()
    assert math.isfinite(expected_calibration_error(PROBS, LABELS, n_bins=10))


def test_perfectly_calibrated_predictions_have_zero_ece() -> None:
    # 10 predictions at confidence 0.8, of which 8 are right; 4 at 0.5 (below: the argmax is class 0), 2 right
    probs = np.array([[0.8, 0.2]] * 10 + [[0.5, 0.5]] * 4)
    labels = np.array([0] * 8 + [1] * 2 + [0] * 2 + [1] * 2)
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(0.0, abs=1e-15)
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(abs(10 / 14 - (8 + 2) / 14), abs=1e-15)


def test_one_bin_ece_is_the_gap_between_accuracy_and_mean_confidence() -> None:
    rng = np.random.default_rng(0)
    probs, labels = _random_probs(rng, 50, 4), rng.integers(0, 4, 50)
    expected = abs(accuracy(probs, labels) - probs.max(axis=1).mean())
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(expected, rel=1e-12)


# --- inputs: torch and numpy, dtypes -----------------------------------------------------------------


@pytest.mark.parametrize("function", [accuracy, nll, brier_score, expected_calibration_error])
def test_torch_and_numpy_inputs_agree(function) -> None:
    rng = np.random.default_rng(1)
    probs, labels = _random_probs(rng, 40, 5), rng.integers(0, 5, 40)
    expected = function(probs, labels)
    assert function(torch.tensor(probs), torch.tensor(labels)) == expected
    assert function(torch.tensor(probs).requires_grad_(True), labels.astype(np.int32)) == expected
    assert function(probs.tolist(), labels.tolist()) == expected


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_half_and_single_precision_softmax_rows_are_accepted(dtype) -> None:
    logits = torch.tensor(np.random.default_rng(2).normal(size=(500, 10)) * 3)
    probs = torch.softmax(logits.to(dtype), dim=1)
    labels = torch.arange(500) % 10
    # float16/bfloat16 rows sum to 1 only within a few of their eps (more than ROW_SUM_TOLERANCE): still accepted
    expected = -np.log(probs.double().numpy()[np.arange(500), labels.numpy()]).mean()
    assert nll(probs, labels) == pytest.approx(expected, rel=1e-12)
    assert 0.0 <= expected_calibration_error(probs, labels) <= 1.0


def test_logits_are_rejected_with_a_hint() -> None:
    with pytest.raises(ValueError, match="probs must lie in"):
        nll(np.array([[2.0, -1.0]]), [0])
    with pytest.raises(ValueError, match="not logits"):
        nll(np.array([[0.5, 0.6]]), [0])


@pytest.mark.parametrize(
    ("probs", "labels", "error", "message"),
    [
        (None, [0], TypeError, "probs"),
        ("0.5", [0], TypeError, "probs"),
        (np.array([[0.5, 0.5]], dtype=complex), [0], TypeError, "probs"),
        (np.array([[True, False]]), [0], TypeError, "probs"),
        (np.array([0.5, 0.5]), [0], ValueError, "shape"),
        (np.empty((0, 2)), np.empty(0, dtype=int), ValueError, "at least one row"),
        (np.array([[1.0]]), [0], ValueError, "at least 2 classes"),
        (np.array([[np.nan, 0.5]]), [0], ValueError, "finite"),
        (np.array([[0.5, 0.5]]), [0.0], TypeError, "labels"),
        (np.array([[0.5, 0.5]]), [True], TypeError, "labels"),
        (np.array([[0.5, 0.5]]), [2], ValueError, r"labels must be classes in \[0, 2\)"),
        (np.array([[0.5, 0.5]]), [-1], ValueError, "labels"),
        (np.array([[0.5, 0.5]]), np.array([2**64 - 1], dtype=np.uint64), ValueError, "labels"),
        (np.array([[0.5, 0.5]]), [0, 1], ValueError, "labels must have shape"),
        (np.array([[0.5, 0.5]]), torch.tensor([0.0]), TypeError, "labels"),
    ],
)
def test_bad_inputs_name_the_argument(probs, labels, error, message) -> None:
    with pytest.raises(error, match=message):
        accuracy(probs, labels)


@pytest.mark.parametrize("n_bins", [0, -1, MAX_BINS + 1])
def test_bad_n_bins(n_bins) -> None:
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(PROBS, LABELS, n_bins)
    with pytest.raises(TypeError, match="n_bins"):
        expected_calibration_error(PROBS, LABELS, 2.0)


def test_reliability_diagram_record_checks_its_fields() -> None:
    diagram = reliability_diagram(PROBS, LABELS, n_bins=4)
    rebuilt = ReliabilityDiagram(*(field.tolist() for field in diagram))  # lists are converted
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(rebuilt, diagram))
    with pytest.raises(ValueError, match="confidence must be NaN exactly at the empty bins"):
        diagram._replace(confidence=np.nan_to_num(diagram.confidence))
    with pytest.raises(ValueError, match="edges"):
        diagram._replace(edges=diagram.edges[::-1])
    with pytest.raises(ValueError, match="count"):
        diagram._replace(count=-diagram.count)
    with pytest.raises(ValueError, match="count"):
        diagram._replace(count=diagram.count + 0.5)
    with pytest.raises(TypeError, match="count"):
        diagram._replace(count=diagram.count > 0)


# --- properties --------------------------------------------------------------------------------------


@st.composite
def predictions(draw) -> tuple[np.ndarray, np.ndarray, int]:
    n, c = draw(st.integers(1, 40)), draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    sharpness = draw(st.sampled_from([0.0, 0.5, 3.0, 30.0]))
    rng = np.random.default_rng(seed)
    return _random_probs(rng, n, c, sharpness), rng.integers(0, c, n), draw(st.integers(1, 30))


@settings(max_examples=60, deadline=None)
@given(predictions())
def test_metric_ranges(args) -> None:
    probs, labels, n_bins = args
    ece = expected_calibration_error(probs, labels, n_bins)
    correct = probs.argmax(axis=1) == labels
    assert 0.0 <= ece <= 1.0
    # the triangle inequality over each bin: ECE <= mean |correct - confidence| (the ECE of one example per bin)
    assert ece <= np.mean(np.abs(correct - probs.max(axis=1))) + 1e-12
    assert 0.0 <= accuracy(probs, labels) <= 1.0
    assert 0.0 <= brier_score(probs, labels) <= 2.0 + 1e-12
    assert nll(probs, labels) >= 0.0


@settings(max_examples=40, deadline=None)
@given(predictions())
def test_reliability_diagram_properties(args) -> None:
    probs, labels, n_bins = args
    diagram = reliability_diagram(probs, labels, n_bins)
    filled = diagram.count > 0
    assert diagram.count.sum() == len(labels) and len(diagram.edges) == n_bins + 1
    # each bin's mean confidence lies in the bin (lo, hi]
    low, high = diagram.edges[:-1][filled], diagram.edges[1:][filled]
    assert (diagram.confidence[filled] <= high).all() and (diagram.confidence[filled] >= low).all()
    # the accuracy of the bins, weighted by their counts, is the overall accuracy
    overall = np.sum(diagram.accuracy[filled] * diagram.count[filled]) / len(labels)
    assert overall == pytest.approx(accuracy(probs, labels), abs=1e-12)


# --- reference implementations -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs, labels = _random_probs(rng, 200, 6), rng.integers(0, 6, 200)
    assert accuracy(probs, labels) == accuracy_score(labels, probs.argmax(axis=1))
    assert nll(probs, labels) == pytest.approx(log_loss(labels, probs, labels=range(6)), rel=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_ece_agrees_with_torchmetrics(seed: int) -> None:
    """torchmetrics' ``multiclass_calibration_error(norm="l1")`` is the same ECE with 15 equal-width bins.

    It assigns bins with ``torch.bucketize(confidence, edges, right=True) - 1``, i.e. left-closed
    bins [lo, hi), while ours are (lo, hi] (Guo et al., 2017): the two agree unless a confidence
    falls exactly on an edge m/15. The random float64 softmax confidences here are never exactly
    on an edge, and the test asserts so before comparing.
    """
    rng = np.random.default_rng(100 + seed)
    probs, labels = _random_probs(rng, 500, 10, sharpness=1.5 + seed), rng.integers(0, 10, 500)
    confidence = probs.max(axis=1)
    assert not np.isin(confidence, np.arange(16) / 15).any()
    reference = multiclass_calibration_error(
        torch.tensor(probs), torch.tensor(labels), num_classes=10, n_bins=15, norm="l1"
    )
    assert expected_calibration_error(probs, labels, n_bins=15) == pytest.approx(float(reference), abs=1e-6)

"""Valid calls of course_lib.metrics.

The probabilities are dyadic fractions (exact in float16, bfloat16 and float32), so a call with
another floating dtype means the same numbers. Labels are an int64 tensor: the catalogue's integer
tensor variants carry no float "equivalent" (a float label is not a class). The checks compute each
metric again from the definitions, with Python loops over the rows.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib import metrics

from .runner import Case

_PROBS = np.array([[0.75, 0.125, 0.125], [0.25, 0.5, 0.25], [0.125, 0.25, 0.625], [0.5, 0.25, 0.25]])


def _valid(torch_probs: bool = False, n_bins: int | None = None) -> dict:
    kwargs = dict(probs=torch.tensor(_PROBS, dtype=torch.float32) if torch_probs else _PROBS.copy(), labels=torch.tensor([0, 2, 2, 1]))
    if n_bins is not None:
        kwargs["n_bins"] = n_bins
    return kwargs


def _rows(kwargs) -> tuple[list[list[float]], list[int]]:
    probs, labels = kwargs["probs"], kwargs["labels"]
    probs = probs.detach().double().tolist() if isinstance(probs, torch.Tensor) else np.asarray(probs, dtype=np.float64).tolist()
    labels = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    return probs, [int(y) for y in labels]


def _predicted(row: list[float]) -> int:
    return max(range(len(row)), key=lambda c: (row[c], -c))  # the largest probability, the lowest class on ties


def _verify_accuracy(value, kwargs) -> None:
    rows, labels = _rows(kwargs)
    assert value == sum(_predicted(r) == y for r, y in zip(rows, labels)) / len(rows)


def _verify_nll(value, kwargs) -> None:
    rows, labels = _rows(kwargs)
    expected = -sum(math.log(max(r[y], 2.2250738585072014e-308)) for r, y in zip(rows, labels)) / len(rows)
    assert math.isclose(value, expected, rel_tol=1e-12), (value, expected)


def _verify_brier(value, kwargs) -> None:
    rows, labels = _rows(kwargs)
    expected = sum(sum((p - (c == y)) ** 2 for c, p in enumerate(r)) for r, y in zip(rows, labels)) / len(rows)
    assert math.isclose(value, expected, rel_tol=1e-12), (value, expected)


def _bins_by_hand(kwargs) -> tuple[int, list[list[tuple[float, bool]]]]:
    """Each bin's (confidence, correct) pairs; bin m is (m/M, (m+1)/M] with the edges rounded as m / M."""
    rows, labels = _rows(kwargs)
    n_bins = int(kwargs.get("n_bins", 15))
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for row, label in zip(rows, labels):
        confidence = max(row)
        index = sum(1 for m in range(1, n_bins) if m / n_bins < confidence)
        bins[index].append((confidence, _predicted(row) == label))
    return n_bins, bins


def _verify_diagram(diagram, kwargs) -> None:
    n_bins, bins = _bins_by_hand(kwargs)
    assert isinstance(diagram, metrics.ReliabilityDiagram)
    assert diagram.edges.tolist() == [m / n_bins for m in range(n_bins + 1)]
    assert diagram.count.tolist() == [len(b) for b in bins]
    for m, members in enumerate(bins):
        if not members:
            assert math.isnan(diagram.confidence[m]) and math.isnan(diagram.accuracy[m]), m
            continue
        assert math.isclose(diagram.confidence[m], sum(c for c, _ in members) / len(members), rel_tol=1e-12)
        assert diagram.accuracy[m] == sum(ok for _, ok in members) / len(members)


def _verify_ece(value, kwargs) -> None:
    _, bins = _bins_by_hand(kwargs)
    n = sum(len(b) for b in bins)
    expected = sum(
        len(b) / n * abs(sum(ok for _, ok in b) / len(b) - sum(c for c, _ in b) / len(b)) for b in bins if b
    )
    assert 0.0 <= value <= 1.0 and math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-15), (value, expected)


def _diagram_fields() -> dict:
    # reliability_diagram(_PROBS, [0, 2, 2, 1], n_bins=2): confidences 0.75, 0.5, 0.625, 0.5, right twice
    return dict(
        edges=np.array([0.0, 0.5, 1.0]), confidence=np.array([0.5, 0.6875]), accuracy=np.array([0.5, 0.5]),
        count=np.array([2, 2]),
    )


def _as_float_list(value) -> list[float]:
    if isinstance(value, torch.Tensor):
        return value.detach().double().tolist()
    return np.asarray(value, dtype=np.float64).tolist()


def _verify_record(diagram, kwargs) -> None:
    assert isinstance(diagram, metrics.ReliabilityDiagram)
    for name in ("edges", "confidence", "accuracy", "count"):
        assert np.array_equal(getattr(diagram, name), _as_float_list(kwargs[name]), equal_nan=True), name
    assert diagram.count.dtype == np.int64


_EMPTY_BINS = "an empty bin's mean confidence and accuracy are NaN (its count is 0); the check requires exactly those"

CASES = [
    Case("metrics.accuracy", metrics.accuracy, _valid, _verify_accuracy),
    Case("metrics.accuracy[torch]", metrics.accuracy, lambda: _valid(True), _verify_accuracy),
    Case("metrics.nll", metrics.nll, _valid, _verify_nll),
    Case("metrics.nll[torch]", metrics.nll, lambda: _valid(True), _verify_nll),
    Case("metrics.brier_score", metrics.brier_score, _valid, _verify_brier),
    Case("metrics.brier_score[torch]", metrics.brier_score, lambda: _valid(True), _verify_brier),
    Case("metrics.reliability_diagram", metrics.reliability_diagram, lambda: _valid(n_bins=2), _verify_diagram, non_finite=_EMPTY_BINS),
    Case("metrics.reliability_diagram[torch]", metrics.reliability_diagram, lambda: _valid(True, n_bins=4), _verify_diagram, non_finite=_EMPTY_BINS),
    Case("metrics.expected_calibration_error", metrics.expected_calibration_error, lambda: _valid(n_bins=4), _verify_ece),
    Case("metrics.expected_calibration_error[torch]", metrics.expected_calibration_error, lambda: _valid(True, n_bins=3), _verify_ece),
    Case("metrics.ReliabilityDiagram", metrics.ReliabilityDiagram, _diagram_fields, _verify_record),
]

"""Valid calls of course_lib.losses.

The logits and class weights are dyadic fractions (exact in float16, bfloat16 and float32), so a
call with another floating dtype means the same numbers. Targets are int64 tensors with one label
equal to ``ignore_index``; the catalogue's integer-tensor variants carry no float "equivalent" (a
float label is not a class). The checks compute every loss again from its definition, in float64
with Python loops over the examples, and temperature scaling's result against a grid of the NLL.

PyTorch's weighted mean divides by the summed weight of the examples not ignored: where that sum
is 0 (every example ignored, or every weight 0) the mean is 0 / 0 = NaN, as in PyTorch. Those cases
declare ``non_finite`` and their check requires NaN exactly there and finite values everywhere else.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib import losses

from .runner import Case

_LOGITS = [[0.5, -1.0, 2.0, 0.25], [1.5, 0.0, -0.5, 0.75], [-2.0, 1.0, 0.25, 0.5], [0.0, 0.5, -0.25, 3.0], [1.0, 1.0, -1.5, 0.0]]
_TARGET = [0, 3, -100, 2, 1]
_WEIGHT = [0.5, 1.0, 2.0, 0.25]
_NAN_MEAN = "PyTorch's weighted mean is 0 / 0 = NaN when the examples not ignored weigh 0 in all; the check requires NaN exactly then"


def _rows_of(logits: torch.Tensor) -> list[list[float]]:
    """The logits as a list of K-vectors, one per example and position: (N, C, d1, ...) → (N * d1 * ..., C)."""
    z = logits.detach().double().numpy()
    return np.moveaxis(z, 1, -1).reshape(-1, z.shape[1]).tolist()


def _log_softmax(row: list[float]) -> list[float]:
    top = max(row)
    log_normaliser = top + math.log(math.fsum(math.exp(v - top) for v in row))
    return [v - log_normaliser for v in row]


def _loss_by_hand(logits: torch.Tensor, target: torch.Tensor, smoothing: float, weight, ignore_index: int, reduction: str):
    """``(per-example losses, summed weight of the examples kept)``, or the reduced value, from the definition."""
    classes = logits.shape[1]
    w = [1.0] * classes if weight is None else weight.detach().double().tolist()
    per_example, kept_weight = [], 0.0
    for row, label in zip(_rows_of(logits), target.reshape(-1).tolist()):
        if label == ignore_index:
            per_example.append(0.0)
            continue
        log_p = _log_softmax(row)
        hard = -w[label] * log_p[label]
        uniform = -math.fsum(w[c] * log_p[c] for c in range(classes))
        per_example.append((1 - smoothing) * hard + smoothing / classes * uniform)
        kept_weight += w[label]
    if reduction == "none":
        return np.array(per_example).reshape(target.shape)
    if reduction == "sum":
        return math.fsum(per_example)
    return math.fsum(per_example) / kept_weight if kept_weight > 0 else math.nan


def _close(value: torch.Tensor, expected, dtype: torch.dtype) -> None:
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    got = value.detach().double().numpy()
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0.0, equal_nan=True)
    assert np.isfinite(got).all() or not np.isfinite(expected).all(), got


# --- smooth_targets ------------------------------------------------------------------------------


def _verify_smooth_targets(q, kwargs) -> None:
    target, classes, smoothing = kwargs["target"], int(kwargs["num_classes"]), float(kwargs["smoothing"])
    dtype = kwargs.get("dtype") or torch.get_default_dtype()
    assert isinstance(q, torch.Tensor) and q.dtype == dtype and q.shape == (*target.shape, classes), (q.dtype, q.shape)
    labels = target.reshape(-1).tolist()
    expected = [[(1 - smoothing) * (c == y) + smoothing / classes for c in range(classes)] for y in labels]
    expected = np.array(expected, dtype=np.float64).reshape(q.shape)
    np.testing.assert_allclose(q.double().numpy(), expected, rtol=1e-6 if dtype == torch.float32 else 1e-15, atol=1e-300)
    if q.numel():
        np.testing.assert_allclose(q.double().sum(dim=-1).numpy(), 1.0, rtol=1e-6)


# --- label_smoothing_cross_entropy and the module -------------------------------------------------


def _loss_valid(reduction: str = "mean", weighted: bool = True, spatial: bool = False, dtype: torch.dtype = torch.float32) -> dict:
    logits = torch.tensor(_LOGITS, dtype=dtype)
    target = torch.tensor(_TARGET)
    if spatial:  # (N, C, d1) logits, (N, d1) targets: the same five rows as one example with five positions and another
        logits = torch.stack([logits.T, logits.flip(0).T])
        target = torch.stack([target, target.flip(0)])
    kwargs = dict(logits=logits, target=target, smoothing=0.25, ignore_index=-100, reduction=reduction)
    kwargs["weight"] = torch.tensor(_WEIGHT, dtype=torch.float32) if weighted else None
    return kwargs


def _verify_loss(value, kwargs) -> None:
    logits = kwargs["logits"]
    dtype = torch.float32 if logits.dtype in (torch.float16, torch.bfloat16) else logits.dtype
    reduction = kwargs.get("reduction", "mean")
    assert isinstance(value, torch.Tensor) and value.dtype == dtype, (type(value), getattr(value, "dtype", None))
    expected_shape = tuple(kwargs["target"].shape) if reduction == "none" else ()
    assert tuple(value.shape) == expected_shape, value.shape
    expected = _loss_by_hand(
        logits, kwargs["target"], float(kwargs.get("smoothing", 0.1)), kwargs.get("weight"), int(kwargs.get("ignore_index", -100)), reduction
    )
    _close(value, expected, dtype)


def _module_logits(classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed logits with ``classes`` columns and targets in range, the third example ignored (-100)."""
    logits = torch.tensor([[((3 * i + 5 * c) % 7) / 4 - 0.75 for c in range(classes)] for i in range(5)])
    target = torch.tensor([i % classes for i in range(5)])
    target[2] = -100
    return logits, target


def _verify_module(module, kwargs) -> None:
    assert isinstance(module, losses.LabelSmoothingCrossEntropy)
    smoothing, weight = float(kwargs.get("smoothing", 0.1)), kwargs.get("weight")
    ignore_index, reduction = int(kwargs.get("ignore_index", -100)), kwargs.get("reduction", "mean")
    assert module.smoothing == smoothing and module.ignore_index == ignore_index and module.reduction == reduction
    if weight is None:
        assert module.weight is None and "weight" not in module.state_dict()
    else:
        assert torch.equal(module.state_dict()["weight"].double(), weight.detach().double())
    classes = 4 if weight is None else weight.shape[0]
    logits, target = _module_logits(classes)
    if ignore_index != -100:
        target = target.masked_fill(target == -100, ignore_index if 0 <= ignore_index < classes else 0)
    value = module(logits, target)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
    _close(value, _loss_by_hand(logits, target, smoothing, weight, ignore_index, reduction), torch.float32)


def _forward_valid() -> dict:
    module = losses.LabelSmoothingCrossEntropy(smoothing=0.25, weight=torch.tensor(_WEIGHT), reduction="sum")
    return dict(self=module, logits=torch.tensor(_LOGITS), target=torch.tensor(_TARGET))


def _verify_forward(value, kwargs) -> None:
    module = kwargs["self"]
    _verify_loss(value, dict(logits=kwargs["logits"], target=kwargs["target"], smoothing=module.smoothing, weight=module.weight,
                             ignore_index=module.ignore_index, reduction=module.reduction))


# --- optimal_logit_gap ---------------------------------------------------------------------------


def _verify_gap(gap, kwargs) -> None:
    classes, smoothing = int(kwargs["num_classes"]), float(kwargs["smoothing"])
    convention = kwargs.get("convention", "uniform")
    assert isinstance(gap, float)
    if smoothing == 0.0:
        assert gap == math.inf, gap
        return
    assert math.isfinite(gap), gap
    # log(q_y / q_c) from the target distribution of the convention, in exact rational arithmetic where it is representable
    from fractions import Fraction

    e, k = Fraction(smoothing), Fraction(classes)
    q_target, q_other = (1 - e + e / k, e / k) if convention == "uniform" else (1 - e, e / (k - 1))
    ratio = q_target / q_other
    expected = math.log(ratio.numerator) - math.log(ratio.denominator)
    assert math.isclose(gap, expected, rel_tol=1e-12, abs_tol=1e-12), (gap, expected)


# --- optimal_logits ------------------------------------------------------------------------------


def _verify_optimal_logits(z, kwargs) -> None:
    """``log q`` minus each row's mean of ``log q``, computed row by row with ``math``; rows sum to 0, softmax is q."""
    targets = kwargs["targets"]
    q = targets.detach().double().numpy() if isinstance(targets, torch.Tensor) else np.asarray(targets, dtype=np.float64)
    assert isinstance(z, np.ndarray) and z.dtype == np.float64 and z.shape == q.shape, (type(z), getattr(z, "shape", None))
    rows, logit_rows = q.reshape(-1, q.shape[-1]).tolist(), z.reshape(-1, q.shape[-1])
    for row, logits in zip(rows, logit_rows):
        logs = [math.log(value) for value in row]
        mean = math.fsum(logs) / len(logs)
        np.testing.assert_allclose(logits, [value - mean for value in logs], rtol=1e-12, atol=1e-12)
        assert abs(math.fsum(logits.tolist())) <= 1e-12 * max(1.0, float(np.abs(logits).max())) * len(row), logits
        softmax = np.exp(logits - logits.max())
        np.testing.assert_allclose(softmax / softmax.sum(), np.array(row) / math.fsum(row), rtol=1e-9)


# --- temperature_scale ---------------------------------------------------------------------------

_VAL_LOGITS = np.array([[2.0, 0.5, -1.0], [0.25, 1.5, 0.0], [1.0, -0.5, 0.75], [-1.0, 0.5, 2.5], [0.0, 1.0, -0.25], [3.0, -1.0, 0.5]])
_VAL_LABELS = [0, 2, 2, 2, 1, 1]


def _nll_at(log_temperature: float, rows: list[list[float]], labels: list[int]) -> float:
    temperature = math.exp(log_temperature)
    return math.fsum(-_log_softmax([v / temperature for v in row])[y] for row, y in zip(rows, labels)) / len(rows)


def _verify_temperature(temperature, kwargs) -> None:
    logits, labels = kwargs["logits_val"], kwargs["labels_val"]
    rows = logits.detach().double().tolist() if isinstance(logits, torch.Tensor) else np.asarray(logits, dtype=np.float64).tolist()
    labels = [int(y) for y in (labels.tolist() if hasattr(labels, "tolist") else labels)]
    assert isinstance(temperature, float) and 1e-3 * (1 - 1e-9) <= temperature <= 1e3 * (1 + 1e-9), temperature
    best = _nll_at(math.log(temperature), rows, labels)
    grid = np.linspace(math.log(1e-3), math.log(1e3), 401)
    lowest = min(_nll_at(t, rows, labels) for t in grid)
    assert best <= lowest + 1e-9 * abs(lowest) + 1e-12, (temperature, best, lowest)


def _temperature_valid(torch_input: bool = False) -> dict:
    if torch_input:
        return dict(logits_val=torch.tensor(_VAL_LOGITS, dtype=torch.float32), labels_val=np.array(_VAL_LABELS))
    return dict(logits_val=_VAL_LOGITS.copy(), labels_val=torch.tensor(_VAL_LABELS))


CASES = [
    Case("losses.smooth_targets", losses.smooth_targets,
         lambda: dict(target=torch.tensor([2, 0, 3, 3]), num_classes=4, smoothing=0.25), _verify_smooth_targets),
    Case("losses.smooth_targets[float64]", losses.smooth_targets,
         lambda: dict(target=torch.tensor([[1, 0], [2, 1]]), num_classes=3, smoothing=0.1, dtype=torch.float64), _verify_smooth_targets),
    Case("losses.label_smoothing_cross_entropy", losses.label_smoothing_cross_entropy, _loss_valid, _verify_loss, non_finite=_NAN_MEAN),
    Case("losses.label_smoothing_cross_entropy[sum, (N, C, d1), float64]", losses.label_smoothing_cross_entropy,
         lambda: _loss_valid("sum", weighted=False, spatial=True, dtype=torch.float64), _verify_loss),
    Case("losses.label_smoothing_cross_entropy[none]", losses.label_smoothing_cross_entropy,
         lambda: _loss_valid("none"), _verify_loss),
    Case("losses.LabelSmoothingCrossEntropy", losses.LabelSmoothingCrossEntropy,
         lambda: dict(smoothing=0.25, weight=torch.tensor(_WEIGHT), ignore_index=-100, reduction="mean"), _verify_module,
         non_finite=_NAN_MEAN),
    Case("losses.LabelSmoothingCrossEntropy.forward", losses.LabelSmoothingCrossEntropy.forward, _forward_valid, _verify_forward,
         fixed={"self": "the module whose forward is called"}),
    Case("losses.optimal_logit_gap", losses.optimal_logit_gap, lambda: dict(num_classes=10, smoothing=0.1, convention="uniform"),
         _verify_gap, non_finite="without smoothing the optimal gap is infinite: math.inf exactly when smoothing is 0"),
    Case("losses.optimal_logit_gap[others]", losses.optimal_logit_gap, lambda: dict(num_classes=5, smoothing=0.25, convention="others"),
         _verify_gap, non_finite="without smoothing the optimal gap is infinite: math.inf exactly when smoothing is 0"),
    # dyadic probabilities: the float16, bfloat16 and float32 copies of the targets are the same numbers
    Case("losses.optimal_logits", losses.optimal_logits, lambda: dict(targets=np.array([0.125, 0.5, 0.25, 0.125])),
         _verify_optimal_logits),
    Case("losses.optimal_logits[torch, (N, K)]", losses.optimal_logits,
         lambda: dict(targets=losses.smooth_targets(torch.tensor([2, 0, 3]), 4, 0.25)), _verify_optimal_logits),
    Case("losses.temperature_scale", losses.temperature_scale, _temperature_valid, _verify_temperature),
    Case("losses.temperature_scale[torch]", losses.temperature_scale, lambda: _temperature_valid(True), _verify_temperature),
]

"""Tests of course_lib.losses: smoothed targets, the smoothed cross-entropy against PyTorch's, the optimal gap, temperature scaling.

The reference for the loss is ``F.cross_entropy(..., label_smoothing=ε)`` (and ``nn.CrossEntropyLoss``),
compared on random inputs drawn by hypothesis, gradients included. The optimal logit gap is checked
against a direct numerical minimisation of the expected loss over a logit vector, under both
conventions; the fitted temperature against a fine grid search of the validation NLL.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib.losses import (
    LabelSmoothingCrossEntropy,
    label_smoothing_cross_entropy,
    optimal_logit_gap,
    optimal_logits,
    smooth_targets,
    temperature_scale,
)

DTYPES = (torch.float32, torch.float64)


def _tolerance(dtype: torch.dtype) -> dict:
    return dict(rtol=1e-6, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)


def _random_problem(seed: int, n: int, c: int, spatial: tuple[int, ...] = (), dtype: torch.dtype = torch.float64,
                    ignore_fraction: float = 0.0, ignore_index: int = -100, scale: float = 3.0):
    """Logits of shape (n, c, *spatial), targets of shape (n, *spatial) with about ``ignore_fraction`` ignored, positive weights."""
    rng = np.random.default_rng(seed)
    logits = torch.tensor(rng.normal(scale=scale, size=(n, c, *spatial)), dtype=dtype)
    target = torch.tensor(rng.integers(c, size=(n, *spatial)))
    target[torch.tensor(rng.random(size=(n, *spatial)) < ignore_fraction)] = ignore_index
    weight = torch.tensor(rng.uniform(0.1, 3.0, size=c), dtype=dtype)
    return logits, target, weight


# --- smooth_targets ----------------------------------------------------------------------------------


def test_smooth_targets_put_one_minus_eps_plus_eps_over_k_on_the_target_and_eps_over_k_elsewhere() -> None:
    q = smooth_targets(torch.tensor([2, 0]), num_classes=4, smoothing=0.25)  # dyadic: exact in float32
    assert q.dtype == torch.get_default_dtype()
    assert q.tolist() == [[0.0625, 0.0625, 0.8125, 0.0625], [0.8125, 0.0625, 0.0625, 0.0625]]


@settings(max_examples=40)
@given(seed=st.integers(0, 2**16), classes=st.integers(2, 12), smoothing=st.floats(0.0, 0.99),
       shape=st.lists(st.integers(0, 4), max_size=3).map(tuple))
def test_smooth_targets_shape_rows_summing_to_one_and_the_two_values(seed: int, classes: int, smoothing: float, shape: tuple) -> None:
    target = torch.tensor(np.random.default_rng(seed).integers(classes, size=shape))
    q = smooth_targets(target, classes, smoothing, dtype=torch.float64)
    assert q.shape == (*shape, classes) and q.dtype == torch.float64
    torch.testing.assert_close(q.sum(dim=-1), torch.ones(shape, dtype=torch.float64), rtol=0, atol=1e-15)
    on_target = F.one_hot(target, classes).bool()
    assert torch.all(q[on_target] == 1 - smoothing + smoothing / classes)
    assert torch.all(q[~on_target] == smoothing / classes)


def test_no_smoothing_gives_the_one_hot_target() -> None:
    target = torch.tensor([[1, 0], [2, 2]])
    assert torch.equal(smooth_targets(target, 3, 0.0), F.one_hot(target, 3).float())


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.6])
def test_cross_entropy_against_smoothed_targets_is_pytorchs_label_smoothing(smoothing: float) -> None:
    logits, target, _ = _random_problem(seed=1, n=30, c=7)
    soft = F.cross_entropy(logits, smooth_targets(target, 7, smoothing, dtype=torch.float64))
    torch.testing.assert_close(soft, F.cross_entropy(logits, target, label_smoothing=smoothing), rtol=1e-13, atol=0)


# --- label_smoothing_cross_entropy against F.cross_entropy --------------------------------------------


@st.composite
def _loss_problems(draw):
    dtype = draw(st.sampled_from(DTYPES))
    n, c = draw(st.integers(1, 16)), draw(st.integers(2, 9))
    spatial = draw(st.sampled_from([(), (), (3,), (2, 3)]))
    ignore_index = draw(st.sampled_from([-100, -1, 0, 1]))
    logits, target, weight = _random_problem(draw(st.integers(0, 2**20)), n, c, spatial, dtype,
                                             ignore_fraction=draw(st.sampled_from([0.0, 0.3])), ignore_index=ignore_index)
    options = dict(smoothing=draw(st.floats(0.0, 0.99)), weight=weight if draw(st.booleans()) else None,
                   ignore_index=ignore_index, reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    return logits, target, options


@settings(max_examples=120)
@given(problem=_loss_problems())
def test_loss_and_gradient_equal_pytorchs_with_weight_ignore_index_and_every_reduction(problem) -> None:
    logits, target, options = problem
    ours_input, torch_input = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    ours = label_smoothing_cross_entropy(ours_input, target, **options)
    reference = F.cross_entropy(torch_input, target, weight=options["weight"], ignore_index=options["ignore_index"],
                                reduction=options["reduction"], label_smoothing=options["smoothing"])
    assert ours.dtype == logits.dtype and ours.shape == reference.shape
    torch.testing.assert_close(ours, reference, equal_nan=True, **_tolerance(logits.dtype))
    if not torch.isfinite(reference).all():  # every example ignored under "mean": no gradient to compare
        return
    upstream = torch.linspace(0.5, 1.5, reference.numel(), dtype=logits.dtype).reshape(reference.shape)
    ours.backward(upstream)
    reference.backward(upstream)
    torch.testing.assert_close(ours_input.grad, torch_input.grad, **_tolerance(logits.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spatial", [(), (5,), (2, 3)])
def test_multi_dimensional_inputs_equal_pytorchs(dtype: torch.dtype, spatial: tuple) -> None:
    logits, target, weight = _random_problem(seed=3, n=4, c=6, spatial=spatial, dtype=dtype, ignore_fraction=0.25)
    for reduction in ("mean", "sum", "none"):
        ours = label_smoothing_cross_entropy(logits, target, 0.2, weight, reduction=reduction)
        reference = F.cross_entropy(logits, target, weight=weight, reduction=reduction, label_smoothing=0.2)
        assert ours.shape == reference.shape == ((4, *spatial) if reduction == "none" else ())
        torch.testing.assert_close(ours, reference, **_tolerance(dtype))


@pytest.mark.parametrize("weighted", [False, True])
def test_an_all_ignored_batch_gives_nan_mean_zero_sum_and_zero_losses_like_pytorch(weighted: bool) -> None:
    logits, _, weight = _random_problem(seed=4, n=5, c=3)
    target = torch.full((5,), -100)
    weight = weight if weighted else None
    mean = label_smoothing_cross_entropy(logits, target, 0.1, weight)
    assert torch.isnan(mean) and torch.isnan(F.cross_entropy(logits, target, weight=weight, label_smoothing=0.1))
    assert label_smoothing_cross_entropy(logits, target, 0.1, weight, reduction="sum").item() == 0.0
    assert torch.equal(label_smoothing_cross_entropy(logits, target, 0.1, weight, reduction="none"), torch.zeros(5, dtype=torch.float64))


def test_the_weighted_mean_divides_by_the_weights_of_the_kept_examples_only() -> None:
    logits = torch.zeros(3, 2, dtype=torch.float64)  # every example loses log 2 against any target distribution
    weight = torch.tensor([1.0, 3.0], dtype=torch.float64)
    target = torch.tensor([0, 1, -100])
    # per example: (1 - ε) w_y log 2 + ε/2 (w_0 + w_1) log 2 = log 2 (0.9 w_y + 0.2), for w_y = 1 and 3
    expected = math.log(2) * ((0.9 + 0.2) + (2.7 + 0.2)) / (1.0 + 3.0)
    assert label_smoothing_cross_entropy(logits, target, 0.1, weight).item() == pytest.approx(expected, rel=1e-14)


def test_an_ignore_index_inside_the_class_range_skips_that_class() -> None:
    logits, target, weight = _random_problem(seed=5, n=20, c=4)
    ours = label_smoothing_cross_entropy(logits, target, 0.3, weight, ignore_index=1, reduction="none")
    assert torch.all(ours[target == 1] == 0) and torch.all(ours[target != 1] > 0)
    reference = F.cross_entropy(logits, target, weight=weight, ignore_index=1, reduction="none", label_smoothing=0.3)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_the_loss_splits_into_hard_and_uniform_cross_entropies(smoothing: float) -> None:
    logits, target, _ = _random_problem(seed=6, n=25, c=5)
    hard = F.cross_entropy(logits, target)
    uniform = -torch.log_softmax(logits, dim=1).mean()  # CE against the uniform distribution, averaged over examples
    expected = (1 - smoothing) * hard + smoothing * uniform
    torch.testing.assert_close(label_smoothing_cross_entropy(logits, target, smoothing), expected, rtol=1e-13, atol=0)
    if smoothing == 0.0:
        torch.testing.assert_close(label_smoothing_cross_entropy(logits, target, 0.0), hard, rtol=1e-14, atol=0)


def test_the_gradient_is_softmax_minus_the_smoothed_target_over_n() -> None:
    logits, target, _ = _random_problem(seed=7, n=12, c=6)
    logits.requires_grad_(True)
    label_smoothing_cross_entropy(logits, target, 0.2).backward()
    expected = (torch.softmax(logits.detach(), dim=1) - smooth_targets(target, 6, 0.2, dtype=torch.float64)) / 12
    torch.testing.assert_close(logits.grad, expected, rtol=1e-12, atol=1e-15)


def test_large_logits_stay_finite_and_equal_pytorchs() -> None:
    logits, target, weight = _random_problem(seed=8, n=16, c=10, dtype=torch.float32, scale=1e4)
    ours = label_smoothing_cross_entropy(logits, target, 0.1, weight)
    assert torch.isfinite(ours)
    torch.testing.assert_close(ours, F.cross_entropy(logits, target, weight=weight, label_smoothing=0.1), rtol=1e-6, atol=0)


def test_finite_logits_whose_sum_overflows_are_accepted_and_overflowing_differences_are_an_error() -> None:
    # the finite check first adds the logits up: a sum that overflows must not be mistaken for a bad entry
    huge = torch.full((4, 3), 3e38)
    assert label_smoothing_cross_entropy(huge, torch.tensor([0, 1, 2, 0])).item() == pytest.approx(math.log(3), rel=1e-6)
    # a logit difference beyond float32's range: log-probability -inf, so the loss would be inf (PyTorch's is)
    with pytest.raises(ValueError, match="the magnitudes of logits are beyond float32's range"):
        label_smoothing_cross_entropy(torch.tensor([[3e38, -3e38, 0.0]]), torch.tensor([0]))


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_logits_are_computed_in_float32(half: torch.dtype) -> None:
    logits, target, _ = _random_problem(seed=9, n=8, c=5, dtype=torch.float32)
    logits = logits.to(half).requires_grad_(True)
    ours = label_smoothing_cross_entropy(logits, target, 0.1)
    assert ours.dtype == torch.float32
    assert ours.item() == label_smoothing_cross_entropy(logits.detach().float(), target, 0.1).item()
    ours.backward()
    assert logits.grad is not None and logits.grad.dtype == half


# --- the module -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_module_equals_nn_cross_entropy_loss(reduction: str, weighted: bool, ignore_index: int) -> None:
    logits, target, weight = _random_problem(seed=10, n=15, c=4, ignore_fraction=0.2, ignore_index=ignore_index)
    weight = weight if weighted else None
    ours = LabelSmoothingCrossEntropy(0.15, weight=weight, ignore_index=ignore_index, reduction=reduction)
    reference = nn.CrossEntropyLoss(weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=0.15)
    torch.testing.assert_close(ours(logits, target), reference(logits, target), rtol=1e-12, atol=1e-12)


def test_module_extra_repr_shows_the_hyper_parameters() -> None:
    assert repr(LabelSmoothingCrossEntropy()) == "LabelSmoothingCrossEntropy(smoothing=0.1, reduction='mean')"
    module = LabelSmoothingCrossEntropy(0.25, ignore_index=3, reduction="sum")
    assert repr(module) == "LabelSmoothingCrossEntropy(smoothing=0.25, reduction='sum', ignore_index=3)"


def test_module_keeps_the_class_weights_as_a_buffer_in_its_state_dict() -> None:
    weight = torch.tensor([0.5, 1.0, 2.0])
    module = LabelSmoothingCrossEntropy(weight=weight)
    assert list(module.state_dict()) == ["weight"] and torch.equal(module.state_dict()["weight"], weight)
    assert list(module.parameters()) == []  # a buffer, not something an optimizer would train
    assert module.double().weight.dtype == torch.float64  # moves with the module
    restored = LabelSmoothingCrossEntropy(weight=torch.ones(3))
    restored.load_state_dict(module.state_dict())
    assert torch.equal(restored.weight, weight.double())
    assert "weight" not in LabelSmoothingCrossEntropy().state_dict()


def test_module_backward_gives_pytorchs_gradient() -> None:
    logits, target, weight = _random_problem(seed=11, n=9, c=5)
    ours_input, torch_input = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    LabelSmoothingCrossEntropy(0.2, weight=weight)(ours_input, target).backward()
    nn.CrossEntropyLoss(weight=weight, label_smoothing=0.2)(torch_input, target).backward()
    torch.testing.assert_close(ours_input.grad, torch_input.grad, rtol=1e-12, atol=1e-14)


# --- optimal_logit_gap against numerical optimisation -------------------------------------------------


def _minimised_logits(loss_of_logits, classes: int) -> torch.Tensor:
    """The logit vector minimising ``loss_of_logits`` (L-BFGS in float64 from an asymmetric start)."""
    z = torch.linspace(-1.0, 1.0, classes, dtype=torch.float64).flip(0).requires_grad_(True)
    optimizer = torch.optim.LBFGS([z], lr=1.0, max_iter=1000, tolerance_grad=1e-13, tolerance_change=1e-16,
                                  history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_of_logits(z)
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    return z.detach()


def _target_distribution(classes: int, smoothing: float, convention: str) -> torch.Tensor:
    """Class 0 is the target; the other classes share ε (over all K classes, or over the K - 1 others)."""
    if convention == "uniform":
        q = torch.full((classes,), smoothing / classes, dtype=torch.float64)
        q[0] += 1 - smoothing
    else:
        q = torch.full((classes,), smoothing / (classes - 1), dtype=torch.float64)
        q[0] = 1 - smoothing
    return q


def _gap_of(z: torch.Tensor) -> float:
    others = z[1:]
    assert float(others.max() - others.min()) < 1e-6, others  # at the optimum every wrong class gets the same logit
    return float(z[0] - others.mean())


@pytest.mark.parametrize("convention", ["uniform", "others"])
@pytest.mark.parametrize(("classes", "smoothing"), [(2, 0.1), (3, 0.3), (10, 0.1), (10, 0.01), (100, 0.2), (2, 0.8)])
def test_the_gap_is_the_minimiser_of_the_expected_loss(convention: str, classes: int, smoothing: float) -> None:
    q = _target_distribution(classes, smoothing, convention)
    z = _minimised_logits(lambda z: -(q * torch.log_softmax(z, dim=0)).sum(), classes)
    assert _gap_of(z) == pytest.approx(optimal_logit_gap(classes, smoothing, convention), abs=1e-6)


def test_pytorchs_label_smoothing_is_optimised_at_log_91_not_log_81() -> None:
    target = torch.tensor([0])
    pytorch_loss = lambda z: F.cross_entropy(z[None], target, label_smoothing=0.1)  # noqa: E731
    gap = _gap_of(_minimised_logits(pytorch_loss, 10))
    assert gap == pytest.approx(math.log(91), abs=1e-6)
    assert optimal_logit_gap(10, 0.1) == pytest.approx(math.log(91), rel=1e-15)
    assert optimal_logit_gap(10, 0.1, convention="others") == pytest.approx(math.log(81), rel=1e-15)
    assert abs(gap - math.log(81)) > 0.1
    # the "others" gap is not a minimiser of PyTorch's loss: it loses by about p (1 - p) δ² / 2 ≈ 5.6e-4
    at = lambda g: float(pytorch_loss(torch.tensor([g] + [0.0] * 9, dtype=torch.float64)))  # noqa: E731
    assert at(math.log(81)) - at(math.log(91)) > 4e-4
    # and ours is optimised at the same place
    ours_gap = _gap_of(_minimised_logits(lambda z: label_smoothing_cross_entropy(z[None], target, 0.1), 10))
    assert ours_gap == pytest.approx(math.log(91), abs=1e-6)


def test_the_two_conventions_are_different_losses() -> None:
    logits, target, _ = _random_problem(seed=12, n=20, c=10)
    others = torch.full((20, 10), 0.1 / 9, dtype=torch.float64)
    others[torch.arange(20), target] = 0.9
    ours = label_smoothing_cross_entropy(logits, target, 0.1)
    against_others = F.cross_entropy(logits, others)
    assert abs(float(ours - against_others)) > 1e-3


def test_without_smoothing_there_is_no_finite_optimum() -> None:
    assert optimal_logit_gap(10, 0.0) == math.inf and optimal_logit_gap(10, 0.0, "others") == math.inf
    target = torch.tensor([0])
    losses = [float(F.cross_entropy(torch.tensor([[g, 0.0, 0.0]], dtype=torch.float64), target)) for g in (1.0, 5.0, 20.0)]
    assert losses[0] > losses[1] > losses[2] > 0  # plain cross-entropy keeps falling as the gap grows


@pytest.mark.parametrize("smoothing", [5e-324, 1e-310, 1e-200])
def test_a_tiny_smoothing_gives_a_large_finite_gap(smoothing: float) -> None:
    # log(1 + K (1 - ε) / ε) ≈ log K - log ε, also where K (1 - ε) / ε overflows
    assert optimal_logit_gap(10, smoothing) == pytest.approx(math.log(10) - math.log(smoothing), rel=1e-12)
    assert optimal_logit_gap(10, smoothing, "others") == pytest.approx(math.log(9) - math.log(smoothing), rel=1e-12)


def test_the_gap_grows_as_smoothing_shrinks_and_with_the_number_of_classes() -> None:
    gaps = [optimal_logit_gap(10, e) for e in (0.5, 0.2, 0.1, 0.01)]
    assert gaps == sorted(gaps)
    assert optimal_logit_gap(100, 0.1) > optimal_logit_gap(10, 0.1)


# --- optimal_logits: the whole minimising logit vector ----------------------------------------------


@pytest.mark.parametrize("convention", ["uniform", "others"])
@pytest.mark.parametrize(("classes", "smoothing"), [(2, 0.1), (3, 0.3), (10, 0.1), (20, 0.01), (100, 0.5)])
def test_optimal_logits_are_centred_log_q_with_the_optimal_gap(convention: str, classes: int, smoothing: float) -> None:
    q = _target_distribution(classes, smoothing, convention).numpy()
    z = optimal_logits(q)
    assert z.shape == (classes,) and z.dtype == np.float64
    np.testing.assert_allclose(z, np.log(q) - np.log(q).mean(), rtol=1e-13, atol=1e-13)
    assert abs(z.sum()) < 1e-12  # centred at mean 0
    np.testing.assert_allclose(np.exp(z) / np.exp(z).sum(), q, rtol=1e-12)  # softmax(z*) = q
    gap = optimal_logit_gap(classes, smoothing, convention)
    np.testing.assert_allclose(z[0] - z[1:], gap, rtol=1e-12)  # z*_y - z*_c for every wrong class c
    assert z[0] == pytest.approx((classes - 1) / classes * gap, rel=1e-12)
    np.testing.assert_allclose(z[1:], -gap / classes, rtol=1e-12)


def test_optimal_logits_for_k_10_eps_0_1_give_log_91_and_log_81() -> None:
    pytorch = optimal_logits(smooth_targets(torch.tensor([3]), 10, 0.1, dtype=torch.float64)[0])
    others = optimal_logits(_target_distribution(10, 0.1, "others"))
    assert pytorch[3] - pytorch[0] == pytest.approx(math.log(91), rel=1e-13)
    assert others[0] - others[1] == pytest.approx(math.log(81), rel=1e-13)
    assert (round(pytorch[3], 3), round(pytorch[0], 3)) == (4.06, -0.451)


def test_optimal_logits_minimise_the_loss_and_match_numerical_minimisation() -> None:
    target = torch.tensor([1])
    q = smooth_targets(target, 5, 0.2, dtype=torch.float64)
    z = torch.from_numpy(optimal_logits(q)).requires_grad_(True)
    loss = label_smoothing_cross_entropy(z, target, 0.2)
    loss.backward()
    assert float(z.grad.abs().max()) < 1e-15  # softmax(z*) - q = 0
    entropy = -float((q * q.log()).sum())
    assert loss.item() == pytest.approx(entropy, rel=1e-13)  # the minimum of the cross-entropy is the entropy of q
    numerical = _minimised_logits(lambda v: label_smoothing_cross_entropy(v[None], target, 0.2), 5)
    np.testing.assert_allclose((numerical - numerical.mean()).numpy(), z.detach().numpy()[0], atol=1e-6)


def test_optimal_logits_of_a_batch_are_row_by_row_and_any_target_without_zeros_works() -> None:
    batch = smooth_targets(torch.tensor([[0, 2], [1, 1]]), 3, 0.3)  # float32, shape (2, 2, 3)
    z = optimal_logits(batch)
    assert z.shape == (2, 2, 3) and z.dtype == np.float64
    np.testing.assert_allclose(z[0, 1], optimal_logits(batch[0, 1]), rtol=0, atol=0)
    np.testing.assert_allclose(z.sum(axis=-1), 0.0, atol=1e-12)
    uneven = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(optimal_logits(uneven), np.log(uneven) - np.log(uneven).mean(), rtol=1e-14)
    assert optimal_logits([0.5, 0.5]).tolist() == [0.0, 0.0]
    tiny = optimal_logits([1 - 5e-324, 5e-324])  # the smallest positive probability still has a finite optimum
    assert np.isfinite(tiny).all() and tiny[0] - tiny[1] == pytest.approx(-math.log(5e-324), rel=1e-12)


# --- temperature_scale against a grid search -----------------------------------------------------------


def _informative_logits(seed: int, scale: float, flip: float, n: int = 2000, classes: int = 5, noise: float = 1.0):
    """Logits ``scale * one_hot(noisy label) + noise``: the noisy label is the true one except for a fraction ``flip``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(classes, size=n)
    noisy = np.where(rng.random(n) < flip, rng.integers(classes, size=n), labels)
    logits = scale * np.eye(classes)[noisy] + noise * rng.normal(size=(n, classes))
    return logits, labels


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(F.cross_entropy(torch.tensor(logits) / temperature, torch.tensor(labels)))


def _grid_minimiser(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(the grid's best temperature, the grid step in log T) over 4001 points of log T in [log 0.02, log 50]."""
    log_grid = np.linspace(math.log(0.02), math.log(50.0), 4001)
    scaled = torch.tensor(logits)[None] / torch.tensor(np.exp(log_grid))[:, None, None]  # (grid, N, C)
    nll = -torch.log_softmax(scaled, dim=2)[:, torch.arange(len(labels)), torch.tensor(labels)].mean(dim=1)
    return float(np.exp(log_grid[int(nll.argmin())])), float(log_grid[1] - log_grid[0])


@pytest.mark.parametrize(
    ("scale", "flip", "confidence"),
    [(8.0, 0.3, "over"), (2.0, 0.0, "under")],  # confident but 30% wrong / right nearly always but with soft scores
)
def test_temperature_matches_a_fine_grid_search(scale: float, flip: float, confidence: str) -> None:
    logits, labels = _informative_logits(seed=0, scale=scale, flip=flip)
    temperature = temperature_scale(logits, labels)
    grid_best, step = _grid_minimiser(logits, labels)
    assert abs(math.log(temperature) - math.log(grid_best)) <= step
    assert _nll(logits, labels, temperature) <= _nll(logits, labels, grid_best) + 1e-12
    assert (temperature > 1.2) if confidence == "over" else (temperature < 0.8), temperature
    assert _nll(logits, labels, temperature) < _nll(logits, labels, 1.0) - 1e-3  # scaling helps
    # dividing by T > 0 never changes the predicted class
    assert np.array_equal((logits / temperature).argmax(axis=1), logits.argmax(axis=1))


def test_tensor_numpy_and_list_inputs_give_the_same_temperature() -> None:
    logits, labels = _informative_logits(seed=1, scale=6.0, flip=0.2, n=300)
    expected = temperature_scale(logits, labels)
    assert temperature_scale(torch.tensor(logits), torch.tensor(labels)) == expected
    assert temperature_scale(logits.tolist(), labels.tolist()) == expected
    as_float32 = torch.tensor(logits, dtype=torch.float32)
    assert temperature_scale(as_float32, labels) == temperature_scale(as_float32.numpy(), labels)


def test_temperature_is_equivariant_to_scaling_and_invariant_to_shifting_the_logits() -> None:
    logits, labels = _informative_logits(seed=2, scale=6.0, flip=0.2, n=500)
    temperature = temperature_scale(logits, labels)
    assert temperature_scale(3.0 * logits, labels) == pytest.approx(3.0 * temperature, rel=1e-6)
    shifted = logits + np.random.default_rng(3).normal(size=(500, 1)) * 10  # one constant per row
    assert temperature_scale(shifted, labels) == pytest.approx(temperature, rel=1e-6)


def test_perfectly_separated_logits_give_the_smallest_temperature_searched() -> None:
    # margins of 0.01: the NLL keeps falling as T -> 0 (and has not yet underflowed to 0 at T = 1e-3)
    logits = np.array([[0.01, 0.0, -0.01], [0.0, 0.01, 0.0], [-0.01, 0.0, 0.01]])
    assert _nll(logits, np.array([0, 1, 2]), 1e-3) > 0.0
    assert temperature_scale(logits, [0, 1, 2]) == 1e-3  # the end of the range, not a point next to it


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", [-0.1, 1.0, 1.5, math.nan])
def test_smoothing_outside_zero_one_is_a_value_error_naming_it(smoothing: float) -> None:
    logits, target = torch.zeros(2, 3), torch.tensor([0, 1])
    pattern = rf"smoothing must be in \[0, 1\), got {smoothing!r}"
    calls = [
        lambda: smooth_targets(target, 3, smoothing),
        lambda: label_smoothing_cross_entropy(logits, target, smoothing),
        lambda: LabelSmoothingCrossEntropy(smoothing),
        lambda: optimal_logit_gap(3, smoothing),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=pattern):
            call()


@pytest.mark.parametrize("classes", [1, 0, -3])
def test_fewer_than_two_classes_is_a_value_error_naming_num_classes(classes: int) -> None:
    with pytest.raises(ValueError, match=rf"num_classes must be an int >= 2, got {classes}"):
        smooth_targets(torch.tensor([0]), classes, 0.1)
    with pytest.raises(ValueError, match=rf"num_classes must be an int >= 2, got {classes}"):
        optimal_logit_gap(classes, 0.1)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        optimal_logit_gap(10.0, 0.1)


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_targets_out_of_range_are_a_value_error_naming_the_value_and_where(bad: int) -> None:
    target = torch.tensor([0, 2, bad, -100])
    with pytest.raises(ValueError, match=rf"target must hold classes in \[0, 3\) or ignore_index = -100, got {bad} at index \(2,\)"):
        label_smoothing_cross_entropy(torch.zeros(4, 3), target)
    with pytest.raises(ValueError, match=rf"target must hold classes in \[0, 3\), got {bad} at index \(2,\)"):
        smooth_targets(target[:3], 3, 0.1)
    with pytest.raises(ValueError, match=rf"labels_val must be classes in \[0, 3\), got {bad} at index 2"):
        temperature_scale(np.zeros((3, 3)), target[:3])
    # -100 is a valid label only as the ignore_index
    with pytest.raises(ValueError, match=r"target must hold classes in \[0, 3\) or ignore_index = -1, got -100 at index \(3,\)"):
        label_smoothing_cross_entropy(torch.zeros(4, 3), target.clamp(max=2), ignore_index=-1)


@pytest.mark.parametrize("shape", [(), (5,)])
def test_logits_of_the_wrong_rank_are_a_value_error_naming_the_shape(shape: tuple) -> None:
    with pytest.raises(ValueError, match=rf"logits must have shape \(N, C\) or \(N, C, d1, ...\), got shape {re.escape(str(shape))}"):
        label_smoothing_cross_entropy(torch.zeros(shape), torch.tensor([0]))
    with pytest.raises(ValueError, match="logits_val must have shape \\(N, C\\)"):
        temperature_scale(np.zeros(shape), [0])


def test_a_target_of_the_wrong_shape_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"target must have shape \(4,\) to match logits of shape \(4, 3\), got shape \(3,\)"):
        label_smoothing_cross_entropy(torch.zeros(4, 3), torch.tensor([0, 1, 2]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bool])
def test_float_or_bool_targets_are_a_type_error(dtype: torch.dtype) -> None:
    target = torch.tensor([0, 1]).to(dtype)
    with pytest.raises(TypeError, match=f"target must hold integer class indices, got dtype {dtype}"):
        label_smoothing_cross_entropy(torch.zeros(2, 3), target)
    with pytest.raises(TypeError, match=f"target must hold integer class indices, got dtype {dtype}"):
        smooth_targets(target, 3, 0.1)
    with pytest.raises(TypeError, match="labels_val must hold integer classes"):
        temperature_scale(np.zeros((2, 3)), target)


def test_probability_targets_are_refused_rather_than_smoothed_twice() -> None:
    soft = smooth_targets(torch.tensor([0, 1]), 3, 0.1)
    with pytest.raises(TypeError, match="smoothing them again is a mistake"):
        label_smoothing_cross_entropy(torch.zeros(2, 3), soft)


def test_bad_weights_are_named() -> None:
    logits, target = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\), one weight per class of logits of shape \(2, 3\), got shape \(2,\)"):
        label_smoothing_cross_entropy(logits, target, weight=torch.ones(2))
    with pytest.raises(ValueError, match="weight must be >= 0, got -1.0"):
        label_smoothing_cross_entropy(logits, target, weight=torch.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="weight must be finite, got nan"):
        LabelSmoothingCrossEntropy(weight=torch.tensor([1.0, math.nan, 1.0]))
    with pytest.raises(TypeError, match="weight must be None or a floating tensor"):
        LabelSmoothingCrossEntropy(weight=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"weight must be a 1-D tensor of at least 2 class weights, got shape \(3, 1\)"):
        LabelSmoothingCrossEntropy(weight=torch.ones(3, 1))


def test_non_finite_logits_reduction_ignore_index_and_convention_are_named() -> None:
    logits, target = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="logits must be finite, got nan at flat index 4"):
        label_smoothing_cross_entropy(logits.index_put((torch.tensor([1]), torch.tensor([1])), torch.tensor(math.nan)), target)
    with pytest.raises(ValueError, match="reduction must be one of \\('mean', 'sum', 'none'\\), got 'average'"):
        label_smoothing_cross_entropy(logits, target, reduction="average")
    with pytest.raises(ValueError, match=f"ignore_index must fit in int64 \\(a label value\\), got {2**63}"):
        label_smoothing_cross_entropy(logits, target, ignore_index=2**63)
    with pytest.raises(ValueError, match="convention must be one of \\('uniform', 'others'\\), got 'all'"):
        optimal_logit_gap(10, 0.1, convention="all")
    with pytest.raises(ValueError, match="logits_val must be finite, got inf"):
        temperature_scale(np.array([[0.0, math.inf]]), [0])
    # finite, but divided by the smallest temperature searched (1e-3) beyond float64's range
    with pytest.raises(ValueError, match="the magnitudes of logits_val are beyond float64's range"):
        temperature_scale(np.array([[1e306, 0.0], [0.0, 1e306]]), [0, 1])


def test_optimal_logits_reject_one_hot_targets_and_non_distributions() -> None:
    with pytest.raises(ValueError, match=r"targets must be > 0 in every class for a finite optimum, got 0.0 at flat index 0 "
                                         r"\(a class with q_c = 0 is matched only as z_c → −∞: a one-hot target's z_y − z_c → ∞\)"):
        optimal_logits(smooth_targets(torch.tensor([2]), 4, 0.0)[0])
    with pytest.raises(ValueError, match=r"targets rows must sum to 1 \(within 1e-06\), got a sum of 0.5 in row 1; "):
        optimal_logits([[0.5, 0.5], [0.25, 0.25]])
    with pytest.raises(ValueError, match=r"targets rows must sum to 1 \(within 1e-06\), got a sum of 1.25; "):
        optimal_logits([0.75, 0.5])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got -0.5 at index \(1,\)"):
        optimal_logits([1.0, -0.5, 0.5])
    with pytest.raises(ValueError, match=r"targets must have at least 2 classes \(along the last axis\), got shape \(3, 1\)"):
        optimal_logits(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"targets must be finite, got nan at index \(1,\)"):
        optimal_logits([0.5, math.nan])
    with pytest.raises(TypeError, match="targets must hold real numbers"):
        optimal_logits(torch.tensor([True, False]))

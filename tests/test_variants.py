"""Tests of course_lib.variants: mask structure, moments, torch built-ins, gradients, eval identity, DropBlock rates.

Every random draw comes from a seeded ``torch.Generator`` (or a seeded global generator), so each
"within 4 standard errors" bound gives the same verdict on every run.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.variants import (
    AlphaDropout,
    DropBlock1d,
    DropBlock2d,
    DropConnectLinear,
    DropPath,
    GaussianDropout,
    LockedDropout,
    SpatialDropout,
    alpha_dropout,
    drop_block1d,
    drop_block2d,
    drop_block_expected_fraction,
    drop_block_seed_rate,
    drop_connect_linear,
    drop_path,
    drop_path_rates,
    gaussian_dropout,
    locked_dropout,
    spatial_dropout,
)


@pytest.fixture(autouse=True)
def _seeded_global_generator():
    """Every test starts from one state of torch's global generator, so its inputs and the modules'
    draws do not depend on which tests ran before it on the same worker: a 4-sigma bound gives the
    same verdict on every run."""
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    yield
    torch.random.set_rng_state(state)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _assert_fraction(observed: float, expected: float, trials: int) -> None:
    """A Bernoulli frequency over ``trials`` independent draws lies within 4 standard errors of ``expected``."""
    se = math.sqrt(expected * (1 - expected) / trials)
    assert abs(observed - expected) <= 4 * se, (observed, expected, se)


def _assert_mean(samples: torch.Tensor, expected: torch.Tensor) -> None:
    """The mean over dim 0 lies within 4 standard errors of ``expected``, entrywise."""
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    assert bool((abs(mean - expected) <= 4 * se + 1e-12).all()), (mean - expected).abs().max()


# --- spatial dropout ---------------------------------------------------------------------------

SPATIAL_SHAPES = [(64, 16, 7), (64, 16, 5, 6), (32, 16, 3, 4, 5)]
BUILTINS = {3: nn.Dropout1d, 4: nn.Dropout2d, 5: nn.Dropout3d}


@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_dropout_drops_whole_channels(shape) -> None:
    p = 0.3
    x = torch.rand(shape, dtype=torch.float64) + 0.5  # no zeros of its own
    y = spatial_dropout(x, p, generator=_gen())
    dropped = y == 0
    channel = dropped.flatten(2)
    assert bool((channel.all(-1) | ~channel.any(-1)).all())  # a channel is all zero or none of it is
    kept = ~dropped
    assert torch.equal(y[kept], x[kept] * (1 / (1 - p)))  # the factor 1/(1 - p), as torch multiplies
    _assert_fraction(channel.all(-1).double().mean().item(), p, shape[0] * shape[1])


@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_dropout_agrees_with_torch_dropout_nd(shape) -> None:
    p = 0.4
    x = torch.rand(shape, dtype=torch.float64) + 0.5
    builtin = BUILTINS[len(shape)](p)
    torch.manual_seed(1)
    reference = builtin(x)
    ours_with_global_seed = (torch.manual_seed(1), SpatialDropout(p)(x))[1]
    # The same recipe as torch's feature dropout: the same seed gives the very same output.
    assert torch.equal(ours_with_global_seed, reference)
    ours = spatial_dropout(x, p, generator=_gen(7))
    for y in (reference, ours):
        channel_zero = (y == 0).flatten(2)
        assert bool((channel_zero.all(-1) == channel_zero.any(-1)).all())  # constant zero pattern over positions
        survivors = y != 0
        assert torch.equal(y[survivors], x[survivors] * (1 / (1 - p)))  # exactly 1/(1 - p)
    trials = shape[0] * shape[1]
    ours_frac = (ours == 0).flatten(2).all(-1).double().mean().item()
    ref_frac = (reference == 0).flatten(2).all(-1).double().mean().item()
    assert abs(ours_frac - ref_frac) <= 4 * math.sqrt(2 * p * (1 - p) / trials), (ours_frac, ref_frac)
    _assert_fraction(ours_frac, p, trials)


def test_spatial_dropout_is_unbiased() -> None:
    x = torch.randn(1, 3, 2, 2, dtype=torch.float64)
    samples = spatial_dropout(x.expand(4000, -1, -1, -1), 0.5, generator=_gen(2))
    _assert_mean(samples, x[0])


# --- DropPath ----------------------------------------------------------------------------------


def test_drop_path_keeps_or_drops_whole_examples() -> None:
    p = 0.25
    x = torch.rand(4000, 3, 4, dtype=torch.float64) + 0.5
    y = drop_path(x, p, generator=_gen())
    dropped = (y == 0).flatten(1)
    assert bool((dropped.all(1) | ~dropped.any(1)).all())
    kept = ~dropped.all(1)
    assert torch.equal(y[kept], x[kept] * (1 / (1 - p)))
    _assert_fraction(dropped.all(1).double().mean().item(), p, x.shape[0])
    _assert_mean(drop_path(torch.ones(4000, 2, dtype=torch.float64) * 3.0, p, generator=_gen(1)), torch.full((2,), 3.0))


def test_drop_path_rates_follow_huang_et_al() -> None:
    rates = drop_path_rates(4, 0.2)
    assert isinstance(rates, list) and all(isinstance(rate, float) for rate in rates)
    assert rates == pytest.approx([0.05, 0.1, 0.15, 0.2], abs=1e-15)
    assert rates[-1] == 0.2 and drop_path_rates(1, 0.3) == [0.3]
    assert drop_path_rates(3, 0.0) == [0.0, 0.0, 0.0]
    # not timm's linspace, whose first block is 0
    assert rates != pytest.approx(torch.linspace(0, 0.2, 4).tolist())


# --- DropBlock ---------------------------------------------------------------------------------


def _expected_drop_fraction(size: int, bs: int, p: float, dims: int) -> float:
    """E[dropped fraction]: a position covered by k possible seeds is dropped with probability 1 - (1 - γ)^k."""
    valid = size - bs + 1
    gamma = p / bs**dims * size**dims / valid**dims
    cover = [sum(1 for i in range(valid) if i <= r <= i + bs - 1) for r in range(size)]
    if dims == 1:
        return sum(1 - (1 - gamma) ** k for k in cover) / size
    return sum(1 - (1 - gamma) ** (a * b) for a in cover for b in cover) / size**2


def _seeds_covering(dropped: torch.Tensor, bs: int) -> torch.Tensor:
    """For one (H, W) dropped map: the seed positions (top-left corners of all-dropped bs x bs squares)."""
    windows = dropped.double().unfold(0, bs, 1).unfold(1, bs, 1)  # (H - bs + 1, W - bs + 1, bs, bs)
    return windows.flatten(2).all(-1)


@pytest.mark.parametrize(("size", "bs"), [(9, 3), (8, 1), (7, 7), (10, 4)])
def test_drop_block2d_drops_unions_of_whole_squares(size, bs) -> None:
    x = torch.rand(20, 3, size, size, dtype=torch.float64) + 0.5
    y = drop_block2d(x, 0.3, bs, generator=_gen(size + bs))
    dropped = y == 0
    for square_map in dropped.flatten(0, 1):
        corners = _seeds_covering(square_map, bs)
        covered = F.max_pool2d(F.pad(corners.double()[None], (bs - 1,) * 4), bs, stride=1)[0].bool()
        # every dropped position lies in a whole bs x bs square inside the map that is all dropped
        assert torch.equal(covered, square_map)
    kept = ~dropped
    scale = dropped.numel() / kept.sum().item()
    torch.testing.assert_close(y[kept], x[kept] * scale, rtol=1e-12, atol=0)


def test_drop_block2d_masks_are_per_example_and_channel() -> None:
    y = drop_block2d(torch.ones(4, 5, 12, 12), 0.3, 3, generator=_gen(3))
    masks = (y == 0).flatten(2)
    distinct = {tuple(mask.tolist()) for mask in masks.flatten(0, 1)}
    assert len(distinct) > 15  # 20 independent masks, not one shared


DROP_BLOCK_SIZES = [(16, 3), (16, 5), (16, 7), (32, 3), (32, 5), (32, 7)]


@pytest.mark.parametrize("p", [0.1, 0.3])
@pytest.mark.parametrize(("size", "bs"), DROP_BLOCK_SIZES)
def test_drop_block2d_realised_fraction(size, bs, p) -> None:
    """Below p (overlapping blocks), within 0.75 p .. p, and at its exact expectation within 4 standard errors."""
    y = drop_block2d(torch.ones(1500, 1, size, size, dtype=torch.float64), p, bs, generator=_gen(bs))
    per_mask = (y == 0).double().mean(dim=(1, 2, 3))
    realised, se = per_mask.mean().item(), per_mask.std().item() / math.sqrt(per_mask.numel())
    assert 0.75 * p <= realised < p, realised
    assert abs(realised - _expected_drop_fraction(size, bs, p, 2)) <= 4 * se, (realised, se)


def test_drop_block2d_renormalises_by_the_kept_fraction_and_guards_an_all_dropped_mask() -> None:
    # numel / count_kept over the whole tensor: a constant input keeps its total exactly
    for seed in range(20):
        y = drop_block2d(torch.ones(3, 2, 10, 10, dtype=torch.float64), 0.3, 3, generator=_gen(seed))
        assert 0 < (y == 0).sum() < y.numel() and math.isclose(y.sum().item(), y.numel(), rel_tol=1e-12)
    # block covering the whole map: the seed rate is p, and a dropped map gives zeros, not NaN
    everything = torch.stack([drop_block2d(torch.ones(1, 1, 3, 3), 0.5, 3, generator=_gen(seed)) for seed in range(40)])
    assert bool(torch.isfinite(everything).all())
    values = {tuple(sorted(set(y.flatten().tolist()))) for y in everything}
    assert values == {(0.0,), (1.0,)}


def test_drop_block1d_segments_and_fraction() -> None:
    p, bs, length = 0.2, 4, 30
    x = torch.rand(2000, 2, length, dtype=torch.float64) + 0.5
    y = drop_block1d(x, p, bs, generator=_gen(5))
    dropped = y == 0
    for row in dropped.flatten(0, 1)[:200]:
        starts = row.double().unfold(0, bs, 1).all(-1)
        covered = F.max_pool1d(F.pad(starts.double()[None], (bs - 1, bs - 1)), bs, stride=1)[0].bool()
        assert torch.equal(covered, row)  # every dropped step lies in a whole dropped segment
    per_mask = dropped.double().mean(-1).flatten()
    realised, se = per_mask.mean().item(), per_mask.std().item() / math.sqrt(per_mask.numel())
    assert realised < p and abs(realised - _expected_drop_fraction(length, bs, p, 1)) <= 4 * se


# --- locked and Gaussian dropout -----------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
def test_locked_dropout_mask_is_constant_across_time(batch_first) -> None:
    p, time_axis = 0.4, 1 if batch_first else 0
    x = torch.rand(12, 50, 40, dtype=torch.float64) + 0.5
    y = locked_dropout(x, p, batch_first=batch_first, generator=_gen())
    dropped = y == 0
    first = dropped.narrow(time_axis, 0, 1)
    assert torch.equal(dropped, first.expand_as(dropped))  # the same mask at every step
    assert torch.equal(y[~dropped], x[~dropped] * (1 / (1 - p)))
    _assert_fraction(first.double().mean().item(), p, first.numel())
    assert torch.equal(LockedDropout(p, batch_first, generator=_gen())(x), y)


def test_gaussian_dropout_moments_match_bernoulli_dropout() -> None:
    p, n = 0.3, 200_000
    y = gaussian_dropout(torch.ones(n, dtype=torch.float64), p, generator=_gen())
    variance = p / (1 - p)
    assert abs(y.mean().item() - 1) <= 4 * math.sqrt(variance / n)
    # the sample variance of a normal has standard error sigma^2 sqrt(2 / (n - 1))
    assert abs(y.var().item() - variance) <= 4 * variance * math.sqrt(2 / (n - 1))
    bernoulli = F.dropout(torch.ones(n, dtype=torch.float64), p)
    assert abs(bernoulli.var().item() - variance) <= 4 * 0.05 * variance  # the same variance as inverted dropout


# --- alpha dropout -------------------------------------------------------------------------------

# SELU's negative saturation -lambda * alpha, read off torch's selu rather than copied from the module.
ALPHA_PRIME = F.selu(torch.tensor(-1e4, dtype=torch.float64)).item()


def _alpha_constants(p: float) -> tuple[float, float]:
    """a = ((1 - p)(1 + p alpha'^2))^(-1/2) and b = -a alpha' p (Klambauer et al., 2017)."""
    a = ((1 - p) * (1 + p * ALPHA_PRIME**2)) ** -0.5
    return a, -a * ALPHA_PRIME * p


def _alpha_kept(x: torch.Tensor, y: torch.Tensor, p: float) -> torch.Tensor:
    """Where y = a x + b (kept); asserts that every other entry is the dropped value a alpha' + b = a alpha' (1 - p)."""
    a, b = _alpha_constants(p)
    kept = torch.isclose(y, a * x + b, rtol=1e-12, atol=1e-12)
    dropped_value = torch.full_like(y[~kept], a * ALPHA_PRIME + b)
    torch.testing.assert_close(y[~kept], dropped_value, rtol=1e-12, atol=1e-12)
    assert math.isclose(a * ALPHA_PRIME + b, a * ALPHA_PRIME * (1 - p), rel_tol=1e-12)
    return kept


def _assert_standardized(y: torch.Tensor, fourth_moment: float) -> None:
    """Mean 0 and variance 1 within 4 standard errors: sqrt(1 / n) for the mean, sqrt((mu_4 - 1) / n) for the
    sample variance (mu_4 = E[y^4] for mean 0, variance 1)."""
    n = y.numel()
    assert abs(y.mean().item()) <= 4 / math.sqrt(n), y.mean().item()
    assert abs(y.var().item() - 1) <= 4 * math.sqrt((fourth_moment - 1) / n), y.var().item()


def _alpha_fourth_moment(p: float) -> float:
    """E[y^4] of alpha dropout of x ~ N(0, 1): y = a (x - alpha' p) if kept, a alpha' (1 - p) if dropped."""
    a, _ = _alpha_constants(p)
    c = ALPHA_PRIME * p
    return a**4 * ((1 - p) * (c**4 + 6 * c**2 + 3) + p * (ALPHA_PRIME * (1 - p)) ** 4)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_gives_the_two_affine_values_with_torch_constants(p) -> None:
    """Every output is a x + b (kept) or a alpha' + b (dropped), for ours and for F.alpha_dropout: the same a and b."""
    x = torch.randn(4000, dtype=torch.float64)
    ours = alpha_dropout(x, p, generator=_gen())
    reference = F.alpha_dropout(x, p, training=True)
    for y in (ours, reference):
        kept = _alpha_kept(x, y, p)
        _assert_fraction((~kept).double().mean().item(), p, x.numel())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_alpha_dropout_equals_torch_for_the_same_seed(dtype) -> None:
    # the same recipe as torch's: bernoulli_(1 - p) on a tensor of x's shape and dtype, so the same mask
    x = torch.randn(64, 33, dtype=dtype)
    torch.manual_seed(3)
    reference = nn.AlphaDropout(0.35)(x)
    torch.manual_seed(3)
    ours = AlphaDropout(0.35)(x)
    tolerance = 1e-14 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(ours, reference, rtol=tolerance, atol=tolerance)
    assert not torch.equal(ours, x)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_mean_zero_and_variance_one_and_inverted_dropout_does_not(p) -> None:
    n = 200_000
    x = torch.randn(n, dtype=torch.float64, generator=_gen(11))  # mean 0, variance 1: a SELU fixed point
    ours = alpha_dropout(x, p, generator=_gen(12))
    reference = F.alpha_dropout(x, p, training=True)
    mu4 = _alpha_fourth_moment(p)
    _assert_standardized(ours, mu4)
    _assert_standardized(reference, mu4)
    # the two share x, so their difference has at most twice the variance of one of them
    assert abs(ours.var().item() - reference.var().item()) <= 4 * math.sqrt(2 * (mu4 - 1) / n)
    # inverted dropout keeps the mean but raises the variance to 1 / (1 - p): E[y^4] = 3 / (1 - p)^3
    inverted = F.dropout(x, p, training=True)
    se = math.sqrt((3 / (1 - p) ** 3 - 1 / (1 - p) ** 2) / n)
    assert abs(inverted.mean().item()) <= 4 * math.sqrt(1 / ((1 - p) * n))
    assert abs(inverted.var().item() - 1 / (1 - p)) <= 4 * se, inverted.var().item()
    assert inverted.var().item() - 1 > 20 * se  # far from 1, the variance alpha dropout keeps


def test_alpha_dropout_keeps_selu_activations_standardized() -> None:
    """selu(z), z ~ N(0, 1), has mean 0 and variance 1 (SELU's fixed point) but is skewed: alpha dropout keeps both moments."""
    n, p = 200_000, 0.3
    x = F.selu(torch.randn(n, dtype=torch.float64, generator=_gen(13)))
    _assert_standardized(x, (x**4).mean().item())
    y = alpha_dropout(x, p, generator=_gen(14))
    _assert_standardized(y, (y**4).mean().item())  # the standard errors from the sample's fourth moment
    assert F.dropout(x, p).var().item() > 1 / (1 - p) - 0.05


def test_alpha_dropout_gradient_is_a_where_kept_and_zero_where_dropped() -> None:
    p = 0.4
    a, _ = _alpha_constants(p)
    x = torch.randn(500, dtype=torch.float64).requires_grad_(True)
    y = alpha_dropout(x, p, generator=_gen(5))
    y.sum().backward()
    kept = _alpha_kept(x.detach(), y.detach(), p)
    assert bool(kept.any()) and bool((~kept).any())
    torch.testing.assert_close(x.grad[kept], torch.full_like(x.grad[kept], a), rtol=1e-14, atol=0)
    assert bool((x.grad[~kept] == 0).all())


def test_alpha_dropout_identity_generator_and_half_precision() -> None:
    x = torch.randn(3, 5)
    assert alpha_dropout(x, 0.3, training=False) is x and alpha_dropout(x, 0.0) is x
    assert torch.equal(alpha_dropout(x, 0.3, generator=_gen(2)), alpha_dropout(x, 0.3, generator=_gen(2)))
    half = x.half()
    y = alpha_dropout(half, 0.3, generator=_gen(1))
    assert y.dtype == torch.float32 and torch.equal(y, alpha_dropout(half.float(), 0.3, generator=_gen(1)))
    assert repr(AlphaDropout(0.2, generator=_gen())) == "AlphaDropout(p=0.2, generator=torch.Generator)"


# --- DropConnect ---------------------------------------------------------------------------------


def _linear(seed: int = 0, **kwargs) -> DropConnectLinear:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return DropConnectLinear(4, 3, **kwargs)


def _masks_of(layer: DropConnectLinear, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Recover each example's mask from one-hot inputs: y[n] = (W ⊙ M_n) e_j / (1 - p) + b."""
    return (y - (layer.bias if layer.bias is not None else 0)) * (1 - layer.p) / layer.weight.detach().T[x.argmax(1)]


def test_drop_connect_per_example_masks_differ_and_per_batch_masks_do_not() -> None:
    p = 0.5
    x = torch.eye(4).repeat(50, 1)  # example n reads column n mod 4 of the weights
    per_example = _linear(p=p, per_example=True, generator=_gen(1))
    per_batch = _linear(p=p, per_example=False, generator=_gen(1))
    with torch.no_grad():
        masks_example = _masks_of(per_example, x, per_example(x))
        masks_batch = _masks_of(per_batch, x, per_batch(x))
    for masks in (masks_example, masks_batch):
        torch.testing.assert_close(masks, masks.round())  # each weight kept (1) or dropped (0)
    same_column = masks_example.reshape(50, 4, 3)
    assert len({tuple(m.flatten().round().tolist()) for m in same_column}) > 40  # a sub-network per example
    assert bool((masks_batch.reshape(50, 4, 3) == masks_batch.reshape(50, 4, 3)[:1]).all())  # one for the batch
    _assert_fraction((masks_example.round() == 0).double().mean().item(), p, masks_example.numel())


def test_drop_connect_is_unbiased_and_eval_equals_f_linear() -> None:
    layer = _linear(p=0.3).double()
    x = torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        expected = F.linear(x, layer.weight, layer.bias)
        samples = drop_connect_linear(x.repeat(5000, 1), layer.weight, layer.bias, 0.3, generator=_gen(4))
    _assert_mean(samples.reshape(5000, 2, 3), expected)
    layer.eval()
    assert torch.equal(layer(x), expected)
    assert torch.equal(layer.train()(x[:0]).detach(), expected[:0])
    zero = _linear(p=0.0).double()
    assert torch.equal(zero(x), F.linear(x, zero.weight, zero.bias))
    assert layer(torch.randn(5, 2, 4, dtype=torch.float64)).shape == (5, 2, 3)  # (*, in_features)


def test_drop_connect_gradient_flows_only_through_kept_weights() -> None:
    layer = _linear(p=0.5, per_example=False, bias=False, generator=_gen(2))
    x = torch.ones(1, 4)
    y = layer(x)
    y.sum().backward()
    # d y_o / d W_oi = M_oi x_i / (1 - p): the weight gradient is the mask scaled by 2
    grad = layer.weight.grad
    assert set(grad.unique().tolist()) <= {0.0, 2.0}
    torch.testing.assert_close(y.detach()[0], (layer.weight.detach() * grad).sum(1))


# --- gradients, eval identity, reprs (all variants) ------------------------------------------------

FUNCTIONALS = {
    "spatial": (lambda x, **k: spatial_dropout(x, 0.5, **k), (8, 3, 4, 4)),
    "drop_path": (lambda x, **k: drop_path(x, 0.5, **k), (16, 3, 2)),
    "drop_block2d": (lambda x, **k: drop_block2d(x, 0.3, 3, **k), (4, 2, 8, 8)),
    "drop_block1d": (lambda x, **k: drop_block1d(x, 0.3, 3, **k), (4, 2, 12)),
    "locked": (lambda x, **k: locked_dropout(x, 0.5, **k), (5, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_gradient_is_zero_where_dropped_and_the_scale_elsewhere(name) -> None:
    function, shape = FUNCTIONALS[name]
    x = (torch.rand(shape, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = function(x, generator=_gen(9))
    y.sum().backward()
    dropped = y.detach() == 0
    assert bool(dropped.any()) and bool((~dropped).any())
    assert bool((x.grad[dropped] == 0).all())
    scale = y.detach()[~dropped] / x.detach()[~dropped]
    torch.testing.assert_close(x.grad[~dropped], scale, rtol=1e-12, atol=0)
    assert len(set(scale.round(decimals=9).tolist())) == 1  # one scale for every survivor


def test_gaussian_dropout_gradient_is_the_noise() -> None:
    x = (torch.rand(100, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = gaussian_dropout(x, 0.4, generator=_gen())
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach() / x.detach(), rtol=1e-12, atol=0)


# Inputs large enough that a training-mode pass leaves them unchanged with probability below 1e-6
# (e.g. DropPath keeps all 64 examples with probability 0.8**64 = 6e-7).
MODULES = [
    (SpatialDropout(0.3), (8, 16, 4, 4), "SpatialDropout(p=0.3)"),
    (DropPath(0.2), (64, 5), "DropPath(p=0.2)"),
    (DropBlock2d(0.1, 3), (4, 8, 16, 16), "DropBlock2d(p=0.1, block_size=3)"),
    (DropBlock1d(0.1, 2), (4, 8, 32), "DropBlock1d(p=0.1, block_size=2)"),
    (LockedDropout(0.25), (3, 16, 8), "LockedDropout(p=0.25, batch_first=False)"),
    (GaussianDropout(0.5), (3, 4), "GaussianDropout(p=0.5)"),
    (AlphaDropout(0.2), (3, 4), "AlphaDropout(p=0.2)"),
    (DropConnectLinear(5, 2, 0.4, per_example=False, generator=_gen()), (3, 5),
     "DropConnectLinear(in_features=5, out_features=2, bias=True, p=0.4, per_example=False, generator=torch.Generator)"),
]


@pytest.mark.parametrize(("module", "shape", "text"), MODULES, ids=[text.split("(")[0] for _, _, text in MODULES])
def test_modules_are_the_identity_in_eval_mode_and_show_their_hyper_parameters(module, shape, text) -> None:
    assert repr(module) == text
    torch.manual_seed(0)  # the modules draw from torch's global generator: the same draws whatever ran before
    x = torch.randn(shape)
    module.eval()
    expected = F.linear(x, module.weight, module.bias) if isinstance(module, nn.Linear) else x
    assert torch.equal(module(x), expected)
    module.train()
    assert not torch.equal(module(x), expected)  # training mode does change the values


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_functionals_are_the_identity_in_eval_mode_and_at_p_zero(name) -> None:
    function, shape = FUNCTIONALS[name]
    x = torch.randn(shape)
    assert function(x, training=False) is x
    zero = {
        "spatial": lambda: spatial_dropout(x, 0.0), "drop_path": lambda: drop_path(x, 0.0),
        "drop_block2d": lambda: drop_block2d(x, 0.0, 3), "drop_block1d": lambda: drop_block1d(x, 0.0, 3),
        "locked": lambda: locked_dropout(x, 0.0),
    }[name]()
    assert torch.equal(zero, x)
    assert torch.equal(gaussian_dropout(x, 0.0), x) and gaussian_dropout(x, 0.7, training=False) is x


def test_generator_makes_draws_reproducible_and_half_precision_is_computed_in_float32() -> None:
    x = torch.randn(4, 3, 8, 8)
    assert torch.equal(drop_block2d(x, 0.3, 3, generator=_gen(5)), drop_block2d(x, 0.3, 3, generator=_gen(5)))
    assert not torch.equal(drop_block2d(x, 0.3, 3, generator=_gen(5)), drop_block2d(x, 0.3, 3, generator=_gen(6)))
    half = x.half()
    y = gaussian_dropout(half, 0.3, generator=_gen(1))
    assert y.dtype == torch.float32 and torch.equal(y, gaussian_dropout(half.float(), 0.3, generator=_gen(1)))


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: spatial_dropout(torch.ones(2, 3, 4), 1.0), ValueError, "p must be in [0, 1), got 1.0"),
        (lambda: drop_path(torch.ones(2, 3), -0.1), ValueError, "p must be in [0, 1), got -0.1"),
        (lambda: drop_block2d(torch.ones(1, 1, 4, 4), 0.1, 5), ValueError, "block_size must fit"),
        (lambda: drop_block2d(torch.ones(1, 1, 4, 4), 0.1, 0), ValueError, "block_size must be an int >= 1, got 0"),
        (lambda: drop_block1d(torch.ones(1, 1, 4), 0.1, 2.0), TypeError, "block_size must be an int"),
        (lambda: DropBlock2d(0.1, 0), ValueError, "block_size"),
        (lambda: spatial_dropout(torch.ones(2, 3), 0.1), ValueError, "x must be a (N, C, ...)"),
        (lambda: drop_block2d(torch.ones(2, 3, 4), 0.1, 2), ValueError, "x must be a (N, C, H, W)"),
        (lambda: locked_dropout(torch.ones(2, 3), 0.1), ValueError, "x must be a (T, N, H)"),
        (lambda: drop_path(torch.ones(2, 3, dtype=torch.int64), 0.1), TypeError, "x must be a floating-point tensor"),
        (lambda: gaussian_dropout(torch.ones(2) > 0, 0.1), TypeError, "got dtype torch.bool"),
        (lambda: gaussian_dropout([1.0], 0.1), TypeError, "x must be a torch.Tensor"),
        (lambda: drop_path(torch.ones(2), 0.1, generator=0), TypeError, "generator must be a torch.Generator"),
        (lambda: DropConnectLinear(0, 3, 0.1), ValueError, "in_features must be an int >= 1, got 0"),
        (lambda: DropConnectLinear(3, 2, 0.1)(torch.ones(2, 4)), ValueError, "weight must be a 2-D"),
        (lambda: DropConnectLinear(3, 2, 0.1)(torch.ones(2, 3, dtype=torch.float64)), TypeError, "same dtype"),
        (lambda: drop_path_rates(0, 0.1), ValueError, "depth must be an int >= 1, got 0"),
        (lambda: drop_path_rates(3, 1.0), ValueError, "max_rate must be in [0, 1), got 1.0"),
        (lambda: drop_path(torch.tensor([1.0, math.nan]), 0.5), ValueError, "x must be finite"),
        (lambda: alpha_dropout(torch.ones(3), 1.0), ValueError, "p must be in [0, 1), got 1.0"),
        (lambda: AlphaDropout(-0.5), ValueError, "p must be in [0, 1), got -0.5"),
        (lambda: alpha_dropout(torch.ones(3, dtype=torch.int32), 0.1), TypeError, "x must be a floating-point tensor"),
        (lambda: alpha_dropout(torch.ones(3), 0.1, training=1), TypeError, "training must be a bool"),
        (lambda: alpha_dropout(torch.tensor([1.0, math.inf]), 0.1, training=False), ValueError, "x must be finite"),
        (lambda: alpha_dropout(torch.full((100,), 3e38), 0.9), ValueError, "the magnitudes of x are beyond"),
    ],
)
def test_bad_input_is_rejected_naming_the_argument(call, error, words) -> None:
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


# --- DropBlock's seed rate and expected fraction, as functions ---------------------------------------


@pytest.mark.parametrize(("p", "bs", "sizes"), [(0.1, 5, (24, 24)), (0.3, 7, (32, 16)), (0.5, 11, (11, 11)), (0.2, 1, (9, 4)), (0.2, 3, (40,))])
def test_seed_rate_is_ghiasis_formula(p, bs, sizes) -> None:
    expected = p / bs ** len(sizes) * math.prod(sizes) / math.prod(n - bs + 1 for n in sizes)
    assert drop_block_seed_rate(p, bs, sizes) == pytest.approx(expected, rel=1e-12)
    assert drop_block_seed_rate(p, bs, sizes) <= p  # each factor n / (bs (n - bs + 1)) is at most 1


def test_seed_rate_is_p_for_block_size_one_and_for_a_block_as_large_as_the_map() -> None:
    assert drop_block_seed_rate(0.37, 1, (24, 24)) == pytest.approx(0.37)
    assert drop_block_seed_rate(0.5, 11, (11, 11)) == pytest.approx(0.5)


@pytest.mark.parametrize("p", [0.1, 0.3])
@pytest.mark.parametrize(("size", "bs"), [(16, 3), (16, 7), (32, 5), (9, 9), (10, 1)])
def test_expected_fraction_is_the_mean_cover_probability(size, bs, p) -> None:
    for dims in (1, 2):
        assert drop_block_expected_fraction(p, bs, (size,) * dims) == pytest.approx(
            _expected_drop_fraction(size, bs, p, dims), rel=1e-12
        )


def test_expected_fraction_is_what_drop_block1d_realises() -> None:
    y = drop_block1d(torch.ones(4000, 1, 20, dtype=torch.float64), 0.3, 5, generator=_gen(11))
    per_mask = (y == 0).double().mean(dim=(1, 2))
    realised, se = per_mask.mean().item(), per_mask.std().item() / math.sqrt(per_mask.numel())
    assert abs(realised - drop_block_expected_fraction(0.3, 5, (20,))) <= 4 * se
    assert drop_block_expected_fraction(0.3, 5, (20,)) < 0.3


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0.1, 5, (4, 8)), ValueError, r"block_size must fit in the map \(at most 4"),
        ((1.0, 5, (24, 24)), ValueError, r"p must be in \[0, 1\)"),
        ((0.1, 3, (8, 8, 8)), ValueError, r"sizes must hold one or two map sizes"),
        ((0.1, 3, 8), TypeError, r"sizes must be a tuple of one or two ints"),
        ((0.1, 3, (8, 0)), ValueError, r"sizes\[1\]"),
    ],
)
def test_seed_rate_and_expected_fraction_reject_bad_arguments(args, error, message) -> None:
    for function in (drop_block_seed_rate, drop_block_expected_fraction):
        with pytest.raises(error, match=message):
            function(*args)

"""Tests of course_lib.mc_dropout: the sampling modes, the moments, the uncertainty scores and referral.

The statistical checks use a network whose exact MC moments are known: with dropout right before
the last ``Linear``, ``y = W2 (m ⊙ h) / (1 - p) + b2`` has mean ``W2 h + b2`` (the eval-mode output)
and variance ``p / (1 - p) Σ_j W2_kj² h_j²`` per output ``k``. Seeds are fixed, so every bound of
"4 standard errors" gives the same verdict on every run.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib.dropout import InvertedDropout
from course_lib.metrics import accuracy
from course_lib.mc_dropout import (
    DROPOUT_TYPES,
    MAX_SAMPLES,
    dropout_modules,
    ensemble_probabilities,
    eval_predict,
    expected_entropy,
    mc_dropout_mode,
    mc_predict,
    mc_probabilities,
    mc_samples,
    mutual_information,
    predictive_entropy,
    referral_curve,
)

P = 0.3


def _seeded(build):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return build()


def _last_layer_net(p: float = P, inputs: int = 4, hidden: int = 6, outputs: int = 2) -> nn.Sequential:
    """Dropout right before the last Linear: exact MC mean and variance (module docstring)."""
    return _seeded(lambda: nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Dropout(p), nn.Linear(hidden, outputs)))


def _batch_norm_net(p: float = P, outputs: int = 3) -> nn.Sequential:
    """Linear → BatchNorm1d (with running statistics of its own) → ReLU → Dropout → Linear, in training mode."""

    def build() -> nn.Sequential:
        net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(p), nn.Linear(8, outputs))
        net[1].running_mean.copy_(torch.randn(8))
        net[1].running_var.copy_(torch.rand(8) + 0.5)
        return net.train()

    return _seeded(build)


def _x(n: int = 3, features: int = 4) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(1).normal(size=(n, features)), dtype=torch.float32)


def _exact_moments(net: nn.Sequential, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the MC passes of :func:`_last_layer_net`, per input and output, in float64."""
    with torch.no_grad():
        hidden = net[1](net[0](x)).double().numpy()
    W2, b2, p = net[3].weight.detach().double().numpy(), net[3].bias.detach().double().numpy(), net[2].p
    return hidden @ W2.T + b2, p / (1 - p) * (hidden**2) @ (W2**2).T


def _modes(net: nn.Module) -> list[bool]:
    return [module.training for module in net.modules()]


def _within_4_sigma(samples: torch.Tensor, mean: np.ndarray, variance: np.ndarray) -> None:
    """The sample mean and population variance agree with the exact moments within 4 standard errors each."""
    s = samples.double().numpy()
    t = s.shape[0]
    sample_mean, sample_var = s.mean(axis=0), s.var(axis=0)
    fourth = ((s - sample_mean) ** 4).mean(axis=0)
    assert np.all(np.abs(sample_mean - mean) <= 4 * np.sqrt(variance / t)), (sample_mean, mean)
    assert np.all(np.abs(sample_var - variance) <= 4 * np.sqrt((fourth - sample_var**2) / t)), (sample_var, variance)


# --- mc_samples: shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
def test_shapes_for_vector_scalar_and_multi_dimensional_outputs(batched: bool) -> None:
    x = _x(5)
    vector = _last_layer_net(outputs=3)
    scalar = nn.Sequential(_last_layer_net(outputs=1), nn.Flatten(0))  # (N,) outputs
    grid = nn.Sequential(_last_layer_net(outputs=6), nn.Unflatten(1, (2, 3)))  # (N, 2, 3) outputs
    assert mc_samples(vector, x, 7, batched, max_batch=4).shape == (7, 5, 3)
    assert mc_samples(scalar, x, 7, batched, max_batch=4).shape == (7, 5)
    assert mc_samples(grid, x, 7, batched, max_batch=4).shape == (7, 5, 2, 3)
    # inputs with more than one dimension per example: (N, 2, 4) through a Linear on the last axis
    assert mc_samples(vector, x.reshape(5, 1, 4).expand(5, 2, 4), 7, batched, max_batch=3).shape == (7, 5, 2, 3)
    assert mc_samples(vector, x[:1], 1, batched).shape == (1, 1, 3)


@settings(max_examples=25)
@given(n_samples=st.integers(1, 6), n=st.integers(1, 5), max_batch=st.integers(1, 40), batched=st.booleans())
def test_a_pass_without_dropping_gives_each_input_its_eval_output_in_order(n_samples: int, n: int, max_batch: int, batched: bool) -> None:
    net = _batch_norm_net(p=0.0)
    x = _x(n)
    samples = mc_samples(net, x, n_samples, batched, max_batch=max_batch)
    net.eval()
    with torch.no_grad():
        expected = net(x)
    assert samples.shape == (n_samples, n, 3)
    torch.testing.assert_close(samples, expected.expand(n_samples, n, 3), rtol=1e-6, atol=1e-6)


# --- only dropout is active --------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
def test_dropout_of_rate_zero_gives_exactly_the_eval_outputs_and_batch_norm_is_not_updated(batched: bool) -> None:
    net = _batch_norm_net(p=0.0)
    before = {name: value.clone() for name, value in net[1].state_dict().items()}
    x = _x(4)
    samples = mc_samples(net, x, 5, batched, max_batch=10**6)
    net.eval()
    with torch.no_grad():
        # the same rows in one forward pass (batched) or one pass per sample (looped)
        expected = net(x.repeat(5, 1)).reshape(5, 4, 3) if batched else torch.stack([net(x)] * 5)
    assert torch.equal(samples, expected)
    for name, value in net[1].state_dict().items():
        assert torch.equal(value, before[name]), f"batch norm's {name} changed"


@pytest.mark.parametrize("batched", [True, False])
def test_the_passes_are_those_of_a_network_with_batch_norm_in_eval_mode_and_dropout_on(batched: bool) -> None:
    net = _batch_norm_net()
    x = _x(4)
    samples = mc_samples(net, x, 6, batched, max_batch=10**6, seed=7)
    net.eval()
    net[3].train()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(7)
        expected = net(x.repeat(6, 1)).reshape(6, 4, 3) if batched else torch.stack([net(x) for _ in range(6)])
    assert torch.equal(samples, expected)
    # the passes differ (dropout is on), and batch norm in training mode would give other outputs
    assert not torch.equal(samples[0], samples[1])
    net.train()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(7)
        assert not torch.allclose(net(x.repeat(6, 1)).reshape(6, 4, 3), samples)


def test_mc_dropout_mode_switches_only_the_dropout_modules_and_restores_mixed_modes() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1)), nn.Linear(8, 2))
    net.train()
    net[1].eval()  # a frozen batch norm
    net[4][1].eval()  # a dropout the user had switched off
    before = _modes(net)
    with mc_dropout_mode(net) as inside:
        assert inside is net
        assert _modes(net) == [isinstance(module, nn.Dropout) for module in net.modules()]
    assert _modes(net) == before


def test_mc_dropout_mode_restores_the_modes_when_the_block_raises() -> None:
    net = _batch_norm_net()
    net[4].eval()
    before = _modes(net)
    with pytest.raises(KeyError):
        with mc_dropout_mode(net):
            raise KeyError("inside the block")
    assert _modes(net) == before


class _Explosion(Exception):
    """Not a TypeError/ValueError/RuntimeError: mc_samples lets it through unchanged."""


class _ExplodesOnCall(nn.Module):
    def __init__(self, error: type[Exception], after: int = 0) -> None:
        super().__init__()
        self.error, self.after, self.calls = error, after, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.after:
            raise self.error("the forward pass failed")
        return x


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("seed", [None, 3])
def test_modes_and_the_global_generator_are_restored_when_the_forward_pass_raises(batched: bool, seed: int | None) -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), _ExplodesOnCall(_Explosion, after=2), nn.Linear(8, 2))
    net.train()
    net[1].eval()
    before = _modes(net)
    state = torch.get_rng_state()
    with pytest.raises(_Explosion, match="the forward pass failed"):
        mc_samples(net, _x(4), 10, batched, max_batch=8, seed=seed)  # the third chunk or pass raises
    assert net[3].calls == 3
    assert _modes(net) == before
    if seed is not None:
        assert torch.equal(torch.get_rng_state(), state)


def test_a_runtime_error_inside_the_model_is_a_value_error_naming_model_and_x() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), _ExplodesOnCall(RuntimeError), nn.Linear(8, 2)).eval()
    with pytest.raises(ValueError, match=r"model\(x\) raised RuntimeError") as error:
        mc_samples(net, _x(), 3)
    assert isinstance(error.value.__cause__, RuntimeError)
    assert _modes(net) == [False] * len(_modes(net))


# --- no autograd graph --------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
def test_no_autograd_graph_is_recorded(batched: bool) -> None:
    net = _batch_norm_net()
    x = _x().requires_grad_(True)
    samples = mc_samples(net, x, 4, batched)
    assert not samples.requires_grad and samples.grad_fn is None
    mean, std = mc_predict(net, x, 4, tau=2.0, batched=batched)
    assert not mean.requires_grad and not std.requires_grad
    with pytest.raises(RuntimeError):
        samples.sum().backward()  # nothing to differentiate
    assert x.grad is None and all(parameter.grad is None for parameter in net.parameters())


# --- batched vs looped: one distribution ---------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dropout_class", [nn.Dropout, InvertedDropout])
def test_mean_and_variance_agree_with_the_exact_moments(batched: bool, dropout_class: type) -> None:
    net = _last_layer_net()
    net[2] = dropout_class(P)
    x = _x()
    mean, variance = _exact_moments(net, x)
    assert np.all(variance > 1e-3)  # a real spread to test against
    _within_4_sigma(mc_samples(net, x, 4000, batched, seed=11), mean, variance)


@pytest.mark.parametrize("max_batch", [1, 7, 10**9])
def test_every_chunk_size_gives_the_same_distribution(max_batch: int) -> None:
    net, x = _last_layer_net(), _x()
    mean, variance = _exact_moments(net, x)
    _within_4_sigma(mc_samples(net, x, 3000, max_batch=max_batch, seed=5), mean, variance)


@pytest.mark.parametrize("max_batch", [1, 7, 10**9])
def test_the_same_seed_and_chunk_size_give_identical_samples(max_batch: int) -> None:
    net, x = _last_layer_net(), _x()
    first = mc_samples(net, x, 50, max_batch=max_batch, seed=2)
    assert torch.equal(first, mc_samples(net, x, 50, max_batch=max_batch, seed=2))
    assert not torch.equal(first, mc_samples(net, x, 50, max_batch=max_batch, seed=3))


# --- seeds ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
def test_an_int_seed_is_reproducible_and_leaves_the_global_generator_untouched(batched: bool) -> None:
    net, x = _last_layer_net(), _x()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = mc_samples(net, x, 20, batched, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, mc_samples(net, x, 20, batched, seed=4))
    assert not torch.equal(first, mc_samples(net, x, 20, batched, seed=5))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("batched", [True, False])
def test_seed_none_draws_from_the_global_generator_and_advances_it(batched: bool) -> None:
    net, x = _last_layer_net(), _x()
    torch.manual_seed(9)
    state = torch.get_rng_state()
    first = mc_samples(net, x, 20, batched)
    assert not torch.equal(torch.get_rng_state(), state)
    assert not torch.equal(first, mc_samples(net, x, 20, batched))  # the generator moved on
    torch.manual_seed(9)
    assert torch.equal(first, mc_samples(net, x, 20, batched))  # the global seed reproduces it


# --- which modules count as dropout --------------------------------------------------------------------


class _GaussianNoise(nn.Module):
    """A user's stochastic layer that is no subclass of any dropout: it adds N(0, 1) noise in training mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn_like(x) if self.training else x


def test_dropout_modules_lists_every_dropout_in_modules_order() -> None:
    first, second, third = nn.Dropout(0.1), InvertedDropout(0.2), nn.AlphaDropout(0.3)
    net = nn.Sequential(nn.Linear(2, 2), first, nn.Sequential(second, nn.ReLU()), third, _GaussianNoise())
    found = dropout_modules(net)
    assert len(found) == 3 and all(a is b for a, b in zip(found, [first, second, third]))
    assert dropout_modules(first) == [first]  # the model itself counts
    assert dropout_modules(nn.Linear(2, 2)) == []
    assert dropout_modules(net, _GaussianNoise) == [net[4]]


def test_inverted_dropout_counts_as_dropout_by_default() -> None:
    net = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), InvertedDropout(0.5), nn.Linear(6, 2))
    samples = mc_samples(net, _x(), 30, seed=0)
    assert samples.std(dim=0).min() > 0  # the passes differ: InvertedDropout was switched on


def test_a_user_class_counts_through_dropout_types() -> None:
    net = nn.Sequential(nn.Linear(4, 6), _GaussianNoise(), nn.Linear(6, 2))
    with pytest.raises(ValueError, match="MC dropout needs dropout"):
        mc_samples(net, _x(), 5)
    assert mc_samples(net, _x(), 30, dropout_types=_GaussianNoise, seed=0).std(dim=0).min() > 0
    assert mc_samples(net, _x(), 30, dropout_types=(_GaussianNoise,), seed=0).std(dim=0).min() > 0


def test_dropout_types_replaces_the_default_classes_unless_they_are_added() -> None:
    net = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), _GaussianNoise(), nn.Linear(6, 2))
    with mc_dropout_mode(net, (_GaussianNoise,)):
        assert not net[1].training and net[2].training
    with mc_dropout_mode(net, DROPOUT_TYPES + (_GaussianNoise,)):
        assert net[1].training and net[2].training


@pytest.mark.parametrize("call", [
    lambda net: mc_samples(net, _x(), 5),
    lambda net: mc_samples(net, _x(), 5, batched=False),
    lambda net: mc_predict(net, _x(), 5),
    lambda net: mc_probabilities(net, _x(), 5),
    lambda net: mc_dropout_mode(net).__enter__(),
])
def test_a_model_without_dropout_is_a_value_error_saying_mc_dropout_needs_dropout(call) -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    net[1].eval()
    before = _modes(net)
    with pytest.raises(ValueError, match="MC dropout needs dropout") as error:
        call(net)
    assert "model has no dropout module" in str(error.value)
    assert _modes(net) == before


# --- bad arguments of the samplers ----------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    (dict(n_samples=0), ValueError, r"n_samples must be an int >= 1, got 0"),
    (dict(n_samples=-3), ValueError, r"n_samples must be an int >= 1, got -3"),
    (dict(n_samples=MAX_SAMPLES + 1), ValueError, r"n_samples must be at most MAX_SAMPLES"),
    (dict(n_samples=2.0), TypeError, r"n_samples must be an int, got float 2.0"),
    (dict(n_samples=True), TypeError, r"n_samples must be an int"),
    (dict(max_batch=0), ValueError, r"max_batch must be an int >= 1, got 0"),
    (dict(batched=1), TypeError, r"batched must be a bool"),
    (dict(seed=-1), ValueError, r"seed must be an int >= 0, got -1"),
    (dict(seed=2**64), ValueError, r"seed must be an int in \[0, 2\*\*64 - 1\]"),
    (dict(model=lambda t: t), TypeError, r"model must be a torch.nn.Module"),
    (dict(x=np.zeros((3, 4), dtype=np.float32)), TypeError, r"x must be a torch.Tensor"),
    (dict(x=torch.zeros(3, 4, dtype=torch.float64)), TypeError, r"x must have the dtype of the model's parameters"),
    (dict(x=torch.zeros(3, 4, dtype=torch.bool)), TypeError, r"x must hold real numbers"),
    (dict(x=torch.tensor([[0.0, math.nan, 0.0, 0.0]])), ValueError, r"x must be finite, got nan"),
    (dict(x=torch.zeros(3, 5)), ValueError, r"x must have 4 features in its last dimension"),
    (dict(x=torch.zeros(0, 4)), ValueError, r"x must have a batch dimension with at least one input, got shape \(0, 4\)"),
    (dict(dropout_types=()), TypeError, r"dropout_types must be a non-empty tuple of nn.Module classes"),
    (dict(dropout_types=[nn.Dropout]), TypeError, r"dropout_types must be a non-empty tuple"),
])
def test_bad_sampler_arguments_are_named_with_their_value(kwargs: dict, error: type, pattern: str) -> None:
    call = dict(model=_last_layer_net(), x=_x(), n_samples=4)
    call.update(kwargs)
    with pytest.raises(error, match=pattern):
        mc_samples(**call)


def test_a_model_returning_no_row_per_input_is_rejected() -> None:
    net = nn.Sequential(_last_layer_net(), nn.Flatten(0, 1))  # (N, 2) -> (2N,)
    with pytest.raises(ValueError, match="model must return one output row per input row: 3 input rows gave"):
        mc_samples(net, _x(), 2, max_batch=3)


def test_non_finite_outputs_of_the_model_are_an_error() -> None:
    net = _last_layer_net()
    with torch.no_grad():
        net[3].weight[0, 0] = math.nan
    with pytest.raises(ValueError, match=r"model\(x\) returned NaN or infinite outputs"):
        mc_samples(net, _x(), 3)


# --- mc_predict ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False])
def test_mc_predict_is_the_mean_and_population_std_of_the_samples(batched: bool) -> None:
    net, x = _last_layer_net(), _x()
    samples = mc_samples(net, x, 25, batched, max_batch=7, seed=1).double().numpy()
    mean, std = mc_predict(net, x, 25, batched=batched, max_batch=7, seed=1)
    assert mean.shape == std.shape == (3, 2) and mean.dtype == torch.float32
    by_hand_mean = samples.sum(axis=0) / 25
    by_hand_var = ((samples - by_hand_mean) ** 2).sum(axis=0) / 25  # 1/T, not 1/(T-1)
    np.testing.assert_allclose(mean.numpy(), by_hand_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std.numpy(), np.sqrt(by_hand_var), rtol=1e-4, atol=1e-6)
    assert not np.allclose(std.numpy(), samples.std(axis=0, ddof=1), rtol=1e-3)


def test_tau_adds_its_inverse_to_the_variance() -> None:
    net, x = _last_layer_net(), _x()
    _, std = mc_predict(net, x, 40, seed=2)
    for tau in (0.5, 4.0, 1e6):
        mean_tau, std_tau = mc_predict(net, x, 40, tau, seed=2)
        torch.testing.assert_close(std_tau.double() ** 2, std.double() ** 2 + 1 / tau, rtol=1e-5, atol=1e-7)
    # one pass has no spread: the standard deviation is the noise alone
    _, std_one = mc_predict(net, x, 1, 4.0)
    torch.testing.assert_close(std_one, torch.full((3, 2), 0.5))


def test_mc_predict_estimates_the_exact_moments() -> None:
    net, x = _last_layer_net(), _x()
    mean, variance = _exact_moments(net, x)
    predicted_mean, predicted_std = mc_predict(net, x, 4000, tau=10.0, seed=3)
    assert np.all(np.abs(predicted_mean.double().numpy() - mean) <= 4 * np.sqrt(variance / 4000))
    np.testing.assert_allclose(predicted_std.double().numpy() ** 2, variance + 0.1, rtol=0.1)


@pytest.mark.parametrize("predict", [lambda net, x, tau: mc_predict(net, x, 3, tau), eval_predict],
                         ids=["mc_predict", "eval_predict"])
@pytest.mark.parametrize(("tau", "error", "pattern"), [
    (0.0, ValueError, r"tau must be a finite number > 0, got 0.0"),
    (-1.0, ValueError, r"tau must be a finite number > 0, got -1.0"),
    (math.nan, ValueError, r"tau must be a finite number > 0, got nan"),
    (math.inf, ValueError, r"tau must be a finite number > 0, got inf"),
    (True, TypeError, r"tau must be a real number"),
    ("1", TypeError, r"tau must be a real number"),
    (1e-300, ValueError, r"tau must be large enough that the noise variance 1/tau fits the outputs' dtype torch.float32, got tau = 1e-300"),
])
def test_bad_tau_is_named(predict, tau, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        predict(_last_layer_net(), _x(), tau)


# --- eval_predict: the deterministic prediction it replaces -----------------------------------------------


def test_eval_predict_is_one_eval_mode_pass_with_only_the_tau_floor_and_restores_mixed_modes() -> None:
    net = _batch_norm_net()
    net[3].eval()  # a dropout the user had switched off: its flag must come back as it was
    before = _modes(net)
    x = _x(5).requires_grad_(True)
    mean, std = eval_predict(net, x, tau=4.0)
    assert _modes(net) == before
    assert mean.shape == std.shape == (5, 3) and mean.dtype == std.dtype == torch.float32
    assert not mean.requires_grad and not std.requires_grad
    assert torch.equal(std, torch.full((5, 3), 0.5))  # sqrt(1/4) on every input and output
    assert torch.equal(eval_predict(net, x)[1], torch.zeros(5, 3))  # no τ: no spread at all
    net.eval()
    with torch.no_grad():
        assert torch.equal(mean, net(x))  # batch norm's running statistics, every unit kept
    assert torch.equal(mean, eval_predict(net, x, tau=4.0)[0])  # deterministic: no mask drawn


def test_the_eval_std_is_the_std_of_one_mc_pass() -> None:
    net, x = _last_layer_net(), _x()
    for tau in (None, 0.3, 1e4):
        _, one_pass = mc_predict(net, x, 1, tau, seed=0)
        assert torch.equal(eval_predict(net, x, tau)[1], one_pass)


def test_the_eval_mean_is_the_exact_mc_mean_only_when_dropout_feeds_the_linear_output() -> None:
    exact_mean, _ = _exact_moments(last := _last_layer_net(), x := _x())
    np.testing.assert_allclose(eval_predict(last, x)[0].double().numpy(), exact_mean, rtol=1e-5, atol=1e-6)
    # dropout (p = 1/2) before a tanh: the MC mean is the mean over the 8 masks of the 3 units
    net = _seeded(lambda: nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.Tanh(), nn.Linear(3, 1)))
    masks = torch.tensor(list(itertools.product([0.0, 2.0], repeat=3)))  # kept units scaled by 1/(1-p)
    with torch.no_grad():
        hidden = net[0](x)
        sub_networks = torch.stack([net[3](torch.tanh(hidden * mask)) for mask in masks])
    mc_mean, mc_std = sub_networks.mean(dim=0), sub_networks.std(dim=0, correction=0)
    eval_mean = eval_predict(net, x)[0]
    assert not torch.allclose(eval_mean, mc_mean, atol=1e-3)  # weight scaling only approximates the average ...
    assert bool(((eval_mean - mc_mean).abs() < mc_std).all())  # ... well within the spread of the sub-networks
    assert all(_modes(net))


def test_eval_predict_needs_no_dropout_and_restores_the_modes_when_the_pass_raises() -> None:
    plain = nn.Linear(4, 2)
    mean, std = eval_predict(plain, _x())
    with torch.no_grad():
        assert torch.equal(mean, plain(_x())) and not std.any()
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), _ExplodesOnCall(_Explosion), nn.Linear(8, 2))
    net.train()
    net[1].eval()
    before = _modes(net)
    with pytest.raises(_Explosion):
        eval_predict(net, _x())
    assert _modes(net) == before


@pytest.mark.parametrize(("model", "x", "error", "pattern"), [
    ("net", _x(), TypeError, r"model must be a torch.nn.Module, got str 'net'"),
    (nn.Linear(4, 2), _x().numpy(), TypeError, r"x must be a torch.Tensor"),
    (nn.Linear(4, 2), torch.zeros(0, 4), ValueError, r"x must have a batch dimension with at least one input"),
    (nn.Sequential(nn.Linear(3, 2)), _x(), ValueError, r"x must have 3 features in its last dimension"),
    (_ExplodesOnCall(RuntimeError), _x(), ValueError, r"model\(x\) raised RuntimeError"),
    (nn.Sequential(nn.Linear(4, 2), nn.Flatten(0)), _x(), ValueError, r"model must return one output row per input row"),
])
def test_eval_predict_names_bad_models_and_inputs(model, x, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        eval_predict(model, x)


class _RoundsToIntegers(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.round().long()


def test_eval_predict_needs_floating_point_outputs() -> None:
    with pytest.raises(TypeError, match=r"model must return floating-point outputs .*torch.int64"):
        eval_predict(_RoundsToIntegers(), _x())


# --- mc_probabilities and ensemble_probabilities ---------------------------------------------------------


def test_mc_probabilities_are_the_softmax_of_the_samples() -> None:
    net, x = _batch_norm_net(), _x(5)
    probs = mc_probabilities(net, x, 8, max_batch=6, seed=0)
    assert probs.shape == (8, 5, 3) and probs.dtype == torch.float64
    torch.testing.assert_close(probs.sum(dim=-1), torch.ones(8, 5, dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(probs, torch.softmax(mc_samples(net, x, 8, max_batch=6, seed=0).double(), dim=-1))
    assert all(_modes(net))


def test_mc_probabilities_needs_logits_of_shape_n_by_c() -> None:
    scalar = nn.Sequential(_last_layer_net(outputs=1), nn.Flatten(0))
    with pytest.raises(ValueError, match=r"model must return logits of shape \(N, C\).*got outputs of shape \(3,\)"):
        mc_probabilities(scalar, _x(), 4)


def test_ensemble_probabilities_runs_every_member_once_in_eval_mode_and_restores_its_modes() -> None:
    members = [_batch_norm_net(), _seeded(lambda: nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.9)))]
    members[0][1].eval()
    before = [_modes(member) for member in members]
    x = _x(5)
    probs = ensemble_probabilities(members, x)
    assert probs.shape == (2, 5, 3) and probs.dtype == torch.float64 and not probs.requires_grad
    assert [_modes(member) for member in members] == before
    for member, member_probs in zip(members, probs):
        member.eval()
        with torch.no_grad():
            torch.testing.assert_close(member_probs, torch.softmax(member(x).double(), dim=-1))
    assert torch.equal(probs, ensemble_probabilities(tuple(members), x))  # deterministic: no dropout


@pytest.mark.parametrize(("models", "error", "pattern"), [
    ([], TypeError, r"models must be a non-empty sequence of torch.nn.Module"),
    (nn.Linear(4, 3), TypeError, r"models must be a non-empty sequence"),
    ([nn.Linear(4, 3), "net"], TypeError, r"models\[1\] must be a torch.nn.Module, got str 'net'"),
    ([nn.Linear(4, 3), nn.Linear(4, 2)], ValueError, r"the members of models must return outputs of one shape, got \[\(5, 2\), \(5, 3\)\]"),
    ([nn.Sequential(nn.Linear(4, 1), nn.Flatten(0))], ValueError, r"every member of models must return logits of shape \(N, C\), got shape \(5,\) from models\[0\]"),
])
def test_ensemble_members_are_checked(models, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        ensemble_probabilities(models, _x(5))


# --- uncertainty scores ------------------------------------------------------------------------------------

SCORES = (predictive_entropy, expected_entropy, mutual_information)


def test_scores_by_hand() -> None:
    # input 0: passes [0.5, 0.5] and [1, 0]; input 1: passes [0.25, 0.75] and [0.75, 0.25]
    samples = np.array([[[0.5, 0.5], [0.25, 0.75]], [[1.0, 0.0], [0.75, 0.25]]])
    h = lambda *ps: -sum(p * math.log(p) for p in ps if p > 0)  # noqa: E731
    total = [h(0.75, 0.25), h(0.5, 0.5)]
    aleatoric = [(h(0.5, 0.5) + 0.0) / 2, h(0.25, 0.75)]
    np.testing.assert_allclose(predictive_entropy(samples), total, rtol=1e-14)
    np.testing.assert_allclose(expected_entropy(samples), aleatoric, rtol=1e-14)
    np.testing.assert_allclose(mutual_information(samples), np.subtract(total, aleatoric), rtol=1e-13)
    for score in SCORES:
        result = score(samples)
        assert isinstance(result, np.ndarray) and result.dtype == np.float64 and result.shape == (2,)


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_uniform_predictions_have_entropy_log_c_and_no_mutual_information(classes: int) -> None:
    samples = np.full((4, 2, classes), 1 / classes)
    np.testing.assert_allclose(predictive_entropy(samples), math.log(classes), rtol=1e-14)
    np.testing.assert_allclose(expected_entropy(samples), math.log(classes), rtol=1e-14)
    assert np.all(mutual_information(samples) == 0.0)


def test_agreeing_one_hot_samples_give_exact_zeros_without_warnings() -> None:
    samples = np.stack([np.eye(3)[[0, 2, 1]]] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            results = [score(samples) for score in SCORES]
    for result in results:
        assert result.tolist() == [0.0, 0.0, 0.0]


def test_two_confident_passes_that_disagree_give_mutual_information_log_2() -> None:
    samples = np.array([[[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]])
    assert predictive_entropy(samples)[0] == pytest.approx(math.log(2), rel=1e-15)
    assert expected_entropy(samples)[0] == 0.0
    assert mutual_information(samples)[0] == pytest.approx(math.log(2), rel=1e-15)


def test_identical_unsure_passes_give_exactly_zero_mutual_information() -> None:
    row = [0.1, 0.2, 0.3, 0.4]
    samples = np.array([[row, [0.7, 0.1, 0.1, 0.1]]] * 7)
    assert mutual_information(samples).tolist() == [0.0, 0.0]
    assert expected_entropy(samples)[0] > 1.0


def test_tiny_probabilities_stay_finite() -> None:
    samples = np.array([[[1.0 - 1e-300, 1e-300]], [[5e-324, 1.0]]])
    for score in SCORES:
        assert np.isfinite(score(samples)).all()


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1), t=st.integers(1, 8), n=st.integers(1, 5), c=st.integers(2, 6),
    concentration=st.sampled_from([0.05, 0.5, 1.0, 10.0]),
)
def test_mutual_information_is_non_negative_and_the_difference_of_the_entropies(seed: int, t: int, n: int, c: int, concentration: float) -> None:
    samples = np.random.default_rng(seed).dirichlet(np.full(c, concentration), size=(t, n))
    total, aleatoric, information = (score(samples) for score in SCORES)
    assert np.all(information >= 0.0)
    assert np.all((total >= -1e-15) & (total <= math.log(c) + 1e-12))
    assert np.all((aleatoric >= -1e-15) & (aleatoric <= total + 1e-12))  # Jensen: H of the mean >= mean of H
    np.testing.assert_allclose(information, np.maximum(total - aleatoric, 0.0), rtol=1e-12, atol=1e-15)


def test_torch_and_numpy_input_give_the_same_scores_and_float32_is_close() -> None:
    samples = np.random.default_rng(0).dirichlet(np.ones(4), size=(6, 3))
    for score in SCORES:
        reference = score(samples)
        np.testing.assert_array_equal(score(torch.tensor(samples)), reference)
        np.testing.assert_array_equal(score(samples.tolist()), reference)
        np.testing.assert_allclose(score(torch.tensor(samples, dtype=torch.float32)), reference, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(score(samples.astype(np.float32)), reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize(("samples", "error", "pattern"), [
    (np.full((2, 3), 0.5), ValueError, r"prob_samples must have shape \(T, N, C\), got shape \(2, 3\)"),
    (np.full((1, 2, 3, 2), 0.5), ValueError, r"prob_samples must have shape \(T, N, C\), got shape \(1, 2, 3, 2\)"),
    (np.ones((2, 3, 1)), ValueError, r"prob_samples must have at least 2 classes"),
    (np.zeros((0, 3, 2)), ValueError, r"prob_samples must hold at least one entry along every axis, got shape \(0, 3, 2\)"),
    (np.full((2, 3, 2), 0.4), ValueError, r"prob_samples rows must sum to 1 \(within 0.0001\), got a sum of 0.8 in row \(0, 0\)"),
    (np.array([[[2.0, -1.0]]]), ValueError, r"prob_samples must lie in \[0, 1\], got 2.0 at index \(0, 0, 0\)"),
    (np.array([[[math.nan, 1.0]]]), ValueError, r"prob_samples must be finite, got nan"),
    (np.full((1, 1, 2), 0.5) > 0, TypeError, r"prob_samples must hold real numbers"),
    (None, TypeError, r"prob_samples must be an array, got NoneType"),
])
def test_bad_probability_samples_are_named(score, samples, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        score(samples)


def test_logits_instead_of_probabilities_are_pointed_out() -> None:
    with pytest.raises(ValueError, match="pass probabilities"):
        predictive_entropy(np.array([[[0.2, 0.9]]]))


# --- referral_curve ---------------------------------------------------------------------------------------

PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45], [0.3, 0.7]])
LABELS = np.array([0, 1, 1, 0, 0])  # predictions 0, 0, 1, 0, 1: inputs 1 and 4 are wrong


def test_referral_curve_by_hand() -> None:
    uncertainty = [0.1, 0.9, 0.3, 0.2, 0.5]  # most uncertain first: 1, 4, 2, 3, 0
    curve = referral_curve(PROBS, LABELS, uncertainty, [0.0, 0.2, 0.39, 0.4, 0.6, 0.8])
    # floor(r N) referred: 0, 1, 1, 2, 3, 4 -> kept accuracies 3/5, 3/4, 3/4, 3/3, 2/2, 1/1
    assert curve.tolist() == [3 / 5, 3 / 4, 3 / 4, 1.0, 1.0, 1.0]
    assert curve.dtype == np.float64


def test_referring_nothing_is_the_plain_accuracy() -> None:
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(4), size=50)
    labels = rng.integers(0, 4, size=50)
    assert referral_curve(probs, labels, rng.random(50), [0.0])[0] == accuracy(probs, labels)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), c=st.integers(2, 5))
def test_an_oracle_score_gives_a_curve_that_never_falls(seed: int, n: int, c: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(c), size=n)
    labels = rng.integers(0, c, size=n)
    correct = probs.argmax(axis=1) == labels
    fractions = np.linspace(0.0, 0.99, 25)
    curve = referral_curve(probs, labels, 1.0 - correct, fractions)  # the wrong answers are referred first
    assert curve[0] == correct.mean()
    assert np.all(np.diff(curve) >= 0)
    kept = n - np.floor(fractions * n)
    np.testing.assert_allclose(curve, np.minimum(correct.sum() / kept, 1.0), rtol=1e-12)


def test_ties_are_broken_by_input_order() -> None:
    # all scores equal: the last inputs are referred first, so the kept ones are a prefix
    curve = referral_curve(PROBS, LABELS, np.zeros(5), [0.2, 0.4, 0.6, 0.8])
    assert curve.tolist() == [3 / 4, 2 / 3, 1 / 2, 1.0]  # kept 0-3, 0-2, 0-1, 0
    # a tie between inputs 1 (wrong) and 3 (right), both the most uncertain: input 3 goes first
    assert referral_curve(PROBS, LABELS, [0.0, 1.0, 0.0, 1.0, 0.0], [0.2]).tolist() == [2 / 4]
    # swap the two tied inputs: now the wrong one comes later and is referred
    assert referral_curve(PROBS[[0, 3, 2, 1, 4]], LABELS[[0, 3, 2, 1, 4]], [0.0, 1.0, 0.0, 1.0, 0.0], [0.2]).tolist() == [3 / 4]


@pytest.mark.parametrize(("fractions", "error", "pattern"), [
    ([1.0], ValueError, r"referral_fractions must lie in \[0, 1\), got 1.0 at index 0"),
    ([0.0, -0.1], ValueError, r"referral_fractions must lie in \[0, 1\), got -0.1 at index 1"),
    ([0.5, math.nan], ValueError, r"referral_fractions must lie in \[0, 1\), got nan at index 1"),
    ([], ValueError, r"referral_fractions must be a non-empty 1-D sequence, got shape \(0,\)"),
    ([[0.1, 0.2]], ValueError, r"referral_fractions must be a non-empty 1-D sequence, got shape \(1, 2\)"),
    (0.5, ValueError, r"referral_fractions must be a non-empty 1-D sequence, got shape \(\)"),
    (["0.5"], TypeError, r"referral_fractions must hold real numbers"),
])
def test_bad_referral_fractions_are_rejected(fractions, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        referral_curve(PROBS, LABELS, np.zeros(5), fractions)


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    (dict(labels=[0, 1, 2, 0, 0]), ValueError, r"labels must be classes in \[0, 2\), got 2 at index 2"),
    (dict(labels=[0, 1, -1, 0, 0]), ValueError, r"labels must be classes in \[0, 2\), got -1 at index 2"),
    (dict(labels=[0.0, 1.0, 1.0, 0.0, 0.0]), TypeError, r"labels must hold integer classes"),
    (dict(labels=[0, 1]), ValueError, r"labels must have shape \(5,\) to match probs"),
    (dict(probs=PROBS * 2), ValueError, r"probs must lie in \[0, 1\]"),
    (dict(probs=PROBS[None]), ValueError, r"probs must have shape \(N, C\)"),
    (dict(uncertainty=np.zeros(4)), ValueError, r"uncertainty must have shape \(5,\) \(one score per input\), got shape \(4,\)"),
    (dict(uncertainty=[0.0, math.inf, 0.0, 0.0, 0.0]), ValueError, r"uncertainty must be finite, got inf at index 1"),
    (dict(uncertainty=np.zeros(5, dtype=bool)), TypeError, r"uncertainty must hold real numbers"),
])
def test_bad_referral_arguments_are_named(kwargs: dict, error: type, pattern: str) -> None:
    call = dict(probs=PROBS, labels=LABELS, uncertainty=np.zeros(5), referral_fractions=[0.0]) | kwargs
    with pytest.raises(error, match=pattern):
        referral_curve(**call)

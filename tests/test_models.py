"""Tests for the NumPy-initialised models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.models import init_uniform_, make_mlp


def test_make_mlp_builds_the_requested_layers():
    model = make_mlp((64, 32, 16, 10), dropout=0.2)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert [layer.out_features for layer in model if isinstance(layer, nn.Linear)] == [32, 16, 10]
    assert model(torch.zeros(3, 64)).shape == (3, 10)
    assert [type(layer) for layer in make_mlp((5, 2))] == [nn.Linear]


def test_batch_norm_normalizes_every_hidden_layer_and_drops_its_bias():
    model = make_mlp((64, 32, 16, 10), batch_norm=True, dropout=0.1)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
                     nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert [layer.bias is None for layer in linears] == [True, True, False]
    assert [layer.num_features for layer in model if isinstance(layer, nn.BatchNorm1d)] == [32, 16]
    assert [type(layer) for layer in make_mlp((5, 2), batch_norm=True)] == [nn.Linear]


def test_batch_norm_layers_are_scale_invariant_in_training_mode():
    model = make_mlp((8, 6, 6, 3), batch_norm=True, seed=0).double().train()
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(20, 8)))
    before = model(x)
    with torch.no_grad():
        model[0].weight[2] *= 7.0  # one row (one hidden unit) scaled
        model[3].weight.mul_(3.0)  # the whole second hidden matrix scaled
    torch.testing.assert_close(model(x), before, rtol=1e-4, atol=1e-4)  # up to BatchNorm's eps
    with torch.no_grad():
        model[6].weight.mul_(2.0)  # the output layer is not normalized
    assert not torch.allclose(model(x), before)


def test_initialisation_comes_from_numpy_and_respects_torch_bounds():
    model = make_mlp((64, 32, 10), seed=3)
    rng = np.random.default_rng(3)
    for layer in (model[0], model[2]):
        bound = 1 / math.sqrt(layer.in_features)
        expected_weight = rng.uniform(-bound, bound, tuple(layer.weight.shape)).astype(np.float32)
        expected_bias = rng.uniform(-bound, bound, tuple(layer.bias.shape)).astype(np.float32)
        np.testing.assert_array_equal(layer.weight.detach().numpy(), expected_weight)
        np.testing.assert_array_equal(layer.bias.detach().numpy(), expected_bias)
        assert layer.weight.abs().max() <= bound


def test_same_seed_same_weights_regardless_of_torch_state():
    torch.manual_seed(0)
    first = make_mlp((8, 4, 2), seed=1)
    torch.manual_seed(123)
    second = make_mlp((8, 4, 2), seed=1)
    third = make_mlp((8, 4, 2), seed=2)
    for a, b, c in zip(first.parameters(), second.parameters(), third.parameters()):
        assert torch.equal(a, b) and not torch.equal(a, c)


def test_init_uniform_keeps_dtype_and_returns_the_module():
    model = nn.Sequential(nn.Linear(4, 3).double())
    assert init_uniform_(model, seed=0) is model
    assert model[0].weight.dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layer_sizes": (64,)}, ValueError, "layer_sizes must have at least two entries"),
        ({"layer_sizes": (64, 0, 10)}, ValueError, r"layer_sizes\[1\] must be an int >= 1, got 0"),
        ({"layer_sizes": "64,10"}, TypeError, "layer_sizes must be a sequence of ints"),
        ({"layer_sizes": (64, 10), "dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\), got 1.0"),
        ({"layer_sizes": (64, 10), "seed": -1}, ValueError, "seed must be an int >= 0"),
        ({"layer_sizes": (64, 10), "batch_norm": 1}, TypeError, "batch_norm must be a bool, got int 1"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_mlp(**kwargs)


@pytest.mark.parametrize("module", [None, "linear", [nn.Linear(2, 2)], torch.ones(2)])
def test_init_uniform_rejects_a_non_module(module):
    with pytest.raises(TypeError, match=f"module must be a torch.nn.Module, got {type(module).__name__}"):
        init_uniform_(module)


def test_init_uniform_rejects_a_linear_layer_without_inputs_before_changing_anything():
    first = nn.Linear(3, 2)
    before = first.weight.detach().clone()
    with pytest.warns(UserWarning):
        empty = nn.Linear(0, 3)
    with pytest.raises(ValueError, match=r"layer '1' \(Linear\(in_features=0.*has in_features=0"):
        init_uniform_(nn.Sequential(first, empty))
    torch.testing.assert_close(first.weight.detach(), before)
    with pytest.raises(ValueError, match=r"module \(Linear\(in_features=0.*has in_features=0"):
        init_uniform_(empty)


def test_init_uniform_rejects_an_uninitialised_lazy_linear_and_accepts_it_after_a_forward_pass():
    lazy = nn.LazyLinear(3)
    with pytest.raises(ValueError, match=r"module \(LazyLinear\) is uninitialised: run a forward pass first"):
        init_uniform_(lazy)
    with pytest.raises(ValueError, match=r"layer '0' \(LazyLinear\) is uninitialised"):
        init_uniform_(nn.Sequential(lazy))
    lazy(torch.ones(1, 4))
    init_uniform_(lazy, seed=1)
    assert float(lazy.weight.detach().abs().max()) <= 1 / math.sqrt(4)


def test_make_mlp_rejects_a_network_too_large_to_build():
    with pytest.raises(ValueError, match=r"layer_sizes \[4, 1000.*\] need more than 10\*\*20 weights; make_mlp builds"):
        make_mlp((4, 10**400))
    with pytest.raises(ValueError, match=r"need 100,000,001 weights; make_mlp builds at most MAX_PARAMETERS = 100,000,000"):
        make_mlp((1, 100_000_001))


def test_make_mlp_accepts_a_numpy_bool_for_batch_norm():
    assert [type(layer) for layer in make_mlp((4, 3, 2), batch_norm=np.bool_(True))] == [
        nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]


def test_init_uniform_names_the_module_when_a_layer_cannot_be_initialised():
    with pytest.warns(UserWarning):
        empty = nn.Linear(0, 3)
    with pytest.raises(ValueError, match=r"module's layer '0' \(Linear"):
        init_uniform_(nn.Sequential(empty))


class _ScaledDropout(nn.Module):
    """A stand-in for an exercise's own dropout module: records its rate."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_dropout_layer_builds_each_dropout_layer_from_the_rate():
    rates = []

    def layer(p: float) -> nn.Module:
        rates.append(p)
        return _ScaledDropout(p)

    model = make_mlp((6, 5, 4, 3), dropout=0.25, dropout_layer=layer, seed=1)
    assert [type(m) for m in model] == [nn.Linear, nn.ReLU, _ScaledDropout] * 2 + [nn.Linear]
    assert rates == [0.25, 0.25] and all(m.p == 0.25 for m in model if isinstance(m, _ScaledDropout))
    reference = make_mlp((6, 5, 4, 3), dropout=0.25, seed=1)  # the same weights: the hook does not touch the init
    linears = [(m.weight, m.bias) for m in model if isinstance(m, nn.Linear)]
    expected = [(m.weight, m.bias) for m in reference if isinstance(m, nn.Linear)]
    assert all(torch.equal(a, b) and torch.equal(c, d) for (a, c), (b, d) in zip(linears, expected))


def test_dropout_layer_is_not_called_without_dropout_and_none_means_nn_dropout():
    def never(p: float) -> nn.Module:
        raise AssertionError("called although dropout = 0")

    assert [type(m) for m in make_mlp((4, 3, 2), dropout_layer=never)] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [type(m) for m in make_mlp((4, 3, 2), dropout=0.5, dropout_layer=None)][2] is nn.Dropout


@pytest.mark.parametrize(
    "dropout_layer, message",
    [
        (0.5, r"dropout_layer must be a callable rate -> nn.Module \(or None for nn.Dropout\), got float 0.5"),
        (lambda p: p, r"dropout_layer must return a torch.nn.Module, got float 0.3 for rate 0.3"),
        (lambda p: torch.nn.functional.dropout, r"dropout_layer must return a torch.nn.Module, got function"),
    ],
)
def test_a_bad_dropout_layer_is_a_type_error_naming_it(dropout_layer, message):
    with pytest.raises(TypeError, match=message):
        make_mlp((4, 3, 2), dropout=0.3, dropout_layer=dropout_layer)

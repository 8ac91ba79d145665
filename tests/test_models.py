"""Tests for the NumPy-initialised models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.models import ResidualBlock1d, init_uniform_, make_cnn1d, make_mlp
from course_lib.variants import SpatialDropout


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


# --- the residual 1-D CNN of the dropout-variants chapter -------------------------------------------


def test_init_uniform_draws_convolutions_with_torchs_bound_from_numpy():
    conv = nn.Conv1d(4, 3, 5, groups=1)
    grouped = nn.Conv2d(4, 6, (3, 2), groups=2)
    model = nn.Sequential(conv, grouped)
    init_uniform_(model, seed=7)
    rng = np.random.default_rng(7)
    for layer, fan_in in ((conv, 4 * 5), (grouped, 2 * 3 * 2)):
        bound = 1 / math.sqrt(fan_in)
        for tensor in (layer.weight, layer.bias):
            expected = rng.uniform(-bound, bound, tuple(tensor.shape)).astype(np.float32)
            np.testing.assert_array_equal(tensor.detach().numpy(), expected)
    # torch's own default initialiser uses the same bound: its draws stay inside it
    fresh = nn.Conv1d(4, 3, 5)
    assert float(fresh.weight.detach().abs().max()) <= 1 / math.sqrt(20)


def test_make_cnn1d_layout_shapes_and_the_linear_drop_path_schedule():
    model = make_cnn1d(40, 10, channels=6, kernel_size=3, stages=3, drop_path=0.3,
                       feature_noise=lambda: SpatialDropout(0.2), seed=2)
    blocks = [m for m in model if isinstance(m, ResidualBlock1d)]
    assert len(blocks) == 3 and [b.drop_path.p for b in blocks] == pytest.approx([0.1, 0.2, 0.3])
    assert all(isinstance(b.noise, SpatialDropout) and b.noise.p == 0.2 for b in blocks)
    assert len({id(b.noise) for b in blocks}) == 3  # one module per block, not one shared
    assert model[-1].in_features == 6 * (40 // 8) and model[-1].out_features == 10
    assert model(torch.zeros(4, 40)).shape == (4, 10)
    odd = make_cnn1d(41, 3, channels=2, stages=2)  # pooling floors: 41 -> 20 -> 10
    assert odd[-1].in_features == 2 * 10 and odd(torch.zeros(2, 41)).shape == (2, 3)


def test_make_cnn1d_initialisation_follows_the_seed():
    first, again, other = (make_cnn1d(40, 10, channels=4, seed=s) for s in (3, 3, 4))
    for a, b in zip(first.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters()))


def test_residual_block_is_relu_of_input_plus_branch_and_a_dropped_branch_passes_relu_x():
    torch.manual_seed(0)
    block = ResidualBlock1d(3, 5, noise=None, drop_path=0.0).double()
    x = torch.randn(4, 3, 12, dtype=torch.float64)
    branch = block.conv2(torch.relu(block.conv1(x)))
    torch.testing.assert_close(block(x), torch.relu(x + branch))
    assert block(x).shape == x.shape
    always = ResidualBlock1d(3, 5, drop_path=0.999999).double().train()
    dropped = sum(torch.equal(always(x[i:i + 1]), torch.relu(x[i:i + 1])) for i in range(4))
    assert dropped == 4  # with q so close to 1 every example's branch is dropped (P[kept] ~ 1e-6 each)
    always.eval()
    torch.testing.assert_close(always(x), torch.relu(x + always.conv2(torch.relu(always.conv1(x)))))


def test_residual_block_noise_acts_on_the_hidden_map_only_in_training():
    block = ResidualBlock1d(2, 3, noise=nn.Dropout(0.5)).double()
    x = torch.randn(8, 2, 10, dtype=torch.float64)
    block.eval()
    assert torch.equal(block(x), block(x))
    block.train()
    torch.manual_seed(1)
    assert not torch.equal(block(x), block(x))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(length=3, n_classes=2, stages=2), ValueError, r"length must be at least 2 \*\* stages = 2 \*\* 2.*got length 3"),
        (dict(length=40, n_classes=2, kernel_size=4), ValueError, r"kernel_size must be odd.*got 4"),
        (dict(length=40, n_classes=2, channels=0), ValueError, r"channels"),
        (dict(length=40, n_classes=2, drop_path=1.0), ValueError, r"drop_path"),
        (dict(length=40, n_classes=2, feature_noise=nn.Dropout(0.1)), TypeError, r"feature_noise must be a callable returning a new module for each block.*got the module Dropout"),
        (dict(length=40, n_classes=2, feature_noise=lambda: 0.1), TypeError, r"feature_noise must return a torch.nn.Module, got float"),
        (dict(length=40, n_classes=2, channels=10**5), ValueError, r"need .* weights; make_cnn1d builds at most"),
    ],
)
def test_make_cnn1d_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_cnn1d(**kwargs)


def test_residual_block_rejects_a_noise_that_is_not_a_module():
    with pytest.raises(TypeError, match="noise must be a torch.nn.Module or None, got builtin"):
        ResidualBlock1d(3, 3, noise=torch.relu)


# --- layer normalization and GELU: the blocks of the complete training recipe -------------------


def test_layer_norm_follows_every_hidden_linear_before_the_activation():
    model = make_mlp((12, 8, 6, 3), layer_norm=True, activation="gelu", dropout=0.1)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Linear, nn.LayerNorm, nn.GELU, nn.Dropout, nn.Linear, nn.LayerNorm, nn.GELU, nn.Dropout, nn.Linear]
    assert [layer.normalized_shape for layer in model if isinstance(layer, nn.LayerNorm)] == [(8,), (6,)]
    # unlike batch norm, layer norm keeps the hidden biases (it subtracts each example's mean over the features)
    assert all(layer.bias is not None for layer in model if isinstance(layer, nn.Linear))
    assert model(torch.zeros(4, 12)).shape == (4, 3)
    # the output layer alone: no normalization, activation or dropout after it
    assert [type(layer) for layer in make_mlp((5, 2), layer_norm=True, activation="gelu", dropout=0.5)] == [nn.Linear]


@pytest.mark.parametrize(("activation", "module"), [("relu", nn.ReLU), ("gelu", nn.GELU)])
def test_activation_is_chosen_by_name(activation, module):
    model = make_mlp((6, 5, 4, 2), activation=activation)
    assert [type(layer) for layer in model] == [nn.Linear, module, nn.Linear, module, nn.Linear]


def test_layer_norm_and_gelu_change_no_initial_weight_and_the_defaults_are_unchanged():
    plain = make_mlp((10, 7, 7, 3), seed=5)
    recipe = make_mlp((10, 7, 7, 3), seed=5, layer_norm=True, activation="gelu")
    plain_linears = [layer for layer in plain if isinstance(layer, nn.Linear)]
    recipe_linears = [layer for layer in recipe if isinstance(layer, nn.Linear)]
    for a, b in zip(plain_linears, recipe_linears, strict=True):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    for norm in (layer for layer in recipe if isinstance(layer, nn.LayerNorm)):
        assert torch.equal(norm.weight, torch.ones(7)) and torch.equal(norm.bias, torch.zeros(7))
    explicit = make_mlp((10, 7, 7, 3), seed=5, layer_norm=False, activation="relu")
    assert [type(layer) for layer in explicit] == [type(layer) for layer in plain]
    assert all(torch.equal(a, b) for a, b in zip(explicit.state_dict().values(), plain.state_dict().values(), strict=True))


def test_layer_norm_standardizes_each_example_and_makes_the_hidden_layer_scale_invariant_in_eval_mode():
    model = make_mlp((8, 16, 3), layer_norm=True, activation="gelu", seed=0).double().eval()
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(5, 8)) * 4.0 + 2.0)
    normalized = model[1](model[0](x))
    torch.testing.assert_close(normalized.mean(dim=1), torch.zeros(5, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(normalized.var(dim=1, unbiased=False), torch.ones(5, dtype=torch.float64), atol=1e-4, rtol=0)
    before = model(x)
    with torch.no_grad():
        model[0].weight.mul_(5.0)
        model[0].bias.mul_(5.0)  # the whole pre-activation scaled by 5: LayerNorm divides it out, per example
    torch.testing.assert_close(model(x), before, rtol=1e-4, atol=1e-4)  # up to LayerNorm's eps
    with torch.no_grad():
        model[3].weight.mul_(2.0)  # the output layer is not normalized
    assert not torch.allclose(model(x), before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(batch_norm=True, layer_norm=True), ValueError, r"batch_norm=True and layer_norm=True cannot be combined"),
        (dict(layer_norm=1), TypeError, r"layer_norm must be a bool, got int 1"),
        (dict(activation="tanh"), ValueError, r"activation must be one of \('relu', 'gelu'\), got 'tanh'"),
        (dict(activation="ReLU"), ValueError, r"activation must be one of .*got 'ReLU'"),
        (dict(activation=nn.GELU), TypeError, r"activation must be a str"),
        (dict(activation=None), TypeError, r"activation must be a str"),
    ],
)
def test_layer_norm_and_activation_are_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_mlp((4, 3, 2), **kwargs)

"""Valid calls of course_lib.models."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import models

from .runner import Case


def _check_numpy_init(linears: list[nn.Linear], seed) -> None:
    """Weights and biases drawn layer by layer from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of default_rng(seed)."""
    rng = np.random.default_rng(int(seed))
    for layer in linears:
        bound = 1 / math.sqrt(layer.in_features)
        for tensor in (layer.weight, layer.bias):
            if tensor is not None:
                expected = rng.uniform(-bound, bound, tuple(tensor.shape))
                np.testing.assert_array_equal(tensor.detach().numpy(), expected.astype(tensor.detach().numpy().dtype))
                assert float(tensor.detach().abs().max()) <= bound


class _OwnDropout(nn.Dropout):
    """A dropout module of one's own, as an exercise would pass it through ``dropout_layer``."""


def _verify_make_mlp(model, kwargs) -> None:
    sizes = [int(s) for s in kwargs["layer_sizes"]]
    dropout, batch_norm = float(kwargs["dropout"]), bool(kwargs["batch_norm"])
    layer_norm = bool(kwargs.get("layer_norm", False))
    activation = {"relu": nn.ReLU, "gelu": nn.GELU}[kwargs.get("activation", "relu")]
    assert not (batch_norm and layer_norm)
    dropout_type = nn.Dropout if kwargs.get("dropout_layer") is None else _OwnDropout
    assert isinstance(model, nn.Sequential)
    expected: list[type] = []
    for i in range(len(sizes) - 1):
        expected.append(nn.Linear)
        if i < len(sizes) - 2:
            expected += [nn.BatchNorm1d] * batch_norm + [nn.LayerNorm] * layer_norm + [activation] + [dropout_type] * (dropout > 0)
    assert [type(layer) for layer in model] == expected
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == list(zip(sizes[:-1], sizes[1:]))
    assert [layer.bias is None for layer in linears] == [batch_norm] * (len(sizes) - 2) + [False]
    norms = [layer for layer in model if isinstance(layer, nn.LayerNorm)]
    assert [norm.normalized_shape for norm in norms] == [(n,) for n in sizes[1:-1]] * layer_norm
    assert all(torch.equal(norm.weight, torch.ones_like(norm.weight)) and not norm.bias.any() for norm in norms)
    assert all(layer.p == dropout for layer in model if isinstance(layer, nn.Dropout))
    _check_numpy_init(linears, kwargs["seed"])
    assert model(torch.zeros(2, sizes[0])).shape == (2, sizes[-1])


def _verify_init_uniform(result, kwargs) -> None:
    assert result is kwargs["module"]
    _check_numpy_init([layer for layer in result.modules() if isinstance(layer, nn.Linear)], kwargs["seed"])


def _verify_make_cnn1d(model, kwargs) -> None:
    length, n_classes = int(kwargs["length"]), int(kwargs["n_classes"])
    channels, kernel, stages = int(kwargs["channels"]), int(kwargs["kernel_size"]), int(kwargs["stages"])
    blocks = [m for m in model if isinstance(m, models.ResidualBlock1d)]
    assert len(blocks) == stages and kernel % 2 == 1 and length >= 2**stages
    rates = [b.drop_path.p for b in blocks]
    assert rates == [float(kwargs["drop_path"]) * (i + 1) / stages for i in range(stages)]
    noise_type = nn.Identity if kwargs["feature_noise"] is None else nn.Dropout
    assert all(type(b.noise) is noise_type for b in blocks) and len({id(b.noise) for b in blocks}) == stages
    assert model[-1].in_features == channels * (length // 2**stages) and model[-1].out_features == n_classes
    convs = [m for m in model.modules() if isinstance(m, nn.Conv1d)]
    assert len(convs) == 1 + 2 * stages and all(c.kernel_size == (kernel,) for c in convs)
    assert model.eval()(torch.zeros(2, length)).shape == (2, n_classes)


def _build_block(channels, kernel_size=5, *, noise=None, drop_path=0.0):
    """``ResidualBlock1d(...)`` with torch seeded, so equivalent arguments give the same initial weights."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return models.ResidualBlock1d(channels, kernel_size, noise=noise, drop_path=drop_path)


def _verify_residual_block(block, kwargs) -> None:
    channels = int(kwargs["channels"])
    assert isinstance(block, models.ResidualBlock1d) and block.drop_path.p == float(kwargs["drop_path"])
    assert block.conv1.in_channels == block.conv2.out_channels == channels
    x = torch.randn(3, channels, 9)
    assert block.eval()(x).shape == x.shape


def _verify_block_forward(out, kwargs) -> None:
    block, x = kwargs["self"], kwargs["x"]
    branch = block.conv2(torch.relu(block.conv1(x)))
    torch.testing.assert_close(out, torch.relu(x + branch))


CASES = [
    Case(
        "models.make_cnn1d",
        models.make_cnn1d,
        lambda: dict(length=16, n_classes=3, channels=2, kernel_size=3, stages=2, feature_noise=lambda: nn.Dropout(0.1),
                     drop_path=0.2, seed=0),
        _verify_make_cnn1d,
    ),
    Case(
        "models.ResidualBlock1d",
        _build_block,
        lambda: dict(channels=2, kernel_size=3, noise=nn.Dropout(0.1), drop_path=0.1),
        _verify_residual_block,
    ),
    Case(
        "models.ResidualBlock1d.forward",
        models.ResidualBlock1d.forward,
        lambda: dict(self=_build_block(2, 3, drop_path=0.0).eval(), x=torch.ones(2, 2, 5)),
        _verify_block_forward,
        fixed={"self": "the block whose method is called"},
    ),
    Case(
        "models.make_mlp",
        models.make_mlp,
        lambda: dict(layer_sizes=(4, 5, 3), dropout=0.2, batch_norm=False, seed=0),
        _verify_make_mlp,
    ),
    Case(
        "models.make_mlp[dropout_layer]",
        models.make_mlp,
        lambda: dict(layer_sizes=(4, 5, 5, 3), dropout=0.25, batch_norm=False, seed=0, dropout_layer=_OwnDropout),
        _verify_make_mlp,
    ),
    Case(
        "models.make_mlp[layer_norm]",
        models.make_mlp,
        lambda: dict(layer_sizes=(4, 5, 5, 3), dropout=0.1, batch_norm=False, seed=2, layer_norm=True, activation="gelu"),
        _verify_make_mlp,
    ),
    Case(
        "models.init_uniform_",
        models.init_uniform_,
        lambda: dict(module=nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False)), seed=0),
        _verify_init_uniform,
    ),
]

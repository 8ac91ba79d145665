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
    dropout_type = nn.Dropout if kwargs.get("dropout_layer") is None else _OwnDropout
    assert isinstance(model, nn.Sequential)
    expected: list[type] = []
    for i in range(len(sizes) - 1):
        expected.append(nn.Linear)
        if i < len(sizes) - 2:
            expected += [nn.BatchNorm1d] * batch_norm + [nn.ReLU] + [dropout_type] * (dropout > 0)
    assert [type(layer) for layer in model] == expected
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == list(zip(sizes[:-1], sizes[1:]))
    assert [layer.bias is None for layer in linears] == [batch_norm] * (len(sizes) - 2) + [False]
    assert all(layer.p == dropout for layer in model if isinstance(layer, nn.Dropout))
    _check_numpy_init(linears, kwargs["seed"])
    assert model(torch.zeros(2, sizes[0])).shape == (2, sizes[-1])


def _verify_init_uniform(result, kwargs) -> None:
    assert result is kwargs["module"]
    _check_numpy_init([layer for layer in result.modules() if isinstance(layer, nn.Linear)], kwargs["seed"])


CASES = [
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
        "models.init_uniform_",
        models.init_uniform_,
        lambda: dict(module=nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False)), seed=0),
        _verify_init_uniform,
    ),
]

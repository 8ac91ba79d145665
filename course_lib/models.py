"""Small models shared by the chapters, initialised from NumPy so that every platform starts from the same weights.

torch's own initialisers draw from torch's generator, whose streams for the
same seed can differ between CPU builds; a NumPy ``Generator`` gives the same
numbers everywhere, so a chapter's stored outputs do not depend on the machine
that executed it.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from course_lib._validation import check_bool, check_int, check_probability, describe_value

__all__ = ["make_mlp", "init_uniform_", "MAX_PARAMETERS"]

#: Most weights :func:`make_mlp` builds (400 MB of float32): a larger request is a ValueError, not an allocation.
MAX_PARAMETERS = 10**8


def init_uniform_(module: nn.Module, seed: int = 0) -> nn.Module:
    r"""Re-initialise every ``nn.Linear`` in ``module`` like torch's default, but from NumPy.

    Weights and biases of a layer with ``fan_in`` inputs are drawn from
    :math:`\mathcal U(-1/\sqrt{\text{fan\_in}},\ 1/\sqrt{\text{fan\_in}})` (torch's
    default bound for ``nn.Linear``), layer by layer in ``module.modules()``
    order, from ``np.random.default_rng(seed)``.

    Args:
        module: a ``torch.nn.Module`` (anything else raises ``TypeError``).
            Every ``nn.Linear`` in it must have ``in_features >= 1`` and be
            initialised: an uninitialised ``nn.LazyLinear`` raises
            ``ValueError`` (run one forward pass first). All layers are
            checked before any weight changes.
        seed: an int >= 0.

    Returns ``module`` (changed in place).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    seed = check_int("seed", seed, minimum=0)
    linears = _checked_linear_layers(module)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for layer in linears:
            bound = 1.0 / math.sqrt(layer.in_features)
            for tensor in (layer.weight, layer.bias):
                if tensor is not None:
                    values = rng.uniform(-bound, bound, tuple(tensor.shape))
                    tensor.copy_(torch.from_numpy(values).to(tensor.dtype))
    return module


def _checked_linear_layers(module: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``module`` in ``modules()`` order, after checking each can be initialised."""
    linears = []
    for name, layer in module.named_modules():
        if not isinstance(layer, nn.Linear):
            continue
        label = f"module's layer {name!r}" if name else "module"
        if isinstance(layer, LazyModuleMixin) and layer.has_uninitialized_params():
            raise ValueError(
                f"{label} ({type(layer).__name__}) is uninitialised: run a forward pass first so its shape is known"
            )
        if layer.in_features < 1:
            raise ValueError(
                f"{label} ({layer!r}) has in_features={layer.in_features}; the bound 1/sqrt(in_features) needs >= 1"
            )
        linears.append(layer)
    return linears


def _check_weight_count(name: str, sizes: Sequence[int]) -> None:
    """ValueError naming ``name`` if an MLP of these widths needs more than :data:`MAX_PARAMETERS` weights."""
    weights = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if weights > MAX_PARAMETERS:
        count = f"{weights:,}" if weights < 10**20 else "more than 10**20"
        raise ValueError(
            f"{name} {reprlib.repr(list(sizes))} need {count} weights; "
            f"make_mlp builds at most MAX_PARAMETERS = {MAX_PARAMETERS:,}"
        )


def make_mlp(
    layer_sizes: Sequence[int],
    *,
    dropout: float = 0.0,
    batch_norm: bool = False,
    seed: int = 0,
    dropout_layer: Callable[[float], nn.Module] | None = None,
) -> nn.Sequential:
    """A fully connected ReLU network ``Linear [→ BatchNorm1d] → ReLU [→ Dropout] → … → Linear``.

    With ``batch_norm=True`` every hidden ``Linear`` has no bias and is followed
    by ``nn.BatchNorm1d`` (whose shift plays the bias's part). Such a layer is
    *scale-invariant*: in training mode, multiplying a row of its weight by any
    :math:`c > 0` leaves the network's output unchanged, because batch
    normalization divides the scale out again. The output layer keeps its bias
    and is not normalized.

    Args:
        layer_sizes: widths from input to output, e.g. ``(64, 128, 10)`` (at
            least two entries, each an int >= 1, with at most
            :data:`MAX_PARAMETERS` weights in all).
        dropout: dropout rate after each hidden ReLU (0 = no dropout layers).
        batch_norm: normalize every hidden layer's pre-activations (bool).
        seed: seed of the NumPy initialisation (:func:`init_uniform_`).
        dropout_layer: what builds each dropout layer from the rate: a callable
            ``dropout_layer(dropout) -> nn.Module``, called once per hidden
            layer (only when ``dropout > 0``), e.g. an exercise's own dropout
            module; ``None`` (the default) means ``nn.Dropout``. Anything but a
            callable or None, or a call that returns no ``nn.Module``, is a
            ``TypeError`` naming ``dropout_layer``.

    Example:
        >>> make_mlp((64, 32, 10))
        Sequential(
          (0): Linear(in_features=64, out_features=32, bias=True)
          (1): ReLU()
          (2): Linear(in_features=32, out_features=10, bias=True)
        )
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints, got {type(layer_sizes).__name__}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must have at least two entries (inputs, outputs), got {list(layer_sizes)!r}")
    sizes = [check_int(f"layer_sizes[{i}]", size, minimum=1) for i, size in enumerate(layer_sizes)]
    _check_weight_count("layer_sizes", sizes)
    dropout = check_probability("dropout", dropout)
    batch_norm = check_bool("batch_norm", batch_norm)
    if dropout_layer is not None and not callable(dropout_layer):
        raise TypeError(
            f"dropout_layer must be a callable rate -> nn.Module (or None for nn.Dropout), got {describe_value(dropout_layer)}"
        )
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out, bias=not (hidden and batch_norm)))
        if hidden:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(_dropout_module(dropout, dropout_layer))
    return init_uniform_(nn.Sequential(*layers), seed)


def _dropout_module(dropout: float, dropout_layer: Callable[[float], nn.Module] | None) -> nn.Module:
    """``nn.Dropout(dropout)``, or what ``dropout_layer(dropout)`` builds, checked to be an ``nn.Module``."""
    if dropout_layer is None:
        return nn.Dropout(dropout)
    layer = dropout_layer(dropout)
    if not isinstance(layer, nn.Module):
        raise TypeError(f"dropout_layer must return a torch.nn.Module, got {describe_value(layer)} for rate {dropout}")
    return layer

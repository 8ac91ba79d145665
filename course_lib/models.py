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

__all__ = ["make_mlp", "make_cnn1d", "ResidualBlock1d", "init_uniform_", "MAX_PARAMETERS", "ACTIVATIONS"]

#: Most weights :func:`make_mlp` builds (400 MB of float32): a larger request is a ValueError, not an allocation.
MAX_PARAMETERS = 10**8


def init_uniform_(module: nn.Module, seed: int = 0) -> nn.Module:
    r"""Re-initialise every ``nn.Linear`` and ``nn.Conv1d/2d/3d`` in ``module`` like torch's default, but from NumPy.

    Weights and biases of a layer with ``fan_in`` inputs are drawn from
    :math:`\mathcal U(-1/\sqrt{\text{fan\_in}},\ 1/\sqrt{\text{fan\_in}})` (torch's
    default bound for ``nn.Linear`` and for convolutions, whose ``fan_in`` is
    ``in_channels / groups`` times the kernel's size), layer by layer in
    ``module.modules()`` order, from ``np.random.default_rng(seed)``.

    Args:
        module: a ``torch.nn.Module`` (anything else raises ``TypeError``).
            Every ``nn.Linear`` and convolution in it must have a fan-in >= 1 and be
            initialised: an uninitialised ``nn.LazyLinear`` or ``nn.LazyConv1d``
            raises ``ValueError`` (run one forward pass first). All layers are
            checked before any weight changes.
        seed: an int >= 0.

    Returns ``module`` (changed in place).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    seed = check_int("seed", seed, minimum=0)
    layers = _checked_layers(module)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for layer, fan_in in layers:
            bound = 1.0 / math.sqrt(fan_in)
            for tensor in (layer.weight, layer.bias):
                if tensor is not None:
                    values = rng.uniform(-bound, bound, tuple(tensor.shape))
                    tensor.copy_(torch.from_numpy(values).to(tensor.dtype))
    return module


_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _fan_in(layer: nn.Module) -> int:
    if isinstance(layer, nn.Linear):
        return layer.in_features
    return layer.in_channels // layer.groups * math.prod(layer.kernel_size)


def _checked_layers(module: nn.Module) -> list[tuple[nn.Module, int]]:
    """The ``nn.Linear`` and convolution layers of ``module`` in ``modules()`` order with their fan-in, each checked."""
    layers = []
    for name, layer in module.named_modules():
        if not isinstance(layer, (nn.Linear, *_CONVOLUTIONS)):
            continue
        label = f"module's layer {name!r}" if name else "module"
        if isinstance(layer, LazyModuleMixin) and layer.has_uninitialized_params():
            raise ValueError(
                f"{label} ({type(layer).__name__}) is uninitialised: run a forward pass first so its shape is known"
            )
        fan_in = _fan_in(layer)
        if fan_in < 1:
            what = "in_features" if isinstance(layer, nn.Linear) else "fan-in (in_channels / groups x kernel size)"
            raise ValueError(f"{label} ({layer!r}) has {what}={fan_in}; the bound 1/sqrt(fan_in) needs >= 1")
        layers.append((layer, fan_in))
    return layers


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
    layer_norm: bool = False,
    activation: str = "relu",
) -> nn.Sequential:
    r"""A fully connected network ``Linear [→ BatchNorm1d | LayerNorm] → ReLU | GELU [→ Dropout] → … → Linear``.

    With ``batch_norm=True`` every hidden ``Linear`` has no bias and is followed
    by ``nn.BatchNorm1d`` (whose shift plays the bias's part). Such a layer is
    *scale-invariant*: in training mode, multiplying a row of its weight by any
    :math:`c > 0` leaves the network's output unchanged, because batch
    normalization divides the scale out again.

    With ``layer_norm=True`` every hidden ``Linear`` keeps its bias and is
    followed by ``nn.LayerNorm`` (Ba, Kiros & Hinton, 2016), which normalizes
    each example over its features,
    :math:`\mathrm{LN}(h) = \gamma \odot (h - \bar h) / \sqrt{\sigma_h^2 + \epsilon} + \beta`
    with :math:`\gamma = 1, \beta = 0` at the start; it uses no batch
    statistics, so training and eval mode compute the same function. A hidden
    layer is then scale-invariant in both modes, for a common factor
    :math:`c > 0` of its whole weight matrix and bias. The two normalizations
    are alternatives: both at once is a ``ValueError``.

    The output layer keeps its bias and has no normalization, activation or
    dropout. Only ``nn.Linear`` layers are drawn from NumPy
    (:func:`init_uniform_`), so the normalization layers change none of the
    initial weights: ``make_mlp(sizes, layer_norm=True, seed=s)`` starts from
    the same ``Linear`` weights as ``make_mlp(sizes, seed=s)``.

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
        layer_norm: normalize every hidden layer's pre-activations per example
            with ``nn.LayerNorm`` (bool; not together with ``batch_norm``).
        activation: the hidden non-linearity, ``"relu"`` (``nn.ReLU``) or
            ``"gelu"`` (``nn.GELU``, :math:`x\,\Phi(x)` with :math:`\Phi` the
            standard normal CDF; Hendrycks & Gimpel, 2016).

    Example:
        >>> make_mlp((64, 32, 10))
        Sequential(
          (0): Linear(in_features=64, out_features=32, bias=True)
          (1): ReLU()
          (2): Linear(in_features=32, out_features=10, bias=True)
        )
        >>> [type(layer).__name__ for layer in make_mlp((64, 32, 32, 10), layer_norm=True, activation="gelu", dropout=0.1)]
        ['Linear', 'LayerNorm', 'GELU', 'Dropout', 'Linear', 'LayerNorm', 'GELU', 'Dropout', 'Linear']
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints, got {type(layer_sizes).__name__}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must have at least two entries (inputs, outputs), got {list(layer_sizes)!r}")
    sizes = [check_int(f"layer_sizes[{i}]", size, minimum=1) for i, size in enumerate(layer_sizes)]
    _check_weight_count("layer_sizes", sizes)
    dropout = check_probability("dropout", dropout)
    batch_norm = check_bool("batch_norm", batch_norm)
    layer_norm = check_bool("layer_norm", layer_norm)
    if batch_norm and layer_norm:
        raise ValueError(
            "batch_norm=True and layer_norm=True cannot be combined: each hidden layer gets one normalization, choose one"
        )
    activation_type = _check_activation(activation)
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
            if layer_norm:
                layers.append(nn.LayerNorm(n_out))
            layers.append(activation_type())
            if dropout > 0:
                layers.append(_dropout_module(dropout, dropout_layer))
    return init_uniform_(nn.Sequential(*layers), seed)


#: The hidden non-linearities :func:`make_mlp` offers, by name.
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU}


def _check_activation(activation: object) -> type[nn.Module]:
    """The module class of an activation name from :data:`ACTIVATIONS` (TypeError/ValueError naming ``activation``)."""
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a str, one of {tuple(ACTIVATIONS)}, got {describe_value(activation)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def _dropout_module(dropout: float, dropout_layer: Callable[[float], nn.Module] | None) -> nn.Module:
    """``nn.Dropout(dropout)``, or what ``dropout_layer(dropout)`` builds, checked to be an ``nn.Module``."""
    if dropout_layer is None:
        return nn.Dropout(dropout)
    layer = dropout_layer(dropout)
    if not isinstance(layer, nn.Module):
        raise TypeError(f"dropout_layer must return a torch.nn.Module, got {describe_value(layer)} for rate {dropout}")
    return layer


class ResidualBlock1d(nn.Module):
    r"""A residual block of two same-padded 1-D convolutions: :math:`x \mapsto \mathrm{ReLU}(x + \mathrm{DropPath}_q(F(x)))`.

    The branch is :math:`F(x) = \mathrm{conv}_2(\mathrm{noise}(\mathrm{ReLU}(\mathrm{conv}_1(x))))`:
    the optional ``noise`` module (a dropout variant, as between the convolutions of a wide
    ResNet) acts on the hidden map, and :class:`course_lib.variants.DropPath` with rate
    :math:`q` drops the whole branch of an example (stochastic depth, Huang et al., 2016), so
    that a dropped block passes :math:`\mathrm{ReLU}(x)` on unchanged.

    Args:
        channels: channels of the input, the hidden map and the output (int >= 1).
        kernel_size: an odd int >= 1; padding ``kernel_size // 2`` keeps the length.
        noise: a module applied to the hidden map, e.g. ``nn.Dropout(0.1)``,
            ``SpatialDropout(0.1)`` or ``DropBlock1d(0.1, 3)``; ``None`` for none.
        drop_path: the rate :math:`q` in ``[0, 1)`` of dropping the branch (0 = never).

    Inputs are ``(N, channels, length)``; the output has the same shape.
    """

    def __init__(self, channels: int, kernel_size: int = 5, *, noise: nn.Module | None = None, drop_path: float = 0.0) -> None:
        super().__init__()
        channels = check_int("channels", channels, minimum=1)
        kernel_size = _check_kernel_size(kernel_size)
        if 2 * channels**2 * kernel_size > MAX_PARAMETERS:
            raise ValueError(
                f"channels={channels} and kernel_size={kernel_size} need {2 * channels**2 * kernel_size:,} weights; "
                f"a ResidualBlock1d has at most MAX_PARAMETERS = {MAX_PARAMETERS:,}"
            )
        if noise is not None and not isinstance(noise, nn.Module):
            raise TypeError(f"noise must be a torch.nn.Module or None, got {describe_value(noise)}")
        from course_lib.variants import DropPath  # the variants chapter's module; imported here to keep models light

        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.noise = nn.Identity() if noise is None else noise
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.drop_path = DropPath(check_probability("drop_path", drop_path))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.conv1.in_channels
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be a floating-point torch.Tensor (N, {channels}, length), got {describe_value(x)}")
        if x.ndim != 3 or x.shape[1] != channels or x.shape[2] < 1:
            raise ValueError(f"x must have shape (N, {channels}, length >= 1), got shape {tuple(x.shape)}")
        if x.dtype != self.conv1.weight.dtype:
            raise TypeError(f"x must have the block's dtype {self.conv1.weight.dtype}, got {x.dtype}")
        branch = self.conv2(self.noise(torch.relu(self.conv1(x))))
        return torch.relu(x + self.drop_path(branch))


def _check_kernel_size(kernel_size: object) -> int:
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (same padding keeps the length), got {kernel_size}")
    return kernel_size


def make_cnn1d(
    length: int,
    n_classes: int,
    *,
    channels: int = 32,
    kernel_size: int = 5,
    stages: int = 2,
    feature_noise: Callable[[], nn.Module] | None = None,
    drop_path: float = 0.0,
    seed: int = 0,
) -> nn.Sequential:
    r"""A small residual 1-D CNN for signals given as rows of ``length`` values (e.g. MNIST-1D).

    ``Unflatten → Conv1d(1, C, k) → ReLU → [MaxPool1d(2) → ResidualBlock1d(C, k)] × stages →
    Flatten → Linear(C · ⌊length / 2^stages⌋, n_classes)``. Inputs are ``(N, length)`` (the
    layout of :class:`course_lib.data.DataSplits`), outputs ``(N, n_classes)`` logits, so the
    network trains with :func:`course_lib.train.fit` like an MLP.

    The regularizers sit where the dropout-variants chapter compares them: ``feature_noise()``
    is called once per block and its module acts on the block's hidden map (element-wise
    dropout, spatial dropout, DropBlock …); ``drop_path`` is the largest stochastic-depth
    rate, spread over the blocks by the linear rule :math:`q_l = q_{\max} \cdot l / L`
    (:func:`course_lib.variants.drop_path_rates`).

    Args:
        length: input length (int >= 1), at least ``2 ** stages`` so each pooling halves something.
        n_classes: outputs (int >= 1).
        channels: width C of every convolution (int >= 1).
        kernel_size: odd int >= 1.
        stages: pooled residual stages (int >= 1).
        feature_noise: a callable with no arguments returning an ``nn.Module``, or ``None``.
        drop_path: the largest drop-path rate, in ``[0, 1)``.
        seed: seed of the NumPy initialisation (:func:`init_uniform_`).

    Example:
        >>> net = make_cnn1d(40, 10, channels=8, stages=2)
        >>> net(torch.zeros(3, 40)).shape
        torch.Size([3, 10])
    """
    from course_lib.variants import drop_path_rates

    length = check_int("length", length, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    kernel_size = _check_kernel_size(kernel_size)
    stages = check_int("stages", stages, minimum=1)
    if stages > 60 or length < 2**stages:
        raise ValueError(f"length must be at least 2 ** stages = 2 ** {stages} (each stage halves it), got length {length}")
    if isinstance(feature_noise, nn.Module):
        raise TypeError(
            f"feature_noise must be a callable returning a new module for each block (e.g. lambda: nn.Dropout(0.1)), "
            f"got the module {feature_noise!r} itself"
        )
    if feature_noise is not None and not callable(feature_noise):
        raise TypeError(f"feature_noise must be a callable returning an nn.Module (or None), got {describe_value(feature_noise)}")
    drop_path = check_probability("drop_path", drop_path)
    seed = check_int("seed", seed, minimum=0)
    final_length = length // 2**stages
    weights = channels * kernel_size + 2 * stages * channels**2 * kernel_size + channels * final_length * n_classes
    if weights > MAX_PARAMETERS:
        raise ValueError(
            f"channels={channels}, kernel_size={kernel_size}, stages={stages}, length={length} and n_classes={n_classes} "
            f"need {weights:,} "
            f"weights; make_cnn1d builds at most MAX_PARAMETERS = {MAX_PARAMETERS:,}"
        )
    layers: list[nn.Module] = [
        nn.Unflatten(1, (1, length)), nn.Conv1d(1, channels, kernel_size, padding=kernel_size // 2), nn.ReLU(),
    ]
    for rate in drop_path_rates(stages, drop_path):
        noise = None
        if feature_noise is not None:
            noise = feature_noise()
            if not isinstance(noise, nn.Module):
                raise TypeError(f"feature_noise must return a torch.nn.Module, got {describe_value(noise)}")
        layers += [nn.MaxPool1d(2), ResidualBlock1d(channels, kernel_size, noise=noise, drop_path=rate)]
    layers += [nn.Flatten(), nn.Linear(channels * final_length, n_classes)]
    return init_uniform_(nn.Sequential(*layers), seed)

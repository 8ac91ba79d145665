r"""Dropout variants: structured and continuous noise, each a functional and a thin module.

Plain dropout (:mod:`course_lib.dropout`) zeroes single activations independently. The
variants here change *what* is dropped, or replace the Bernoulli mask by another noise:

* **DropConnect** (Wan et al., 2013, "Regularization of neural networks using DropConnect",
  ICML): masks the *weights* of a linear layer, :math:`y = (W \odot M)\,x / (1-p) + b`
  (:func:`drop_connect_linear`, :class:`DropConnectLinear`);
* **spatial dropout** (Tompson et al., 2015, "Efficient object localization using
  convolutional networks", CVPR): drops whole channels of a feature map, like
  ``nn.Dropout1d/2d/3d`` (:func:`spatial_dropout`, :class:`SpatialDropout`);
* **DropPath / stochastic depth** (Huang et al., 2016, "Deep networks with stochastic
  depth", ECCV): drops a whole residual branch per example (:func:`drop_path`,
  :class:`DropPath`, the depth schedule :func:`drop_path_rates`; timm's ``drop_path``);
* **DropBlock** (Ghiasi et al., 2018, "DropBlock: a regularization method for convolutional
  networks", NeurIPS): drops contiguous square blocks of a map, or segments of a sequence
  (:func:`drop_block2d`, :class:`DropBlock2d`, :func:`drop_block1d`, :class:`DropBlock1d`);
* **locked (variational) dropout** (Gal & Ghahramani, 2016b, "A theoretically grounded
  application of dropout in recurrent neural networks", NeurIPS; Merity et al., 2018,
  "Regularizing and optimizing LSTM language models", ICLR): one mask per sequence, shared by
  all time steps (:func:`locked_dropout`, :class:`LockedDropout`);
* **Gaussian dropout** (Srivastava et al., 2014, JMLR 15, §10): multiplicative noise
  :math:`\xi \sim \mathcal N(1, p/(1-p))` (:func:`gaussian_dropout`, :class:`GaussianDropout`);
* **alpha dropout** (Klambauer et al., 2017, "Self-normalizing neural networks", NeurIPS): sets
  dropped units to SELU's negative saturation and maps the result affinely back to mean 0 and
  variance 1, for self-normalizing (SELU) networks (:func:`alpha_dropout`, :class:`AlphaDropout`).

Common conventions: inverted scaling (the expectation over the noise is the input, so
evaluation is the identity; alpha dropout instead keeps the mean and variance of a standardized
input); in evaluation mode (``training=False``, ``module.eval()``) or
at ``p = 0`` the input is returned unchanged. Masks come from torch's global generator (like
``nn.Dropout``) or from an optional ``torch.Generator``. Inputs must be floating-point
tensors (integer, bool and complex tensors raise ``TypeError``); float16 and bfloat16 are
computed in, and returned as, float32 (course_lib's one dtype rule,
:func:`course_lib._validation.real_tensor`), so a half-precision input gives exactly the
result of its float32 twin.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course_lib._validation import check_bool, check_finite, check_int, check_probability, describe_value, real_tensor

__all__ = [
    "MAX_FEATURES",
    "MAX_DEPTH",
    "MAX_MAP_SIZE",
    "drop_connect_linear",
    "DropConnectLinear",
    "spatial_dropout",
    "SpatialDropout",
    "drop_path",
    "DropPath",
    "drop_path_rates",
    "drop_block2d",
    "DropBlock2d",
    "drop_block1d",
    "drop_block_seed_rate",
    "drop_block_expected_fraction",
    "DropBlock1d",
    "locked_dropout",
    "LockedDropout",
    "gaussian_dropout",
    "GaussianDropout",
    "alpha_dropout",
    "AlphaDropout",
]

#: The most input (or output) features of a :class:`DropConnectLinear`; ``in * out`` is limited to ``MAX_FEATURES ** 2 // 4``.
MAX_FEATURES = 1 << 16
#: The longest side :func:`drop_block_seed_rate` and :func:`drop_block_expected_fraction` accept.
MAX_MAP_SIZE = 1 << 20
#: The deepest network :func:`drop_path_rates` gives a schedule for.
MAX_DEPTH = 100_000


# --- shared checks ---------------------------------------------------------------------------


def _check_tensor(name: str, value: Any) -> torch.Tensor:
    """A floating-point tensor under the one dtype rule (float16/bfloat16 → float32); TypeError otherwise."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe_value(value)}")
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (dropping and rescaling integers, bools or complex "
            f"numbers is not meaningful), got dtype {value.dtype}"
        )
    return real_tensor(name, value)


def _check_input(x: Any, layout: str, *, ndim: int | None = None, min_ndim: int = 0) -> torch.Tensor:
    x = _check_tensor("x", x)
    if (ndim is not None and x.ndim != ndim) or x.ndim < min_ndim:
        raise ValueError(f"x must be a {layout} tensor, got shape {tuple(x.shape)}")
    return x


def _check_generator(generator: Any) -> torch.Generator | None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {describe_value(generator)}")
    return generator


def _keep_mask(x: torch.Tensor, shape: tuple[int, ...], p: float, generator: torch.Generator | None) -> torch.Tensor:
    """A Bernoulli(1 - p) keep mask of ``shape`` divided by 1 - p, in x's dtype and on x's device."""
    return torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - p, generator=generator).div_(1.0 - p)


def _checked(out: torch.Tensor, *inputs: tuple[str, torch.Tensor | None]) -> torch.Tensor:
    """``out`` itself if finite; else a ValueError naming the non-finite input, or the inputs whose magnitudes overflowed."""
    if math.isfinite(out.detach().sum().item()) or bool(torch.isfinite(out.detach()).all()):  # cheap sum first
        return out
    for name, value in inputs:
        if value is not None:
            check_finite(name, value)
    names = " and ".join(name for name, value in inputs if value is not None)
    raise ValueError(f"the magnitudes of {names} are beyond {out.dtype}'s range: the result overflows")


def _identity(x: torch.Tensor) -> torch.Tensor:
    return check_finite("x", x)


def _generator_repr(generator: torch.Generator | None) -> str:
    return "" if generator is None else ", generator=torch.Generator"


class _RateModule(nn.Module):
    """The shared part of the modules: a validated rate ``p`` and an optional ``torch.Generator``, shown by ``repr``."""

    def __init__(self, p: float, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability("p", p)
        self.generator = _check_generator(generator)

    def extra_repr(self) -> str:
        return f"p={self.p}{_generator_repr(self.generator)}"


# --- DropConnect -----------------------------------------------------------------------------


def drop_connect_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    p: float = 0.5,
    training: bool = True,
    per_example: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""A linear layer with DropConnect on its weights (Wan et al., 2013).

    .. math::
        y = \frac{(W \odot M)\,x}{1 - p} + b, \qquad M_{ij} \sim \mathrm{Bernoulli}(1 - p),
        \qquad \mathbb{E}_M[y] = W x + b .

    * ``per_example=True`` (the paper's form): every example gets its own mask, so each
      example is passed through its own sub-network. The masks form an
      :math:`(N, \text{out}, \text{in})` tensor contracted with ``einsum``: memory and time grow
      with :math:`N \cdot \text{out} \cdot \text{in}`, ``N`` times a plain linear layer's weights.
    * ``per_example=False``: one mask for the whole batch, one ``F.linear`` call (cheap), but the
      examples of a batch share a sub-network, so their gradient noise is correlated.

    Evaluation (``training=False``) or ``p = 0`` is ``F.linear(x, weight, bias)``: the full
    weights, the "weight scaling" rule of inverted dropout. Wan et al. instead approximate the
    average over masks at inference by moment matching: a Gaussian for each pre-activation,
    sampled and passed through the non-linearity.

    Args:
        x: input of shape ``(*, in_features)``.
        weight: ``(out_features, in_features)``, same floating dtype as ``x``.
        bias: ``(out_features,)`` or ``None``.
        p: probability of dropping a weight, in [0, 1).
        training: apply DropConnect (True) or the plain linear map (False).
        per_example: one mask per example (True) or per batch (False).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Returns:
        ``(*, out_features)``.

    Example:
        >>> w = torch.ones(2, 3)
        >>> y = drop_connect_linear(torch.ones(4, 3), w, p=0.5, generator=torch.Generator().manual_seed(0))
        >>> y.shape, set(y.flatten().tolist()) <= {0.0, 2.0, 4.0, 6.0}
        (torch.Size([4, 2]), True)
        >>> torch.equal(drop_connect_linear(torch.ones(4, 3), w, training=False), torch.full((4, 2), 3.0))
        True
    """
    x = _check_input(x, "(*, in_features)", min_ndim=1)
    weight = _check_tensor("weight", weight)
    if weight.ndim != 2 or weight.shape[1] != x.shape[-1]:
        raise ValueError(
            f"weight must be a 2-D (out_features, in_features) tensor matching x's last dimension {x.shape[-1]}, "
            f"got weight shape {tuple(weight.shape)} for x shape {tuple(x.shape)}"
        )
    if bias is not None:
        bias = _check_tensor("bias", bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},) to match weight, got {tuple(bias.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != x.dtype:
            raise TypeError(f"x ({x.dtype}) and {name} ({value.dtype}) must have the same dtype")
    p = check_probability("p", p)
    training = check_bool("training", training)
    per_example = check_bool("per_example", per_example)
    generator = _check_generator(generator)
    inputs = (("x", x), ("weight", weight), ("bias", bias))
    if not training or p == 0.0:
        return _checked(F.linear(x, weight, bias), *inputs)
    if not per_example:
        return _checked(F.linear(x, weight * _keep_mask(weight, tuple(weight.shape), p, generator), bias), *inputs)
    rows = x.reshape(-1, x.shape[-1])
    masks = _keep_mask(weight, (rows.shape[0], *weight.shape), p, generator)
    out = torch.einsum("noi,ni->no", weight * masks, rows)
    if bias is not None:
        out = out + bias
    return _checked(out.reshape(*x.shape[:-1], weight.shape[0]), *inputs)


def _check_features(name: str, value: Any) -> int:
    value = check_int(name, value, minimum=1)
    if value > MAX_FEATURES:
        raise ValueError(f"{name} must be at most MAX_FEATURES = {MAX_FEATURES}, got {value}")
    return value


class DropConnectLinear(nn.Linear):
    r"""``nn.Linear`` with DropConnect on its weights (Wan et al., 2013): :math:`y = (W \odot M)\,x/(1-p) + b`.

    In training mode each forward call draws fresh masks :math:`M_{ij} \sim \mathrm{Bernoulli}(1-p)`:
    one per example (``per_example=True``, the paper's form; memory grows with
    ``N * out_features * in_features``) or one for the batch (``per_example=False``: cheap, but
    the examples of a batch share one sub-network, so their gradient noise is correlated). In
    evaluation mode, or at ``p = 0``, it is exactly ``F.linear`` with the full weights (weight
    scaling; Wan et al. use a Gaussian moment-matching approximation at inference instead). See
    :func:`drop_connect_linear`.

    Args:
        in_features, out_features, bias: as in ``nn.Linear`` (same initialisation).
        p: probability of dropping a weight, in [0, 1).
        per_example: one mask per example (True) or per batch (False).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Shape:
        - Input: ``(*, in_features)``, the dtype of the weights. Output: ``(*, out_features)``.

    Example:
        >>> layer = DropConnectLinear(3, 2, p=0.25)
        >>> layer
        DropConnectLinear(in_features=3, out_features=2, bias=True, p=0.25, per_example=True)
        >>> layer(torch.randn(5, 3)).shape
        torch.Size([5, 2])
    """

    def __init__(self, in_features: int, out_features: int, p: float, bias: bool = True, per_example: bool = True,
                 *, generator: torch.Generator | None = None) -> None:
        in_features = _check_features("in_features", in_features)
        out_features = _check_features("out_features", out_features)
        if in_features * out_features > MAX_FEATURES**2 // 4:
            raise ValueError(
                f"in_features * out_features must be at most {MAX_FEATURES**2 // 4}, got "
                f"in_features={in_features}, out_features={out_features}"
            )
        p = check_probability("p", p)
        bias = check_bool("bias", bias)
        per_example = check_bool("per_example", per_example)
        generator = _check_generator(generator)
        super().__init__(in_features, out_features, bias=bias)
        self.p, self.per_example, self.generator = p, per_example, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_connect_linear(x, self.weight, self.bias, self.p, self.training, self.per_example, self.generator)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}, per_example={self.per_example}{_generator_repr(self.generator)}"


# --- spatial dropout -------------------------------------------------------------------------


def spatial_dropout(x: torch.Tensor, p: float, training: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Drop whole channels of an ``(N, C, ...)`` input (Tompson et al., 2015).

    .. math::
        y_{n c \ldots} = \frac{m_{nc}}{1 - p}\, x_{n c \ldots}, \qquad m_{nc} \sim \mathrm{Bernoulli}(1 - p),

    one mask entry per (example, channel), of shape ``(N, C, 1, ..., 1)``, shared by all
    spatial positions. Neighbouring activations of a feature map are strongly correlated, so
    zeroing single pixels removes little information; zeroing a channel does. Same zeroing
    pattern and scaling as ``F.dropout1d/2d/3d`` (for ``(N, C, L)``, ``(N, C, H, W)``,
    ``(N, C, D, H, W)``); any rank >= 3 is accepted.

    Example:
        >>> y = spatial_dropout(torch.ones(2, 3, 4, 4), 0.5, generator=torch.Generator().manual_seed(0))
        >>> bool(((y == 0) | (y == 2)).all()) and bool((y == y[:, :, :1, :1]).all())  # constant per channel
        True
    """
    x = _check_input(x, "(N, C, ...) (at least 3-D)", min_ndim=3)
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    return _checked(x * _keep_mask(x, (*x.shape[:2], *(1,) * (x.ndim - 2)), p, generator), ("x", x))


class SpatialDropout(_RateModule):
    r"""Channel dropout for ``(N, C, ...)`` inputs: a from-scratch twin of ``nn.Dropout1d/2d/3d``.

    In training mode each channel of each example is zeroed with probability :math:`p`, the
    others scaled by :math:`1/(1-p)` (mask shape ``(N, C, 1, ..., 1)``, see
    :func:`spatial_dropout`); in evaluation mode the identity.

    Args:
        p: probability of dropping a channel, in [0, 1).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Shape:
        - Input: ``(N, C, *)`` with at least one spatial dimension. Output: the same.

    Example:
        >>> SpatialDropout(0.1)
        SpatialDropout(p=0.1)
        >>> SpatialDropout(0.1).eval()(torch.ones(1, 2, 3)).tolist()
        [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return spatial_dropout(x, self.p, self.training, self.generator)



# --- DropPath / stochastic depth -------------------------------------------------------------


def drop_path(x: torch.Tensor, p: float, training: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Drop whole examples of a residual branch: stochastic depth (Huang et al., 2016).

    Applied to the output :math:`f(x)` of a residual branch, :math:`x + \mathrm{drop\_path}(f(x))`:

    .. math::
        y_n = \frac{b_n}{1 - p}\, f(x)_n, \qquad b_n \sim \mathrm{Bernoulli}(1 - p),

    one keep/drop per example (mask shape ``(N, 1, ..., 1)``), so a dropped example skips the
    whole block. Huang et al. scale at test time instead (survival probability times the
    branch); the inverted form here is timm's ``drop_path`` (used in DeiT, Swin, ConvNeXt).

    Example:
        >>> y = drop_path(torch.ones(8, 3), 0.5, generator=torch.Generator().manual_seed(0))
        >>> bool(all(set(row.tolist()) in ({0.0}, {2.0}) for row in y))  # whole examples
        True
    """
    x = _check_input(x, "(N, ...) (at least 1-D)", min_ndim=1)
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    return _checked(x * _keep_mask(x, (x.shape[0], *(1,) * (x.ndim - 1)), p, generator), ("x", x))


class DropPath(_RateModule):
    r"""Stochastic depth for a residual branch (Huang et al., 2016), timm's ``DropPath``.

    In training mode each example's branch output is zeroed with probability :math:`p` and
    otherwise scaled by :math:`1/(1-p)` (:func:`drop_path`); in evaluation mode the identity.
    Rates usually grow with depth: :func:`drop_path_rates`.

    Args:
        p: probability of dropping the branch for an example, in [0, 1).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Shape:
        - Input: ``(N, *)``. Output: the same.

    Example:
        >>> [DropPath(p) for p in drop_path_rates(2, 0.2)]
        [DropPath(p=0.1), DropPath(p=0.2)]
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.p, self.training, self.generator)



def drop_path_rates(depth: int, max_rate: float) -> list[float]:
    r"""The linear stochastic-depth schedule: :math:`p_l = p_{\max} \cdot l / L` for blocks :math:`l = 1, \ldots, L`.

    Huang et al. (2016) let the survival probability decay linearly with depth,
    :math:`1 - p_l = 1 - \tfrac{l}{L}\,p_{\max}`: the first block is rarely dropped, the last
    one at ``max_rate``. timm (and the DeiT, Swin and ConvNeXt code built on it) uses
    ``torch.linspace(0, max_rate, depth)`` instead, :math:`p_l = p_{\max}(l-1)/(L-1)`: its first
    block is never dropped. Both end at ``max_rate``.

    Args:
        depth: the number of residual blocks :math:`L`, in [1, ``MAX_DEPTH``].
        max_rate: the last block's drop probability, in [0, 1).

    Returns:
        ``depth`` floats, one per block, first to last.

    Example:
        >>> [round(rate, 6) for rate in drop_path_rates(4, 0.2)]
        [0.05, 0.1, 0.15, 0.2]
    """
    depth = check_int("depth", depth, minimum=1)
    if depth > MAX_DEPTH:
        raise ValueError(f"depth must be at most MAX_DEPTH = {MAX_DEPTH}, got {depth}")
    max_rate = check_probability("max_rate", max_rate)
    return [max_rate * layer / depth for layer in range(1, depth + 1)]


# --- DropBlock -------------------------------------------------------------------------------


def _check_block_size(block_size: Any, sizes: tuple[int, ...]) -> int:
    block_size = check_int("block_size", block_size, minimum=1)
    if block_size > min(sizes):
        raise ValueError(f"block_size must fit in the map (at most {min(sizes)} for spatial size {sizes}), got {block_size}")
    return block_size


def _window_max(values: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """The maximum over every window of ``size`` consecutive entries along ``dim`` (stride 1, no padding).

    ``size - 1`` elementwise maxima of shifted views: a few passes over the tensor, where a stride-1
    ``F.max_pool2d`` (the textbook way) visits ``size**2`` entries per output and is several times slower.
    """
    length = values.shape[dim] - size + 1
    out = values.narrow(dim, 0, length).clone()
    for shift in range(1, size):
        torch.maximum(out, values.narrow(dim, shift, length), out=out)
    return out


def _check_map_sizes(sizes: Any) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (tuple, list)):
        raise TypeError(f"sizes must be a tuple of one or two ints (L,) or (H, W), got {describe_value(sizes)}")
    if len(sizes) not in (1, 2):
        raise ValueError(f"sizes must hold one or two map sizes (L,) or (H, W), got {len(sizes)}: {tuple(sizes)!r}")
    sizes = tuple(check_int(f"sizes[{i}]", size, minimum=1) for i, size in enumerate(sizes))
    for i, size in enumerate(sizes):
        if size > MAX_MAP_SIZE:
            raise ValueError(f"sizes[{i}] must be at most MAX_MAP_SIZE = {MAX_MAP_SIZE:,}, got {size}")
    return sizes


def drop_block_seed_rate(p: float, block_size: int, sizes: tuple[int, ...]) -> float:
    r"""DropBlock's seed rate (Ghiasi et al., 2018) for a map of ``sizes`` = ``(L,)`` or ``(H, W)``.

    .. math::
        \gamma = \frac{p}{bs^d}\,\prod_i \frac{n_i}{n_i - bs + 1},

    with :math:`d` the number of spatial dimensions and :math:`n_i` their sizes: seeds fall
    only where a whole block fits, and :math:`\gamma` times the valid positions times the block
    area is :math:`p` times the map. ``block_size`` must fit (``<= min(sizes)``). Each factor
    :math:`n / (bs\,(n - bs + 1))` is at most 1 (since :math:`bs(n-bs+1) - n = (bs-1)(n-bs) \ge 0`),
    so :math:`\gamma \le p < 1`, with equality for ``bs = 1`` (plain dropout) or a block as large as the map.

    Example:
        >>> round(drop_block_seed_rate(0.1, 3, (16, 16)), 6)
        0.014512
    """
    p = check_probability("p", p)
    sizes = _check_map_sizes(sizes)
    block_size = _check_block_size(block_size, sizes)
    return p / block_size ** len(sizes) * math.prod(sizes) / math.prod(size - block_size + 1 for size in sizes)


def drop_block_expected_fraction(p: float, block_size: int, sizes: tuple[int, ...]) -> float:
    r"""The expected share of a map that DropBlock drops: below ``p``, because blocks overlap.

    A position that :math:`k` possible seeds cover (:math:`k = k_h k_w`, each factor the number of
    block starts along that dimension whose block contains it) is dropped with probability
    :math:`1 - (1 - \gamma)^k`; the expected dropped fraction is the mean of that over the map,
    with :math:`\gamma` = :func:`drop_block_seed_rate`. :func:`drop_block1d` and
    :func:`drop_block2d` realise it (checked in ``tests/test_variants.py``).

    Example:
        >>> round(drop_block_expected_fraction(0.1, 3, (16, 16)), 4)
        0.0952
    """
    gamma = drop_block_seed_rate(p, block_size, sizes)
    sizes = tuple(int(size) for size in sizes)
    block_size = int(block_size)
    covers = []
    for size in sizes:
        valid = size - block_size + 1
        positions = torch.arange(size, dtype=torch.float64)
        covers.append(torch.minimum(positions, torch.tensor(valid - 1.0)) - torch.clamp(positions - block_size + 1, min=0) + 1)
    k = covers[0] if len(covers) == 1 else torch.outer(covers[0], covers[1])
    return float((1.0 - (1.0 - gamma) ** k).mean())


def _drop_block(x: torch.Tensor, p: float, block_size: int, generator: torch.Generator | None) -> torch.Tensor:
    """DropBlock over the last 1 or 2 dimensions of x; the shared part of drop_block1d and drop_block2d."""
    sizes = tuple(x.shape[2:])
    valid = tuple(size - block_size + 1 for size in sizes)
    gamma = drop_block_seed_rate(p, block_size, sizes)
    seeds = torch.empty((*x.shape[:2], *valid), dtype=x.dtype, device=x.device).bernoulli_(gamma, generator=generator)
    # Each seed marks a block's first row/column: pad by bs - 1 on both sides, then a stride-1 maximum
    # over windows of width bs puts a 1 at every position within bs - 1 after a seed, i.e. the whole
    # block. A square window's maximum is the maximum over its columns of the maxima over its rows, so
    # the 2-D window maximum is two 1-D ones, one per spatial dimension (the same mask as a max-pool).
    covered = F.pad(seeds, (block_size - 1,) * (2 * len(sizes)))
    for dim in range(2, x.ndim):
        covered = _window_max(covered, block_size, dim)
    keep = 1.0 - covered
    kept = keep.sum(dtype=torch.float64).clamp(min=1.0)  # an all-dropped mask gives zeros, not NaN
    scale = (keep.numel() / kept).to(x.dtype)
    return _checked(x * (keep * scale), ("x", x))


def drop_block2d(x: torch.Tensor, p: float, block_size: int, training: bool = True,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    r"""DropBlock for ``(N, C, H, W)`` maps (Ghiasi et al., 2018): drop contiguous ``bs x bs`` blocks.

    Block seeds are drawn only where a whole block fits, on the
    :math:`(H - bs + 1) \times (W - bs + 1)` valid region, each with probability

    .. math::
        \gamma = \frac{p}{bs^2}\,\frac{H W}{(H - bs + 1)(W - bs + 1)},

    so that the expected number of (seed, covered position) pairs is :math:`p\,HW`. Each seed
    is expanded to its :math:`bs \times bs` block (a stride-1 window maximum of the seed map), one
    mask per (example, channel); the kept activations are renormalised by
    ``numel / count_kept`` over the whole tensor (all dropped gives zeros). At
    ``block_size = 1`` it is elementwise dropout with the kept-fraction scale. Unlike dropout,
    the result is not unbiased position by position: fewer seeds can cover a position near the
    border, so it is dropped less often than one in the middle; the renormalisation keeps the
    total of a constant map exactly.

    **Realised drop fraction.** Blocks overlap, so the dropped fraction is below ``p``: a
    position covered by :math:`k` possible seeds is dropped with probability
    :math:`1 - (1-\gamma)^k`, and the expected fraction is the mean of that over the map.
    Measured on 20,000 masks each (the expectation in brackets; ``tests/test_variants.py``
    checks fresh measurements against it within 4 standard errors, and within 0.75 p to p):

    ======  ====  ===============  ===============
    H = W   bs    p = 0.1          p = 0.3
    ======  ====  ===============  ===============
    16      3     0.0951 (0.0952)  0.2588 (0.2590)
    16      5     0.0935 (0.0940)  0.2492 (0.2502)
    16      7     0.0915 (0.0931)  0.2451 (0.2440)
    32      3     0.0954 (0.0954)  0.2614 (0.2609)
    32      5     0.0942 (0.0947)  0.2552 (0.2553)
    32      7     0.0941 (0.0941)  0.2510 (0.2513)
    ======  ====  ===============  ===============

    So about 0.92-0.95 p at p = 0.1 and 0.82-0.87 p at p = 0.3: the more blocks, the more
    overlap. (Standard errors of the measurements: 0.0002-0.0012.)

    Args:
        x: input of shape ``(N, C, H, W)``.
        p: target drop fraction, in [0, 1).
        block_size: side ``bs`` of the square blocks, in [1, min(H, W)].
        training: drop blocks (True) or return ``x`` unchanged (False).
        generator: a ``torch.Generator`` for the seeds, or ``None`` for torch's global one.

    Example:
        >>> y = drop_block2d(torch.ones(1, 1, 8, 8), 0.3, 3, generator=torch.Generator().manual_seed(0))
        >>> y.shape, len(set(y.flatten().tolist())) <= 2
        (torch.Size([1, 1, 8, 8]), True)
    """
    x = _check_input(x, "(N, C, H, W) (4-D)", ndim=4)
    p = check_probability("p", p)
    block_size = _check_block_size(block_size, tuple(x.shape[2:]))
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    return _drop_block(x, p, block_size, generator)


def drop_block1d(x: torch.Tensor, p: float, block_size: int, training: bool = True,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    r"""DropBlock for ``(N, C, L)`` sequences: drop contiguous segments of ``block_size`` steps.

    The 1-D form of :func:`drop_block2d`: seeds on the :math:`L - bs + 1` positions where a
    whole segment fits, each with probability :math:`\gamma = \frac{p}{bs}\,\frac{L}{L - bs + 1}`,
    expanded to segments of ``bs`` steps, one mask per (example, channel), and the kept
    activations renormalised by ``numel / count_kept``. Overlapping segments make the realised
    drop fraction a little below ``p``, as in 2-D.

    Example:
        >>> y = drop_block1d(torch.ones(2, 3, 20), 0.2, 4, generator=torch.Generator().manual_seed(0))
        >>> y.shape
        torch.Size([2, 3, 20])
    """
    x = _check_input(x, "(N, C, L) (3-D)", ndim=3)
    p = check_probability("p", p)
    block_size = _check_block_size(block_size, tuple(x.shape[2:]))
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    return _drop_block(x, p, block_size, generator)


class _DropBlock(nn.Module):
    def __init__(self, p: float, block_size: int, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability("p", p)
        self.block_size = check_int("block_size", block_size, minimum=1)
        self.generator = _check_generator(generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, block_size={self.block_size}{_generator_repr(self.generator)}"


class DropBlock2d(_DropBlock):
    r"""DropBlock for ``(N, C, H, W)`` maps (Ghiasi et al., 2018), see :func:`drop_block2d`.

    In training mode, seeds drawn at rate
    :math:`\gamma = \frac{p}{bs^2}\frac{HW}{(H-bs+1)(W-bs+1)}` where a whole block fits grow
    into ``block_size x block_size`` dropped squares, and the kept activations are scaled by
    ``numel / count_kept``; in evaluation mode the identity.

    Args:
        p: target drop fraction, in [0, 1) (the realised fraction is a little lower).
        block_size: side of the square blocks, at least 1 and at most min(H, W) of the input.
        generator: a ``torch.Generator`` for the seeds, or ``None`` for torch's global one.

    Shape:
        - Input: ``(N, C, H, W)``. Output: the same.

    Example:
        >>> DropBlock2d(0.1, 5)
        DropBlock2d(p=0.1, block_size=5)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_block2d(x, self.p, self.block_size, self.training, self.generator)


class DropBlock1d(_DropBlock):
    r"""DropBlock for ``(N, C, L)`` sequences, see :func:`drop_block1d`.

    In training mode, seeds drawn at rate :math:`\gamma = \frac{p}{bs}\frac{L}{L-bs+1}` grow
    into segments of ``block_size`` steps, and the kept activations are scaled by
    ``numel / count_kept``; in evaluation mode the identity.

    Args:
        p: target drop fraction, in [0, 1).
        block_size: segment length, at least 1 and at most L.
        generator: a ``torch.Generator`` for the seeds, or ``None`` for torch's global one.

    Shape:
        - Input: ``(N, C, L)``. Output: the same.

    Example:
        >>> DropBlock1d(0.2, 3)
        DropBlock1d(p=0.2, block_size=3)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_block1d(x, self.p, self.block_size, self.training, self.generator)


# --- locked (variational) dropout ------------------------------------------------------------


def locked_dropout(x: torch.Tensor, p: float, batch_first: bool = False, training: bool = True,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One dropout mask per sequence, shared by every time step (Gal & Ghahramani, 2016b; Merity et al., 2018).

    .. math::
        y_{t n h} = \frac{m_{n h}}{1 - p}\, x_{t n h}, \qquad m_{nh} \sim \mathrm{Bernoulli}(1 - p),

    for input ``(T, N, H)`` (mask ``(1, N, H)``), or ``(N, T, H)`` with ``batch_first``
    (mask ``(N, 1, H)``). A fresh mask at every step would inject noise the recurrence
    accumulates; the locked mask drops the same units for the whole sequence, which is the
    variational interpretation of dropout in a recurrent network.

    Example:
        >>> y = locked_dropout(torch.ones(5, 2, 3), 0.5, generator=torch.Generator().manual_seed(0))
        >>> bool((y == y[:1]).all())  # the same at every time step
        True
    """
    batch_first = check_bool("batch_first", batch_first)
    layout = "(N, T, H)" if batch_first else "(T, N, H)"
    x = _check_input(x, f"{layout} (3-D)", ndim=3)
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    shape = (x.shape[0], 1, x.shape[2]) if batch_first else (1, x.shape[1], x.shape[2])
    return _checked(x * _keep_mask(x, shape, p, generator), ("x", x))


class LockedDropout(nn.Module):
    r"""Locked (variational) dropout for sequences: one mask per sequence, constant across time.

    See :func:`locked_dropout`; in evaluation mode the identity (Gal & Ghahramani, 2016b;
    Merity et al., 2018, who use it on the inputs and outputs of the LSTM layers of AWD-LSTM).

    Args:
        p: probability of dropping a unit for the whole sequence, in [0, 1).
        batch_first: input ``(N, T, H)`` (True) or ``(T, N, H)`` (False, like ``nn.LSTM``'s default).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Shape:
        - Input: ``(T, N, H)``, or ``(N, T, H)`` with ``batch_first``. Output: the same.

    Example:
        >>> LockedDropout(0.3, batch_first=True)
        LockedDropout(p=0.3, batch_first=True)
    """

    def __init__(self, p: float, batch_first: bool = False, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability("p", p)
        self.batch_first = check_bool("batch_first", batch_first)
        self.generator = _check_generator(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return locked_dropout(x, self.p, self.batch_first, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, batch_first={self.batch_first}{_generator_repr(self.generator)}"


# --- Gaussian dropout ------------------------------------------------------------------------


def gaussian_dropout(x: torch.Tensor, p: float, training: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Multiplicative Gaussian noise with the moments of inverted dropout (Srivastava et al., 2014, §10).

    .. math::
        y = \xi \odot x, \qquad \xi_i \sim \mathcal N\!\left(1,\ \sigma^2 = \frac{p}{1-p}\right),

    the mean and variance of the inverted-dropout factor :math:`m_i/(1-p)`,
    :math:`m_i \sim \mathrm{Bernoulli}(1-p)`. Nothing is exactly zero, and the gradient is
    :math:`\xi` everywhere.

    Example:
        >>> y = gaussian_dropout(torch.ones(10_000), 0.2, generator=torch.Generator().manual_seed(0))
        >>> abs(y.mean().item() - 1) < 0.02, abs(y.var().item() - 0.25) < 0.02
        (True, True)
    """
    x = _check_input(x, "any-shape", min_ndim=0)
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    noise = torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)
    return _checked(x * noise.mul_(math.sqrt(p / (1.0 - p))).add_(1.0), ("x", x))


class GaussianDropout(_RateModule):
    r"""Gaussian dropout: :math:`y = \xi \odot x`, :math:`\xi \sim \mathcal N(1, p/(1-p))` in training, identity in eval.

    See :func:`gaussian_dropout` (Srivastava et al., 2014, §10).

    Args:
        p: the dropout rate whose moments the noise matches, in [0, 1).
        generator: a ``torch.Generator`` for the noise, or ``None`` for torch's global one.

    Shape:
        - Input: any shape. Output: the same.

    Example:
        >>> GaussianDropout(0.5)
        GaussianDropout(p=0.5)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_dropout(x, self.p, self.training, self.generator)



# --- alpha dropout ---------------------------------------------------------------------------

#: SELU's scale and negative-saturation constants (Klambauer et al., 2017), those of ``F.selu``.
_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
#: The value a dropped unit is set to: SELU's limit for x -> -inf, -lambda * alpha = -1.7581.
_ALPHA_PRIME = -_SELU_LAMBDA * _SELU_ALPHA


def _alpha_affine(p: float) -> tuple[float, float]:
    """The affine constants (a, b) of alpha dropout at drop probability p."""
    a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * _ALPHA_PRIME**2))
    return a, -a * _ALPHA_PRIME * p


def alpha_dropout(x: torch.Tensor, p: float, training: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Dropout that keeps a standardized input standardized, for SELU networks (Klambauer et al., 2017).

    Plain dropout sets a unit to 0 and scales the survivors by :math:`1/(1-p)`: it keeps the
    mean but raises the variance of a mean-0, variance-1 input to :math:`1/(1-p)`, which throws a
    self-normalizing network off its fixed point. And 0 is not SELU's "off" value: SELU's
    low-variance state is its negative saturation
    :math:`\lim_{z\to-\infty}\mathrm{selu}(z) = -\lambda\alpha = \alpha' \approx -1.7581`
    (:math:`\lambda \approx 1.0507`, :math:`\alpha \approx 1.6733`). Alpha dropout sets dropped
    units to :math:`\alpha'` and corrects mean and variance with an affine map:

    .. math::
        y = a\,\bigl(x \odot m + \alpha'(1 - m)\bigr) + b, \qquad m_i \sim \mathrm{Bernoulli}(1 - p),

        a = \bigl((1-p)(1 + p\,\alpha'^2)\bigr)^{-1/2}, \qquad b = -a\,\alpha' p .

    For independent :math:`x_i` with mean 0 and variance 1 (a SELU fixed point):
    :math:`\mathbb E[x m + \alpha'(1-m)] = \alpha' p` and its variance is
    :math:`(1-p) + \alpha'^2 p (1-p) = (1-p)(1 + p\alpha'^2)`, so :math:`a` restores variance 1 and
    :math:`b` mean 0. Every output is one of two values per input: :math:`a x + b` (kept) or
    :math:`a\alpha' + b = a\alpha'(1-p)` (dropped), and the gradient is :math:`a m`. Unlike
    inverted dropout it is not unbiased unit by unit, :math:`\mathbb E_m[y] = a(1-p)\,x`: it
    preserves the first two moments of the activations' distribution, which is what a SELU
    network's fixed point needs, and evaluation (the identity) sees that same distribution.
    The same recipe and constants as ``F.alpha_dropout`` / ``nn.AlphaDropout`` (one mask drawn by
    ``bernoulli_(1 - p)`` on a tensor of x's shape and dtype, so the same seed gives the same mask).

    Args:
        x: input of any shape.
        p: probability of dropping a unit, in [0, 1).
        training: apply alpha dropout (True) or return ``x`` unchanged (False).
        generator: a ``torch.Generator`` for the mask, or ``None`` for torch's global one.

    Returns:
        A tensor of x's shape.

    Example:
        >>> y = alpha_dropout(torch.randn(100_000, generator=torch.Generator().manual_seed(1)), 0.2,
        ...                   generator=torch.Generator().manual_seed(0))
        >>> abs(y.mean().item()) < 0.02, abs(y.var().item() - 1) < 0.02
        (True, True)
        >>> len(set(alpha_dropout(torch.ones(50), 0.5, generator=torch.Generator().manual_seed(0)).tolist()))
        2
    """
    x = _check_input(x, "any-shape", min_ndim=0)
    p = check_probability("p", p)
    training = check_bool("training", training)
    generator = _check_generator(generator)
    if not training or p == 0.0:
        return _identity(x)
    a, b = _alpha_affine(p)
    keep = torch.empty(x.shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - p, generator=generator)
    scale = keep * a  # a m: the factor of x, and the gradient
    shift = keep.mul_(-a * _ALPHA_PRIME).add_(a * _ALPHA_PRIME + b)  # a alpha' (1 - m) + b
    return _checked(torch.addcmul(shift, x, scale), ("x", x))


class AlphaDropout(_RateModule):
    r"""Alpha dropout for self-normalizing networks (Klambauer et al., 2017): a from-scratch ``nn.AlphaDropout``.

    In training mode each unit is dropped with probability :math:`p` to SELU's saturation value
    :math:`\alpha' = -\lambda\alpha`, and the result is mapped by :math:`a(\cdot) + b` with
    :math:`a = ((1-p)(1+p\alpha'^2))^{-1/2}`, :math:`b = -a\alpha' p`, so a mean-0, variance-1
    input keeps mean 0 and variance 1 (:func:`alpha_dropout`); in evaluation mode the identity.
    Use it with SELU activations and LeCun-normal initialisation, in place of ``nn.Dropout``.

    Args:
        p: probability of dropping a unit, in [0, 1).
        generator: a ``torch.Generator`` for the masks, or ``None`` for torch's global one.

    Shape:
        - Input: any shape. Output: the same.

    Example:
        >>> AlphaDropout(0.1)
        AlphaDropout(p=0.1)
        >>> AlphaDropout(0.1).eval()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return alpha_dropout(x, self.p, self.training, self.generator)


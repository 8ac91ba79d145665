r"""A small Transformer classifier with dropout at the places the original Transformer put it.

Vaswani et al. (2017, "Attention is all you need", NeurIPS, §5.4 "Regularization") use three
kinds of dropout, all at rate :math:`P_{drop} = 0.1` in the base model (and label smoothing
:math:`\epsilon = 0.1`, see :mod:`course_lib.losses`):

1. **attention dropout**, on the attention probabilities
   :math:`A = \mathrm{softmax}(QK^\top/\sqrt{d_{head}})` before they weight the values, so each
   query attends to a random subset of the keys (:class:`SelfAttention`);
2. **residual dropout**, on the output of each sub-layer (attention, feed-forward) *before* it
   is added to the residual stream (:class:`TransformerBlock`);
3. **embedding dropout**, on the sum of the input embeddings and the positional encodings
   (:class:`TransformerClassifier`).

Later vision Transformers (DeiT, Touvron et al., 2021) add **drop path** (stochastic depth,
Huang et al., 2016; :class:`course_lib.variants.DropPath`), which drops a whole residual
branch per example, with the linear depth schedule :func:`course_lib.variants.drop_path_rates`.
:func:`dropout_sites` lists every site of a model with its kind and rate.

The classifier reads rows of scalars (``(N, length)``, the layout of MNIST-1D in
:class:`course_lib.data.DataSplits`): each position's value is embedded by ``Linear(1, d_model)``
and a learned positional embedding is added. Its initial weights come from NumPy
(:func:`course_lib.models.init_uniform_` for the linear layers, :math:`\mathcal N(0, 0.02^2)`
for the positional embedding), so a seed gives the same weights on every machine; dropout masks
come from torch's global generator, like ``nn.Dropout``.

**Weight decay.** :func:`course_lib.optim.param_groups` decays every linear weight (the value
embedding, the attention projections, the feed-forward layers, the head) and decays no bias, no
LayerNorm parameter and no positional embedding: the positional table is held by an
``nn.Embedding`` (``position_embedding``; its ``weight`` is the ``(length, d_model)`` parameter,
added to every example as a whole), and param_groups leaves embedding tables undecayed unless
``decay_embeddings=True``. A bare 2-D ``nn.Parameter`` would be decayed by its
dimensionality rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib._validation import (
    check_bool,
    check_finite,
    check_finite_result,
    check_int,
    check_probability,
    describe_value,
    real_tensor,
)
from course_lib.models import MAX_PARAMETERS, init_uniform_
from course_lib.variants import DropPath, drop_path_rates

__all__ = [
    "SelfAttention",
    "TransformerBlock",
    "TransformerClassifier",
    "dropout_sites",
    "DROPOUT_KINDS",
    "POSITION_INIT_STD",
]

#: The kinds of dropout site :func:`dropout_sites` reports, in the order data meets them.
DROPOUT_KINDS = (
    "embeddings + positions",
    "attention probabilities",
    "residual (attention)",
    "residual (feed-forward)",
    "drop path",
    "other",
)
#: Standard deviation of the positional embedding's initial values (as in GPT-2 and BERT).
POSITION_INIT_STD = 0.02


# --- argument checks -----------------------------------------------------------------------------


def _check_heads(d_model: Any, n_heads: Any) -> tuple[int, int]:
    d_model = check_int("d_model", d_model, minimum=1)
    n_heads = check_int("n_heads", n_heads, minimum=1)
    if d_model % n_heads:
        raise ValueError(f"d_model must be divisible by n_heads (each head gets d_model / n_heads features), "
                         f"got d_model={d_model} and n_heads={n_heads}")
    return d_model, n_heads


def _check_size(names: str, count: int) -> None:
    if count > MAX_PARAMETERS:
        shown = f"{count:,}" if count < 10**20 else "more than 10**20"
        raise ValueError(f"{names} need {shown} parameters; at most MAX_PARAMETERS = {MAX_PARAMETERS:,} are built")


def _attention_parameters(d_model: int) -> int:
    return 4 * d_model * d_model + 4 * d_model


def _block_parameters(d_model: int, d_ff: int) -> int:
    return _attention_parameters(d_model) + 2 * d_model * d_ff + d_ff + d_model + 4 * d_model


def _check_input(x: Any, shape: str, sizes: tuple[int | None, ...], dtype: torch.dtype) -> torch.Tensor:
    """``x`` as a floating tensor of the model's dtype with the given sizes (None: any, T >= 1), finite."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape {shape}, got {describe_value(x)}")
    x = real_tensor("x", x)  # bool/complex -> TypeError; float16/bfloat16 -> float32; integers -> float64
    if x.ndim != len(sizes) or any(want is not None and got != want for want, got in zip(sizes, x.shape)):
        raise ValueError(f"x must have shape {shape}, got shape {tuple(x.shape)}")
    if x.ndim == 3 and x.shape[1] < 1:
        raise ValueError(f"x must have at least one position (T >= 1), got shape {tuple(x.shape)}")
    if x.dtype != dtype:
        raise TypeError(f"x must have the model's dtype {dtype}, got {x.dtype} (convert x, or the model with .to)")
    return check_finite("x", x)


@contextmanager
def _overflow_named(names: str, dtype: torch.dtype) -> Iterator[None]:
    """A non-finite intermediate result (DropPath checks its input) becomes a ValueError naming ``names``."""
    try:
        yield
    except ValueError as error:  # the input was checked already: only an overflow inside can raise here
        raise ValueError(f"the magnitudes of {names} are beyond {dtype}'s range: an intermediate result "
                         f"overflows to inf or NaN ({error})") from None


# --- attention -----------------------------------------------------------------------------------


class SelfAttention(nn.Module):
    r"""Multi-head scaled dot-product self-attention, written out, with dropout on the attention probabilities.

    For an input :math:`X \in \mathbb R^{T \times d}` (one example) and :math:`h` heads of width
    :math:`d_{head} = d/h`, head :math:`i` computes

    .. math::
        Q_i = X W^Q_i + b^Q_i,\quad K_i = X W^K_i + b^K_i,\quad V_i = X W^V_i + b^V_i,\qquad
        A_i = \mathrm{softmax}\!\left(\frac{Q_i K_i^\top}{\sqrt{d_{head}}}\right),

    and the layer returns :math:`[\,\mathrm{drop}(A_1) V_1, \ldots, \mathrm{drop}(A_h) V_h\,]\, W^O + b^O`.
    :math:`\mathrm{drop}` is inverted dropout with rate ``attention_dropout`` on the entries of
    the :math:`T \times T` probability matrices (Vaswani et al., 2017): in training mode each
    (query, key) weight is zeroed with that probability and the survivors are divided by
    :math:`1 - p`, so a row no longer sums to one but does in expectation; in evaluation mode the
    probabilities are used as they are. With the same weights it computes what
    ``nn.MultiheadAttention(d_model, n_heads, dropout=attention_dropout, batch_first=True)``
    computes for ``(x, x, x)``.

    Args:
        d_model: the feature width :math:`d` (int >= 1), divisible by ``n_heads``.
        n_heads: the number of heads :math:`h` (int >= 1).
        attention_dropout: the dropout rate on the attention probabilities, in [0, 1).

    Shape:
        - Input: ``(N, T, d_model)``, ``T >= 1``, the module's dtype. Output: the same shape.

    Attributes:
        query, key, value, output: the four ``nn.Linear(d_model, d_model)`` projections (the heads'
            :math:`W_i` are blocks of ``d_head`` rows of ``query.weight`` etc.).
        dropout: the ``nn.Dropout`` on the attention probabilities.

    Example:
        >>> attention = SelfAttention(8, 2, attention_dropout=0.1)
        >>> attention
        SelfAttention(
          d_model=8, n_heads=2, attention_dropout=0.1
          (query): Linear(in_features=8, out_features=8, bias=True)
          (key): Linear(in_features=8, out_features=8, bias=True)
          (value): Linear(in_features=8, out_features=8, bias=True)
          (dropout): Dropout(p=0.1, inplace=False)
          (output): Linear(in_features=8, out_features=8, bias=True)
        )
        >>> out, weights = attention.eval()(torch.randn(3, 5, 8), return_weights=True)
        >>> out.shape, weights.shape, torch.allclose(weights.sum(-1), torch.ones(3, 2, 5))
        (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]), True)
    """

    def __init__(self, d_model: int, n_heads: int, attention_dropout: float = 0.0) -> None:
        super().__init__()
        d_model, n_heads = _check_heads(d_model, n_heads)
        attention_dropout = check_probability("attention_dropout", attention_dropout)
        _check_size("d_model", _attention_parameters(d_model))
        self.d_model, self.n_heads = d_model, n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(attention_dropout)
        self.output = nn.Linear(d_model, d_model)

    def forward(
        self, x: torch.Tensor, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The attention output ``(N, T, d_model)``; with ``return_weights=True`` also the ``(N, n_heads, T, T)``
        matrices that multiplied the values: the probabilities after dropout (before it in evaluation mode)."""
        x = _check_input(x, f"(N, T, {self.d_model})", (None, None, self.d_model), self.query.weight.dtype)
        return_weights = check_bool("return_weights", return_weights)
        out, weights = self._attend(x)
        check_finite_result(out, "x and the layer's weights")
        return (out, weights) if return_weights else out

    def _attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, t, _ = x.shape
        d_head = self.d_model // self.n_heads

        def heads(projection: nn.Linear) -> torch.Tensor:  # (N, T, d) -> (N, h, T, d_head)
            return projection(x).reshape(n, t, self.n_heads, d_head).transpose(1, 2)

        q, k, v = heads(self.query), heads(self.key), heads(self.value)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
        weights = self.dropout(torch.softmax(scores, dim=-1))  # dropout on the probabilities
        mixed = (weights @ v).transpose(1, 2).reshape(n, t, self.d_model)
        return self.output(mixed), weights

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}, attention_dropout={self.dropout.p}"


# --- the block -----------------------------------------------------------------------------------


class TransformerBlock(nn.Module):
    r"""One Transformer layer: self-attention and a feed-forward network, each a residual branch.

    Pre-LN (``norm_first=True``, as in GPT-2 and ViT; Xiong et al., 2020):

    .. math::
        h = x + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{Attn}(\mathrm{LN}_1(x)))),\qquad
        y = h + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{FFN}(\mathrm{LN}_2(h)))).

    Post-LN (``norm_first=False``, the original of Vaswani et al., 2017):
    :math:`h = \mathrm{LN}_1(x + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{Attn}(x))))`,
    :math:`y = \mathrm{LN}_2(h + \mathrm{DropPath}(\mathrm{Dropout}(\mathrm{FFN}(h))))`.
    :math:`\mathrm{FFN}(z) = \mathrm{GELU}(z W_1 + b_1) W_2 + b_2` (Hendrycks & Gimpel, 2016).

    Where the dropout sits (the original Transformer's rates: 0.1 for every kind it uses):

    * ``attention.dropout`` — on the attention probabilities, rate ``attention_dropout``
      (Vaswani et al.: 0.1);
    * ``dropout_attention`` — residual dropout on the attention branch's output, before the
      residual add, rate ``dropout`` (Vaswani et al.: 0.1);
    * ``dropout_feed_forward`` — residual dropout on the feed-forward branch's output, before the
      residual add, rate ``dropout`` (Vaswani et al.: 0.1);
    * ``drop_path_attention``, ``drop_path_feed_forward`` — drop path on each branch, after its
      residual dropout, rate ``drop_path`` (not in Vaswani et al.; DeiT uses 0.1);
    * none inside the feed-forward network (between GELU and :math:`W_2`), as in Vaswani et al.
      (some code bases, e.g. timm's ``Mlp``, put one there too).

    In evaluation mode every site is the identity.

    Args:
        d_model: the residual stream's width (int >= 1), divisible by ``n_heads``.
        n_heads: attention heads (int >= 1).
        d_ff: the feed-forward hidden width (int >= 1; Vaswani et al.: ``4 * d_model``).
        dropout: residual dropout rate, in [0, 1).
        attention_dropout: dropout rate on the attention probabilities, in [0, 1).
        drop_path: drop-path rate of both branches, in [0, 1).
        norm_first: pre-LN (True) or post-LN (False).

    Shape:
        - Input: ``(N, T, d_model)``, ``T >= 1``, the module's dtype. Output: the same shape.

    Example:
        >>> block = TransformerBlock(8, 2, 16)
        >>> block.eval()(torch.randn(3, 5, 8)).shape
        torch.Size([3, 5, 8])
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1, attention_dropout: float = 0.1,
                 drop_path: float = 0.0, norm_first: bool = True) -> None:
        super().__init__()
        d_model, n_heads = _check_heads(d_model, n_heads)
        d_ff = check_int("d_ff", d_ff, minimum=1)
        dropout = check_probability("dropout", dropout)
        attention_dropout = check_probability("attention_dropout", attention_dropout)
        drop_path = check_probability("drop_path", drop_path)
        self.norm_first = check_bool("norm_first", norm_first)
        _check_size("d_model and d_ff", _block_parameters(d_model, d_ff))
        # registered in the order data meets them, so dropout_sites lists them in that order
        self.norm_attention = nn.LayerNorm(d_model)
        self.attention = SelfAttention(d_model, n_heads, attention_dropout)
        self.dropout_attention = nn.Dropout(dropout)
        self.drop_path_attention = DropPath(drop_path)
        self.norm_feed_forward = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.dropout_feed_forward = nn.Dropout(dropout)
        self.drop_path_feed_forward = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d_model = self.attention.d_model
        x = _check_input(x, f"(N, T, {d_model})", (None, None, d_model), self.attention.query.weight.dtype)
        with _overflow_named("x and the block's weights", x.dtype):
            return check_finite_result(self._forward(x), "x and the block's weights")

    def _attention_branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path_attention(self.dropout_attention(self.attention._attend(x)[0]))

    def _feed_forward_branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path_feed_forward(self.dropout_feed_forward(self.feed_forward(x)))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            x = x + self._attention_branch(self.norm_attention(x))
            return x + self._feed_forward_branch(self.norm_feed_forward(x))
        x = self.norm_attention(x + self._attention_branch(x))
        return self.norm_feed_forward(x + self._feed_forward_branch(x))

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


# --- the classifier ------------------------------------------------------------------------------


class TransformerClassifier(nn.Module):
    r"""A small Transformer encoder for rows of ``length`` scalars (e.g. MNIST-1D), with NumPy-seeded weights.

    .. math::
        z_0 = \mathrm{Dropout}(x\, w_e^\top + b_e + P), \quad
        z_l = \mathrm{Block}_l(z_{l-1}), \quad
        \text{logits} = \Big(\tfrac1T \textstyle\sum_t \mathrm{LN}(z_L)_t\Big) W_h + b_h,

    where each value :math:`x_t` is embedded by ``value_embedding = Linear(1, d_model)``,
    :math:`P \in \mathbb R^{\text{length} \times d}` is the learned positional embedding
    (``position_embedding.weight``), the ``depth`` pre-LN :class:`TransformerBlock` s have drop-path
    rates ``drop_path_rates(depth, drop_path)`` (linear in depth, the last block at ``drop_path``),
    and the head is ``Linear(d_model, n_classes)`` on the mean over positions of the final
    LayerNorm's output.

    Dropout sites (see :func:`dropout_sites`): ``embedding_dropout`` on embeddings + positions,
    and in every block ``attention_dropout`` on the attention probabilities, ``dropout`` on each
    sub-layer's output before the residual add, and drop path. None on the head. Vaswani et al.
    (2017) use 0.1 for the first three, the defaults here.

    Initialisation: every ``nn.Linear`` from :func:`course_lib.models.init_uniform_` with
    ``seed``; the positional embedding from :math:`\mathcal N(0, 0.02^2)`
    (:data:`POSITION_INIT_STD`) drawn by ``np.random.default_rng([seed, 1])``; LayerNorms at
    weight 1 and bias 0. The same seed gives the same weights on every machine.

    Args:
        length: positions per row (int >= 1).
        n_classes: outputs (int >= 1).
        d_model, n_heads, d_ff, depth: width, heads (dividing ``d_model``), feed-forward width and
            number of blocks (ints >= 1).
        dropout, attention_dropout, embedding_dropout: rates in [0, 1).
        drop_path: the last block's drop-path rate, in [0, 1).
        seed: seed of the NumPy initialisation (int >= 0).

    Shape:
        - Input: ``(N, length)``, the model's dtype (float32 unless converted). Output: ``(N, n_classes)`` logits.

    Example:
        >>> model = TransformerClassifier(40, 10)
        >>> model.eval()(torch.zeros(3, 40)).shape
        torch.Size([3, 10])
        >>> [kind for _, kind, _ in dropout_sites(model)][:4]
        ['embeddings + positions', 'attention probabilities', 'residual (attention)', 'drop path']
    """

    def __init__(self, length: int, n_classes: int, d_model: int = 32, n_heads: int = 4, d_ff: int = 64, depth: int = 2,
                 dropout: float = 0.1, attention_dropout: float = 0.1, embedding_dropout: float = 0.1,
                 drop_path: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        length = check_int("length", length, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=1)
        d_model, n_heads = _check_heads(d_model, n_heads)
        d_ff = check_int("d_ff", d_ff, minimum=1)
        depth = check_int("depth", depth, minimum=1)
        for name, rate in (("dropout", dropout), ("attention_dropout", attention_dropout),
                           ("embedding_dropout", embedding_dropout), ("drop_path", drop_path)):
            check_probability(name, rate)
        seed = check_int("seed", seed, minimum=0)
        count = (depth * _block_parameters(d_model, d_ff) + (length + 2) * d_model + 2 * d_model
                 + (d_model + 1) * n_classes)
        _check_size("length, n_classes, d_model, d_ff and depth", count)
        self.length = length
        self.value_embedding = nn.Linear(1, d_model)
        self.position_embedding = nn.Embedding(length, d_model)  # an embedding table: not decayed by param_groups
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, n_heads, d_ff, dropout, attention_dropout, rate, norm_first=True)
            for rate in drop_path_rates(depth, drop_path)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_classes)
        init_uniform_(self, seed)
        positions = np.random.default_rng([seed, 1]).normal(0.0, POSITION_INIT_STD, (length, d_model))
        with torch.no_grad():
            self.position_embedding.weight.copy_(torch.from_numpy(positions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_input(x, f"(N, {self.length})", (None, self.length), self.head.weight.dtype)
        z = self.value_embedding(x.unsqueeze(-1)) + self.position_embedding.weight
        with _overflow_named("x and the model's weights", x.dtype):
            z = self.embedding_dropout(z)
            for block in self.blocks:
                z = block._forward(z)
            logits = self.head(self.norm(z).mean(dim=1))
            return check_finite_result(logits, "x and the model's weights")

    def extra_repr(self) -> str:
        return f"length={self.length}"


# --- where the dropout sits ----------------------------------------------------------------------

_SITES: dict[type, tuple[tuple[str, str], ...]] = {
    TransformerClassifier: (("embedding_dropout", "embeddings + positions"),),
    SelfAttention: (("dropout", "attention probabilities"),),
    TransformerBlock: (
        ("dropout_attention", "residual (attention)"),
        ("drop_path_attention", "drop path"),
        ("dropout_feed_forward", "residual (feed-forward)"),
        ("drop_path_feed_forward", "drop path"),
    ),
}


def dropout_sites(model: nn.Module) -> list[tuple[str, str, float]]:
    """Every dropout site of ``model`` as ``(module name, kind, rate)``, in the order data meets them.

    ``module name`` is the site's name in ``model.named_modules()`` (so ``model.get_submodule(name)``
    is the ``nn.Dropout`` or :class:`~course_lib.variants.DropPath`), ``kind`` one of
    :data:`DROPOUT_KINDS`, ``rate`` its ``p``. Sites of the modules of this file get their kind
    ("embeddings + positions", "attention probabilities", "residual (attention)",
    "residual (feed-forward)", "drop path"); any other dropout module in ``model`` (an
    ``nn.Dropout*``, ``nn.AlphaDropout``, a ``DropPath``) is listed as "other", so the list
    accounts for every dropout of the model. Sites at rate 0 are listed too.

    Example:
        >>> block = TransformerBlock(8, 2, 16, dropout=0.1, attention_dropout=0.2)
        >>> for site in dropout_sites(block):
        ...     print(site)
        ('attention.dropout', 'attention probabilities', 0.2)
        ('dropout_attention', 'residual (attention)', 0.1)
        ('drop_path_attention', 'drop path', 0.0)
        ('dropout_feed_forward', 'residual (feed-forward)', 0.1)
        ('drop_path_feed_forward', 'drop path', 0.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe_value(model)}")
    kinds: dict[str, str] = {}
    for name, module in model.named_modules():
        for owner, sites in _SITES.items():
            if not isinstance(module, owner):
                continue
            for attribute, kind in sites:
                kinds[f"{name}.{attribute}" if name else attribute] = kind
    return [
        (name, kinds.get(name, "other"), float(module.p))
        for name, module in model.named_modules()
        if isinstance(module, (nn.modules.dropout._DropoutNd, DropPath))
    ]

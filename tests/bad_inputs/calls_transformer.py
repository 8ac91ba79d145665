"""Valid calls of course_lib.transformer.

The modules are checked in evaluation mode against references computed here from their parts:
``nn.MultiheadAttention`` with the same weights for :class:`SelfAttention`, the pre-LN formula for
:class:`TransformerBlock`, the embedding → blocks → LayerNorm → mean → head chain for
:class:`TransformerClassifier`. SelfAttention and TransformerBlock draw their initial weights from
torch, so they are built under ``torch.manual_seed(0)`` and equivalent arguments give the same
weights; the classifier is NumPy-seeded and its initial weights are re-drawn here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

from course_lib import transformer
from course_lib.variants import DropPath

from .runner import Case


def _seeded(build):
    """``build`` with torch's global generator seeded 0 (and restored after), so the weights repeat."""
    @functools.wraps(build)
    def built(*args, **kwargs):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return build(*args, **kwargs)

    return built


def _torch_attention(attention: transformer.SelfAttention) -> nn.MultiheadAttention:
    dtype = attention.query.weight.dtype
    mha = nn.MultiheadAttention(attention.d_model, attention.n_heads, batch_first=True).to(dtype).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([attention.query.weight, attention.key.weight, attention.value.weight]))
        mha.in_proj_bias.copy_(torch.cat([attention.query.bias, attention.key.bias, attention.value.bias]))
        mha.out_proj.weight.copy_(attention.output.weight)
        mha.out_proj.bias.copy_(attention.output.bias)
    return mha


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (actual.shape, expected.shape)
    torch.testing.assert_close(actual.detach(), expected.detach(), rtol=1e-5, atol=1e-5)


def _input(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _verify_attention(attention, kwargs) -> None:
    d_model, n_heads = int(kwargs["d_model"]), int(kwargs["n_heads"])
    assert isinstance(attention, transformer.SelfAttention) and d_model % n_heads == 0
    assert (attention.d_model, attention.n_heads) == (d_model, n_heads)
    assert attention.dropout.p == float(kwargs["attention_dropout"])
    x = torch.randn(2, 3, d_model)
    _close(attention.eval()(x), _torch_attention(attention)(x, x, x, need_weights=False)[0])


def _verify_attention_forward(result, kwargs) -> None:
    attention, x = kwargs["self"], _input(kwargs["x"])
    expected, weights = _torch_attention(attention)(x, x, x, need_weights=True, average_attn_weights=False)
    if kwargs.get("return_weights", False):
        out, returned = result
        _close(returned, weights)
    else:
        out = result
    _close(out, expected)


def _block_reference(block: transformer.TransformerBlock, x: torch.Tensor) -> torch.Tensor:
    if block.norm_first:
        h = x + block.attention(block.norm_attention(x))
        return h + block.feed_forward(block.norm_feed_forward(h))
    h = block.norm_attention(x + block.attention(x))
    return block.norm_feed_forward(h + block.feed_forward(h))


def _verify_block(block, kwargs) -> None:
    d_model, d_ff = int(kwargs["d_model"]), int(kwargs["d_ff"])
    assert isinstance(block, transformer.TransformerBlock) and block.norm_first == bool(kwargs["norm_first"])
    assert block.attention.n_heads == int(kwargs["n_heads"]) and block.attention.d_model == d_model
    assert [m.out_features for m in block.feed_forward if isinstance(m, nn.Linear)] == [d_ff, d_model]
    rates = {name: rate for name, _, rate in transformer.dropout_sites(block)}
    assert rates == {
        "attention.dropout": float(kwargs["attention_dropout"]),
        "dropout_attention": float(kwargs["dropout"]),
        "drop_path_attention": float(kwargs["drop_path"]),
        "dropout_feed_forward": float(kwargs["dropout"]),
        "drop_path_feed_forward": float(kwargs["drop_path"]),
    }
    x = torch.randn(2, 3, d_model)
    _close(block.eval()(x), _block_reference(block, x))


def _verify_block_forward(out, kwargs) -> None:
    _close(out, _block_reference(kwargs["self"], _input(kwargs["x"])))


def _classifier_reference(model: transformer.TransformerClassifier, x: torch.Tensor) -> torch.Tensor:
    z = model.value_embedding(x.unsqueeze(-1)) + model.position_embedding.weight
    for block in model.blocks:
        z = _block_reference(block, z)
    return model.head(model.norm(z).mean(dim=1))


def _verify_classifier(model, kwargs) -> None:
    length, n_classes, d_model = int(kwargs["length"]), int(kwargs["n_classes"]), int(kwargs["d_model"])
    depth, seed = int(kwargs["depth"]), int(kwargs["seed"])
    assert isinstance(model, transformer.TransformerClassifier) and len(model.blocks) == depth
    assert model.position_embedding.weight.shape == (length, d_model) and model.head.out_features == n_classes
    assert all(block.feed_forward[0].out_features == int(kwargs["d_ff"]) for block in model.blocks)
    drop_path = float(kwargs["drop_path"])
    expected_rates = {"embeddings + positions": {float(kwargs["embedding_dropout"])},
                      "attention probabilities": {float(kwargs["attention_dropout"])},
                      "residual (attention)": {float(kwargs["dropout"])},
                      "residual (feed-forward)": {float(kwargs["dropout"])},
                      "drop path": {drop_path * (i + 1) / depth for i in range(depth)}}
    seen: dict[str, set[float]] = {}
    for _, kind, rate in transformer.dropout_sites(model):
        seen.setdefault(kind, set()).add(rate)
    assert seen == expected_rates, seen
    bound = 1.0  # the value embedding has fan-in 1: U(-1, 1), the first draws of default_rng(seed)
    expected = np.random.default_rng(seed).uniform(-bound, bound, (d_model, 1)).astype(np.float32)
    np.testing.assert_array_equal(model.value_embedding.weight.detach().numpy(), expected)
    positions = np.random.default_rng([seed, 1]).normal(0.0, transformer.POSITION_INIT_STD, (length, d_model))
    np.testing.assert_array_equal(model.position_embedding.weight.detach().numpy(), positions.astype(np.float32))
    x = torch.randn(2, length)
    _close(model.eval()(x), _classifier_reference(model, x))


def _verify_classifier_forward(out, kwargs) -> None:
    _close(out, _classifier_reference(kwargs["self"], _input(kwargs["x"])))


def _verify_dropout_sites(sites, kwargs) -> None:
    model = kwargs["model"]
    dropout_modules = [(name, m) for name, m in model.named_modules()
                       if isinstance(m, (nn.modules.dropout._DropoutNd, DropPath))]
    assert [name for name, _ in dropout_modules] == [name for name, _, _ in sites]
    for (_, module), (_, kind, rate) in zip(dropout_modules, sites):
        assert kind in transformer.DROPOUT_KINDS and rate == module.p and isinstance(rate, float)
    if isinstance(model, transformer.TransformerClassifier):
        per_block = ["attention probabilities", "residual (attention)", "drop path",
                     "residual (feed-forward)", "drop path"]
        assert [kind for _, kind, _ in sites] == ["embeddings + positions"] + per_block * len(model.blocks)
    assert math.isfinite(sum(rate for _, _, rate in sites))


def _small_classifier() -> transformer.TransformerClassifier:
    return transformer.TransformerClassifier(6, 3, d_model=4, n_heads=2, d_ff=6, depth=2, drop_path=0.2)


CASES = [
    Case(
        "transformer.SelfAttention",
        _seeded(transformer.SelfAttention),
        lambda: dict(d_model=4, n_heads=2, attention_dropout=0.1),
        _verify_attention,
    ),
    Case(
        "transformer.SelfAttention.forward",
        transformer.SelfAttention.forward,
        lambda: dict(self=_seeded(transformer.SelfAttention)(4, 2, 0.1).eval(), x=torch.randn(2, 3, 4,
                     generator=torch.Generator().manual_seed(0)), return_weights=True),
        _verify_attention_forward,
        fixed={"self": "the layer whose method is called"},
    ),
    Case(
        "transformer.TransformerBlock",
        _seeded(transformer.TransformerBlock),
        lambda: dict(d_model=4, n_heads=2, d_ff=6, dropout=0.1, attention_dropout=0.1, drop_path=0.1, norm_first=True),
        _verify_block,
    ),
    Case(
        "transformer.TransformerBlock.forward",
        transformer.TransformerBlock.forward,
        lambda: dict(self=_seeded(transformer.TransformerBlock)(4, 2, 6).eval(),
                     x=torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))),
        _verify_block_forward,
        fixed={"self": "the block whose method is called"},
    ),
    Case(
        "transformer.TransformerClassifier",
        transformer.TransformerClassifier,
        lambda: dict(length=6, n_classes=3, d_model=4, n_heads=2, d_ff=6, depth=2, dropout=0.1, attention_dropout=0.1,
                     embedding_dropout=0.1, drop_path=0.1, seed=0),
        _verify_classifier,
    ),
    Case(
        "transformer.TransformerClassifier.forward",
        transformer.TransformerClassifier.forward,
        lambda: dict(self=_small_classifier().eval(), x=torch.randn(2, 6, generator=torch.Generator().manual_seed(0))),
        _verify_classifier_forward,
        fixed={"self": "the model whose method is called"},
    ),
    Case(
        "transformer.dropout_sites",
        transformer.dropout_sites,
        lambda: dict(model=_small_classifier()),
        _verify_dropout_sites,
    ),
]

"""Tests for the Transformer classifier and its dropout sites."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.optim import count_parameters, param_groups
from course_lib.transformer import (
    DROPOUT_KINDS,
    POSITION_INIT_STD,
    SelfAttention,
    TransformerBlock,
    TransformerClassifier,
    dropout_sites,
)
from course_lib.variants import DropPath

NEARLY_ONE = 0.999


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny matrices: one thread avoids the thread pool's overhead (and its stalls on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _x(*shape: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=shape)).to(dtype)


def _attention(d_model=8, n_heads=2, attention_dropout=0.0) -> SelfAttention:
    torch.manual_seed(0)
    return SelfAttention(d_model, n_heads, attention_dropout).double()


def _block(**kwargs) -> TransformerBlock:
    torch.manual_seed(0)
    settings = dict(d_model=8, n_heads=2, d_ff=16, dropout=0.0, attention_dropout=0.0, drop_path=0.0) | kwargs
    return TransformerBlock(**settings).double()


def _torch_attention(attention: SelfAttention, dropout: float = 0.0) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention`` holding the same weights as ``attention``."""
    mha = nn.MultiheadAttention(attention.d_model, attention.n_heads, dropout=dropout, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([attention.query.weight, attention.key.weight, attention.value.weight]))
        mha.in_proj_bias.copy_(torch.cat([attention.query.bias, attention.key.bias, attention.value.bias]))
        mha.out_proj.weight.copy_(attention.output.weight)
        mha.out_proj.bias.copy_(attention.output.bias)
    return mha


# --- SelfAttention -------------------------------------------------------------------------------


@pytest.mark.parametrize(("d_model", "n_heads"), [(8, 1), (8, 2), (12, 4)])
def test_attention_equals_torch_multihead_attention(d_model, n_heads):
    attention = _attention(d_model, n_heads, attention_dropout=0.3).eval()  # eval: the dropout is off
    mha = _torch_attention(attention, dropout=0.3).eval()
    x = _x(3, 7, d_model)
    out, weights = attention(x, return_weights=True)
    expected, expected_weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(weights, expected_weights, rtol=0, atol=1e-6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, n_heads, 7, dtype=torch.float64))
    # at rate 0 training mode is the same computation
    torch.testing.assert_close(_attention(d_model, n_heads).train()(x), expected, rtol=0, atol=1e-6)


def test_attention_dropout_drops_and_rescales_the_probabilities_that_weight_v():
    p = 0.5
    attention = _attention(attention_dropout=p)
    x = _x(4, 6, 8)
    probabilities = attention.eval()(x, return_weights=True)[1]
    torch.manual_seed(1)
    out, weights = attention.train()(x, return_weights=True)
    dropped = weights == 0
    assert 0.35 < dropped.double().mean().item() < 0.65
    torch.testing.assert_close(weights[~dropped], probabilities[~dropped] / (1 - p))
    # the returned matrices are the ones that weight the values
    v = attention.value(x).reshape(4, 6, 2, 4).transpose(1, 2)
    mixed = (weights @ v).transpose(1, 2).reshape(4, 6, 8)
    torch.testing.assert_close(out, attention.output(mixed))
    # a row of the dropped matrix no longer sums to one
    assert (weights.sum(-1) - 1).abs().max().item() > 0.1


def test_attention_dropout_at_nearly_one_leaves_only_the_output_bias():
    attention = _attention(attention_dropout=NEARLY_ONE).train()
    torch.manual_seed(0)
    out, weights = attention(_x(4, 6, 8), return_weights=True)
    assert (weights == 0).double().mean().item() > 0.99
    fully_dropped = (weights == 0).all(dim=-1).all(dim=1)  # (N, T): every head's row dropped
    assert fully_dropped.double().mean().item() > 0.9
    torch.testing.assert_close(out[fully_dropped], attention.output.bias.expand(int(fully_dropped.sum()), 8))


# --- TransformerBlock ----------------------------------------------------------------------------


def _pre_ln_reference(block: TransformerBlock, x: torch.Tensor, attention: bool = True, feed_forward: bool = True):
    """The pre-LN block in eval mode computed step by step, optionally without one branch."""
    h = x + (block.attention(block.norm_attention(x)) if attention else 0)
    return h + (block.feed_forward(block.norm_feed_forward(h)) if feed_forward else 0)


def test_block_pre_and_post_ln_follow_their_formulas():
    x = _x(3, 5, 8)
    pre = _block(norm_first=True).eval()
    torch.testing.assert_close(pre(x), _pre_ln_reference(pre, x))
    post = _block(norm_first=False).eval()
    h = post.norm_attention(x + post.attention(x))
    torch.testing.assert_close(post(x), post.norm_feed_forward(h + post.feed_forward(h)))
    assert [type(m) for m in pre.feed_forward] == [nn.Linear, nn.GELU, nn.Linear]  # no dropout inside the FFN


def test_residual_attention_dropout_removes_the_attention_branch_row_by_row():
    block = _block()
    block.dropout_attention.p = NEARLY_ONE
    x = _x(6, 5, 8)
    torch.manual_seed(0)
    out = block.train()(x)
    without_attention = _pre_ln_reference(block.eval(), x, attention=False)
    rows = torch.isclose(out, without_attention, rtol=1e-12, atol=0).all(dim=-1)
    assert rows.double().mean().item() > 0.9
    assert not torch.allclose(_pre_ln_reference(block, x), without_attention)  # the branch does matter


def test_residual_feed_forward_dropout_removes_the_feed_forward_branch():
    block = _block()
    block.dropout_feed_forward.p = NEARLY_ONE
    x = _x(6, 5, 8)
    torch.manual_seed(0)
    out = block.train()(x)
    without_ffn = _pre_ln_reference(block.eval(), x, feed_forward=False)
    entries = torch.isclose(out, without_ffn, rtol=1e-12, atol=0)
    assert entries.double().mean().item() > 0.99
    assert not torch.allclose(_pre_ln_reference(block, x), without_ffn)


def test_drop_path_drops_whole_branches_per_example():
    block = _block(drop_path=NEARLY_ONE)
    x = _x(20, 5, 8)
    torch.manual_seed(0)
    out = block.train()(x)
    unchanged = (out == x).flatten(1).all(dim=1)  # both branches of the example dropped
    assert unchanged.double().mean().item() > 0.9
    assert not torch.equal(block.eval()(x), x)


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_is_deterministic_in_eval_and_random_only_in_training(norm_first):
    block = _block(dropout=0.2, attention_dropout=0.2, drop_path=0.2, norm_first=norm_first)
    x = _x(4, 5, 8)
    block.eval()
    assert torch.equal(block(x), block(x))
    block.train()
    assert not torch.equal(block(x), block(x))
    quiet = _block(norm_first=norm_first).train()  # every rate 0: training mode is eval mode
    torch.testing.assert_close(quiet(x), quiet.eval()(x), rtol=0, atol=0)


# --- TransformerClassifier -----------------------------------------------------------------------


def _classifier(**kwargs) -> TransformerClassifier:
    settings = dict(length=10, n_classes=3, d_model=8, n_heads=2, d_ff=16, depth=2) | kwargs
    return TransformerClassifier(**settings)


def test_classifier_shapes_and_structure():
    model = _classifier(depth=3, drop_path=0.3)
    assert model.eval()(torch.zeros(5, 10)).shape == (5, 3)
    assert len(model.blocks) == 3 and all(block.norm_first for block in model.blocks)
    assert [block.drop_path_attention.p for block in model.blocks] == pytest.approx([0.1, 0.2, 0.3])
    assert model.position_embedding.weight.shape == (10, 8)
    assert model.value_embedding.in_features == 1 and model.head.out_features == 3


def test_classifier_forward_follows_its_formula():
    model = _classifier().double().eval()
    x = _x(4, 10)
    z = model.value_embedding(x.unsqueeze(-1)) + model.position_embedding.weight
    for block in model.blocks:
        z = block(z)
    torch.testing.assert_close(model(x), model.head(model.norm(z).mean(dim=1)))


def test_classifier_weights_come_from_numpy_and_repeat_with_the_seed():
    first, again, other = _classifier(seed=3), _classifier(seed=3), _classifier(seed=4)
    states = zip(first.state_dict().items(), again.state_dict().items(), other.state_dict().items())
    for (name, a), (_, b), (_, c) in states:
        assert torch.equal(a, b), name
        if "norm" not in name:
            assert not torch.equal(a, c), name
    expected = np.random.default_rng([3, 1]).normal(0.0, POSITION_INIT_STD, (10, 8)).astype(np.float32)
    np.testing.assert_array_equal(first.position_embedding.weight.detach().numpy(), expected)
    # the first linear layer in modules() order is the value embedding: U(-1, 1) from default_rng(seed)
    rng = np.random.default_rng(3)
    expected = rng.uniform(-1, 1, (8, 1)).astype(np.float32)
    np.testing.assert_array_equal(first.value_embedding.weight.detach().numpy(), expected)


def test_classifier_is_deterministic_in_eval_and_dropout_acts_only_in_training():
    model = _classifier(dropout=0.1, attention_dropout=0.1, embedding_dropout=0.1, drop_path=0.1)
    x = _x(6, 10, dtype=torch.float32)
    model.eval()
    assert torch.equal(model(x), model(x))
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))
        quiet = _classifier(dropout=0.0, attention_dropout=0.0, embedding_dropout=0.0)
        assert torch.equal(quiet.train()(x), quiet.eval()(x))


def test_dropout_sites_lists_every_site_with_kind_and_rate():
    model = _classifier(depth=2, dropout=0.1, attention_dropout=0.2, embedding_dropout=0.3, drop_path=0.4)
    sites = dropout_sites(model)
    assert sites == [
        ("embedding_dropout", "embeddings + positions", 0.3),
        ("blocks.0.attention.dropout", "attention probabilities", 0.2),
        ("blocks.0.dropout_attention", "residual (attention)", 0.1),
        ("blocks.0.drop_path_attention", "drop path", pytest.approx(0.2)),
        ("blocks.0.dropout_feed_forward", "residual (feed-forward)", 0.1),
        ("blocks.0.drop_path_feed_forward", "drop path", pytest.approx(0.2)),
        ("blocks.1.attention.dropout", "attention probabilities", 0.2),
        ("blocks.1.dropout_attention", "residual (attention)", 0.1),
        ("blocks.1.drop_path_attention", "drop path", pytest.approx(0.4)),
        ("blocks.1.dropout_feed_forward", "residual (feed-forward)", 0.1),
        ("blocks.1.drop_path_feed_forward", "drop path", pytest.approx(0.4)),
    ]
    dropout_modules = [m for m in model.modules() if isinstance(m, (nn.Dropout, DropPath))]
    assert len(dropout_modules) == len(sites)
    assert all(model.get_submodule(name).p == rate for name, _, rate in sites)
    assert {kind for _, kind, _ in sites} == set(DROPOUT_KINDS) - {"other"}
    other = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.AlphaDropout(0.25))
    assert dropout_sites(other) == [("1", "other", 0.5), ("2", "other", 0.25)]
    assert dropout_sites(nn.ReLU()) == []


@pytest.mark.parametrize("kind", [kind for kind in DROPOUT_KINDS if kind != "other"])
def test_each_dropout_site_acts_alone(kind):
    """Only the sites of one kind at 0.999: their outputs are (almost) all zero and the logits change."""
    model = _classifier(dropout=0.0, attention_dropout=0.0, embedding_dropout=0.0).double()
    x = _x(8, 10)
    reference = model.eval()(x)
    model.train()
    assert torch.equal(model(x), reference)  # every rate 0: nothing random yet
    outputs = []
    for name, site_kind, _ in dropout_sites(model):
        if site_kind == kind:
            site = model.get_submodule(name)
            site.p = NEARLY_ONE
            site.register_forward_hook(lambda module, args, out: outputs.append(out))
    torch.manual_seed(0)
    with torch.no_grad():
        trained = model(x)
    assert outputs
    zeros = torch.cat([(out == 0).reshape(-1) for out in outputs]).double().mean().item()
    assert zeros > 0.98, f"{kind}: only {zeros:.3f} of the site's outputs are zero"
    assert not torch.allclose(trained, reference), f"{kind}: dropping (almost) everything changed nothing"
    assert torch.equal(model.eval()(x), reference)  # evaluation ignores every rate


def test_param_groups_decay_linear_weights_only():
    length, n_classes, d, d_ff, depth = 10, 3, 8, 16, 2
    model = _classifier(length=length, n_classes=n_classes, d_model=d, d_ff=d_ff, depth=depth)
    decay, no_decay = param_groups(model, weight_decay=0.1)
    decayed = d * 1 + depth * (4 * d * d + 2 * d * d_ff) + d * n_classes  # value embedding, q k v o, FFN, head
    biases = d + depth * (4 * d + d_ff + d) + n_classes
    layer_norms = depth * 2 * (2 * d) + 2 * d
    positions = length * d
    assert count_parameters([decay, no_decay]) == (decayed, biases + layer_norms + positions)
    assert sum(p.numel() for p in model.parameters()) == decayed + biases + layer_norms + positions
    assert all(p.ndim == 2 for p in decay["params"])
    assert any(p is model.position_embedding.weight for p in no_decay["params"])
    names = {id(p): name for name, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in decay["params"]) == sorted(
        name for name, p in model.named_parameters() if name.endswith("weight") and p.ndim == 2
        and "position" not in name
    )
    # decay_embeddings=True moves the positional table into the decayed group
    assert count_parameters(param_groups(model, 0.1, decay_embeddings=True)) == (
        decayed + positions, biases + layer_norms)


def test_a_few_training_steps_reduce_the_loss():
    model = _classifier(seed=1, dropout=0.1, attention_dropout=0.1, embedding_dropout=0.1)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(24, 10)).astype(np.float32))
    y = torch.from_numpy((x[:, :5].sum(1) > x[:, 5:].sum(1)).long().numpy())
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    with torch.no_grad():
        before = loss_fn(model.eval()(x), y).item()
    torch.manual_seed(0)
    model.train()
    for _ in range(60):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        after = loss_fn(model.eval()(x), y).item()
    assert after < 0.5 * before, (before, after)


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "word"),
    [
        (lambda: SelfAttention(10, 4), ValueError, "divisible"),
        (lambda: SelfAttention(8, 0), ValueError, "n_heads"),
        (lambda: SelfAttention(8.0, 2), TypeError, "d_model"),
        (lambda: SelfAttention(8, 2, attention_dropout=1.0), ValueError, "attention_dropout"),
        (lambda: TransformerBlock(8, 2, 0), ValueError, "d_ff"),
        (lambda: TransformerBlock(8, 2, 16, dropout=-0.1), ValueError, "dropout"),
        (lambda: TransformerBlock(8, 2, 16, drop_path=1.5), ValueError, "drop_path"),
        (lambda: TransformerBlock(8, 2, 16, norm_first=1), TypeError, "norm_first"),
        (lambda: TransformerClassifier(0, 3), ValueError, "length"),
        (lambda: TransformerClassifier(10, 3, depth=0), ValueError, "depth"),
        (lambda: TransformerClassifier(10, 3, embedding_dropout=1.0), ValueError, "embedding_dropout"),
        (lambda: TransformerClassifier(10, 3, seed=-1), ValueError, "seed"),
        (lambda: TransformerClassifier(10**6, 3, d_model=1024, n_heads=1), ValueError, "MAX_PARAMETERS"),
        (lambda: dropout_sites("model"), TypeError, "model"),
    ],
)
def test_bad_arguments_are_named(build, error, word):
    with pytest.raises(error, match=word):
        build()


def test_bad_inputs_are_named():
    attention, model = _attention(), _classifier()
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 8\)"):
        attention(_x(2, 5, 6))
    with pytest.raises(TypeError, match="x must have the model's dtype torch.float64"):
        attention(_x(2, 5, 8, dtype=torch.float32))
    with pytest.raises(ValueError, match="x must be finite"):
        attention(torch.full((1, 2, 8), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 10\)"):
        model(torch.zeros(2, 11))
    with pytest.raises(TypeError, match="x must"):
        model(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="magnitudes of x"):
        model.eval()(torch.full((2, 10), 1e30))

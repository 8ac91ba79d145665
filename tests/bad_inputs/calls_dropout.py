"""Valid calls of course_lib.dropout.

p = 0.5 in the dropout calls: the survivor scale 1/(1 - p) = 2 is exact, so a float32 or float16
input (whose dtype dropout keeps) gives exactly the values of its float64 twin.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from course_lib import dropout

from .runner import Case

LD = np.longdouble  # references in extended precision: no overflow where float64 would


def _x() -> np.ndarray:
    return np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])


def _as_array(value) -> np.ndarray:
    return value.detach().double().numpy() if isinstance(value, torch.Tensor) else np.asarray(value, dtype=np.float64)


# --- forward / backward -------------------------------------------------------------------------


def _verify_forward(result, kwargs, *, scaled_at_inference: bool = False) -> None:
    out, mask = result
    x, p, training = np.asarray(kwargs["x"]), float(kwargs["p"]), kwargs.get("training", True)
    assert isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype.kind == "f"
    assert out is not kwargs["x"]
    x = x.astype(np.float64)
    if not training:
        assert mask is None
        np.testing.assert_allclose(out, x * (1 - p) if scaled_at_inference else x, rtol=1e-6)
        return
    if p == 0.0:
        assert mask is None
        np.testing.assert_allclose(out, x, rtol=1e-6)
        return
    assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == x.shape
    assert np.all(out[~mask] == 0)
    kept = x[mask] if scaled_at_inference else (x[mask].astype(LD) / (1 - LD(p))).astype(np.float64)
    np.testing.assert_allclose(out[mask], kept, rtol=1e-6)


def _verify_backward(grad, kwargs) -> None:
    g, mask, p = np.asarray(kwargs["grad_out"]).astype(np.float64), kwargs["mask"], float(kwargs["p"])
    assert isinstance(grad, np.ndarray) and grad.shape == g.shape and grad is not kwargs["grad_out"]
    expected = g if mask is None else np.where(mask, (g.astype(LD) / (1 - LD(p))).astype(np.float64), 0.0)
    np.testing.assert_allclose(grad.astype(np.float64), expected, rtol=1e-6)


def _verify_inverted(y, kwargs, x=None) -> None:
    x = kwargs["x"] if x is None else x
    p, training = float(kwargs.get("p", 0.5)), kwargs.get("training", True)
    assert isinstance(y, torch.Tensor) and y.shape == x.shape and y.dtype == x.dtype
    xd, yd = x.detach().double().numpy(), y.detach().double().numpy()
    if not training or p == 0.0:
        np.testing.assert_array_equal(yd, xd)
        return
    kept = yd != 0
    scaled = (xd.astype(LD) / (1 - LD(p))).astype(np.float64)
    np.testing.assert_allclose(yd[kept], scaled[kept], rtol=1e-2 if x.dtype in (torch.float16, torch.bfloat16) else 1e-6)


def _verify_module_forward(y, kwargs) -> None:
    module = kwargs["self"]
    _verify_inverted(y, {"x": kwargs["x"], "p": module.p, "training": module.training})


def _verify_module(module, kwargs) -> None:
    assert isinstance(module, dropout.InvertedDropout)
    assert module.p == float(kwargs.get("p", 0.5)) and module.generator is kwargs.get("generator")


# --- masks and probabilities --------------------------------------------------------------------


def _verify_all_keep_masks(masks, kwargs) -> None:
    n = int(kwargs["n"])
    expected = np.array([[(k >> (n - 1 - j)) & 1 for j in range(n)] for k in range(2**n)], dtype=bool)
    assert masks.dtype == np.bool_
    np.testing.assert_array_equal(masks, expected)


def _verify_keep_mask_probabilities(probabilities, kwargs) -> None:
    masks, p = kwargs["masks"], LD(kwargs["p"])
    kept = masks.sum(axis=1).astype(LD)
    expected = (1 - p) ** kept * p ** (masks.shape[1] - kept)
    assert probabilities.shape == (masks.shape[0],)
    np.testing.assert_allclose(probabilities.astype(LD), expected, rtol=1e-12, atol=1e-300)


# --- the regression view ------------------------------------------------------------------------


def _regression_data() -> dict:
    return dict(X=np.array([[1.0, 0.5], [0.2, 1.5], [-1.0, 2.0], [0.3, -0.7]]), y=np.array([1.0, -0.5, 2.0, 0.25]))


def _verify_penalty(penalty, kwargs) -> None:
    X, w, p = _as_array(kwargs["X"]).astype(LD), _as_array(kwargs["w"]).astype(LD), LD(kwargs["p"])
    expected = p / (1 - p) * np.sum(w**2 * np.sum(X**2, axis=0))
    assert isinstance(penalty, float) and penalty >= 0
    assert np.isclose(LD(penalty), expected, rtol=1e-9, atol=1e-300), (penalty, expected)


def _verify_regression_weights(w, kwargs) -> None:
    X, y, p = _as_array(kwargs["X"]), _as_array(kwargs["y"]), float(kwargs["p"])
    sx, sy = np.abs(X).max(), np.abs(y).max()
    assert w.shape == (X.shape[1],)
    if sy == 0:
        assert np.all(w == 0)
        return
    Xs, ys = X / sx, y / sy
    # The ridge-like problem as an augmented least-squares problem, solved by SVD (not by the normal equations).
    augmented = np.vstack([Xs, np.diag(np.sqrt(p / (1 - p)) * np.linalg.norm(Xs, axis=0))])
    reference = np.linalg.lstsq(augmented, np.concatenate([ys, np.zeros(X.shape[1])]), rcond=None)[0]
    np.testing.assert_allclose(w.astype(LD) * LD(sx) / LD(sy), reference, rtol=1e-6, atol=1e-9 * np.abs(reference).max())


def _verify_losses(losses, kwargs) -> None:
    X, y, w = (_as_array(kwargs[name]).astype(LD) for name in "Xyw")
    p, n = float(kwargs["p"]), int(kwargs["n_samples"])
    assert losses.shape == (n,) and np.all(losses >= 0)
    if p == 0.0:
        np.testing.assert_allclose(losses.astype(LD), np.sum((y - X @ w) ** 2), rtol=1e-9, atol=1e-300)
        return
    # Every loss is ||y - (m * X / (1 - p)) w||^2 for one of the 2**X.size masks m (X is small here).
    masks = np.array(list(itertools.product([0, 1], repeat=X.size)), dtype=LD).reshape((-1, *X.shape))
    candidates = np.sum((y - (masks * X / (1 - LD(p))) @ w) ** 2, axis=1)
    for loss in losses.astype(LD):
        assert np.any(np.isclose(candidates, loss, rtol=1e-9, atol=1e-300)), loss


# --- softmax and the ensemble -------------------------------------------------------------------


def _reference_log_softmax(z, axis):
    z = _as_array(z).astype(LD)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _verify_softmax(probabilities, kwargs) -> None:
    axis = int(kwargs.get("axis", -1))
    expected = np.exp(_reference_log_softmax(kwargs["logits"], axis))
    assert probabilities.shape == np.shape(expected) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.astype(LD), expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1.0, rtol=1e-12)


def _verify_log_softmax(log_probabilities, kwargs) -> None:
    expected = _reference_log_softmax(kwargs["logits"], int(kwargs.get("axis", -1)))
    assert log_probabilities.shape == np.shape(expected)
    # -inf exactly where a logit is -inf (probability 0); no NaN and no +inf anywhere.
    assert not np.isnan(log_probabilities).any() and not (log_probabilities == np.inf).any()
    assert np.array_equal(np.isneginf(log_probabilities), np.isneginf(_as_array(kwargs["logits"])))
    np.testing.assert_allclose(log_probabilities.astype(LD), expected, rtol=1e-9, atol=1e-12)


def _verify_geometric_mean(G, kwargs) -> None:
    lp, weights = _as_array(kwargs["log_probabilities"]).astype(LD), _as_array(kwargs["weights"]).astype(LD)
    used = weights > 0
    expected = np.exp(_reference_log_softmax(np.tensordot(weights[used], lp[used], axes=1), -1))
    assert G.shape == lp.shape[1:]
    np.testing.assert_allclose(G.astype(LD), expected, rtol=1e-9, atol=1e-15)


def _ensemble_fields() -> dict:
    members = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    return dict(
        masks=np.array([[False], [True]]),
        mask_probabilities=np.array([0.5, 0.5]),
        member_probabilities=members,
        arithmetic_mean=members.mean(axis=0),
        geometric_mean=np.array([0.4, 0.35, 0.25]),
        eval_output=np.array([0.5, 0.3, 0.2]),
    )


def _verify_record(record, kwargs) -> None:
    for name, value in kwargs.items():
        stored = getattr(record, name)
        if isinstance(value, np.ndarray) and value.dtype == np.bool_:
            assert stored.dtype == np.bool_ and np.array_equal(stored, value), name
        elif isinstance(stored, np.ndarray):
            assert stored.dtype.kind == "f", name
            np.testing.assert_array_equal(stored, _as_array(value), err_msg=name)
        else:
            assert type(stored) in (bool, int, float) and stored == value, name


def _layers() -> list:
    return [
        (np.array([[1.0, -0.5], [0.3, 0.8], [-1.2, 0.4]]), np.array([0.1, -0.2, 0.0])),
        (np.array([[0.7, -1.0, 0.5], [-0.3, 0.6, 1.1]]), np.array([0.0, 0.2])),
    ]


def _verify_ensemble(ensemble, kwargs) -> None:
    x, layers, p = np.asarray(kwargs["x"], dtype=LD), kwargs["layers"], LD(kwargs["p"])
    dropout_on = sorted(int(i) for i in kwargs.get("dropout_on", (0,)))
    activation = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[kwargs.get("activation", "relu")]
    widths = [layers[i][0].shape[1] for i in dropout_on]
    batch = x if x.ndim == 2 else x[None]

    def logits(mask):
        a, offset = batch, 0
        for i, (W, b) in enumerate(layers):
            if i in dropout_on:
                a = a * (np.asarray(mask[offset : offset + W.shape[1]], dtype=LD) / (1 - p))
                offset += W.shape[1]
            a = a @ W.T.astype(LD) + b.astype(LD)
            if i < len(layers) - 1:
                a = activation(a)
        return a

    masks = list(itertools.product([False, True], repeat=sum(widths)))
    weights = np.array([(1 - p) ** sum(m) * p ** (len(m) - sum(m)) for m in masks])
    log_members = np.stack([_reference_log_softmax(logits(m), -1) for m in masks])
    eval_logits = logits([1 - p] * sum(widths))  # inverted dropout at inference: every unit, no scaling
    squeeze = (lambda a: a[:, 0]) if x.ndim == 1 else (lambda a: a)
    np.testing.assert_array_equal(ensemble.masks, np.array(masks, dtype=bool))
    np.testing.assert_allclose(ensemble.mask_probabilities.astype(LD), weights, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ensemble.member_probabilities.astype(LD), squeeze(np.exp(log_members)), rtol=1e-7, atol=1e-12)
    arithmetic = np.tensordot(weights, np.exp(log_members), axes=1)
    used = weights > 0
    geometric = np.exp(_reference_log_softmax(np.tensordot(weights[used], log_members[used], axes=1), -1))
    evaluated = np.exp(_reference_log_softmax(eval_logits, -1))
    for name, expected in (("arithmetic_mean", arithmetic), ("geometric_mean", geometric), ("eval_output", evaluated)):
        expected = expected[0] if x.ndim == 1 else expected
        np.testing.assert_allclose(getattr(ensemble, name).astype(LD), expected, rtol=1e-7, atol=1e-12, err_msg=name)


def _verify_running_mean(result, kwargs) -> None:
    mean, se = result
    samples = _as_array(kwargs["samples"]).astype(LD)
    # The first standard error is NaN (one sample has no spread); everything else is finite.
    assert np.isfinite(mean).all() and np.isnan(se[0]).all() and np.isfinite(se[1:]).all()
    count = np.arange(1, samples.shape[0] + 1, dtype=LD).reshape((-1,) + (1,) * (samples.ndim - 1))
    np.testing.assert_allclose(mean.astype(LD), np.cumsum(samples, axis=0) / count, rtol=1e-9, atol=1e-12 * np.abs(samples).max())
    for k in range(2, samples.shape[0] + 1):
        expected = np.std(samples[:k], axis=0, ddof=1) / np.sqrt(LD(k))
        np.testing.assert_allclose(se[k - 1].astype(LD), expected, rtol=1e-6, atol=1e-9 * np.abs(samples).max())


# --- the drawn network --------------------------------------------------------------------------

SIZES = (3, 4, 2)


def _uniforms() -> tuple:
    rng = np.random.default_rng(5)
    return tuple(rng.random(n) for n in SIZES)


def _verify_uniforms(uniforms, kwargs) -> None:
    sizes = [int(n) for n in kwargs["layer_sizes"]]
    assert isinstance(uniforms, tuple) and [u.shape for u in uniforms] == [(n,) for n in sizes]
    assert all(np.all((0 <= u) & (u < 1)) for u in uniforms)


def _droppable(n_layers: int, drop_inputs: bool) -> list[bool]:
    return [drop_inputs if i == 0 else i < n_layers - 1 for i in range(n_layers)]


def _verify_keep_masks(masks, kwargs) -> None:
    sizes, p = [int(n) for n in kwargs["layer_sizes"]], float(kwargs["p"])
    training, drop_inputs = kwargs.get("training", True), kwargs.get("drop_inputs", False)
    assert len(masks) == len(sizes)
    for mask, u, can_drop in zip(masks, kwargs["uniforms"], _droppable(len(sizes), drop_inputs)):
        expected = np.asarray(u) >= p if (training and can_drop) else np.ones(len(u), dtype=bool)
        assert mask.dtype == np.bool_ and np.array_equal(mask, expected)


def _masks() -> tuple:
    return (np.array([True, False, True]), np.array([False, True, True, False]), np.array([True, True]))


def _statistics_fields() -> dict:
    return dict(
        training=True, p=0.5, units=9, droppable_units=4, dropped_units=3,
        connections=20, active_connections=8, keep_probability=0.5, survivor_scale=2.0,
    )


def _verify_network_statistics(stats, kwargs) -> None:
    sizes, p, training = [int(n) for n in kwargs["layer_sizes"]], float(kwargs["p"]), kwargs["training"]
    kept = [int(np.sum(m)) for m in kwargs["masks"]]
    droppable = _droppable(len(sizes), kwargs.get("drop_inputs", False))
    assert isinstance(stats, dropout.NetworkStatistics)
    assert stats.training == training and stats.p == p and stats.units == sum(sizes)
    assert stats.droppable_units == sum(n for n, d in zip(sizes, droppable) if d)
    assert stats.dropped_units == sum(sizes) - sum(kept)
    assert stats.connections == sum(a * b for a, b in zip(sizes, sizes[1:]))
    assert stats.active_connections == sum(a * b for a, b in zip(kept, kept[1:]))
    assert stats.keep_probability == (1 - p if training else 1.0)
    assert np.isclose(stats.survivor_scale, 1 / (1 - p) if training else 1.0, rtol=1e-12)


def _verify_expected_connections(value, kwargs) -> None:
    sizes, p = [int(n) for n in kwargs["layer_sizes"]], float(kwargs["p"])
    training, drop_inputs = kwargs.get("training", True), kwargs.get("drop_inputs", False)
    q = [1 - p if (training and d) else 1.0 for d in _droppable(len(sizes), drop_inputs)]
    expected = sum(a * b * qa * qb for a, b, qa, qb in zip(sizes, sizes[1:], q, q[1:]))
    assert isinstance(value, float) and np.isclose(value, expected, rtol=1e-12, atol=0)


def _network_fields() -> dict:
    rng = np.random.default_rng(2)
    return dict(x=rng.standard_normal(3), W1=rng.standard_normal((4, 3)), b1=np.full(4, 0.1), W2=rng.standard_normal((2, 4)), b2=np.zeros(2))


def _network() -> dropout.TinyNetwork:
    return dropout.TinyNetwork(**_network_fields())


def _verify_tiny_network(network, kwargs) -> None:
    seed, inputs = kwargs.get("seed", 0), kwargs.get("inputs", 5)
    hidden, outputs = kwargs.get("hidden", 16), kwargs.get("outputs", 3)
    rng = np.random.default_rng(seed)
    expected = dict(
        x=rng.standard_normal(inputs),
        W1=rng.standard_normal((hidden, inputs)) / np.sqrt(inputs),
        b1=np.full(hidden, 0.1),
        W2=rng.standard_normal((outputs, hidden)) / np.sqrt(hidden),
        b2=np.zeros(outputs),
    )
    for name, value in expected.items():
        np.testing.assert_array_equal(getattr(network, name), value, err_msg=name)


def _hidden(network) -> np.ndarray:
    return np.maximum(network.W1.astype(LD) @ network.x + network.b1, 0)


def _verify_eval_output(y, kwargs) -> None:
    network = kwargs["network"]
    expected = network.W2.astype(LD) @ _hidden(network) + network.b2
    np.testing.assert_allclose(y.astype(LD), expected, rtol=1e-9, atol=1e-12)


def _verify_training_outputs(outputs, kwargs) -> None:
    network, p, n = kwargs["network"], float(kwargs["p"]), int(kwargs["n_passes"])
    hidden = _hidden(network)
    assert outputs.shape == (n, network.W2.shape[0])
    if p == 0.0:
        np.testing.assert_allclose(outputs.astype(LD), np.tile(network.W2 @ hidden + network.b2, (n, 1)), rtol=1e-9, atol=1e-12)
        return
    # Each pass is W2 (m * h / (1 - p)) + b2 for one of the 2**hidden keep masks m.
    masks = np.array(list(itertools.product([0, 1], repeat=hidden.size)), dtype=LD)
    candidates = (masks * hidden / (1 - LD(p))) @ network.W2.T.astype(LD) + network.b2
    for row in outputs.astype(LD):
        assert np.any(np.all(np.isclose(candidates, row, rtol=1e-9, atol=1e-12), axis=1)), row


CASES = [
    Case("dropout.dropout_forward", dropout.dropout_forward,
         lambda: dict(x=_x(), p=0.5, training=True, rng=np.random.default_rng(0)), _verify_forward),
    Case("dropout.dropout_backward", dropout.dropout_backward,
         lambda: dict(grad_out=_x(), mask=np.array([[True, False, True], [False, True, True]]), p=0.5), _verify_backward),
    Case("dropout.scaled_inference_dropout_forward", dropout.scaled_inference_dropout_forward,
         lambda: dict(x=_x(), p=0.5, training=True, rng=np.random.default_rng(0)),
         lambda result, kwargs: _verify_forward(result, kwargs, scaled_at_inference=True)),
    Case("dropout.inverted_dropout", dropout.inverted_dropout,
         lambda: dict(x=torch.tensor(_x(), dtype=torch.float32), p=0.5, training=True, generator=np.random.default_rng(0)),
         _verify_inverted),
    Case("dropout.InvertedDropout", dropout.InvertedDropout,
         lambda: dict(p=0.5, generator=np.random.default_rng(0)), _verify_module),
    Case("dropout.InvertedDropout.forward", dropout.InvertedDropout.forward,
         lambda: dict(self=dropout.InvertedDropout(0.5, generator=np.random.default_rng(0)), x=torch.tensor(_x(), dtype=torch.float32)),
         _verify_module_forward, fixed={"self": "the module whose forward is called"}),
    Case("dropout.all_keep_masks", dropout.all_keep_masks, lambda: dict(n=3), _verify_all_keep_masks),
    Case("dropout.keep_mask_probabilities", dropout.keep_mask_probabilities,
         lambda: dict(masks=np.array([[False, False], [False, True], [True, False], [True, True]]), p=0.25),
         _verify_keep_mask_probabilities),
    Case("dropout.dropout_penalty", dropout.dropout_penalty,
         lambda: dict(X=_regression_data()["X"], w=np.array([0.5, -1.5]), p=0.3), _verify_penalty),
    Case("dropout.dropout_regression_weights", dropout.dropout_regression_weights,
         lambda: dict(**_regression_data(), p=0.3), _verify_regression_weights),
    Case("dropout.softmax", dropout.softmax, lambda: dict(logits=_x(), axis=-1), _verify_softmax),
    Case("dropout.log_softmax", dropout.log_softmax, lambda: dict(logits=_x(), axis=-1), _verify_log_softmax,
         non_finite="a logit of -inf has log-probability -inf"),
    Case("dropout.normalized_geometric_mean", dropout.normalized_geometric_mean,
         lambda: dict(log_probabilities=np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])), weights=np.array([0.25, 0.75])),
         _verify_geometric_mean),
    Case("dropout.DropoutEnsemble", dropout.DropoutEnsemble, _ensemble_fields, _verify_record),
    Case("dropout.dropout_ensemble", dropout.dropout_ensemble,
         lambda: dict(x=np.array([0.5, -1.0]), layers=_layers(), p=0.5, dropout_on=(0,), activation="relu"), _verify_ensemble),
    Case("dropout.running_mean_with_standard_error", dropout.running_mean_with_standard_error,
         lambda: dict(samples=np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0], [2.0, 2.5]])), _verify_running_mean,
         non_finite="the standard error after one sample is NaN: one sample has no spread"),
    Case("dropout.sample_dropout_regression_losses", dropout.sample_dropout_regression_losses,
         lambda: dict(**_regression_data(), w=np.array([0.5, -1.5]), p=0.5, n_samples=5, rng=np.random.default_rng(0)),
         _verify_losses),
    Case("dropout.draw_unit_uniforms", dropout.draw_unit_uniforms,
         lambda: dict(layer_sizes=SIZES, rng=np.random.default_rng(0)), _verify_uniforms),
    Case("dropout.keep_masks", dropout.keep_masks,
         lambda: dict(layer_sizes=SIZES, uniforms=_uniforms(), p=0.5, training=True, drop_inputs=False), _verify_keep_masks),
    Case("dropout.NetworkStatistics", dropout.NetworkStatistics, _statistics_fields, _verify_record),
    Case("dropout.network_statistics", dropout.network_statistics,
         lambda: dict(layer_sizes=SIZES, masks=_masks(), p=0.5, training=True, drop_inputs=False), _verify_network_statistics),
    Case("dropout.expected_active_connections", dropout.expected_active_connections,
         lambda: dict(layer_sizes=SIZES, p=0.5, training=True, drop_inputs=False), _verify_expected_connections),
    Case("dropout.TinyNetwork", dropout.TinyNetwork, _network_fields, _verify_record),
    Case("dropout.tiny_network", dropout.tiny_network, lambda: dict(seed=0, inputs=3, hidden=4, outputs=2), _verify_tiny_network),
    Case("dropout.eval_mode_output", dropout.eval_mode_output, lambda: dict(network=_network()), _verify_eval_output),
    Case("dropout.training_mode_outputs", dropout.training_mode_outputs,
         lambda: dict(network=_network(), p=0.5, n_passes=6, rng=np.random.default_rng(0)), _verify_training_outputs),
]

"""Valid calls of course_lib.variants.

Every call draws from a ``torch.Generator`` seeded 0 (built afresh by each ``valid()``), so an
equivalent argument (``np.float64(0.5)`` for ``0.5``, a float16 input for its float32 twin, which
the module computes in float32) must give the very same output. p = 0.5: the survivor factor
1/(1 - p) = 2 is exact in every floating dtype.

The checks rebuild the structure from the output alone: zero where dropped, and elsewhere the input
times one common scale (1/(1 - p), or numel / count_kept for DropBlock); whole channels, whole
examples, masks constant over time, dropped regions that are unions of whole blocks; for
DropConnect every output is one of the 2**in sums over kept weights; for alpha dropout every output
is a x + b (kept) or a alpha' + b (dropped), with a and b derived here from torch's SELU.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

from course_lib import variants

from .runner import Case

P = 0.5


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _float(x: torch.Tensor) -> torch.Tensor:
    """The input as the module computes it: float16/bfloat16 in float32."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _tol(dtype: torch.dtype) -> float:
    """rtol, for values compared in float64, of a result computed in ``dtype``."""
    return 1e-12 if dtype == torch.float64 else 1e-6


def _check_output(y, kwargs) -> tuple[torch.Tensor, torch.Tensor, float] | None:
    """(x, y, rtol): x and y detached in float64 after the shape and dtype checks, and the rtol of the dtype they
    were computed in; None when the call must be the identity."""
    x = _float(kwargs["x"])
    assert isinstance(y, torch.Tensor) and y.shape == x.shape and y.dtype == x.dtype, (y.shape, y.dtype)
    p, training = float(kwargs.get("p", P)), kwargs.get("training", True)
    if not training or p == 0.0:
        assert torch.equal(y, x)
        return None
    return x.detach().double(), y.detach().double(), _tol(x.dtype)


def _assert_groups(x: torch.Tensor, y: torch.Tensor, rtol: float, groups: torch.Tensor, scale: float | None) -> None:
    """Within each group (a boolean mask over the entries) the output is all zero or all ``scale * x``."""
    ratio = None
    for group in groups:
        xs, ys = x[group], y[group]
        if bool((ys == 0).all()):
            continue
        if scale is None:  # one common scale, read off the first kept nonzero entry
            nonzero = xs != 0
            if ratio is None and bool(nonzero.any()):
                ratio = (ys[nonzero][0] / xs[nonzero][0]).item()
            expected = xs * (ratio if ratio is not None else 1.0)
        else:
            expected = xs * scale
        torch.testing.assert_close(ys, expected, rtol=rtol, atol=0)


def _channel_groups(shape: tuple[int, ...], group_dims: int) -> torch.Tensor:
    """One boolean mask per index of the first ``group_dims`` dimensions."""
    lead = shape[:group_dims]
    masks = torch.zeros((math.prod(lead), *shape), dtype=torch.bool)
    for k, index in enumerate(itertools.product(*map(range, lead))):
        masks[(k, *index)] = True
    return masks


def _verify_spatial(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is not None:
        x, y, rtol = checked
        _assert_groups(x, y, rtol, _channel_groups(tuple(x.shape), 2), 1 / (1 - float(kwargs["p"])))


def _verify_drop_path(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is not None:
        x, y, rtol = checked
        _assert_groups(x, y, rtol, _channel_groups(tuple(x.shape), 1), 1 / (1 - float(kwargs["p"])))


def _verify_locked(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is None:
        return
    x, y, rtol = checked
    batch_first = bool(kwargs.get("batch_first", False))
    # group (n, h) over all time steps: move time to the last axis, one group per (n, h)
    order = (0, 2, 1) if batch_first else (1, 2, 0)
    xt, yt = x.permute(order), y.permute(order)
    _assert_groups(xt, yt, rtol, _channel_groups(tuple(xt.shape), 2), 1 / (1 - float(kwargs["p"])))


def _verify_drop_block(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is None:
        return
    x, y, rtol = checked
    bs, dims = int(kwargs["block_size"]), x.ndim - 2
    assert bool((y[x == 0] == 0).all())
    survivors = y != 0
    if bool(survivors.any()):  # one scale for every survivor
        ratios = y[survivors] / x[survivors]
        torch.testing.assert_close(ratios, ratios[:1].expand_as(ratios), rtol=rtol, atol=0)
    if x.numel() == 0 or not bool((x != 0).all()):
        return
    dropped = (y == 0).double().reshape(-1, 1, *x.shape[2:])
    if dims == 1:
        corners = (dropped.unfold(2, bs, 1).amin(-1) == 1).double()
        covered = F.max_pool1d(F.pad(corners, (bs - 1, bs - 1)), bs, stride=1)
    else:
        corners = (dropped.unfold(2, bs, 1).unfold(3, bs, 1).amin((-1, -2)) == 1).double()
        covered = F.max_pool2d(F.pad(corners, (bs - 1,) * 4), bs, stride=1)
    assert torch.equal(covered, dropped), "a dropped region is not a union of whole blocks"
    kept = int((y != 0).sum())
    if kept:
        scale = x.numel() / kept
        torch.testing.assert_close(y[y != 0], x[y != 0] * scale, rtol=rtol, atol=0)


def _verify_gaussian(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is None:
        return
    x, y, rtol = checked
    p = float(kwargs["p"])
    sigma = math.sqrt(p / (1 - p))
    nonzero = x != 0
    assert bool((y[~nonzero] == 0).all())
    noise = y[nonzero] / x[nonzero]
    assert bool((abs(noise - 1) <= 9 * sigma + 1e-6).all()), noise  # N(1, sigma^2): 9 sigma never happens


def _verify_alpha(y, kwargs) -> None:
    checked = _check_output(y, kwargs)
    if checked is None:
        return
    x, y, rtol = checked
    p = float(kwargs["p"])
    alpha_prime = F.selu(torch.tensor(-1e4, dtype=torch.float64)).item()  # SELU's saturation -lambda alpha
    a = ((1 - p) * (1 + p * alpha_prime**2)) ** -0.5
    b = -a * alpha_prime * p
    # the rounding error of a float32 result is relative to the terms a x, a alpha' and b it is computed
    # from, not to their (possibly cancelling) sum
    tolerance = 4 * rtol * ((a * x).abs() + abs(a * alpha_prime) + abs(b))
    kept = (y - (a * x + b)).abs() <= tolerance
    dropped = (y - (a * alpha_prime + b)).abs() <= tolerance
    assert bool((kept | dropped).all()), "an output is neither a x + b nor a alpha' + b"


def _verify_drop_connect(y, kwargs) -> None:
    x = _float(kwargs["x"])
    weight, bias = _float(kwargs["weight"]), kwargs.get("bias")
    bias = None if bias is None else _float(bias)
    p, training = float(kwargs.get("p", P)), kwargs.get("training", True)
    per_example = kwargs.get("per_example", True)
    assert isinstance(y, torch.Tensor) and y.shape == (*x.shape[:-1], weight.shape[0]) and y.dtype == x.dtype
    X = x.detach().double().numpy().reshape(-1, x.shape[-1]).astype(np.longdouble)
    W = weight.detach().double().numpy().astype(np.longdouble)
    b = np.zeros(W.shape[0], dtype=np.longdouble) if bias is None else bias.detach().double().numpy().astype(np.longdouble)
    Y = y.detach().double().numpy().reshape(-1, W.shape[0])
    tol = dict(rtol=1e-5, atol=1e-5 * (1 + float(np.abs(W).max(initial=0)) * float(np.abs(X).max(initial=0))))
    if not training or p == 0.0:
        np.testing.assert_allclose(Y, (X @ W.T + b).astype(np.float64), **tol)
        return
    masks = np.array(list(itertools.product([0, 1], repeat=W.shape[1])), dtype=np.longdouble)  # (2**in, in)
    # candidates[k, n, o]: output o of example n under mask row k for weight row o
    candidates = np.einsum("ki,oi,ni->kno", masks, W, X) / (1 - np.longdouble(p)) + b
    close = np.isclose(candidates.astype(np.float64), Y[None], **tol)  # (2**in, N, out)
    assert close.any(axis=0).all(), "an output is no sum over kept weights"
    if not per_example and Y.shape[0]:
        assert close.all(axis=1).any(axis=0).all(), "per-batch DropConnect used more than one mask"


# --- constructors and forward methods -----------------------------------------------------------


def _verify_module(cls, attributes):
    def verify(module, kwargs) -> None:
        assert type(module) is cls and module.training
        for name, default in attributes.items():
            value = kwargs.get(name, default)
            assert getattr(module, name) == value, (name, getattr(module, name))
        assert module.generator is kwargs.get("generator")
    return verify


def _build_drop_connect(in_features, out_features, p, bias=True, per_example=True, *, generator=None):
    """``DropConnectLinear(...)`` with torch seeded, so equivalent arguments give the same initial weights."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return variants.DropConnectLinear(in_features, out_features, p, bias, per_example, generator=generator)


def _verify_drop_connect_module(module, kwargs) -> None:
    assert isinstance(module, variants.DropConnectLinear)
    assert module.in_features == int(kwargs["in_features"]) and module.out_features == int(kwargs["out_features"])
    assert module.weight.shape == (module.out_features, module.in_features)
    assert (module.bias is not None) == kwargs.get("bias", True)
    assert module.p == float(kwargs["p"]) and module.per_example == kwargs.get("per_example", True)
    assert module.generator is kwargs.get("generator")


def _forward_verifier(functional_verify, names):
    def verify(y, kwargs) -> None:
        module = kwargs["self"]
        functional_verify(y, {"x": kwargs["x"], "training": module.training, **{n: getattr(module, n) for n in names}})
    return verify


def _verify_drop_connect_forward(y, kwargs) -> None:
    module = kwargs["self"]
    _verify_drop_connect(y, dict(x=kwargs["x"], weight=module.weight, bias=module.bias, p=module.p,
                                 training=module.training, per_example=module.per_example))


def _verify_rates(rates, kwargs) -> None:
    depth, max_rate = int(kwargs["depth"]), float(kwargs["max_rate"])
    assert isinstance(rates, list) and len(rates) == depth and all(type(rate) is float for rate in rates)
    np.testing.assert_allclose(rates, [max_rate * layer / depth for layer in range(1, depth + 1)], rtol=1e-15, atol=0)


def _x(*shape: int) -> torch.Tensor:
    values = torch.arange(1, math.prod(shape) + 1, dtype=torch.float32)
    return (values * torch.tensor([1.0, -0.5]).repeat(len(values))[: len(values)]).reshape(shape) / 4


def _linear_inputs() -> dict:
    return dict(x=_x(3, 3), weight=torch.tensor([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]]), bias=torch.tensor([0.125, -0.25]))


_SELF = {"self": "the module whose forward is called"}


def _verify_seed_rate(gamma, kwargs) -> None:
    p, bs, sizes = float(kwargs["p"]), int(kwargs["block_size"]), [int(n) for n in kwargs["sizes"]]
    expected = p / bs ** len(sizes) * math.prod(sizes) / math.prod(n - bs + 1 for n in sizes)
    assert isinstance(gamma, float) and math.isclose(gamma, expected, rel_tol=1e-12) and 0.0 <= gamma <= p


def _verify_expected_fraction(fraction, kwargs) -> None:
    p, bs, sizes = float(kwargs["p"]), int(kwargs["block_size"]), [int(n) for n in kwargs["sizes"]]
    assert isinstance(fraction, float) and 0.0 <= fraction <= p + 1e-12
    gamma = variants.drop_block_seed_rate(p, bs, tuple(sizes))
    covers = [[sum(1 for s in range(n - bs + 1) if s <= r <= s + bs - 1) for r in range(n)] for n in sizes]
    ks = covers[0] if len(sizes) == 1 else [a * b for a in covers[0] for b in covers[1]]
    assert math.isclose(fraction, sum(1 - (1 - gamma) ** k for k in ks) / len(ks), rel_tol=1e-9)


CASES = [
    Case("variants.drop_connect_linear", variants.drop_connect_linear,
         lambda: dict(**_linear_inputs(), p=P, training=True, per_example=True, generator=_gen()), _verify_drop_connect),
    Case("variants.drop_connect_linear[per batch]", variants.drop_connect_linear,
         lambda: dict(**_linear_inputs(), p=P, training=True, per_example=False, generator=_gen()), _verify_drop_connect),
    Case("variants.DropConnectLinear", _build_drop_connect,
         lambda: dict(in_features=3, out_features=2, p=P, bias=True, per_example=True, generator=_gen()),
         _verify_drop_connect_module),
    Case("variants.DropConnectLinear.forward", variants.DropConnectLinear.forward,
         lambda: dict(self=_build_drop_connect(3, 2, P, generator=_gen()), x=_x(4, 3)), _verify_drop_connect_forward, fixed=_SELF),
    Case("variants.spatial_dropout", variants.spatial_dropout,
         lambda: dict(x=_x(2, 3, 4), p=P, training=True, generator=_gen()), _verify_spatial),
    Case("variants.spatial_dropout[4-D]", variants.spatial_dropout,
         lambda: dict(x=_x(2, 3, 2, 2), p=P, training=True, generator=_gen()), _verify_spatial),
    Case("variants.SpatialDropout", variants.SpatialDropout, lambda: dict(p=P, generator=_gen()),
         _verify_module(variants.SpatialDropout, {"p": P})),
    Case("variants.SpatialDropout.forward", variants.SpatialDropout.forward,
         lambda: dict(self=variants.SpatialDropout(P, generator=_gen()), x=_x(2, 3, 4)), _forward_verifier(_verify_spatial, ["p"]),
         fixed=_SELF),
    Case("variants.drop_path", variants.drop_path, lambda: dict(x=_x(4, 3), p=P, training=True, generator=_gen()), _verify_drop_path),
    Case("variants.DropPath", variants.DropPath, lambda: dict(p=P, generator=_gen()), _verify_module(variants.DropPath, {"p": P})),
    Case("variants.DropPath.forward", variants.DropPath.forward,
         lambda: dict(self=variants.DropPath(P, generator=_gen()), x=_x(4, 3)), _forward_verifier(_verify_drop_path, ["p"]), fixed=_SELF),
    Case("variants.drop_path_rates", variants.drop_path_rates, lambda: dict(depth=5, max_rate=0.25), _verify_rates),
    Case("variants.drop_block2d", variants.drop_block2d,
         lambda: dict(x=_x(2, 2, 5, 5), p=P, block_size=3, training=True, generator=_gen()), _verify_drop_block),
    Case("variants.DropBlock2d", variants.DropBlock2d, lambda: dict(p=P, block_size=3, generator=_gen()),
         _verify_module(variants.DropBlock2d, {"p": P, "block_size": 3})),
    Case("variants.DropBlock2d.forward", variants.DropBlock2d.forward,
         lambda: dict(self=variants.DropBlock2d(P, 3, generator=_gen()), x=_x(2, 2, 5, 5)),
         _forward_verifier(_verify_drop_block, ["p", "block_size"]), fixed=_SELF),
    Case("variants.drop_block_seed_rate", variants.drop_block_seed_rate, lambda: dict(p=P, block_size=3, sizes=(8, 6)),
         _verify_seed_rate),
    Case("variants.drop_block_expected_fraction", variants.drop_block_expected_fraction,
         lambda: dict(p=P, block_size=3, sizes=(8,)), _verify_expected_fraction),
    Case("variants.drop_block1d", variants.drop_block1d,
         lambda: dict(x=_x(2, 2, 7), p=P, block_size=3, training=True, generator=_gen()), _verify_drop_block),
    Case("variants.DropBlock1d", variants.DropBlock1d, lambda: dict(p=P, block_size=2, generator=_gen()),
         _verify_module(variants.DropBlock1d, {"p": P, "block_size": 2})),
    Case("variants.DropBlock1d.forward", variants.DropBlock1d.forward,
         lambda: dict(self=variants.DropBlock1d(P, 3, generator=_gen()), x=_x(2, 2, 7)),
         _forward_verifier(_verify_drop_block, ["p", "block_size"]), fixed=_SELF),
    Case("variants.locked_dropout", variants.locked_dropout,
         lambda: dict(x=_x(4, 2, 3), p=P, batch_first=False, training=True, generator=_gen()), _verify_locked),
    Case("variants.LockedDropout", variants.LockedDropout, lambda: dict(p=P, batch_first=True, generator=_gen()),
         _verify_module(variants.LockedDropout, {"p": P, "batch_first": False})),
    Case("variants.LockedDropout.forward", variants.LockedDropout.forward,
         lambda: dict(self=variants.LockedDropout(P, batch_first=True, generator=_gen()), x=_x(2, 4, 3)),
         _forward_verifier(_verify_locked, ["p", "batch_first"]), fixed=_SELF),
    Case("variants.gaussian_dropout", variants.gaussian_dropout,
         lambda: dict(x=_x(2, 3), p=P, training=True, generator=_gen()), _verify_gaussian),
    Case("variants.GaussianDropout", variants.GaussianDropout, lambda: dict(p=P, generator=_gen()),
         _verify_module(variants.GaussianDropout, {"p": P})),
    Case("variants.alpha_dropout", variants.alpha_dropout,
         lambda: dict(x=_x(2, 3), p=P, training=True, generator=_gen()), _verify_alpha),
    Case("variants.AlphaDropout", variants.AlphaDropout, lambda: dict(p=P, generator=_gen()),
         _verify_module(variants.AlphaDropout, {"p": P})),
    Case("variants.AlphaDropout.forward", variants.AlphaDropout.forward,
         lambda: dict(self=variants.AlphaDropout(P, generator=_gen()), x=_x(2, 3)), _forward_verifier(_verify_alpha, ["p"]),
         fixed=_SELF),
    Case("variants.GaussianDropout.forward", variants.GaussianDropout.forward,
         lambda: dict(self=variants.GaussianDropout(P, generator=_gen()), x=_x(2, 3)), _forward_verifier(_verify_gaussian, ["p"]),
         fixed=_SELF),
]

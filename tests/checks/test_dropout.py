"""Tests for course_lib.checks.dropout: the reference passes, typical wrong answers are rejected helpfully."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from course_lib.checks.dropout import check_dropout_backward, check_dropout_forward
from course_lib.dropout import dropout_backward, dropout_forward

from .checker_assertions import (
    assert_every_property_holds,
    assert_one_root_cause,
    assert_output_is_deterministic,
    assert_rejected,
    assert_stub_told_once,
    not_implemented,
)

Rng = np.random.Generator | None


def _validated(p: float) -> None:
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")


def _forward_with(name: str, scale: Callable[[float], float], *, keep: Callable[[float], float] = lambda p: 1 - p):
    """A forward pass that is right except for the survivors' scale and/or the keep probability."""

    def forward(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
        _validated(p)
        if not training or p == 0:
            return x.copy(), None
        rng = np.random.default_rng() if rng is None else rng
        mask = rng.random(x.shape) < keep(p)
        return np.where(mask, x * scale(p), 0.0), mask

    forward.__name__ = name
    return forward


# --- wrong forward passes ------------------------------------------------------------------

no_rescaling = _forward_with("no_rescaling", lambda p: 1.0)
scaled_by_p = _forward_with("scaled_by_p", lambda p: p)
scaled_by_one_minus_p = _forward_with("scaled_by_one_minus_p", lambda p: 1 - p)
keeps_with_probability_p = _forward_with("keeps_with_probability_p", lambda p: 1 / (1 - p), keep=lambda p: p)


def rescales_at_inference(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    _validated(p)
    if not training:
        return x * (1 - p), None
    return dropout_forward(x, p, training, rng)


def drops_at_inference(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    return dropout_forward(x, p, True, rng)  # ignores `training`


def ignores_rng(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    _validated(p)
    if not training or p == 0:
        return x.copy(), None
    mask = np.random.rand(*x.shape) >= p  # the legacy global state, not `rng`
    return np.where(mask, x / (1 - p), 0.0), mask


def fixed_seed_generator(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    return dropout_forward(x, p, training, np.random.default_rng(0))


def float_mask(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    return out, None if mask is None else mask.astype(float)


def scaled_mask(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    return out, None if mask is None else mask / (1 - p)


def returns_only_out(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    return dropout_forward(x, p, training, rng)[0]


def returns_none(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    dropout_forward(x, p, training, rng)  # forgot the return


def no_validation(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    if not training or p == 0:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(x.shape) >= p
    return np.where(mask, x / (1 - p), 0.0), mask


def modifies_input(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    x[...] = out
    return x, mask


def all_ones_mask_at_zero_rate(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    return out, (np.ones(x.shape, dtype=bool) if mask is None and training else mask)


def inverted_mask(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    out, mask = dropout_forward(x, p, training, rng)
    return out, None if mask is None else ~mask


def caches_mask(x: np.ndarray, p: float, training: bool = True, rng: Rng = None, _cache: dict = {}):
    _validated(p)
    if not training or p == 0:
        return x.copy(), None
    key = (x.shape, p)
    if key not in _cache:
        _cache[key] = (rng if rng is not None else np.random.default_rng()).random(x.shape) >= p
    mask = _cache[key]
    return np.where(mask, x / (1 - p), 0.0), mask


def raises_zero_division_at_one(x: np.ndarray, p: float, training: bool = True, rng: Rng = None):
    if p < 0:
        raise ValueError("p must be >= 0")
    return dropout_forward(x, p, training, rng) if p < 1 else (x * (1 / (1 - p)), None)


# --- wrong backward passes -----------------------------------------------------------------


def backward_resamples_mask(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is None:
        return grad_out.copy()
    if mask.shape != grad_out.shape:
        raise ValueError("shape mismatch")
    fresh = np.random.default_rng().random(grad_out.shape) >= p
    return grad_out * fresh / (1 - p)


def backward_forgets_scale(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is None:
        return grad_out.copy()
    if mask.shape != grad_out.shape:
        raise ValueError("shape mismatch")
    return grad_out * mask


def backward_ignores_mask(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is not None and mask.shape != grad_out.shape:
        raise ValueError("shape mismatch")
    return grad_out / (1 - p)


def backward_scales_by_one_minus_p(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is None:
        return grad_out.copy()
    if mask.shape != grad_out.shape:
        raise ValueError("shape mismatch")
    return grad_out * mask * (1 - p)


def backward_without_shape_check(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    return grad_out.copy() if mask is None else grad_out * mask / (1 - p)


def backward_scales_unmasked_gradient(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is None:
        return grad_out / (1 - p)
    return dropout_backward(grad_out, mask, p)


def backward_in_place(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    if mask is None:
        return grad_out
    if mask.shape != grad_out.shape:
        raise ValueError("shape mismatch")
    grad_out *= mask / (1 - p)
    return grad_out


def backward_returns_none(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    dropout_backward(grad_out, mask, p)


def backward_returns_list(grad_out: np.ndarray, mask: np.ndarray | None, p: float):
    return dropout_backward(grad_out, mask, p).tolist()


# --- the reference passes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn", "count"),
    [(check_dropout_forward, dropout_forward, 11), (check_dropout_backward, dropout_backward, 6)],
)
def test_reference_implementation_passes_every_property(checker, fn, count, capsys) -> None:
    report = checker(fn)
    assert_every_property_holds(report, capsys.readouterr().out, count)
    assert repr(report) == f"CheckReport({fn.__name__}: {count}/{count} properties hold)"


def test_gradient_check_line_states_the_error_and_the_tolerance(capsys) -> None:
    check_dropout_backward(dropout_backward)
    line = next(line for line in capsys.readouterr().out.splitlines() if "numerical gradient" in line)
    assert line == "✓ numerical gradient check (float64, p = 0.5, relative error < 1e-8): relative error 0.0e+00"


# --- wrong forward passes are rejected with a useful message -------------------------------


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (no_rescaling, "survivors are x/(1-p)", ("x × 1.0000", "not rescaled", "1/(1-p)")),
        (scaled_by_p, "survivors are x/(1-p)", ("x × 0.3000", "multiplied by p", "1/(1-p)")),
        (scaled_by_one_minus_p, "survivors are x/(1-p)", ("x × 0.7000", "(1-p)", "1/(1-p)")),
        (no_rescaling, "mean of out", ("1/(1-p)",)),
        (scaled_by_one_minus_p, "mean of out", ("mean(out)/mean(x) = 0.4", "1/(1-p)")),
        (keeps_with_probability_p, "kept fraction", ("kept fraction 0.30", "probability p", "1 - p")),
        (rescales_at_inference, "training=False", ("x × 0.7000", "do not rescale when training=False")),
        (drops_at_inference, "training=False", ("units zeroed", "nothing is dropped when training=False")),
        (all_ones_mask_at_zero_rate, "p = 0 returns", ("return mask None",)),
        (ignores_rng, "uses rng", ("identically seeded", "`rng`", "np.random")),
        (fixed_seed_generator, "uses rng", ("the same mask", "drawn from rng on every call")),
        (float_mask, "returns (out, mask)", ("a float64 array", "boolean keep mask")),
        (scaled_mask, "returns (out, mask)", ("boolean", "not a float or scaled mask")),
        (inverted_mask, "survivors are x/(1-p)", ("True for *kept* units",)),
        (caches_mask, "fresh mask", ("the same mask twice", "not cached")),
        (modifies_input, "leaves x unchanged", ("in place",)),
        (returns_only_out, "returns (out, mask)", ("a tuple (out, mask)", "returns a pair")),
        (returns_none, "returns (out, mask)", ("got None", "did you forget")),
        (not_implemented, "returns (out, mask)", ("NotImplementedError", "replace `raise NotImplementedError()`")),
        (not_implemented, "raises ValueError", ("got NotImplementedError",)),
        (no_validation, "raises ValueError", ("ValueError for p = -0.1", "got a return value")),
        (raises_zero_division_at_one, "raises ValueError", ("ValueError for p = 1.0", "got ZeroDivisionError")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_forward_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_dropout_forward(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("checker", "fn", "failing"),
    [
        (check_dropout_forward, no_rescaling, {"dropped units are 0 and survivors are x/(1-p)", "mean of out"}),
        (check_dropout_forward, modifies_input, {"leaves x unchanged"}),
        (check_dropout_forward, no_validation, {"p outside [0, 1) raises ValueError"}),
        (check_dropout_backward, backward_in_place, {"leaves grad_out unchanged"}),
        (check_dropout_backward, backward_without_shape_check, {"mask shape (4,) with grad_out shape (3, 4)"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_mistake_fails_only_the_properties_it_breaks(checker, fn, failing: set[str]) -> None:
    failed_names = [result.name for result in checker(fn).failed]
    assert {prefix for prefix in failing if any(name.startswith(prefix) for name in failed_names)} == failing
    assert all(any(name.startswith(prefix) for prefix in failing) for name in failed_names)


# --- wrong backward passes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (backward_resamples_mask, "grad_out * mask / (1 - p)", ("reuse the forward pass's mask", "never draws")),
        (backward_resamples_mask, "deterministic", ("two different gradients", "reuse the forward pass's mask")),
        (backward_resamples_mask, "numerical gradient", ("relative error < 1e-8",)),
        (backward_forgets_scale, "grad_out * mask / (1 - p)", ("grad_out × 1.0000", "1/(1-p)")),
        (backward_forgets_scale, "numerical gradient", ("relative error < 1e-8", "got 5.0e-01")),
        (backward_scales_by_one_minus_p, "grad_out * mask / (1 - p)", ("grad_out × 0.7000", "1/(1-p)")),
        (backward_ignores_mask, "grad_out * mask / (1 - p)", ("no zero gradients", "mask applies in backward too")),
        (backward_without_shape_check, "raises ValueError", ("got a return value", "mask.shape")),
        (backward_scales_unmasked_gradient, "mask None passes", ("return grad_out unchanged",)),
        (backward_in_place, "leaves grad_out unchanged", ("in place",)),
        (backward_returns_none, "grad_out * mask / (1 - p)", ("got None", "did you forget")),
        (backward_returns_list, "grad_out * mask / (1 - p)", ("a float array", "got a list")),
        (not_implemented, "grad_out * mask / (1 - p)", ("NotImplementedError",)),
        (not_implemented, "raises ValueError", ("got NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_backward_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_dropout_backward(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


# --- one root mistake is named once --------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn", "name"),
    [
        (check_dropout_forward, no_rescaling, "the survivors not rescaled"),
        (check_dropout_forward, scaled_by_p, "survivors multiplied by p"),
        (check_dropout_forward, scaled_by_one_minus_p, "survivors multiplied by 1-p"),
        (check_dropout_forward, keeps_with_probability_p, "units kept with probability p"),
        (check_dropout_forward, inverted_mask, "the inverted mask"),
        (check_dropout_forward, fixed_seed_generator, "a mask that ignores the state of rng"),
        (check_dropout_forward, caches_mask, "a mask that ignores the state of rng"),
        (check_dropout_forward, float_mask, "a mask that is not boolean"),
        (check_dropout_forward, returns_only_out, "a result that is not (out, mask)"),
        (check_dropout_forward, returns_none, "the missing return"),
        (check_dropout_backward, backward_resamples_mask, "a new mask drawn in backward"),
        (check_dropout_backward, backward_forgets_scale, "the missing scale"),
        (check_dropout_backward, backward_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_root_mistake_is_diagnosed_once(checker, fn, name: str, capsys) -> None:
    diagnosis = assert_one_root_cause(checker(fn), capsys.readouterr().out)
    assert diagnosis.name == name


def test_the_mean_property_names_the_scale_the_survivors_property_found(capsys) -> None:
    report = check_dropout_forward(no_rescaling)
    survivors, mean = report.failed
    assert survivors.diagnosis is mean.diagnosis
    lines = capsys.readouterr().out.splitlines()
    assert "mean(out)/mean(x) = 0.69" in lines[6] and lines[6].endswith("the survivors not rescaled (see above)")


def test_two_mistakes_get_two_diagnoses_and_no_closing_line(capsys) -> None:
    """Ignoring the mask and scaling when there is none are two mistakes: each hint once, no "Diagnosis:" line."""
    report = check_dropout_backward(backward_ignores_mask)
    printed = capsys.readouterr().out
    names = [result.diagnosis.name for result in report.failed]
    assert names == ["the mask ignored in backward", "", "the mask ignored in backward"]
    assert report.diagnosis is None and "Diagnosis:" not in printed
    assert printed.count("dropped units get zero gradient") == 1


@pytest.mark.parametrize("checker", [check_dropout_forward, check_dropout_backward], ids=lambda c: c.__name__)
def test_a_student_exception_fails_every_property_and_is_explained_once(checker, capsys) -> None:
    report = checker(not_implemented)
    assert len(report.failed) == len(report) == {check_dropout_forward: 11, check_dropout_backward: 6}[checker]
    assert_stub_told_once(report, capsys.readouterr().out)


# --- non-callables and determinism ---------------------------------------------------------


def test_checkers_reject_a_non_callable() -> None:
    with pytest.raises(TypeError, match="fn must be a function"):
        check_dropout_forward(np.ones(3))


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_dropout_forward, dropout_forward),
        (check_dropout_forward, keeps_with_probability_p),
        (check_dropout_backward, dropout_backward),
        (check_dropout_backward, backward_scales_by_one_minus_p),
    ],
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)


# --- dropout_layer -------------------------------------------------------------------------

import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_lib.checks import dropout as dropout_checks  # noqa: E402
from course_lib.checks.dropout import check_dropout_layer  # noqa: E402
from course_lib.dropout import dropout_backward, dropout_forward  # noqa: E402
from course_lib.experiments import SeedSummary  # noqa: E402

LAYER_LINES = 9


class _Function(torch.autograd.Function):
    """The reference: the NumPy forward and backward as one differentiable operation."""

    @staticmethod
    def forward(ctx, x, p, rng):
        out, mask = dropout_forward(x.detach().numpy(), p, training=True, rng=rng)
        ctx.p, ctx.mask, ctx.rng = p, mask, rng
        return torch.from_numpy(out).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return torch.from_numpy(dropout_backward(grad_out.numpy(), ctx.mask, ctx.p)).to(grad_out.dtype), None, None


class NumpyDropout(nn.Module):
    function = _Function

    def __init__(self, p, rng=None):
        super().__init__()
        self.p, self.rng = p, np.random.default_rng() if rng is None else rng

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return self.function.apply(x, self.p, self.rng)


def dropout_layer(p, rng=None):
    return NumpyDropout(p, rng)


def _layer_with(function=None, forward=None):
    """A dropout_layer whose module uses another autograd Function or another forward method."""

    class Layer(NumpyDropout):
        pass

    if function is not None:
        Layer.function = function
    if forward is not None:
        Layer.forward = forward
    return lambda p, rng=None: Layer(p, rng)


class _Unscaled(_Function):
    @staticmethod
    def forward(ctx, x, p, rng):
        _, mask = dropout_forward(x.detach().numpy(), p, training=True, rng=rng)
        ctx.p, ctx.mask = p, mask
        return torch.from_numpy(x.detach().numpy() * mask).to(x.dtype)


class _Resampled(_Function):
    @staticmethod
    def backward(ctx, grad_out):
        _, mask = dropout_forward(np.ones(grad_out.shape), ctx.p, training=True, rng=ctx.rng)  # a new mask
        return torch.from_numpy(dropout_backward(grad_out.numpy(), mask, ctx.p)), None, None


class _GradientWithoutFactor(_Function):
    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * torch.from_numpy(ctx.mask), None, None


class _Float64Out(_Function):
    @staticmethod
    def forward(ctx, x, p, rng):
        out, mask = dropout_forward(x.detach().numpy().astype(np.float64), p, training=True, rng=rng)
        ctx.p, ctx.mask = p, mask
        return torch.from_numpy(out)


def _on_in_eval(self, x):
    return self.function.apply(x, self.p, self.rng) if self.p > 0 else x


def _outside_autograd(self, x):
    if not self.training or self.p == 0:
        return x
    return torch.from_numpy(dropout_forward(x.detach().numpy(), self.p, rng=self.rng)[0]).to(x.dtype)


def _fresh_generator(self, x):
    if not self.training or self.p == 0:
        return x
    return self.function.apply(x, self.p, np.random.default_rng())


def _returns_the_class(p, rng=None):
    return NumpyDropout


@pytest.fixture
def no_experiment(monkeypatch):
    """The contract only: the experiment's training is replaced by fixed gaps that show the effect."""
    shown = (SeedSummary((0.12, 0.13, 0.11)), SeedSummary((0.24, 0.25, 0.23)))
    monkeypatch.setattr(dropout_checks, "_gap_summaries", lambda fn, config, seeds: shown)


def test_dropout_layer_reference_passes_without_training(no_experiment, capsys) -> None:
    report = check_dropout_layer(dropout_layer)
    assert_every_property_holds(report, capsys.readouterr().out, LAYER_LINES)


def test_dropout_layer_smoke_test_trains_a_tiny_experiment_on_mnist1d(monkeypatch, capsys) -> None:
    """The one test that trains: a tiny version of the experiment (10 epochs), with the reference layer."""
    monkeypatch.setattr(dropout_checks, "GAP_CONFIG", dropout_checks.GAP_CONFIG.but(epochs=10))
    report = check_dropout_layer(dropout_layer)
    printed = capsys.readouterr().out
    assert_every_property_holds(report, printed, LAYER_LINES)
    assert "10 epochs" in printed.splitlines()[-1] and "with your dropout" in printed.splitlines()[-1]


@pytest.mark.parametrize(
    "fn, property_fragment, phrases",
    [
        (_layer_with(function=_Unscaled), "each output 0 or x/(1-p)", ("survivors = x × 1.0000", "not rescaled")),
        (_layer_with(function=_Resampled), "backward", ("zero gradients elsewhere", "mask that forward drew")),
        (_layer_with(function=_GradientWithoutFactor), "backward", ("w × mask (no factor)", "same factor")),
        (_layer_with(function=_Float64Out), "shape and dtype", ("a torch.float64 tensor", "input's dtype")),
        (_layer_with(forward=_on_in_eval), "eval mode", ("units zeroed", "identity")),
        (_layer_with(forward=_outside_autograd), "backward", ("does not require grad", "torch.autograd.Function")),
        (_layer_with(forward=_fresh_generator), "masks come from the layer's rng", ("different masks", "identically seeded")),
        (_returns_the_class, "returns an nn.Module", ("got a type", "an instance")),
    ],
)
def test_wrong_dropout_layer_is_rejected(fn, property_fragment, phrases, no_experiment, capsys) -> None:
    report = check_dropout_layer(fn)
    assert_rejected(report, property_fragment, *phrases, printed=capsys.readouterr().out)
    assert not report.results[-1].passed  # the experiment is not run on a layer that breaks the contract


def test_the_experiment_is_not_trained_for_a_broken_layer(monkeypatch, capsys) -> None:
    def must_not_train(fn, config, seeds):
        raise AssertionError("trained a layer that breaks the contract")

    monkeypatch.setattr(dropout_checks, "_gap_summaries", must_not_train)
    report = check_dropout_layer(_layer_with(forward=_on_in_eval))
    lines = capsys.readouterr().out.splitlines()
    assert not report and lines[-2].startswith("✗ experiment") and "a consequence of dropout left on in eval mode" in lines[-2]


def test_overlapping_gaps_fail_the_experiment(monkeypatch, capsys) -> None:
    overlapping = (SeedSummary((0.20, 0.22, 0.24)), SeedSummary((0.23, 0.25, 0.24)))
    monkeypatch.setattr(dropout_checks, "_gap_summaries", lambda fn, config, seeds: overlapping)
    report = check_dropout_layer(dropout_layer)
    assert_rejected(
        report, "experiment", "0.220 ± 0.020 with your dropout, 0.240 ± 0.010 without", "eval mode",
        printed=capsys.readouterr().out,
    )
    assert [result.name for result in report.failed] == [report.results[-1].name]


def test_dropout_layer_stub_and_determinism(no_experiment, capsys) -> None:
    assert_stub_told_once(check_dropout_layer(not_implemented), capsys.readouterr().out)
    assert_output_is_deterministic(check_dropout_layer, _layer_with(function=_Resampled), capsys)

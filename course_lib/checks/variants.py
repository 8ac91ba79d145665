r"""Checkers for the exercises of "Dropout variants": ``drop_path``, ``spatial_dropout`` and the depth experiment.

The three exercises are ``drop_path``, ``spatial_dropout`` and ``expected_active_blocks``.

The contracts are those of :mod:`course_lib.variants`. ``drop_path(x, p, training=True)``
(stochastic depth, Huang et al., 2016) keeps or zeroes each *example* of ``x`` as a whole,
:math:`y_n = b_n x_n/(1-p)` with one :math:`b_n \sim \mathrm{Bernoulli}(1-p)` per example;
``spatial_dropout(x, p, training=True)`` (Tompson et al., 2015) does the same for each
*(example, channel)* map of an ``(N, C, ...)`` input, like ``F.dropout1d/2d/3d``. Both are the
identity in evaluation mode and at :math:`p = 0`.

The masks are random, so the properties are statistics with binomial tolerances
(:data:`SIGMAS` standard deviations) computed on inputs with no zero entries, where a zeroed
entry is always visible. Each call of the student's function runs inside
``torch.random.fork_rng`` with torch's global generator seeded from :data:`SEED`, so the student
may draw with ``torch.rand``, ``torch.bernoulli`` or ``Tensor.bernoulli_`` and the verdict is the
same on every run. The mask's structure (whole examples, whole channels), its independence
across the batch and across channels, the kept fraction and the kept values' factor tell the
typical mistakes apart: a per-element mask, a mask over the wrong dimensions, one mask shared by
the batch, the missing rescale, scaling by :math:`p`, by :math:`1-p` or by :math:`1/p`, and
:math:`p` taken as the keep probability.

``expected_active_blocks`` is the experiment: a residual stack of depth :math:`L` with the
linear schedule :func:`course_lib.variants.drop_path_rates`, :math:`p_l = p_{\max} l/L`, whose
expected number of active branches per example is
:math:`\sum_l (1-p_l) = L - p_{\max}(L+1)/2`. Its checker hands the student's function a
``drop_path_fn`` of its own that records every call (the rate, the input's shape, the mode),
so it names a schedule off by one, one rate for every block and dropped blocks counted in
place of kept ones separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from course_lib.checks.report import (
    CheckReport,
    Diagnosis,
    _call,
    _checker,
    _describe,
    _Failed,
    _NO_RETURN,
    _Property,
    _signed_input,
    _StudentRaised,
)
from course_lib.variants import drop_path as _reference_drop_path, drop_path_rates

__all__ = [
    "check_drop_path",
    "check_spatial_dropout",
    "check_expected_active_blocks",
]

SEED = 2016  # Huang et al., "Deep networks with stochastic depth"
#: The drop probability of the properties: p, 1 − p, 1/p and 1/(1 − p) all differ, so each wrong factor is named.
P = 0.25
KEEP = 1.0 - P
VALUE_RTOL = 1e-6  # kept entries must equal x/(1 − p) within this relative tolerance (float32 masks pass)
SIGMAS = 4.0  # the binomial tolerances, in standard deviations
#: Agreement of two independent Bernoulli(1 − p) draws: both kept or both dropped.
AGREEMENT = KEEP**2 + P**2


def _describe_tensor(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        article = "an" if dtype[0] in "aeiou" else "a"
        return f"{article} {dtype} tensor of shape {tuple(value.shape)}"
    return _describe(value)


@dataclass(frozen=True)
class _Kind:
    """What is dropped whole: the first ``unit_dims`` dimensions index the units (examples, or (example, channel))."""

    name: str
    unit_dims: int
    shapes: tuple[tuple[int, ...], ...]  # the statistical properties' inputs, the first the main case
    extra_shapes: tuple[tuple[int, ...], ...]  # only checked for the form of the result
    unit: str  # "example" or "channel"
    result: Diagnosis
    per_element: Diagnosis
    shared: Diagnosis

    def units(self, shape: tuple[int, ...]) -> int:
        return math.prod(shape[: self.unit_dims])


@dataclass
class _Sample:
    """One call in training mode: the input before the call, the output, and the input after the call."""

    x: np.ndarray  # float64, before the call
    out: np.ndarray  # float64
    x_after: np.ndarray


def _input(shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.from_numpy(_signed_input(shape, seed)).to(dtype)


def _output(kind: _Kind, fn: Callable[..., Any], x: torch.Tensor, p: float, training: bool, seed: int) -> torch.Tensor:
    """The student's ``fn(x, p, training=training)`` under a seeded global generator, after checking its form."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        result = _call(fn, x, p, training=training)
    expected = f"a {str(x.dtype).removeprefix('torch.')} tensor of shape {tuple(x.shape)}"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if not isinstance(result, torch.Tensor) or tuple(result.shape) != tuple(x.shape) or not result.is_floating_point():
        raise _Failed(expected, _describe_tensor(result), kind.result)
    return result


def _sample(kind: _Kind, fn: Callable[..., Any], shape: tuple[int, ...], seed: int, p: float = P) -> _Sample:
    x = _input(shape, seed)
    before = x.numpy().copy()
    out = _output(kind, fn, x, p, True, seed).detach().double().numpy().copy()
    return _Sample(before, out, x.detach().numpy().copy())


def _fates(kind: _Kind, sample: _Sample) -> np.ndarray:
    """Kept (True) or dropped per unit, read from each unit's first entry: shape (N,) or (N, C)."""
    units = sample.out.reshape(*sample.out.shape[: kind.unit_dims], -1)
    return units[..., 0] != 0


def _mixed_units(kind: _Kind, sample: _Sample) -> int:
    """How many units have both zeroed and non-zero entries."""
    zero = (sample.out == 0).reshape(kind.units(sample.out.shape), -1)
    return int((zero.any(axis=1) & ~zero.all(axis=1)).sum())


def _kept_fraction(sample: _Sample) -> float:
    return float((sample.out != 0).mean())


def _fraction_tolerance(kind: _Kind, shape: tuple[int, ...]) -> float:
    return SIGMAS * math.sqrt(P * KEEP / kind.units(shape))


def _factor(sample: _Sample) -> float | None:
    """The one factor out/x of every kept entry, or None (nothing kept, or several factors)."""
    kept = sample.out != 0
    if not kept.any():
        return None
    ratios = sample.out[kept] / sample.x[kept]
    factor = float(np.median(ratios))
    return factor if bool(np.all(np.abs(ratios - factor) <= VALUE_RTOL * abs(factor))) else None


# --- the typical mistakes ------------------------------------------------------------------------

_NO_RESCALE = Diagnosis(
    "the missing rescale",
    "the kept entries keep their size, so the output's expectation is (1 − p)·x: inverted dropout divides what it "
    "keeps by the keep probability 1 − p, so that E[out] = x and evaluation can be the identity",
)
_TIMES_P = Diagnosis(
    "scaling by p",
    "the kept entries are multiplied by the drop probability p; they are divided by the keep probability 1 − p, so "
    "that E[out] = x",
)
_TIMES_KEEP = Diagnosis(
    "scaling by 1 − p",
    "the kept entries are multiplied by 1 − p, the test-time rule of the original (not inverted) dropout: inverted "
    "dropout divides them by 1 − p during training instead, so that E[out] = x and evaluation is the identity",
)
_OVER_P = Diagnosis(
    "dividing by p",
    "the kept entries are divided by the drop probability p: the rescale compensates for what is lost, so it uses "
    "the probability of keeping, 1 − p",
)
_INVERTED = Diagnosis(
    "p taken as the keep probability",
    "about a fraction p of the units was kept: p is the probability of dropping a unit, so each one is kept with "
    "probability 1 − p",
)
_EVAL = Diagnosis(
    "dropping in evaluation mode",
    "with training=False nothing is dropped or rescaled and the output equals x: the rescale during training is what "
    "makes the plain x the right expectation at evaluation",
)
_IN_PLACE = Diagnosis(
    "x modified in place",
    "the caller's x must stay as it was (in a network it is the residual stream, or a tensor autograd still needs): "
    "compute the output as a new tensor",
)
_DETACHED = Diagnosis(
    "an output cut off from autograd",
    "the output must stay a torch computation on x (no .detach(), .data, NumPy or .item() step), so that gradients "
    "flow back to x through the kept entries",
)
_DTYPE = Diagnosis(
    "a changed dtype",
    "the output has x's dtype: a mask in another floating dtype promotes the product (float32 input, float64 mask "
    "gives float64), so draw the mask in x's dtype",
)

_PATH_RESULT = Diagnosis(
    "a result that is not a tensor of x's shape",
    "drop_path returns a float tensor of x's shape: the mask has one entry per example and as many dimensions as x, "
    "size 1 in all but the first, so that it broadcasts over each example's entries",
)
_SPATIAL_RESULT = Diagnosis(
    "a result that is not a tensor of x's shape",
    "spatial_dropout returns a float tensor of x's shape: the mask has one entry per (example, channel) and as many "
    "dimensions as x, size 1 along the spatial ones, so that it broadcasts over each channel's map",
)
_PATH_PER_ELEMENT = Diagnosis(
    "a per-element mask",
    "stochastic depth drops the residual branch for an example as a whole: one Bernoulli draw per example, shared by "
    "every entry of that example (plain dropout draws one per entry)",
)
_SPATIAL_PER_ELEMENT = Diagnosis(
    "a per-element mask",
    "spatial dropout draws one Bernoulli per (example, channel) and shares it across all spatial positions of that "
    "channel's map: neighbouring positions are strongly correlated, so zeroing single positions removes little "
    "information",
)
_ACROSS_CHANNELS = Diagnosis(
    "a mask over the wrong dimensions",
    "the zeros are shared by all channels at each spatial position, as if the mask had one entry per (example, "
    "position): spatial dropout is the other way round, one draw per (example, channel), constant over the positions",
)
_PER_EXAMPLE = Diagnosis(
    "a per-example mask",
    "all the channels of an example were kept or dropped together, which is stochastic depth's unit: spatial dropout "
    "draws each channel of each example independently, one draw per (example, channel)",
)
_PATH_SHARED = Diagnosis(
    "one mask shared by the whole batch",
    "every example of the batch got the same draw: stochastic depth decides per example, so in one batch some "
    "examples skip the block while others go through it",
)
_SPATIAL_SHARED = Diagnosis(
    "one channel pattern shared by the whole batch",
    "every example lost the same channels, as if the mask had a single entry along the batch dimension: each example "
    "draws its own channels",
)

_DROP_PATH = _Kind(
    "drop_path", 1, ((400, 6), (200, 3, 5)), ((5,), (3, 2, 2, 2)), "example", _PATH_RESULT, _PATH_PER_ELEMENT,
    _PATH_SHARED,
)
_SPATIAL = _Kind(
    "spatial_dropout", 2, ((64, 16, 7), (32, 16, 3, 4)), ((4, 3, 2, 3, 2),), "channel", _SPATIAL_RESULT,
    _SPATIAL_PER_ELEMENT, _SPATIAL_SHARED,
)

# Each wrong factor of the kept entries, for the drop probability P.
_FACTORS: tuple[tuple[float, Diagnosis], ...] = (
    (1.0, _NO_RESCALE),
    (P, _TIMES_P),
    (KEEP, _TIMES_KEEP),
    (1.0 / P, _OVER_P),
)


def _structure_root(kind: _Kind, sample: _Sample) -> Diagnosis | None:
    """The mistake in the mask's structure that ``sample`` shows, if any."""
    if _mixed_units(kind, sample):
        if kind is _SPATIAL:
            zero = sample.out == 0
            if bool((zero == zero[:, :1]).all()):  # the same zeros in every channel at each position
                return _ACROSS_CHANNELS
        return kind.per_element
    fates = _fates(kind, sample)
    if kind is _DROP_PATH:
        return _PATH_SHARED if bool((fates == fates[0]).all()) else None
    if bool((fates == fates[:1]).all()):  # every example the same channels
        return _SPATIAL_SHARED
    if bool((fates == fates[:, :1]).all()):  # every channel of an example the same fate
        return _PER_EXAMPLE
    return None


def _fraction_root(kind: _Kind, sample: _Sample) -> Diagnosis | None:
    if abs(_kept_fraction(sample) - P) <= _fraction_tolerance(kind, sample.out.shape):
        return _INVERTED
    return None


def _scale_root(kind: _Kind, sample: _Sample) -> Diagnosis | None:
    factor = _factor(sample)
    if factor is None or abs(factor * KEEP - 1.0) <= VALUE_RTOL:
        return None
    for wrong, diagnosis in _FACTORS:
        if abs(factor - wrong) <= VALUE_RTOL * wrong:
            if diagnosis is _OVER_P and _fraction_root(kind, sample) is _INVERTED:
                return _INVERTED  # kept with probability p and divided by p: p read as the keep probability
            return diagnosis
    return None


def _main_roots(kind: _Kind, fn: Callable[..., Any]) -> tuple[Diagnosis | None, Diagnosis | None, Diagnosis | None]:
    """(fraction, scale, structure) roots on the main case; all None if the student's function fails there."""
    try:
        sample = _sample(kind, fn, kind.shapes[0], SEED)
    except (_Failed, _StudentRaised):
        return None, None, None
    return _fraction_root(kind, sample), _scale_root(kind, sample), _structure_root(kind, sample)


def _first(*diagnoses: Diagnosis | None, fallback: Diagnosis | str) -> Diagnosis | str:
    return next((d for d in diagnoses if d is not None), fallback)


# --- the properties, shared by drop_path and spatial_dropout ----------------------------------------


def _shape_dtype(kind: _Kind, fn: Callable[..., Any]) -> str:
    cases = [(shape, torch.float64) for shape in kind.shapes + kind.extra_shapes] + [(kind.shapes[0], torch.float32)]
    for index, (shape, dtype) in enumerate(cases):
        x = _input(shape, SEED + 100 + index, dtype)
        out = _output(kind, fn, x, P, True, SEED + 100 + index)
        if out.dtype != dtype:
            raise _Failed(f"a {str(dtype).removeprefix('torch.')} tensor of shape {shape}", _describe_tensor(out), _DTYPE)
    return ""


def _identity_in_eval(kind: _Kind, fn: Callable[..., Any]) -> str:
    for index, shape in enumerate(kind.shapes):
        x = _input(shape, SEED + 200 + index)
        out = _output(kind, fn, x, P, False, SEED + 200 + index).detach().double()
        if not torch.equal(out, x):
            zeroed = float((out == 0).double().mean())
            got = f"an output that differs from x ({zeroed:.0%} of the entries zeroed) for shape {shape}"
            raise _Failed("out equal to x", got, _EVAL)
    return ""


def _identity_at_zero(kind: _Kind, fn: Callable[..., Any]) -> str:
    for index, shape in enumerate(kind.shapes):
        x = _input(shape, SEED + 300 + index)
        out = _output(kind, fn, x, 0.0, True, SEED + 300 + index).detach().double()
        if not torch.equal(out, x):
            zeroed = float((out == 0).double().mean())
            got = f"an output that differs from x ({zeroed:.0%} of the entries zeroed) for shape {shape}"
            fraction, scale, _ = _main_roots(kind, fn)
            hint = "with p = 0 nothing is dropped and the rescale 1/(1 − p) is 1: the output equals x"
            raise _Failed("out equal to x", got, _first(fraction, scale, fallback=hint))
    return ""


def _kept_values(kind: _Kind, fn: Callable[..., Any]) -> str:
    for index, shape in enumerate(kind.shapes):
        sample = _sample(kind, fn, shape, SEED + index)
        kept = sample.out != 0
        expected = f"every non-zero entry equal to x/(1 − p) = {1 / KEEP:.6g}·x (shape {shape})"
        if not kept.any():
            fraction, _, structure = _main_roots(kind, fn)
            hint = f"every entry was zeroed: each {kind.unit} is kept with probability 1 − p"
            raise _Failed(expected, "every entry zeroed", _first(structure, fraction, fallback=hint))
        ratios = sample.out[kept] / sample.x[kept]
        if not bool(np.all(np.abs(ratios * KEEP - 1.0) <= VALUE_RTOL)):
            factor = _factor(sample)
            got = f"out/x = {factor:.6g}" if factor is not None else f"out/x from {ratios.min():.6g} to {ratios.max():.6g}"
            fallback = "a kept entry is x/(1 − p): the mask's 1 divided by the keep probability 1 − p"
            raise _Failed(expected, got, _first(_scale_root(kind, sample), fallback=fallback))
    return ""


def _whole_units(kind: _Kind, fn: Callable[..., Any]) -> str:
    for index, shape in enumerate(kind.shapes):
        sample = _sample(kind, fn, shape, SEED + index)
        mixed = _mixed_units(kind, sample)
        if mixed:
            units = kind.units(shape)
            expected = f"each {kind.unit} all zero or all kept (shape {shape})"
            got = f"{mixed} of the {units} {kind.unit}s partly zeroed"
            fallback = f"a {kind.unit} is kept or dropped as a whole"
            raise _Failed(expected, got, _first(_structure_root(kind, sample), fallback=fallback))
    return ""


def _fraction(kind: _Kind, fn: Callable[..., Any]) -> str:
    shape = kind.shapes[0]
    sample = _sample(kind, fn, shape, SEED)
    fraction, tolerance = _kept_fraction(sample), _fraction_tolerance(kind, shape)
    if not abs(fraction - KEEP) <= tolerance:
        fallback = f"each {kind.unit} is kept with probability 1 − p"
        hint = _first(_fraction_root(kind, sample), _structure_root(kind, sample), fallback=fallback)
        raise _Failed(f"a kept fraction in {KEEP:g} ± {tolerance:.3f}", f"{fraction:.3f}", hint)
    return ""


def _unbiased(kind: _Kind, fn: Callable[..., Any]) -> str:
    shape = kind.shapes[0]
    sample = _sample(kind, fn, shape, SEED)
    mean = float((sample.out / sample.x).mean())
    tolerance = SIGMAS * math.sqrt(P / KEEP / kind.units(shape))
    if not abs(mean - 1.0) <= tolerance:
        fallback = "the mean of out/x over the mask is (1 − p)·1/(1 − p) = 1: the rescale compensates for the drops"
        hint = _first(_fraction_root(kind, sample), _scale_root(kind, sample), _structure_root(kind, sample),
                      fallback=fallback)
        raise _Failed(f"a mean of out/x in 1 ± {tolerance:.3f}", f"{mean:.3f}", hint)
    return ""


def _agreement(fates: np.ndarray) -> tuple[float, int]:
    """The fraction of the disjoint pairs (0, 1), (2, 3), … along the first axis with equal fates, and their count."""
    pairs = fates.shape[0] // 2
    first, second = fates[0 : 2 * pairs : 2], fates[1 : 2 * pairs : 2]
    return float((first == second).mean()), first.size


def _require_independent(kind: _Kind, sample: _Sample, fates: np.ndarray, across: str) -> None:
    rate, pairs = _agreement(fates)
    tolerance = SIGMAS * math.sqrt(AGREEMENT * (1 - AGREEMENT) / pairs)
    if not abs(rate - AGREEMENT) <= tolerance:
        expected = f"two {across} agreeing (both kept or both dropped) in {AGREEMENT:g} ± {tolerance:.3f} of the pairs"
        fallback = f"the {across} draw independently of one another"
        raise _Failed(expected, f"{rate:.3f}", _first(_structure_root(kind, sample), fallback=fallback))


def _independent(kind: _Kind, fn: Callable[..., Any]) -> str:
    sample = _sample(kind, fn, kind.shapes[0], SEED)
    fates = _fates(kind, sample)
    checks = [(fates, "examples")]
    if kind is _SPATIAL:  # a per-example mask shows first across the channels, a shared one across the examples
        checks.insert(0 if _structure_root(kind, sample) is _PER_EXAMPLE else 1, (fates.T, "channels of an example"))
    for unit_fates, across in checks:
        _require_independent(kind, sample, unit_fates, across)
    return ""


def _unchanged(kind: _Kind, fn: Callable[..., Any]) -> str:
    sample = _sample(kind, fn, kind.shapes[0], SEED)
    if not np.array_equal(sample.x_after, sample.x):
        raise _Failed("x unchanged after the call", "x modified", _IN_PLACE)
    return ""


def _gradient(kind: _Kind, fn: Callable[..., Any]) -> str:
    shape = kind.shapes[-1]
    x = _input(shape, SEED + 400).requires_grad_(True)
    out = _output(kind, fn, x, P, True, SEED + 400)
    expected = f"∂(Σ out)/∂x = 1/(1 − p) = {1 / KEEP:.6g} on the kept entries and 0 on the dropped ones"
    if not out.requires_grad:
        raise _Failed(expected, "an output that does not require grad", _DETACHED)
    if not torch.equal(x.detach(), _input(shape, SEED + 400)):
        raise _Failed(expected, "x itself modified by the call, so its gradient is not the mask's", _IN_PLACE)
    _call(lambda: out.sum().backward())
    if x.grad is None:
        raise _Failed(expected, "x.grad None after backward()", _DETACHED)
    values = out.detach().double()
    right = torch.where(values != 0, 1.0 / KEEP, 0.0).double()
    if not bool(torch.allclose(x.grad.double(), right, rtol=0.0, atol=VALUE_RTOL / KEEP)):
        follows = torch.allclose(x.grad.double(), values / x.detach(), rtol=VALUE_RTOL, atol=0.0)
        fallback = (
            "the gradient follows the output, whose kept values are wrong" if follows
            else "the gradient does not match the output: part of the computation is cut off from the graph"
        )
        _, scale, _ = _main_roots(kind, fn)
        hint = _first(scale if follows else None, fallback=fallback)
        largest = float((x.grad.double() - right).abs().max())
        raise _Failed(expected, f"a largest difference of {largest:.3g}", hint)
    return ""


def _properties(kind: _Kind, structure: str, independence: str) -> list[tuple[str, _Property]]:
    main = kind.shapes[0]
    units = kind.units(main)
    shapes = ", ".join(str(s) for s in kind.shapes)
    all_shapes = ", ".join(str(s) for s in kind.shapes + kind.extra_shapes)
    return [
        (f"returns a tensor of x's shape and dtype (shapes {all_shapes}; float64 and float32)",
         lambda fn: _shape_dtype(kind, fn)),
        ("the identity in evaluation mode (training=False)", lambda fn: _identity_in_eval(kind, fn)),
        ("the identity at p = 0", lambda fn: _identity_at_zero(kind, fn)),
        (f"kept entries equal x/(1 − p) (p = {P}), within {VALUE_RTOL:g} relative (shapes {shapes})",
         lambda fn: _kept_values(kind, fn)),
        (f"{structure} (shapes {shapes})", lambda fn: _whole_units(kind, fn)),
        (f"a kept fraction within {SIGMAS:g}σ of 1 − p = {KEEP:g} (the {units} {kind.unit}s of an input of shape {main})",
         lambda fn: _fraction(kind, fn)),
        (f"unbiased: the mean of out/x within {SIGMAS:g}σ of 1", lambda fn: _unbiased(kind, fn)),
        (independence, lambda fn: _independent(kind, fn)),
        ("leaves x unchanged", lambda fn: _unchanged(kind, fn)),
        ("gradients flow: 1/(1 − p) to the kept entries of x, 0 to the dropped ones", lambda fn: _gradient(kind, fn)),
    ]


_DROP_PATH_PROPERTIES = _properties(
    _DROP_PATH,
    "whole examples: every example's entries all kept or all zero",
    f"independent draws across the batch: pairs of examples agree in (1 − p)² + p² = {AGREEMENT:g} of the cases, "
    f"within {SIGMAS:g}σ",
)
_SPATIAL_PROPERTIES = _properties(
    _SPATIAL,
    "whole channels: the zeroing pattern constant over the spatial positions of each (example, channel)",
    f"independent draws across examples and across channels: pairs agree in (1 − p)² + p² = {AGREEMENT:g} of the "
    f"cases, within {SIGMAS:g}σ",
)


@_checker("drop_path(x, p, training=True) -> out", _DROP_PATH_PROPERTIES)
def check_drop_path(fn: Callable[..., Any]) -> CheckReport:
    r"""The contract is that of :func:`course_lib.variants.drop_path` without its
    ``generator``: for ``x`` of shape ``(N, ...)``, each example is kept whole with
    probability :math:`1-p` and scaled by :math:`1/(1-p)`, or zeroed, one Bernoulli draw
    per example from torch's global generator; ``training=False`` and :math:`p = 0` give
    the identity; ``x`` is left unchanged and the gradient is :math:`1/(1-p)` on the kept
    examples, 0 on the dropped ones. The checker runs it with :math:`p =` :data:`P` on
    ``(N, D)`` and ``(N, C, L)`` inputs; a per-element mask, one draw for the whole batch,
    the missing rescale, a factor :math:`p`, :math:`1-p` or :math:`1/p`, :math:`p` read as
    the keep probability and dropping in evaluation mode are named. Prints one line per
    property.
    """


@_checker("spatial_dropout(x, p, training=True) -> out", _SPATIAL_PROPERTIES)
def check_spatial_dropout(fn: Callable[..., Any]) -> CheckReport:
    r"""The contract is that of :func:`course_lib.variants.spatial_dropout` without its
    ``generator``, the statistics of ``F.dropout1d/2d/3d``: for ``x`` of shape
    ``(N, C, ...)`` with at least one spatial dimension, each (example, channel) map is
    kept whole with probability :math:`1-p` and scaled by :math:`1/(1-p)`, or zeroed, with
    independent draws for different channels and different examples; ``training=False``
    and :math:`p = 0` give the identity; ``x`` is left unchanged and the gradient is
    :math:`1/(1-p)` on the kept maps, 0 on the dropped ones. The checker runs it with
    :math:`p =` :data:`P` on 3-D and 4-D inputs (and a 5-D one for the shape); a
    per-element mask, a per-example mask, a mask shared by the channels at each position,
    one channel pattern for the whole batch, the wrong factors of ``check_drop_path`` and
    dropping in evaluation mode are named. Prints one line per property.
    """


# --- expected_active_blocks: the depth experiment ---------------------------------------------------

#: (depth, max_rate) of the experiment's properties: each wrong answer lies far outside the tolerance.
ACTIVE_CASES = ((12, 0.5), (6, 0.9))
ACTIVE_EXAMPLES = 5000  # n_examples the checker passes
ACTIVE_SEEDS = (0, 1)  # the seed of the main calls, and one that must give another estimate
RATE_ATOL = 1e-6  # rates from a float32 tensor (torch.linspace) are still recognised


def exact_active_blocks(depth: int, max_rate: float) -> float:
    r""":math:`\sum_{l=1}^{L} (1 - p_l) = L - p_{\max}(L+1)/2` for the schedule of :func:`drop_path_rates`."""
    return depth - max_rate * (depth + 1) / 2


def active_blocks_standard_error(depth: int, max_rate: float, n_examples: int) -> float:
    r"""The standard error of the mean count over ``n_examples``: :math:`\sqrt{\sum_l p_l(1-p_l)/n}`."""
    return math.sqrt(sum(p * (1 - p) for p in drop_path_rates(depth, max_rate)) / n_examples)


@dataclass
class _RecordingDropPath:
    """``drop_path_fn(x, p, training=True)``: course_lib's drop_path, every call recorded."""

    calls: list[tuple[tuple[int, ...] | None, Any, Any]] = field(default_factory=list)

    def __call__(self, x: Any, p: Any, training: Any = True) -> torch.Tensor:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else None
        self.calls.append((shape, p, training))
        return _reference_drop_path(x, p, training)


@dataclass(frozen=True)
class _Experiment:
    value: float
    calls: list[tuple[tuple[int, ...] | None, Any, Any]]


_NUMBER = Diagnosis(
    "a result that is not a number",
    "expected_active_blocks returns the Monte-Carlo estimate: one number, the mean over the examples of how many "
    "blocks were active",
)
_NOT_USED = Diagnosis(
    "the drop_path_fn given never used",
    "estimate by sampling with the drop_path_fn you are given, once per block (the checker passes its own, which "
    "records every call): the exact formula is what the estimate is compared with",
)
_CALLS = Diagnosis(
    "another number of calls",
    "one residual block is one call of drop_path_fn, at that block's rate: a stack of depth L makes L calls",
)
_NOT_TRAINING = Diagnosis(
    "drop_path_fn called in evaluation mode",
    "stochastic depth only drops blocks in training mode; in evaluation mode every block is active",
)
_EXAMPLES = Diagnosis(
    "another number of examples",
    "each call passes n_examples examples (one row each), so that the estimate averages n_examples draws per block",
)
_CONSTANT_RATE = Diagnosis(
    "max_rate for every block",
    "the schedule grows linearly with depth: block l of L is dropped with probability max_rate·l/L, so only the last "
    "block has max_rate",
)
_SHIFTED = Diagnosis(
    "the schedule off by one",
    "the chapter's schedule is drop_path_rates(L, max_rate): p_l = max_rate·l/L for l = 1, …, L, so the first block "
    "has max_rate/L and the last max_rate (timm's linspace(0, max_rate, L) starts at 0 instead: another sum)",
)
_OTHER_RATES = Diagnosis(
    "other rates",
    "block l of L is dropped with probability p_l = max_rate·l/L, the rates of drop_path_rates(L, max_rate)",
)
_COUNTED_DROPPED = Diagnosis(
    "the dropped blocks counted",
    "the estimate is about Σ p_l, the expected number of dropped blocks: an active block is one whose output is kept "
    "(non-zero)",
)
_FRACTION_OF_BLOCKS = Diagnosis(
    "a fraction of the blocks",
    "the estimate is about the expected fraction of active blocks: the question is their number, a count between 0 "
    "and L per example",
)
_TOTAL = Diagnosis(
    "the total over the examples",
    "the estimate is about n_examples times the expected count: average the count over the examples",
)
_SEED_IGNORED = Diagnosis(
    "the seed ignored",
    "the seed argument seeds torch's global generator (which drop_path_fn draws from) before sampling, so another "
    "seed gives other masks, and the same seed the same estimate",
)


def _experiment(fn: Callable[..., Any], depth: int, max_rate: float, seed: int) -> _Experiment:
    recorder = _RecordingDropPath()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        result = _call(fn, recorder, depth, max_rate, n_examples=ACTIVE_EXAMPLES, seed=seed)
    expected = "a number (float, int or a one-element tensor)"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        value = float(result.detach().reshape(()))
    elif isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool):
        value = float(result)
    else:
        raise _Failed(expected, _describe_tensor(result), _NUMBER)
    return _Experiment(value, recorder.calls)


def _calls_root(experiment: _Experiment, depth: int) -> tuple[str, Diagnosis] | None:
    """What is wrong with the calls of drop_path_fn, as (what was seen, the diagnosis), if anything."""
    calls = experiment.calls
    if not calls:
        return "no call of drop_path_fn", _NOT_USED
    if len(calls) != depth:
        return f"{len(calls)} calls for depth {depth}", _CALLS
    if any(training is not True for _, _, training in calls):
        return "calls with training=False", _NOT_TRAINING
    shapes = sorted({shape for shape, _, _ in calls}, key=str)
    if any(shape is None or not shape or shape[0] != ACTIVE_EXAMPLES for shape in shapes):
        return f"inputs of shapes {', '.join(str(s) for s in shapes)}", _EXAMPLES
    return None


def _as_rates(calls: list[tuple[Any, Any, Any]]) -> list[float] | None:
    try:
        return [float(p) for _, p, _ in calls]
    except (TypeError, ValueError):
        return None


def _rates_root(experiment: _Experiment, depth: int, max_rate: float) -> Diagnosis | None:
    rates = _as_rates(experiment.calls)
    if rates is None or len(rates) != depth:
        return None

    def matches(schedule: list[float]) -> bool:
        return all(abs(a - b) <= RATE_ATOL for a, b in zip(rates, schedule))

    if matches(drop_path_rates(depth, max_rate)):
        return None
    if matches([max_rate] * depth):
        return _CONSTANT_RATE
    shifted = [max_rate * l / depth for l in range(depth)]
    linspace = [max_rate * l / (depth - 1) for l in range(depth)] if depth > 1 else [0.0]
    return _SHIFTED if matches(shifted) or matches(linspace) else _OTHER_RATES


def _value_root(value: float, depth: int, max_rate: float) -> Diagnosis | None:
    exact = exact_active_blocks(depth, max_rate)
    tolerance = SIGMAS * active_blocks_standard_error(depth, max_rate, ACTIVE_EXAMPLES)
    if abs(value - (depth - exact)) <= tolerance:
        return _COUNTED_DROPPED
    if abs(value - exact / depth) <= tolerance / depth:
        return _FRACTION_OF_BLOCKS
    if abs(value - exact * ACTIVE_EXAMPLES) <= tolerance * ACTIVE_EXAMPLES:
        return _TOTAL
    return None


def _active_returns_number(fn: Callable[..., Any]) -> str:
    _experiment(fn, *ACTIVE_CASES[0], ACTIVE_SEEDS[0])
    return ""


def _active_calls(fn: Callable[..., Any]) -> str:
    for depth, max_rate in ACTIVE_CASES:
        root = _calls_root(_experiment(fn, depth, max_rate, ACTIVE_SEEDS[0]), depth)
        if root is not None:
            got, diagnosis = root
            expected = f"{depth} calls in training mode on tensors of {ACTIVE_EXAMPLES} examples (depth {depth})"
            raise _Failed(expected, got, diagnosis)
    return ""


def _active_rates(fn: Callable[..., Any]) -> str:
    for depth, max_rate in ACTIVE_CASES:
        experiment = _experiment(fn, depth, max_rate, ACTIVE_SEEDS[0])
        root = _calls_root(experiment, depth)
        if root is not None:
            raise _Failed(f"the {depth} rates of drop_path_rates({depth}, {max_rate})", root[0], root[1])
        diagnosis = _rates_root(experiment, depth, max_rate)
        if diagnosis is not None:
            rates = _as_rates(experiment.calls)
            got = "rates that are not numbers" if rates is None else "rates " + _short(rates)
            expected = f"rates {_short(drop_path_rates(depth, max_rate))} (depth {depth}, max_rate {max_rate})"
            raise _Failed(expected, got, diagnosis)
    return ""


def _short(values: list[float]) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:3])
    return f"[{shown}, …, {values[-1]:.4g}]" if len(values) > 3 else f"[{shown}]"


def _active_estimate(fn: Callable[..., Any]) -> str:
    for depth, max_rate in ACTIVE_CASES:
        experiment = _experiment(fn, depth, max_rate, ACTIVE_SEEDS[0])
        exact = exact_active_blocks(depth, max_rate)
        error = active_blocks_standard_error(depth, max_rate, ACTIVE_EXAMPLES)
        if not abs(experiment.value - exact) <= SIGMAS * error:
            calls = _calls_root(experiment, depth)
            fallback = "the estimate is the mean over the examples of the number of blocks whose output is kept"
            hint = _first(
                calls[1] if calls else None,
                _rates_root(experiment, depth, max_rate),
                _value_root(experiment.value, depth, max_rate),
                fallback=fallback,
            )
            expected = f"{exact:g} ± {SIGMAS * error:.3f} (depth {depth}, max_rate {max_rate})"
            raise _Failed(expected, f"{experiment.value:.4g}", hint)
    return ""


def _active_seed(fn: Callable[..., Any]) -> str:
    depth, max_rate = ACTIVE_CASES[0]
    first, again, other = (_experiment(fn, depth, max_rate, seed).value for seed in (*ACTIVE_SEEDS[:1], *ACTIVE_SEEDS))
    if first != again:
        raise _Failed("the same estimate for the same seed", f"{first:.6g} and {again:.6g}", _SEED_IGNORED)
    if first == other:
        seeds = " and ".join(f"seed = {s}" for s in ACTIVE_SEEDS)
        calls = _calls_root(_experiment(fn, depth, max_rate, ACTIVE_SEEDS[0]), depth)
        raise _Failed(f"other estimates for {seeds}", "the same estimate", calls[1] if calls else _SEED_IGNORED)
    return ""


def _cases_text() -> str:
    return ", ".join(f"({d}, {r}): {exact_active_blocks(d, r):g}" for d, r in ACTIVE_CASES)


_ACTIVE_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns the estimate: a number", _active_returns_number),
    (f"calls drop_path_fn once per block, in training mode, on n_examples = {ACTIVE_EXAMPLES} examples",
     _active_calls),
    ("the rates of drop_path_rates(L, max_rate): p_l = max_rate·l/L for l = 1, …, L", _active_rates),
    (f"the estimate within {SIGMAS:g} standard errors of L − max_rate·(L + 1)/2 ((L, max_rate) = {_cases_text()})",
     _active_estimate),
    (f"the seed sets the estimate: seed = {ACTIVE_SEEDS[0]} twice gives one value, seed = {ACTIVE_SEEDS[1]} another",
     _active_seed),
]


@_checker("expected_active_blocks(drop_path_fn, depth, max_rate, n_examples, seed) -> estimate", _ACTIVE_PROPERTIES)
def check_expected_active_blocks(fn: Callable[..., Any]) -> CheckReport:
    r"""The depth experiment: after ``torch.manual_seed(seed)``, one call
    ``drop_path_fn(torch.ones(n_examples, 1), p_l, training=True)`` per block
    :math:`l = 1, \ldots, L` of a stack of depth ``depth``, at the rates of
    :func:`course_lib.variants.drop_path_rates` (:math:`p_l = p_{\max} l/L`, the
    chapter's convention: timm's :math:`p_{\max}(l-1)/(L-1)` is rejected), and the mean
    over the examples of the number of blocks whose output is non-zero. The checker
    passes a ``drop_path_fn`` of its own that records every call, and compares the
    estimate with :math:`L - p_{\max}(L+1)/2` within :data:`SIGMAS` standard errors for
    the cases of :data:`ACTIVE_CASES`. Another schedule (off by one, or ``max_rate`` for
    every block), dropped blocks counted, a fraction or a total in place of the mean count,
    calls in evaluation mode and an ignored seed are named. Prints one line per property.
    """

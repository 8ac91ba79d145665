r"""Checkers for the exercises of "Monte-Carlo dropout": ``mc_predict``, ``mutual_information``, ``choose_n_samples``.

The contracts are those of :mod:`course_lib.mc_dropout`. ``mc_predict`` draws
:math:`T` stochastic passes with only the dropout modules in training mode and
returns their mean and (population) standard deviation; its checker watches the
passes through forward hooks (which modules ran in which mode, with autograd on
or off, how many input rows) and compares the results with the library's
within a stated number of standard errors, on networks whose dropout masks come
from NumPy generators (the same on every machine). ``mutual_information`` is
:math:`\mathbb H[\bar p] - \frac1T\sum_t \mathbb H[p_t]`; its checker tells the
typical confusions of the two entropies apart. ``choose_n_samples`` is the
experiment part: pick the number of passes from a pilot run's spread, so that
the standard error :math:`\sigma/\sqrt M` of the MC mean meets a target.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from course_lib.checks.report import (
    CheckReport,
    Diagnosis,
    _call,
    _checker,
    _describe,
    _Failed,
    _NO_RETURN,
    _numbers,
    _Property,
    _StudentRaised,
)
from course_lib.dropout import InvertedDropout
from course_lib.mc_dropout import (
    DROPOUT_TYPES,
    expected_entropy,
    mc_predict as _reference_predict,
    mc_samples as _reference_samples,
    mutual_information as _reference_information,
    predictive_entropy,
)
from course_lib.models import init_uniform_

__all__ = [
    "check_mc_predict",
    "check_mutual_information",
    "check_choose_n_samples",
]

SEED = 2016  # Gal & Ghahramani, "Dropout as a Bayesian approximation"
P = 0.2  # the dropout rate of every checker network
Z = 5.0  # a statistical property holds within this many standard errors


# --- mc_predict: the networks ----------------------------------------------------------------

N_INPUTS = 5  # rows of x in the plain-network properties
N_BATCH_NORM_INPUTS = 8  # rows of x on the batch-norm network (batch statistics need a batch)
N_OUTPUTS = 2
SAMPLES = 1000  # T of the student's call in the agreement properties
REFERENCE_SAMPLES = 20_000  # T of the library's reference
PASS_COUNTS = (3, 40)  # n_samples of the property that counts input rows
# Running statistics of the batch-norm network, far from those of its batches (mean ~0, variance ~1/3):
# in training mode batch norm normalizes with the batch's own statistics and gives very different outputs.
RUNNING_MEAN = (-1.5, 1.5)  # the ends of a linspace over the 16 channels
RUNNING_VAR = 4.0


@contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread while the checker runs its tiny networks (fastest, and a fixed order of reductions)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _mask_generator(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _network(*, batch_norm: bool = False, torch_dropout: bool = False, mask_seed: int = SEED) -> nn.Sequential:
    """``Linear(3, 16) [→ BatchNorm1d] → ReLU → dropout → Linear(16, 16) → ReLU → dropout → Linear(16, 2)``.

    float64, in eval mode.

    The weights come from NumPy (:func:`course_lib.models.init_uniform_`, seed
    :data:`SEED`), so every call builds the same network; the dropout modules are
    :class:`~course_lib.dropout.InvertedDropout` with NumPy generators seeded from
    ``mask_seed`` (the same masks on every machine), the second one an
    ``nn.Dropout`` if ``torch_dropout``. With ``batch_norm`` the first layer has no
    bias and is followed by batch norm whose running statistics are
    :data:`RUNNING_MEAN` and :data:`RUNNING_VAR`, far from any batch's.
    """
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialisation draws from torch's generator
        layers: list[nn.Module] = [nn.Linear(3, 16, bias=not batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(16))
        second = nn.Dropout(P) if torch_dropout else InvertedDropout(P, generator=_mask_generator(mask_seed + 2))
        first = InvertedDropout(P, generator=_mask_generator(mask_seed + 1))
        layers += [nn.ReLU(), first, nn.Linear(16, 16), nn.ReLU(), second, nn.Linear(16, N_OUTPUTS)]
    model = init_uniform_(nn.Sequential(*layers), SEED).double()
    if batch_norm:
        with torch.no_grad():
            model[1].running_mean.copy_(torch.linspace(*RUNNING_MEAN, 16, dtype=torch.float64))
            model[1].running_var.fill_(RUNNING_VAR)
    return model.eval()


def _inputs(n: int, seed: int = SEED) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, 3)))


def _batch_norm_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@dataclass(frozen=True)
class _Reference:
    r"""The library's estimate from :data:`REFERENCE_SAMPLES` passes, and how far a :data:`SAMPLES`-pass one may be.

    For :math:`T` passes :math:`y_t` with spread :math:`\sigma` and fourth central
    moment :math:`\mu_4`, the mean has standard error :math:`\sigma/\sqrt T` and the
    standard deviation about :math:`\sqrt{(\mu_4 - \sigma^4)/T}\,/\,(2\sigma)` (the
    delta method); the difference of two independent estimates has the root sum of
    squares of theirs.
    """

    mean: torch.Tensor
    std: torch.Tensor
    mean_error: torch.Tensor  # standard error of (student's mean - reference mean)
    std_error: torch.Tensor  # standard error of (student's std - reference std)


@lru_cache(maxsize=None)
def _reference(batch_norm: bool) -> _Reference:
    """The reference of the plain network (:data:`N_INPUTS` inputs) or the batch-norm one, with masks of its own."""
    model = _network(batch_norm=batch_norm, mask_seed=SEED + 100)
    x = _inputs(N_BATCH_NORM_INPUTS if batch_norm else N_INPUTS)
    with _one_thread():
        samples = _reference_samples(model, x, REFERENCE_SAMPLES)
    mean, std = samples.mean(dim=0), samples.std(dim=0, correction=0)
    fourth = ((samples - mean) ** 4).mean(dim=0)
    per_pass_std_error = (fourth - std**4).clamp_min(0).sqrt() / (2 * std)
    both = 1 / SAMPLES + 1 / REFERENCE_SAMPLES
    return _Reference(mean, std, std * math.sqrt(both), per_pass_std_error * math.sqrt(both))


# --- mc_predict: watching the passes ---------------------------------------------------------


@dataclass
class _Passes:
    """What the forward hooks saw during the student's call."""

    rows: int = 0  # input rows through the whole model
    calls: int = 0
    grad_enabled: bool = False  # a forward pass ran with autograd on
    dropout_trained: set[int] = field(default_factory=set)  # indices of dropout modules that ran in training mode
    dropout_count: int = 0
    batch_norm_trained: bool = False  # a batch norm module ran in training mode
    result_requires_grad: bool = False  # mean or std came back attached to an autograd graph


@contextmanager
def _watched(model: nn.Module) -> Iterator[_Passes]:
    """Forward pre-hooks on ``model`` (rows, autograd), its dropout modules and its batch norm modules (their modes)."""
    passes = _Passes()

    def on_model(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        passes.calls += 1
        passes.rows += int(inputs[0].shape[0]) if inputs and isinstance(inputs[0], torch.Tensor) else 0
        passes.grad_enabled |= torch.is_grad_enabled()

    def on_dropout(index: int) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            if module.training:
                passes.dropout_trained.add(index)

        return hook

    def on_batch_norm(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        passes.batch_norm_trained |= module.training

    handles = [model.register_forward_pre_hook(on_model)]
    dropouts = [m for m in model.modules() if isinstance(m, DROPOUT_TYPES)]
    passes.dropout_count = len(dropouts)
    handles += [m.register_forward_pre_hook(on_dropout(i)) for i, m in enumerate(dropouts)]
    handles += [m.register_forward_pre_hook(on_batch_norm) for m in _batch_norm_modules(model)]
    try:
        yield passes
    finally:
        for handle in handles:
            handle.remove()


_RESULT = Diagnosis(
    "a result that is not (mean, std)",
    "mc_predict returns a pair of tensors: the mean and the standard deviation over the passes, each with the "
    "model's output shape",
)
_NOT_REDUCED = Diagnosis(
    "the passes not reduced",
    "the passes are stacked along a new first axis, one entry per pass: mean and std reduce that axis and "
    "leave the model's output shape",
)
_WRONG_AXIS = Diagnosis(
    "the wrong axis reduced",
    "mean and std are taken over the passes (the new first axis of the stacked samples), not over the inputs",
)
_DROPOUT_OFF = Diagnosis(
    "dropout left off",
    "dropout is off during the passes: model.eval() switches dropout off too; after it, switch only the dropout "
    "modules (every module of DROPOUT_TYPES) back to training mode",
)
_BATCH_NORM_TRAIN = Diagnosis(
    "batch norm in training mode",
    "model.train() also switches batch norm to the statistics of the current batch (and updates its running "
    "averages): keep every module but dropout in eval mode",
)
_PASS_COUNT = Diagnosis(
    "the wrong number of passes",
    "draw exactly n_samples stochastic passes over x, each input once per pass, and no extra pass",
)
_VARIANCE = Diagnosis(
    "the variance returned as the std",
    "the second result is the standard deviation of the passes, the square root of their variance",
)
_STANDARD_ERROR = Diagnosis(
    "the standard error returned as the std",
    "std is the spread of the individual passes, which does not shrink as n_samples grows; σ/√T is the standard "
    "error of their mean, not the spread",
)
_MODES = Diagnosis(
    "the modes not restored",
    "every module's training flag must be as it was before the call: model.eval() or model.train(flag) afterwards "
    "sets all modules to one flag, so remember each module's own flag before changing any",
)
_GRADIENTS = Diagnosis(
    "samples taken with gradients enabled",
    "sampling needs no gradients: run the passes with autograd off (torch.no_grad()); otherwise T passes keep "
    "every activation alive for a backward pass that never comes",
)


def _describe_tensor(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    return _describe(value)


def _predict(
    fn: Callable[..., Any], model: nn.Module, x: torch.Tensor, n_samples: int
) -> tuple[torch.Tensor, torch.Tensor, _Passes]:
    """Call the student's ``mc_predict`` under the hooks (torch's generator forked and seeded); check the result's form.

    Returns the results detached (whether they required grad is kept in the record).
    """
    with _watched(model) as passes, torch.random.fork_rng(devices=[]), _one_thread():
        torch.manual_seed(SEED)
        result = _call(fn, model, x, n_samples)
    shape = (x.shape[0], N_OUTPUTS)
    if result is None:
        raise _Failed("a pair (mean, std) of tensors", "None", _NO_RETURN)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Failed("a pair (mean, std) of tensors", _describe_tensor(result), _RESULT)
    for name, value in zip(("mean", "std"), result):
        expected = f"{name} a float tensor of shape {shape}"
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise _Failed(expected, _describe_tensor(value), _RESULT)
        if tuple(value.shape) != shape:
            raise _Failed(expected, _describe_tensor(value), _shape_diagnosis(tuple(value.shape), n_samples, shape))
    mean, std = result
    passes.result_requires_grad = mean.requires_grad or std.requires_grad
    return mean.detach(), std.detach(), passes


def _shape_diagnosis(got: tuple[int, ...], n_samples: int, shape: tuple[int, int]) -> Diagnosis:
    if got == (n_samples, *shape):
        return _NOT_REDUCED
    if got in ((n_samples, shape[1]), (shape[1],)):
        return _WRONG_AXIS
    return _RESULT


def _root_cause(passes: _Passes, rows: int) -> Diagnosis | None:
    """The mistake the hooks saw, if any: dropout off, batch norm trained, or another number of input rows."""
    if len(passes.dropout_trained) < passes.dropout_count:
        return _DROPOUT_OFF
    if passes.batch_norm_trained:
        return _BATCH_NORM_TRAIN
    if passes.rows != rows:
        return _PASS_COUNT
    return None


def _standard_errors(difference: torch.Tensor, error: torch.Tensor) -> float:
    return float((difference.abs() / error).max())


def _returns_mean_and_std(fn: Callable[..., Any]) -> str:
    _predict(fn, _network(), _inputs(N_INPUTS), 20)
    return ""


def _dropout_is_on(fn: Callable[..., Any]) -> str:
    model = _network(torch_dropout=True)
    _, std, passes = _predict(fn, model, _inputs(N_INPUTS), 50)
    expected = "both dropout modules in training mode during the passes and std > 0 everywhere"
    dropouts = [m for m in model.modules() if isinstance(m, DROPOUT_TYPES)]
    left_off = [type(m).__name__ for index, m in enumerate(dropouts) if index not in passes.dropout_trained]
    if left_off:
        raise _Failed(expected, f"{' and '.join(left_off)} in eval mode in every pass", _DROPOUT_OFF)
    zero = int((std == 0).sum())
    if zero:
        hint = _root_cause(passes, 50 * N_INPUTS) or "every pass draws new masks: the passes differ, so std > 0"
        raise _Failed(expected, f"std = 0 for {zero} of {std.numel()} outputs", hint)
    return ""


def _draws_n_samples_passes(fn: Callable[..., Any]) -> str:
    for n_samples in PASS_COUNTS:
        _, _, passes = _predict(fn, _network(), _inputs(N_INPUTS), n_samples)
        if passes.rows != n_samples * N_INPUTS:
            expected = f"{n_samples * N_INPUTS} input rows for n_samples = {n_samples} and N = {N_INPUTS}"
            raise _Failed(expected, f"{passes.rows} rows in {passes.calls} forward calls", _PASS_COUNT)
    return ""


def _compare_mean(fn: Callable[..., Any], batch_norm: bool) -> str:
    reference = _reference(batch_norm)
    x = _inputs(N_BATCH_NORM_INPUTS if batch_norm else N_INPUTS)
    mean, _, passes = _predict(fn, _network(batch_norm=batch_norm), x, SAMPLES)
    deviation = _standard_errors(mean - reference.mean, reference.mean_error)
    if not deviation <= Z:
        largest = float((mean - reference.mean).abs().max())
        got = f"a mean {deviation:.1f} standard errors away (largest |difference| {largest:.3g})"
        hint = _root_cause(passes, SAMPLES * x.shape[0]) or "the predictive mean is the average of the passes"
        raise _Failed(f"within {Z:g} standard errors of the reference", got, hint)
    return f"largest deviation {deviation:.1f} standard errors"


def _batch_norm_uses_running_statistics(fn: Callable[..., Any]) -> str:
    return _compare_mean(fn, batch_norm=True)


def _batch_norm_statistics_unchanged(fn: Callable[..., Any]) -> str:
    model = _network(batch_norm=True)
    (norm,) = _batch_norm_modules(model)
    before = {name: buffer.clone() for name, buffer in norm.named_buffers()}
    _predict(fn, model, _inputs(N_BATCH_NORM_INPUTS), 20)
    changed = [name for name, buffer in norm.named_buffers() if not torch.equal(buffer, before[name])]
    if changed:
        expected = "running_mean, running_var and num_batches_tracked unchanged"
        raise _Failed(expected, f"{', '.join(changed)} changed", _BATCH_NORM_TRAIN)
    return ""


def _mean_agrees(fn: Callable[..., Any]) -> str:
    return _compare_mean(fn, batch_norm=False)


def _std_agrees(fn: Callable[..., Any]) -> str:
    reference = _reference(batch_norm=False)
    mean, std, passes = _predict(fn, _network(), _inputs(N_INPUTS), SAMPLES)
    deviation = _standard_errors(std - reference.std, reference.std_error)
    ratio = std / reference.std
    if deviation <= Z:
        return f"std/reference between {float(ratio.min()):.3f} and {float(ratio.max()):.3f}"
    got = f"std/reference between {float(ratio.min()):.3g} and {float(ratio.max()):.3g} ({deviation:.0f} SE)"
    raise _Failed(f"within {Z:g} standard errors of the reference", got, _std_diagnosis(std, reference, passes))


def _std_diagnosis(std: torch.Tensor, reference: _Reference, passes: _Passes) -> Diagnosis | str:
    """Dropout off or batch norm trained (seen by the hooks), else the variance or the standard error if std is one."""
    cause = _root_cause(passes, SAMPLES * N_INPUTS)
    if cause in (_DROPOUT_OFF, _BATCH_NORM_TRAIN):
        return cause
    # the variance has standard error 2σ·SE(σ) (delta method); σ/√T, the standard error of the mean, has SE(σ)/√T
    if _standard_errors(std - reference.std**2, 2 * reference.std * reference.std_error) <= Z:
        return _VARIANCE
    if _standard_errors(std - reference.std / math.sqrt(SAMPLES), reference.std_error / math.sqrt(SAMPLES)) <= Z:
        return _STANDARD_ERROR
    return cause or "std is the spread of the passes around their mean"


def _mixed_modes(model: nn.Module) -> None:
    """Training mode, but for the batch norm and the first dropout module (eval): a caller's unusual mixture."""
    model.train()
    _batch_norm_modules(model)[0].eval()
    next(m for m in model.modules() if isinstance(m, DROPOUT_TYPES)).eval()


def _modes_restored(fn: Callable[..., Any]) -> str:
    for setting, prepare in (("mixed modes", _mixed_modes), ("all in eval mode", lambda model: model.eval())):
        model = _network(batch_norm=True)
        prepare(model)
        before = [(name or "model", type(m).__name__, m.training) for name, m in model.named_modules()]
        _predict(fn, model, _inputs(N_BATCH_NORM_INPUTS), 20)
        after = [m.training for m in model.modules()]
        changed = [(name, kind, was) for (name, kind, was), now in zip(before, after) if was != now]
        if changed:
            mode = {True: "train", False: "eval"}
            shown = ", ".join(f"{name} ({kind}) {mode[was]} → {mode[not was]}" for name, kind, was in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            raise _Failed(f"every module's mode as before the call ({setting})", f"{shown}{more}", _MODES)
    return ""


def _no_gradients(fn: Callable[..., Any]) -> str:
    model = _network()
    mean, std, passes = _predict(fn, model, _inputs(N_INPUTS), 20)
    expected = "passes with autograd off, results that do not require grad, no parameter .grad"
    if passes.grad_enabled:
        raise _Failed(expected, "forward passes with autograd on", _GRADIENTS)
    if passes.result_requires_grad:
        raise _Failed(expected, "results that require grad", _GRADIENTS)
    touched = sum(p.grad is not None for p in model.parameters())
    if touched:
        hint = "nothing is trained here: predicting runs no backward pass and sets no .grad"
        raise _Failed(expected, f"{touched} parameters with .grad set", hint)
    return ""


_MC_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns (mean, std): two float tensors of the output shape (N, {N_OUTPUTS})", _returns_mean_and_std),
    (
        f"dropout on during the passes: both dropout modules (InvertedDropout, nn.Dropout; p = {P}) in training "
        "mode, std > 0",
        _dropout_is_on,
    ),
    (
        f"n_samples passes: n_samples × N input rows through the model (n_samples = {_numbers(PASS_COUNTS)[1:-1]})",
        _draws_n_samples_passes,
    ),
    (
        f"batch norm in eval mode: on a network whose running statistics differ from its batches', mean within "
        f"{Z:g} standard errors of course_lib's (T = {SAMPLES}, reference T = {REFERENCE_SAMPLES})",
        _batch_norm_uses_running_statistics,
    ),
    ("batch norm's running statistics unchanged by the call", _batch_norm_statistics_unchanged),
    (
        f"mean within {Z:g} standard errors of course_lib.mc_dropout.mc_predict (T = {SAMPLES}, reference "
        f"T = {REFERENCE_SAMPLES}, N = {N_INPUTS})",
        _mean_agrees,
    ),
    (
        f"std within {Z:g} standard errors of course_lib's (population 1/T or sample 1/(T-1) normalisation: both "
        f"accepted, they differ by {100 * (math.sqrt(SAMPLES / (SAMPLES - 1)) - 1):.2f}% at T = {SAMPLES})",
        _std_agrees,
    ),
    ("every module's mode restored after the call (mixed modes, and all in eval mode)", _modes_restored),
    ("no gradients: passes with autograd off, results without grad, no parameter .grad", _no_gradients),
]


@_checker("mc_predict(model, x, n_samples) -> (mean, std)", _MC_PROPERTIES)
def check_mc_predict(fn: Callable[..., Any]) -> CheckReport:
    """The contract is that of :func:`course_lib.mc_dropout.mc_predict` with ``tau=None``:
    ``n_samples`` stochastic passes of ``model`` on ``x`` with only the dropout
    modules (those of :data:`course_lib.mc_dropout.DROPOUT_TYPES`) in training
    mode, batch norm and everything else in eval mode, no autograd graph, and
    every module's mode restored afterwards; the result is the mean and the
    standard deviation of the passes (population or sample normalisation), each
    of the model's output shape. Forward hooks record the passes (modes,
    autograd, input rows); the statistics are compared with the library's
    within :data:`Z` standard errors. Prints one line per property.
    """


# --- mutual_information ----------------------------------------------------------------------

INFORMATION_ATOL = 1e-6  # nats; a log(p + 1e-12)-style guard stays far below it
ZERO_ATOL = 1e-12
INFORMATION_SHAPE = (20, 50, 4)  # (T, N, C) of the random samples
SHAPE_CASE = (7, 5, 3)  # T, N and C differ, so a wrong axis changes the shape


def _dirichlet_samples(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """``(T, N, C)`` probabilities: input i has a base distribution and passes scattered around it by a concentration.

    The concentrations run from 0.5 (passes that disagree: large mutual information) to 50
    (passes that nearly agree); the 0.1 added to every parameter keeps each probability
    away from 0, so the entropies are finite however they are computed.
    """
    t, n, c = shape
    rng = np.random.default_rng(seed)
    base = rng.dirichlet(np.ones(c), size=n)
    concentration = np.exp(rng.uniform(np.log(0.5), np.log(50.0), size=n))
    return np.stack([rng.dirichlet(k * b + 0.1, size=t) for k, b in zip(concentration, base)], axis=1)


def _canonical_samples() -> np.ndarray:
    return _dirichlet_samples(INFORMATION_SHAPE, SEED)


def _one_hot_samples() -> np.ndarray:
    """Five one-hot passes over six inputs and three classes: some inputs' passes agree, others' disagree."""
    labels = np.random.default_rng(SEED + 1).integers(0, 3, size=(5, 6))
    labels[:, 0] = 1  # every pass agrees on the first input: 0 exactly
    return np.eye(3)[labels]


_INFORMATION_RESULT = Diagnosis(
    "a result that is not one value per input",
    "mutual_information returns one number per input: a float tensor (or NumPy array) of shape (N,)",
)
_INFORMATION_AXIS = Diagnosis(
    "the wrong axis averaged",
    "prob_samples is (T, N, C): the passes are axis 0, the classes the last axis; the mean prediction averages "
    "over the passes",
)
_NO_CLASS_SUM = Diagnosis(
    "the entropy not summed over the classes",
    "an entropy is one number per distribution: -Σ_c p_c log p_c sums over the classes (the last axis)",
)
_PREDICTIVE = Diagnosis(
    "the predictive entropy returned",
    "this is H[p̄], the entropy of the mean prediction (total uncertainty); the mutual information subtracts the "
    "mean of the passes' own entropies from it",
)
_EXPECTED = Diagnosis(
    "the expected entropy returned",
    "this is the mean of the passes' entropies (the aleatoric part); the mutual information is the entropy of "
    "the mean prediction minus it",
)
_FLIPPED = Diagnosis(
    "the sign flipped",
    "the terms are swapped: the entropy of the mean prediction comes first, the mean of the entropies is "
    "subtracted; entropy is concave, so by Jensen's inequality the difference is >= 0",
)
_ALIKE = Diagnosis(
    "the two entropies computed alike",
    "both terms came out the same, so the difference is 0 everywhere: one is the entropy of the mean over the "
    "passes, the other the mean over the passes of each pass's entropy (average before or after the entropy)",
)
_BITS = Diagnosis(
    "the information in bits",
    "the result is in bits (log base 2): the contract measures it in nats, with the natural logarithm",
)
_LOG_ZERO = Diagnosis(
    "log(0) in the entropy",
    "a probability of exactly 0 makes p log p = 0 · (-inf) = NaN in floating point; its limit is 0, so those "
    "terms count as 0",
)
_NUMPY_INPUT = Diagnosis(
    "NumPy input not accepted",
    "prob_samples may be a NumPy array as well as a tensor: convert it before computing",
)

# Each typical mistake as a function of (entropy of the mean, mean of the entropies).
_MISTAKES: tuple[tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], Diagnosis], ...] = (
    (lambda total, aleatoric: total, _PREDICTIVE),
    (lambda total, aleatoric: aleatoric, _EXPECTED),
    (lambda total, aleatoric: aleatoric - total, _FLIPPED),
    (lambda total, aleatoric: np.zeros_like(total), _ALIKE),
    (lambda total, aleatoric: (total - aleatoric) / math.log(2), _BITS),
)


def _information(fn: Callable[..., Any], samples: np.ndarray | torch.Tensor, *, tensor: bool = True) -> np.ndarray:
    """The student's result on ``samples`` (as a float64 tensor, or as given), a float64 array of shape (N,)."""
    argument = torch.from_numpy(np.array(samples)) if tensor else samples
    result = _call(fn, argument)
    t, n, c = np.shape(samples)
    expected = f"a float tensor or array of shape ({n},)"
    if result is None:
        raise _Failed(expected, "None", _NO_RETURN)
    if isinstance(result, torch.Tensor) and result.is_floating_point():
        values = result.detach().cpu().numpy()
    elif isinstance(result, np.ndarray) and np.issubdtype(result.dtype, np.floating):
        values = result
    else:
        raise _Failed(expected, _describe_tensor(result), _INFORMATION_RESULT)
    if values.shape != (n,):
        by_shape = {(t,): _INFORMATION_AXIS, (t, n): _INFORMATION_AXIS, (n, c): _NO_CLASS_SUM}
        diagnosis = by_shape.get(values.shape, _INFORMATION_RESULT)
        raise _Failed(expected, _describe_tensor(result), diagnosis)
    return values.astype(np.float64)


def _mistake(fn: Callable[..., Any]) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], Diagnosis] | None:
    """The one typical mistake the student's result on the random samples follows, if any."""
    samples = _canonical_samples()
    try:
        values = _information(fn, samples)
    except (_Failed, _StudentRaised):
        return None
    total, aleatoric = predictive_entropy(samples), expected_entropy(samples)
    if _close(values, _reference_information(samples)):
        return None
    matching = [(rule, d) for rule, d in _MISTAKES if _close(values, rule(total, aleatoric))]
    return matching[0] if len(matching) == 1 else None


def _close(values: np.ndarray, expected: np.ndarray) -> bool:
    return bool(np.allclose(values, expected, rtol=0, atol=INFORMATION_ATOL))


def _information_failure(
    fn: Callable[..., Any], samples: np.ndarray, values: np.ndarray, expected: str, got: str, hint: Diagnosis | str
) -> _Failed:
    """The failure on ``samples``: NaN is log(0); a typical mistake that explains these values too is named."""
    if np.isnan(values).any():
        got = f"NaN for {int(np.isnan(values).sum())} of {values.size} inputs"
        return _Failed(expected, got, _LOG_ZERO if (samples == 0).any() else hint)
    mistake = _mistake(fn)
    if mistake is not None:
        rule, diagnosis = mistake
        if _close(values, rule(predictive_entropy(samples), expected_entropy(samples))):
            return _Failed(expected, got, diagnosis)
    return _Failed(expected, got, hint)


def _information_shape(fn: Callable[..., Any]) -> str:
    _information(fn, _dirichlet_samples(SHAPE_CASE, SEED + 2))
    return ""


def _information_agrees(fn: Callable[..., Any]) -> str:
    samples = _canonical_samples()
    values = _information(fn, samples)
    reference = _reference_information(samples)
    difference = float(np.abs(values - reference).max()) if not np.isnan(values).any() else math.nan
    if not difference <= INFORMATION_ATOL:
        expected = f"within {INFORMATION_ATOL:g} of the reference (values {_numbers(reference[:3])}, …)"
        hint = "MI = H[p̄] − mean over the passes of H[p_t]"
        raise _information_failure(fn, samples, values, expected, f"{_numbers(values[:3])}, …", hint)
    return f"largest difference {difference:.1e}"


def _information_nonnegative(fn: Callable[..., Any]) -> str:
    samples = _canonical_samples()
    values = _information(fn, samples)
    if not values.min() >= -ZERO_ATOL:
        got = f"{int((values < -ZERO_ATOL).sum())} of {values.size} values below 0 (smallest {values.min():.4g})"
        hint = "entropy is concave: by Jensen's inequality H[p̄] >= mean H[p_t]"
        raise _information_failure(fn, samples, values, f"every value >= {-ZERO_ATOL:g}", got, hint)
    return ""


def _information_zero_for_identical(fn: Callable[..., Any]) -> str:
    row = _dirichlet_samples((1, 6, 4), SEED + 3)
    samples = np.repeat(row, 9, axis=0)
    values = _information(fn, samples)
    if not np.abs(values).max() <= ZERO_ATOL:
        got = f"{_numbers(values)}"
        hint = "when every pass gives the same probabilities the two terms are equal: no disagreement, no information"
        raise _information_failure(fn, samples, values, f"|MI| < {ZERO_ATOL:g} for nine identical passes", got, hint)
    return ""


def _information_disagreeing_passes(fn: Callable[..., Any]) -> str:
    samples = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    values = _information(fn, samples)
    if not abs(values[0] - math.log(2)) <= INFORMATION_ATOL:
        hint = "the mean prediction is [0.5, 0.5] with entropy log 2; each pass is certain, with entropy 0"
        raise _information_failure(fn, samples, values, f"log 2 = {math.log(2):.6f}", f"{values[0]:.6g}", hint)
    return ""


def _information_one_hot(fn: Callable[..., Any]) -> str:
    samples = _one_hot_samples()
    values = _information(fn, samples)
    reference = _reference_information(samples)
    if not _close(values, reference):
        hint = "MI = H[p̄] − mean H[p_t], with 0 log 0 = 0"
        raise _information_failure(fn, samples, values, _numbers(reference), _numbers(values), hint)
    return ""


def _information_accepts_numpy(fn: Callable[..., Any]) -> str:
    samples = _dirichlet_samples((6, 4, 3), SEED + 4)
    from_tensor = _information(fn, samples)
    try:
        from_array = _information(fn, samples, tensor=False)
    except _StudentRaised as raised:
        raise _Failed("the same values for a NumPy array", f"{raised}", _NUMPY_INPUT) from None
    if not np.allclose(from_array, from_tensor, rtol=0, atol=ZERO_ATOL):
        got = f"{_numbers(from_array)} and {_numbers(from_tensor)}"
        raise _Failed("the same values for a NumPy array as for a tensor", got, _NUMPY_INPUT)
    return ""


def _information_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    samples = torch.from_numpy(_one_hot_samples())
    before = samples.clone()
    _call(fn, samples)
    if not torch.equal(samples, before):
        hint = "do not modify prob_samples in place (e.g. a clamp_ or +=): compute on a new tensor"
        raise _Failed("prob_samples unchanged after the call", "prob_samples modified", hint)
    return ""


_T, _N, _C = INFORMATION_SHAPE
_INFORMATION_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns one value per input: shape (N,) for (T, N, C) = {SHAPE_CASE}", _information_shape),
    (
        f"agrees with course_lib.mc_dropout.mutual_information within {INFORMATION_ATOL:g} nats (random (T, N, C) = "
        f"{INFORMATION_SHAPE} samples)",
        _information_agrees,
    ),
    (f"non-negative (>= {-ZERO_ATOL:g}) on the same samples", _information_nonnegative),
    (f"0 (within {ZERO_ATOL:g}) when all passes are identical", _information_zero_for_identical),
    (
        f"two certain passes that disagree, [1, 0] and [0, 1]: log 2 nats (within {INFORMATION_ATOL:g})",
        _information_disagreeing_passes,
    ),
    ("one-hot passes: no NaN from log(0), the reference's values", _information_one_hot),
    ("a NumPy array gives the same values as a tensor", _information_accepts_numpy),
    ("leaves prob_samples unchanged", _information_leaves_input_unchanged),
]


@_checker("mutual_information(prob_samples) -> mi", _INFORMATION_PROPERTIES)
def check_mutual_information(fn: Callable[..., Any]) -> CheckReport:
    r"""The contract is that of :func:`course_lib.mc_dropout.mutual_information`:
    ``(T, N, C)`` probabilities (a float64 tensor or a NumPy array) give the
    ``(N,)`` mutual information :math:`\mathbb H[\bar p] - \frac1T\sum_t \mathbb H[p_t]`
    in nats (a tensor or an array), with :math:`0 \log 0 = 0`. A wrong answer
    that is the predictive entropy, the expected entropy, their difference the
    other way round, zero, or the information in bits is named. Prints one line
    per property.
    """


# --- choose_n_samples: the experiment part -----------------------------------------------------

CHOICE_CANDIDATES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
CHOICE_PILOT = 300
# Each target is at least 10% away from every boundary σ/√M of every rule below (tests/checks/test_mc_dropout.py
# checks it), so that rounding cannot change an answer, and the typical mistakes give other answers.
CHOICE_TARGETS = (0.06, 0.019, 0.009, 0.006)
CHOICE_LOOSE_TARGET = 0.2  # above σ/√10 for every input: the smallest candidate
CHOICE_TINY_TARGET = 0.001  # below σ/√5000: no candidate
CHOICE_INPUTS = (-4.0, -1.5, 1.5, 2.0, 2.5)  # spreads from about 0.1 to 0.33
CHOICE_SHUFFLED = (2000, 20, 500, 100, 10, 5000, 50, 1000, 200)  # 2000 meets the second target and comes first


def _choice_network() -> nn.Sequential:
    """``Linear(1, 32) → ReLU → dropout → Linear(32, 32) → ReLU → dropout → Linear(32, 1)``, NumPy weights and masks."""
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialisation draws from torch's generator
        layers = [
            nn.Linear(1, 32), nn.ReLU(), InvertedDropout(P, generator=_mask_generator(SEED + 11)),
            nn.Linear(32, 32), nn.ReLU(), InvertedDropout(P, generator=_mask_generator(SEED + 12)),
            nn.Linear(32, 1),
        ]
    return init_uniform_(nn.Sequential(*layers), SEED).double().eval()


def _choice_inputs() -> torch.Tensor:
    return torch.tensor(CHOICE_INPUTS, dtype=torch.float64)[:, None]


class _RecordingPredict:
    """``predict(model, x, n_samples) -> (mean, std)``: course_lib's mc_predict, each call's n_samples and std kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, np.ndarray]] = []

    def __call__(self, model: nn.Module, x: torch.Tensor, n_samples: int, *args: Any, **kwargs: Any) -> Any:
        mean, std = _reference_predict(model, x, n_samples)
        self.calls.append((n_samples, std.numpy().ravel().copy()))
        return mean, std


def _smallest(candidates: tuple[int, ...], meets: Callable[[int], bool]) -> int | None:
    passing = [m for m in candidates if meets(m)]
    return min(passing) if passing else None


def _right_choice(sigmas: np.ndarray, target: float, candidates: tuple[int, ...]) -> int | None:
    """The contract: the smallest M with max σ / √M < target (None: no candidate, a ValueError)."""
    return _smallest(candidates, lambda m: sigmas.max() / math.sqrt(m) < target)


def _candidate_before(sigmas: np.ndarray, target: float, candidates: tuple[int, ...]) -> int | None:
    missing = [m for m in candidates if sigmas.max() / math.sqrt(m) >= target]
    return max(missing) if missing else None


_CHOICE_RESULT = Diagnosis(
    "an M that is not a candidate",
    "choose_n_samples returns one of the candidates (an int): the smallest that meets the target",
)
_CHOICE_PILOT = Diagnosis(
    "another use of predict",
    "measure the spread once: one pilot run, predict(model, x, pilot_samples), with the predict you are given; "
    "σ/√M then predicts the standard error of every candidate without running it",
)
_CHOICE_LARGEST = Diagnosis(
    "the largest candidate whatever the target",
    "the answer depends on the target: the smallest candidate M whose σ/√M is below it, so a looser target "
    "needs fewer passes",
)
_CHOICE_FALLBACK = Diagnosis(
    "the largest candidate returned when none meets the target",
    "when no candidate meets the target, returning the largest hides that the target is missed: raise ValueError "
    "naming the target and the spread",
)
_CHOICE_RULES: tuple[tuple[Callable[[np.ndarray, float, tuple[int, ...]], int | None], Diagnosis], ...] = (
    (
        lambda s, t, c: _smallest(c, lambda m: s.max() ** 2 / math.sqrt(m) < t),
        Diagnosis("the variance in place of σ", "σ is the standard deviation of the passes, not their variance"),
    ),
    (
        lambda s, t, c: _smallest(c, lambda m: s.max() / m < t),
        Diagnosis(
            "σ/M in place of σ/√M",
            "the standard error of a mean of M passes is σ/√M: the variance σ²/M shrinks with M, the standard "
            "deviation with its square root",
        ),
    ),
    (
        lambda s, t, c: _smallest(c, lambda m: math.sqrt(s.max() / m) < t),
        Diagnosis("√(σ/M) in place of σ/√M", "the square root is of M only: the standard error is σ/√M"),
    ),
    (
        lambda s, t, c: _smallest(c, lambda m: s.max() ** 2 / m < t),
        Diagnosis(
            "the variance of the mean compared with the target",
            "σ²/M is the variance of the mean: the target is a standard error, compared with σ/√M",
        ),
    ),
    (
        lambda s, t, c: _smallest(c, lambda m: s.mean() / math.sqrt(m) < t),
        Diagnosis(
            "the average spread in place of the largest",
            "the target holds for every input, so the input with the largest spread σ decides",
        ),
    ),
    (
        _candidate_before,
        Diagnosis(
            "the last candidate that misses the target",
            "the answer is the first candidate that meets the target (σ/√M below it), not the last that does not",
        ),
    ),
    (lambda s, t, c: max(c), _CHOICE_LARGEST),
)


_RAISED_VALUE_ERROR = object()  # what _choose returns for a ValueError (the answer "no candidate")


def _choose(
    fn: Callable[..., Any], target: float, candidates: list[int], *, value_error: bool = False
) -> tuple[Any, _RecordingPredict]:
    """The student's answer for ``target`` and the record of its predict calls; with ``value_error``, a ValueError
    raised by the student gives :data:`_RAISED_VALUE_ERROR`."""
    predict = _RecordingPredict()
    try:
        with _one_thread():
            model, x = _choice_network(), _choice_inputs()
            result = _call(fn, model, x, target, candidates, pilot_samples=CHOICE_PILOT, predict=predict)
    except _StudentRaised as raised:
        if not (value_error and isinstance(raised.error, ValueError)):
            raise
        result = _RAISED_VALUE_ERROR
    return result, predict


def _pilot_sigmas(predict: _RecordingPredict) -> np.ndarray:
    """The per-input spreads of the one pilot run, or a failure naming how predict was used."""
    counts = [n for n, _ in predict.calls]
    if counts != [CHOICE_PILOT]:
        got = "no call (was the predict argument used?)" if not counts else f"calls with n_samples = {_numbers(counts)}"
        raise _Failed(f"one call predict(model, x, {CHOICE_PILOT})", got, _CHOICE_PILOT)
    return predict.calls[0][1]


def _is_candidate(result: Any, candidates: tuple[int, ...]) -> bool:
    integer = isinstance(result, (int, np.integer)) and not isinstance(result, (bool, np.bool_))
    return integer and int(result) in candidates


def _require_candidate(result: Any, candidates: tuple[int, ...]) -> int:
    if result is None:
        raise _Failed("one of the candidates", "None", _NO_RETURN)
    if not _is_candidate(result, candidates):
        raise _Failed(f"one of the candidates {_numbers(candidates)}", _describe(result), _CHOICE_RESULT)
    return int(result)


def _choice_pilot_run(fn: Callable[..., Any]) -> str:
    _, predict = _choose(fn, CHOICE_TARGETS[0], list(CHOICE_CANDIDATES))
    sigmas = _pilot_sigmas(predict)
    return f"σ from {sigmas.min():.3f} to {sigmas.max():.3f} over the {sigmas.size} inputs"


_CHOICE_RULE_HINT = "the smallest candidate M with max σ/√M below the target, σ the largest spread of the pilot run"
_CHOICE_ORDER_HINT = "the smallest qualifying candidate, whatever the order of the list, not the first one listed"
_ChoiceRule = Callable[[np.ndarray, float, tuple[int, ...]], "int | None"]


def _answers_text(answers: list[int | None]) -> str:
    return "M = [" + ", ".join("ValueError" if a is None else str(a) for a in answers) + "]"


def _target_answers(fn: Callable[..., Any]) -> tuple[list[int | None], list[int | None], list[np.ndarray]]:
    """For each of :data:`CHOICE_TARGETS`: the student's answer (None: ValueError), the right one, the pilot spreads."""
    answers: list[int | None] = []
    expected: list[int | None] = []
    sigma_runs = []
    for target in CHOICE_TARGETS:
        result, predict = _choose(fn, target, list(CHOICE_CANDIDATES), value_error=True)
        sigmas = _pilot_sigmas(predict)
        answers.append(None if result is _RAISED_VALUE_ERROR else _require_candidate(result, CHOICE_CANDIDATES))
        expected.append(_right_choice(sigmas, target, CHOICE_CANDIDATES))
        sigma_runs.append(sigmas)
    return answers, expected, sigma_runs


def _matching_rule(answers: list[int | None], sigma_runs: list[np.ndarray]) -> tuple[_ChoiceRule, Diagnosis] | None:
    """The first typical wrong rule that gives every one of the answers for :data:`CHOICE_TARGETS`."""
    for rule, diagnosis in _CHOICE_RULES:
        if all(rule(s, t, CHOICE_CANDIDATES) == a for s, t, a in zip(sigma_runs, CHOICE_TARGETS, answers)):
            return rule, diagnosis
    return None


def _case_hint(
    fn: Callable[..., Any],
    answer: int,
    sigmas: np.ndarray,
    target: float,
    candidates: tuple[int, ...],
    fallback: Diagnosis | str,
) -> Diagnosis | str:
    """The wrong rule the student follows on the main targets, if it also gives ``answer`` here; else ``fallback``."""
    try:
        answers, expected, sigma_runs = _target_answers(fn)
    except (_Failed, _StudentRaised):
        return fallback
    matching = _matching_rule(answers, sigma_runs) if answers != expected else None
    if matching is not None and matching[0](sigmas, target, candidates) == answer:
        return matching[1]
    return fallback


def _choice_meets_targets(fn: Callable[..., Any]) -> str:
    answers, expected, sigma_runs = _target_answers(fn)
    if answers != expected:
        matching = _matching_rule(answers, sigma_runs)
        hint = matching[1] if matching is not None else _CHOICE_RULE_HINT
        raise _Failed(_answers_text(expected), _answers_text(answers), hint)
    return _answers_text(answers)


def _choice_loose_target(fn: Callable[..., Any]) -> str:
    result, predict = _choose(fn, CHOICE_LOOSE_TARGET, list(CHOICE_CANDIDATES))
    sigmas = _pilot_sigmas(predict)
    answer = _require_candidate(result, CHOICE_CANDIDATES)
    smallest = min(CHOICE_CANDIDATES)
    if answer != smallest:
        fallback = f"σ/√{smallest} is already below this target, so the smallest candidate meets it"
        hint = _case_hint(fn, answer, sigmas, CHOICE_LOOSE_TARGET, CHOICE_CANDIDATES, fallback)
        raise _Failed(f"M = {smallest}", f"M = {answer}", hint)
    return ""


def _choice_shuffled_candidates(fn: Callable[..., Any]) -> str:
    target = CHOICE_TARGETS[1]
    result, predict = _choose(fn, target, list(CHOICE_SHUFFLED))
    sigmas = _pilot_sigmas(predict)
    answer = _require_candidate(result, CHOICE_SHUFFLED)
    expected = _right_choice(sigmas, target, CHOICE_SHUFFLED)
    if answer != expected:
        hint = _case_hint(fn, answer, sigmas, target, CHOICE_SHUFFLED, _CHOICE_ORDER_HINT)
        raise _Failed(f"M = {expected}", f"M = {answer}", hint)
    return ""


def _choice_leaves_candidates_unchanged(fn: Callable[..., Any]) -> str:
    candidates = list(CHOICE_SHUFFLED)
    _choose(fn, CHOICE_TARGETS[1], candidates)  # the caller's list, not a copy
    if candidates != list(CHOICE_SHUFFLED):
        hint = "do not sort or change candidates in place: read it (sorted() makes a new list)"
        raise _Failed("candidates unchanged after the call", f"candidates {_numbers(candidates)}", hint)
    return ""


def _choice_unreachable_target(fn: Callable[..., Any]) -> str:
    expected = f"ValueError for target {CHOICE_TINY_TARGET:g}, below σ/√{max(CHOICE_CANDIDATES)}"
    hint: Diagnosis | str = "no candidate meets the target: raise ValueError naming the target and the spread"
    result, predict = _choose(fn, CHOICE_TINY_TARGET, list(CHOICE_CANDIDATES), value_error=True)
    if result is _RAISED_VALUE_ERROR:
        return ""
    if result is not None and not _is_candidate(result, CHOICE_CANDIDATES):
        hint = _CHOICE_RESULT
    elif result is not None:
        fallback = _CHOICE_FALLBACK if result == max(CHOICE_CANDIDATES) else hint
        if len(predict.calls) == 1:
            hint = _case_hint(fn, int(result), predict.calls[0][1], CHOICE_TINY_TARGET, CHOICE_CANDIDATES, fallback)
        else:
            hint = fallback
    raise _Failed(expected, f"a return value ({_describe(result)})", hint)


_CHOICE_PROPERTIES: list[tuple[str, _Property]] = [
    (
        f"one pilot run: predict(model, x, pilot_samples) called once (pilot_samples = {CHOICE_PILOT})",
        _choice_pilot_run,
    ),
    (
        f"the smallest candidate M with max σ/√M < target, σ the pilot's std over {len(CHOICE_INPUTS)} inputs "
        f"(targets {_numbers(CHOICE_TARGETS)}, each at least 10% from a boundary; candidates "
        f"{_numbers(CHOICE_CANDIDATES)})",
        _choice_meets_targets,
    ),
    (f"a loose target ({CHOICE_LOOSE_TARGET:g}) gives the smallest candidate", _choice_loose_target),
    ("candidates in another order: the same smallest M", _choice_shuffled_candidates),
    ("leaves candidates unchanged", _choice_leaves_candidates_unchanged),
    (f"no candidate meets target {CHOICE_TINY_TARGET:g}: raises ValueError", _choice_unreachable_target),
]


@_checker(
    "choose_n_samples(model, x, target_standard_error, candidates, pilot_samples, predict) -> n_samples",
    _CHOICE_PROPERTIES,
)
def check_choose_n_samples(fn: Callable[..., Any]) -> CheckReport:
    r"""The experiment part: one pilot run ``predict(model, x, pilot_samples)``
    measures the spread :math:`\sigma_i` of the passes at every input; the answer
    is the smallest candidate :math:`M` whose standard error
    :math:`\max_i \sigma_i/\sqrt M` is below ``target_standard_error``, and a
    ``ValueError`` if none is. The checker passes course_lib's ``mc_predict`` as
    ``predict`` (so Part 1 is graded on its own), records the spreads it
    returned, and computes the expected answer from them. Typical wrong rules
    (the variance, σ/M, the average spread, the last candidate that misses, the
    largest candidate always) are named. Prints one line per property.
    """

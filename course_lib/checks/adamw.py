"""Checkers for the exercises of the chapter "Adam vs AdamW": ``adam_l2_step``, ``adamw_step`` and ``adamw_optimizer``.

The two steps take and return float64 torch tensors ``(w, m, v)``; their
checkers follow ``torch.optim.Adam`` and ``torch.optim.AdamW`` step by step and
match a wrong answer against typical mistakes (the other form of weight decay,
no or off-by-one bias correction, ε inside the square root, …), each modelled
as a variant of one NumPy Adam step, to pick the hint. ``adamw_optimizer``
wraps ``adamw_step`` in a ``torch.optim.Optimizer``; its checker trains a small
MLP with it and with ``torch.optim.AdamW`` and names the step where they part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

import numpy as np
import torch

from course_lib.checks.report import (
    CheckReport,
    _call,
    _checker,
    _describe,
    Diagnosis,
    _Failed,
    _NO_RETURN,
    _generator,
    _numbers,
    _one_of,
    _Property,
    _require_unchanged,
    _signed_input,
    _StudentRaised,
)

__all__ = [
    "check_adam_l2_step",
    "check_adamw_step",
    "check_adamw_optimizer",
]


# --- adam_l2_step and adamw_step -----------------------------------------------------------

ADAM_SEED = 2015  # Kingma & Ba, "Adam: a method for stochastic optimization"
ADAM_RTOL = 1e-10
ADAM_ATOL = 1e-14  # absolute slack for entries that pass through 0
_MATCH_RTOL, _MATCH_ATOL = 1e-9, 1e-12  # how closely a wrong answer must follow a typical mistake to be named
_FLOAT32_RTOL = 1e-5
DEFAULT_BETAS = (0.9, 0.999)
DEFAULT_EPS = 1e-8
ADAM_STATE_NAMES = ("w", "m", "v")

# The hand-made first steps: t = 1 from m = v = 0, where bias correction gives m̂ = g and √v̂ = |g|, so the
# step is lr·g/(|g| + eps). With eps = 1 the gradients 1, -3 and 0 give 1/2, -3/4 and 0 exactly, and
# lr·weight_decay = 1/8; each typical mistake gives a different answer (tests/checks/test_adamw.py checks it).
ADAM_CASE_LR = 0.5
ADAM_CASE_EPS = 1.0
ADAM_CASE_DECAY = 0.25
ADAMW_CASE_W = (2.0, -1.0, 0.5)
ADAMW_CASE_GRAD = (1.0, -3.0, 0.0)
ADAMW_CASE_EXPECTED = (1.5, -0.5, 0.4375)  # w·(1 - 1/8) - 0.5·[1/2, -3/4, 0]
ADAM_L2_CASE_W = (2.0, -4.0, 1.0)
ADAM_L2_CASE_GRAD = (0.5, -2.0, -0.25)  # grad + 0.25·w = [1, -3, 0]
ADAM_L2_CASE_EXPECTED = (1.75, -3.625, 1.0)  # w - 0.5·[1/2, -3/4, 0]
ADAM_CASE_M = (0.1, -0.3, 0.0)  # (1 - β₁)·g for the gradient g = [1, -3, 0] that both cases feed to the moments
ADAM_CASE_V = (0.001, 0.009, 0.0)  # (1 - β₂)·g²

ADAM_BIAS_STEPS = (1, 2, 3, 10, 1000)
ADAM_ROW_SCALES = (1e-3, 1e-1, 1e1, 1e3)  # the gradient scale of each row of w in the multi-step properties
ADAM_SHAPE = (len(ADAM_ROW_SCALES), 5)
ADAM_STEPS = 100
ADAM_SHORT_STEPS = 20
# (lr, betas or None for the defaults, eps or None for the default, weight_decay) of the long runs
ADAM_SETTINGS: tuple[tuple[float, tuple[float, float] | None, float | None, float], ...] = (
    (0.01, None, None, 0.1),
    (0.05, (0.8, 0.99), 1e-6, 0.5),
)
ADAM_DECAY_W = (4.0, 1.0, 0.25, -0.5, -2.0)
ADAM_DECAY_LR = 0.1
ADAM_DECAY_WEIGHT_DECAY = 0.01
ADAM_DECAY_STEPS = 10

_AdamState = tuple[np.ndarray, np.ndarray, np.ndarray]  # (w, m, v)


@dataclass(frozen=True)
class _AdamVariant:
    """One way of computing an Adam step: the two right rules and every typical mistake are variants."""

    l2: bool = False  # weight_decay·w is added to the gradient that feeds m and v
    decoupled: bool = False  # w is also multiplied by (1 - lr·weight_decay)
    decay_lr: bool = True  # False: the decoupled factor is (1 - weight_decay)
    decay_after: bool = False  # the decoupled factor multiplies the updated weights, not the old ones
    decay_sign: float = 1.0  # -1.0: the decay pushes w away from 0
    bias_m: bool = True  # m̂ = m/(1 - β₁ᵗ)
    bias_v: bool = True  # v̂ = v/(1 - β₂ᵗ)
    t_shift: int = 0  # the bias correction uses t + t_shift
    eps_inside: bool = False  # √(v̂ + ε) instead of √v̂ + ε
    sqrt: bool = True  # False: v̂ + ε
    direction: float = -1.0  # +1.0: the step goes uphill
    betas_swapped: bool = False  # m ← (1 - β₁)·m + β₁·g
    returns_hat: bool = False  # returns m̂ and v̂ instead of m and v
    returns_v_m: bool = False  # returns (w, v, m)


@dataclass(frozen=True)
class _AdamProblem:
    """The arguments of one call: NumPy float64 arrays and numbers."""

    w: np.ndarray
    grad: np.ndarray
    m: np.ndarray
    v: np.ndarray
    t: int
    lr: float
    betas: tuple[float, float] = DEFAULT_BETAS
    eps: float = DEFAULT_EPS
    weight_decay: float = 0.01

    def step(self, variant: _AdamVariant) -> _AdamState:
        return _adam_variant_step(variant, self)


def _adam_variant_step(variant: _AdamVariant, problem: _AdamProblem) -> _AdamState:
    """One step of ``variant`` in NumPy (division by zero gives inf/nan, as it does in torch)."""
    p, (beta1, beta2) = problem, problem.betas
    with np.errstate(all="ignore"):
        g = p.grad + variant.decay_sign * p.weight_decay * p.w if variant.l2 else p.grad
        if variant.betas_swapped:
            m = (1 - beta1) * p.m + beta1 * g
            v = (1 - beta2) * p.v + beta2 * g**2
        else:
            m = beta1 * p.m + (1 - beta1) * g
            v = beta2 * p.v + (1 - beta2) * g**2
        power = p.t + variant.t_shift
        m_hat = m / (1 - beta1**power) if variant.bias_m else m
        v_hat = v / (1 - beta2**power) if variant.bias_v else v
        if variant.eps_inside:
            denominator = np.sqrt(v_hat + p.eps)
        else:
            denominator = (np.sqrt(v_hat) if variant.sqrt else v_hat) + p.eps
        step = variant.direction * p.lr * m_hat / denominator
        factor = 1.0
        if variant.decoupled:
            factor = 1 - variant.decay_sign * (p.lr if variant.decay_lr else 1.0) * p.weight_decay
        w = (p.w + step) * factor if variant.decay_after else p.w * factor + step
    m_out, v_out = (m_hat, v_hat) if variant.returns_hat else (m, v)
    return (w, v_out, m_out) if variant.returns_v_m else (w, m_out, v_out)


@dataclass(frozen=True)
class _AdamRule:
    """What distinguishes the two Adam exercises: the right variant, the torch reference and the diagnoses."""

    name: str  # the exercise, and the field of _DecayMistake that holds its diagnoses
    variant: _AdamVariant
    optimizer: str  # the torch.optim class with the same update
    generic_hint: str  # when no typical mistake matches

    @property
    def optimizer_class(self) -> type[torch.optim.Optimizer]:
        return getattr(torch.optim, self.optimizer)

    @cached_property
    def mistakes(self) -> tuple[tuple[_AdamVariant, Diagnosis], ...]:
        """The typical mistakes, each with its diagnosis: the wrong forms of decay, then those of the Adam part."""
        diagnoses = ((mistake.variant, getattr(mistake, self.name)) for mistake in _DECAY_MISTAKES)
        decay = tuple((variant, diagnosis) for variant, diagnosis in diagnoses if diagnosis is not None)
        common = tuple((replace(self.variant, **changes), diagnosis) for changes, diagnosis in _ADAM_COMMON_MISTAKES)
        return decay + common


# The mistakes in the Adam part, the same in both exercises. Each hint says what the answer did and
# which idea of the contract it misses, not the line of code that fixes it.
_ADAM_COMMON_MISTAKES: tuple[tuple[dict[str, Any], Diagnosis], ...] = (
    (
        {"bias_m": False, "bias_v": False},
        Diagnosis(
            "the missing bias correction",
            "no bias correction: m and v start at 0, so early on they underestimate the averages; "
            "the step uses m̂ = m/(1 - β₁ᵗ) and v̂ = v/(1 - β₂ᵗ)",
        ),
    ),
    (
        {"bias_m": False},
        Diagnosis("the uncorrected m", "m is not bias-corrected: like v, it starts at 0 and needs dividing by 1 - β₁ᵗ"),
    ),
    (
        {"bias_v": False},
        Diagnosis("the uncorrected v", "v is not bias-corrected: like m, it starts at 0 and needs dividing by 1 - β₂ᵗ"),
    ),
    (
        {"t_shift": -1},
        Diagnosis(
            "the bias correction with t - 1",
            "off by one in the bias correction: t counts from 1 and is already this step's number, so the "
            "correction uses t itself, not t - 1 (at t = 1, 1 - β⁰ = 0 gives nan)",
        ),
    ),
    (
        {"t_shift": 1},
        Diagnosis(
            "the bias correction with t + 1",
            "off by one in the bias correction: the t you are given is already this step's number (it counts "
            "from 1), not t + 1",
        ),
    ),
    (
        {"eps_inside": True},
        Diagnosis(
            "ε inside the square root",
            "ε is inside the square root: in torch it is added to √v̂, after the root, where it only keeps the "
            "division away from 0",
        ),
    ),
    (
        {"sqrt": False},
        Diagnosis(
            "the missing square root",
            "the square root is missing: v̂ estimates g², so only its root has the scale of the gradient",
        ),
    ),
    (
        {"direction": 1.0},
        Diagnosis("the uphill step", "sign error: the step goes uphill, along the gradient instead of against it"),
    ),
    (
        {"betas_swapped": True},
        Diagnosis(
            "β and 1 - β swapped",
            "β and 1 - β are swapped in the moving averages: the old average keeps the weight β, the new "
            "gradient gets 1 - β",
        ),
    ),
    (
        {"returns_hat": True},
        Diagnosis(
            "the bias-corrected moments returned",
            "the returned moments are the bias-corrected m̂ and v̂: the next step needs the state m and v itself",
        ),
    ),
    (
        {"returns_v_m": True},
        Diagnosis("m and v returned swapped", "m and v are swapped: the contract returns w, then m, then v"),
    ),
)


@dataclass(frozen=True)
class _DecayMistake:
    """A wrong form of weight decay, with its diagnosis in each exercise where it is a typical mistake."""

    variant: _AdamVariant
    adamw_step: Diagnosis | None = None
    adam_l2_step: Diagnosis | None = None


_ADAMW_VARIANT = _AdamVariant(decoupled=True)
_ADAM_L2_VARIANT = _AdamVariant(l2=True)
_DECAY_SIGN = "the sign error in the decay"
_DECAY_IGNORED = "the ignored weight_decay"
_DECAY_WITHOUT_LR = "the decay not multiplied by lr"
_DECAY_MISTAKES = (
    _DecayMistake(
        _ADAM_L2_VARIANT,
        adamw_step=Diagnosis(
            "Adam with L2 instead of AdamW",
            "that is Adam with L2, not AdamW: decoupled decay must not go through m and v, where √v̂ rescales it; "
            "it acts on w directly, and the moments see only grad",
        ),
    ),
    _DecayMistake(
        _ADAMW_VARIANT,
        adam_l2_step=Diagnosis(
            "AdamW's decay instead of L2",
            "that is AdamW's decoupled decay, not Adam with L2: here the penalty's gradient weight_decay·w joins "
            "grad and goes through m and v, and w is not shrunk separately",
        ),
    ),
    _DecayMistake(
        _AdamVariant(l2=True, decoupled=True),
        adamw_step=Diagnosis(
            "the decay applied twice",
            "the moments are updated with the decayed gradient grad + weight_decay·w while w is also "
            "decayed: in AdamW m and v see only grad, the decay acts on w alone",
        ),
        adam_l2_step=Diagnosis(
            "the decay applied twice",
            "w is also shrunk by (1 - lr·weight_decay): in Adam with L2 the decay acts only through the "
            "gradient, which is grad + weight_decay·w",
        ),
    ),
    _DecayMistake(
        _AdamVariant(decoupled=True, decay_lr=False),
        adamw_step=Diagnosis(
            _DECAY_WITHOUT_LR,
            "the decay is not multiplied by lr: in the torch.optim.AdamW convention w shrinks by "
            "(1 - lr·weight_decay), not (1 - weight_decay)",
        ),
        adam_l2_step=Diagnosis(
            "a decoupled decay not multiplied by lr",
            "the decay is applied as w·(1 - weight_decay), outside the gradient and not multiplied by lr: "
            "in Adam with L2 the decay is part of the gradient that feeds the moments",
        ),
    ),
    _DecayMistake(
        _AdamVariant(decoupled=True, decay_after=True),
        adamw_step=Diagnosis(
            "the decay applied after the Adam step",
            "the decay is applied after the Adam step, to the updated weights: torch.optim.AdamW shrinks the "
            "weights the step starts from; the two differ by lr²·weight_decay·m̂/(√v̂ + ε)",
        ),
    ),
    _DecayMistake(
        _AdamVariant(decoupled=True, decay_sign=-1.0),
        adamw_step=Diagnosis(
            _DECAY_SIGN, "sign error in the decay: w must shrink, by the factor (1 - lr·weight_decay) < 1, not grow"
        ),
    ),
    _DecayMistake(
        _AdamVariant(l2=True, decay_sign=-1.0),
        adam_l2_step=Diagnosis(
            _DECAY_SIGN, "sign error in the decay: the gradient of (λ/2)‖w‖² is +λw, which pulls w towards 0"
        ),
    ),
    _DecayMistake(
        _AdamVariant(),
        adamw_step=Diagnosis(
            _DECAY_IGNORED, "weight_decay is ignored: AdamW also shrinks w towards 0, apart from the gradient step"
        ),
        adam_l2_step=Diagnosis(
            _DECAY_IGNORED, "weight_decay is ignored: the L2 penalty's gradient weight_decay·w belongs in the gradient"
        ),
    ),
)


_ADAMW_RULE = _AdamRule(
    name="adamw_step",
    variant=_ADAMW_VARIANT,
    optimizer="AdamW",
    generic_hint="no typical mistake matches: compare each part with the contract: the decoupled shrink of the "
    "old w, the moving averages of grad alone, their bias correction with t, and ε outside the square root",
)
_ADAM_L2_RULE = _AdamRule(
    name="adam_l2_step",
    variant=_ADAM_L2_VARIANT,
    optimizer="Adam",
    generic_hint="no typical mistake matches: compare each part with the contract: the L2 term in the "
    "gradient, the moving averages of that gradient, their bias correction with t, and ε outside the square root",
)

_FLOAT32 = Diagnosis(
    "float32 arithmetic",
    "the result agrees only to about float32 precision: keep the input dtype (float64) in every "
    "intermediate: no .float(), and no float32 tensors made from Python numbers",
)
_ADAM_RETURN = Diagnosis(
    "a result that is not the tuple (w, m, v)",
    "the contract returns a tuple of three tensors: the new weights, the first moment and the second moment",
)
_ADAM_NUMPY = Diagnosis(
    "NumPy arrays returned", "return torch tensors, not NumPy arrays: use torch operations on the tensors you are given"
)
_ADAM_DTYPE = Diagnosis(
    "the changed dtype", "keep the input dtype: the inputs are float64 tensors; do not convert with .float() or .to(…)"
)


def _describe_tensor(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    return _describe(value)


def _adam_result(result: Any, shape: tuple[int, ...]) -> _AdamState:
    """Check that the student returned three float64 tensors of w's shape; their values as NumPy copies."""
    if result is None:
        raise _Failed("a tuple (w, m, v)", "None", _NO_RETURN)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise _Failed("a tuple (w, m, v)", _describe_tensor(result), _ADAM_RETURN)
    arrays = []
    for name, value in zip(ADAM_STATE_NAMES, result):
        expected = f"{name} a float64 tensor of shape {shape}"
        if not isinstance(value, torch.Tensor):
            diagnosis = _ADAM_NUMPY if isinstance(value, np.ndarray) else _ADAM_RETURN
            raise _Failed(expected, _describe_tensor(value), diagnosis)
        if tuple(value.shape) != shape:
            hint = f"{name} must have w's shape: every operation is elementwise"
            raise _Failed(expected, _describe_tensor(value), Diagnosis(f"the wrong shape of {name}", hint))
        if value.dtype != torch.float64:
            raise _Failed(expected, _describe_tensor(value), _ADAM_DTYPE)
        arrays.append(value.detach().cpu().numpy().copy())
    return arrays[0], arrays[1], arrays[2]


def _adam_call(fn: Callable[..., Any], problem: _AdamProblem, *, defaults: bool = False) -> _AdamState:
    """Call the student's step on tensor copies of the problem's arrays; ``defaults`` leaves betas and eps out."""
    tensors = [torch.from_numpy(np.array(a, dtype=np.float64)) for a in (problem.w, problem.grad, problem.m, problem.v)]
    options: dict[str, Any] = {"weight_decay": problem.weight_decay}
    if not defaults:
        options.update(betas=problem.betas, eps=problem.eps)
    return _adam_result(_call(fn, *tensors, problem.t, problem.lr, **options), problem.w.shape)


def _adam_differences(
    got: _AdamState, expected: _AdamState, rtol: float = ADAM_RTOL, atol: float = ADAM_ATOL
) -> list[str]:
    """The names (of w, m, v) where ``got`` and ``expected`` differ."""
    differing = []
    for name, a, b in zip(ADAM_STATE_NAMES, got, expected):
        with np.errstate(all="ignore"):
            same = a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        if not same:
            differing.append(name)
    return differing


def _differ_text(differing: list[str]) -> str:
    """``"w differs (m and v agree)"``, ``"m and v differ (w agrees)"``, ``"w, m and v differ"``."""
    agreeing = [name for name in ADAM_STATE_NAMES if name not in differing]

    def join(names: list[str]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    text = f"{join(differing)} {'differs' if len(differing) == 1 else 'differ'}"
    if agreeing:
        text += f" ({join(agreeing)} {'agrees' if len(agreeing) == 1 else 'agree'})"
    return text


_STATEFUL = Diagnosis(
    "state kept between calls",
    "the same arguments gave a different result on a second call: the step must depend only on its "
    "arguments (keep no state between calls, use the t you are given)",
)


def _adam_hint(
    rule: _AdamRule,
    fn: Callable[..., Any],
    got: _AdamState,
    problem: _AdamProblem,
    fallback: str | None = None,
    *,
    defaults: bool = False,
) -> Diagnosis | str:
    """The diagnosis of the typical mistakes whose step gives ``got`` on ``problem``, or a fallback hint.

    A mistake whose step this problem cannot tell from the right one (within the matching tolerance,
    as ε inside the square root where ε is tiny against √v̂) is not named. An answer within float32
    precision of the right one is put down to float32 arithmetic. If nothing matches, the student's
    function is called once more on the same problem: an answer that changes from call to call comes
    from hidden state (e.g. a step counter kept instead of ``t``).
    """
    right = problem.step(rule.variant)
    matching = [
        diagnosis
        for variant, diagnosis in rule.mistakes
        if not _adam_differences(got, step := problem.step(variant), _MATCH_RTOL, _MATCH_ATOL)
        and _adam_differences(step, right, _MATCH_RTOL, _MATCH_ATOL)
    ]
    if matching:
        return _one_of(matching, rule.generic_hint)
    if not _adam_differences(got, right, _FLOAT32_RTOL, 1e-9):
        return _FLOAT32
    try:
        again = _adam_call(fn, problem, defaults=defaults)
    except (_Failed, _StudentRaised):
        return _STATEFUL
    if _adam_differences(again, got, rtol=0, atol=0):
        return _STATEFUL
    return fallback or rule.generic_hint


def _torch_trajectory(
    optimizer_class: type[torch.optim.Optimizer], w0: np.ndarray, grads: np.ndarray, **options: Any
) -> list[_AdamState]:
    """(w, m, v) after each step of a torch optimizer fed the gradients ``grads`` (float64, single-tensor code path)."""
    parameter = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = optimizer_class([parameter], foreach=False, **options)
    states = []
    for grad in grads:
        parameter.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        state = optimizer.state[parameter]
        states.append(
            (parameter.detach().numpy().copy(), state["exp_avg"].numpy().copy(), state["exp_avg_sq"].numpy().copy())
        )
    return states


def _adam_gradients(steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(w0, grads): standard normal weights and a gradient sequence whose rows differ in scale by up to 10⁶."""
    rng = _generator(seed)
    w0 = rng.normal(size=ADAM_SHAPE)
    scales = np.array(ADAM_ROW_SCALES)[:, None]
    return w0, scales * (0.5 + rng.normal(size=(steps, *ADAM_SHAPE)))


def _follow_torch(
    rule: _AdamRule,
    fn: Callable[..., Any],
    optimizer_class: type[torch.optim.Optimizer],
    seed: int,
    steps: int,
    lr: float,
    betas: tuple[float, float] | None,
    eps: float | None,
    weight_decay: float,
) -> int:
    """Run the student's step beside torch's optimizer from m = v = 0; fail at the first step that differs."""
    w0, grads = _adam_gradients(steps, seed)
    defaults = betas is None and eps is None
    betas = DEFAULT_BETAS if betas is None else betas
    eps = DEFAULT_EPS if eps is None else eps
    expected_states = _torch_trajectory(
        optimizer_class, w0, grads, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay
    )
    w, m, v = w0, np.zeros_like(w0), np.zeros_like(w0)
    for t, (grad, expected) in enumerate(zip(grads, expected_states), start=1):
        problem = _AdamProblem(w, grad, m, v, t, lr, betas, eps, weight_decay)
        got = _adam_call(fn, problem, defaults=defaults)
        differing = _adam_differences(got, expected)
        if differing:
            fallback = rule.generic_hint
            if t > 1:
                fallback += "; the earlier steps agreed: the step must depend only on its arguments (keep no state)"
            reference = f"torch.optim.{optimizer_class.__name__}"
            raise _Failed(
                f"w, m and v equal to {reference}'s after every step (rtol {ADAM_RTOL:.0e})",
                f"{_differ_text(differing)} after step t = {t}",
                _adam_hint(rule, fn, got, problem, fallback, defaults=defaults),
            )
        w, m, v = got
    return steps


def _adam_returns_tensors(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        for shape in ((3, 4), (5,)):
            w = _signed_input(shape, ADAM_SEED)
            zeros = np.zeros(shape)
            _adam_call(fn, _AdamProblem(w, _signed_input(shape, ADAM_SEED + 1), zeros, zeros, 1, 1e-3))
        return ""

    return prop


def _adam_case(rule: _AdamRule) -> tuple[_AdamProblem, tuple[float, ...]]:
    w, grad, expected = (
        (ADAMW_CASE_W, ADAMW_CASE_GRAD, ADAMW_CASE_EXPECTED)
        if rule is _ADAMW_RULE
        else (ADAM_L2_CASE_W, ADAM_L2_CASE_GRAD, ADAM_L2_CASE_EXPECTED)
    )
    zeros = np.zeros(len(w))
    problem = _AdamProblem(
        np.array(w), np.array(grad), zeros, zeros, 1, ADAM_CASE_LR, DEFAULT_BETAS, ADAM_CASE_EPS, ADAM_CASE_DECAY
    )
    return problem, expected


def _adam_hand_made(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        problem, expected_w = _adam_case(rule)
        got = _adam_call(fn, problem)
        expected = (np.array(expected_w), np.array(ADAM_CASE_M), np.array(ADAM_CASE_V))
        differing = _adam_differences(got, expected, rtol=1e-12, atol=1e-15)
        if not differing:
            return ""
        shown = ("w",) if "w" in differing else ("m", "v")
        expected_text = ", ".join(f"{name} = {_numbers(expected['wmv'.index(name)])}" for name in shown)
        got_text = ", ".join(f"{name} = {_numbers(got['wmv'.index(name)])}" for name in shown)
        if got_text == expected_text:
            got_text += " (equal to 6 digits only)"
        raise _Failed(expected_text, got_text, _adam_hint(rule, fn, got, problem))

    return prop


def _adam_bias_correction(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        rng = _generator(ADAM_SEED + 2)
        w, grad, m = rng.normal(size=6), rng.normal(size=6), 0.1 * rng.normal(size=6)
        v = 0.01 * rng.uniform(0.5, 1.5, size=6)
        for t in ADAM_BIAS_STEPS:
            problem = _AdamProblem(w, grad, m, v, t, 0.01, DEFAULT_BETAS, DEFAULT_EPS, 0.1)
            got = _adam_call(fn, problem)
            differing = _adam_differences(got, problem.step(rule.variant))
            if differing:
                fallback = "use the t you are given in the bias correction: m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ)"
                raise _Failed(
                    f"the step with m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ) at t = {t} (rtol {ADAM_RTOL:.0e})",
                    _differ_text(differing),
                    _adam_hint(rule, fn, got, problem, fallback),
                )
        return f"{len(ADAM_BIAS_STEPS)} of {len(ADAM_BIAS_STEPS)} agree"

    return prop


def _adam_large_eps(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        _follow_torch(rule, fn, rule.optimizer_class, ADAM_SEED + 3, ADAM_SHORT_STEPS, 0.01, DEFAULT_BETAS, 1.0, 0.1)
        return f"{ADAM_SHORT_STEPS} of {ADAM_SHORT_STEPS} steps agree"

    return prop


def _adam_zero_decay_is_adam(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        try:
            _follow_torch(
                rule, fn, torch.optim.Adam, ADAM_SEED + 4, ADAM_SHORT_STEPS, 0.01, DEFAULT_BETAS, DEFAULT_EPS, 0.0
            )
        except _StudentRaised as raised:
            if isinstance(raised.error, ValueError):
                hint = "weight_decay = 0 is allowed (plain Adam): reject only weight_decay < 0, if anything"
                raise _Failed("a result for weight_decay = 0", str(raised), hint) from None
            raise
        return f"{ADAM_SHORT_STEPS} of {ADAM_SHORT_STEPS} steps agree"

    return prop


def _adam_agrees_with_torch(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        total = 0
        for index, (lr, betas, eps, weight_decay) in enumerate(ADAM_SETTINGS):
            total += _follow_torch(
                rule, fn, rule.optimizer_class, ADAM_SEED + 5 + index, ADAM_STEPS, lr, betas, eps, weight_decay
            )
        return f"{total} of {total} steps agree"

    return prop


def _adamw_pure_decay(fn: Callable[..., Any]) -> str:
    rule, lr, weight_decay = _ADAMW_RULE, ADAM_DECAY_LR, ADAM_DECAY_WEIGHT_DECAY
    factor = 1 - lr * weight_decay
    w = np.array(ADAM_DECAY_W)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, ADAM_DECAY_STEPS + 1):
        problem = _AdamProblem(w, np.zeros_like(w), m, v, t, lr, DEFAULT_BETAS, DEFAULT_EPS, weight_decay)
        got = _adam_call(fn, problem)
        expected = (w * factor, np.zeros_like(w), np.zeros_like(w))
        differing = _adam_differences(got, expected, rtol=1e-12, atol=0)
        if differing:
            fallback = (
                "with grad = 0 and m = v = 0 the Adam step is 0/(0 + ε) = 0, so AdamW only multiplies w "
                "by (1 - lr·weight_decay)"
            )
            got_text = f"{_differ_text(differing)} at step t = {t}: w = {_numbers(got[0])}"
            raise _Failed(f"w × {factor:g} and m = v = 0", got_text, _adam_hint(rule, fn, got, problem, fallback))
        w, m, v = got
    return f"w × {factor:g} per step, m = v = 0, for {ADAM_DECAY_STEPS} of {ADAM_DECAY_STEPS} steps"


def _adam_l2_decay_is_normalised(fn: Callable[..., Any]) -> str:
    rule, lr, weight_decay = _ADAM_L2_RULE, ADAM_DECAY_LR, ADAM_DECAY_WEIGHT_DECAY
    w = np.array(ADAM_DECAY_W)
    zeros = np.zeros_like(w)
    problem = _AdamProblem(w, zeros, zeros, zeros, 1, lr, DEFAULT_BETAS, DEFAULT_EPS, weight_decay)
    got = _adam_call(fn, problem)
    expected = problem.step(rule.variant)
    moved = np.abs(w) - np.abs(got[0])
    differing = _adam_differences(got, expected)
    if differing or not np.all(np.abs(moved - lr) < 1e-6):
        fallback = (
            "with grad = 0, g = weight_decay·w; at t = 1 the step is lr·g/(|g| + ε): every weight moves by "
            "about lr towards 0"
        )
        got_text = f"w = {_numbers(got[0])}" + (f" ({_differ_text(differing)})" if differing else "")
        raise _Failed(f"every weight {lr:g} closer to 0", got_text, _adam_hint(rule, fn, got, problem, fallback))
    return f"every |w| decreased by {lr:g} (± 1e-6)"


def _adam_leaves_inputs_unchanged(rule: _AdamRule) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        rng = _generator(ADAM_SEED + 7)
        arrays = [rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), 0.1 * rng.normal(size=(4, 5))]
        arrays.append(0.01 * rng.uniform(0.5, 1.5, size=(4, 5)))
        tensors = [torch.from_numpy(a.copy()) for a in arrays]
        _adam_result(_call(fn, *tensors, 3, 0.01, betas=DEFAULT_BETAS, eps=DEFAULT_EPS, weight_decay=0.1), (4, 5))
        examples = {"w": "`w.mul_(…)`, `w -= …`", "grad": "`grad.add_(…)`, `grad += …`"}
        examples.update(m="`m.mul_(…)`, `m.lerp_(…)`", v="`v.mul_(…)`, `v.addcmul_(…)`")
        for name, tensor, before in zip(("w", "grad", "m", "v"), tensors, arrays):
            hint = (
                f"{name} is changed in place ({examples[name]}), but the caller still holds it: work on new "
                f"tensors, or on {name}.clone()"
            )
            _require_unchanged(name, tensor.numpy(), before, Diagnosis(f"{name} changed in place", hint))
        return ""

    return prop


def _adam_properties(rule: _AdamRule) -> list[tuple[str, _Property]]:
    problem, expected = _adam_case(rule)
    case = (
        f"{rule.name}(w={problem.w.tolist()}, grad={problem.grad.tolist()}, m=0, v=0, t=1, lr={ADAM_CASE_LR}, "
        f"eps={ADAM_CASE_EPS}, weight_decay={ADAM_CASE_DECAY}) returns w = {list(expected)}, "
        f"m = {list(ADAM_CASE_M)}, v = {list(ADAM_CASE_V)}"
    )
    shrink = 1 - ADAM_CASE_LR * ADAM_CASE_DECAY
    if rule is _ADAMW_RULE:
        worked = f"at t = 1, m̂ = grad and √v̂ = |grad|: w·{shrink} - {ADAM_CASE_LR}·grad/(|grad| + 1)"
    else:
        worked = (
            f"g = grad + {ADAM_CASE_DECAY}·w = [1, -3, 0]; at t = 1, m̂ = g and √v̂ = |g|: "
            f"w - {ADAM_CASE_LR}·g/(|g| + 1)"
        )
    reference = f"torch.optim.{rule.optimizer}"
    decay_factor = 1 - ADAM_DECAY_LR * ADAM_DECAY_WEIGHT_DECAY
    decay_case = f"w = {list(ADAM_DECAY_W)}, lr = {ADAM_DECAY_LR}, weight_decay = {ADAM_DECAY_WEIGHT_DECAY}"
    if rule is _ADAMW_RULE:
        pure_decay = (
            f"grad = 0 from m = v = 0: the Adam step is 0/(0 + ε) = 0, so every weight shrinks by the same factor "
            f"1 - lr·weight_decay = {decay_factor:g} per step ({decay_case}; {ADAM_DECAY_STEPS} steps)",
            _adamw_pure_decay,
        )
    else:
        pure_decay = (
            f"grad = 0 from m = v = 0: g = weight_decay·w is divided by √v̂ = weight_decay·|w|, so every weight "
            f"moves lr = {ADAM_DECAY_LR} towards 0 whatever its size ({decay_case}; t = 1)",
            _adam_l2_decay_is_normalised,
        )
    settings = "; ".join(
        f"lr = {lr}, {f'betas = {betas}, eps = {eps:g}' if betas else 'default betas and eps'}, weight_decay = {wd}"
        for lr, betas, eps, wd in ADAM_SETTINGS
    )
    scales = f"{min(ADAM_ROW_SCALES):g} to {max(ADAM_ROW_SCALES):g}"
    return [
        ("returns (w, m, v), three float64 tensors of w's shape ((3, 4) and (5,))", _adam_returns_tensors(rule)),
        (f"{case} ({worked})", _adam_hand_made(rule)),
        (
            f"bias correction uses the t it is given: one step from the same (w, m, v) at t = "
            f"{', '.join(map(str, ADAM_BIAS_STEPS))} (rtol {ADAM_RTOL:.0e})",
            _adam_bias_correction(rule),
        ),
        (
            f"eps = 1.0 is added to √v̂, outside the square root: {ADAM_SHORT_STEPS} steps agree with "
            f"{reference}(eps=1.0) (w, m and v, rtol {ADAM_RTOL:.0e})",
            _adam_large_eps(rule),
        ),
        pure_decay,
        (
            f"weight_decay = 0 gives plain Adam: {ADAM_SHORT_STEPS} steps agree with torch.optim.Adam "
            f"(rtol {ADAM_RTOL:.0e})",
            _adam_zero_decay_is_adam(rule),
        ),
        (
            f"agrees with {reference} over {ADAM_STEPS} steps from m = v = 0 ({settings}; NumPy-drawn "
            f"gradients, rows scaled {scales}): w, m and v after every step, rtol {ADAM_RTOL:.0e}",
            _adam_agrees_with_torch(rule),
        ),
        ("leaves w, grad, m and v unchanged", _adam_leaves_inputs_unchanged(rule)),
    ]


_ADAMW_PROPERTIES = _adam_properties(_ADAMW_RULE)
_ADAM_L2_PROPERTIES = _adam_properties(_ADAM_L2_RULE)


@_checker("adam_l2_step(w, grad, m, v, t, lr, betas, eps, weight_decay) -> (w, m, v)", _ADAM_L2_PROPERTIES)
def check_adam_l2_step(fn: Callable[..., Any]) -> CheckReport:
    """The contract: one step of Adam (Kingma & Ba, 2015) with an L2 penalty in the
    gradient, ``torch.optim.Adam``'s ``weight_decay``: ``g = grad + weight_decay·w``;
    ``m ← β₁m + (1 - β₁)g``; ``v ← β₂v + (1 - β₂)g²``; ``m̂ = m/(1 - β₁ᵗ)``,
    ``v̂ = v/(1 - β₂ᵗ)``; ``w ← w - lr·m̂/(√v̂ + ε)``, with ``t`` counting from 1.
    The arguments are float64 tensors (``t`` an int, the rest numbers; defaults
    ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=1e-2``); the result is
    three new float64 tensors, the inputs are left unchanged. The checker
    compares with ``torch.optim.Adam`` over many steps and matches a wrong
    answer against typical mistakes (decoupled decay instead of L2, no or
    off-by-one bias correction, ε inside the square root, a sign error, …) to
    pick the hint. Prints one line per property.
    """


@_checker("adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay) -> (w, m, v)", _ADAMW_PROPERTIES)
def check_adamw_step(fn: Callable[..., Any]) -> CheckReport:
    """The contract: one step of AdamW (Loshchilov & Hutter, 2019) in
    ``torch.optim.AdamW``'s convention: ``w ← w·(1 - lr·weight_decay)``; then the
    Adam step on ``grad`` alone, ``m ← β₁m + (1 - β₁)grad``,
    ``v ← β₂v + (1 - β₂)grad²``, ``m̂ = m/(1 - β₁ᵗ)``, ``v̂ = v/(1 - β₂ᵗ)``,
    ``w ← w - lr·m̂/(√v̂ + ε)``, with ``t`` counting from 1. Same arguments and
    return value as :func:`check_adam_l2_step`'s function. The checker compares
    with ``torch.optim.AdamW`` over many steps, checks that with no gradient
    every weight shrinks by the same factor ``1 - lr·weight_decay``, and matches
    a wrong answer against typical mistakes (Adam with L2 instead of decoupled
    decay, the decay not multiplied by lr or applied after the step, no or
    off-by-one bias correction, ε inside the square root, …) to pick the hint.
    Prints one line per property.
    """


# --- adamw_optimizer: your AdamW as a torch optimizer --------------------------------------

OPTIMIZER_SEED = 2017  # the first preprint of Loshchilov & Hutter's decoupled weight decay
OPTIMIZER_STEPS = 50
OPTIMIZER_RTOL = 1e-10
OPTIMIZER_LR = 0.01
OPTIMIZER_DECAY = 0.1
OPTIMIZER_BIAS_LR = 0.02  # the biases' group: its own lr and no decay, so group settings must be read per group
OPTIMIZER_LAYERS = (6, 8, 3)
OPTIMIZER_ROWS, OPTIMIZER_BATCH = 64, 16


def _optimizer_problem() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """A small float64 MLP, a 3-class data set and the index of every mini-batch of the run."""
    from course_lib.models import make_mlp

    rng = _generator(OPTIMIZER_SEED)
    X = torch.from_numpy(rng.standard_normal((OPTIMIZER_ROWS, OPTIMIZER_LAYERS[0])))
    y = torch.from_numpy(rng.integers(0, OPTIMIZER_LAYERS[-1], OPTIMIZER_ROWS))
    batches = [torch.from_numpy(rng.choice(OPTIMIZER_ROWS, OPTIMIZER_BATCH, replace=False)) for _ in range(OPTIMIZER_STEPS)]
    return make_mlp(OPTIMIZER_LAYERS, seed=OPTIMIZER_SEED).double(), X, y, batches


def _groups(model: torch.nn.Module) -> list[dict[str, Any]]:
    """Weights with the defaults (lr, decay); biases with their own lr and no decay."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return [{"params": weights}, {"params": biases, "lr": OPTIMIZER_BIAS_LR, "weight_decay": 0.0}]


@dataclass(frozen=True)
class _Trajectory:
    """The mini-batch loss before each step and all weights (flattened) after it."""

    losses: tuple[float, ...]
    weights: tuple[np.ndarray, ...]


def _train(make: Callable[[list[dict[str, Any]]], torch.optim.Optimizer], steps: int = OPTIMIZER_STEPS) -> _Trajectory:
    model, X, y, batches = _optimizer_problem()
    optimizer = make(_groups(model))
    losses, weights = [], []
    for batch in batches[:steps]:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch])
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        weights.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy().copy())
    return _Trajectory(tuple(losses), tuple(weights))


class _AdamWVariant(torch.optim.Optimizer):
    """AdamW as torch computes it, or (with a flag) with a typical mistake; only used to name a mistake."""

    def __init__(self, params: Any, *, l2: bool = False, decay_after: bool = False, reset: bool = False,
                 ignore_decay: bool = False, defaults_only: bool = False) -> None:
        super().__init__(params, dict(lr=OPTIMIZER_LR, betas=DEFAULT_BETAS, eps=DEFAULT_EPS, weight_decay=OPTIMIZER_DECAY))
        self.flags = dict(l2=l2, decay_after=decay_after, reset=reset, ignore_decay=ignore_decay)
        self.defaults_only = defaults_only

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:
        for group in self.param_groups:
            settings = self.defaults if self.defaults_only else group
            lr, (beta1, beta2), eps = settings["lr"], settings["betas"], settings["eps"]
            decay = 0.0 if self.flags["ignore_decay"] else settings["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state or self.flags["reset"]:
                    state.update(m=torch.zeros_like(p), v=torch.zeros_like(p), t=0)
                state["t"] += 1
                grad = p.grad + decay * p if self.flags["l2"] else p.grad
                state["m"] = beta1 * state["m"] + (1 - beta1) * grad
                state["v"] = beta2 * state["v"] + (1 - beta2) * grad * grad
                m_hat = state["m"] / (1 - beta1 ** state["t"])
                v_hat = state["v"] / (1 - beta2 ** state["t"])
                step = lr * m_hat / (v_hat.sqrt() + eps)
                if self.flags["l2"]:
                    p.sub_(step)
                elif self.flags["decay_after"]:
                    p.sub_(step).mul_(1 - lr * decay)
                else:
                    p.mul_(1 - lr * decay).sub_(step)


_OPT_DECAY_AFTER = Diagnosis(
    "the decay after the Adam step",
    "torch's AdamW shrinks the *old* weights by 1 - lr·λ and then takes the Adam step; shrinking after the step "
    "also shrinks the step",
)
_OPT_L2 = Diagnosis(
    "an L2 term where decoupled decay belongs",
    "λ·w joined the gradient, so the moments see it and Adam divides it by √v̂: that is Adam + L2; AdamW "
    "decays the weights outside the adaptive step",
)
_OPT_RESET = Diagnosis(
    "the state rebuilt on every step",
    "m, v and t must survive from one call of step to the next: keep them in self.state[p] and create them "
    "only when it is still empty",
)
_OPT_NO_DECAY = Diagnosis("the ignored weight_decay", "each group's weight_decay must shrink its weights")
_OPT_DEFAULTS = Diagnosis(
    "the defaults used for every group",
    "read lr, betas, eps and weight_decay from each param group (`group[...]`), not from self.defaults: "
    "groups may set their own",
)
_OPT_VARIANTS: tuple[tuple[Diagnosis, dict[str, bool]], ...] = (
    (_OPT_DECAY_AFTER, dict(decay_after=True)),
    (_OPT_L2, dict(l2=True)),
    (_OPT_RESET, dict(reset=True)),
    (_OPT_NO_DECAY, dict(ignore_decay=True)),
    (_OPT_DEFAULTS, dict(defaults_only=True)),
)
_OPT_NOT_AN_OPTIMIZER = Diagnosis(
    "a result that is not a torch optimizer",
    "adamw_optimizer returns an instance of your torch.optim.Optimizer subclass, made for the params it is given",
)
_OPT_STEP_HINT = "each step must be AdamW's: torch's decoupled decay, the Adam moments and their bias correction"


def _student_optimizer(fn: Callable[..., Any], params: Any) -> torch.optim.Optimizer:
    optimizer = _call(fn, params, lr=OPTIMIZER_LR, betas=DEFAULT_BETAS, eps=DEFAULT_EPS, weight_decay=OPTIMIZER_DECAY)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise _Failed("a torch.optim.Optimizer", _describe(optimizer), _OPT_NOT_AN_OPTIMIZER)
    return optimizer


def _student_trajectory(fn: Callable[..., Any], steps: int = OPTIMIZER_STEPS) -> _Trajectory:
    def make(groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
        return _student_optimizer(fn, groups)

    try:
        return _train(make, steps)
    except (_Failed, _StudentRaised):
        raise
    except Exception as error:  # raised inside the student's step (called by _train, not through _call)
        raise _StudentRaised(error) from error


def _first_parting(got: _Trajectory, expected: _Trajectory, rtol: float) -> tuple[int, float] | None:
    """The first step (from 1) whose loss or weights differ by more than ``rtol``, with the relative difference."""
    for step, (loss, w, ref_loss, ref_w) in enumerate(zip(got.losses, got.weights, expected.losses, expected.weights), 1):
        scale = np.maximum(np.abs(ref_w), 1e-12)
        difference = max(float(np.max(np.abs(w - ref_w) / scale)), abs(loss - ref_loss) / max(abs(ref_loss), 1e-12))
        if not difference <= rtol:
            return step, difference
    return None


def _torch_adamw(groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    return torch.optim.AdamW(groups, lr=OPTIMIZER_LR, betas=DEFAULT_BETAS, eps=DEFAULT_EPS, weight_decay=OPTIMIZER_DECAY)


def _optimizer_diagnosis(got: _Trajectory) -> Diagnosis | str:
    matching = [
        diagnosis
        for diagnosis, flags in _OPT_VARIANTS
        if _first_parting(got, _train(lambda groups, flags=flags: _AdamWVariant(groups, **flags)), _MATCH_RTOL) is None
    ]
    return _one_of(matching, _OPT_STEP_HINT)


def _optimizer_is_an_optimizer(fn: Callable[..., Any]) -> str:
    model, *_ = _optimizer_problem()
    optimizer = _student_optimizer(fn, _groups(model))
    ours = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if ours != {id(p) for p in model.parameters()} or len(optimizer.param_groups) != 2:
        hint = "pass params on to torch.optim.Optimizer.__init__, which builds the param groups"
        raise _Failed("an optimizer over the 2 param groups it was given", f"{len(optimizer.param_groups)} groups", hint)
    return type(optimizer).__name__


def _optimizer_follows_torch(fn: Callable[..., Any]) -> str:
    got = _student_trajectory(fn)
    parting = _first_parting(got, _train(_torch_adamw), OPTIMIZER_RTOL)
    if parting is not None:
        step, difference = parting
        expected = f"the losses and weights of torch.optim.AdamW at every step (rtol {OPTIMIZER_RTOL:g})"
        got_text = f"a relative difference of {difference:.1e} at step {step} of {OPTIMIZER_STEPS}"
        raise _Failed(expected, got_text, _optimizer_diagnosis(got))
    return f"final loss {got.losses[-1]:.6f}"


def _optimizer_keeps_state(fn: Callable[..., Any]) -> str:
    model, X, y, batches = _optimizer_problem()
    optimizer = _student_optimizer(fn, _groups(model))
    for batch in batches[:3]:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
        _call(optimizer.step)
    expected = "state m, v (tensors of the parameter's shape) and t = 3 for every parameter after 3 steps"
    for name, p in model.named_parameters():
        state = optimizer.state.get(p, {})
        missing = [key for key in ("m", "v", "t") if key not in state]
        if missing:
            raise _Failed(expected, f"no {missing[0]!r} in the state of {name}", _OPT_STATE)
        if not all(isinstance(state[k], torch.Tensor) and state[k].shape == p.shape for k in ("m", "v")):
            raise _Failed(expected, f"m or v of another kind or shape for {name}", _OPT_STATE)
        if int(state["t"]) != 3:
            raise _Failed(expected, f"t = {state['t']} for {name}", _OPT_RESET if int(state["t"]) == 1 else _OPT_STATE)
    return ""


_OPT_STATE = Diagnosis(
    "state not kept under m, v and t",
    "keep each parameter's moments and step count in self.state[p] under the keys 'm', 'v' and 't'",
)
_OPT_NO_GRAD = Diagnosis(
    "parameters without a gradient stepped",
    "a parameter whose .grad is None took no part in the loss: skip it (no decay, no state), as torch's "
    "optimizers do",
)


def _optimizer_skips_params_without_grad(fn: Callable[..., Any]) -> str:
    used = torch.nn.Parameter(torch.from_numpy(_signed_input(4, OPTIMIZER_SEED + 1)))
    unused = torch.nn.Parameter(torch.from_numpy(_signed_input(4, OPTIMIZER_SEED + 2)))
    before = unused.detach().clone()
    optimizer = _student_optimizer(fn, [used, unused])
    for _ in range(2):
        optimizer.zero_grad()
        (used**2).sum().backward()  # unused.grad stays None
        _call(optimizer.step)
    expected = "a parameter with grad None unchanged and without state"
    if not torch.equal(unused.detach(), before):
        raise _Failed(expected, "it was changed", _OPT_NO_GRAD)
    if optimizer.state.get(unused):
        raise _Failed(expected, "state created for it", _OPT_NO_GRAD)
    optimizer.zero_grad()  # every grad None now: a step changes nothing
    stepped = used.detach().clone()
    _call(optimizer.step)
    if not torch.equal(used.detach(), stepped):
        raise _Failed("no change from a step after zero_grad() (every grad None)", "the weights changed", _OPT_NO_GRAD)
    return ""


_OPTIMIZER_PROPERTIES: list[tuple[str, _Property]] = [
    ("adamw_optimizer(params, …) returns a torch.optim.Optimizer over the given param groups", _optimizer_is_an_optimizer),
    (
        f"follows torch.optim.AdamW for {OPTIMIZER_STEPS} steps on a small MLP (float64, the same start and "
        f"mini-batches; weights lr {OPTIMIZER_LR} and λ {OPTIMIZER_DECAY}, biases lr {OPTIMIZER_BIAS_LR} and no decay; "
        f"rtol {OPTIMIZER_RTOL:g})",
        _optimizer_follows_torch,
    ),
    ("keeps m, v and t per parameter in self.state", _optimizer_keeps_state),
    ("skips parameters whose grad is None (also after zero_grad())", _optimizer_skips_params_without_grad),
]


@_checker("adamw_optimizer(params, lr, betas, eps, weight_decay) -> optimizer", _OPTIMIZER_PROPERTIES)
def check_adamw_optimizer(fn: Callable[..., Any]) -> CheckReport:
    """The optimizer it returns is a ``torch.optim.Optimizer`` that takes
    ``adamw_step``'s update for every parameter with a gradient, with each param
    group's ``lr``, ``betas``, ``eps`` and ``weight_decay``; it keeps ``m``, ``v``
    and ``t`` in ``self.state[p]`` and skips parameters whose ``grad`` is None.
    The checker trains a small float64 MLP with it and with
    ``torch.optim.AdamW`` from the same weights on the same mini-batches, and
    names the first step where the two part; decaying after the Adam step, an
    L2 term, a state rebuilt on every step, an ignored ``weight_decay`` and
    group settings ignored are recognised in the hint. Prints one line per
    property.
    """

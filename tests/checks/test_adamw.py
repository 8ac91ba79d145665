"""Tests for the Adam checkers: right answers pass, typical wrong answers are rejected with their diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.checks.adamw import (
    ADAM_CASE_DECAY,
    ADAM_CASE_EPS,
    ADAM_CASE_LR,
    ADAM_CASE_M,
    ADAM_CASE_V,
    ADAM_L2_CASE_EXPECTED,
    ADAM_L2_CASE_GRAD,
    ADAM_L2_CASE_W,
    ADAMW_CASE_EXPECTED,
    ADAMW_CASE_GRAD,
    ADAMW_CASE_W,
    _ADAM_L2_RULE,
    _ADAMW_RULE,
    _DECAY_MISTAKES,
    _AdamProblem,
    _AdamVariant,
    _adam_case,
    _adam_gradients,
    _torch_trajectory,
    check_adam_l2_step,
    check_adamw_step,
)
from course_lib.checks.report import CheckReport

from .checker_assertions import (
    assert_every_property_holds,
    assert_one_root_cause,
    assert_output_is_deterministic,
    assert_rejected,
    assert_stub_told_once,
    not_implemented,
)

ADAM_LINES = 8
HAND = "returns w = ["  # a fragment of the hand-made property's name
TRAJECTORY = "over 100 steps"
CHECKERS = [check_adamw_step, check_adam_l2_step]


# --- helpers -------------------------------------------------------------------------------


def _assert_fails_exactly(report: CheckReport, fragments: set[str]) -> None:
    """Every fragment names a failed property, and every failed property contains one of the fragments."""
    failed = [result.name for result in report.failed]
    assert {f for f in fragments if any(f in name for name in failed)} == fragments, failed
    assert all(any(f in name for f in fragments) for name in failed), failed


# --- right answers (what the exercise solutions do, and other correct ways) -----------------


def adamw_step(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    w = w * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def adam_l2_step(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    g = grad + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def adamw_step_in_place_on_clones(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """torch.optim.AdamW's own arithmetic (lerp_, addcmul_, addcdiv_), on clones of the inputs."""
    beta1, beta2 = betas
    w, m, v = w.clone(), m.clone(), v.clone()
    w.mul_(1 - lr * weight_decay)
    m.lerp_(grad, 1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denominator = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
    w.addcdiv_(m, denominator, value=-lr / (1 - beta1**t))
    return w, m, v


def adam_l2_step_in_place_on_clones(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    g = grad.add(w, alpha=weight_decay)
    m, v = m.clone().mul_(beta1).add_(g, alpha=1 - beta1), v.clone().mul_(beta2).addcmul_(g, g, value=1 - beta2)
    denominator = (v / (1 - beta2**t)).sqrt_().add_(eps)
    return w.addcdiv(m / (1 - beta1**t), denominator, value=-lr), m, v


# --- wrong AdamW steps (the first two are wrong Adam+L2 steps as well) --------------------


def _adam_update(w, g, m, v, t, lr, betas, eps):
    """The plain Adam part, right, for the wrong answers that differ elsewhere."""
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    step = lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
    return step, m, v


def decays_twice(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """Both decays at once: L2 in the gradient (so in m and v) and the decoupled shrink of w."""
    step, m, v = _adam_update(w, grad + weight_decay * w, m, v, t, lr, betas, eps)
    return w * (1 - lr * weight_decay) - step, m, v


def decay_without_lr(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """A decoupled shrink by (1 - weight_decay), not (1 - lr·weight_decay)."""
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return w * (1 - weight_decay) - step, m, v


def adamw_decay_after_the_step(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return (w - step) * (1 - lr * weight_decay), m, v


def adamw_decay_sign_flipped(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return w * (1 + lr * weight_decay) - step, m, v


def adamw_ignores_decay(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return w - step, m, v


# --- wrong Adam+L2 steps -------------------------------------------------------------------


def adam_l2_subtracts_the_penalty(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    step, m, v = _adam_update(w, grad - weight_decay * w, m, v, t, lr, betas, eps)
    return w - step, m, v


# --- mistakes in the Adam part, in both forms ------------------------------------------------


def _with_decay(adam_part):
    """The AdamW and the Adam+L2 version of a step whose Adam part is ``adam_part(w, g, m, v, t, lr, betas, eps)``."""

    def decoupled(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        step, m, v = adam_part(w, grad, m, v, t, lr, betas, eps)
        return w * (1 - lr * weight_decay) - step, m, v

    def l2(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        step, m, v = adam_part(w, grad + weight_decay * w, m, v, t, lr, betas, eps)
        return w - step, m, v

    decoupled.__name__ = f"adamw_{adam_part.__name__}"
    l2.__name__ = f"adam_l2_{adam_part.__name__}"
    return decoupled, l2


def without_bias_correction(w, g, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return lr * m / (v.sqrt() + eps), m, v


def eps_inside_the_root(w, g, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return lr * (m / (1 - beta1**t)) / (v / (1 - beta2**t) + eps).sqrt(), m, v


def without_the_root(w, g, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return lr * (m / (1 - beta1**t)) / (v / (1 - beta2**t) + eps), m, v


def bias_correction_with_t_minus_1(w, g, m, v, t, lr, betas, eps):
    return _adam_update(w, g, m, v, t - 1, lr, betas, eps)


def bias_correction_with_t_plus_1(w, g, m, v, t, lr, betas, eps):
    return _adam_update(w, g, m, v, t + 1, lr, betas, eps)


def uphill(w, g, m, v, t, lr, betas, eps):
    step, m, v = _adam_update(w, g, m, v, t, lr, betas, eps)
    return -step, m, v


def betas_swapped(w, g, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = (1 - beta1) * m + beta1 * g
    v = (1 - beta2) * v + beta2 * g**2
    return lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps), m, v


ADAMW_NO_BIAS, ADAM_L2_NO_BIAS = _with_decay(without_bias_correction)
ADAMW_EPS_INSIDE, ADAM_L2_EPS_INSIDE = _with_decay(eps_inside_the_root)
ADAMW_NO_ROOT, ADAM_L2_NO_ROOT = _with_decay(without_the_root)
ADAMW_T_MINUS_1, ADAM_L2_T_MINUS_1 = _with_decay(bias_correction_with_t_minus_1)
ADAMW_T_PLUS_1, ADAM_L2_T_PLUS_1 = _with_decay(bias_correction_with_t_plus_1)
ADAMW_UPHILL, ADAM_L2_UPHILL = _with_decay(uphill)
ADAMW_BETAS_SWAPPED, ADAM_L2_BETAS_SWAPPED = _with_decay(betas_swapped)


def adamw_returns_bias_corrected_moments(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    m = (beta1 * m + (1 - beta1) * grad) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * grad**2) / (1 - beta2**t)
    return w * (1 - lr * weight_decay) - lr * m / (v.sqrt() + eps), m, v


def adamw_returns_v_before_m(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    w, m, v = adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay)
    return w, v, m


# --- wrong in other ways: types, dtypes, in-place updates, state, exceptions ----------------


def adamw_in_float32(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return adamw_step(w.float(), grad.float(), m.float(), v.float(), t, lr, betas, eps, weight_decay)


def adamw_in_float32_then_back(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    result = adamw_step(w.float(), grad.float(), m.float(), v.float(), t, lr, betas, eps, weight_decay)
    return tuple(x.double() for x in result)


def adam_l2_with_a_float32_bias_correction(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """Right formulas, but 1 - β₂ᵗ is made a float32 tensor: the result is float64 with float32 rounding errors."""
    beta1, beta2 = betas
    g = grad + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    correction = torch.sqrt(torch.tensor(1 - beta2**t))  # float32
    return w - lr * (m / (1 - beta1**t)) / (v.sqrt() / correction + eps), m, v


def adamw_modifies_w(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    w.mul_(1 - lr * weight_decay)
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return w.sub_(step), m, v


def adamw_modifies_the_moments(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step = lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
    return w * (1 - lr * weight_decay) - step, m, v


def adam_l2_modifies_grad(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    grad.add_(w, alpha=weight_decay)
    step, m, v = _adam_update(w, grad, m, v, t, lr, betas, eps)
    return w - step, m, v


def adamw_returns_numpy(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return tuple(x.numpy() for x in adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay))


def adamw_returns_only_w(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay)[0]


def adamw_returns_nothing(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    adamw_step(w, grad, m, v, t, lr, betas, eps, weight_decay)


def adamw_sqrt_of_a_float(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    correction = torch.sqrt(1 - beta2**t)  # TypeError: sqrt(): argument 'input' must be Tensor, not float
    return w, m, v * correction


def adam_l2_rejects_zero_decay(w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    if weight_decay <= 0:
        raise ValueError(f"weight_decay must be > 0, got {weight_decay}")
    return adam_l2_step(w, grad, m, v, t, lr, betas, eps, weight_decay)


class _CountsItsOwnSteps:
    """Ignores t and counts calls instead: right only for the first trajectory it sees."""

    __name__ = "adamw_counts_its_own_steps"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, w, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        self.calls += 1
        return adamw_step(w, grad, m, v, self.calls, lr, betas, eps, weight_decay)


# --- the references pass -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_adamw_step, adamw_step),
        (check_adamw_step, adamw_step_in_place_on_clones),
        (check_adam_l2_step, adam_l2_step),
        (check_adam_l2_step, adam_l2_step_in_place_on_clones),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_right_implementation_passes_every_property(checker, fn, capsys) -> None:
    report = checker(fn)
    assert_every_property_holds(report, capsys.readouterr().out, ADAM_LINES)


def test_the_passing_lines_show_exact_values_and_counts(capsys) -> None:
    check_adamw_step(adamw_step)
    check_adam_l2_step(adam_l2_step)
    out = capsys.readouterr().out
    assert "returns w = [1.5, -0.5, 0.4375], m = [0.1, -0.3, 0.0], v = [0.001, 0.009, 0.0]" in out
    assert "returns w = [1.75, -3.625, 1.0]" in out
    assert "w × 0.999 per step, m = v = 0, for 10 of 10 steps" in out
    assert "every |w| decreased by 0.1 (± 1e-6)" in out
    assert out.count("200 of 200 steps agree") == 2 and out.count("20 of 20 steps agree") == 4


# --- the hand-made cases and the models of the typical mistakes ------------------------------


@pytest.mark.parametrize(
    ("optimizer", "w", "grad", "expected"),
    [
        (torch.optim.AdamW, ADAMW_CASE_W, ADAMW_CASE_GRAD, ADAMW_CASE_EXPECTED),
        (torch.optim.Adam, ADAM_L2_CASE_W, ADAM_L2_CASE_GRAD, ADAM_L2_CASE_EXPECTED),
    ],
    ids=["AdamW", "Adam"],
)
def test_the_hand_made_cases_are_what_torch_computes(optimizer, w, grad, expected) -> None:
    options = {"lr": ADAM_CASE_LR, "eps": ADAM_CASE_EPS, "weight_decay": ADAM_CASE_DECAY}
    ((w1, m1, v1),) = _torch_trajectory(optimizer, np.array(w), np.array([grad]), **options)
    assert np.array_equal(w1, expected)
    assert np.allclose(m1, ADAM_CASE_M, rtol=1e-15, atol=0) and np.allclose(v1, ADAM_CASE_V, rtol=1e-15, atol=0)


@pytest.mark.parametrize("rule", [_ADAMW_RULE, _ADAM_L2_RULE], ids=lambda rule: rule.name)
def test_every_modelled_mistake_gives_its_own_answer_at_the_hand_made_case(rule) -> None:
    problem, _ = _adam_case(rule)
    answers = [np.concatenate(problem.step(rule.variant))]
    answers += [np.concatenate(problem.step(variant)) for variant, _ in rule.mistakes]
    for i, a in enumerate(answers):
        for b in answers[:i]:
            assert np.isnan(a).any() != np.isnan(b).any() or np.nanmax(np.abs(a - b)) > 0.04
    assert len({hint for _, hint in rule.mistakes}) == len(rule.mistakes)


def test_each_wrong_form_of_decay_has_a_hint_in_the_exercises_where_it_is_a_mistake() -> None:
    for mistake in _DECAY_MISTAKES:
        assert mistake.adamw_step or mistake.adam_l2_step, mistake
        for rule in (_ADAMW_RULE, _ADAM_L2_RULE):
            hint = getattr(mistake, rule.name)
            if mistake.variant == rule.variant:
                assert hint is None  # the right rule is no mistake in its own exercise
            if hint is not None:
                assert (mistake.variant, hint) in rule.mistakes
    for rule in (_ADAMW_RULE, _ADAM_L2_RULE):  # the wrong forms of decay come first, in the table's order
        decay = [(m.variant, getattr(m, rule.name)) for m in _DECAY_MISTAKES if getattr(m, rule.name)]
        assert list(rule.mistakes[: len(decay)]) == decay


def test_decay_after_the_step_differs_by_lr_squared_times_decay_times_the_step() -> None:
    problem, expected = _adam_case(_ADAMW_RULE)
    right = problem.step(_AdamVariant(decoupled=True))[0]
    after = problem.step(_AdamVariant(decoupled=True, decay_after=True))[0]
    adam_step = (problem.w - problem.step(_AdamVariant())[0]) / ADAM_CASE_LR  # m̂/(√v̂ + ε)
    assert np.allclose(after - right, ADAM_CASE_LR**2 * ADAM_CASE_DECAY * adam_step, rtol=1e-12, atol=1e-15)
    assert np.max(np.abs(after - right)) > 0.04  # visible at the hand-made case


@pytest.mark.parametrize(
    ("variant", "optimizer", "weight_decay"),
    [
        (_AdamVariant(decoupled=True), torch.optim.AdamW, 0.3),
        (_AdamVariant(l2=True), torch.optim.Adam, 0.3),
        (_AdamVariant(), torch.optim.Adam, 0.0),
    ],
    ids=["AdamW", "Adam+L2", "Adam"],
)
def test_the_numpy_models_of_the_right_steps_follow_torch(variant, optimizer, weight_decay) -> None:
    """The bias-correction property compares with the NumPy model, so the model must be torch's update."""
    w0, grads = _adam_gradients(60, seed=7)
    options = {"lr": 0.02, "betas": (0.85, 0.98), "eps": 1e-4, "weight_decay": weight_decay}
    w, m, v = w0, np.zeros_like(w0), np.zeros_like(w0)
    for t, (grad, expected) in enumerate(zip(grads, _torch_trajectory(optimizer, w0, grads, **options)), start=1):
        w, m, v = _AdamProblem(w, grad, m, v, t, **options).step(variant)
        for ours, theirs in zip((w, m, v), expected):
            assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_the_gradient_rows_span_six_orders_of_magnitude() -> None:
    _, grads = _adam_gradients(100, seed=0)
    typical = np.sqrt(np.mean(grads**2, axis=(0, 2)))
    assert np.all(np.diff(np.log10(typical)) > 1.5) and typical[-1] / typical[0] > 1e5


# --- wrong steps are rejected with their diagnosis ------------------------------------------

_ADAM_L2_NOT_ADAMW = "that is Adam with L2, not AdamW: decoupled decay must not go through m and v"


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (
            adam_l2_step,
            HAND,
            ("expected w = [1.5, -0.5, 0.4375], got w = [1.7, -0.617647, 0.444444]", _ADAM_L2_NOT_ADAMW),
        ),
        (adam_l2_step, "grad = 0 from m = v = 0", ("at step t = 1", _ADAM_L2_NOT_ADAMW)),
        (adam_l2_step, TRAJECTORY, ("after step t = 1", _ADAM_L2_NOT_ADAMW)),
        (decays_twice, HAND, ("moments are updated with the decayed gradient",)),
        (decays_twice, TRAJECTORY, ("m and v see only grad",)),
        (decay_without_lr, HAND, ("not multiplied by lr", "(1 - lr·weight_decay)")),
        (decay_without_lr, "grad = 0 from", ("w = [3.96, 0.99, 0.2475, -0.495, -1.98]", "not multiplied by lr")),
        (adamw_decay_after_the_step, HAND, ("applied after the Adam step", "lr²·weight_decay")),
        (adamw_decay_after_the_step, TRAJECTORY, ("applied after the Adam step",)),
        (adamw_decay_sign_flipped, HAND, ("sign error in the decay", "not grow")),
        (adamw_ignores_decay, "grad = 0 from m = v = 0", ("weight_decay is ignored",)),
        (ADAMW_NO_BIAS, HAND, ("no bias correction",)),
        (ADAMW_NO_BIAS, "bias correction uses the t", ("no bias correction", "at t = 1")),
        (ADAMW_EPS_INSIDE, HAND, ("ε is inside the square root",)),
        (ADAMW_EPS_INSIDE, "eps = 1.0", ("after step t = 1", "ε is inside the square root")),
        (ADAMW_EPS_INSIDE, TRAJECTORY, ("ε is inside the square root",)),
        (ADAMW_NO_ROOT, HAND, ("the square root is missing",)),
        (ADAMW_T_MINUS_1, HAND, ("got w = [nan, nan, nan]", "off by one", "not t - 1")),
        (ADAMW_T_MINUS_1, "bias correction uses the t", ("off by one", "not t - 1")),
        (ADAMW_T_PLUS_1, HAND, ("off by one", "not t + 1")),
        (ADAMW_T_PLUS_1, "bias correction uses the t", ("not t + 1",)),
        (ADAMW_UPHILL, HAND, ("sign error: the step goes uphill",)),
        (ADAMW_BETAS_SWAPPED, HAND, ("β and 1 - β are swapped",)),
        (adamw_returns_bias_corrected_moments, HAND, ("m = [1, -3, 0], v = [1, 9, 0]", "the bias-corrected m̂ and v̂")),
        (adamw_returns_bias_corrected_moments, TRAJECTORY, ("m and v differ (w agrees) after step t = 1",)),
        (adamw_returns_v_before_m, HAND, ("m and v are swapped",)),
        (_CountsItsOwnSteps(), "bias correction uses the t", ("keep no state",)),
        (not_implemented, HAND, ("NotImplementedError", "replace `raise NotImplementedError()`")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_adamw_step_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_adamw_step(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (adamw_step, HAND, ("expected w = [1.75, -3.625, 1], got w = [1.58333, -3.16667, 0.975]", "not Adam with L2")),
        (adamw_step, "grad = 0 from", ("expected every weight 0.1 closer to 0", "that is AdamW's decoupled decay")),
        (adamw_step, TRAJECTORY, ("AdamW's decoupled decay", "goes through m and v")),
        (decays_twice, HAND, ("w is also shrunk by (1 - lr·weight_decay)",)),
        (decay_without_lr, HAND, ("not multiplied by lr", "outside the gradient")),
        (adam_l2_subtracts_the_penalty, HAND, ("sign error in the decay", "+λw")),
        (adamw_ignores_decay, HAND, ("weight_decay is ignored",)),
        (ADAM_L2_NO_BIAS, HAND, ("no bias correction",)),
        (ADAM_L2_EPS_INSIDE, HAND, ("ε is inside the square root",)),
        (ADAM_L2_EPS_INSIDE, "eps = 1.0", ("ε is inside the square root", "torch.optim.Adam's")),
        (ADAM_L2_NO_ROOT, HAND, ("the square root is missing",)),
        (ADAM_L2_T_MINUS_1, HAND, ("not t - 1",)),
        (ADAM_L2_T_PLUS_1, HAND, ("not t + 1",)),
        (ADAM_L2_UPHILL, HAND, ("the step goes uphill",)),
        (ADAM_L2_BETAS_SWAPPED, TRAJECTORY, ("β and 1 - β are swapped",)),
        (adam_l2_rejects_zero_decay, "weight_decay = 0", ("weight_decay = 0 is allowed",)),
        (adam_l2_modifies_grad, "leaves w, grad, m and v unchanged", ("grad modified", "grad.add_")),
        (not_implemented, TRAJECTORY, ("NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_adam_l2_step_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_adam_l2_step(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (adamw_in_float32, "returns (w, m, v)", ("got a float32 tensor of shape (3, 4)", "keep the input dtype")),
        (adamw_in_float32, TRAJECTORY, ("keep the input dtype",)),
        (adamw_in_float32_then_back, TRAJECTORY, ("float32 precision", "keep the input dtype")),
        (adamw_in_float32_then_back, HAND, ("(equal to 6 digits only)", "float32 precision")),
        (adamw_returns_numpy, "returns (w, m, v)", ("got a float64 array of shape (3, 4)", "return torch tensors")),
        (adamw_returns_only_w, "returns (w", ("a tuple (w, m, v)", "float64 tensor of shape (3, 4)", "three tensors")),
        (adamw_returns_nothing, "returns (w, m, v)", ("got None", "did you forget to return")),
        (adamw_modifies_w, "leaves w, grad, m and v unchanged", ("w modified", "w.clone()")),
        (adamw_modifies_the_moments, "leaves w, grad, m and v unchanged", ("m modified", "m.clone()")),
        (adamw_sqrt_of_a_float, HAND, ("got TypeError: sqrt(): argument 'input'",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_types_and_side_effects_are_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    assert_rejected(check_adamw_step(fn), property_fragment, *phrases)


def test_a_float32_intermediate_is_told_to_keep_the_dtype() -> None:
    report = check_adam_l2_step(adam_l2_with_a_float32_bias_correction)
    assert_rejected(report, TRAJECTORY, "float32 precision", "keep the input dtype")


@pytest.mark.parametrize(
    ("checker", "fn", "failing"),
    [
        (check_adamw_step, adamw_modifies_w, {"leaves w"}),
        (check_adamw_step, adamw_modifies_the_moments, {"leaves w"}),
        (check_adam_l2_step, adam_l2_modifies_grad, {"leaves w"}),
        (check_adam_l2_step, adam_l2_rejects_zero_decay, {"weight_decay = 0 gives plain Adam"}),
        # the decay mistakes vanish when weight_decay = 0: plain Adam is still right
        (check_adamw_step, adam_l2_step, {HAND, "bias correction", "eps = 1.0", "grad = 0", TRAJECTORY}),
        (check_adam_l2_step, adamw_step, {HAND, "bias correction", "eps = 1.0", "grad = 0", TRAJECTORY}),
        # only the bias correction is wrong, so the pure decay with m = v = 0 is still right
        (check_adamw_step, ADAMW_NO_BIAS, {HAND, "bias correction", "eps = 1.0", "plain Adam", TRAJECTORY}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_mistake_fails_only_the_properties_it_breaks(checker, fn, failing: set[str]) -> None:
    _assert_fails_exactly(checker(fn), failing)


# --- one root mistake is named once -------------------------------------------------------

_DECAY_AFTER_HINT = "the decay is applied after the Adam step, to the updated weights"


def test_decay_after_the_step_is_diagnosed_once_and_its_other_failures_are_consequences(capsys) -> None:
    report = check_adamw_step(adamw_decay_after_the_step)
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    failing = [line for line in lines if line.startswith("✗ ")]
    assert len(failing) == len(report.failed) == 4
    assert printed.count(_DECAY_AFTER_HINT) == 1 and printed.count("lr²·weight_decay") == 1
    assert HAND in failing[0] and failing[0].endswith("lr²·weight_decay·m̂/(√v̂ + ε)")
    consequence = " — a consequence of the decay applied after the Adam step (see above)"
    assert all(line.endswith(consequence) for line in failing[1:])
    assert any("bias correction uses the t" in line for line in failing[1:])  # the review's example
    assert any("eps = 1.0 is added" in line for line in failing[1:])
    assert lines[-1] == (
        "Diagnosis: the decay applied after the Adam step — it explains all 4 ✗ lines; the hint is on the first"
    )
    assert len(lines) == ADAM_LINES + 1
    assert_one_root_cause(report, printed, "torch.optim.AdamW shrinks the weights the step starts from")


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (adam_l2_step, "Adam with L2 instead of AdamW"),
        (decays_twice, "the decay applied twice"),
        (decay_without_lr, "the decay not multiplied by lr"),
        (adamw_decay_after_the_step, "the decay applied after the Adam step"),
        (adamw_decay_sign_flipped, "the sign error in the decay"),
        (adamw_ignores_decay, "the ignored weight_decay"),
        (ADAMW_NO_BIAS, "the missing bias correction"),
        (ADAMW_EPS_INSIDE, "ε inside the square root"),
        (ADAMW_NO_ROOT, "the missing square root"),
        (ADAMW_T_MINUS_1, "the bias correction with t - 1"),
        (ADAMW_T_PLUS_1, "the bias correction with t + 1"),
        (ADAMW_UPHILL, "the uphill step"),
        (ADAMW_BETAS_SWAPPED, "β and 1 - β swapped"),
        (adamw_returns_bias_corrected_moments, "the bias-corrected moments returned"),
        (adamw_returns_v_before_m, "m and v returned swapped"),
        (adamw_in_float32_then_back, "float32 arithmetic"),
        (adamw_in_float32, "the changed dtype"),
        (adamw_returns_numpy, "NumPy arrays returned"),
        (adamw_returns_nothing, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_each_typical_adamw_mistake_is_the_one_diagnosis_of_its_failures(fn, name: str, capsys) -> None:
    diagnosis = assert_one_root_cause(check_adamw_step(fn), capsys.readouterr().out)
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (adamw_step, "AdamW's decay instead of L2"),
        (decays_twice, "the decay applied twice"),
        (decay_without_lr, "a decoupled decay not multiplied by lr"),
        (adam_l2_subtracts_the_penalty, "the sign error in the decay"),
        (adamw_ignores_decay, "the ignored weight_decay"),
        (ADAM_L2_NO_BIAS, "the missing bias correction"),
        (ADAM_L2_EPS_INSIDE, "ε inside the square root"),
        (ADAM_L2_NO_ROOT, "the missing square root"),
        (ADAM_L2_T_MINUS_1, "the bias correction with t - 1"),
        (ADAM_L2_T_PLUS_1, "the bias correction with t + 1"),
        (ADAM_L2_UPHILL, "the uphill step"),
        (ADAM_L2_BETAS_SWAPPED, "β and 1 - β swapped"),
        (adam_l2_with_a_float32_bias_correction, "float32 arithmetic"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_each_typical_adam_l2_mistake_is_the_one_diagnosis_of_its_failures(fn, name: str, capsys) -> None:
    diagnosis = assert_one_root_cause(check_adam_l2_step(fn), capsys.readouterr().out)
    assert diagnosis.name == name


@pytest.mark.parametrize("rule", [_ADAMW_RULE, _ADAM_L2_RULE], ids=lambda rule: rule.name)
def test_every_modelled_mistake_has_its_own_short_name_and_a_hint_that_is_no_solution_line(rule) -> None:
    diagnoses = [diagnosis for _, diagnosis in rule.mistakes]
    assert len({diagnosis.name for diagnosis in diagnoses}) == len(diagnoses)
    for diagnosis in diagnoses:
        assert diagnosis.name and len(diagnosis.name) <= 50, diagnosis
        assert "`" not in diagnosis.hint and "←" not in diagnosis.hint, diagnosis  # no code, no update recipe
    assert "←" not in rule.generic_hint and "in this order" not in rule.generic_hint


def test_a_mistake_the_input_cannot_tell_from_the_right_step_is_not_named(capsys) -> None:
    """At eps = 1e-8, ε inside or outside √v̂ differ by less than the matching tolerance: float32 rounding is named."""
    report = check_adam_l2_step(adam_l2_with_a_float32_bias_correction)
    assert all(result.diagnosis.name == "float32 arithmetic" for result in report.failed)
    assert "ε is inside" not in capsys.readouterr().out


# --- student exceptions and determinism ----------------------------------------------------


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_an_untouched_stub_fails_every_property_and_says_so_once(checker, capsys) -> None:
    report = checker(not_implemented)
    assert len(report) == ADAM_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_a_type_error_is_reported_not_raised_and_explained_once(checker, capsys) -> None:
    report = checker(adamw_sqrt_of_a_float)
    assert not report and len(report.failed) == ADAM_LINES
    printed = capsys.readouterr().out
    failing = printed.splitlines()[:-1]
    assert all("got TypeError: sqrt(): argument 'input'" in line for line in failing)
    assert "your function raised an exception on this input" in failing[0]
    assert all(line.endswith("a consequence of the TypeError your function raised (see above)") for line in failing[1:])
    assert_one_root_cause(report, printed)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_checkers_reject_a_non_callable(checker) -> None:
    with pytest.raises(TypeError, match="fn must be a function"):
        checker(np.zeros(3))


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_adamw_step, adamw_step),
        (check_adamw_step, adam_l2_step),
        (check_adamw_step, ADAMW_T_MINUS_1),
        (check_adamw_step, adamw_in_float32_then_back),
        (check_adam_l2_step, adam_l2_step),
        (check_adam_l2_step, adamw_step),
        (check_adam_l2_step, not_implemented),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)


def test_the_checkers_leave_torch_global_state_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    check_adamw_step(adamw_step)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_default_dtype() == dtype and torch.get_num_threads() == threads


# --- adamw_optimizer -----------------------------------------------------------------------

from course_lib.checks.adamw import _AdamWVariant, check_adamw_optimizer  # noqa: E402

OPTIMIZER_LINES = 4


def _adamw_update(w, grad, m, v, t, lr, betas, eps, weight_decay):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    step = lr * (m / (1 - beta1**t)) / (torch.sqrt(v / (1 - beta2**t)) + eps)
    return w * (1 - lr * weight_decay) - step, m, v


class YourAdamW(torch.optim.Optimizer):
    """The reference: adamw_step for every parameter with a gradient, state m, v, t in self.state."""

    keys = ("m", "v", "t")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _parameters(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p

    @torch.no_grad()
    def step(self, closure=None):
        m_key, v_key, t_key = self.keys
        for group, p in self._parameters():
            state = self.state[p]
            if not state:
                state[m_key], state[v_key], state[t_key] = torch.zeros_like(p), torch.zeros_like(p), 0
            state[t_key] += 1
            new_w, state[m_key], state[v_key] = _adamw_update(
                p, p.grad, state[m_key], state[v_key], state[t_key],
                group["lr"], group["betas"], group["eps"], group["weight_decay"],
            )
            p.copy_(new_w)


def _factory(cls):
    return lambda params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2: cls(
        params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay
    )


def adamw_optimizer(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return YourAdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def _variant(**flags):
    return lambda params, **settings: _AdamWVariant(params, **flags)


class _OtherKeys(YourAdamW):
    keys = ("exp_avg", "exp_avg_sq", "step")


class _NoneAsZero(YourAdamW):
    """Steps every parameter, treating a missing gradient as zero: unused weights are decayed."""

    def _parameters(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                yield group, p


class _NoSkip(YourAdamW):
    def _parameters(self):
        for group in self.param_groups:
            for p in group["params"]:
                yield group, p


def test_adamw_optimizer_reference_passes(capsys) -> None:
    assert_every_property_holds(check_adamw_optimizer(adamw_optimizer), capsys.readouterr().out, OPTIMIZER_LINES)


def test_the_variant_without_a_flag_is_torch_adamw(capsys) -> None:
    assert_every_property_holds(check_adamw_optimizer(_variant()), capsys.readouterr().out, OPTIMIZER_LINES)


@pytest.mark.parametrize(
    "fn, property_fragment, phrases",
    [
        (_variant(decay_after=True), "follows torch.optim.AdamW", ("at step 1 of 50", "*old* weights")),
        (_variant(l2=True), "follows torch.optim.AdamW", ("at step 1 of 50", "Adam + L2")),
        (_variant(reset=True), "follows torch.optim.AdamW", ("at step 2 of 50", "survive from one call")),
        (_variant(ignore_decay=True), "follows torch.optim.AdamW", ("at step 1 of 50", "weight_decay must shrink")),
        (_variant(defaults_only=True), "follows torch.optim.AdamW", ("at step 1 of 50", "each param group")),
        (_variant(reset=True), "keeps m, v and t", ("t = 1 for 0.weight",)),
        (_factory(_OtherKeys), "keeps m, v and t", ("no 'm' in the state of 0.weight", "'m', 'v' and 't'")),
        (_factory(_NoneAsZero), "grad is None", ("it was changed", "skip it")),
        (_factory(_NoSkip), "grad is None", ("got TypeError",)),
        (lambda params, **settings: YourAdamW, "returns a torch.optim.Optimizer", ("got a type", "an instance")),
    ],
)
def test_wrong_adamw_optimizer_is_rejected(fn, property_fragment, phrases, capsys) -> None:
    assert_rejected(check_adamw_optimizer(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


def test_a_state_rebuilt_every_step_is_one_root_cause(capsys) -> None:
    assert_one_root_cause(check_adamw_optimizer(_variant(reset=True)), capsys.readouterr().out, "self.state[p]")


def test_adamw_optimizer_stub_and_determinism(capsys) -> None:
    assert_stub_told_once(check_adamw_optimizer(not_implemented), capsys.readouterr().out)
    assert_output_is_deterministic(check_adamw_optimizer, _variant(decay_after=True), capsys)

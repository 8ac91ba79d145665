"""Tests for course_lib.checks.mc_dropout: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import checks
from course_lib.checks import mc_dropout as mc_checks
from course_lib.checks.mc_dropout import check_choose_n_samples, check_mc_predict, check_mutual_information
from course_lib.mc_dropout import DROPOUT_TYPES, expected_entropy, mc_predict, mutual_information, predictive_entropy

from .checker_assertions import (
    run_checker,
    assert_every_property_holds,
    assert_fails_exactly,
    assert_one_root_cause,
    assert_output_is_deterministic,
    assert_rejected,
    assert_stub_told_once,
    failed_names,
    not_implemented,
)

MC_LINES, INFORMATION_LINES, CHOICE_LINES = 9, 8, 6


# --- mc_predict: a from-scratch solution and its wrong twins ------------------------------------


def _passes(model, x, n_samples, *, modes="dropout only", grad=False, dropout_types=DROPOUT_TYPES, restore=True):
    """Stack n_samples passes: modes "dropout only" (right), "eval" (dropout off) or "train" (batch norm too)."""
    saved = [(module, module.training) for module in model.modules()]
    try:
        model.train(modes == "train")
        if modes == "dropout only":
            for module in model.modules():
                if isinstance(module, dropout_types):
                    module.train()
        with torch.set_grad_enabled(grad):
            return torch.stack([model(x) for _ in range(n_samples)])
    finally:
        if restore:
            for module, training in saved:
                module.training = training


def loop_mc_predict(model, x, n_samples):
    """The notebook's solution: a loop of passes, the sample (1/(T-1)) standard deviation."""
    samples = _passes(model, x, n_samples)
    return samples.mean(dim=0), samples.std(dim=0)


def batched_mc_predict(model, x, n_samples):
    """All passes as one batch of n_samples × N rows (x repeated), the population standard deviation."""
    saved = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        for module in model.modules():
            if isinstance(module, DROPOUT_TYPES):
                module.train()
        with torch.no_grad():
            samples = model(x.repeat(n_samples, 1)).reshape(n_samples, x.shape[0], -1)
    finally:
        for module, training in saved:
            module.training = training
    return samples.mean(dim=0), samples.std(dim=0, correction=0)


def dropout_left_off(model, x, n_samples):
    samples = _passes(model, x, n_samples, modes="eval")
    return samples.mean(dim=0), samples.std(dim=0)


def only_torch_dropout(model, x, n_samples):
    samples = _passes(model, x, n_samples, dropout_types=nn.Dropout)  # misses course_lib's InvertedDropout
    return samples.mean(dim=0), samples.std(dim=0)


def batch_norm_in_training_mode(model, x, n_samples):
    samples = _passes(model, x, n_samples, modes="train")
    return samples.mean(dim=0), samples.std(dim=0)


def returns_variance(model, x, n_samples):
    samples = _passes(model, x, n_samples)
    return samples.mean(dim=0), samples.var(dim=0)


def returns_standard_error(model, x, n_samples):
    samples = _passes(model, x, n_samples)
    return samples.mean(dim=0), samples.std(dim=0) / math.sqrt(n_samples)


def modes_not_restored(model, x, n_samples):
    samples = _passes(model, x, n_samples, restore=False)
    return samples.mean(dim=0), samples.std(dim=0)


def restores_one_flag(model, x, n_samples):
    was_training = model.training
    samples = _passes(model, x, n_samples, restore=False)
    model.train(was_training)  # every module gets the root's flag
    return samples.mean(dim=0), samples.std(dim=0)


def with_gradients(model, x, n_samples):
    samples = _passes(model, x, n_samples, grad=True)
    return samples.mean(dim=0), samples.std(dim=0)


def detached_at_the_end(model, x, n_samples):
    samples = _passes(model, x, n_samples, grad=True).detach()  # the graph was built all the same
    return samples.mean(dim=0), samples.std(dim=0)


def fixed_hundred_passes(model, x, n_samples):
    return loop_mc_predict(model, x, 100)


def returns_the_samples(model, x, n_samples):
    samples = _passes(model, x, n_samples)
    return samples, samples.std(dim=0)


def averages_over_inputs(model, x, n_samples):
    samples = _passes(model, x, n_samples)
    return samples.mean(dim=1), samples.std(dim=1)


def returns_numpy(model, x, n_samples):
    mean, std = loop_mc_predict(model, x, n_samples)
    return mean.numpy(), std.numpy()


def returns_only_the_mean(model, x, n_samples):
    return loop_mc_predict(model, x, n_samples)[0]


def mc_predict_returns_none(model, x, n_samples):
    loop_mc_predict(model, x, n_samples)


def raises_type_error(model, x, n_samples):
    raise TypeError("unsupported operand")


@pytest.mark.parametrize("fn", [mc_predict, loop_mc_predict, batched_mc_predict], ids=lambda f: f.__name__)
def test_mc_predict_references_pass_every_property(fn, capsys) -> None:
    report = check_mc_predict(fn)
    assert_every_property_holds(report, capsys.readouterr().out, MC_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (dropout_left_off, "dropout on", ("in eval mode in every pass", "model.eval() switches dropout off too")),
        (only_torch_dropout, "dropout on", ("InvertedDropout in eval mode", "DROPOUT_TYPES")),
        (batch_norm_in_training_mode, "batch norm in eval mode", ("errors away", "statistics of the current batch")),
        (batch_norm_in_training_mode, "statistics unchanged", ("running_mean, running_var, num_batches_tracked",)),
        (returns_variance, "std within", ("std/reference between", "square root of their variance")),
        (returns_standard_error, "std within", ("does not shrink as n_samples grows",)),
        (modes_not_restored, "mode restored", ("train → eval", "training flag must be as it was")),
        (restores_one_flag, "mode restored", ("(mixed modes)", "BatchNorm1d) eval → train", "one flag")),
        (with_gradients, "no gradients", ("autograd on", "torch.no_grad()")),
        (detached_at_the_end, "no gradients", ("forward passes with autograd on",)),
        (fixed_hundred_passes, "n_samples passes", ("15 input rows", "got 500 rows in 100 forward calls", "exactly")),
        (returns_the_samples, "returns (mean, std)", ("shape (20, 5, 2)", "new first axis")),
        (averages_over_inputs, "returns (mean, std)", ("shape (20, 2)", "not over the inputs")),
        (returns_numpy, "returns (mean, std)", ("a float64 array", "a pair of tensors")),
        (returns_only_the_mean, "returns (mean, std)", ("a pair (mean, std)", "a float64 tensor of shape (5, 2)")),
        (mc_predict_returns_none, "returns (mean, std)", ("got None", "did you forget")),
        (raises_type_error, "dropout on", ("got TypeError: unsupported operand",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_mc_predict_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_mc_predict, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (returns_variance, {"std within"}),
        (returns_standard_error, {"std within"}),
        (modes_not_restored, {"every module's mode restored"}),
        (restores_one_flag, {"every module's mode restored"}),
        (with_gradients, {"no gradients"}),
        (detached_at_the_end, {"no gradients"}),
        (batch_norm_in_training_mode, {"batch norm in eval mode", "batch norm's running statistics"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_mc_predict_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_mc_predict, fn)[0]), failing)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (dropout_left_off, "dropout left off"),
        (only_torch_dropout, "dropout left off"),
        (batch_norm_in_training_mode, "batch norm in training mode"),
        (fixed_hundred_passes, "the wrong number of passes"),
        (returns_the_samples, "the passes not reduced"),
        (averages_over_inputs, "the wrong axis reduced"),
        (returns_numpy, "a result that is not (mean, std)"),
        (mc_predict_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_mc_predict_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_mc_predict, fn))
    assert diagnosis.name == name


def test_dropout_left_off_is_the_diagnosis_of_every_line_it_breaks() -> None:
    """With dropout off the std is 0 and the means are the deterministic network's: all of it is one mistake."""
    report, printed = run_checker(check_mc_predict, dropout_left_off)
    lines = printed.splitlines()
    assert {"dropout on", "std within"} <= {name.split(" during")[0].split(" 5")[0] for name in failed_names(report)}
    assert lines[-1].startswith("Diagnosis: dropout left off")


def test_the_batch_norm_network_tells_training_mode_apart() -> None:
    """The running statistics are far from the batches': in training mode, batch norm moves the mean very far."""
    report, _ = run_checker(check_mc_predict, batch_norm_in_training_mode)
    (line,) = [r.line for r in report.failed if r.name.startswith("batch norm in eval mode")]
    away = float(line.split("a mean ")[1].split(" standard errors")[0])
    assert away > 20 * mc_checks.Z


def test_the_std_tolerance_rejects_a_std_twenty_percent_too_large() -> None:
    def inflated(model, x, n_samples):
        mean, std = loop_mc_predict(model, x, n_samples)
        return mean, 1.2 * std

    report = check_mc_predict(inflated)
    assert failed_names(report) == [mc_checks._MC_PROPERTIES[6][0]]


def test_a_student_exception_fails_every_mc_predict_property_and_is_explained_once(capsys) -> None:
    report = check_mc_predict(not_implemented)
    assert len(report.failed) == len(report) == MC_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


def test_the_mc_predict_checker_leaves_the_global_torch_stream_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_mc_predict(loop_mc_predict)
    assert torch.equal(torch.rand(3), expected)


# --- mutual_information ----------------------------------------------------------------------


def _tensor(prob_samples):
    return torch.as_tensor(prob_samples, dtype=torch.float64)


def _entropy(p):
    return -torch.special.xlogy(p, p).sum(dim=-1)


def torch_information(prob_samples):
    """The notebook's solution: 0 log 0 = 0 through xlogy."""
    p = _tensor(prob_samples)
    return _entropy(p.mean(dim=0)) - _entropy(p).mean(dim=0)


def guarded_log_information(prob_samples):
    """log(p + 1e-12): a common guard, far inside the tolerance."""
    p = _tensor(prob_samples)
    entropy = lambda q: -(q * torch.log(q + 1e-12)).sum(dim=-1)  # noqa: E731
    return entropy(p.mean(dim=0)) - entropy(p).mean(dim=0)


def returns_predictive_entropy(prob_samples):
    return _entropy(_tensor(prob_samples).mean(dim=0))


def returns_expected_entropy(prob_samples):
    return _entropy(_tensor(prob_samples)).mean(dim=0)


def sign_flipped(prob_samples):
    return -torch_information(prob_samples)


def entropies_alike(prob_samples):
    p = _tensor(prob_samples)
    return _entropy(p.mean(dim=0)) - _entropy(p.mean(dim=0))  # the mean taken before the entropy twice


def in_bits(prob_samples):
    p = _tensor(prob_samples)
    entropy = lambda q: -(q * torch.log2(q)).nan_to_num().sum(dim=-1)  # noqa: E731
    return entropy(p.mean(dim=0)) - entropy(p).mean(dim=0)


def plain_log(prob_samples):
    p = _tensor(prob_samples)
    entropy = lambda q: -(q * torch.log(q)).sum(dim=-1)  # noqa: E731
    return entropy(p.mean(dim=0)) - entropy(p).mean(dim=0)


def mean_over_inputs(prob_samples):
    p = _tensor(prob_samples)
    return _entropy(p.mean(dim=1)) - _entropy(p).mean(dim=1)


def no_class_sum(prob_samples):
    p = _tensor(prob_samples)
    entropy = lambda q: -torch.special.xlogy(q, q)  # noqa: E731
    return entropy(p.mean(dim=0)) - entropy(p).mean(dim=0)


def tensors_only(prob_samples):
    p = prob_samples.double()  # a NumPy array has no .double()
    return _entropy(p.mean(dim=0)) - _entropy(p).mean(dim=0)


def clamps_in_place(prob_samples):
    p = _tensor(prob_samples).clamp_(min=1e-12)
    return _entropy(p.mean(dim=0)) - _entropy(p).mean(dim=0)


def information_returns_none(prob_samples):
    torch_information(prob_samples)


def returns_the_total(prob_samples):
    return float(torch_information(prob_samples).sum())


@pytest.mark.parametrize(
    "fn", [mutual_information, torch_information, guarded_log_information], ids=lambda f: f.__name__
)
def test_mutual_information_references_pass_every_property(fn, capsys) -> None:
    report = check_mutual_information(fn)
    assert_every_property_holds(report, capsys.readouterr().out, INFORMATION_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (returns_predictive_entropy, "agrees with", ("H[p̄], the entropy of the mean prediction",)),
        (returns_predictive_entropy, "identical", ("within 1e-12", "H[p̄]")),
        (returns_expected_entropy, "agrees with", ("mean of the passes' entropies",)),
        (returns_expected_entropy, "disagree", ("got 0", "mean of the passes' entropies")),
        (sign_flipped, "agrees with", ("terms are swapped", "Jensen")),
        (sign_flipped, "non-negative", ("values below 0", "terms are swapped")),
        (entropies_alike, "agrees with", ("the difference is 0 everywhere",)),
        (in_bits, "disagree", ("log 2 = 0.693147", "got 1", "bits")),
        (plain_log, "disagree", ("NaN for 1 of 1 inputs", "0 · (-inf) = NaN")),
        (plain_log, "one-hot", ("NaN for 6 of 6 inputs", "0 · (-inf) = NaN")),
        (mean_over_inputs, "one value per input", ("shape (7,)", "the passes are axis 0")),
        (no_class_sum, "one value per input", ("shape (5, 3)", "sums over the classes")),
        (tensors_only, "NumPy array", ("AttributeError", "NumPy array as well as a tensor")),
        (clamps_in_place, "unchanged", ("prob_samples modified", "in place")),
        (information_returns_none, "one value per input", ("got None", "did you forget")),
        (returns_the_total, "one value per input", ("got float", "one number per input")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_mutual_information_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_mutual_information, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (returns_predictive_entropy, "the predictive entropy returned"),
        (returns_expected_entropy, "the expected entropy returned"),
        (sign_flipped, "the sign flipped"),
        (entropies_alike, "the two entropies computed alike"),
        (in_bits, "the information in bits"),
        (plain_log, "log(0) in the entropy"),
        (information_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_information_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_mutual_information, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [(tensors_only, {"a NumPy array"}), (clamps_in_place, {"leaves prob_samples unchanged"})],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_information_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_mutual_information, fn)[0]), failing)


def test_the_random_samples_tell_every_entropy_mistake_apart() -> None:
    """On the random samples each typical mistake is far (100 tolerances) from the others and from the truth."""
    samples = mc_checks._canonical_samples()
    total, aleatoric = predictive_entropy(samples), expected_entropy(samples)
    answers = [mutual_information(samples)] + [rule(total, aleatoric) for rule, _ in mc_checks._MISTAKES]
    for i, first in enumerate(answers):
        for second in answers[i + 1 :]:
            assert np.abs(first - second).max() > 100 * mc_checks.INFORMATION_ATOL
    assert (samples > 0).all()


def test_a_student_exception_fails_every_information_property_and_is_explained_once(capsys) -> None:
    report = check_mutual_information(not_implemented)
    assert len(report.failed) == len(report) == INFORMATION_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


# --- choose_n_samples ------------------------------------------------------------------------


def _chooser(rule, *, fallback=None, order=sorted, sort_in_place=False):
    """A choose_n_samples that measures the pilot spread and picks by ``rule(sigmas, target, ordered candidates)``."""

    def choose_n_samples(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
        _, spread = predict(model, x, pilot_samples)
        sigmas = spread.flatten().numpy()
        if sort_in_place:
            candidates.sort()
        answer = rule(sigmas, target_standard_error, order(candidates))
        if answer is None:
            if fallback is not None:
                return fallback(candidates)
            raise ValueError(f"no candidate reaches target_standard_error = {target_standard_error}")
        return answer

    return choose_n_samples


def _first(candidates, meets):
    return next((m for m in candidates if meets(m)), None)


def _meets_target(s, t, c):
    """The contract's rule: the first (of the ordered candidates) with max σ/√M below the target."""
    return _first(c, lambda m: s.max() / math.sqrt(m) < t)


right_choice = _chooser(_meets_target)
choice_with_variance = _chooser(lambda s, t, c: _first(c, lambda m: s.max() ** 2 / math.sqrt(m) < t))
choice_without_square_root = _chooser(lambda s, t, c: _first(c, lambda m: s.max() / m < t))
choice_with_root_of_ratio = _chooser(lambda s, t, c: _first(c, lambda m: math.sqrt(s.max() / m) < t))
choice_with_variance_of_mean = _chooser(lambda s, t, c: _first(c, lambda m: s.max() ** 2 / m < t))
choice_with_average_spread = _chooser(lambda s, t, c: _first(c, lambda m: s.mean() / math.sqrt(m) < t))
choice_always_largest = _chooser(lambda s, t, c: max(c))
choice_with_largest_fallback = _chooser(_meets_target, fallback=max)
choice_first_listed = _chooser(_meets_target, order=list)
choice_sorts_in_place = _chooser(_meets_target, sort_in_place=True)


def choice_one_too_early(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
    """An off-by-one: the candidate before the first one that meets the target."""
    _, spread = predict(model, x, pilot_samples)
    ordered = sorted(candidates)
    for index, m in enumerate(ordered):
        if float(spread.max()) / math.sqrt(m) < target_standard_error:
            return ordered[index - 1]
    raise ValueError("no candidate reaches the target")


def choice_ignores_predict(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
    return right_choice(model, x, target_standard_error, candidates, pilot_samples)  # the default, not the one given


def choice_runs_every_candidate(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
    for m in sorted(candidates):
        _, spread = predict(model, x, m)
        if float(spread.max()) / math.sqrt(m) < target_standard_error:
            return m
    raise ValueError("no candidate reaches the target")


def choice_from_formula(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
    _, spread = predict(model, x, pilot_samples)
    return math.ceil((float(spread.max()) / target_standard_error) ** 2)


def choice_returns_none(model, x, target_standard_error, candidates, pilot_samples=200, predict=mc_predict):
    right_choice(model, x, target_standard_error, candidates, pilot_samples, predict)


def test_choose_n_samples_reference_passes_every_property(capsys) -> None:
    report = check_choose_n_samples(right_choice)
    assert_every_property_holds(report, capsys.readouterr().out, CHOICE_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (choice_with_variance, "smallest candidate M", ("M = [10, 50, 200, 500]", "not their variance")),
        (choice_without_square_root, "smallest candidate M", ("M = [10, 20, 50, 100]", "σ/√M")),
        (choice_with_root_of_ratio, "smallest candidate M", ("M = [100, 1000, 5000, ValueError]", "of M only")),
        (choice_with_variance_of_mean, "smallest candidate M", ("σ²/M is the variance of the mean",)),
        (choice_with_average_spread, "smallest candidate M", ("largest spread σ decides",)),
        (choice_one_too_early, "smallest candidate M", ("M = [20, 200, 1000, 2000]", "not the last that does not")),
        (choice_always_largest, "smallest candidate M", ("M = [5000, 5000, 5000, 5000]", "looser target")),
        (choice_always_largest, "loose target", ("got M = 5000",)),
        (choice_with_largest_fallback, "raises ValueError", ("got a return value (int 5000)", "hides that the target")),
        (choice_first_listed, "another order", ("expected M = 500, got M = 2000", "whatever the order")),
        (choice_sorts_in_place, "unchanged", ("sorted() makes a new list",)),
        (choice_ignores_predict, "one pilot run", ("no call (was the predict argument used?)",)),
        (choice_runs_every_candidate, "one pilot run", ("calls with n_samples = [10, 20, 50]", "one pilot run")),
        (choice_from_formula, "smallest candidate M", ("one of the candidates", "got int")),
        (choice_returns_none, "smallest candidate M", ("got None", "did you forget")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_choose_n_samples_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_choose_n_samples, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (choice_always_largest, "the largest candidate whatever the target"),
        (choice_with_variance, "the variance in place of σ"),
        (choice_with_average_spread, "the average spread in place of the largest"),
        (choice_ignores_predict, "another use of predict"),
        (choice_runs_every_candidate, "another use of predict"),
        (choice_from_formula, "an M that is not a candidate"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_choice_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_choose_n_samples, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (choice_with_largest_fallback, {"no candidate meets"}),
        (choice_first_listed, {"candidates in another order"}),
        (choice_sorts_in_place, {"leaves candidates unchanged"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_choice_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_choose_n_samples, fn)[0]), failing)


def _pilot_spreads() -> np.ndarray:
    predict = mc_checks._RecordingPredict()
    predict(mc_checks._choice_network(), mc_checks._choice_inputs(), mc_checks.CHOICE_PILOT)
    return predict.calls[0][1]


def test_the_targets_keep_away_from_the_boundaries_and_tell_the_rules_apart() -> None:
    """What the property's text claims: each target is 10% or more from every σ/√M; each wrong rule gives others."""
    sigmas, candidates, targets = _pilot_spreads(), mc_checks.CHOICE_CANDIDATES, mc_checks.CHOICE_TARGETS
    for target in targets:
        assert min(abs(sigmas.max() / math.sqrt(m) - target) / target for m in candidates) >= 0.1
    answers = [tuple(mc_checks._right_choice(sigmas, t, candidates) for t in targets)]
    answers += [tuple(rule(sigmas, t, candidates) for t in targets) for rule, _ in mc_checks._CHOICE_RULES]
    assert len(set(answers)) == len(answers)
    assert mc_checks._right_choice(sigmas, mc_checks.CHOICE_LOOSE_TARGET, candidates) == min(candidates)
    assert mc_checks._right_choice(sigmas, mc_checks.CHOICE_TINY_TARGET, candidates) is None
    assert sorted(mc_checks.CHOICE_SHUFFLED) == list(candidates)


def test_a_student_exception_fails_every_choice_property_and_is_explained_once(capsys) -> None:
    report = check_choose_n_samples(not_implemented)
    assert len(report.failed) == len(report) == CHOICE_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


# --- all three -------------------------------------------------------------------------------


CHECKERS = (check_mc_predict, check_mutual_information, check_choose_n_samples)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checkers_are_re_exported_and_reject_a_non_callable(checker) -> None:
    assert getattr(checks, checker.__name__) is checker and checker.__name__ in checks.__all__
    with pytest.raises(TypeError, match="fn must be a function"):
        checker(np.ones(3))


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_mc_predict, loop_mc_predict),
        (check_mc_predict, dropout_left_off),
        (check_mutual_information, torch_information),
        (check_mutual_information, sign_flipped),
        (check_choose_n_samples, right_choice),
        (check_choose_n_samples, choice_with_average_spread),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)

"""Tests for course_lib.checks.label_smoothing: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_lib import checks
from course_lib.checks import label_smoothing as ls_checks
from course_lib.checks.label_smoothing import (
    check_compare_smoothing,
    check_label_smoothing_cross_entropy,
    check_smooth_targets,
)
from course_lib.losses import label_smoothing_cross_entropy, smooth_targets
from course_lib.models import make_mlp

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

TARGETS_LINES, LOSS_LINES, COMPARE_LINES = 7, 6, 8


# --- smooth_targets: solutions and their wrong twins ---------------------------------------------


def _one_hot(target, num_classes):
    return F.one_hot(target, num_classes).double()


def one_hot_targets(target, num_classes, smoothing):
    """The notebook's solution: the one-hot targets mixed with the uniform distribution."""
    return (1 - smoothing) * _one_hot(target, num_classes) + smoothing / num_classes


def scatter_targets(target, num_classes, smoothing):
    """Fill with ε/K, then write the target's value with scatter_ (float32, torch's default dtype)."""
    q = torch.full((len(target), num_classes), smoothing / num_classes)
    return q.scatter_(1, target[:, None], 1 - smoothing + smoothing / num_classes)


def others_convention(target, num_classes, smoothing):
    hot = _one_hot(target, num_classes)
    return (1 - smoothing) * hot + (1 - hot) * smoothing / (num_classes - 1)


def target_without_its_share(target, num_classes, smoothing):
    hot = _one_hot(target, num_classes)
    return (1 - smoothing) * hot + (1 - hot) * smoothing / num_classes


def one_hot_not_scaled(target, num_classes, smoothing):
    return _one_hot(target, num_classes) + smoothing / num_classes  # rows sum to 1 + ε


def epsilon_to_every_class(target, num_classes, smoothing):
    return (1 - smoothing) * _one_hot(target, num_classes) + smoothing  # rows sum to 1 - ε + Kε


def smoothing_ignored(target, num_classes, smoothing):
    return _one_hot(target, num_classes)


def width_from_labels(target, num_classes, smoothing):
    hot = F.one_hot(target).double()  # as wide as the largest label + 1
    return (1 - smoothing) * hot + smoothing / num_classes


def integer_one_hot(target, num_classes, smoothing):
    return F.one_hot(target, num_classes)


def targets_as_numpy(target, num_classes, smoothing):
    return one_hot_targets(target, num_classes, smoothing).numpy()


def transposed_targets(target, num_classes, smoothing):
    return one_hot_targets(target, num_classes, smoothing).T


def targets_return_none(target, num_classes, smoothing):
    one_hot_targets(target, num_classes, smoothing)


@pytest.mark.parametrize("fn", [smooth_targets, one_hot_targets, scatter_targets], ids=lambda f: f.__name__)
def test_smooth_targets_references_pass_every_property(fn, capsys) -> None:
    report = check_smooth_targets(fn)
    assert_every_property_holds(report, capsys.readouterr().out, TARGETS_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (others_convention, "target class gets", ("got values [0.8]", "other convention", "target class included")),
        (others_convention, "every other class", ("got values [0.05]",)),
        (target_without_its_share, "target class gets", ("got values [0.8]", "plus its share ε/K")),
        (target_without_its_share, "sums to 1", ("row sums [0.95]",)),
        (one_hot_not_scaled, "target class gets", ("got values [1.04]", "(1 − ε) + ε = 1")),
        (one_hot_not_scaled, "sums to 1", ("row sums [1.1]", "probability distribution")),
        (epsilon_to_every_class, "every other class", ("got values [0.2]", "ε/K for each of the K classes")),
        (smoothing_ignored, "target class gets", ("got values [1]", "weights 1 − ε and ε")),
        (width_from_labels, "sets the width", ("shape (4, 2)", "F.one_hot infers it")),
        (integer_one_hot, "float tensor", ("an int64 tensor of shape (8, 5)", "float tensor of shape (N, K)")),
        (targets_as_numpy, "float tensor", ("got a float64 array", "one row per label")),
        (transposed_targets, "float tensor", ("a float64 tensor of shape (5, 8)",)),
        (targets_return_none, "float tensor", ("got None", "did you forget")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_smooth_targets_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_smooth_targets, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (others_convention, "the ε/(K−1) convention"),
        (target_without_its_share, "the target class without its ε/K"),
        (one_hot_not_scaled, "targets that do not sum to 1"),
        (epsilon_to_every_class, "targets that do not sum to 1"),
        (smoothing_ignored, "the smoothing ignored"),
        (integer_one_hot, "a result that is not one distribution per label"),
        (targets_return_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_targets_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_smooth_targets, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (width_from_labels, {"num_classes sets the width"}),
        (others_convention, {"the target class gets", "every other class gets", "agrees with", "num_classes sets"}),
        (smoothing_ignored, {"the target class gets", "every other class gets", "agrees with", "num_classes sets"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_targets_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_smooth_targets, fn)[0]), failing)


def test_the_hand_made_case_tells_the_conventions_apart() -> None:
    """On K = 5, ε = 0.2 the right targets and each wrong rule differ by far more than the tolerance."""
    num_classes, smoothing = ls_checks.TARGETS_CASE
    pairs = [(1 - smoothing + smoothing / num_classes, smoothing / num_classes)]
    pairs += [rule(num_classes, smoothing) for rule, _ in ls_checks._TARGET_RULES]
    for i, first in enumerate(pairs):
        for second in pairs[i + 1 :]:
            assert max(abs(a - b) for a, b in zip(first, second)) > 1000 * ls_checks.TARGETS_ATOL
    assert sorted(set(ls_checks.TARGETS_LABELS)) == list(range(num_classes))
    assert max(ls_checks.NARROW_LABELS) + 1 < ls_checks.NARROW_CLASSES


def test_a_student_exception_fails_every_targets_property_and_is_explained_once(capsys) -> None:
    report = check_smooth_targets(not_implemented)
    assert len(report.failed) == len(report) == TARGETS_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


# --- label_smoothing_cross_entropy ----------------------------------------------------------------


def _q(logits, target, smoothing):
    num_classes = logits.shape[1]
    return (1 - smoothing) * F.one_hot(target, num_classes).to(logits.dtype) + smoothing / num_classes


def log_softmax_loss(logits, target, smoothing):
    """The notebook's solution: −Σ_c q_c log p_c with log_softmax, averaged over the examples."""
    return -(_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def split_loss(logits, target, smoothing):
    """(1 − ε)·CE + ε·(uniform CE), log-probabilities as z − logsumexp(z)."""
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    hard = -log_probs.gather(1, target[:, None]).squeeze(1)
    return ((1 - smoothing) * hard - smoothing * log_probs.mean(dim=1)).mean()


def float32_targets_loss(logits, target, smoothing):
    """Part 1's targets in torch's default dtype (float32), mixed into float64 log-probabilities: accepted."""
    q = smooth_targets(target, logits.shape[1], smoothing).to(logits.dtype)  # float32 values, then cast
    return -(q * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def unstable_log_softmax(logits, target, smoothing):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -(_q(logits, target, smoothing) * torch.log(probs)).sum(dim=1).mean()


def log_of_torch_softmax(logits, target, smoothing):
    return -(_q(logits, target, smoothing) * torch.log(torch.softmax(logits, dim=1))).sum(dim=1).mean()


def guarded_log(logits, target, smoothing):
    """log(softmax + 1e-12): finite, and right for moderate logits, but wrong where probabilities underflow."""
    probs = torch.softmax(logits, dim=1)
    return -(_q(logits, target, smoothing) * torch.log(probs + 1e-12)).sum(dim=1).mean()


def mean_over_classes(logits, target, smoothing):
    return -(_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1)).mean()


def uniform_term_with_mean_over_classes(logits, target, smoothing):
    log_probs, num_classes = torch.log_softmax(logits, dim=1), logits.shape[1]
    hard = -log_probs.gather(1, target[:, None]).squeeze(1)
    return ((1 - smoothing) * hard - smoothing / num_classes * log_probs.mean(dim=1)).mean()


def uniform_term_with_sum(logits, target, smoothing):
    log_probs = torch.log_softmax(logits, dim=1)
    hard = -log_probs.gather(1, target[:, None]).squeeze(1)
    return ((1 - smoothing) * hard - smoothing * log_probs.sum(dim=1)).mean()


def others_convention_loss(logits, target, smoothing):
    q = others_convention(target, logits.shape[1], smoothing).to(logits.dtype)
    return -(q * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def target_without_its_share_loss(logits, target, smoothing):
    q = target_without_its_share(target, logits.shape[1], smoothing).to(logits.dtype)
    return -(q * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def unscaled_one_hot_loss(logits, target, smoothing):
    q = one_hot_not_scaled(target, logits.shape[1], smoothing).to(logits.dtype)
    return -(q * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def plain_cross_entropy(logits, target, smoothing):
    return F.cross_entropy(logits, target)


def summed_over_examples(logits, target, smoothing):
    return -(_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1)).sum()


def per_example_losses(logits, target, smoothing):
    return -(_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1)).sum(dim=1)


def per_class_terms(logits, target, smoothing):
    return -(_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1))


def sign_missing(logits, target, smoothing):
    return (_q(logits, target, smoothing) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def returns_a_float(logits, target, smoothing):
    return log_softmax_loss(logits, target, smoothing).item()


def rewrapped_tensor(logits, target, smoothing):
    return torch.tensor(log_softmax_loss(logits, target, smoothing).item(), dtype=logits.dtype)


def shifts_in_place(logits, target, smoothing):
    logits -= logits.max(dim=1, keepdim=True).values  # the caller's logits; a leaf that requires grad raises
    return log_softmax_loss(logits, target, smoothing)


def loss_returns_none(logits, target, smoothing):
    log_softmax_loss(logits, target, smoothing)


@pytest.mark.parametrize(
    "fn",
    [lambda z, t, e: label_smoothing_cross_entropy(z, t, e), log_softmax_loss, split_loss, float32_targets_loss],
    ids=["course_lib", "log_softmax_loss", "split_loss", "float32_targets_loss"],
)
def test_loss_references_pass_every_property(fn, capsys) -> None:
    report = check_label_smoothing_cross_entropy(fn)
    assert_every_property_holds(report, capsys.readouterr().out, LOSS_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (unstable_log_softmax, "stable", ("got nan", "exp overflows", "log_softmax")),
        (log_of_torch_softmax, "stable", ("got inf", "whose log is −inf")),
        (guarded_log, "stable", ("equal to torch's, 5208.1282", "got 18.650939", "a small constant added inside the log")),
        (mean_over_classes, "agrees with", ("expected 3.545231", "got 0.354523", "a mean over the K classes")),
        (uniform_term_with_mean_over_classes, "agrees with", ("by K once more",)),
        (uniform_term_with_sum, "agrees with", ("not ε times their sum",)),
        (others_convention_loss, "agrees with", ("other convention",)),
        (target_without_its_share_loss, "agrees with", ("plus its share ε/K",)),
        (unscaled_one_hot_loss, "agrees with", ("probability distribution",)),
        (plain_cross_entropy, "agrees with", ("one-hot target",)),
        (summed_over_examples, "agrees with", ("does not grow with the batch size",)),
        (summed_over_examples, "mean over the examples", ("the same loss", "reduction='mean'")),
        (per_example_losses, "scalar float tensor", ("shape (32,)", "the mean of the N examples' losses")),
        (per_class_terms, "scalar float tensor", ("shape (32, 10)", "over the K classes")),
        (sign_missing, "agrees with", ("got -3.54523", "loss is >= 0")),
        (returns_a_float, "scalar float tensor", ("got float", "no .item()")),
        (rewrapped_tensor, "gradients flow", ("a loss that does not require grad", "backward() reaches")),
        (shifts_in_place, "unchanged", ("logits modified", "in place")),
        (shifts_in_place, "gradients flow", ("RuntimeError", "in-place operation")),
        (loss_returns_none, "scalar float tensor", ("got None", "did you forget")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_loss_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_label_smoothing_cross_entropy, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (mean_over_classes, "the mean over classes in place of the sum"),
        (uniform_term_with_mean_over_classes, "the mean over classes in place of the sum"),
        (uniform_term_with_sum, "the uniform term K times too large"),
        (others_convention_loss, "the ε/(K−1) convention"),
        (target_without_its_share_loss, "the target class without its ε/K"),
        (unscaled_one_hot_loss, "targets that do not sum to 1"),
        (plain_cross_entropy, "the smoothing ignored"),
        (summed_over_examples, "the sum over examples in place of the mean"),
        (per_example_losses, "the per-example losses returned"),
        (per_class_terms, "the per-class terms returned"),
        (sign_missing, "the minus sign missing"),
        (returns_a_float, "a loss cut off from autograd"),
        (loss_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_loss_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_label_smoothing_cross_entropy, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (unstable_log_softmax, {"stable"}),
        (log_of_torch_softmax, {"stable"}),
        (guarded_log, {"stable"}),
        (rewrapped_tensor, {"gradients flow"}),
        (shifts_in_place, {"gradients flow", "leaves logits"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_loss_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_label_smoothing_cross_entropy, fn)[0]), failing)


def test_the_unstable_loss_is_named_on_its_line() -> None:
    report, _ = run_checker(check_label_smoothing_cross_entropy, unstable_log_softmax)
    (failure,) = report.failed
    assert failure.diagnosis.name == "log(softmax) computed unstably"


def test_the_agreement_case_tells_every_loss_mistake_apart() -> None:
    """On the first agreement case the right loss and each rule differ by more than 100 tolerances."""
    n, num_classes, smoothing = ls_checks.LOSS_CASES[0]
    logits, target = ls_checks._loss_inputs(n, num_classes, ls_checks.SEED)
    hard, uniform = ls_checks._terms(logits, target)
    values = [float(F.cross_entropy(logits, target, label_smoothing=smoothing))]
    values += [float(rule(hard, uniform, num_classes, smoothing)) for rule, _ in ls_checks._LOSS_RULES]
    for i, first in enumerate(values):
        for second in values[i + 1 :]:
            assert abs(first - second) > 100 * ls_checks.LOSS_ATOL


def test_the_large_logits_defeat_a_naive_softmax_in_float64() -> None:
    """exp(z) overflows and softmax underflows to exactly 0 on the stability property's logits."""
    logits, _ = ls_checks._large_inputs()
    assert float(logits.abs().max()) > 710  # exp(710) overflows float64
    assert bool((torch.softmax(logits, dim=1) == 0).any())


def test_a_student_exception_fails_every_loss_property_and_is_explained_once(capsys) -> None:
    report = check_label_smoothing_cross_entropy(not_implemented)
    assert len(report.failed) == len(report) == LOSS_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


# --- compare_smoothing: the bug hunt -----------------------------------------------------------------

HIDDEN = (64, 64)  # the notebook's networks


def _sizes(data, hidden=HIDDEN):
    return (data.n_features, *hidden, data.n_classes)


def compare_smoothing(data, smoothing, seed=0, epochs=100, train=None):
    """The notebook's solution: two networks from one seed, one run each."""
    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed)
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    train(smooth_model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return hard_model, smooth_model


def copied_before_training(data, smoothing, seed=0, epochs=100, train=None):
    """A copy of the untrained network, and the smoothed loss of Part 2, trained first: also right."""
    hard_model = make_mlp(_sizes(data), seed=seed)
    smooth_model = copy.deepcopy(hard_model)
    train(smooth_model, data, lambda z, y: label_smoothing_cross_entropy(z, y, smoothing), epochs)
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    return hard_model, smooth_model


def the_buggy_listing(data, smoothing, seed=0, epochs=100, train=None):
    """The notebook's listing: the criterion defined and never used, and one model for both runs."""
    model = make_mlp(_sizes(data), seed=seed)
    criterion = nn.CrossEntropyLoss()
    models = {}
    for name, eps in (("hard", 0.0), ("smooth", smoothing)):
        smoothed_criterion = nn.CrossEntropyLoss(label_smoothing=eps)  # noqa: F841 (the bug)
        train(model, data, criterion, epochs)
        models[name] = model
    return models["hard"], models["smooth"]


def criterion_never_used(data, smoothing, seed=0, epochs=100, train=None):
    """Fresh models for each run, but the plain loss in both."""
    models = {}
    criterion = nn.CrossEntropyLoss()
    for name, eps in (("hard", 0.0), ("smooth", smoothing)):
        model = make_mlp(_sizes(data), seed=seed)
        smoothed_criterion = nn.CrossEntropyLoss(label_smoothing=eps)  # noqa: F841 (the bug)
        train(model, data, criterion, epochs)
        models[name] = model
    return models["hard"], models["smooth"]


def model_reused(data, smoothing, seed=0, epochs=100, train=None):
    """The right losses, one model for both runs."""
    model = make_mlp(_sizes(data), seed=seed)
    train(model, data, nn.CrossEntropyLoss(), epochs)
    hard_model = model
    train(model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return hard_model, model


def copied_after_training(data, smoothing, seed=0, epochs=100, train=None):
    """Two objects, but the smoothed run continues from the hard model's trained weights."""
    hard_model = make_mlp(_sizes(data), seed=seed)
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    smooth_model = copy.deepcopy(hard_model)
    train(smooth_model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return hard_model, smooth_model


def last_model_returned_twice(data, smoothing, seed=0, epochs=100, train=None):
    """A fresh model for each run, but the name rebound: the smoothed model comes back as both results."""
    model = make_mlp(_sizes(data), seed=seed)
    train(model, data, nn.CrossEntropyLoss(), epochs)
    model = make_mlp(_sizes(data), seed=seed)
    train(model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return model, model


def hard_model_trained_twice(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed)
    for model, criterion in ((hard_model, nn.CrossEntropyLoss()), (hard_model, nn.CrossEntropyLoss()),
                             (smooth_model, nn.CrossEntropyLoss(label_smoothing=smoothing))):
        train(model, data, criterion, epochs)
    return hard_model, smooth_model


def both_smoothed(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed)
    criterion = nn.CrossEntropyLoss(label_smoothing=smoothing)
    train(hard_model, data, criterion, epochs)
    train(smooth_model, data, criterion, epochs)
    return hard_model, smooth_model


def different_seeds(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed + 1)
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    train(smooth_model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return hard_model, smooth_model


def torch_initialisation(data, smoothing, seed=0, epochs=100, train=None):
    """nn.Linear's own initialisation, seeded once: the second network gets the next draws."""
    torch.manual_seed(seed)
    build = lambda: nn.Sequential(nn.Linear(data.n_features, 64), nn.ReLU(), nn.Linear(64, data.n_classes))  # noqa: E731
    hard_model, smooth_model = build(), build()
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    train(smooth_model, data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
    return hard_model, smooth_model


def seed_ignored(data, smoothing, seed=0, epochs=100, train=None):
    return compare_smoothing(data, smoothing, 0, epochs, train)


def swapped(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = compare_smoothing(data, smoothing, seed, epochs, train)
    return smooth_model, hard_model


def smoothing_hard_coded(data, smoothing, seed=0, epochs=100, train=None):
    return compare_smoothing(data, 0.1, seed, epochs, train)


def epochs_hard_coded(data, smoothing, seed=0, epochs=100, train=None):
    return compare_smoothing(data, smoothing, seed, 30, train)


def summed_loss(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed)
    train(hard_model, data, nn.CrossEntropyLoss(), epochs)
    train(smooth_model, data, nn.CrossEntropyLoss(label_smoothing=smoothing, reduction="sum"), epochs)
    return hard_model, smooth_model


def train_ignored(data, smoothing, seed=0, epochs=100, train=None):
    from course_lib.train import fit

    hard_model, smooth_model = make_mlp(_sizes(data), seed=seed), make_mlp(_sizes(data), seed=seed)
    for model, eps in ((hard_model, 0.0), (smooth_model, smoothing)):
        fit(model, data, torch.optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(label_smoothing=eps),
            epochs, progress=False, device="cpu")
    return hard_model, smooth_model


def returns_copies(data, smoothing, seed=0, epochs=100, train=None):
    hard_model, smooth_model = compare_smoothing(data, smoothing, seed, epochs, train)
    return copy.deepcopy(hard_model), copy.deepcopy(smooth_model)


def returns_one_model(data, smoothing, seed=0, epochs=100, train=None):
    return compare_smoothing(data, smoothing, seed, epochs, train)[1]


def compare_returns_none(data, smoothing, seed=0, epochs=100, train=None):
    compare_smoothing(data, smoothing, seed, epochs, train)


def raises_inside(data, smoothing, seed=0, epochs=100, train=None):
    raise KeyError("hidden")


@pytest.mark.parametrize("fn", [compare_smoothing, copied_before_training], ids=lambda f: f.__name__)
def test_compare_references_pass_every_property(fn, capsys) -> None:
    report = check_compare_smoothing(fn)
    assert_every_property_holds(report, capsys.readouterr().out, COMPARE_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (
            the_buggy_listing,
            "two distinct models",
            ("one model object returned twice, trained by 2 calls", "continued training the first run's network"),
        ),
        (the_buggy_listing, "smoothed model trained", ("got the plain cross-entropy", "not the loss that reaches train")),
        (criterion_never_used, "smoothed model trained", ("got the plain cross-entropy", "criterion is defined")),
        (model_reused, "two distinct models", ("trained by 2 calls of train", "a network of its own")),
        (model_reused, "same initial weights", ("the second run starting from the first run's trained weights",)),
        (copied_after_training, "same initial weights", ("first run's trained weights", "continued training")),
        (last_model_returned_twice, "two distinct models", ("trained by one call of train", "one each")),
        (hard_model_trained_twice, "two distinct models", ("the hard model trained by 2 calls of train",)),
        (both_smoothed, "hard model trained", ("label_smoothing = 0.2", "the baseline")),
        (different_seeds, "same initial weights", ("initial weights that differ by up to", "changes one thing only")),
        (torch_initialisation, "same initial weights", ("differ by up to",)),
        (seed_ignored, "the seed sets", ("got the same initial weights", "another seed must give other weights")),
        (swapped, "hard model trained", ("label_smoothing = 0.2", "the other way round")),
        (smoothing_hard_coded, "smoothed model trained", ("label_smoothing = 0.1", "not a value of its own")),
        (epochs_hard_coded, "epochs given", ("got epochs = [30, 30]", "the epochs compare_smoothing is given")),
        (summed_loss, "smoothed model trained", ("not a cross-entropy, with or without smoothing",)),
        (train_ignored, "two distinct models", ("no call (was the train argument used?)", "records every run")),
        (returns_copies, "two distinct models", ("never passed to train", "not fresh ones or copies")),
        (returns_one_model, "returns (hard_model", ("a Sequential", "each an nn.Module")),
        (compare_returns_none, "returns (hard_model", ("got None", "did you forget")),
        (raises_inside, "returns (hard_model", ("got KeyError: 'hidden'",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_compare_smoothing_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_compare_smoothing, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


def test_the_buggy_listing_gets_one_diagnosis_per_bug() -> None:
    """Both bugs are named, each on its own ✗ line; the confidence line is a consequence of the first."""
    report, printed = run_checker(check_compare_smoothing, the_buggy_listing)
    names = {result.diagnosis.name for result in report.failed}
    assert names == {"the model re-used", "the smoothed criterion never used"}
    assert report.diagnosis is None and not printed.splitlines()[-1].startswith("Diagnosis:")
    (confidence,) = [r for r in report.failed if r.name.startswith("the smoothed model is the less confident")]
    assert confidence.diagnosis.name == "the model re-used"
    hard, smooth = re.search(r"max-probability (\S+) \(hard\) and (\S+) \(smoothed\)", confidence.message).groups()
    assert hard == smooth  # one network, measured twice


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (criterion_never_used, "the smoothed criterion never used"),
        (model_reused, "the model re-used"),
        (last_model_returned_twice, "one model returned twice"),
        (both_smoothed, "both runs smoothed"),
        (swapped, "the models swapped"),
        (train_ignored, "another way of training"),
        (returns_copies, "a returned model that was not trained"),
        (returns_one_model, "a result that is not (hard_model, smooth_model)"),
        (compare_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_compare_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_compare_smoothing, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (different_seeds, {"the same initial weights"}),
        (copied_after_training, {"the same initial weights"}),
        (seed_ignored, {"the seed sets"}),
        (hard_model_trained_twice, {"two distinct models"}),
        (epochs_hard_coded, {"each run trains for the epochs"}),
        (smoothing_hard_coded, {"the smoothed model trained"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_compare_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(run_checker(check_compare_smoothing, fn)[0]), failing)


def _confidence_margin(hidden) -> tuple[float, float, float]:
    """(max-probability difference, hard gap, smoothed gap) of a right answer with these hidden widths."""

    def answer(data, smoothing, seed=0, epochs=100, train=None):
        models = [make_mlp(_sizes(data, hidden), seed=seed) for _ in range(2)]
        train(models[0], data, nn.CrossEntropyLoss(), epochs)
        train(models[1], data, nn.CrossEntropyLoss(label_smoothing=smoothing), epochs)
        return tuple(models)

    comparison = ls_checks._compare(answer, ls_checks.COMPARE_SEEDS[0])
    hard, smooth = ls_checks._confidence(comparison.hard), ls_checks._confidence(comparison.smooth)
    return hard.max_probability - smooth.max_probability, hard.gap, smooth.gap


@pytest.mark.parametrize(("hidden", "factor"), [(HIDDEN, 4.0), ((64,), 2.0), ((32,), 1.2)], ids=str)
def test_the_confidence_margin_is_met_with_room_by_right_answers(hidden, factor: float) -> None:
    """The notebook's networks clear the margin fourfold; narrower ones, which fit the spirals less, still clear it."""
    difference, hard_gap, smooth_gap = _confidence_margin(hidden)
    assert difference >= factor * ls_checks.CONFIDENCE_MARGIN
    assert smooth_gap < hard_gap


def test_the_smoothed_networks_gap_stays_below_its_optimum() -> None:
    """What the exercise claims: the hard model's gap outgrows log(1 + K(1−ε)/ε), the smoothed one's stays below."""
    _, hard_gap, smooth_gap = _confidence_margin(HIDDEN)
    optimum = math.log1p(3 * (1 - ls_checks.COMPARE_SMOOTHING) / ls_checks.COMPARE_SMOOTHING)
    assert smooth_gap < optimum < hard_gap


def test_the_probe_identifies_each_loss() -> None:
    kinds = {
        "plain": ls_checks._identify_loss(nn.CrossEntropyLoss(), 3),
        "smoothed": ls_checks._identify_loss(nn.CrossEntropyLoss(label_smoothing=0.2), 3),
        "own": ls_checks._identify_loss(lambda z, y: label_smoothing_cross_entropy(z, y, 0.2), 3),
        "other": ls_checks._identify_loss(nn.CrossEntropyLoss(label_smoothing=0.1), 3),
        "summed": ls_checks._identify_loss(nn.CrossEntropyLoss(reduction="sum"), 3),
        "squared": ls_checks._identify_loss(lambda z, y: (z**2).mean(), 3),
    }
    assert kinds["plain"].equals(0.0) and not kinds["plain"].equals(0.2)
    assert kinds["smoothed"].equals(0.2) and kinds["own"].equals(0.2)
    assert kinds["other"].equals(0.1) and kinds["other"].text == "the cross-entropy with label_smoothing = 0.1"
    assert kinds["summed"].smoothing is None and kinds["squared"].smoothing is None


def test_a_student_exception_fails_every_compare_property_and_is_explained_once(capsys) -> None:
    report = check_compare_smoothing(not_implemented)
    assert len(report.failed) == len(report) == COMPARE_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


def test_the_compare_checker_calls_the_function_anew_on_each_check() -> None:
    calls = []

    def counted(data, smoothing, seed=0, epochs=100, train=None):
        calls.append(seed)
        return compare_smoothing(data, smoothing, seed, epochs, train)

    assert check_compare_smoothing(counted) and check_compare_smoothing(counted)
    assert calls == list(ls_checks.COMPARE_SEEDS) * 2


def test_the_compare_checker_leaves_the_global_torch_stream_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_compare_smoothing(torch_initialisation)
    assert torch.equal(torch.rand(3), expected)


# --- all three -------------------------------------------------------------------------------


CHECKERS = (check_smooth_targets, check_label_smoothing_cross_entropy, check_compare_smoothing)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checkers_are_re_exported_and_reject_a_non_callable(checker) -> None:
    assert getattr(checks, checker.__name__) is checker and checker.__name__ in checks.__all__
    with pytest.raises(TypeError, match="fn must be a function"):
        checker(np.ones(3))


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_smooth_targets, one_hot_targets),
        (check_smooth_targets, others_convention),
        (check_label_smoothing_cross_entropy, log_softmax_loss),
        (check_label_smoothing_cross_entropy, unstable_log_softmax),
        (check_compare_smoothing, compare_smoothing),
        (check_compare_smoothing, the_buggy_listing),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)

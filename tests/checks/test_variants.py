"""Tests for course_lib.checks.variants: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from course_lib import checks
from course_lib.checks import variants as v_checks
from course_lib.checks.variants import check_drop_path, check_expected_active_blocks, check_spatial_dropout
from course_lib.variants import drop_path, drop_path_rates, spatial_dropout

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

DROP_PATH_LINES, SPATIAL_LINES, ACTIVE_LINES = 10, 10, 5


def _bernoulli(shape, keep, like):
    return torch.empty(shape, dtype=like.dtype).bernoulli_(keep)


def _path_shape(x):
    return (x.shape[0], *(1,) * (x.ndim - 1))


def _channel_shape(x):
    return (*x.shape[:2], *(1,) * (x.ndim - 2))


# --- drop_path: solutions and their wrong twins ----------------------------------------------------


def library_drop_path(x, p, training=True):
    return drop_path(x, p, training)


def rand_drop_path(x, p, training=True):
    """The notebook's solution: keep where a uniform draw is at least p."""
    if not training or p == 0:
        return x
    keep = (torch.rand(_path_shape(x)) >= p).to(x.dtype)
    return x * keep / (1 - p)


def float32_mask_drop_path(x, p, training=True):
    """A float32 mask divided in float32: accepted (the rounding is far below the tolerance) for float32 input."""
    if not training:
        return x
    mask = torch.bernoulli(torch.full(_path_shape(x), 1 - p)) / (1 - p)
    return x * mask.to(x.dtype)


def _path(factor, keep=lambda p: 1 - p, shape=_path_shape):
    def wrong(x, p, training=True):
        if not training:
            return x
        return x * _bernoulli(shape(x), keep(p), x) * factor(torch.tensor(p, dtype=x.dtype))

    return wrong


path_per_element = _path(lambda p: 1 / (1 - p), shape=lambda x: x.shape)
path_no_rescale = _path(lambda p: 1.0)
path_times_p = _path(lambda p: p)
path_times_keep = _path(lambda p: 1 - p)
path_over_p = _path(lambda p: 1 / p)
path_shared_by_batch = _path(lambda p: 1 / (1 - p), shape=lambda x: (1,) * x.ndim)
path_keep_with_p = _path(lambda p: 1 / (1 - p), keep=lambda p: p)
path_keep_with_p_over_p = _path(lambda p: 1 / p, keep=lambda p: p)


def path_active_in_eval(x, p, training=True):
    return x * _bernoulli(_path_shape(x), 1 - p, x) / (1 - p)


def path_in_place(x, p, training=True):
    if not training:
        return x
    with torch.no_grad():
        return x.mul_(_bernoulli(_path_shape(x), 1 - p, x) / (1 - p))


def path_detached(x, p, training=True):
    if not training:
        return x
    return x.detach() * _bernoulli(_path_shape(x), 1 - p, x) / (1 - p)


def path_via_numpy(x, p, training=True):
    if not training:
        return x
    keep = np.random.default_rng(0).random(x.shape[0]) >= p
    return torch.from_numpy(x.detach().numpy() * keep.reshape(_path_shape(x)) / (1 - p))


def path_flattened(x, p, training=True):
    return rand_drop_path(x, p, training).reshape(x.shape[0], -1)


def path_float64_mask(x, p, training=True):
    if not training:
        return x
    return x * torch.empty(_path_shape(x), dtype=torch.float64).bernoulli_(1 - p) / (1 - p)


def path_returns_none(x, p, training=True):
    rand_drop_path(x, p, training)


def path_raises(x, p, training=True):
    raise RuntimeError("mask shape mismatch")


@pytest.mark.parametrize(
    "fn", [library_drop_path, rand_drop_path, float32_mask_drop_path], ids=lambda f: f.__name__
)
def test_drop_path_references_pass_every_property(fn, capsys) -> None:
    report = check_drop_path(fn)
    assert_every_property_holds(report, capsys.readouterr().out, DROP_PATH_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (path_per_element, "whole examples", ("partly zeroed", "one Bernoulli draw per example")),
        (path_no_rescale, "kept entries", ("got out/x = 1", "the keep probability 1 − p")),
        (path_no_rescale, "unbiased", ("expected a mean of out/x in 1 ±", "E[out] = x")),
        (path_times_p, "kept entries", ("got out/x = 0.25", "drop probability p")),
        (path_times_p, "identity at p = 0", ("100% of the entries zeroed",)),
        (path_times_keep, "kept entries", ("got out/x = 0.75", "test-time rule")),
        (path_over_p, "kept entries", ("got out/x = 4", "probability of keeping")),
        (path_shared_by_batch, "independent draws", ("got 1.000", "every example of the batch got the same draw")),
        (path_keep_with_p, "kept fraction", ("p is the probability of dropping",)),
        (path_keep_with_p_over_p, "kept entries", ("got out/x = 4", "p is the probability of dropping")),
        (path_active_in_eval, "evaluation mode", ("with training=False nothing is dropped",)),
        (path_in_place, "leaves x unchanged", ("x modified", "new tensor")),
        (path_detached, "gradients flow", ("does not require grad", "gradients flow back")),
        (path_via_numpy, "gradients flow", ("does not require grad",)),
        (path_flattened, "x's shape and dtype", ("a float64 tensor of shape (200, 15)", "broadcasts")),
        (path_float64_mask, "x's shape and dtype", ("a float64 tensor of shape (400, 6)", "in x's dtype")),
        (path_returns_none, "x's shape and dtype", ("got None", "did you forget")),
        (path_raises, "x's shape and dtype", ("RuntimeError: mask shape mismatch",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_drop_path_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_drop_path, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (path_no_rescale, "the missing rescale"),
        (path_times_p, "scaling by p"),
        (path_times_keep, "scaling by 1 − p"),
        (path_over_p, "dividing by p"),
        (path_shared_by_batch, "one mask shared by the whole batch"),
        (path_keep_with_p, "p taken as the keep probability"),
        (path_keep_with_p_over_p, "p taken as the keep probability"),
        (path_returns_none, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_drop_path_mistake_is_diagnosed_once(fn, name: str) -> None:
    diagnosis = assert_one_root_cause(*run_checker(check_drop_path, fn))
    assert diagnosis.name == name


@pytest.mark.parametrize(
    ("fn", "failing", "name"),
    [
        (path_per_element, {"whole examples"}, "a per-element mask"),
        (path_active_in_eval, {"the identity in evaluation mode"}, "dropping in evaluation mode"),
        (path_in_place, {"leaves x unchanged", "gradients flow"}, "x modified in place"),
        (path_detached, {"gradients flow"}, "an output cut off from autograd"),
        (path_float64_mask, {"returns a tensor"}, "a changed dtype"),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_drop_path_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str], name: str) -> None:
    report = run_checker(check_drop_path, fn)[0]
    assert_fails_exactly(failed_names(report), failing)
    assert report.diagnosis.name == name


def test_a_student_exception_fails_every_drop_path_property_and_is_explained_once(capsys) -> None:
    report = check_drop_path(not_implemented)
    assert len(report.failed) == len(report) == DROP_PATH_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


def test_another_exception_is_feedback_not_a_crash() -> None:
    report, printed = run_checker(check_drop_path, path_raises)
    assert not report and len(report.failed) == DROP_PATH_LINES
    assert printed.count("read the message and the contract above") == 1


# --- spatial_dropout: solutions and their wrong twins ------------------------------------------------


def library_spatial_dropout(x, p, training=True):
    return spatial_dropout(x, p, training)


def torch_spatial_dropout(x, p, training=True):
    """torch's own: F.dropout1d/2d/3d by rank, the statistics the contract asks for."""
    dropout = {3: F.dropout1d, 4: F.dropout2d, 5: F.dropout3d}[x.ndim]
    return dropout(x, p, training)


def bernoulli_spatial_dropout(x, p, training=True):
    """The notebook's solution."""
    if not training or p == 0:
        return x
    keep = torch.bernoulli(torch.full(_channel_shape(x), 1 - p, dtype=x.dtype))
    return x * keep / (1 - p)


def _spatial(shape, factor=lambda p: 1 / (1 - p), keep=lambda p: 1 - p):
    def wrong(x, p, training=True):
        if not training:
            return x
        return x * _bernoulli(shape(x), keep(p), x) * factor(torch.tensor(p, dtype=x.dtype))

    return wrong


spatial_per_element = _spatial(lambda x: x.shape)
spatial_per_example = _spatial(lambda x: (x.shape[0], *(1,) * (x.ndim - 1)))
spatial_shared_by_batch = _spatial(lambda x: (1, x.shape[1], *(1,) * (x.ndim - 2)))
spatial_across_channels = _spatial(lambda x: (x.shape[0], 1, *x.shape[2:]))
spatial_no_rescale = _spatial(_channel_shape, factor=lambda p: 1.0)
spatial_times_p = _spatial(_channel_shape, factor=lambda p: p)
spatial_keep_with_p = _spatial(_channel_shape, keep=lambda p: p)


def spatial_active_in_eval(x, p, training=True):
    return x * _bernoulli(_channel_shape(x), 1 - p, x) / (1 - p)


def spatial_in_place(x, p, training=True):
    if not training:
        return x
    with torch.no_grad():
        return x.mul_(_bernoulli(_channel_shape(x), 1 - p, x) / (1 - p))


def spatial_mask_for_3d_only(x, p, training=True):
    """A mask shaped (N, C, 1) whatever the rank: wrong for 4-D inputs."""
    if not training:
        return x
    return x * _bernoulli((*x.shape[:2], 1), 1 - p, x) / (1 - p)


@pytest.mark.parametrize(
    "fn", [library_spatial_dropout, torch_spatial_dropout, bernoulli_spatial_dropout], ids=lambda f: f.__name__
)
def test_spatial_references_pass_every_property(fn, capsys) -> None:
    report = check_spatial_dropout(fn)
    assert_every_property_holds(report, capsys.readouterr().out, SPATIAL_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (spatial_per_element, "whole channels", ("partly zeroed", "one Bernoulli per (example, channel)")),
        (spatial_per_example, "independent draws", ("two channels of an example agreeing", "got 1.000",
                                                    "kept or dropped together")),
        (spatial_shared_by_batch, "independent draws", ("two examples agreeing", "got 1.000", "the same channels")),
        (spatial_across_channels, "whole channels", ("partly zeroed", "shared by all channels at each spatial")),
        (spatial_no_rescale, "kept entries", ("got out/x = 1", "the keep probability 1 − p")),
        (spatial_times_p, "kept entries", ("got out/x = 0.25", "drop probability p")),
        (spatial_keep_with_p, "kept fraction", ("p is the probability of dropping",)),
        (spatial_active_in_eval, "evaluation mode", ("with training=False nothing is dropped",)),
        (spatial_in_place, "leaves x unchanged", ("x modified",)),
        (spatial_mask_for_3d_only, "x's shape and dtype", ("RuntimeError: The size of tensor",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_spatial_dropout_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_spatial_dropout, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (spatial_per_element, "a per-element mask"),
        (spatial_per_example, "a per-example mask"),
        (spatial_shared_by_batch, "one channel pattern shared by the whole batch"),
        (spatial_across_channels, "a mask over the wrong dimensions"),
        (spatial_no_rescale, "the missing rescale"),
        (spatial_times_p, "scaling by p"),
        (spatial_keep_with_p, "p taken as the keep probability"),
        (spatial_active_in_eval, "dropping in evaluation mode"),
        (spatial_in_place, "x modified in place"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_each_spatial_mistake_has_its_own_diagnosis(fn, name: str) -> None:
    report, printed = run_checker(check_spatial_dropout, fn)
    if len(report.failed) > 1:
        assert_one_root_cause(report, printed)
    assert report.diagnosis is not None and report.diagnosis.name == name


def test_a_student_exception_fails_every_spatial_property_and_is_explained_once(capsys) -> None:
    report = check_spatial_dropout(not_implemented)
    assert len(report.failed) == len(report) == SPATIAL_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


def test_the_checkers_print_the_same_lines_on_every_run(capsys) -> None:
    assert_output_is_deterministic(check_drop_path, path_shared_by_batch, capsys)
    assert_output_is_deterministic(check_spatial_dropout, torch_spatial_dropout, capsys)


def test_the_drop_probability_tells_every_wrong_factor_apart() -> None:
    factors = [1 / v_checks.KEEP] + [factor for factor, _ in v_checks._FACTORS]
    for i, first in enumerate(factors):
        for second in factors[i + 1 :]:
            assert abs(first - second) > 1000 * v_checks.VALUE_RTOL
    for kind in (v_checks._DROP_PATH, v_checks._SPATIAL):  # a kept fraction of p lies far outside 1 − p's tolerance
        assert v_checks.KEEP - v_checks.P > 2 * v_checks._fraction_tolerance(kind, kind.shapes[0])


# --- expected_active_blocks: the depth experiment --------------------------------------------------


def _count(drop_path_fn, rates, n_examples):
    active = torch.zeros(n_examples, dtype=torch.float64)
    for rate in rates:
        active += (drop_path_fn(torch.ones(n_examples, 1), rate, training=True) != 0).double()[:, 0]
    return active


def expected_active_blocks(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    """The notebook's solution."""
    torch.manual_seed(seed)
    return float(_count(drop_path_fn, drop_path_rates(depth, max_rate), n_examples).mean())


def tensor_estimate(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    """A one-element tensor and a loop over blocks that builds the rates itself: accepted."""
    torch.manual_seed(seed)
    rates = [max_rate * block / depth for block in range(1, depth + 1)]
    return _count(drop_path_fn, rates, n_examples).mean()


def counted_dropped(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    return float(depth - _count(drop_path_fn, drop_path_rates(depth, max_rate), n_examples).mean())


def max_rate_everywhere(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    return float(_count(drop_path_fn, [max_rate] * depth, n_examples).mean())


def timm_schedule(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    return float(_count(drop_path_fn, torch.linspace(0, max_rate, depth).tolist(), n_examples).mean())


def range_from_zero(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    return float(_count(drop_path_fn, [max_rate * block / depth for block in range(depth)], n_examples).mean())


def fraction_of_blocks(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    return expected_active_blocks(drop_path_fn, depth, max_rate, n_examples, seed) / depth


def total_count(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    return float(_count(drop_path_fn, drop_path_rates(depth, max_rate), n_examples).sum())


def seed_ignored(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    return float(_count(drop_path_fn, drop_path_rates(depth, max_rate), n_examples).mean())


def exact_formula(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    return depth - max_rate * (depth + 1) / 2


def evaluation_mode(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    torch.manual_seed(seed)
    active = torch.zeros(n_examples)
    for rate in drop_path_rates(depth, max_rate):
        active += (drop_path_fn(torch.ones(n_examples, 1), rate, training=False) != 0).float()[:, 0]
    return float(active.mean())


def one_example(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    return expected_active_blocks(drop_path_fn, depth, max_rate, 1, seed)


def returns_list(drop_path_fn, depth, max_rate, n_examples=10_000, seed=0):
    return [expected_active_blocks(drop_path_fn, depth, max_rate, n_examples, seed)]


@pytest.mark.parametrize("fn", [expected_active_blocks, tensor_estimate], ids=lambda f: f.__name__)
def test_active_blocks_references_pass_every_property(fn, capsys) -> None:
    report = check_expected_active_blocks(fn)
    assert_every_property_holds(report, capsys.readouterr().out, ACTIVE_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (counted_dropped, "the estimate within", ("expected 8.75 ± 0.", "got 3.", "expected number of dropped")),
        (max_rate_everywhere, "the rates", ("got rates [0.5, 0.5, 0.5, …, 0.5]", "only the last")),
        (timm_schedule, "the rates", ("got rates [0, 0.04545", "timm's linspace")),
        (range_from_zero, "the rates", ("got rates [0, 0.04167", "p_l = max_rate·l/L for l = 1, …, L")),
        (timm_schedule, "the estimate within", ("expected 8.75 ± 0.", "timm's linspace")),
        (fraction_of_blocks, "the estimate within", ("got 0.7", "a count between 0 and L")),
        (total_count, "the estimate within", ("average the count",)),
        (seed_ignored, "the seed sets", ("the same estimate", "seeds torch's global generator")),
        (exact_formula, "once per block", ("no call of drop_path_fn", "by sampling")),
        (evaluation_mode, "once per block", ("training=False", "only drops blocks in training mode")),
        (one_example, "once per block", ("inputs of shapes (1, 1)", "n_examples examples")),
        (returns_list, "a number", ("got a list of length 1", "one number")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_active_blocks_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_expected_active_blocks, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "failing", "name"),
    [
        (counted_dropped, {"the estimate within"}, "the dropped blocks counted"),
        (fraction_of_blocks, {"the estimate within"}, "a fraction of the blocks"),
        (total_count, {"the estimate within"}, "the total over the examples"),
        (seed_ignored, {"the seed sets"}, "the seed ignored"),
        (max_rate_everywhere, {"the rates", "the estimate within"}, "max_rate for every block"),
        (timm_schedule, {"the rates", "the estimate within"}, "the schedule off by one"),
        (range_from_zero, {"the rates", "the estimate within"}, "the schedule off by one"),
        (evaluation_mode, {"calls drop_path_fn", "the rates", "the estimate within", "the seed sets"},
         "drop_path_fn called in evaluation mode"),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_each_active_blocks_mistake_fails_its_properties_with_one_diagnosis(fn, failing, name) -> None:
    report, printed = run_checker(check_expected_active_blocks, fn)
    assert_fails_exactly(failed_names(report), failing)
    if len(failing) > 1:
        assert_one_root_cause(report, printed)
    assert report.diagnosis.name == name


def test_the_cases_tell_every_active_blocks_mistake_apart() -> None:
    """Each wrong answer's expected value lies more than 2 × 4 standard errors from the exact count."""
    for depth, max_rate in v_checks.ACTIVE_CASES:
        exact = v_checks.exact_active_blocks(depth, max_rate)
        assert math.isclose(exact, sum(1 - p for p in drop_path_rates(depth, max_rate)))
        error = v_checks.active_blocks_standard_error(depth, max_rate, v_checks.ACTIVE_EXAMPLES)
        wrong = [
            depth - exact,  # dropped blocks counted
            exact / depth,  # a fraction
            depth * (1 - max_rate),  # max_rate everywhere
            depth - max_rate * depth / 2,  # timm's linspace
            depth - max_rate * (depth - 1) / 2,  # l = 0, …, L − 1
        ]
        assert all(abs(value - exact) > 2 * v_checks.SIGMAS * error for value in wrong), (depth, max_rate)
    assert v_checks.exact_active_blocks(12, 0.5) == 8.75


def test_a_student_exception_fails_every_active_blocks_property_and_is_explained_once(capsys) -> None:
    report = check_expected_active_blocks(not_implemented)
    assert len(report.failed) == len(report) == ACTIVE_LINES
    assert_stub_told_once(report, capsys.readouterr().out)


def test_the_checker_leaves_torchs_global_generator_as_it_was() -> None:
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    run_checker(check_expected_active_blocks, expected_active_blocks)
    check_drop_path(rand_drop_path)
    assert torch.equal(torch.rand(3), expected)


def test_the_package_re_exports_the_chapters_checkers() -> None:
    for name in v_checks.__all__:
        assert getattr(checks, name) is getattr(v_checks, name)

"""Tests for the "Why regularize" checkers: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.checks.intro import (
    SPLIT_CLASS_SIZES,
    SPLIT_FRACTION,
    _STOP_CASES,
    _STOP_MISTAKES,
    _early_stop_variant,
    _random_loss_curves,
    _split_data,
    _stop_mistakes_matching,
    check_early_stop_epoch,
    check_train_val_split,
)
from course_lib.data import train_val_split
from course_lib.train import early_stop_epoch

from .checker_assertions import (
    assert_every_property_holds,
    assert_fails_exactly,
    assert_one_root_cause,
    assert_output_is_deterministic,
    assert_rejected,
    assert_stub_told_once,
    failed_names,
    not_implemented,
)

STOP_LINES = 12
SPLIT_LINES = 10


# --- helpers -------------------------------------------------------------------------------


# --- wrong early_stop_epoch ----------------------------------------------------------------


def _validate(val_losses, patience: int) -> None:
    if patience < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")
    if len(val_losses) == 0:
        raise ValueError("val_losses must not be empty")


def stops_one_epoch_late(val_losses, patience):
    """Returns e + 1 (the number of epochs run) instead of the stop epoch e."""
    _validate(val_losses, patience)
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
        if waited == patience:
            return epoch + 1
    return len(val_losses) - 1


def returns_best_epoch(val_losses, patience):
    _validate(val_losses, patience)
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
        if waited == patience:
            break
    return best_epoch


def ties_count_as_improvement(val_losses, patience):
    _validate(val_losses, patience)
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss <= best:
            best, waited = loss, 0
        else:
            waited += 1
        if waited == patience:
            return epoch
    return len(val_losses) - 1


def compares_with_previous_epoch(val_losses, patience):
    _validate(val_losses, patience)
    previous, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        waited = 0 if loss < previous else waited + 1
        previous = loss
        if waited == patience:
            return epoch
    return len(val_losses) - 1


def never_resets_the_count(val_losses, patience):
    _validate(val_losses, patience)
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best = loss
        else:
            waited += 1
        if waited == patience:
            return epoch
    return len(val_losses) - 1


def stops_when_count_exceeds_patience(val_losses, patience):
    _validate(val_losses, patience)
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
        if waited > patience:
            return epoch
    return len(val_losses) - 1


def returns_length_when_never_stopping(val_losses, patience):
    _validate(val_losses, patience)
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
        if waited == patience:
            return epoch
    return len(val_losses)


def never_validates_patience(val_losses, patience):
    if len(val_losses) == 0:
        raise ValueError("val_losses must not be empty")
    best, waited = float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
        if waited >= patience:
            return epoch
    return len(val_losses) - 1


def never_checks_for_empty(val_losses, patience):
    if patience < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")
    return early_stop_epoch(val_losses, patience) if len(val_losses) else len(val_losses) - 1


def checks_emptiness_by_truth_value(val_losses, patience):
    if not val_losses:  # ambiguous for an array with more than one element
        raise ValueError("val_losses must not be empty")
    return early_stop_epoch(val_losses, patience)


def sorts_its_input(val_losses, patience):
    epoch = early_stop_epoch(val_losses, patience)
    val_losses.sort()  # "to find the best loss": sorts the caller's list in place
    return epoch


def returns_a_float(val_losses, patience):
    return float(early_stop_epoch(val_losses, patience))


def returns_nothing(val_losses, patience):
    early_stop_epoch(val_losses, patience)


# --- wrong train_val_split -----------------------------------------------------------------


def _check_split_arguments(X, y, val_fraction) -> None:
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if len(X) != len(y):
        raise ValueError(f"len(X) = {len(X)} differs from len(y) = {len(y)}")


def _stratified_indices(y, val_fraction, rng, size=round):
    """(train, val) indices: a right stratified split, with the per-class validation size given by `size`."""
    train, val = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        k = size(len(members) * val_fraction)
        val.append(members[:k])
        train.append(members[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))


def plain_random_split(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    order = rng.permutation(len(X))
    k = round(len(X) * val_fraction)
    return X[order[k:]], y[order[k:]], X[order[:k]], y[order[:k]]


def shuffles_X_and_y_separately(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    X, y = X[rng.permutation(len(X))], y[rng.permutation(len(y))]
    train, val = _stratified_indices(y, val_fraction, rng)
    return X[train], y[train], X[val], y[val]


def trains_on_everything(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    _, val = _stratified_indices(y, val_fraction, rng)
    return X.copy(), y.copy(), X[val], y[val]  # validation rows are also training rows


def takes_the_last_rows(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    k = round(len(X) * val_fraction)
    return X[:-k], y[:-k], X[-k:], y[-k:]


def takes_the_last_rows_of_each_class(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    train, val = [], []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        k = round(len(members) * val_fraction)
        train.append(members[: len(members) - k])
        val.append(members[len(members) - k :])
    train, val = np.concatenate(train), np.concatenate(val)
    return X[train], y[train], X[val], y[val]


def uses_global_random_state(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    train, val = _stratified_indices(y, val_fraction, np.random)  # the legacy global state, not `rng`
    return X[train], y[train], X[val], y[val]


def uses_a_fresh_generator(X, y, val_fraction, rng):
    return train_val_split(X, y, val_fraction, np.random.default_rng())


def uses_a_fixed_seed(X, y, val_fraction, rng):
    return train_val_split(X, y, val_fraction, np.random.default_rng(0))


def swaps_train_and_val(X, y, val_fraction, rng):
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction, rng)
    return X_val, y_val, X_train, y_train


def shuffles_inputs_in_place(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    order = rng.permutation(len(X))
    X[:], y[:] = X[order], y[order]  # the caller's arrays are now shuffled
    train, val = _stratified_indices(y, val_fraction, rng)
    return X[train], y[train], X[val], y[val]


def one_extra_validation_row_per_class(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    train, val = _stratified_indices(y, val_fraction, rng, size=lambda v: round(v) + 1)
    return X[train], y[train], X[val], y[val]


def loses_a_row_per_class(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    train, val = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        k = round(len(members) * val_fraction)
        val.append(members[:k])
        train.append(members[k + 1 :])  # off by one: members[k] lands nowhere
    train, val = np.concatenate(train), np.concatenate(val)
    return X[train], y[train], X[val], y[val]


def truncates_class_sizes(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    train, val = _stratified_indices(y, val_fraction, rng, size=int)
    return X[train], y[train], X[val], y[val]


def never_validates_the_fraction(X, y, val_fraction, rng):
    if len(X) != len(y):
        raise ValueError("length mismatch")
    train, val = _stratified_indices(y, val_fraction, rng)
    return X[train], y[train], X[val], y[val]


def never_checks_lengths(X, y, val_fraction, rng):
    if not 0 < val_fraction < 1:
        raise ValueError("bad fraction")
    train, val = _stratified_indices(y, val_fraction, rng)
    return X[train], y[train], X[val], y[val]


def returns_index_arrays(X, y, val_fraction, rng):
    _check_split_arguments(X, y, val_fraction)
    return _stratified_indices(y, val_fraction, rng)


def returns_a_list(X, y, val_fraction, rng):
    return list(train_val_split(X, y, val_fraction, rng))


def returns_float32_rows(X, y, val_fraction, rng):
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction, rng)
    return X_train.astype(np.float32), y_train, X_val.astype(np.float32), y_val


def returns_nothing_from_split(X, y, val_fraction, rng):
    train_val_split(X, y, val_fraction, rng)


# --- the references pass -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn", "count"),
    [(check_early_stop_epoch, early_stop_epoch, STOP_LINES), (check_train_val_split, train_val_split, SPLIT_LINES)],
    ids=["early_stop_epoch", "train_val_split"],
)
def test_reference_implementation_passes_every_property(checker, fn, count, capsys) -> None:
    report = checker(fn)
    assert_every_property_holds(report, capsys.readouterr().out, count)


def test_hand_made_stop_cases_and_their_printed_lines(capsys) -> None:
    check_early_stop_epoch(early_stop_epoch)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "✓ early_stop_epoch([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], patience=3) == 3 (plateau from the start)"
    assert lines[7].endswith("(seed 1998, 1–25 epochs, patience 1–5): 300 of 300 agree")


def test_the_contract_model_agrees_with_the_reference_on_the_random_curves() -> None:
    curves = _random_loss_curves(300, 1998)
    assert all(_early_stop_variant(losses, p) == early_stop_epoch(losses, p) for losses, p in curves)
    stops = sum(early_stop_epoch(losses, patience) < len(losses) - 1 for losses, patience in curves)
    assert 100 < stops < 290  # the curves exercise both outcomes: stopping early and running to the end
    assert any(len(set(losses)) < len(losses) for losses, _ in curves)  # ties occur


def test_hand_made_cases_follow_the_reference_and_each_modelled_mistake_fails_one() -> None:
    for case in _STOP_CASES:
        assert early_stop_epoch(list(case.losses), case.patience) == case.expected, case.what
        assert _early_stop_variant(case.losses, case.patience) == case.expected, case.what
    for flags, hint in _STOP_MISTAKES:
        wrong = [c.what for c in _STOP_CASES if _early_stop_variant(c.losses, c.patience, **flags) != c.expected]
        assert wrong, f"no hand-made case catches {flags}"
        # ... and on at least one of them it is the only modelled mistake giving that answer: the hint is unambiguous
        assert any(
            _stop_mistakes_matching(list(c.losses), c.patience, _early_stop_variant(c.losses, c.patience, **flags))
            == [hint]
            for c in _STOP_CASES
        ), f"{flags} is never told apart from the other mistakes"


def test_split_line_states_the_expected_counts(capsys) -> None:
    check_train_val_split(train_val_split)
    line = next(line for line in capsys.readouterr().out.splitlines() if "stratified" in line)
    assert line == (
        "✓ stratified: exactly round(n_c × 0.3) rows of each class c in validation "
        "(class sizes 120, 64, 14, 9; no tolerance): validation counts {0: 36, 1: 19, 2: 4, 3: 3}"
    )


def test_split_data_is_designed_as_documented() -> None:
    X, y = _split_data()
    assert np.array_equal(np.bincount(y), SPLIT_CLASS_SIZES)
    assert np.array_equal(X[:, 0], np.arange(len(y)))
    exact = [n * SPLIT_FRACTION for n in SPLIT_CLASS_SIZES]
    assert all(abs(v - int(v) - 0.5) > 0.1 for v in exact)  # no class on a rounding tie
    assert [round(v) for v in exact] != [int(v) for v in exact]  # truncation is told apart from rounding
    assert sum(round(v) for v in exact) == round(len(y) * SPLIT_FRACTION)  # an unstratified split has the right total
    assert not np.array_equal(y, np.sort(y))  # classes are interleaved, not in blocks


# --- wrong early_stop_epoch is rejected with a useful message ------------------------------


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (stops_one_epoch_late, "patience=1) == 2", ("expected 2, got 3", "one epoch late", "not e + 1")),
        (stops_one_epoch_late, "plateau from the start", ("expected 3, got 4", "one epoch late", "not e + 1")),
        (stops_one_epoch_late, "random loss curves", ("one epoch late", "shortest of")),
        (returns_best_epoch, "plateau from the start", ("expected 3, got 0", "the best epoch")),
        (returns_best_epoch, "random loss curves", ("the best epoch",)),
        (ties_count_as_improvement, "plateau from the start", ("expected 3, got 5", "strict <")),
        (ties_count_as_improvement, "a tie with the best", ("expected 3, got 5", "a tie", "strict <")),
        (ties_count_as_improvement, "random loss curves", ("strict <",)),
        (compares_with_previous_epoch, "beating the previous epoch", ("expected 4, got 6", "the best loss so far")),
        (compares_with_previous_epoch, "random loss curves", ("not against the previous epoch",)),
        (never_resets_the_count, "a late improvement resets", ("expected 7, got 5", "reset the count")),
        (never_resets_the_count, "random loss curves", ("reset the count",)),
        (stops_when_count_exceeds_patience, "patience=1) == 2", ("got 4", "reaches patience, not when it exceeds")),
        (stops_when_count_exceeds_patience, "random loss curves", ("reaches patience",)),
        (returns_length_when_never_stopping, "steady decrease", ("expected 5, got 6", "len(val_losses) - 1")),
        (returns_length_when_never_stopping, "patience longer than the run", ("expected 3, got 4",)),
        (never_validates_patience, "patience < 1 raises ValueError", ("patience = 0", "got a return value (int 0)")),
        (never_checks_for_empty, "empty val_losses", ("got a return value (int -1)", "len(val_losses) == 0")),
        (checks_emptiness_by_truth_value, "accepts a list", ("for a NumPy array", "truth value", "its length")),
        (checks_emptiness_by_truth_value, "leaves val_losses", ("got ValueError: The truth value", "its length")),
        (sorts_its_input, "leaves val_losses unchanged", ("list modified", "sorted, popped or overwritten")),
        (returns_a_float, "steady decrease", ("an int epoch index", "got float 5.0", "is an int")),
        (returns_nothing, "steady decrease", ("got None", "did you forget to return")),
        (not_implemented, "steady decrease", ("NotImplementedError", "replace `raise NotImplementedError()`")),
        (not_implemented, "random loss curves", ("NotImplementedError",)),
        (not_implemented, "patience < 1", ("got NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_early_stop_epoch_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_early_stop_epoch(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


def test_random_counterexample_shows_the_input_expected_and_got() -> None:
    report = check_early_stop_epoch(never_resets_the_count)
    line = next(result.line for result in report.failed if "random loss curves" in result.name)
    counterexample = line.split("expected early_stop_epoch(", 1)[1].split(", got ", 1)[0]
    losses_text, patience_text = counterexample.rsplit(", patience=", 1)
    losses, patience = eval(losses_text), int(patience_text.split(")")[0])  # the printed input, read back
    expected = int(patience_text.split(" = ")[1])
    assert expected == early_stop_epoch(losses, patience)
    got = int(line.split(", got ", 1)[1].split(";")[0])
    assert got == never_resets_the_count(losses, patience) != expected


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (never_validates_patience, {"patience < 1 raises ValueError"}),
        (never_checks_for_empty, {"empty val_losses raises ValueError"}),
        (sorts_its_input, {"leaves val_losses unchanged"}),
        (checks_emptiness_by_truth_value, {"accepts a list and a NumPy array", "leaves val_losses unchanged"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_early_stop_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(check_early_stop_epoch(fn)), failing)


# --- wrong train_val_split is rejected with a useful message -------------------------------


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (plain_random_split, "stratified", ("expected validation counts {0: 36, 1: 19, 2: 4, 3: 3}", "stratify")),
        (shuffles_X_and_y_separately, "pair stays together", ("belong to another row", "same indices")),
        (trains_on_everything, "exactly one part", ("62 rows in both train and val", "disjoint")),
        (takes_the_last_rows, "chosen at random", ("the last 62 rows of X", "`rng` argument")),
        (takes_the_last_rows_of_each_class, "chosen at random", ("the last rows of each class", "`rng` argument")),
        (uses_global_random_state, "np.random's global state", ("changes with np.random.seed", "`rng` argument")),
        (uses_a_fresh_generator, "uses rng", ("identically seeded", "two different splits", "`rng`")),
        (uses_a_fixed_seed, "uses rng", ("differently seeded", "the same split", "`rng`")),
        (swaps_train_and_val, "stratified", ("{0: 84, 1: 45, 2: 10, 3: 6}", "swapped")),
        (shuffles_inputs_in_place, "leaves X and y unchanged", ("X modified", "do not shuffle in place")),
        (one_extra_validation_row_per_class, "stratified", ("{0: 37, 1: 20, 2: 5, 3: 4}", "off by one")),
        (loses_a_row_per_class, "exactly one part", ("4 rows in neither part", "slice bounds")),
        (truncates_class_sizes, "stratified", ("{0: 36, 1: 19, 2: 4, 3: 2}", "int() truncates")),
        (never_validates_the_fraction, "val_fraction outside (0, 1)", ("ValueError for val_fraction = 0.0",)),
        (never_checks_lengths, "len(X) != len(y)", ("ValueError for len(X) = 206, len(y) = 207", "got IndexError")),
        (returns_index_arrays, "returns (X_train", ("a tuple (X_train, y_train, X_val, y_val)", "a tuple of length 2")),
        (returns_nothing_from_split, "returns (X_train", ("got None", "did you forget to return")),
        (returns_a_list, "returns (X_train", ("got a list of length 4", "a tuple, not a list")),
        (returns_float32_rows, "exactly one part", ("rows found nowhere in X", "whole rows of X")),
        (not_implemented, "exactly one part", ("NotImplementedError", "replace `raise NotImplementedError()`")),
        (not_implemented, "raises ValueError", ("got NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_train_val_split_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_train_val_split(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (plain_random_split, {"stratified"}),
        (shuffles_X_and_y_separately, {"each (X[i], y[i]) pair"}),
        (trains_on_everything, {"every row in exactly one part"}),
        (uses_global_random_state, {"does not use np.random's global state"}),
        (shuffles_inputs_in_place, {"leaves X and y unchanged"}),
        (never_validates_the_fraction, {"val_fraction outside (0, 1)"}),
        (never_checks_lengths, {"len(X) != len(y)"}),
        (takes_the_last_rows_of_each_class, {"validation rows chosen at random", "uses rng"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_split_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(check_train_val_split(fn)), failing)


def test_the_split_checker_leaves_np_random_global_state_as_it_found_it() -> None:
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    check_train_val_split(train_val_split)  # the checker re-seeds np.random to probe for its use, then restores it
    assert np.random.random() == expected


# --- student exceptions and determinism ----------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "count"), [(check_early_stop_epoch, STOP_LINES), (check_train_val_split, SPLIT_LINES)]
)
def test_a_student_exception_fails_every_property_and_is_explained_once(checker, count: int, capsys) -> None:
    report = checker(not_implemented)
    assert len(report.failed) == len(report) == count
    assert_stub_told_once(report, capsys.readouterr().out)


# --- one root mistake is named once --------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn", "name"),
    [
        (check_early_stop_epoch, stops_one_epoch_late, "stopping one epoch late"),
        (check_early_stop_epoch, stops_when_count_exceeds_patience, "waiting until the count exceeds patience"),
        (check_early_stop_epoch, returns_best_epoch, "the best epoch returned"),
        (check_early_stop_epoch, ties_count_as_improvement, "ties counted as improvements"),
        (check_early_stop_epoch, compares_with_previous_epoch, "comparing with the previous epoch"),
        (check_early_stop_epoch, never_resets_the_count, "a count that never resets"),
        (check_early_stop_epoch, returns_length_when_never_stopping, "len(val_losses) for a run that never stops"),
        (check_early_stop_epoch, checks_emptiness_by_truth_value, "the truth value of an array"),
        (check_early_stop_epoch, returns_a_float, "an epoch that is not an int"),
        (check_early_stop_epoch, returns_nothing, "the missing return"),
        (check_train_val_split, takes_the_last_rows_of_each_class, "a split that ignores rng"),
        (check_train_val_split, uses_a_fresh_generator, "randomness not drawn from rng"),
        (check_train_val_split, returns_index_arrays, "a result that is not the four arrays"),
        (check_train_val_split, returns_a_list, "a list instead of a tuple"),
        (check_train_val_split, returns_float32_rows, "rows that are not rows of X"),
        (check_train_val_split, returns_nothing_from_split, "the missing return"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_root_mistake_is_diagnosed_once(checker, fn, name: str, capsys) -> None:
    diagnosis = assert_one_root_cause(checker(fn), capsys.readouterr().out)
    assert diagnosis.name == name


def test_a_plateau_alone_cannot_tell_two_mistakes_apart_but_the_other_curves_can(capsys) -> None:
    plateau = _STOP_CASES[1]
    matching = _stop_mistakes_matching(list(plateau.losses), plateau.patience, plateau.expected + 1)
    assert [d.name for d in matching] == ["stopping one epoch late", "waiting until the count exceeds patience"]
    report = check_early_stop_epoch(stops_one_epoch_late)
    printed = capsys.readouterr().out
    assert {result.diagnosis.name for result in report.failed} == {"stopping one epoch late"}
    assert "either" not in printed and printed.count("one epoch late: the answer is the epoch e") == 1


def test_two_mistakes_in_one_split_get_two_diagnoses_and_no_closing_line(capsys) -> None:
    """The last 62 rows are neither stratified nor random: the stratified line and the rng lines differ."""
    report = check_train_val_split(takes_the_last_rows)
    printed = capsys.readouterr().out
    names = [result.diagnosis.name for result in report.failed]
    assert names == ["", "a split that ignores rng", "a split that ignores rng"]
    assert report.diagnosis is None and "Diagnosis:" not in printed
    assert printed.count("the split does not depend on rng") == 1


def test_checkers_reject_a_non_callable() -> None:
    with pytest.raises(TypeError, match="fn must be a function"):
        check_early_stop_epoch([1.0, 0.9])
    with pytest.raises(TypeError, match="fn must be a function"):
        check_train_val_split(None)


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_early_stop_epoch, early_stop_epoch),
        (check_early_stop_epoch, never_resets_the_count),
        (check_early_stop_epoch, not_implemented),
        (check_train_val_split, train_val_split),
        (check_train_val_split, plain_random_split),
        (check_train_val_split, uses_a_fresh_generator),
        (check_train_val_split, uses_global_random_state),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)


# --- choose_by_validation ------------------------------------------------------------------

from course_lib.checks.intro import CHOICE_EXPECTED, _CANDIDATES, _crafted_runs, check_choose_by_validation  # noqa: E402

CHOICE_LINES = 6


def _require_candidates(runs) -> None:
    if not runs:
        raise ValueError("runs must hold at least one candidate, got {}")


def choose_by_validation(runs):
    """The reference: the best mean validation accuracy, the first one on a tie."""
    _require_candidates(runs)
    return max(runs, key=lambda name: runs[name]["val_accuracy"].mean)


def chooses_on_test(runs):
    _require_candidates(runs)
    return max(runs, key=lambda name: runs[name]["test_accuracy"].mean)


def chooses_on_train(runs):
    _require_candidates(runs)
    return max(runs, key=lambda name: runs[name]["train_accuracy"].mean)


def chooses_on_the_first_seed(runs):
    _require_candidates(runs)
    return max(runs, key=lambda name: runs[name].results[0].val_accuracy)


def chooses_the_lowest(runs):
    _require_candidates(runs)
    return min(runs, key=lambda name: runs[name]["val_accuracy"].mean)


def returns_the_runs(runs):
    return runs[choose_by_validation(runs)]


def last_of_a_tie(runs):
    _require_candidates(runs)
    best = None
    for name, run in runs.items():
        if best is None or run["val_accuracy"].mean >= runs[best]["val_accuracy"].mean:
            best = name
    return best


def pops_the_winner(runs):
    name = choose_by_validation(runs)
    runs.pop(name)
    return name


def empty_is_none(runs):
    return max(runs, key=lambda name: runs[name]["val_accuracy"].mean) if runs else None


def test_choose_by_validation_reference_passes(capsys) -> None:
    report = check_choose_by_validation(choose_by_validation)
    assert_every_property_holds(report, capsys.readouterr().out, CHOICE_LINES)


def test_the_crafted_candidates_separate_the_rules() -> None:
    runs = _crafted_runs(_CANDIDATES)
    means = {metric: {n: r[metric].mean for n, r in runs.items()} for metric in ("train_accuracy", "val_accuracy", "test_accuracy")}
    picks = {
        "val": max(means["val_accuracy"], key=means["val_accuracy"].get),
        "train": max(means["train_accuracy"], key=means["train_accuracy"].get),
        "test": max(means["test_accuracy"], key=means["test_accuracy"].get),
        "lowest": min(means["val_accuracy"], key=means["val_accuracy"].get),
        "one seed": max(runs, key=lambda n: runs[n]["val_accuracy"].high),
    }
    assert picks["val"] == CHOICE_EXPECTED and len(set(picks.values())) == len(picks), picks
    assert list(runs).index(CHOICE_EXPECTED) not in (0, len(runs) - 1)  # neither the first nor the last name


@pytest.mark.parametrize(
    "fn, property_fragment, phrases",
    [
        (chooses_on_test, "best mean validation accuracy", ("got 'weight decay'", "test accuracy is looked at once")),
        (chooses_on_train, "best mean validation accuracy", ("got 'no regularizer'", "memorised")),
        (chooses_on_the_first_seed, "best mean validation accuracy", ("got 'early stopping'", "mean validation accuracy over all seeds")),
        (chooses_the_lowest, "best mean validation accuracy", ("got 'tiny network'", "highest mean validation")),
        (returns_the_runs, "best mean validation accuracy", ("got a SeedRuns", "not its SeedRuns")),
        (last_of_a_tie, "a tie", ("expected 'first'", "keep the first one")),
        (pops_the_winner, "leaves runs unchanged", ("got 4 entries", "no `pop`")),
        (empty_is_none, "runs = {}", ("got a return value (None)", "must raise ValueError")),
    ],
)
def test_wrong_choose_by_validation_is_rejected(fn, property_fragment, phrases, capsys) -> None:
    report = check_choose_by_validation(fn)
    assert_rejected(report, property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize("fn", [chooses_on_test, chooses_on_train, chooses_on_the_first_seed])
def test_a_wrong_rule_is_one_root_cause_across_both_orders(fn, capsys) -> None:
    report = check_choose_by_validation(fn)
    assert failed_names(report)[:2] == [r.name for r in report.results[:2]]
    assert_one_root_cause(report, capsys.readouterr().out)


def test_choose_by_validation_stub_and_determinism(capsys) -> None:
    assert_stub_told_once(check_choose_by_validation(not_implemented), capsys.readouterr().out)
    assert_output_is_deterministic(check_choose_by_validation, chooses_on_test, capsys)

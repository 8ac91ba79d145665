"""Checkers for the exercises of the chapter "Why regularize": ``early_stop_epoch`` and ``train_val_split``.

The contracts are those of :func:`course_lib.train.early_stop_epoch` (the stop
epoch for a patience, checked on hand-made curves and against the reference on
random ones) and :func:`course_lib.data.train_val_split` (a stratified split
drawn with the given ``rng`` only). A wrong answer is matched against typical
misreadings of the contract to pick the hint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from course_lib.checks.report import (
    CheckReport,
    _call,
    _checker,
    _describe,
    Diagnosis,
    _exception_diagnosis,
    _expect_value_error,
    _Failed,
    _NO_RETURN,
    _generator,
    _one_of,
    _Property,
    _require_different,
    _require_identical,
    _require_unchanged,
    _StudentRaised,
)
from course_lib.data import train_val_split as _reference_split
from course_lib.train import early_stop_epoch as _reference_early_stop_epoch

__all__ = [
    "check_early_stop_epoch",
    "check_train_val_split",
    "check_choose_by_validation",
]


# --- early_stop_epoch ----------------------------------------------------------------------

_TRUTH_VALUE = Diagnosis(
    "the truth value of an array",
    "an array has no single truth value, so `if not val_losses` fails for a NumPy array; emptiness is a matter "
    "of its length",
)


def _stop_exception_diagnosis(raised: _StudentRaised) -> Diagnosis:
    """An exception from the student's early_stop_epoch: the truth value of an array is a typical one."""
    return _TRUTH_VALUE if "truth value of an array" in str(raised) else _exception_diagnosis(raised.error)


_STOP_VALIDATION = Diagnosis(
    "the missing argument checks",
    "validate the arguments before using them: a patience below 1 and an empty val_losses "
    "(len(val_losses) == 0) must raise ValueError naming the value",
)
_NOT_AN_INT = Diagnosis("an epoch that is not an int", "the stop epoch is an int")
_STOP_RULE = (
    "an epoch improves only if its loss is strictly below every earlier loss; stop at the first epoch e "
    "at which epochs e-patience+1 … e all failed to improve, else return len(val_losses) - 1"
)


@dataclass(frozen=True)
class _StopCase:
    """A hand-made loss curve with the stop epoch the contract gives for it."""

    what: str
    losses: tuple[float, ...]
    patience: int
    expected: int

    @property
    def name(self) -> str:
        return f"{_stop_call(list(self.losses), self.patience)} == {self.expected} ({self.what})"


def _stop_call(losses: list[float], patience: int) -> str:
    return f"early_stop_epoch({losses}, patience={patience})"


_STOP_CASES = (
    _StopCase("steady decrease: never stops", (1.0, 0.8, 0.6, 0.5, 0.45, 0.42), 2, 5),
    _StopCase("plateau from the start", (0.5, 0.5, 0.5, 0.5, 0.5, 0.5), 3, 3),
    _StopCase("a late improvement resets the count", (1.0, 0.9, 0.95, 0.97, 0.85, 0.9, 0.92, 0.93, 0.94), 3, 7),
    _StopCase("a tie with the best is no improvement", (1.0, 0.8, 0.9, 0.8, 0.85, 0.7), 2, 3),
    _StopCase("beating the previous epoch is not enough", (1.0, 0.6, 0.9, 0.8, 0.7, 0.65, 0.62), 3, 4),
    _StopCase("patience longer than the run", (0.9, 0.95, 0.97, 0.99), 10, 3),
    _StopCase("patience = 1", (1.0, 0.7, 0.8, 0.6, 0.5), 1, 2),
)


def _early_stop_variant(
    losses: Iterable[float],
    patience: int,
    *,
    ties_improve: bool = False,
    against_previous: bool = False,
    reset: bool = True,
    exceed: bool = False,
    plus_one: bool = False,
    best: bool = False,
    end_len: bool = False,
) -> int:
    """The stop epoch under the contract, or (with a flag) under a typical misreading of it.

    Only used to recognise a student's mistake from the value it returns; the
    reference is :func:`course_lib.train.early_stop_epoch`.
    """
    losses = list(losses)
    best_loss = previous = math.inf
    best_epoch = waited = 0
    for epoch, loss in enumerate(losses):
        target = previous if against_previous else best_loss
        if loss < target or (ties_improve and loss == target):
            waited = 0 if reset else waited
        else:
            waited += 1
        if loss < best_loss:
            best_loss, best_epoch = loss, epoch
        previous = loss
        if waited > patience if exceed else waited >= patience:
            return best_epoch if best else epoch + 1 if plus_one else epoch
    return best_epoch if best else len(losses) if end_len else len(losses) - 1


# Typical mistakes, each with the diagnosis shown when a student's answer matches it.
_STOP_MISTAKES: tuple[tuple[dict[str, bool], Diagnosis], ...] = (
    (
        {"plus_one": True},
        Diagnosis(
            "stopping one epoch late",
            "one epoch late: the answer is the epoch e at which the patience runs out, not e + 1",
        ),
    ),
    (
        {"exceed": True},
        Diagnosis(
            "waiting until the count exceeds patience",
            "training stops when the count of epochs without improvement reaches patience, not when it exceeds it",
        ),
    ),
    (
        {"best": True},
        Diagnosis("the best epoch returned", "that is the best epoch, not the epoch at which training stops"),
    ),
    (
        {"ties_improve": True},
        Diagnosis(
            "ties counted as improvements",
            "a tie with the best loss is not an improvement: the comparison is a strict <",
        ),
    ),
    (
        {"against_previous": True},
        Diagnosis(
            "comparing with the previous epoch",
            "an improvement is measured against the best loss so far, not against the previous epoch",
        ),
    ),
    (
        {"reset": False},
        Diagnosis(
            "a count that never resets",
            "reset the count to 0 on every improvement: patience counts consecutive epochs without one",
        ),
    ),
    (
        {"end_len": True},
        Diagnosis(
            "len(val_losses) for a run that never stops",
            "if the patience never runs out, the answer is the last epoch, whose index is len(val_losses) - 1",
        ),
    ),
)


def _stop_mistakes_matching(losses: list[float], patience: int, got: int) -> list[Diagnosis]:
    return [diagnosis for flags, diagnosis in _STOP_MISTAKES if _early_stop_variant(losses, patience, **flags) == got]


def _stop_epoch(fn: Callable[..., Any], losses: Any, patience: int) -> int:
    """Call the student's function on a copy of ``losses`` and require an int back."""
    result = _call(fn, losses.copy(), patience)
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, np.integer)):
        diagnosis = _NO_RETURN if result is None else _NOT_AN_INT
        raise _Failed("an int epoch index", _describe(result), diagnosis)
    return int(result)


def _stop_case_property(case: _StopCase) -> _Property:
    def prop(fn: Callable[..., Any]) -> str:
        losses = list(case.losses)
        got = _stop_epoch(fn, losses, case.patience)
        if got != case.expected:
            matching = _stop_mistakes_matching(losses, case.patience, got)
            raise _Failed(str(case.expected), str(got), _one_of(_narrowed(fn, matching), _STOP_RULE))
        return ""

    return prop


def _narrowed(fn: Callable[..., Any], matching: list[Diagnosis]) -> list[Diagnosis]:
    """Of several mistakes that fit one hand-made case, those that give the student's answer on all of them.

    One curve may not tell two misreadings apart (on a plateau, stopping one epoch late and waiting
    for the count to exceed patience give the same epoch); the student's answers on the other
    hand-made curves usually do, so each case names the same one mistake. If none fits every
    curve (two mistakes at once, or a student exception), ``matching`` is kept.
    """
    if len(matching) < 2:
        return matching
    try:
        answers = [(case, _stop_epoch(fn, list(case.losses), case.patience)) for case in _STOP_CASES]
    except (_Failed, _StudentRaised):
        return matching
    explaining = [
        diagnosis
        for flags, diagnosis in _STOP_MISTAKES
        if diagnosis in matching
        and all(_early_stop_variant(case.losses, case.patience, **flags) == got for case, got in answers)
    ]
    return explaining or matching


STOP_SEED = 1998  # Prechelt, "Early stopping — but when?"
STOP_CURVES = 300


def _random_loss_curves(count: int, seed: int) -> list[tuple[list[float], int]]:
    """U-shaped validation curves in steps of 0.1 (so ties and plateaus occur), with a patience each."""
    rng = _generator(seed)
    curves = []
    for _ in range(count):
        length = int(rng.integers(1, 26))
        turn = int(rng.integers(0, length + 1))  # falls before the turn, rises after it (over-fitting)
        steps = np.where(np.arange(length) < turn, rng.integers(-4, 3, length), rng.integers(-2, 5, length))
        tenths = np.maximum(30 + np.cumsum(steps), 1)
        curves.append(([int(t) / 10 for t in tenths], int(rng.integers(1, 6))))
    return curves


def _stop_agrees_with_reference(fn: Callable[..., Any]) -> str:
    disagreements = []  # (losses, patience, expected, got as text, got as int or the exception raised)
    for losses, patience in _random_loss_curves(STOP_CURVES, STOP_SEED):
        expected = int(_reference_early_stop_epoch(losses, patience))
        try:
            got = _stop_epoch(fn, losses, patience)
        except _StudentRaised as raised:
            if isinstance(raised.error, NotImplementedError):
                raise  # the untouched stub: the runner reports it
            disagreements.append((losses, patience, expected, str(raised), raised))
            continue
        if got != expected:
            disagreements.append((losses, patience, expected, str(got), got))
    if not disagreements:
        return f"{STOP_CURVES} of {STOP_CURVES} agree"
    losses, patience, expected, got_text, got = min(disagreements, key=lambda d: len(d[0]))
    every_time = [  # a mistake that explains every disagreement is the likeliest one
        diagnosis
        for flags, diagnosis in _STOP_MISTAKES
        if all(isinstance(d[4], int) and _early_stop_variant(d[0], d[1], **flags) == d[4] for d in disagreements)
    ]
    if isinstance(got, _StudentRaised):
        diagnosis = _one_of(every_time, _stop_exception_diagnosis(got))
    else:
        diagnosis = _one_of(every_time or _stop_mistakes_matching(losses, patience, got), _STOP_RULE)
    shortest = f"; the shortest of {len(disagreements)} disagreeing curves"
    raise _Failed(f"{_stop_call(losses, patience)} = {expected}", got_text + shortest, diagnosis)


def _stop_accepts_list_and_array(fn: Callable[..., Any]) -> str:
    case = _STOP_CASES[2]  # whether the answer is right is checked above: here only that both kinds work alike
    results = {}
    for kind, losses in (("list", list(case.losses)), ("NumPy array", np.array(case.losses))):
        try:
            results[kind] = _stop_epoch(fn, losses, case.patience)
        except _StudentRaised as raised:
            if isinstance(raised.error, NotImplementedError):
                raise
            raise _Failed(f"a result for a {kind}", str(raised), _stop_exception_diagnosis(raised)) from None
    if len(set(results.values())) > 1:
        got = ", ".join(f"{value} for a {kind}" for kind, value in results.items())
        raise _Failed("the same epoch for a list and an array", got, "use only len(), indexing and iteration")
    return ""


def _stop_leaves_input_unchanged(fn: Callable[..., Any]) -> str:
    case = _STOP_CASES[2]
    for kind, losses in (("list", list(case.losses)), ("array", np.array(case.losses))):
        before = np.array(losses, copy=True)
        try:
            _call(fn, losses, case.patience)  # the caller's object, not a copy
        except _StudentRaised as raised:
            if isinstance(raised.error, NotImplementedError):
                raise
            raise _Failed("a result", str(raised), _stop_exception_diagnosis(raised)) from None
        hint = "val_losses is changed in place (sorted, popped or overwritten), but the caller still holds it"
        _require_unchanged(f"the {kind} val_losses", losses, before, hint, got=f"the {kind} modified")
    return ""


def _stop_rejects_bad_patience(fn: Callable[..., Any]) -> str:
    hint = _STOP_VALIDATION
    for patience in (0, -1):
        _expect_value_error(f"ValueError for patience = {patience}", hint, fn, [1.0, 0.9, 0.8], patience)
    return ""


def _stop_rejects_empty_losses(fn: Callable[..., Any]) -> str:
    hint = _STOP_VALIDATION
    _expect_value_error("ValueError", hint, fn, [], 2)
    return ""


_STOP_PROPERTIES: list[tuple[str, _Property]] = [
    *((case.name, _stop_case_property(case)) for case in _STOP_CASES),
    (
        f"agrees with course_lib.train.early_stop_epoch on {STOP_CURVES} random loss curves "
        f"(seed {STOP_SEED}, 1–25 epochs, patience 1–5)",
        _stop_agrees_with_reference,
    ),
    ("accepts a list and a NumPy array (the same epoch for both)", _stop_accepts_list_and_array),
    ("leaves val_losses unchanged (list and array)", _stop_leaves_input_unchanged),
    ("patience < 1 raises ValueError (patience = 0, -1)", _stop_rejects_bad_patience),
    ("empty val_losses raises ValueError", _stop_rejects_empty_losses),
]


@_checker("early_stop_epoch(val_losses, patience) -> int", _STOP_PROPERTIES)
def check_early_stop_epoch(fn: Callable[..., Any]) -> CheckReport:
    """The contract is that of :func:`course_lib.train.early_stop_epoch`: epochs
    are numbered from 0; an epoch improves if its validation loss is strictly
    below every earlier one (epoch 0 always improves); training stops after the
    first epoch ``e`` at which the last ``patience`` epochs all failed to
    improve, and the function returns that ``e``, or ``len(val_losses) - 1`` if
    it never happens. ``ValueError`` for ``patience < 1`` and for an empty
    ``val_losses``. Prints one line per property: seven hand-made curves (a
    wrong answer is matched against typical mistakes to pick the hint), then
    agreement with the reference on random curves, showing the shortest
    counterexample.
    """


# --- train_val_split -----------------------------------------------------------------------

SPLIT_FRACTION = 0.3
# n_c × 0.3 = 36, 19.2, 4.2 and 2.7: rounding (36, 19, 4, 3) differs from truncating (2.7 → 2) and from
# rounding up (19.2 → 20); no class lands on .5, where rounding conventions disagree. 207 × 0.3 = 62.1
# rounds to 62 = 36 + 19 + 4 + 3, so an unstratified split has the right total and only its per-class
# counts give it away.
SPLIT_CLASS_SIZES = (120, 64, 14, 9)
SPLIT_SEED = 1995  # Kohavi's study that recommends stratified cross-validation
_SPLIT_PARTS = "(X_train, y_train, X_val, y_val)"
_SAME_INDEX = Diagnosis(
    "X and y reordered differently",
    "X and y are not selected with the same indices, so rows lose their labels: each (X[i], y[i]) pair stays together",
)
_SPLIT_LIST = Diagnosis("a list instead of a tuple", "return a tuple, not a list, of the four arrays")
_SPLIT_PARTS_WRONG = Diagnosis(
    "a result that is not the four arrays", f"the contract returns the four arrays {_SPLIT_PARTS}, in that order"
)
_SPLIT_NOT_ARRAYS = Diagnosis(
    "parts that are not arrays of rows",
    "each part is a NumPy array holding whole rows of X or entries of y, not indices or lists",
)
_SPLIT_FOREIGN_ROWS = Diagnosis(
    "rows that are not rows of X", "the parts must hold whole rows of X, selected by index, not built or modified rows"
)
_SPLIT_IGNORES_RNG = Diagnosis(
    "a split that ignores rng",
    "the split does not depend on rng: which rows go to validation must be drawn from the `rng` argument "
    "(not fixed rows, and not a generator seeded inside the function)",
)
_SPLIT_VALIDATION = Diagnosis(
    "the missing argument checks",
    "validate the arguments before using them: a val_fraction outside (0, 1), and X and y of different "
    "lengths, must raise ValueError naming the values",
)
_SPLIT_RNG = Diagnosis(
    "randomness not drawn from rng",
    "every random number must come from the `rng` argument: not from np.random's global functions "
    "(np.random.permutation, np.random.shuffle), and not from a new generator",
)


def _split_data(seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0–3 in random order, and X whose first column is the row's id (0, 1, 2, …)."""
    rng = _generator(seed)
    y = rng.permutation(np.repeat(np.arange(len(SPLIT_CLASS_SIZES)), SPLIT_CLASS_SIZES))
    X = np.column_stack([np.arange(len(y), dtype=float), rng.normal(size=(len(y), 2))])
    return X, y


def _counts(labels: np.ndarray) -> dict[int, int]:
    values, sizes = np.unique(labels, return_counts=True)
    return {int(c): int(n) for c, n in zip(values, sizes)}


def _expected_val_counts(X: np.ndarray, y: np.ndarray, val_fraction: float) -> dict[int, int]:
    """Validation count per class from the reference, course_lib.data.train_val_split: round(n_c * val_fraction)."""
    return _counts(_reference_split(X, y, val_fraction, _generator(SPLIT_SEED))[3])


def _split(
    fn: Callable[..., Any], X: np.ndarray, y: np.ndarray, seed: int, *, copies: bool = True
) -> tuple[np.ndarray, ...]:
    """Call the student's split with a fresh generator; check the structure of what comes back."""
    args = (X.copy(), y.copy()) if copies else (X, y)
    result = _call(fn, *args, SPLIT_FRACTION, _generator(seed))
    if not isinstance(result, tuple) or len(result) != 4:
        if result is None:
            diagnosis = _NO_RETURN
        elif isinstance(result, list) and len(result) == 4:
            diagnosis = _SPLIT_LIST
        else:
            diagnosis = _SPLIT_PARTS_WRONG
        raise _Failed(f"a tuple {_SPLIT_PARTS}", _describe(result), diagnosis)
    names = ("X_train", "y_train", "X_val", "y_val")
    for name, part, like in zip(names, result, (X, y, X, y)):
        if not isinstance(part, np.ndarray) or part.ndim != like.ndim or part.shape[1:] != like.shape[1:]:
            shape = "(n, " + ", ".join(map(str, like.shape[1:])) + ")" if like.ndim > 1 else "(n,)"
            raise _Failed(f"{name} a NumPy array of shape {shape}", _describe(part), _SPLIT_NOT_ARRAYS)
    X_train, y_train, X_val, y_val = result
    for part, X_part, y_part in (("train", X_train, y_train), ("val", X_val, y_val)):
        if len(X_part) != len(y_part):
            raise _Failed(f"len(X_{part}) == len(y_{part})", f"{len(X_part)} and {len(y_part)}", _SAME_INDEX)
    return X_train, y_train, X_val, y_val


def _row_ids(X_part: np.ndarray, X: np.ndarray, name: str) -> np.ndarray:
    """The ids (first column) of the rows in ``X_part``; fail if some row is not a row of X."""
    ids = X_part[:, 0]
    valid = (ids == np.round(ids)) & (ids >= 0) & (ids < len(X))
    safe = np.where(valid, ids, 0).astype(int)
    if not (valid.all() and np.array_equal(X_part, X[safe])):
        bad = int(np.count_nonzero(~valid | np.any(X_part != X[safe], axis=1)))
        got = f"{bad} of {len(X_part)} rows found nowhere in X"
        raise _Failed(f"every row of {name} a row of X", got, _SPLIT_FOREIGN_ROWS)
    return safe


def _split_ids(fn: Callable[..., Any], seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    X, y = _split_data()
    X_train, _, X_val, _ = _split(fn, X, y, seed)
    return _row_ids(X_train, X, "X_train"), _row_ids(X_val, X, "X_val")


def _split_returns_four_arrays(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_train, _, X_val, _ = _split(fn, X, y, SPLIT_SEED)
    return f"{len(X_train)} train rows, {len(X_val)} validation rows"


def _split_partitions_rows(fn: Callable[..., Any]) -> str:
    train, val = _split_ids(fn)
    n = sum(SPLIT_CLASS_SIZES)
    expected = f"each of the {n} rows in exactly one part"
    for name, ids in (("X_train", train), ("X_val", val)):
        repeated = len(ids) - len(np.unique(ids))
        if repeated:
            hint = "rows are drawn with replacement: each row belongs to exactly one part, once"
            raise _Failed(expected, f"{repeated} rows repeated within {name}", hint)
    overlap = len(np.intersect1d(train, val))
    if overlap:
        hint = "train and val must be disjoint: val takes some indices, train gets exactly the others"
        raise _Failed(expected, f"{overlap} rows in both train and val", hint)
    missing = n - len(train) - len(val)
    if missing:
        hint = "rows are lost: training gets every row that validation did not take (check your slice bounds)"
        raise _Failed(expected, f"{missing} rows in neither part", hint)
    return ""


def _split_keeps_pairs(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_train, y_train, X_val, y_val = _split(fn, X, y, SPLIT_SEED)
    for name, X_part, y_part in (("train", X_train, y_train), ("val", X_val, y_val)):
        ids = _row_ids(X_part, X, f"X_{name}")
        wrong = int(np.count_nonzero(y_part != y[ids]))
        if wrong:
            got = f"{wrong} of {len(ids)} labels in y_{name} belong to another row"
            raise _Failed(f"y_{name}[k] == y[i] whenever X_{name}[k] == X[i]", got, _SAME_INDEX)
    return ""


def _split_is_stratified(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    _, _, _, y_val = _split(fn, X, y, SPLIT_SEED)
    expected = _expected_val_counts(X, y, SPLIT_FRACTION)
    got = _counts(y_val)
    if got == expected:
        return f"validation counts {got}"
    sizes = _counts(y)
    got_list = [got.get(c, 0) for c in sizes]
    if got.keys() - sizes.keys():
        hint = "y_val must hold labels from y"
    elif got_list == [n - expected[c] for c, n in sizes.items()]:
        hint = "train and val are swapped: validation gets the val_fraction share, training the rest"
    elif got_list == [math.floor(n * SPLIT_FRACTION) for n in sizes.values()]:
        hint = "the count is truncated: round(n_c * val_fraction) rounds 2.7 to 3, int() truncates it to 2"
    elif got_list == [math.ceil(n * SPLIT_FRACTION) for n in sizes.values()]:
        hint = "the count is rounded up: round(n_c * val_fraction) rounds 19.2 to 19, a ceiling gives 20"
    elif {g - e for g, e in zip(got_list, expected.values())} in ({1}, {-1}):
        hint = "off by one in every class: each class gives exactly round(n_c * val_fraction) rows"
    elif sum(got_list) == sum(expected.values()):
        hint = "the total is right but the classes are not: split each class separately (stratify)"
    else:
        hint = "stratified means per class: each class c gives round(n_c * val_fraction) of its rows to validation"
    raise _Failed(f"validation counts {expected}", str(got), hint)


def _split_chooses_rows_at_random(fn: Callable[..., Any]) -> str:
    _, val = _split_ids(fn)
    _, y = _split_data()
    ids = np.arange(len(y))
    val_set = set(val.tolist())
    hint = _SPLIT_IGNORES_RNG
    if not val_set:
        raise _Failed("a random choice of validation rows", "an empty validation set", "see the stratified line")
    for where, chosen in (("first", ids[: len(val)]), ("last", ids[len(ids) - len(val) :])):
        if val_set == set(chosen.tolist()):
            raise _Failed("a random choice of validation rows", f"the {where} {len(val)} rows of X", hint)
    for where in ("first", "last"):
        picks = []
        for c in np.unique(y):
            members = ids[y == c]
            k = int(np.count_nonzero(y[val] == c))
            picks.append(members[:k] if where == "first" else members[len(members) - k :])
        if picks and val_set == set(np.concatenate(picks).tolist()):
            raise _Failed("a random choice of validation rows", f"the {where} rows of each class", hint)
    return ""


def _split_uses_rng(fn: Callable[..., Any]) -> str:
    state = np.random.get_state()
    try:
        np.random.seed(SPLIT_SEED)  # the same global state for both calls: only `rng` should matter
        first = _split(fn, *_split_data(), SPLIT_SEED + 1)
        np.random.seed(SPLIT_SEED)
        second = _split(fn, *_split_data(), SPLIT_SEED + 1)
        other = _split(fn, *_split_data(), SPLIT_SEED + 2)
    finally:
        np.random.set_state(state)
    expected = "the same split from two identically seeded generators"
    _require_identical(second, first, expected, "two different splits", _SPLIT_RNG)
    expected = "a different split from a differently seeded generator"  # X_train and X_val: some row must move
    _require_different((first[0], first[2]), (other[0], other[2]), expected, "the same split", _SPLIT_IGNORES_RNG)
    return ""


def _split_ignores_global_state(fn: Callable[..., Any]) -> str:
    state = np.random.get_state()
    try:
        splits = []
        for global_seed in (1, 2):
            np.random.seed(global_seed)
            splits.append(_split(fn, *_split_data(), SPLIT_SEED + 3))
    finally:
        np.random.set_state(state)
    expected = "the same split whatever the state of np.random"
    _require_identical(splits[1], splits[0], expected, "a split that changes with np.random.seed", _SPLIT_RNG)
    return ""


def _split_leaves_inputs_unchanged(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    X_before, y_before = X.copy(), y.copy()
    _split(fn, X, y, SPLIT_SEED, copies=False)  # the caller's arrays, not copies
    hint = "do not shuffle in place (rng.shuffle(X)): the caller still holds X and y, which must stay as they were"
    for name, now, before in (("X", X, X_before), ("y", y, y_before)):
        _require_unchanged(name, now, before, hint)
    return ""


def _split_rejects_bad_fraction(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    hint = _SPLIT_VALIDATION
    for fraction in (0.0, 1.0, 1.5):
        expected = f"ValueError for val_fraction = {fraction}"
        _expect_value_error(expected, hint, fn, X.copy(), y.copy(), fraction, _generator(SPLIT_SEED))
    return ""


def _split_rejects_length_mismatch(fn: Callable[..., Any]) -> str:
    X, y = _split_data()
    hint = _SPLIT_VALIDATION
    expected = f"ValueError for len(X) = {len(X) - 1}, len(y) = {len(y)}"
    _expect_value_error(expected, hint, fn, X[:-1].copy(), y.copy(), SPLIT_FRACTION, _generator(SPLIT_SEED))
    return ""


_SIZES_TEXT = ", ".join(map(str, SPLIT_CLASS_SIZES))
_SPLIT_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns {_SPLIT_PARTS}: NumPy arrays, X's row shape, matching lengths", _split_returns_four_arrays),
    ("every row in exactly one part (rows tagged with unique ids)", _split_partitions_rows),
    ("each (X[i], y[i]) pair stays together", _split_keeps_pairs),
    (
        f"stratified: exactly round(n_c × {SPLIT_FRACTION}) rows of each class c in validation "
        f"(class sizes {_SIZES_TEXT}; no tolerance)",
        _split_is_stratified,
    ),
    (
        "validation rows chosen at random (not the first or last rows, overall or per class)",
        _split_chooses_rows_at_random,
    ),
    ("uses rng: same seed gives the same split, another seed a different one", _split_uses_rng),
    ("does not use np.random's global state", _split_ignores_global_state),
    ("leaves X and y unchanged", _split_leaves_inputs_unchanged),
    ("val_fraction outside (0, 1) raises ValueError (0.0, 1.0, 1.5)", _split_rejects_bad_fraction),
    ("len(X) != len(y) raises ValueError", _split_rejects_length_mismatch),
]


@_checker("train_val_split(X, y, val_fraction, rng) -> (X_train, y_train, X_val, y_val)", _SPLIT_PROPERTIES)
def check_train_val_split(fn: Callable[..., Any]) -> CheckReport:
    """The contract is that of :func:`course_lib.data.train_val_split`: a
    stratified split (exactly ``round(n_c * val_fraction)`` examples of each
    class ``c`` go to validation), every row in exactly one part, ``(X[i], y[i])``
    pairs kept together, rows chosen at random with the given ``rng`` only,
    inputs left unchanged, and ``ValueError`` for ``val_fraction`` outside
    (0, 1) or ``len(X) != len(y)``. The data has 207 rows in four classes; the
    first column of ``X`` holds each row's id, so the checker can tell which
    rows went where. Prints one line per property.
    """


# --- choose_by_validation ------------------------------------------------------------------

# Five crafted candidates, three seeds each: (train, validation, test) accuracies per seed. The best mean
# validation accuracy ("dropout 0.3") is not the best mean training or mean test accuracy, nor the best
# single seed's validation accuracy, and each of those (and the lowest mean validation accuracy) belongs to
# another name, so the name returned tells which rule was used.
_CANDIDATES: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "no regularizer": ((1.000, 0.998, 1.000), (0.575, 0.585, 0.580), (0.575, 0.580, 0.570)),
    "dropout 0.3": ((0.810, 0.815, 0.805), (0.610, 0.625, 0.620), (0.600, 0.610, 0.605)),
    "early stopping": ((0.790, 0.800, 0.805), (0.650, 0.560, 0.565), (0.570, 0.575, 0.580)),
    "weight decay": ((0.980, 0.975, 0.985), (0.590, 0.600, 0.595), (0.640, 0.630, 0.635)),
    "tiny network": ((0.560, 0.565, 0.555), (0.545, 0.555, 0.550), (0.550, 0.555, 0.545)),
}
CHOICE_EXPECTED = "dropout 0.3"
_CHOICE_SEEDS = (0, 1, 2)


def _crafted_runs(table: dict[str, tuple[tuple[float, ...], ...]]) -> dict[str, Any]:
    """SeedRuns with the given accuracies (NLL and ECE are placeholders; the models are never used)."""
    import torch.nn as nn

    from course_lib.experiments import ClassifierConfig, ClassifierResult, SeedRuns
    from course_lib.train import History

    runs = {}
    for index, (name, (train, val, test)) in enumerate(table.items()):
        results = tuple(
            ClassifierResult(seed, tr, va, te, 1.0, 0.1, History(), nn.Linear(1, 1))
            for seed, tr, va, te in zip(_CHOICE_SEEDS, train, val, test)
        )
        runs[name] = SeedRuns(ClassifierConfig(hidden=(index + 1,)), results)
    return runs


def _mean_of(runs: Any, metric: str) -> dict[str, float]:
    return {name: run[metric].mean for name, run in runs.items()}


_ON_TEST = Diagnosis(
    "choosing on the test set",
    "the choice must be made on validation accuracy; the test accuracy is looked at once, after the choice, "
    "or it stops being an unbiased estimate",
)
_ON_TRAIN = Diagnosis(
    "choosing on the training set",
    "training accuracy rewards the candidate that memorised its training data best: choose on held-out "
    "validation accuracy",
)
_ONE_SEED = Diagnosis(
    "a choice from one seed",
    "one seed's validation accuracy is noisy: compare the mean validation accuracy over all seeds of a candidate",
)
_LOWEST = Diagnosis("the lowest accuracy chosen", "the best candidate has the highest mean validation accuracy")
_NOT_A_NAME = Diagnosis(
    "a result that is not a name",
    "return the chosen candidate's name, the key of `runs`, not its SeedRuns or its accuracy",
)
_CHOICE_RULE = "return the name whose SeedRuns has the highest mean validation accuracy over its seeds"


def _choose(fn: Callable[..., Any], runs: dict[str, Any]) -> str:
    """Call the student's function on a shallow copy of ``runs`` and check it returned one of the names."""
    choice = _call(fn, dict(runs))
    if not isinstance(choice, str) or choice not in runs:
        hint = _NO_RETURN if choice is None else _NOT_A_NAME
        raise _Failed(f"one of the names {sorted(runs)}", _describe(choice), hint)
    return choice


def _choice_diagnosis(runs: dict[str, Any], choice: str) -> Diagnosis | str:
    """The typical wrong rules whose choice on ``runs`` is ``choice``."""
    rules = {
        _ON_TEST: _mean_of(runs, "test_accuracy"),
        _ON_TRAIN: _mean_of(runs, "train_accuracy"),
        _LOWEST: {name: -run["val_accuracy"].mean for name, run in runs.items()},
        _ONE_SEED: {name: run.results[0].val_accuracy for name, run in runs.items()},
    }
    single_best = max(runs, key=lambda name: runs[name]["val_accuracy"].high)
    matching = [diagnosis for diagnosis, score in rules.items() if max(score, key=score.get) == choice]
    if choice == single_best and _ONE_SEED not in matching:
        matching.append(_ONE_SEED)
    return _one_of(matching, _CHOICE_RULE)


def _choice_picks_validation_best(fn: Callable[..., Any]) -> str:
    runs = _crafted_runs(_CANDIDATES)
    choice = _choose(fn, runs)
    means = _mean_of(runs, "val_accuracy")
    expected = f"{CHOICE_EXPECTED!r} (mean validation accuracy {means[CHOICE_EXPECTED]:.4f})"
    if choice != CHOICE_EXPECTED:
        raise _Failed(expected, f"{choice!r} (mean validation accuracy {means[choice]:.4f})", _choice_diagnosis(runs, choice))
    return f"{choice!r}"


def _choice_ignores_order(fn: Callable[..., Any]) -> str:
    runs = _crafted_runs(dict(reversed(list(_CANDIDATES.items()))))
    choice = _choose(fn, runs)
    if choice != CHOICE_EXPECTED:
        order = "the first or last candidate is returned whatever the accuracies: " + _CHOICE_RULE
        hint = _choice_diagnosis(runs, choice)
        if not isinstance(hint, Diagnosis) and choice in (next(iter(runs)), list(runs)[-1]):
            hint = order
        raise _Failed(f"{CHOICE_EXPECTED!r} with the candidates in reverse order", f"{choice!r}", hint)
    return ""


def _choice_single_candidate(fn: Callable[..., Any]) -> str:
    _choose(fn, _crafted_runs({"only one": _CANDIDATES["weight decay"]}))  # its only valid answer is "only one"
    return ""


def _choice_tie(fn: Callable[..., Any]) -> str:
    tied = _CANDIDATES["dropout 0.3"]
    runs = _crafted_runs({"first": tied, "second": tied})  # tied on every metric: any rule sees a tie
    choice = _choose(fn, runs)
    if choice != "first":
        hint = "of candidates with the same mean validation accuracy, keep the first one in the dict's order"
        raise _Failed("'first' (tied with 'second', and listed first)", f"{choice!r}", hint)
    return ""


def _choice_leaves_runs_unchanged(fn: Callable[..., Any]) -> str:
    runs = _crafted_runs(_CANDIDATES)
    before = list(runs.items())
    _call(fn, runs)  # the caller's dict, not a copy
    if list(runs.items()) != before:
        hint = "do not remove or replace entries of `runs` (no `pop`, no `del`): read it, and return a name"
        raise _Failed(f"runs unchanged after the call ({len(before)} entries)", f"{len(runs)} entries or other values", hint)
    return ""


def _choice_rejects_empty(fn: Callable[..., Any]) -> str:
    hint = "with no candidate there is nothing to choose: an empty `runs` must raise ValueError"
    _expect_value_error("ValueError for runs = {}", hint, fn, {})
    return ""


_CHOICE_PROPERTIES: list[tuple[str, _Property]] = [
    (
        "returns the name with the best mean validation accuracy (5 candidates, 3 seeds; the best on training, "
        "on test and on a single seed are other names)",
        _choice_picks_validation_best,
    ),
    ("the same choice with the candidates in reverse order", _choice_ignores_order),
    ("a single candidate is chosen", _choice_single_candidate),
    ("a tie goes to the candidate listed first", _choice_tie),
    ("leaves runs unchanged", _choice_leaves_runs_unchanged),
    ("runs = {} raises ValueError", _choice_rejects_empty),
]


@_checker("choose_by_validation(runs) -> name", _CHOICE_PROPERTIES)
def check_choose_by_validation(fn: Callable[..., Any]) -> CheckReport:
    """``runs`` maps a configuration's name to its
    :class:`~course_lib.experiments.SeedRuns`; the function returns the name whose
    mean validation accuracy over the seeds is highest (``runs[name]["val_accuracy"].mean``),
    the first such name on a tie, leaves ``runs`` unchanged and raises
    ``ValueError`` for an empty dict. The checker's runs are crafted, so that the
    best candidate on training accuracy, on test accuracy and on a single seed
    are all other names, each recognised in the hint.
    Prints one line per property.
    """

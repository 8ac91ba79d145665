"""Tests for course_lib.checks.practice: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations


import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_lib import checks
from course_lib.checks import practice
from course_lib.checks.practice import check_configure_adamw, check_evaluate
from course_lib.optim import EMBEDDING_MODULES, NORMALIZATION_MODULES, name_substring_groups, param_groups

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

CONFIGURE_LINES, EVALUATE_LINES = 7, 6


def _case_id(value) -> str:
    """A test id that is the same in every process: sets are sorted (pytest-xdist compares the ids of its workers)."""
    name = getattr(value, "__name__", None)
    if name:
        return name
    if isinstance(value, (set, frozenset)):
        return ",".join(sorted(value))[:24]
    return str(value)[:24]


# --- configure_adamw: solutions and their wrong twins -------------------------------------------------


def library_configure_adamw(model, lr, weight_decay):
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr)


def _decide(module, param):
    """The book's rule for one use of a parameter."""
    if isinstance(module, NORMALIZATION_MODULES) or isinstance(module, EMBEDDING_MODULES):
        return False
    return param.ndim >= 2


def configure_adamw(model, lr, weight_decay, decide=_decide, first_use=False, keep_frozen=False):
    """The notebook's solution (with every default); each keyword makes one typical mistake."""
    decided, order = {}, []
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if not param.requires_grad and not keep_frozen:
                continue
            decayed = decide(module, param)
            if id(param) not in decided:
                order.append(param)
                decided[id(param)] = decayed
            elif not first_use:
                decided[id(param)] = decided[id(param)] or decayed
    decay = [p for p in order if decided[id(p)]]
    rest = [p for p in order if not decided[id(p)]]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=lr
    )


def by_module_and_names(model, lr, weight_decay):
    """Another right answer: named_modules, a set of seen parameters, the tied rule by a second pass."""
    decayed = set()
    for _, module in model.named_modules():
        for _, param in module.named_parameters(recurse=False):
            if param.requires_grad and isinstance(module, (nn.Linear, nn.Conv1d)) and param.ndim >= 2:
                decayed.add(param)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(
        [
            {"params": [p for p in trainable if p in decayed], "weight_decay": weight_decay},
            {"params": [p for p in trainable if p not in decayed], "weight_decay": 0.0},
        ],
        lr=lr,
    )


def norm_weights_decayed(model, lr, weight_decay):
    rule = lambda m, p: _decide(m, p) or (isinstance(m, NORMALIZATION_MODULES) and p is m.weight)
    return configure_adamw(model, lr, weight_decay, decide=rule)


def biases_decayed(model, lr, weight_decay):
    rule = lambda m, p: not isinstance(m, NORMALIZATION_MODULES + EMBEDDING_MODULES)
    return configure_adamw(model, lr, weight_decay, decide=rule)


def embeddings_decayed(model, lr, weight_decay):
    return configure_adamw(model, lr, weight_decay, decide=lambda m, p: p.ndim >= 2)


def tied_first_use(model, lr, weight_decay):
    return configure_adamw(model, lr, weight_decay, first_use=True)


def frozen_included(model, lr, weight_decay):
    return configure_adamw(model, lr, weight_decay, keep_frozen=True)


def tied_in_both_groups(model, lr, weight_decay):
    decay, rest = [], []
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if param.requires_grad:
                (decay if _decide(module, param) else rest).append(param)
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=lr)


def tied_twice_in_a_group(model, lr, weight_decay):
    """The tied table listed twice in the decayed group (once per use): torch only warns."""
    decay, rest = param_groups(model, weight_decay)
    decayed = {id(p) for p in decay["params"]}
    uses = [p for m in model.modules() for p in m.parameters(recurse=False) if id(p) in decayed]
    return torch.optim.AdamW([{"params": uses, "weight_decay": weight_decay}, rest], lr=lr)


def one_decayed_group(model, lr, weight_decay):
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def decay_on_the_wrong_group(model, lr, weight_decay):
    decay, rest = param_groups(model, weight_decay)
    return torch.optim.AdamW([{"params": decay["params"], "weight_decay": 0.0},
                              {"params": rest["params"], "weight_decay": weight_decay}], lr=lr)


def name_filter(model, lr, weight_decay):
    return torch.optim.AdamW(name_substring_groups(model, weight_decay), lr=lr)


def optimizer_passed(model, lr, weight_decay):
    return torch.optim.AdamW(torch.optim.AdamW(model.parameters(), lr=lr), lr=lr, weight_decay=weight_decay)


def groups_returned(model, lr, weight_decay):
    return param_groups(model, weight_decay)


def adam_not_adamw(model, lr, weight_decay):
    return torch.optim.Adam(param_groups(model, weight_decay), lr=lr)


def lr_ignored(model, lr, weight_decay):
    return torch.optim.AdamW(param_groups(model, weight_decay))


def decay_ignored(model, lr, weight_decay):
    decay, rest = param_groups(model, weight_decay)
    return torch.optim.AdamW([{"params": decay["params"]}, rest], lr=lr)


def norms_left_out(model, lr, weight_decay):
    decay, rest = param_groups(model, weight_decay)
    norms = {id(p) for m in model.modules() if isinstance(m, NORMALIZATION_MODULES) for p in m.parameters()}
    rest = {"params": [p for p in rest["params"] if id(p) not in norms], "weight_decay": 0.0}
    return torch.optim.AdamW([decay, rest], lr=lr)


def configure_returns_none(model, lr, weight_decay):
    library_configure_adamw(model, lr, weight_decay)


def configure_raises(model, lr, weight_decay):
    raise KeyError("weight")


@pytest.mark.parametrize(
    "fn", [library_configure_adamw, configure_adamw, by_module_and_names], ids=lambda f: f.__name__
)
def test_configure_adamw_references_pass_every_property(fn, capsys) -> None:
    report = check_configure_adamw(fn)
    printed = capsys.readouterr().out
    assert_every_property_holds(report, printed, CONFIGURE_LINES)
    assert printed.splitlines()[-1].endswith(": 8,192 decayed and 256 not decayed")


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (norm_weights_decayed, "decayed: exactly", ("for Linear(64, 64) → LayerNorm(64)", "scale and shift")),
        (biases_decayed, "decayed: exactly", ("shifts a unit's pre-activation",)),
        (embeddings_decayed, "decayed: exactly", ("for Embedding → LayerNorm → Linear", "rare token")),
        (tied_first_use, "decayed: exactly", ("tied to its embedding", "decayed if any of its uses is")),
        (frozen_included, "frozen parameters", ("2 frozen tensors", "requires_grad=False is not trained")),
        (tied_in_both_groups, "returns a torch.optim.AdamW", ("more than one parameter group", "exactly one group")),
        (tied_twice_in_a_group, "exactly one group", ("listed twice", "stepped twice")),
        (one_decayed_group, "weight_decay 0", ("weight_decay 0", "model.parameters() in one group")),
        (one_decayed_group, "frozen parameters", ("frozen tensors", "model.parameters() in one group")),
        (decay_on_the_wrong_group, "decayed: exactly", ("settings swapped",)),
        (name_filter, "the write-up model", ("got 8,256 decayed and 192 not decayed", "'1.weight'")),
        (name_filter, "frozen parameters", ("2 frozen tensors", "LayerNorm.weight")),
        (optimizer_passed, "returns a torch.optim.AdamW", ("not iterable", "not another optimizer")),
        (groups_returned, "returns a torch.optim.AdamW", ("a list of length 2 of dicts", "built from")),
        (adam_not_adamw, "returns a torch.optim.AdamW", ("a Adam for", "L2 term")),
        (lr_ignored, "lr = 0.003", ("got lr 0.001", "learning rate")),
        (decay_ignored, "lr = 0.003", ("got weight_decay 0, 0.01", "own default is 0.01")),
        (norms_left_out, "exactly one group", ("trainable tensors in no group", "never updated")),
        (configure_returns_none, "returns a torch.optim.AdamW", ("got None", "did you forget")),
        (configure_raises, "returns a torch.optim.AdamW", ("KeyError: 'weight'",)),
    ],
    ids=_case_id,
)
def test_wrong_configure_adamw_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_configure_adamw, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (norm_weights_decayed, "normalization parameters decayed"),
        (biases_decayed, "biases decayed"),
        (embeddings_decayed, "the embedding table decayed"),
        (tied_first_use, "the tied weight decided by its first use"),
        (frozen_included, "frozen parameters included"),
        (tied_in_both_groups, "a parameter in two groups"),
        (one_decayed_group, "everything in one decayed group"),
        (decay_on_the_wrong_group, "the weight decay on the wrong group"),
        (name_filter, "the name filter"),
        (optimizer_passed, "an optimizer passed where the parameter groups belong"),
        (groups_returned, "the groups returned instead of the optimizer"),
        (norms_left_out, "parameters left out"),
        (configure_returns_none, "the missing return"),
    ],
    ids=_case_id,
)
def test_each_configure_adamw_mistake_is_diagnosed_once(fn, name: str) -> None:
    report, printed = run_checker(check_configure_adamw, fn)
    if len(report.failed) == 1:
        assert report.diagnosis is not None and report.diagnosis.name == name
        assert_rejected(report, "", printed=printed)
    else:
        assert assert_one_root_cause(report, printed).name == name


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (norm_weights_decayed, {"decayed: exactly", "weight_decay 0", "the write-up model"}),
        (embeddings_decayed, {"decayed: exactly", "weight_decay 0"}),
        (tied_first_use, {"decayed: exactly", "weight_decay 0"}),
        (frozen_included, {"frozen parameters"}),
        (tied_twice_in_a_group, {"every trainable parameter"}),
        (adam_not_adamw, {"returns a torch.optim.AdamW"}),
        (lr_ignored, {"lr = 0.003"}),
        (decay_ignored, {"lr = 0.003"}),  # the decayed group gets AdamW's default 0.01: the partition is right
        (name_filter, {"frozen parameters", "decayed: exactly", "weight_decay 0", "the write-up model"}),
    ],
    ids=_case_id,
)
def test_a_single_configure_adamw_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    report, _ = run_checker(check_configure_adamw, fn)
    assert_fails_exactly(failed_names(report), failing)


def test_the_write_up_counts_are_the_books_and_the_name_filters() -> None:
    model = practice._writeup_model()
    for groups, counts in ((param_groups(model, 0.1), practice.WRITEUP_COUNTS),
                           (name_substring_groups(model, 0.1), practice.NAME_FILTER_COUNTS)):
        assert tuple(sum(p.numel() for p in g["params"]) for g in groups) == counts


def test_every_model_has_what_its_description_says() -> None:
    kinds = [set(practice._kinds(build()).values()) for _, build in practice.MODELS]
    assert {"weight", "bias", "norm"} <= kinds[0] and "norm" in kinds[1] and "frozen" in kinds[2]
    assert "embedding" in kinds[3] and "tied" in kinds[4]


def test_a_student_exception_fails_every_configure_property_and_is_explained_once(capsys) -> None:
    report = check_configure_adamw(not_implemented)
    assert_stub_told_once(report, capsys.readouterr().out)


# --- evaluate: solutions and their wrong twins ----------------------------------------------------------


def evaluate(model, X, y):
    """The notebook's solution."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(X)
            loss = F.cross_entropy(outputs, y)
            accuracy = (outputs.argmax(dim=1) == y).float().mean()
    finally:
        model.train(was_training)
    return loss.item(), accuracy.item()


@torch.inference_mode()
def evaluate_in_chunks(model, X, y):
    """Another right answer: inference mode, chunks of 10 rows, tensors returned."""
    was_training = model.training
    model.eval()
    total, correct = torch.zeros(()), 0
    for start in range(0, len(X), 10):
        outputs = model(X[start : start + 10])
        total += F.cross_entropy(outputs, y[start : start + 10], reduction="sum")
        correct += int((outputs.argmax(1) == y[start : start + 10]).sum())
    model.train(was_training)
    return total / len(X), torch.tensor(correct / len(X))


def no_eval(model, X, y):
    with torch.no_grad():
        outputs = model(X)
        return F.cross_entropy(outputs, y).item(), (outputs.argmax(1) == y).double().mean().item()


def no_grad_missing(model, X, y):
    was_training = model.training
    model.eval()
    outputs = model(X)
    loss = F.cross_entropy(outputs, y)
    model.train(was_training)
    return loss, (outputs.argmax(1) == y).double().mean().item()


def mode_not_restored(model, X, y):
    model.eval()
    with torch.no_grad():
        outputs = model(X)
    return F.cross_entropy(outputs, y).item(), (outputs.argmax(1) == y).double().mean().item()


def train_forced_afterwards(model, X, y):
    result = mode_not_restored(model, X, y)
    model.train()
    return result


def only_dropout_off(model, X, y):
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    for m in dropouts:
        m.eval()
    with torch.no_grad():
        outputs = model(X)
    for m in dropouts:
        m.train(model.training)
    return F.cross_entropy(outputs, y).item(), (outputs.argmax(1) == y).double().mean().item()


def summed_loss(model, X, y):
    loss, accuracy = evaluate(model, X, y)
    return loss * len(X), accuracy


def percent_accuracy(model, X, y):
    loss, accuracy = evaluate(model, X, y)
    return loss, 100 * accuracy


def returns_a_dict(model, X, y):
    loss, accuracy = evaluate(model, X, y)
    return {"loss": loss, "accuracy": accuracy}


def evaluate_raises(model, X, y):
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


@pytest.mark.parametrize("fn", [evaluate, evaluate_in_chunks], ids=lambda f: f.__name__)
def test_evaluate_references_pass_every_property(fn, capsys) -> None:
    report = check_evaluate(fn)
    assert_every_property_holds(report, capsys.readouterr().out, EVALUATE_LINES)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (no_eval, "evaluation mode: every module", ("got BatchNorm1d, Dropout in training mode", "dropout still drops units")),
        (no_eval, "mean cross-entropy", ("a model in training mode before the call",)),
        (no_eval, "running statistics", ("changed by the call",)),
        (no_grad_missing, "no autograd graph", ("torch.is_grad_enabled() True", "autograd graph")),
        (mode_not_restored, "handed back", ("got a model in evaluation mode", "next epoch would train")),
        (train_forced_afterwards, "handed back", ("back in evaluation mode", "whichever it was")),
        (only_dropout_off, "evaluation mode: every module", ("got BatchNorm1d in training mode", "running statistics")),
        (only_dropout_off, "running statistics", ("changed by the call", "dropout was switched off")),
        (summed_loss, "mean cross-entropy", ("summed over the rows",)),
        (percent_accuracy, "mean cross-entropy", ("a fraction in [0, 1]",)),
        (returns_a_dict, "two numbers", ("got a dict", "two numbers")),
        (evaluate_raises, "two numbers", ("RuntimeError: mat1 and mat2",)),
    ],
    ids=_case_id,
)
def test_wrong_evaluate_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...]) -> None:
    report, printed = run_checker(check_evaluate, fn)
    assert_rejected(report, property_fragment, *phrases, printed=printed)


@pytest.mark.parametrize(
    ("fn", "failing", "name"),
    [
        (no_eval, {"the forward pass", "the mean cross-entropy", "BatchNorm's running"}, "the missing model.eval()"),
        (no_grad_missing, {"no autograd graph"}, "the missing torch.no_grad()"),
        (mode_not_restored, {"the model handed back"}, "the mode not restored"),
        (train_forced_afterwards, {"the model handed back"}, "training mode forced afterwards"),
        (only_dropout_off, {"the forward pass", "the mean cross-entropy", "BatchNorm's running"},
         "BatchNorm left in training mode"),
        (summed_loss, {"the mean cross-entropy"}, "the summed loss"),
        (percent_accuracy, {"the mean cross-entropy"}, "an accuracy in percent"),
    ],
    ids=_case_id,
)
def test_each_evaluate_mistake_fails_its_properties_with_its_own_diagnosis(fn, failing, name) -> None:
    report, printed = run_checker(check_evaluate, fn)
    assert_fails_exactly(failed_names(report), failing)
    assert report.diagnosis is not None and report.diagnosis.name == name
    if len(failing) > 1:
        assert_one_root_cause(report, printed)


def test_the_evaluation_model_tells_training_mode_apart() -> None:
    """In training mode the network's numbers differ from evaluation mode's (dropout and batch statistics)."""
    model, (X, y) = practice._evaluation_model(True), practice._evaluation_data()
    right = practice._reference_evaluation(model, X, y)
    with torch.no_grad():
        torch.manual_seed(0)
        loss = float(F.cross_entropy(model(X), y))
    assert abs(loss - right[0]) > 1e-3


def test_a_student_exception_fails_every_evaluate_property_and_is_explained_once(capsys) -> None:
    report = check_evaluate(not_implemented)
    assert_stub_told_once(report, capsys.readouterr().out)


def test_the_checkers_print_the_same_lines_on_every_run(capsys) -> None:
    assert_output_is_deterministic(check_configure_adamw, name_filter, capsys)
    assert_output_is_deterministic(check_evaluate, no_eval, capsys)


def test_the_evaluate_checker_leaves_torchs_global_generator_as_it_was() -> None:
    state = torch.random.get_rng_state()
    run_checker(check_evaluate, no_eval)
    check_evaluate(no_eval)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_the_package_re_exports_the_chapters_checkers() -> None:
    assert checks.check_configure_adamw is check_configure_adamw
    assert checks.check_evaluate is check_evaluate

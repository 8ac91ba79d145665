r"""Checkers for the exercises of "Regularization in practice": ``configure_adamw`` and the bug hunt's ``evaluate``.

``configure_adamw(model, lr, weight_decay)`` returns a ``torch.optim.AdamW`` whose parameter
groups follow the book's rule, :func:`course_lib.optim.param_groups`: decided by module type
and dimensionality, never by name. Decayed, with ``weight_decay`` :math:`\lambda`: the weight
matrices and kernels (``ndim >= 2``) of ``nn.Linear``, convolutions and other layers. Not
decayed, in a group with ``weight_decay = 0``: biases, every parameter of a normalization
layer (LayerNorm, BatchNorm, GroupNorm, …) and embedding tables. A parameter shared by two
modules is decayed if any of its uses is (a head tied to the token embedding is an
``nn.Linear``); frozen parameters (``requires_grad=False``) belong in no group, and no
parameter in two. The checker builds five small models (the write-up model
Linear(64, 64) → LayerNorm(64) → Linear(64, 64), a CNN with BatchNorm1d, an MLP with a frozen
first layer, an embedding classifier, a language model with a tied head), compares each
group with the reference, and names the typical mistakes from *which kinds* of parameter
land in the wrong group: normalization weights or biases decayed, embeddings decayed, the
tied head decided by its first use, everything in one decayed group, the two groups' decay
swapped, the widely copied name filter ``no_decay = ["bias", "LayerNorm.weight"]`` (which
under ``nn.Sequential`` decays the LayerNorm weight, ``"1.weight"``: 8,256 decayed and 192 not
instead of 8,192 and 256), frozen parameters included, a parameter in two groups and an
optimizer passed where the groups belong.

``evaluate(model, X, y) -> (loss, accuracy)`` is the repaired validation half of the bug
hunt's listing: the mean cross-entropy and the fraction of correct ``argmax`` predictions,
measured in evaluation mode (dropout off, BatchNorm with its running statistics) without
building an autograd graph, leaving the model as it was (its mode and its BatchNorm
statistics). The checker registers a forward pre-hook on every module of a small
Linear → BatchNorm1d → ReLU → Dropout → Linear network that records, for each forward pass,
each module's ``training`` flag and ``torch.is_grad_enabled()``; so it names the missing
``model.eval()``, only the dropout layers switched off (BatchNorm still updating its running
statistics), the missing ``torch.no_grad()``, the mode not restored after the measurement
and a model in evaluation mode handed back in training mode, apart from wrong values (a
summed loss, an accuracy in percent).
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course_lib.checks.report import (
    CheckReport,
    Diagnosis,
    _call,
    _checker,
    _describe,
    _Failed,
    _NO_RETURN,
    _one_of,
    _Property,
    _StudentRaised,
)
from course_lib.models import init_uniform_, make_mlp
from course_lib.optim import EMBEDDING_MODULES, NORMALIZATION_MODULES, name_substring_groups, param_groups

__all__ = ["check_configure_adamw", "check_evaluate"]

SEED = 2019  # Loshchilov & Hutter, "Decoupled weight decay regularization"
#: The hyper-parameters the checker passes: neither is torch.optim.AdamW's default (1e-3 and 1e-2).
LR = 3e-3
WEIGHT_DECAY = 0.05
#: The write-up model's counts (CURRICULUM, "Errors in common write-ups"): right, and with the name filter.
WRITEUP_COUNTS = (8192, 256)
NAME_FILTER_COUNTS = (8256, 192)


# --- the models -------------------------------------------------------------------------------------


class _EmbeddingClassifier(nn.Module):
    """Token ids → embedding → mean over the sequence → LayerNorm → Linear: the table is not decayed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(30, 8)
        self.norm = nn.LayerNorm(8)
        self.classifier = nn.Linear(8, 4)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.norm(self.embedding(tokens).mean(dim=1)))


class _TiedLanguageModel(nn.Module):
    """Embedding → Linear → LayerNorm → head, the head's weight *being* the embedding table (weight tying)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.mix = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 20, bias=False)
        self.head.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(torch.relu(self.mix(self.embedding(tokens)))))


def _writeup_model() -> nn.Module:
    return init_uniform_(nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.Linear(64, 64)), SEED)


def _cnn() -> nn.Module:
    layers = nn.Sequential(nn.Conv1d(1, 4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6, 3))
    return init_uniform_(layers, SEED)


def _frozen_mlp() -> nn.Module:
    model = make_mlp((6, 8, 8, 3), seed=SEED)
    for param in model[0].parameters():  # a frozen first layer, as in fine-tuning
        param.requires_grad_(False)
    return model


def _embedding_model() -> nn.Module:
    return init_uniform_(_EmbeddingClassifier(), SEED)


def _tied_model() -> nn.Module:
    return init_uniform_(_TiedLanguageModel(), SEED)


#: (description, builder) of the models the checker hands to configure_adamw, the write-up model first.
MODELS: tuple[tuple[str, Callable[[], nn.Module]], ...] = (
    ("Linear(64, 64) → LayerNorm(64) → Linear(64, 64)", _writeup_model),
    ("Conv1d → BatchNorm1d → ReLU → Linear", _cnn),
    ("an MLP with its first layer frozen", _frozen_mlp),
    ("Embedding → LayerNorm → Linear", _embedding_model),
    ("a language model whose head is tied to its embedding", _tied_model),
)


def _kinds(model: nn.Module) -> dict[int, str]:
    """What each parameter is, by id: weight, bias, norm, embedding, tied (two kinds of use) or frozen."""
    kinds: dict[int, str] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if not param.requires_grad:
                kind = "frozen"
            elif isinstance(module, NORMALIZATION_MODULES):
                kind = "norm"
            elif isinstance(module, EMBEDDING_MODULES):
                kind = "embedding"
            else:
                kind = "weight" if param.ndim >= 2 else "bias"
            kinds[id(param)] = "tied" if kinds.get(id(param), kind) != kind else kind
    return kinds


# --- the typical mistakes of configure_adamw ---------------------------------------------------------

_NOT_AN_OPTIMIZER = Diagnosis(
    "a result that is not an optimizer",
    "configure_adamw builds the parameter groups and hands them to torch.optim.AdamW; what it returns is that "
    "optimizer, ready for step()",
)
_GROUPS_RETURNED = Diagnosis(
    "the groups returned instead of the optimizer",
    "the groups are what the optimizer is built from: configure_adamw returns the torch.optim.AdamW made from them",
)
_NOT_ADAMW = Diagnosis(
    "another optimizer than AdamW",
    "the exercise is about decoupled weight decay, torch.optim.AdamW; torch.optim.Adam's weight_decay is an L2 "
    "term added to the gradient, which the adaptive step rescales",
)
_OPTIMIZER_PASSED = Diagnosis(
    "an optimizer passed where the parameter groups belong",
    "torch.optim.AdamW takes parameters or a list of parameter groups (dicts with 'params' and their own "
    "settings), not another optimizer: build the two groups from the model's parameters",
)
_DUPLICATE = Diagnosis(
    "a parameter in two groups",
    "each parameter belongs to exactly one group (torch refuses a parameter in two, and one listed twice in a group "
    "would be stepped twice): decide once per parameter, also for one that two modules share",
)
_LR = Diagnosis(
    "the lr not passed on",
    "every group steps with the learning rate configure_adamw is given: set it as the optimizer's default, or in "
    "each group",
)
_DECAY_NOT_SET = Diagnosis(
    "the weight_decay not passed on",
    "the decayed group uses the weight_decay configure_adamw is given (torch.optim.AdamW's own default is 0.01)",
)
_FROZEN = Diagnosis(
    "frozen parameters included",
    "a parameter with requires_grad=False is not trained: it belongs in no group (model.parameters() and "
    "named_parameters() list it all the same)",
)
_MISSING = Diagnosis(
    "parameters left out",
    "every trainable parameter belongs to one of the two groups, whatever module holds it: a parameter in no group "
    "is never updated",
)
_NORM_DECAYED = Diagnosis(
    "normalization parameters decayed",
    "the scale and shift of a LayerNorm or BatchNorm set the size of the normalized activations, not a mapping that "
    "can overfit; decay pulls the scale towards 0 and fights the normalization: they are not decayed, whatever "
    "their attribute is called",
)
_BIAS_DECAYED = Diagnosis(
    "biases decayed",
    "a bias shifts a unit's pre-activation; it does not multiply the inputs, so it adds nothing to the model's "
    "sensitivity that a norm penalty is meant to limit: biases are not decayed",
)
_EMBEDDING_DECAYED = Diagnosis(
    "the embedding table decayed",
    "the book does not decay embedding tables (course_lib.optim.param_groups, decay_embeddings=False): a rare "
    "token's row gets a gradient only when the token appears, but decay would shrink it on every step; decide by "
    "module type, not by ndim alone",
)
_WEIGHTS_NOT_DECAYED = Diagnosis(
    "weight matrices not decayed",
    "the weights of Linear and convolution layers (every parameter with ndim >= 2 outside normalization and "
    "embedding layers) are what weight decay is for: they go in the decayed group",
)
_TIED = Diagnosis(
    "the tied weight decided by its first use",
    "a parameter that two modules share is decayed if any of its uses is: the head tied to the embedding is an "
    "nn.Linear weight, so the shared table is decayed (the book's tying rule, as nanoGPT does)",
)
_ONE_GROUP = Diagnosis(
    "everything in one decayed group",
    "model.parameters() in one group decays biases and normalization parameters too (and keeps frozen ones): "
    "split the trainable parameters into a decayed group and one with weight_decay 0",
)
_SWAPPED = Diagnosis(
    "the weight decay on the wrong group",
    "the groups are right but their settings swapped: the weight matrices get the weight_decay, the biases and "
    "normalization parameters weight_decay 0",
)
_NAME_FILTER = Diagnosis(
    "the name filter",
    "the copied filter no_decay = ['bias', 'LayerNorm.weight'] only recognises a LayerNorm whose attribute is called "
    "LayerNorm: under nn.Sequential its weight is '1.weight' and gets decayed, a BatchNorm's always, and frozen "
    "parameters stay in: decide by the module's type and the parameter's ndim, not by its name",
)


@dataclass(frozen=True)
class _Grouping:
    """One model handed to the student's configure_adamw, the optimizer it returned and the reference groups."""

    name: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    duplicated: bool  # torch warned about a parameter listed twice in one group

    @property
    def groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    def ids(self, decayed: bool) -> set[int]:
        return {id(p) for g in self.groups if (float(g.get("weight_decay", 0.0)) > 0) == decayed for p in g["params"]}

    def reference(self, decayed: bool) -> set[int]:
        return {id(p) for p in param_groups(self.model, WEIGHT_DECAY)[0 if decayed else 1]["params"]}

    def name_filter(self, decayed: bool) -> set[int]:
        return {id(p) for p in name_substring_groups(self.model, WEIGHT_DECAY)[0 if decayed else 1]["params"]}

    @property
    def trainable(self) -> set[int]:
        return {id(p) for p in self.model.parameters() if p.requires_grad}

    @property
    def frozen(self) -> set[int]:
        return {id(p) for p in self.model.parameters() if not p.requires_grad}

    def count(self, ids: set[int]) -> int:
        return sum(p.numel() for p in self.model.parameters() if id(p) in ids)


def _built(build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` without consuming torch's global generator (nn.Linear draws its default initialisation from it)."""
    with torch.random.fork_rng(devices=[]):
        return build()


def _student_optimizer(fn: Callable[..., Any], name: str, build: Callable[[], nn.Module]) -> _Grouping:
    model = _built(build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            optimizer = _call(fn, model, lr=LR, weight_decay=WEIGHT_DECAY)
        except _StudentRaised as raised:
            message = str(raised.error)
            if "more than one parameter group" in message:
                raise _Failed("an optimizer", f"torch's refusal: {raised}", _DUPLICATE) from None
            if isinstance(raised.error, TypeError) and "object is not iterable" in message:
                raise _Failed("an optimizer", f"torch's refusal: {raised}", _OPTIMIZER_PASSED) from None
            raise
    duplicated = any("duplicate parameters" in str(w.message) for w in caught)
    if optimizer is None:
        raise _Failed("a torch.optim.AdamW", "None", _NO_RETURN)
    if isinstance(optimizer, (list, tuple)) and all(isinstance(g, dict) for g in optimizer):
        raise _Failed("a torch.optim.AdamW", f"{_describe(optimizer)} of dicts", _GROUPS_RETURNED)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise _Failed("a torch.optim.AdamW", _describe(optimizer), _NOT_AN_OPTIMIZER)
    return _Grouping(name, model, optimizer, duplicated)


def _groupings(fn: Callable[..., Any]) -> list[_Grouping]:
    return [_student_optimizer(fn, name, build) for name, build in MODELS]


def _partition_root(groupings: list[_Grouping]) -> Diagnosis | str:
    """The mistake behind a wrong partition into decayed and not-decayed parameters (all models considered)."""
    if all(g.ids(True) == g.name_filter(True) and g.ids(False) == g.name_filter(False) for g in groupings):
        return _NAME_FILTER
    if all(len(g.groups) == 1 and g.ids(True) == {id(p) for p in g.model.parameters()} for g in groupings):
        return _ONE_GROUP
    if all(g.ids(True) - g.frozen == g.reference(False) and g.ids(False) - g.frozen == g.reference(True)
           for g in groupings):
        return _SWAPPED
    matching: list[Diagnosis] = []
    for g in groupings:
        kinds = _kinds(g.model)
        wrongly_decayed = {kinds[i] for i in g.ids(True) - g.reference(True) - g.frozen}
        wrongly_plain = {kinds[i] for i in g.ids(False) - g.reference(False) - g.frozen}
        for kind, diagnosis in (("norm", _NORM_DECAYED), ("bias", _BIAS_DECAYED), ("embedding", _EMBEDDING_DECAYED)):
            if kind in wrongly_decayed:
                matching.append(diagnosis)
        if "weight" in wrongly_plain:
            matching.append(_WEIGHTS_NOT_DECAYED)
        if "tied" in wrongly_plain:
            matching.append(_TIED)
        if g.trainable - g.ids(True) - g.ids(False):
            matching.append(_MISSING)
    return _one_of(matching, "the decayed group holds the weight matrices, the other group everything else trainable")


def _tensors(count: int) -> str:
    return f"{count} tensor" if count == 1 else f"{count} tensors"


def _counts_text(decayed: int, plain: int) -> str:
    return f"{decayed:,} decayed and {plain:,} not decayed"


# --- the properties of configure_adamw ----------------------------------------------------------------


def _returns_adamw(fn: Callable[..., Any]) -> str:
    for g in _groupings(fn):
        if not isinstance(g.optimizer, torch.optim.AdamW):
            raise _Failed("a torch.optim.AdamW", f"a {type(g.optimizer).__name__} for {g.name}", _NOT_ADAMW)
    return ""


def _hyperparameters(fn: Callable[..., Any]) -> str:
    for g in _groupings(fn):
        rates = sorted({float(group["lr"]) for group in g.groups})
        if rates != [LR]:
            raise _Failed(f"lr = {LR:g} in every group", f"lr {', '.join(f'{r:g}' for r in rates)} for {g.name}", _LR)
        decays = sorted({float(group.get("weight_decay", 0.0)) for group in g.groups})
        if WEIGHT_DECAY not in decays:
            got = f"weight_decay {', '.join(f'{d:g}' for d in decays)} for {g.name}"
            raise _Failed(f"a group with weight_decay = {WEIGHT_DECAY:g}", got, _DECAY_NOT_SET)
    return ""


def _exactly_once(fn: Callable[..., Any]) -> str:
    groupings = _groupings(fn)
    for g in groupings:
        listed = [id(p) for group in g.groups for p in group["params"]]
        if g.duplicated or len(listed) != len(set(listed)):
            raise _Failed("each parameter listed once", f"a parameter listed twice for {g.name}", _DUPLICATE)
        missing = g.trainable - set(listed)
        if missing:
            got = f"{len(missing)} trainable tensors in no group for {g.name}"
            raise _Failed("every trainable parameter in a group", got, _one_of([_partition_root(groupings)], _MISSING))
    return ""


def _frozen_left_out(fn: Callable[..., Any]) -> str:
    groupings = _groupings(fn)
    for g in groupings:
        included = g.frozen & (g.ids(True) | g.ids(False))
        if included:
            root = _partition_root(groupings)
            hint = root if root in (_NAME_FILTER, _ONE_GROUP) else _FROZEN
            got = f"{len(included)} frozen tensors in the groups for {g.name}"
            raise _Failed("no frozen (requires_grad=False) parameter in any group", got, hint)
    return ""


def _group_matches(fn: Callable[..., Any], decayed: bool) -> str:
    groupings = _groupings(fn)
    for g in groupings:
        got, expected = g.ids(decayed) - g.frozen, g.reference(decayed)
        if got != expected:
            what = "decayed" if decayed else "weight_decay 0"
            text = f"{g.count(expected):,} parameters in {_tensors(len(expected))} ({what}) for {g.name}"
            raise _Failed(text, f"{g.count(got):,} in {_tensors(len(got))}", _partition_root(groupings))
    return ""


def _writeup_counts(fn: Callable[..., Any]) -> str:
    groupings = _groupings(fn)
    g = groupings[0]
    counts = (g.count(g.ids(True)), g.count(g.ids(False)))
    if counts != WRITEUP_COUNTS:
        raise _Failed(_counts_text(*WRITEUP_COUNTS), _counts_text(*counts), _partition_root(groupings))
    return _counts_text(*counts)


_CONFIGURE_PROPERTIES: list[tuple[str, _Property]] = [
    (f"returns a torch.optim.AdamW (for each of the {len(MODELS)} models)", _returns_adamw),
    (f"lr = {LR:g} in every group and a group with weight_decay = {WEIGHT_DECAY:g}", _hyperparameters),
    ("every trainable parameter in exactly one group", _exactly_once),
    ("frozen parameters (requires_grad=False) in no group", _frozen_left_out),
    ("decayed: exactly the Linear/Conv weight matrices (a head tied to an embedding included)",
     lambda fn: _group_matches(fn, True)),
    ("weight_decay 0: the biases, normalization parameters and embedding tables", lambda fn: _group_matches(fn, False)),
    (f"the write-up model {MODELS[0][0]}: the book's counts", _writeup_counts),
]


@_checker("configure_adamw(model, lr, weight_decay) -> optimizer", _CONFIGURE_PROPERTIES)
def check_configure_adamw(fn: Callable[..., Any]) -> CheckReport:
    """The contract: a ``torch.optim.AdamW`` over two parameter groups of ``model``'s trainable
    parameters, with learning rate ``lr`` in both: the weight matrices and kernels of
    ``nn.Linear``, convolution and other layers (``ndim >= 2``) with ``weight_decay``; the
    biases, every parameter of a normalization layer and embedding tables with
    ``weight_decay = 0``: the rule of :func:`course_lib.optim.param_groups`, which gives
    the reference groups. A parameter shared by two modules is decayed if any use is;
    frozen parameters are in no group, and no parameter is in two. The checker calls
    ``fn(model, lr=LR, weight_decay=WEIGHT_DECAY)`` on the five models of :data:`MODELS`
    and names the typical mistakes: normalization parameters, biases or embeddings
    decayed, the tied weight decided by its first use, everything in one decayed group,
    the decay on the wrong group, the name filter ``["bias", "LayerNorm.weight"]``,
    frozen parameters included, a parameter in two groups and an optimizer passed where
    the groups belong. Prints one line per property, the write-up model's counts last.
    """


# --- evaluate: the bug hunt --------------------------------------------------------------------------

EVAL_ROWS, EVAL_FEATURES, EVAL_HIDDEN, EVAL_CLASSES = 64, 6, 16, 3
EVAL_DROPOUT = 0.5
EVAL_RTOL = 1e-5  # float32 losses summed in another order (or in chunks) still agree
LOSS_ATOL = 1e-7


def _evaluation_model(training: bool) -> nn.Module:
    """Linear → BatchNorm1d → ReLU → Dropout → Linear, with running statistics far from a batch's own."""
    model = nn.Sequential(
        nn.Linear(EVAL_FEATURES, EVAL_HIDDEN), nn.BatchNorm1d(EVAL_HIDDEN), nn.ReLU(), nn.Dropout(EVAL_DROPOUT),
        nn.Linear(EVAL_HIDDEN, EVAL_CLASSES),
    )
    init_uniform_(model, SEED)
    rng = np.random.default_rng(SEED + 1)
    batch_norm = model[1]
    with torch.no_grad():
        batch_norm.running_mean.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, EVAL_HIDDEN)))
        batch_norm.running_var.copy_(torch.from_numpy(rng.uniform(0.05, 0.2, EVAL_HIDDEN)))
        batch_norm.num_batches_tracked.fill_(100)
    return model.train(training)


def _evaluation_data() -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(SEED + 2)
    X = torch.from_numpy(rng.standard_normal((EVAL_ROWS, EVAL_FEATURES))).float()
    y = torch.from_numpy(rng.integers(0, EVAL_CLASSES, EVAL_ROWS))
    return X, y


def _reference_evaluation(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        outputs = model(X)
    return float(F.cross_entropy(outputs, y)), float((outputs.argmax(dim=1) == y).double().mean())


@dataclass(frozen=True)
class _Evaluation:
    """One call of the student's evaluate: its numbers, what the hooks saw, and the model afterwards."""

    loss: Any
    accuracy: Any
    passes: tuple[tuple[tuple[str, bool, bool], ...], ...]  # per forward pass: (module type, training, grad) each
    stats_changed: bool
    training_before: bool
    training_after: bool
    reference: tuple[float, float]


def _statistics(model: nn.Module) -> list[torch.Tensor]:
    return [buffer.detach().clone() for buffer in model.buffers()]


def _run_evaluate(fn: Callable[..., Any], training: bool) -> _Evaluation:
    model = _built(lambda: _evaluation_model(training))
    X, y = _evaluation_data()
    reference = _reference_evaluation(model, X, y)
    before = _statistics(model)
    passes: list[list[tuple[str, bool, bool]]] = []

    def record(module: nn.Module, inputs: Any) -> None:
        if module is model:
            passes.append([])
        if passes:
            passes[-1].append((type(module).__name__, module.training, torch.is_grad_enabled()))

    handles = [module.register_forward_pre_hook(record) for module in model.modules()]
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            result = _call(fn, model, X, y)
    finally:
        for handle in handles:
            handle.remove()
    if result is None:
        raise _Failed("a pair (loss, accuracy)", "None", _NO_RETURN)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Failed("a pair (loss, accuracy)", _describe(result), _PAIR)
    after = _statistics(model)
    changed = any(not torch.equal(a, b) for a, b in zip(before, after))
    return _Evaluation(result[0], result[1], tuple(tuple(p) for p in passes), changed, training, model.training,
                       reference)


def _number(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.detach().reshape(()))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return None


_PAIR = Diagnosis(
    "a result that is not (loss, accuracy)",
    "evaluate returns two numbers: the mean loss over (X, y) and the fraction of rows whose predicted class is y",
)
_EVAL_MISSING = Diagnosis(
    "the missing model.eval()",
    "the model measured in training mode: dropout still drops units (another random answer on every call) and "
    "BatchNorm normalizes with the batch's own statistics and updates its running ones; evaluation mode is a "
    "property of the model that every layer reads, switched before the measurement",
)
_BN_STATS = Diagnosis(
    "BatchNorm left in training mode",
    "dropout was switched off but BatchNorm kept training: it normalized with the batch's statistics and moved its "
    "running statistics towards the validation data, so measuring changed the model; evaluation mode is for the "
    "whole model, every layer at once",
)
_NO_GRAD = Diagnosis(
    "the missing torch.no_grad()",
    "the forward pass built an autograd graph: every activation is kept for a backward pass that never comes, "
    "which costs memory (on a large validation set, more than the training batches) and time; a measurement runs "
    "with gradient tracking off",
)
_NOT_RESTORED = Diagnosis(
    "the mode not restored",
    "the model was in training mode and is handed back in evaluation mode: the next epoch would train without "
    "dropout and with frozen BatchNorm statistics; remember the mode the model was in and put it back",
)
_FORCED_TRAIN = Diagnosis(
    "training mode forced afterwards",
    "the model was in evaluation mode before the call and is handed back in training mode: put back the mode it "
    "had, whichever it was",
)
_LOSS_SUM = Diagnosis(
    "the summed loss",
    "the loss is summed over the rows: evaluate reports the mean, comparable between splits of different sizes",
)
_PERCENT = Diagnosis("an accuracy in percent", "the accuracy is a fraction in [0, 1], not a percentage")
_NOT_A_NUMBER = Diagnosis(
    "a loss or accuracy that is not a number",
    "return plain numbers (float, or one-element tensors): the mean loss and the accuracy",
)


_MODE_SENSITIVE = ("BatchNorm1d", "Dropout")  # the layers of the evaluation model whose forward depends on the mode


def _mode_root(run: _Evaluation) -> Diagnosis | None:
    """What the hooks saw about the modes: the missing eval(), BatchNorm left training, or nothing wrong."""
    calls = [entry for forward in run.passes for entry in forward]
    training = {kind for kind, is_training, _ in calls if is_training}
    if not training:
        return None
    if all(is_training for _, is_training, _ in calls):
        return _EVAL_MISSING
    return _BN_STATS if "BatchNorm1d" in training and "Dropout" not in training else _EVAL_MISSING


def _numbers_of(run: _Evaluation) -> tuple[float, float]:
    loss, accuracy = _number(run.loss), _number(run.accuracy)
    if loss is None or accuracy is None:
        raise _Failed("two numbers (loss, accuracy)", f"({_describe(run.loss)}, {_describe(run.accuracy)})", _NOT_A_NUMBER)
    return loss, accuracy


def _returns_numbers(fn: Callable[..., Any]) -> str:
    _numbers_of(_run_evaluate(fn, True))
    return ""


def _eval_mode(fn: Callable[..., Any]) -> str:
    run = _run_evaluate(fn, True)
    if not run.passes:
        raise _Failed("a forward pass of the model", "no call of the model", "evaluate measures the model it is given")
    root = _mode_root(run)
    if root is not None:
        calls = [entry for forward in run.passes for entry in forward]
        training = sorted({kind for kind, is_training, _ in calls if is_training})
        training = [kind for kind in training if kind in _MODE_SENSITIVE] or training
        raise _Failed("every module with training=False", f"{', '.join(training)} in training mode", root)
    return ""


def _no_graph(fn: Callable[..., Any]) -> str:
    run = _run_evaluate(fn, True)
    if any(grad for forward in run.passes for _, _, grad in forward):
        raise _Failed("gradient tracking off during the forward pass", "torch.is_grad_enabled() True", _NO_GRAD)
    for name, value in (("loss", run.loss), ("accuracy", run.accuracy)):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            raise _Failed(f"a {name} without a graph", f"a {name} that requires grad", _NO_GRAD)
    return ""


def _values(fn: Callable[..., Any]) -> str:
    for training in (True, False):
        run = _run_evaluate(fn, training)
        loss, accuracy = _numbers_of(run)
        right_loss, right_accuracy = run.reference
        mode = "training" if training else "evaluation"
        if not math.isclose(loss, right_loss, rel_tol=EVAL_RTOL, abs_tol=LOSS_ATOL) or abs(accuracy - right_accuracy) > 1e-12:
            root = _mode_root(run)
            if root is None:
                matching = []
                if math.isclose(loss, right_loss * EVAL_ROWS, rel_tol=EVAL_RTOL):
                    matching.append(_LOSS_SUM)
                if math.isclose(accuracy, 100 * right_accuracy, rel_tol=1e-9):
                    matching.append(_PERCENT)
                root = _one_of(matching, "the loss is the mean cross-entropy, the accuracy the share of argmax == y")
            expected = f"loss {right_loss:.6f}, accuracy {right_accuracy:.6f} (a model in {mode} mode before the call)"
            raise _Failed(expected, f"loss {loss:.6f}, accuracy {accuracy:.6f}", root)
    return ""


def _statistics_unchanged(fn: Callable[..., Any]) -> str:
    run = _run_evaluate(fn, True)
    if run.stats_changed:
        root = _mode_root(run) or _BN_STATS
        raise _Failed("running_mean, running_var and num_batches_tracked unchanged", "changed by the call", root)
    return ""


def _mode_restored(fn: Callable[..., Any]) -> str:
    for training, diagnosis in ((True, _NOT_RESTORED), (False, _FORCED_TRAIN)):
        run = _run_evaluate(fn, training)
        if run.training_after != training:
            before, after = ("training", "evaluation") if training else ("evaluation", "training")
            raise _Failed(f"the model back in {before} mode", f"a model in {after} mode", diagnosis)
    return ""


_EVALUATE_PROPERTIES: list[tuple[str, _Property]] = [
    ("returns (loss, accuracy): two numbers", _returns_numbers),
    ("the forward pass in evaluation mode: every module's training flag False (BatchNorm1d and Dropout included)",
     _eval_mode),
    ("no autograd graph: gradient tracking off in the forward pass", _no_graph),
    (f"the mean cross-entropy and the accuracy of the model in evaluation mode (rtol {EVAL_RTOL:g}), for a model in "
     "training mode and one in evaluation mode", _values),
    ("BatchNorm's running statistics unchanged by the measurement", _statistics_unchanged),
    ("the model handed back in the mode it was in (training stays training, evaluation stays evaluation)",
     _mode_restored),
]


@_checker("evaluate(model, X, y) -> (loss, accuracy)", _EVALUATE_PROPERTIES)
def check_evaluate(fn: Callable[..., Any]) -> CheckReport:
    """The contract: the mean cross-entropy of ``model(X)`` against the class labels ``y``
    and the fraction of rows whose ``argmax`` is ``y``, as two numbers, measured with
    the model in evaluation mode and gradient tracking off, and the model handed back
    in the mode it was in, its BatchNorm statistics untouched (what
    :func:`course_lib.train.evaluate` does for a given ``loss_fn``). The checker runs it on a
    Linear → BatchNorm1d → ReLU → Dropout → Linear network with running statistics far
    from the data's, once in training mode and once in evaluation mode, with a forward
    pre-hook on every module that records its ``training`` flag and
    ``torch.is_grad_enabled()``; the missing ``model.eval()``, BatchNorm left in training
    mode, the missing ``torch.no_grad()``, the mode not restored, training mode forced
    afterwards, a summed loss and an accuracy in percent are named. Prints one line per
    property.
    """

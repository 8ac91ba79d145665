r"""Seed-controlled classifier experiments: train a configuration over seeds and compare the results.

The chapters' experiments ask the same question again and again: *does this
regularizer change test accuracy, NLL or calibration by more than the seed
noise?* This module answers it in three steps.

* :class:`ClassifierConfig` names one training recipe: an MLP
  (:func:`course_lib.models.make_mlp`) with optional dropout and layer
  normalization, ReLU or GELU, trained with Adam + L2 or AdamW (weights
  decayed, biases and normalization parameters not:
  :func:`course_lib.optim.configure_adamw`), optional label smoothing, a
  constant or cosine learning rate with optional warm-up
  (:func:`course_lib.optim.warmup_cosine_schedule`), gradient clipping and
  early stopping, by :func:`course_lib.train.fit`.
* :func:`train_classifier` runs it once for a seed — the seed fixes the
  initial weights, the mini-batch order and the dropout masks — and returns a
  :class:`ClassifierResult` with train/validation/test accuracy and test NLL
  and ECE (:mod:`course_lib.metrics`).
* :func:`run_over_seeds` repeats that for several seeds, and
  :class:`SeedSummary` reports a metric as mean ± spread, where the *spread*
  is half the min–max range over the seeds.

An effect **exceeds the spread** (:func:`exceeds_spread`) when the two
min–max ranges do not overlap: every seed of one configuration is better than
every seed of the other. With three seeds that is a strict test, and it is the
one the chapters assert before their prose claims an effect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib._validation import (
    check_bool,
    check_finite,
    check_finite_real,
    check_int,
    check_non_negative,
    check_positive,
    check_probability,
    describe_value,
)
from course_lib.metrics import expected_calibration_error
from course_lib.models import MAX_PARAMETERS, _check_activation, _check_weight_count, make_mlp
from course_lib.optim import configure_adamw, param_groups, warmup_cosine_schedule
from course_lib.train import History, _check_seed, fit

__all__ = [
    "METRICS",
    "ClassifierConfig",
    "ClassifierResult",
    "SeedSummary",
    "SeedRuns",
    "train_classifier",
    "run_over_seeds",
    "exceeds_spread",
    "format_table",
]

METRICS = ("train_accuracy", "val_accuracy", "test_accuracy", "test_nll", "test_ece")
_OPTIMIZERS = ("adamw", "adam_l2")
_SCHEDULES = ("constant", "cosine")
_RECIPE_FIELDS = ("layer_norm", "activation", "warmup_epochs", "clip_grad_norm")  # shown by repr only when set
_MLP_FIELDS = ("hidden", "dropout", "layer_norm", "activation")  # what make_mlp builds; a model_factory's network has its own
_SUMMARY_METRICS = (*METRICS, "gap", "val_gap")
_MAX_DIGITS = 17  # float64 holds about 17 significant digits; more decimals only print rounding noise


@dataclass(frozen=True, repr=False)
class ClassifierConfig:
    """One training recipe for an MLP classifier.

    Attributes:
        hidden: widths of the hidden layers (each an int >= 1).
        dropout: dropout rate after each hidden activation, in ``[0, 1)``.
        weight_decay: decay strength of the weight matrices (biases are never
            decayed). For ``"adamw"`` it is ``torch.optim.AdamW``'s
            ``weight_decay``: each step multiplies the weights by
            :math:`1 - \\eta\\lambda`. For ``"adam_l2"`` it is
            ``torch.optim.Adam``'s: :math:`\\lambda w` is added to the gradient.
        optimizer: ``"adamw"`` (decoupled decay) or ``"adam_l2"`` (Adam with an L2 term).
        lr: the learning rate :math:`\\eta` (> 0).
        label_smoothing: the cross-entropy's ``label_smoothing``, in ``[0, 1)``.
        epochs: passes over the training set (int >= 1).
        batch_size: mini-batch size (int >= 1).
        early_stopping_patience: stop after this many epochs without a better
            validation loss and restore the best weights; ``None`` trains all epochs.
        schedule: the learning rate over the epochs: ``"constant"``, or
            ``"cosine"`` (``CosineAnnealingLR`` with ``T_max = epochs``, stepped
            after each epoch: :math:`\\eta_e = \\tfrac{\\eta}{2}(1 + \\cos(\\pi e / E))`,
            so the last epochs take small steps and the final weights move little).
        layer_norm: an ``nn.LayerNorm`` after each hidden ``Linear``, before
            the activation (``make_mlp(layer_norm=True)``; bool).
        activation: the hidden non-linearity, ``"relu"`` or ``"gelu"``.
        warmup_epochs: with ``schedule="cosine"``, a linear warm-up over this
            many epochs before the cosine decay
            (:func:`course_lib.optim.warmup_cosine_schedule` with
            ``total_epochs = epochs``: :math:`\\eta_e = \\tfrac{e+1}{W+1}\\eta` for
            :math:`e < W`); an int >= 0 and < ``epochs``. With
            ``schedule="constant"`` it must be 0. With 0 the cosine is
            ``CosineAnnealingLR`` as above.
        clip_grad_norm: rescale each mini-batch gradient to a global L2 norm
            of at most this (a finite number > 0; :func:`course_lib.train.fit`'s
            ``clip_grad_norm``); ``None`` does not clip.

    The MLP fields (``hidden``, ``dropout``, ``layer_norm``, ``activation``)
    describe the network :func:`train_classifier` builds; with a
    ``model_factory`` they must keep their defaults. ``repr`` shows the four
    fields added for the complete recipe (``layer_norm``, ``activation``,
    ``warmup_epochs``, ``clip_grad_norm``) only where they differ from their
    defaults, so configurations without them print as before.

    Example:
        >>> ClassifierConfig(hidden=(64,), epochs=10, schedule="cosine", warmup_epochs=2, clip_grad_norm=1.0)
        ClassifierConfig(hidden=(64,), dropout=0.0, weight_decay=0.0, optimizer='adamw', lr=0.003, label_smoothing=0.0, epochs=10, batch_size=200, early_stopping_patience=None, schedule='cosine', warmup_epochs=2, clip_grad_norm=1.0)
    """

    hidden: tuple[int, ...] = (256, 256)
    dropout: float = 0.0
    weight_decay: float = 0.0
    optimizer: str = "adamw"
    lr: float = 3e-3
    label_smoothing: float = 0.0
    epochs: int = 30
    batch_size: int = 200
    early_stopping_patience: int | None = None
    schedule: str = "constant"
    layer_norm: bool = False
    activation: str = "relu"
    warmup_epochs: int = 0
    clip_grad_norm: float | None = None

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be a sequence of ints, got {describe_value(hidden)}")
        widths = tuple(check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden))
        too_wide = [h for h in widths if h > MAX_PARAMETERS]
        if too_wide:
            raise ValueError(f"hidden widths must be at most MAX_PARAMETERS = {MAX_PARAMETERS:,} (make_mlp's limit), got {too_wide[0]}")
        object.__setattr__(self, "hidden", widths)
        object.__setattr__(self, "dropout", check_probability("dropout", self.dropout))
        object.__setattr__(self, "weight_decay", check_non_negative("weight_decay", self.weight_decay))
        if not isinstance(self.optimizer, str):
            raise TypeError(f"optimizer must be a str, got {describe_value(self.optimizer)}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        object.__setattr__(self, "lr", check_positive("lr", self.lr))
        object.__setattr__(self, "label_smoothing", check_probability("label_smoothing", self.label_smoothing))
        object.__setattr__(self, "epochs", check_int("epochs", self.epochs, minimum=1))
        object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, minimum=1))
        if self.early_stopping_patience is not None:
            patience = check_int("early_stopping_patience", self.early_stopping_patience, minimum=1)
            object.__setattr__(self, "early_stopping_patience", patience)
        if not isinstance(self.schedule, str):
            raise TypeError(f"schedule must be a str, got {describe_value(self.schedule)}")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {self.schedule!r}")
        object.__setattr__(self, "layer_norm", check_bool("layer_norm", self.layer_norm))
        _check_activation(self.activation)
        warmup = check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        if warmup and self.schedule != "cosine":
            raise ValueError(
                f"warmup_epochs must be 0 with schedule={self.schedule!r} (the warm-up belongs to the cosine schedule), "
                f"got {warmup}"
            )
        if warmup >= self.epochs:
            raise ValueError(
                f"warmup_epochs must be less than epochs (the cosine needs at least one epoch), got {warmup} with epochs={self.epochs}"
            )
        object.__setattr__(self, "warmup_epochs", warmup)
        if self.clip_grad_norm is not None:
            object.__setattr__(self, "clip_grad_norm", check_positive("clip_grad_norm", self.clip_grad_norm))

    def __repr__(self) -> str:
        defaults = _DEFAULT_RECIPE
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name not in _RECIPE_FIELDS or getattr(self, f.name) != defaults[f.name]
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def but(self, **changes: Any) -> ClassifierConfig:
        """A copy with some fields changed (validated again), e.g. ``base.but(dropout=0.3)``."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"ClassifierConfig has no field {unknown[0]!r}; its fields are {sorted(known)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class ClassifierResult:
    """What one run measured (accuracies are shares in [0, 1]; NLL in nats; ECE with 15 bins).

    The constructor checks the fields (TypeError/ValueError naming the field):
    ``seed`` an int in ``[0, 2**64 - 1]``, the accuracies and the ECE in
    ``[0, 1]``, the NLL finite and >= 0. ``history`` is the run's :class:`~course_lib.train.History` and ``model`` the
    trained network (in eval mode), for figures and further measurements.
    """

    seed: int
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    test_nll: float
    test_ece: float
    history: History = field(repr=False, compare=False)
    model: nn.Module = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", _check_seed(self.seed))
        for name in ("train_accuracy", "val_accuracy", "test_accuracy", "test_ece"):
            object.__setattr__(self, name, check_probability(name, getattr(self, name), allow_one=True))
        object.__setattr__(self, "test_nll", check_non_negative("test_nll", self.test_nll))
        if not isinstance(self.history, History):
            raise TypeError(f"history must be a course_lib.train.History, got {describe_value(self.history)}")
        if not isinstance(self.model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {describe_value(self.model)}")

    @property
    def gap(self) -> float:
        """Train minus test accuracy: the generalization gap the regularizers try to close."""
        return self.train_accuracy - self.test_accuracy

    @property
    def val_gap(self) -> float:
        """Train minus validation accuracy: the gap one can watch during training without touching the test split."""
        return self.train_accuracy - self.val_accuracy


def _data_tensors(data: Any) -> tuple[torch.Tensor, ...]:
    names = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
    missing = [n for n in names if getattr(data, n, None) is None]
    if missing:
        raise TypeError(
            f"data must have tensors {', '.join(names)} (a course_lib.data.DataSplits), "
            f"got {describe_value(data)} without {missing[0]}"
        )
    tensors = tuple(getattr(data, n) for n in names)
    for name, tensor in zip(names, tensors):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"data.{name} must be a torch.Tensor, got {describe_value(tensor)}")
    for name, tensor in zip(names[1::2], tensors[1::2]):
        if tensor.dtype != torch.long or tensor.ndim != 1 or len(tensor) == 0:
            raise ValueError(
                f"data.{name} must hold class labels (int64, shape (rows,), at least one row), "
                f"got dtype {tensor.dtype} and shape {tuple(tensor.shape)}"
            )
        if int(tensor.min()) < 0:
            raise ValueError(f"data.{name} must hold class labels >= 0, got {int(tensor.min())}")
    X_train = tensors[0]
    for name, X, y in zip(names[::2], tensors[::2], tensors[1::2]):
        if X.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"data.{name} must be a float32 or float64 tensor, got dtype {X.dtype}")
        if X.ndim == 2 and X.shape[0] != y.shape[0]:
            label_name = name.replace("X_", "y_")
            raise ValueError(
                f"data.{name} and data.{label_name} must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
            )
        if X.ndim != 2 or X.shape[1] != X_train.shape[1] or X.dtype != X_train.dtype:
            raise ValueError(
                f"data.{name} must be 2-D (rows, features) with the features and dtype of data.X_train, "
                f"({X_train.shape[1] if X_train.ndim == 2 else '?'} features, {X_train.dtype}), "
                f"got shape {tuple(X.shape)} and dtype {X.dtype}"
            )
    check_finite("data.X_test", tensors[4])  # fit checks the training and validation features
    return tensors


_DEFAULT_RECIPE = {f.name: f.default for f in fields(ClassifierConfig) if f.name in _RECIPE_FIELDS}


def _optimizer(model: nn.Module, config: ClassifierConfig) -> torch.optim.Optimizer:
    """AdamW on :func:`~course_lib.optim.configure_adamw`'s groups, or Adam with L2 on the same two groups."""
    if config.optimizer == "adamw":
        return configure_adamw(model, config.lr, config.weight_decay)
    return torch.optim.Adam(param_groups(model, config.weight_decay), lr=config.lr)


def _scheduler(optimizer: torch.optim.Optimizer, config: ClassifierConfig) -> Any:
    """None for ``"constant"``; ``CosineAnnealingLR`` without warm-up (as before warm-up existed), else warm-up + cosine."""
    if config.schedule == "constant":
        return None
    if config.warmup_epochs == 0:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return warmup_cosine_schedule(optimizer, config.warmup_epochs, config.epochs)


def _evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, split: str) -> tuple[float, float, float]:
    """(accuracy, NLL, ECE) of ``model`` in eval mode on (X, y); NLL from log-softmax, so it is exact."""
    model.eval()
    with torch.no_grad():
        logits = model(X).double()
    if not bool(torch.isfinite(logits).all()):
        raise ValueError(
            f"the trained model's outputs on data.X_{split} are not finite: the magnitudes of data.X_{split} "
            "or of the weights the config trained are beyond the model's float range"
        )
    log_probs = torch.log_softmax(logits, dim=1)
    accuracy = float((logits.argmax(dim=1) == y).double().mean())
    nll = float(nn.functional.nll_loss(log_probs, y))
    ece = expected_calibration_error(log_probs.exp().numpy(), y.numpy())
    return accuracy, nll, ece


def _check_model_factory(model_factory: Any, config: ClassifierConfig, dropout_layer: Any) -> None:
    if model_factory is None:
        return
    if not callable(model_factory):
        raise TypeError(f"model_factory must be a callable seed -> nn.Module (or None), got {describe_value(model_factory)}")
    mlp_defaults = ClassifierConfig()
    for name in _MLP_FIELDS:
        if getattr(config, name) != getattr(mlp_defaults, name):
            raise ValueError(
                f"config.{name} describes the MLP and has no effect with a model_factory: leave it at its default "
                f"{getattr(mlp_defaults, name)!r} (got {getattr(config, name)!r}) and put the layers in the factory's network"
            )
    if dropout_layer is not None:
        raise ValueError(
            f"dropout_layer builds the MLP's dropout layers and has no effect with a model_factory: pass None, got {describe_value(dropout_layer)}"
        )


def _factory_model(
    model_factory: Callable[[int], nn.Module], config: ClassifierConfig, dropout_layer: Any, seed: int,
    X_train: torch.Tensor, n_classes: int,
) -> nn.Module:
    """The network ``model_factory(seed)`` builds, checked to map the training rows to ``n_classes`` logits."""
    _check_model_factory(model_factory, config, dropout_layer)
    model = model_factory(seed)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model_factory must return a torch.nn.Module, got {describe_value(model)} for seed {seed}")
    probe = X_train[:2].to(next(iter(model.parameters()), X_train).dtype)
    model.eval()
    with torch.no_grad():
        out = model(probe)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (probe.shape[0], n_classes):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else describe_value(out)
        raise ValueError(
            f"model_factory's network must map (rows, {X_train.shape[1]}) inputs to (rows, {n_classes}) logits "
            f"({n_classes} classes in data), got {shape} for a batch of {probe.shape[0]} rows"
        )
    return model


def train_classifier(
    data: Any,
    config: ClassifierConfig,
    seed: int = 0,
    *,
    progress: bool = False,
    dropout_layer: Callable[[float], nn.Module] | None = None,
    model_factory: Callable[[int], nn.Module] | None = None,
) -> ClassifierResult:
    """Train ``config`` once on ``data`` (a :class:`~course_lib.data.DataSplits`) and measure it.

    ``seed`` fixes the initial weights (``make_mlp(seed=…)``), the mini-batch
    order and the dropout masks (``fit(seed=…)``), so a run is reproducible and
    two configurations with the same seed start from the same weights.
    Training and test NLL/ECE are measured in eval mode on the final weights
    (the best validation epoch's under early stopping). The number of classes
    is the largest label in any split plus one.

    The run puts together the parts of the complete recipe that ``config``
    asks for: ``make_mlp(..., dropout, layer_norm, activation)`` (dropout and
    normalization on the hidden layers only), AdamW on
    :func:`~course_lib.optim.configure_adamw`'s two groups (or Adam with L2 on
    :func:`~course_lib.optim.param_groups`'), ``nn.CrossEntropyLoss`` with
    ``label_smoothing``, the schedule stepped once per epoch, and
    :func:`~course_lib.train.fit`'s gradient clipping, eval-mode validation
    without gradients and early stopping that restores the best epoch.

    Args:
        data: the splits: float32 or float64 features ``(rows, features)``
            (one dtype and width for all splits), int64 labels ``(rows,)``.
        config: the recipe, a :class:`ClassifierConfig`.
        seed: an int in ``[0, 2**64 - 1]``.
        progress: show :func:`~course_lib.train.fit`'s progress bar.
        dropout_layer: passed to :func:`~course_lib.models.make_mlp`: a callable
            ``rate -> nn.Module`` that builds each dropout layer (used only when
            ``config.dropout > 0``), e.g. an exercise's own dropout module;
            ``None`` means ``nn.Dropout``. Its layers are switched between
            training and eval mode with the rest of the model; masks it draws
            from a generator of its own are not fixed by ``seed``.
        model_factory: a callable ``seed -> nn.Module`` that builds the network
            instead of :func:`~course_lib.models.make_mlp` (mapping
            ``(rows, features)`` to ``(rows, classes)`` logits); ``None`` builds
            the MLP. With a factory the config's MLP fields (``hidden``,
            ``dropout``, ``layer_norm``, ``activation``) must keep their
            defaults and ``dropout_layer`` must be None (ValueError otherwise).

    Raises:
        TypeError/ValueError naming the argument (``data.X_train`` and the
        like for the splits); a ``ValueError`` naming ``config`` if the
        network it asks for is too large for :func:`~course_lib.models.make_mlp`
        or if training diverges (a NaN or infinite loss: lower ``config.lr``
        or ``config.weight_decay``), since a diverged run has no metrics.
    """
    if not isinstance(config, ClassifierConfig):
        raise TypeError(f"config must be a ClassifierConfig, got {describe_value(config)}")
    seed = _check_seed(seed)
    progress = check_bool("progress", progress)
    X_train, y_train, X_val, y_val, X_test, y_test = _data_tensors(data)
    n_classes = int(max(y_train.max(), y_val.max(), y_test.max())) + 1
    if model_factory is None:
        sizes = (X_train.shape[1], *config.hidden, n_classes)
        _check_weight_count(f"config.hidden={config.hidden} with this data's widths: layer sizes", sizes)
        model = make_mlp(
            sizes, dropout=config.dropout, seed=seed, dropout_layer=dropout_layer,  # checks dropout_layer
            layer_norm=config.layer_norm, activation=config.activation,
        )
    else:
        model = _factory_model(model_factory, config, dropout_layer, seed, X_train, n_classes)
    model = model.to(X_train.dtype)
    loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    optimizer = _optimizer(model, config)
    history = fit(
        model, data, optimizer, loss, config.epochs, batch_size=config.batch_size, scheduler=_scheduler(optimizer, config),
        early_stopping_patience=config.early_stopping_patience, clip_grad_norm=config.clip_grad_norm,
        progress=progress, seed=seed, device="cpu",
    )
    if history.diverged:
        raise ValueError(
            f"training diverged at epoch {history.stopped_epoch} (a loss became NaN or infinite) with config {config}: "
            "lower config.lr or config.weight_decay"
        )
    train_accuracy = _evaluate(model, X_train, y_train, "train")[0]
    val_accuracy = _evaluate(model, X_val, y_val, "val")[0]
    test_accuracy, test_nll, test_ece = _evaluate(model, X_test, y_test, "test")
    return ClassifierResult(seed, train_accuracy, val_accuracy, test_accuracy, test_nll, test_ece, history, model)


@dataclass(frozen=True)
class SeedSummary:
    """One metric over seeds: its mean ± spread, with spread = (max - min)/2.

    Attributes:
        values: the metric of each seed, in seed order: a non-empty ordered
            sequence (tuple, list, 1-D array, iterator) of finite real numbers,
            stored as a tuple of floats (TypeError/ValueError naming ``values``).

    Example:
        >>> summary = SeedSummary((0.62, 0.61, 0.64))
        >>> summary.format(), round(summary.spread, 12)
        ('0.623 ± 0.015', 0.015)
    """

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        values = self.values
        if isinstance(values, (np.ndarray, torch.Tensor)) and values.ndim != 1:
            raise ValueError(f"values must be 1-D (one number per seed), got shape {tuple(values.shape)}")
        if isinstance(values, (str, bytes, dict, set, frozenset)) or not isinstance(values, Iterable):
            raise TypeError(f"values must be an ordered sequence of numbers (one per seed), got {describe_value(values)}")
        if isinstance(values, torch.Tensor):
            values = values.tolist()
        values = tuple(check_finite_real(f"values[{i}]", v) for i, v in enumerate(values))
        if not values:
            raise ValueError("values must hold at least one number, got none")
        object.__setattr__(self, "values", values)

    @property
    def mean(self) -> float:
        """The mean over the seeds (NumPy's; for values whose sum overflows, each is divided by the count first)."""
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(np.mean(self.values))
        if math.isfinite(mean):
            return mean
        n = len(self.values)
        return math.fsum(v / n for v in self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def spread(self) -> float:
        """Half the min–max range over the seeds (halves subtracted, so it never overflows)."""
        return self.high / 2 - self.low / 2

    @property
    def std(self) -> float:
        """The sample standard deviation (ddof = 1; 0 for one seed); rescaled where the squares would overflow."""
        if len(self.values) < 2:
            return 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            std = float(np.std(self.values, ddof=1))
        if math.isfinite(std):
            return std
        scale = max(abs(v) for v in self.values)
        if scale == 0.0:
            return 0.0
        return scale * float(np.std(np.asarray(self.values) / scale, ddof=1))

    def format(self, digits: int = 3) -> str:
        """``"0.624 ± 0.009"``: mean and spread with ``digits`` decimals (an int in [0, 17])."""
        digits = _check_digits(digits)
        return f"{self.mean:.{digits}f} ± {self.spread:.{digits}f}"

    def __str__(self) -> str:
        return self.format()


def _check_digits(digits: Any) -> int:
    digits = check_int("digits", digits, minimum=0)
    if digits > _MAX_DIGITS:
        raise ValueError(f"digits must be an int in [0, {_MAX_DIGITS}], got {digits}")
    return digits


def exceeds_spread(first: SeedSummary, second: SeedSummary) -> bool:
    """Whether the two min–max ranges over seeds are disjoint (every seed of one beats every seed of the other).

    Ranges that touch (one's minimum equals the other's maximum) overlap: that is not an effect.

    Example:
        >>> exceeds_spread(SeedSummary((0.60, 0.62)), SeedSummary((0.63, 0.65)))
        True
        >>> exceeds_spread(SeedSummary((0.60, 0.63)), SeedSummary((0.63, 0.65)))
        False
    """
    for name, value in (("first", first), ("second", second)):
        if not isinstance(value, SeedSummary):
            raise TypeError(f"{name} must be a SeedSummary, got {describe_value(value)}")
    return first.low > second.high or second.low > first.high


@dataclass(frozen=True)
class SeedRuns:
    """The runs of one configuration over several seeds.

    The constructor checks ``config`` is a :class:`ClassifierConfig` and
    ``results`` a non-empty sequence of :class:`ClassifierResult` with distinct
    seeds (stored as a tuple).
    """

    config: ClassifierConfig
    results: tuple[ClassifierResult, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.config, ClassifierConfig):
            raise TypeError(f"config must be a ClassifierConfig, got {describe_value(self.config)}")
        results = self.results
        if isinstance(results, (str, bytes, dict, set, frozenset)) or not isinstance(results, Iterable):
            raise TypeError(f"results must be a sequence of ClassifierResult, got {describe_value(results)}")
        results = tuple(results)
        if not results:
            raise ValueError("results must hold at least one ClassifierResult, got none")
        for i, result in enumerate(results):
            if not isinstance(result, ClassifierResult):
                raise TypeError(f"results[{i}] must be a ClassifierResult, got {describe_value(result)}")
        seeds = [result.seed for result in results]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"results must come from distinct seeds, got seeds {seeds}")
        object.__setattr__(self, "results", results)

    def summary(self, metric: str) -> SeedSummary:
        """The :class:`SeedSummary` of one of :data:`METRICS` (or ``"gap"``, train − test, or ``"val_gap"``, train − validation)."""
        if not isinstance(metric, str):
            raise TypeError(f"metric must be a str, one of {_SUMMARY_METRICS}, got {describe_value(metric)}")
        if metric not in _SUMMARY_METRICS:
            raise ValueError(f"metric must be one of {_SUMMARY_METRICS}, got {metric!r}")
        return SeedSummary(tuple(getattr(result, metric) for result in self.results))

    def __getitem__(self, metric: str) -> SeedSummary:
        return self.summary(metric)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(result.seed for result in self.results)


def run_over_seeds(
    data: Any,
    config: ClassifierConfig,
    seeds: Iterable[int] = (0, 1, 2),
    *,
    progress: bool = False,
    model_factory: Callable[[int], nn.Module] | None = None,
) -> SeedRuns:
    """:func:`train_classifier` for each seed (at least one; no repeats; each an int in ``[0, 2**64 - 1]``).

    ``model_factory`` is passed on (a callable ``seed -> nn.Module``; see
    :func:`train_classifier`). Every argument is checked before the first run trains.
    """
    if not isinstance(config, ClassifierConfig):
        raise TypeError(f"config must be a ClassifierConfig, got {describe_value(config)}")
    if isinstance(seeds, (str, bytes, dict, set, frozenset)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an ordered sequence of ints, got {describe_value(seeds)}")
    seeds = tuple(_check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds))
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat, got {seeds}")
    progress = check_bool("progress", progress)
    _check_model_factory(model_factory, config, None)
    _data_tensors(data)
    return SeedRuns(
        config,
        tuple(train_classifier(data, config, seed, progress=progress, model_factory=model_factory) for seed in seeds),
    )


_HEADERS = {
    "train_accuracy": "train acc",
    "val_accuracy": "val acc",
    "test_accuracy": "test acc",
    "test_nll": "test NLL",
    "test_ece": "test ECE",
    "gap": "train-test gap",
    "val_gap": "train-val gap",
}


def format_table(runs: dict[str, SeedRuns], metrics: Sequence[str] = METRICS, digits: int = 3) -> str:
    """A plain-text table: one row per named configuration, one ``mean ± spread`` column per metric.

    Rows keep the order of ``runs``; columns the order of ``metrics`` (names
    from :data:`METRICS`, ``"gap"`` or ``"val_gap"``, at least one); ``digits`` decimals (an
    int in [0, 17]). A last line says how many seeds the numbers are over.

    Example output (3 seeds)::

        configuration   train acc        test acc         test NLL
        no regularizer  1.000 ± 0.000    0.624 ± 0.009    1.461 ± 0.031
    """
    if not isinstance(runs, dict):
        raise TypeError(f"runs must be a non-empty dict of name -> SeedRuns, got {describe_value(runs)}")
    if not runs:
        raise ValueError("runs must hold at least one named SeedRuns, got an empty dict")
    for name, value in runs.items():
        if not isinstance(name, str) or not isinstance(value, SeedRuns):
            raise TypeError(f"runs must map str names to SeedRuns, got {name!r}: {describe_value(value)}")
    if isinstance(metrics, (str, bytes, dict, set, frozenset)) or not isinstance(metrics, Iterable):
        raise TypeError(f"metrics must be an ordered sequence of names from {_SUMMARY_METRICS}, got {describe_value(metrics)}")
    metrics = tuple(metrics)
    for i, metric in enumerate(metrics):
        if not isinstance(metric, str):
            raise TypeError(f"metrics[{i}] must be a str, one of {_SUMMARY_METRICS}, got {describe_value(metric)}")
        if metric not in _SUMMARY_METRICS:
            raise ValueError(f"metrics[{i}] must be one of {_SUMMARY_METRICS}, got {metric!r}")
    if not metrics:
        raise ValueError(f"metrics must name at least one of {_SUMMARY_METRICS}, got none")
    digits = _check_digits(digits)
    name_width = max(len("configuration"), *(len(name) for name in runs))
    cells = {name: [run[m].format(digits) for m in metrics] for name, run in runs.items()}
    widths = [max(len(_HEADERS[m]), *(len(row[i]) for row in cells.values())) for i, m in enumerate(metrics)]
    lines = ["  ".join(["configuration".ljust(name_width), *(_HEADERS[m].ljust(w) for m, w in zip(metrics, widths))])]
    for name, row in cells.items():
        lines.append("  ".join([name.ljust(name_width), *(cell.ljust(w) for cell, w in zip(row, widths))]))
    seeds = {len(run.results) for run in runs.values()}
    lines.append(f"(mean ± half the min–max range over {'/'.join(map(str, sorted(seeds)))} seeds)")
    return "\n".join(line.rstrip() for line in lines)

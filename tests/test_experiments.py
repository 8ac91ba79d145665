"""Tests of course_lib.experiments: tiny configurations on a small synthetic DataSplits (each run well under a second)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.data import DataSplits
from course_lib.experiments import (
    METRICS,
    ClassifierConfig,
    ClassifierResult,
    SeedRuns,
    SeedSummary,
    _optimizer,
    exceeds_spread,
    format_table,
    run_over_seeds,
    train_classifier,
)
from course_lib.models import make_mlp
from course_lib.train import History

TINY = ClassifierConfig(hidden=(8,), epochs=2, batch_size=20, lr=0.01)


def _splits(rows: int = 120, seed: int = 0) -> DataSplits:
    """Three classes separated by two noisy linear scores of 6 features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 6)).astype(np.float32)
    scores = np.stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 3], 0.3 * rng.normal(size=rows)], axis=1)
    y = scores.argmax(axis=1)
    X, y = torch.tensor(X), torch.tensor(y, dtype=torch.long)
    a, b = rows // 2, 3 * rows // 4
    return DataSplits(
        "three-class", X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:],
        feature_names=tuple(f"x{i}" for i in range(6)), class_names=("a", "b", "c"),
    )


DATA = _splits()


def _state(result: ClassifierResult) -> dict[str, torch.Tensor]:
    return result.model.state_dict()


def _same_weights(a: ClassifierResult, b: ClassifierResult) -> bool:
    return all(torch.equal(x, y) for x, y in zip(_state(a).values(), _state(b).values()))


# --- ClassifierConfig -------------------------------------------------------------------------------


def test_config_converts_and_validates() -> None:
    config = ClassifierConfig(hidden=[np.int64(4), 3], dropout=0, weight_decay=np.float64(0.5), epochs=np.int32(3))
    assert config.hidden == (4, 3) and type(config.dropout) is float and config.weight_decay == 0.5 and config.epochs == 3
    assert ClassifierConfig(early_stopping_patience=None).early_stopping_patience is None


@pytest.mark.parametrize(
    ("changes", "error", "name"),
    [
        (dict(hidden=8), TypeError, "hidden"),
        (dict(hidden=(8, 0)), ValueError, r"hidden\[1\]"),
        (dict(hidden=(10**9,)), ValueError, "hidden"),
        (dict(dropout=1.0), ValueError, "dropout"),
        (dict(weight_decay=-0.1), ValueError, "weight_decay"),
        (dict(weight_decay=math.inf), ValueError, "weight_decay"),
        (dict(optimizer="sgd"), ValueError, "optimizer"),
        (dict(optimizer=None), TypeError, "optimizer"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(label_smoothing=-0.1), ValueError, "label_smoothing"),
        (dict(epochs=0), ValueError, "epochs"),
        (dict(epochs=2.0), TypeError, "epochs"),
        (dict(batch_size=True), TypeError, "batch_size"),
        (dict(early_stopping_patience=0), ValueError, "early_stopping_patience"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(changes, error, name) -> None:
    with pytest.raises(error, match=name):
        ClassifierConfig(**changes)
    with pytest.raises(error, match=name):
        TINY.but(**changes)


def test_but_copies_with_changes_and_rejects_unknown_fields() -> None:
    changed = TINY.but(dropout=0.3, optimizer="adam_l2")
    assert changed.dropout == 0.3 and changed.optimizer == "adam_l2" and changed.hidden == TINY.hidden
    assert TINY.dropout == 0.0  # the original is unchanged (frozen)
    with pytest.raises(TypeError, match="'dropuot'"):
        TINY.but(dropuot=0.3)


# --- train_classifier ------------------------------------------------------------------------------


def test_a_run_is_determined_by_its_seed() -> None:
    first, again = train_classifier(DATA, TINY.but(dropout=0.2), seed=3), train_classifier(DATA, TINY.but(dropout=0.2), seed=3)
    assert first == again  # every measured number (history and model are not compared by ==)
    assert _same_weights(first, again) and first.history.val_loss == again.history.val_loss


def test_different_seeds_give_different_runs() -> None:
    a, b = train_classifier(DATA, TINY, seed=0), train_classifier(DATA, TINY, seed=1)
    assert not _same_weights(a, b) and a.history.val_loss != b.history.val_loss


def test_the_reported_metrics_are_those_of_the_returned_model() -> None:
    result = train_classifier(DATA, TINY, seed=0)
    with torch.no_grad():
        logits = result.model(DATA.X_test).double()
    assert result.test_accuracy == float((logits.argmax(1) == DATA.y_test).double().mean())
    assert result.test_nll == pytest.approx(float(torch.nn.functional.cross_entropy(logits, DATA.y_test)), rel=1e-12)
    assert 0.0 <= result.test_ece <= 1.0 and result.gap == result.train_accuracy - result.test_accuracy
    assert result.history.epochs_run == TINY.epochs and not result.model.training


def test_adam_l2_and_adamw_agree_without_decay_and_differ_with_it() -> None:
    runs = {
        (optimizer, decay): train_classifier(DATA, TINY.but(optimizer=optimizer, weight_decay=decay), seed=0)
        for optimizer in ("adamw", "adam_l2") for decay in (0.0, 0.1)
    }
    assert _same_weights(runs["adamw", 0.0], runs["adam_l2", 0.0])
    assert not _same_weights(runs["adamw", 0.1], runs["adam_l2", 0.1])
    assert not _same_weights(runs["adamw", 0.0], runs["adamw", 0.1])


@pytest.mark.parametrize("optimizer", ["adamw", "adam_l2"])
def test_weights_are_decayed_and_biases_are_not(optimizer: str) -> None:
    model = make_mlp((6, 8, 3), seed=0)
    groups = _optimizer(model, TINY.but(optimizer=optimizer, weight_decay=0.25)).param_groups
    decay = {id(p): group["weight_decay"] for group in groups for p in group["params"]}
    for name, parameter in model.named_parameters():
        assert decay[id(parameter)] == (0.25 if name.endswith("weight") else 0.0), name
    assert len(decay) == len(list(model.parameters()))


def test_early_stopping_restores_the_best_epoch() -> None:
    config = TINY.but(epochs=40, lr=0.05, hidden=(32,), early_stopping_patience=2)
    result = train_classifier(_splits(rows=80, seed=1), config, seed=0)
    history = result.history
    assert history.stopped_epoch is not None and history.best_epoch < history.epochs_run - 1
    # the model's validation accuracy is the one recorded at the best epoch, not at the last
    assert result.val_accuracy == history.val_accuracy[history.best_epoch]


def test_divergence_is_an_error_naming_config() -> None:
    with pytest.raises(ValueError, match="config"):
        train_classifier(DATA, TINY.but(lr=1e30, epochs=3), seed=0)


def test_bad_data_and_arguments() -> None:
    with pytest.raises(TypeError, match="config"):
        train_classifier(DATA, {"hidden": (8,)})
    with pytest.raises(TypeError, match="data"):
        train_classifier(object(), TINY)
    with pytest.raises(ValueError, match="seed"):
        train_classifier(DATA, TINY, seed=2**64)
    with pytest.raises(TypeError, match="progress"):
        train_classifier(DATA, TINY, progress=1)
    poisoned = DATA.X_test.clone()
    poisoned[0, 0] = math.nan
    splits = {name: getattr(DATA, name) for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}
    with pytest.raises(ValueError, match="data.X_test"):  # any object with the six tensors is accepted as data
        train_classifier(SimpleNamespace(**{**splits, "X_test": poisoned}), TINY)
    with pytest.raises(TypeError, match="data.X_val"):
        train_classifier(SimpleNamespace(**{**splits, "X_val": DATA.X_val.long()}), TINY)
    with pytest.raises(ValueError, match="data.y_test"):
        train_classifier(SimpleNamespace(**{**splits, "y_test": DATA.y_test[:-1]}), TINY)


def test_run_over_seeds() -> None:
    runs = run_over_seeds(DATA, TINY, seeds=[2, 0])
    assert runs.seeds == (2, 0) and runs.config == TINY
    assert runs["test_accuracy"].values == tuple(train_classifier(DATA, TINY, seed=s).test_accuracy for s in (2, 0))
    for seeds, error in [((), ValueError), ((1, 1), ValueError), ((-1,), ValueError), ("01", TypeError), ((0.5,), TypeError)]:
        with pytest.raises(error, match="seeds"):
            run_over_seeds(DATA, TINY, seeds=seeds)


# --- SeedSummary, exceeds_spread, SeedRuns, format_table --------------------------------------------


def test_seed_summary_statistics_and_format() -> None:
    summary = SeedSummary([0.5, 0.75, 0.625])
    assert summary.values == (0.5, 0.75, 0.625)
    assert summary.mean == 0.625 and summary.low == 0.5 and summary.high == 0.75 and summary.spread == 0.125
    assert summary.std == pytest.approx(0.125)  # sqrt(((-0.125)^2 + 0.125^2 + 0) / 2)
    assert summary.format() == str(summary) == "0.625 ± 0.125" and summary.format(1) == "0.6 ± 0.1"
    one = SeedSummary([0.3])
    assert one.spread == 0.0 and one.std == 0.0


def test_seed_summary_of_huge_values_stays_finite() -> None:
    summary = SeedSummary([1.5e308, -1.5e308, 1.5e308])
    assert summary.mean == pytest.approx(0.5e308) and summary.spread == 1.5e308
    assert math.isfinite(summary.std) and summary.std == pytest.approx(np.std([1.5, -1.5, 1.5], ddof=1) * 1e308)


@pytest.mark.parametrize(("values", "error"), [([], ValueError), ([0.5, math.nan], ValueError), ("0.5", TypeError), (0.5, TypeError), ([True], TypeError), ({0.5}, TypeError)])
def test_seed_summary_rejects_bad_values(values, error) -> None:
    with pytest.raises(error, match="values"):
        SeedSummary(values)


def test_exceeds_spread_on_hand_made_summaries() -> None:
    low, high = SeedSummary((0.60, 0.61, 0.62)), SeedSummary((0.63, 0.64, 0.66))
    touching, overlapping = SeedSummary((0.62, 0.70)), SeedSummary((0.55, 0.615))
    assert exceeds_spread(low, high) and exceeds_spread(high, low)
    assert not exceeds_spread(low, touching)  # ranges sharing an end point overlap
    assert not exceeds_spread(low, overlapping) and not exceeds_spread(low, low)
    with pytest.raises(TypeError, match="second"):
        exceeds_spread(low, 0.7)


def _result(seed: int, test_accuracy: float, train_accuracy: float = 1.0) -> ClassifierResult:
    return ClassifierResult(seed, train_accuracy, 0.7, test_accuracy, 1.25, 0.05, History(), make_mlp((6, 3), seed=seed))


def test_seed_runs_checks_its_fields_and_summarises() -> None:
    runs = SeedRuns(TINY, [_result(0, 0.5), _result(1, 0.7)])
    assert isinstance(runs.results, tuple) and runs.seeds == (0, 1)
    assert runs.summary("gap").values == (0.5, pytest.approx(0.3))
    with pytest.raises(ValueError, match="metric"):
        runs.summary("accuracy")
    with pytest.raises(TypeError, match="metric"):
        runs.summary(["gap"])
    with pytest.raises(ValueError, match="results"):
        SeedRuns(TINY, [_result(0, 0.5), _result(0, 0.7)])
    with pytest.raises(TypeError, match="config"):
        SeedRuns(None, [_result(0, 0.5)])


def test_classifier_result_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="test_accuracy"):
        _result(0, 1.5)
    with pytest.raises(ValueError, match="test_nll"):
        ClassifierResult(0, 1.0, 0.7, 0.6, math.nan, 0.05, History(), make_mlp((6, 3)))


def test_format_table_shape() -> None:
    runs = {
        "no regularizer": SeedRuns(TINY, [_result(0, 0.5), _result(1, 0.75)]),
        "dropout 0.3": SeedRuns(TINY.but(dropout=0.3), [_result(0, 0.625), _result(1, 0.625), _result(2, 0.625)]),
    }
    table = format_table(runs, metrics=("test_accuracy", "test_nll", "gap"), digits=2)
    lines = table.split("\n")
    assert len(lines) == 4
    assert lines[0].split() == ["configuration", "test", "acc", "test", "NLL", "train-test", "gap"]
    assert lines[1] == "no regularizer  0.62 ± 0.12  1.25 ± 0.00  0.38 ± 0.12"
    assert lines[2].startswith("dropout 0.3     0.62 ± 0.00")
    assert lines[3] == "(mean ± half the min–max range over 2/3 seeds)"
    assert all(line == line.rstrip() for line in lines)
    assert len(format_table(runs).split("\n")[0].split("  ")) >= len(METRICS)
    for kwargs, error, name in [
        (dict(runs={}), ValueError, "runs"),
        (dict(runs=[1]), TypeError, "runs"),
        (dict(runs=runs, metrics="gap"), TypeError, "metrics"),
        (dict(runs=runs, metrics=("accuracy",)), ValueError, "metrics"),
        (dict(runs=runs, metrics=()), ValueError, "metrics"),
        (dict(runs=runs, digits=-1), ValueError, "digits"),
    ]:
        with pytest.raises(error, match=name):
            format_table(**kwargs)


def test_dropout_layer_reaches_the_model_and_trains_like_nn_dropout() -> None:
    built = []

    def layer(p: float) -> torch.nn.Module:
        built.append(torch.nn.Dropout(p))
        return built[-1]

    config = TINY.but(dropout=0.2, hidden=(8, 8))
    custom = train_classifier(DATA, config, seed=3, dropout_layer=layer)
    assert len(built) == 2 and all(module in list(custom.model) for module in built)
    assert not any(module.training for module in built)  # switched to eval mode with the model
    reference = train_classifier(DATA, config, seed=3)  # nn.Dropout from the same seed: the same run
    assert custom == reference and _same_weights(custom, reference)


def test_dropout_layer_is_checked_before_training() -> None:
    with pytest.raises(TypeError, match="dropout_layer must be a callable"):
        train_classifier(DATA, TINY.but(dropout=0.2), dropout_layer="dropout")
    with pytest.raises(TypeError, match="dropout_layer must return a torch.nn.Module"):
        train_classifier(DATA, TINY.but(dropout=0.2), dropout_layer=lambda p: None)


def test_an_error_inside_dropout_layer_reaches_the_caller_as_it_is() -> None:
    def layer(p: float) -> torch.nn.Module:
        raise ValueError("my layer rejects p")

    with pytest.raises(ValueError, match="my layer rejects p") as raised:
        train_classifier(DATA, TINY.but(dropout=0.2), dropout_layer=layer)
    assert "config.hidden" not in str(raised.value)  # not mistaken for a network-size problem


def test_a_network_too_large_for_make_mlp_is_named_by_config_hidden() -> None:
    with pytest.raises(ValueError, match=r"config\.hidden=\(20000, 20000\).*MAX_PARAMETERS"):
        train_classifier(DATA, TINY.but(hidden=(20000, 20000)))


# --- model_factory: any network, e.g. the variants chapter's CNN ------------------------------------


def _factory(seed: int) -> nn.Module:
    return make_mlp((6, 5, 3), seed=seed + 100)


def test_a_model_factory_builds_the_network_from_the_seed() -> None:
    config = ClassifierConfig(epochs=2, batch_size=20, lr=0.01)
    first = train_classifier(DATA, config, seed=1, model_factory=_factory)
    again = train_classifier(DATA, config, seed=1, model_factory=_factory)
    other = train_classifier(DATA, config, seed=2, model_factory=_factory)
    assert [m.out_features for m in first.model if isinstance(m, nn.Linear)] == [5, 3]
    assert _same_weights(first, again) and not _same_weights(first, other)
    with torch.no_grad():
        accuracy = float((first.model(DATA.X_test).argmax(1) == DATA.y_test).double().mean())
    assert first.test_accuracy == accuracy
    assert first.val_gap == first.train_accuracy - first.val_accuracy
    runs = run_over_seeds(DATA, config, (1, 2), model_factory=_factory)
    assert _same_weights(runs.results[0], first) and runs.summary("val_gap").values[1] == other.val_gap


def test_a_model_factory_trains_a_convolutional_network_on_signal_rows() -> None:
    from course_lib.models import make_cnn1d

    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(60, 16)), dtype=torch.float32)
    y = (X[:, :8].sum(1) > X[:, 8:].sum(1)).long()
    data = DataSplits("signals", X[:40], y[:40], X[40:50], y[40:50], X[50:], y[50:], feature_names=tuple(f"t{i}" for i in range(16)), class_names=("a", "b"))
    result = train_classifier(data, ClassifierConfig(epochs=2, batch_size=20), model_factory=lambda s: make_cnn1d(16, 2, channels=3, seed=s))
    assert 0.0 <= result.test_accuracy <= 1.0 and result.history.epochs_run == 2


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(model_factory=3), TypeError, r"model_factory must be a callable seed -> nn.Module \(or None\), got int 3"),
        (dict(model_factory=lambda seed: "net"), TypeError, r"model_factory must return a torch.nn.Module, got str 'net' for seed 0"),
        (dict(model_factory=lambda seed: make_mlp((6, 2))), ValueError, r"must map \(rows, 6\) inputs to \(rows, 3\) logits .*got \(2, 2\)"),
        (dict(model_factory=_factory, config=ClassifierConfig(hidden=(4,))), ValueError, r"config.hidden describes the MLP"),
        (dict(model_factory=_factory, config=ClassifierConfig(dropout=0.2)), ValueError, r"config.dropout describes the MLP"),
        (dict(model_factory=_factory, dropout_layer=nn.Dropout), ValueError, r"dropout_layer builds the MLP's dropout layers"),
    ],
)
def test_a_bad_model_factory_is_named(kwargs, error, message) -> None:
    kwargs = {"config": ClassifierConfig(epochs=1, batch_size=20), **kwargs}
    with pytest.raises(error, match=message):
        train_classifier(DATA, seed=0, **kwargs)
    if "dropout_layer" not in kwargs:
        with pytest.raises(error if error is TypeError and "return" not in message else (TypeError, ValueError)):
            run_over_seeds(DATA, kwargs["config"], (0,), model_factory=kwargs["model_factory"])


def test_the_cosine_schedule_anneals_the_learning_rate_over_the_epochs() -> None:
    seen: list[float] = []
    original = torch.optim.lr_scheduler.CosineAnnealingLR.step

    def recording_step(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.optimizer.param_groups[0]["lr"])

    config = ClassifierConfig(hidden=(4,), epochs=4, batch_size=20, lr=0.01, schedule="cosine")
    try:
        torch.optim.lr_scheduler.CosineAnnealingLR.step = recording_step
        train_classifier(DATA, config, seed=0)
    finally:
        torch.optim.lr_scheduler.CosineAnnealingLR.step = original
    # the constructor's step sets the initial rate; one step per epoch follows
    expected = [0.01 / 2 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
    assert seen == pytest.approx(expected, rel=1e-12)
    constant = train_classifier(DATA, config.but(schedule="constant"), seed=0)
    assert not _same_weights(constant, train_classifier(DATA, config, seed=0))
    with pytest.raises(ValueError, match=r"schedule must be one of \('constant', 'cosine'\), got 'linear'"):
        ClassifierConfig(schedule="linear")
    with pytest.raises(TypeError, match="schedule must be a str"):
        ClassifierConfig(schedule=None)


# --- the complete recipe: layer norm, GELU, AdamW groups, warm-up + cosine, clipping -----------------

DEFAULT_REPR = (
    "ClassifierConfig(hidden=(256, 256), dropout=0.0, weight_decay=0.0, optimizer='adamw', lr=0.003, "
    "label_smoothing=0.0, epochs=30, batch_size=200, early_stopping_patience=None, schedule='constant')"
)
RECIPE = TINY.but(
    hidden=(8, 8), dropout=0.1, weight_decay=0.05, label_smoothing=0.1, epochs=5, schedule="cosine", warmup_epochs=2,
    layer_norm=True, activation="gelu", clip_grad_norm=1.0, early_stopping_patience=3,
)


def test_recipe_fields_default_to_the_old_behaviour_and_stay_out_of_the_repr() -> None:
    config = ClassifierConfig()
    assert (config.layer_norm, config.activation, config.warmup_epochs, config.clip_grad_norm) == (False, "relu", 0, None)
    assert repr(config) == str(config) == DEFAULT_REPR  # as the chapters print it


@pytest.mark.parametrize(
    "config",
    [ClassifierConfig(), TINY, RECIPE, TINY.but(activation="gelu"), TINY.but(clip_grad_norm=0.5), TINY.but(layer_norm=True)],
)
def test_the_repr_shows_the_set_recipe_fields_and_rebuilds_the_config(config: ClassifierConfig) -> None:
    text = repr(config)
    for name, default in (("layer_norm", False), ("activation", "relu"), ("warmup_epochs", 0), ("clip_grad_norm", None)):
        assert (f"{name}=" in text) == (getattr(config, name) != default), name
    assert eval(text, {"ClassifierConfig": ClassifierConfig}) == config


def test_the_repr_of_the_full_recipe() -> None:
    assert repr(RECIPE) == (
        "ClassifierConfig(hidden=(8, 8), dropout=0.1, weight_decay=0.05, optimizer='adamw', lr=0.01, label_smoothing=0.1, "
        "epochs=5, batch_size=20, early_stopping_patience=3, schedule='cosine', layer_norm=True, activation='gelu', "
        "warmup_epochs=2, clip_grad_norm=1.0)"
    )


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        (dict(layer_norm=1), TypeError, r"layer_norm must be a bool"),
        (dict(activation="tanh"), ValueError, r"activation must be one of \('relu', 'gelu'\), got 'tanh'"),
        (dict(activation=None), TypeError, r"activation must be a str"),
        (dict(warmup_epochs=2), ValueError, r"warmup_epochs must be 0 with schedule='constant'"),
        (dict(warmup_epochs=2, schedule="cosine", epochs=2), ValueError, r"warmup_epochs must be less than epochs .*got 2 with epochs=2"),
        (dict(warmup_epochs=-1, schedule="cosine"), ValueError, r"warmup_epochs must be an int >= 0"),
        (dict(warmup_epochs=1.0, schedule="cosine"), TypeError, r"warmup_epochs must be an int"),
        (dict(clip_grad_norm=0.0), ValueError, r"clip_grad_norm must be a finite number > 0, got 0.0"),
        (dict(clip_grad_norm=math.inf), ValueError, r"clip_grad_norm must be a finite number > 0"),
        (dict(clip_grad_norm="1"), TypeError, r"clip_grad_norm must be a real number"),
    ],
)
def test_recipe_fields_are_validated(changes, error, match) -> None:
    with pytest.raises(error, match=match):
        TINY.but(**changes)
    assert TINY.but(schedule="cosine", warmup_epochs=1).warmup_epochs == 1
    assert type(TINY.but(clip_grad_norm=2).clip_grad_norm) is float


def _by_hand(config: ClassifierConfig, seed: int):
    """The default recipe written out as before configure_adamw existed: make_mlp, AdamW(param_groups), fit."""
    from course_lib.optim import param_groups
    from course_lib.train import fit

    model = make_mlp((6, *config.hidden, 3), dropout=config.dropout, seed=seed)
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.lr)
    scheduler = None if config.schedule == "constant" else torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    fit(model, DATA, optimizer, nn.CrossEntropyLoss(label_smoothing=config.label_smoothing), config.epochs,
        batch_size=config.batch_size, scheduler=scheduler, early_stopping_patience=config.early_stopping_patience,
        progress=False, seed=seed, device="cpu")
    return model, optimizer


@pytest.mark.parametrize("config", [TINY.but(weight_decay=0.1, dropout=0.2), TINY.but(schedule="cosine", epochs=3)])
def test_configs_without_the_recipe_fields_train_exactly_as_before(config: ClassifierConfig) -> None:
    result = train_classifier(DATA, config, seed=4)
    model, optimizer = _by_hand(config, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(result.model.state_dict().values(), model.state_dict().values(), strict=True))
    ours = _optimizer(make_mlp((6, *config.hidden, 3), seed=4), config)
    assert [len(g["params"]) for g in ours.param_groups] == [len(g["params"]) for g in optimizer.param_groups]
    assert [g["weight_decay"] for g in ours.param_groups] == [config.weight_decay, 0.0]


def test_the_recipe_builds_layer_norm_gelu_blocks_without_any_after_the_output() -> None:
    result = train_classifier(DATA, RECIPE, seed=0)
    kinds = [type(layer) for layer in result.model]
    block = [nn.Linear, nn.LayerNorm, nn.GELU, nn.Dropout]
    assert kinds == block + block + [nn.Linear]
    assert not result.model.training and 1 <= result.history.epochs_run <= RECIPE.epochs
    again = train_classifier(DATA, RECIPE, seed=0)
    assert result == again and _same_weights(result, again)


def test_the_adamw_groups_keep_layer_norm_parameters_and_biases_undecayed() -> None:
    model = make_mlp((6, 8, 3), layer_norm=True, activation="gelu")
    groups = _optimizer(model, RECIPE).param_groups
    assert type(_optimizer(model, RECIPE)) is torch.optim.AdamW
    decay = {id(p): group["weight_decay"] for group in groups for p in group["params"]}
    for name, parameter in model.named_parameters():
        decayed = name.endswith("weight") and parameter.ndim == 2  # "1.weight" is LayerNorm's scale
        assert decay[id(parameter)] == (0.05 if decayed else 0.0), name
    assert len(decay) == len(list(model.parameters()))


def test_warmup_then_cosine_sets_the_learning_rate_of_each_epoch() -> None:
    seen: list[float] = []
    original = torch.optim.lr_scheduler.LambdaLR.step

    def recording_step(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.optimizer.param_groups[0]["lr"])

    config = TINY.but(epochs=6, schedule="cosine", warmup_epochs=2)
    try:
        torch.optim.lr_scheduler.LambdaLR.step = recording_step
        warmed = train_classifier(DATA, config, seed=0)
    finally:
        torch.optim.lr_scheduler.LambdaLR.step = original
    lr, warmup, total = config.lr, 2, 6
    expected = [lr * (e + 1) / (warmup + 1) for e in range(warmup)]
    expected += [lr / 2 * (1 + math.cos(math.pi * (e - warmup) / (total - warmup))) for e in range(warmup, total + 1)]
    assert seen == pytest.approx(expected, rel=1e-12, abs=1e-15)  # the constructor's step, then one per epoch
    assert not _same_weights(warmed, train_classifier(DATA, config.but(warmup_epochs=0), seed=0))


def test_clip_grad_norm_reaches_fit_and_bounds_every_step(monkeypatch) -> None:
    norms: list[float] = []
    original = torch.nn.utils.clip_grad_norm_

    def recording_clip(parameters, max_norm, *args, **kwargs):
        norms.append(max_norm)
        return original(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording_clip)
    config = TINY.but(clip_grad_norm=0.01)
    clipped = train_classifier(DATA, config, seed=0)
    batches_per_epoch = math.ceil(len(DATA.y_train) / config.batch_size)
    assert norms == [0.01] * (config.epochs * batches_per_epoch)
    norms.clear()
    unclipped = train_classifier(DATA, TINY, seed=0)
    assert norms == [] and not _same_weights(clipped, unclipped)


@pytest.mark.parametrize(("field", "value"), [("layer_norm", True), ("activation", "gelu")])
def test_mlp_recipe_fields_have_no_effect_with_a_model_factory_and_are_rejected(field: str, value) -> None:
    config = ClassifierConfig(epochs=1, batch_size=20).but(**{field: value})
    with pytest.raises(ValueError, match=rf"config.{field} describes the MLP and has no effect with a model_factory"):
        train_classifier(DATA, config, model_factory=_factory)
    with pytest.raises(ValueError, match=rf"config.{field} describes the MLP"):
        run_over_seeds(DATA, config, (0,), model_factory=_factory)
    # the training fields of the recipe do apply to a factory's network
    trained = train_classifier(DATA, ClassifierConfig(epochs=3, batch_size=20, schedule="cosine", warmup_epochs=1, clip_grad_norm=1.0),
                               model_factory=_factory)
    assert trained.history.epochs_run == 3

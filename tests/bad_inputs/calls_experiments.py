"""Valid calls of course_lib.experiments.

Training calls use a tiny synthetic :class:`~course_lib.data.DataSplits` (3 features, 2 classes, a
few dozen rows) and a one-hidden-layer config of width 4 for 2 epochs, so each run takes
milliseconds. The checks measure the returned model again on the test split and compute the seed
statistics from their definitions.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import experiments
from course_lib.data import DataSplits
from course_lib.models import make_mlp
from course_lib.train import History

from .runner import Case


def _features(rows: int, seed: int) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(seed).normal(size=(rows, 3)), dtype=torch.float32)


def _splits() -> DataSplits:
    X = [_features(24, 1), _features(12, 2), _features(12, 3)]
    y = [(x[:, 0] - x[:, 2] > 0).long() for x in X]
    return DataSplits("tiny", X[0], y[0], X[1], y[1], X[2], y[2], feature_names=("a", "b", "c"), class_names=("no", "yes"))


def _config() -> experiments.ClassifierConfig:
    return experiments.ClassifierConfig(hidden=(4,), epochs=2, batch_size=8, lr=0.01, weight_decay=0.01)


def _recipe_config() -> experiments.ClassifierConfig:
    """The complete recipe: LayerNorm → GELU → dropout blocks, AdamW groups, smoothing, warm-up + cosine, clipping."""
    return experiments.ClassifierConfig(
        hidden=(4, 4), dropout=0.1, weight_decay=0.05, lr=0.01, label_smoothing=0.1, epochs=3, batch_size=8,
        early_stopping_patience=2, schedule="cosine", layer_norm=True, activation="gelu", warmup_epochs=1, clip_grad_norm=1.0,
    )


def _config_fields() -> dict:
    return dict(
        hidden=(8, 4), dropout=0.25, weight_decay=0.01, optimizer="adamw", lr=0.01, label_smoothing=0.05,
        epochs=2, batch_size=50, early_stopping_patience=2, schedule="cosine",
        layer_norm=True, activation="gelu", warmup_epochs=1, clip_grad_norm=1.0,
    )


def _verify_config(config, kwargs) -> None:
    assert isinstance(config, experiments.ClassifierConfig)
    assert config.hidden == tuple(int(h) for h in kwargs["hidden"]) and all(type(h) is int for h in config.hidden)
    for name in ("dropout", "weight_decay", "lr", "label_smoothing"):
        assert type(getattr(config, name)) is float and getattr(config, name) == float(kwargs[name]), name
    assert 0.0 <= config.dropout < 1.0 and 0.0 <= config.label_smoothing < 1.0 and config.lr > 0.0
    assert config.optimizer in ("adamw", "adam_l2") and config.optimizer == kwargs["optimizer"]
    assert config.epochs == int(kwargs["epochs"]) >= 1 and config.batch_size == int(kwargs["batch_size"]) >= 1
    patience = kwargs["early_stopping_patience"]
    assert config.early_stopping_patience == (None if patience is None else int(patience))
    assert config.schedule == kwargs["schedule"] in ("constant", "cosine")
    assert config.layer_norm is bool(kwargs["layer_norm"]) and config.activation == kwargs["activation"] in ("relu", "gelu")
    assert type(config.warmup_epochs) is int and config.warmup_epochs == int(kwargs["warmup_epochs"])
    assert 0 <= config.warmup_epochs < config.epochs and (config.warmup_epochs == 0 or config.schedule == "cosine")
    if kwargs["clip_grad_norm"] is None:  # None: no clipping
        assert config.clip_grad_norm is None
    else:
        assert type(config.clip_grad_norm) is float and config.clip_grad_norm == float(kwargs["clip_grad_norm"]) > 0.0
    assert eval(repr(config), {"ClassifierConfig": experiments.ClassifierConfig}) == config


def _but(config, dropout):
    return config.but(dropout=dropout)


def _factory(seed: int) -> nn.Module:
    """A network the experiment does not build itself (here an MLP of other widths)."""
    return make_mlp((3, 5, 2), seed=seed)


def _verify_but(changed, kwargs) -> None:
    assert changed.dropout == float(kwargs["dropout"]) and 0.0 <= changed.dropout < 1.0
    assert changed.but(dropout=kwargs["config"].dropout) == kwargs["config"]


def _result_fields() -> dict:
    return dict(
        seed=3, train_accuracy=1.0, val_accuracy=0.75, test_accuracy=0.625, test_nll=0.875, test_ece=0.125,
        history=History(), model=make_mlp((3, 2), seed=0),
    )


def _verify_result(result, kwargs) -> None:
    assert isinstance(result, experiments.ClassifierResult) and result.seed == int(kwargs["seed"]) >= 0
    for name in ("train_accuracy", "val_accuracy", "test_accuracy", "test_ece"):
        assert getattr(result, name) == float(kwargs[name]) and 0.0 <= getattr(result, name) <= 1.0, name
    assert result.test_nll == float(kwargs["test_nll"]) >= 0.0
    assert result.gap == result.train_accuracy - result.test_accuracy
    assert result.history is kwargs["history"] and result.model is kwargs["model"]


def _verify_training(result, kwargs) -> None:
    """The reported test accuracy and NLL are those of the returned model, measured again here."""
    data, config = kwargs["data"], kwargs["config"]
    assert isinstance(result, experiments.ClassifierResult) and result.seed == int(kwargs["seed"])
    assert 1 <= result.history.epochs_run <= config.epochs and not result.history.diverged
    with torch.no_grad():
        logits = result.model(data.X_test).double()
    accuracy = float((logits.argmax(dim=1) == data.y_test).double().mean())
    nll = float(nn.functional.cross_entropy(logits, data.y_test))
    assert result.test_accuracy == accuracy and math.isclose(result.test_nll, nll, rel_tol=1e-9)
    assert 0.0 <= result.test_ece <= 1.0 and 0.0 <= result.train_accuracy <= 1.0


def _verify_runs(runs, kwargs) -> None:
    assert isinstance(runs, experiments.SeedRuns) and runs.config == kwargs["config"]
    assert runs.seeds == tuple(int(s) for s in kwargs["seeds"])
    for result in runs.results:
        _verify_training(result, {**kwargs, "seed": result.seed})


def _float_values(values) -> list[float]:
    return [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def _verify_summary(summary, kwargs) -> None:
    values = _float_values(kwargs["values"])
    assert isinstance(summary, experiments.SeedSummary) and list(summary.values) == values
    assert math.isclose(summary.mean, sum(values) / len(values), rel_tol=1e-12)
    assert summary.low == min(values) and summary.high == max(values)
    assert math.isclose(summary.spread, (max(values) - min(values)) / 2, rel_tol=1e-12, abs_tol=1e-300)


def _summary() -> experiments.SeedSummary:
    return experiments.SeedSummary((0.625, 0.5, 0.75))


def _format(summary, digits=3):
    return summary.format(digits)


def _verify_format(text, kwargs) -> None:
    digits = int(kwargs["digits"])
    assert 0 <= digits <= 17 and text == f"{0.625:.{digits}f} ± {0.125:.{digits}f}"


def _verify_exceeds(answer, kwargs) -> None:
    first, second = kwargs["first"], kwargs["second"]
    assert answer is (max(first.values) < min(second.values) or max(second.values) < min(first.values))


def _result(seed: int, test_accuracy: float) -> experiments.ClassifierResult:
    return experiments.ClassifierResult(seed, 1.0, 0.75, test_accuracy, 0.5, 0.125, History(), make_mlp((3, 2), seed=seed))


def _runs_fields() -> dict:
    return dict(config=_config(), results=(_result(0, 0.5), _result(1, 0.625), _result(2, 0.75)))


def _verify_seed_runs(runs, kwargs) -> None:
    assert isinstance(runs, experiments.SeedRuns) and isinstance(runs.results, tuple)
    assert runs.config is kwargs["config"] and len(set(runs.seeds)) == len(runs.seeds) >= 1
    assert all(isinstance(r, experiments.ClassifierResult) for r in runs.results)


def _runs() -> experiments.SeedRuns:
    return experiments.SeedRuns(**_runs_fields())


def _seed_runs_summary(runs, metric):
    return runs.summary(metric)


def _verify_seed_runs_summary(summary, kwargs) -> None:
    assert kwargs["metric"] in (*experiments.METRICS, "gap", "val_gap")
    assert list(summary.values) == [getattr(r, kwargs["metric"]) for r in kwargs["runs"].results]


def _table_runs() -> dict:
    return {"base": _runs(), "wider": experiments.SeedRuns(_config().but(hidden=(8,)), (_result(5, 0.25), _result(6, 0.5)))}


def _verify_table(text, kwargs) -> None:
    runs, metrics, digits = kwargs["runs"], list(kwargs["metrics"]), int(kwargs["digits"])
    lines = text.split("\n")
    assert len(lines) == len(runs) + 2 and lines[0].startswith("configuration")
    for line, (name, run) in zip(lines[1:], runs.items()):
        cells = [c for c in line[len(name):].split("  ") if c.strip()]
        assert line.startswith(name) and len(cells) == len(metrics), (line, metrics)
        for cell, metric in zip(cells, metrics):
            values = [getattr(r, metric) for r in run.results]
            mean, spread = sum(values) / len(values), (max(values) - min(values)) / 2
            assert cell.strip() == f"{mean:.{digits}f} ± {spread:.{digits}f}", (cell, metric)
    assert lines[-1].startswith("(mean ± half the min–max range over")


_CONFIG = {"config": "the ClassifierConfig whose method is called"}

CASES = [
    Case("experiments.ClassifierConfig", experiments.ClassifierConfig, _config_fields, _verify_config),
    Case("experiments.ClassifierConfig.but", _but, lambda: dict(config=_config(), dropout=0.25), _verify_but, fixed=_CONFIG),
    Case("experiments.ClassifierResult", experiments.ClassifierResult, _result_fields, _verify_result),
    Case(
        "experiments.train_classifier", experiments.train_classifier,
        lambda: dict(data=_splits(), config=_config(), seed=0, progress=False), _verify_training, examples=6,
    ),
    Case(
        "experiments.train_classifier[recipe]", experiments.train_classifier,
        lambda: dict(data=_splits(), config=_recipe_config(), seed=0, progress=False), _verify_training, examples=6,
    ),
    Case(
        "experiments.train_classifier[dropout_layer]", experiments.train_classifier,
        lambda: dict(data=_splits(), config=_config().but(dropout=0.25), seed=0, progress=False, dropout_layer=nn.Dropout),
        _verify_training, examples=6,
    ),
    Case(
        "experiments.train_classifier[model_factory]", experiments.train_classifier,
        lambda: dict(data=_splits(), config=experiments.ClassifierConfig(epochs=2, batch_size=8, lr=0.01), seed=0,
                     progress=False, dropout_layer=None, model_factory=_factory),
        _verify_training, examples=6,
    ),
    Case(
        "experiments.run_over_seeds", experiments.run_over_seeds,
        lambda: dict(data=_splits(), config=_config(), seeds=(0, 1), progress=False), _verify_runs, examples=4,
    ),
    Case("experiments.SeedSummary", experiments.SeedSummary, lambda: dict(values=(0.625, 0.5, 0.75)), _verify_summary),
    Case("experiments.SeedSummary.format", _format, lambda: dict(summary=_summary(), digits=3), _verify_format, fixed={"summary": "the SeedSummary whose method is called"}),
    Case(
        "experiments.exceeds_spread", experiments.exceeds_spread,
        lambda: dict(first=experiments.SeedSummary((0.5, 0.625)), second=experiments.SeedSummary((0.75, 0.875))), _verify_exceeds,
    ),
    Case("experiments.SeedRuns", experiments.SeedRuns, _runs_fields, _verify_seed_runs),
    Case(
        "experiments.SeedRuns.summary", _seed_runs_summary, lambda: dict(runs=_runs(), metric="test_accuracy"),
        _verify_seed_runs_summary, fixed={"runs": "the SeedRuns whose method is called"},
    ),
    Case(
        "experiments.format_table", experiments.format_table,
        lambda: dict(runs=_table_runs(), metrics=("test_accuracy", "gap"), digits=3), _verify_table,
    ),
]

"""The long experiment scripts in experiments/: they import cleanly and their selection logic is right.

The scripts themselves take minutes (``make experiments``); here only their pieces are checked.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from course_lib.experiments import SeedSummary

SCRIPTS = Path(__file__).resolve().parents[1] / "experiments"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the runs sit behind `if __name__ == "__main__"`
    return module


def test_every_script_is_listed_in_the_readme_and_has_a_docstring():
    readme = (SCRIPTS / "README.md").read_text()
    scripts = sorted(SCRIPTS.glob("*.py"))
    assert scripts
    for script in scripts:
        assert f"`{script.name}`" in readme
        assert _load(script.stem).__doc__.strip()


def test_adamw_grid_picks_the_lowest_mean_validation_loss_of_each_row():
    grid = _load("adamw_grid_mnist1d")
    label = "AdamW"
    strengths = grid.STRENGTHS[label]
    losses = {lr: [1.3, 1.1, 1.2, 1.4] for lr in grid.LEARNING_RATES}
    losses[grid.LEARNING_RATES[-1]] = [1.0, 1.2, 1.3, 0.9]
    cells = {
        (lr, s): {"val_nll": SeedSummary((loss - 0.01, loss, loss + 0.01))}
        for lr in grid.LEARNING_RATES for s, loss in zip(strengths, losses[lr])
    }
    expected = [strengths[1]] * (len(grid.LEARNING_RATES) - 1) + [strengths[3]]
    assert grid.best_strengths(label, cells) == expected


def test_adamw_grid_covers_both_optimizers_on_the_same_learning_rates():
    grid = _load("adamw_grid_mnist1d")
    assert set(grid.STRENGTHS) == set(grid.OPTIMIZER) == {"AdamW", "Adam + L2"}
    assert all(len(strengths) >= 3 for strengths in grid.STRENGTHS.values())
    assert len(grid.SEEDS) >= 3 and list(grid.LEARNING_RATES) == sorted(grid.LEARNING_RATES)


@pytest.mark.parametrize("name", ["adamw_grid_mnist1d"])
def test_scripts_are_run_by_make_experiments(name):
    makefile = (SCRIPTS.parent / "Makefile").read_text()
    assert f"experiments/{name}.py" in makefile


def test_mc_dropout_ensembles_scores_ood_inputs_by_their_mutual_information():
    script = _load("mc_dropout_ensembles_mnist1d")
    agreeing = torch.tensor([[[0.9, 0.1]] * 4] * 3, dtype=torch.float64)  # 3 passes that agree on 4 inputs
    disagreeing = torch.tensor([[[1.0, 0.0]] * 4, [[0.0, 1.0]] * 4, [[1.0, 0.0]] * 4], dtype=torch.float64)
    assert script.information_auroc(agreeing, disagreeing) == 1.0
    assert script.information_auroc(disagreeing, agreeing) == 0.0
    sets = script.out_of_distribution_sets(torch.arange(12.0).reshape(3, 4))
    assert sorted(sets) == ["noise", "shuffled signals"]
    assert torch.equal(sets["shuffled signals"].sort(dim=1).values, torch.arange(12.0).reshape(3, 4))
    assert sets["noise"].shape == (3, 4)


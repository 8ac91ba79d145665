"""MC dropout against deep ensembles on MNIST-1D, with the ensembles' own seed spread.

The chapter "Monte-Carlo dropout" trains five dropout networks within its
runtime budget: it compares the single networks (evaluation mode, and the
mean of T = 50 MC-dropout passes) over five seeds, and one deep ensemble of
all five against every single network. This script adds what the chapter
cannot afford: three disjoint ensembles of five networks (seeds 0-14, about
a minute on one core), so the ensemble also has a mean ± spread over seeds.

Recipe: the chapter's, ``ClassifierConfig(dropout=0.3)`` (MLP 40-256-256-10,
AdamW lr 3e-3, 30 epochs, batch 200). The first member of each ensemble is
its MC-dropout network. The script prints accuracy, NLL and ECE (15 bins) of
the three predictors on the test set, the AUROC of the mutual information
for shuffled and noise inputs, and how many of the 15 networks MC averaging
gives a lower ECE; it asserts what the chapter says about them.

Run it with ``make experiments`` or ``.venv/bin/python experiments/mc_dropout_ensembles_mnist1d.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from course_lib.data import load_mnist1d_splits
from course_lib.experiments import ClassifierConfig, SeedSummary, exceeds_spread, train_classifier
from course_lib.mc_dropout import ensemble_probabilities, mc_probabilities, mutual_information
from course_lib.metrics import accuracy, expected_calibration_error, nll
from course_lib.notebook import setup_notebook

N_MEMBERS = 5
N_ENSEMBLES = 3
N_PASSES = 50
METRICS = {"accuracy": accuracy, "NLL": nll, "ECE": expected_calibration_error}


def out_of_distribution_sets(X_test: torch.Tensor) -> dict[str, torch.Tensor]:
    """The chapter's two OOD sets: each test signal with its values shuffled, and standard normal noise."""
    generator = torch.Generator().manual_seed(0)
    return {
        "shuffled signals": torch.stack([signal[torch.randperm(X_test.shape[1], generator=generator)] for signal in X_test]),
        "noise": torch.randn(X_test.shape, generator=generator),
    }


def information_auroc(inside: torch.Tensor, outside: torch.Tensor) -> float:
    """AUROC of the mutual information for telling (T, N, C) samples of OOD inputs from those of test inputs."""
    scores_in, scores_out = mutual_information(inside), mutual_information(outside)
    labels = np.r_[np.zeros(len(scores_in)), np.ones(len(scores_out))]
    return float(roc_auc_score(labels, np.r_[scores_in, scores_out]))


def main() -> None:
    setup_notebook()
    data = load_mnist1d_splits()
    recipe = ClassifierConfig(dropout=0.3)
    X_test, y_test = data.X_test, data.y_test
    ood = out_of_distribution_sets(X_test)
    networks = []
    for seed in range(N_MEMBERS * N_ENSEMBLES):
        networks.append(train_classifier(data, recipe, seed).model)
        print(f"trained network {seed + 1} of {N_MEMBERS * N_ENSEMBLES}", flush=True)
    ensembles = [networks[k * N_MEMBERS:(k + 1) * N_MEMBERS] for k in range(N_ENSEMBLES)]

    predictions = {"deterministic": [], f"MC dropout (T = {N_PASSES})": [], f"deep ensemble ({N_MEMBERS})": []}
    aurocs = {("MC dropout", name): [] for name in ood} | {("deep ensemble", name): [] for name in ood}
    for k, members in enumerate(ensembles):
        mc_in = mc_probabilities(members[0], X_test, N_PASSES, seed=k)
        ensemble_in = ensemble_probabilities(members, X_test)
        predictions["deterministic"].append(ensemble_probabilities(members[:1], X_test)[0])
        predictions[f"MC dropout (T = {N_PASSES})"].append(mc_in.mean(dim=0))
        predictions[f"deep ensemble ({N_MEMBERS})"].append(ensemble_in.mean(dim=0))
        for name, X in ood.items():
            aurocs["MC dropout", name].append(information_auroc(mc_in, mc_probabilities(members[0], X, N_PASSES, seed=k)))
            aurocs["deep ensemble", name].append(information_auroc(ensemble_in, ensemble_probabilities(members, X)))

    table = {name: {m: SeedSummary([f(p, y_test) for p in probs]) for m, f in METRICS.items()}
             for name, probs in predictions.items()}
    print(f"\n{'test set, 3 seeds':24}" + "".join(f"{m:>17}" for m in METRICS))
    for name, row in table.items():
        print(f"{name:24}" + "".join(f"{str(row[m]):>17}" for m in METRICS))
    auroc = {key: SeedSummary(values) for key, values in aurocs.items()}
    for (method, name), summary in auroc.items():
        print(f"AUROC of the mutual information, {method:13} {name:16}: {summary}")

    lower = [
        expected_calibration_error(mc_probabilities(net, X_test, N_PASSES, seed=i).mean(dim=0), y_test)
        < expected_calibration_error(ensemble_probabilities([net], X_test)[0], y_test)
        for i, net in enumerate(networks)
    ]
    print(f"MC averaging lowers the ECE of {sum(lower)} of the {len(lower)} networks")

    deterministic, mc, ensemble = table.values()
    for m in ("accuracy", "NLL"):
        assert not exceeds_spread(mc[m], deterministic[m])  # MC averaging: no change beyond the seed spread
        assert exceeds_spread(ensemble[m], mc[m]) and exceeds_spread(ensemble[m], deterministic[m])
    assert ensemble["accuracy"].mean > mc["accuracy"].mean and ensemble["NLL"].mean < mc["NLL"].mean
    for name in ood:
        assert auroc["deep ensemble", name].mean > auroc["MC dropout", name].mean
    assert 0 < sum(lower) < len(lower)  # not a consistent effect of averaging
    print("\nThe chapter's statements hold: the ensembles beat MC dropout beyond the seed spread in accuracy and NLL, "
          "and MC averaging does not change accuracy or NLL beyond it.")


if __name__ == "__main__":
    main()

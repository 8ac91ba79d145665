"""Tests for course_lib.plots.practice: each figure draws what it is given, with fixed size, labels and titles."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from course_lib.double_descent import DoubleDescentCurve
from course_lib.plots import BEST_EPOCH_COLOR
from course_lib.plots import practice as pp
from course_lib.train import History
from course_lib.transformer import TransformerBlock, TransformerClassifier, dropout_sites


def _ax():
    return Figure().add_subplot()


def _by_gid(artists, gid: str) -> list:
    return [artist for artist in artists if artist.get_gid() == gid]


def _legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _one(artists, gid: str):
    found = _by_gid(artists, gid)
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def _extent(patch) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a box patch in data coordinates."""
    return patch.get_x(), patch.get_x() + patch.get_width(), patch.get_y(), patch.get_y() + patch.get_height()


def _inside(inner, outer) -> bool:
    (a0, a1, b0, b1), (c0, c1, d0, d1) = _extent(inner), _extent(outer)
    return c0 <= a0 and a1 <= c1 and d0 <= b0 and b1 <= d1


# --- where dropout sits -----------------------------------------------------------------------------


def _classifier_sites() -> list[tuple[str, str, float]]:
    """Two blocks, attention dropout off (rate 0), drop path on its linear schedule (0.05, 0.1)."""
    model = TransformerClassifier(40, 10, depth=2, attention_dropout=0.0, drop_path=0.1, embedding_dropout=0.2)
    return dropout_sites(model)


def test_dropout_sites_draws_a_box_and_a_rate_label_for_every_site():
    sites = _classifier_sites()
    assert len(sites) == 11
    fig = pp.plot_dropout_sites(sites, title="the sites")
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == pp.dropout_sites_figsize(2)
    (ax,) = fig.axes
    assert ax.get_title() == "the sites"
    for name, _, rate in sites:
        _one(ax.patches, f"site-box-{name}")
        label = _one(ax.texts, f"site-{name}").get_text()
        assert label.endswith(f"p = {rate:g}" if rate > 0 else "p = 0 (off)"), (name, label)
    assert _one(ax.texts, "site-embedding_dropout").get_text() == "embedding dropout\np = 0.2"
    assert _one(ax.texts, "site-blocks.1.drop_path_feed_forward").get_text() == "drop path\np = 0.1"
    assert _one(ax.texts, "site-blocks.0.drop_path_attention").get_text() == "drop path\np = 0.05"


def test_dropout_sites_draws_the_components_of_every_block():
    ax = pp.plot_dropout_sites(_classifier_sites(), ax=_ax()).axes[0]
    for gid in ("box-embedding", "box-final-ln", "box-pool", "box-head"):
        _one(ax.patches, gid)
    for block in range(2):
        _one(ax.patches, f"block-{block}")
        assert _one(ax.texts, f"block-{block}-label").get_text() == f"block {block + 1}"
        for part in ("ln-attention", "attention", "ln-feed-forward", "feed-forward"):
            _one(ax.patches, f"box-block{block}-{part}")
        for branch in ("attention", "feed-forward"):
            assert _one(ax.texts, f"add-block{block}-{branch}").get_text() == "+"
    assert not _by_gid(ax.patches, "block-2")
    assert ax.get_xlim() == (0.0, 10.0) and not ax.axison


def test_dropout_sites_puts_each_site_at_its_place():
    ax = pp.plot_dropout_sites(_classifier_sites(), ax=_ax()).axes[0]
    embedding = _one(ax.patches, "box-embedding")
    embedding_site = _one(ax.patches, "site-box-embedding_dropout")
    assert _extent(embedding_site)[3] <= _extent(embedding)[2]  # after (below) embeddings + positions
    first_block = _extent(_one(ax.patches, "block-0"))
    assert _extent(embedding_site)[2] >= first_block[3]  # and before the first block
    for block in range(2):
        prefix = f"blocks.{block}."
        background = _one(ax.patches, f"block-{block}")
        attention_site = _one(ax.patches, f"site-box-{prefix}attention.dropout")
        assert _inside(attention_site, _one(ax.patches, f"box-block{block}-attention"))
        for branch, attribute in (("attention", "attention"), ("feed-forward", "feed_forward")):
            sublayer = _extent(_one(ax.patches, f"box-block{block}-{branch}"))
            residual = _one(ax.patches, f"site-box-{prefix}dropout_{attribute}")
            drop_path = _one(ax.patches, f"site-box-{prefix}drop_path_{attribute}")
            assert _inside(residual, background) and _inside(drop_path, background)
            # sub-layer -> residual dropout -> drop path, on the branch's row
            assert sublayer[1] <= _extent(residual)[0] < _extent(residual)[1] <= _extent(drop_path)[0]
            for site in (residual, drop_path):
                middle = (_extent(site)[2] + _extent(site)[3]) / 2
                assert sublayer[2] < middle < sublayer[3]
    # the feed-forward branch sits below the attention branch of its block
    feed_forward, attention = (_extent(_one(ax.patches, f"box-block0-{part}"))
                               for part in ("feed-forward", "attention"))
    assert feed_forward[3] < attention[2]


def test_a_site_at_rate_zero_is_greyed_and_one_above_zero_is_in_the_site_colour():
    ax = pp.plot_dropout_sites(_classifier_sites(), ax=_ax()).axes[0]
    off_box = _one(ax.patches, "site-box-blocks.0.attention.dropout")
    off_text = _one(ax.texts, "site-blocks.0.attention.dropout")
    assert off_box.get_edgecolor() == to_rgba(pp.OFF_SITE_COLOR)
    assert off_box.get_facecolor() == to_rgba(pp.OFF_SITE_FACE)
    assert off_box.get_linestyle() == "--"
    assert to_rgba(off_text.get_color()) == to_rgba(pp.OFF_SITE_COLOR)
    on_box = _one(ax.patches, "site-box-blocks.0.dropout_attention")
    assert on_box.get_edgecolor() == to_rgba(pp.SITE_COLOR)
    assert on_box.get_linestyle() == "-"
    assert to_rgba(_one(ax.texts, "site-blocks.0.dropout_attention").get_color()) == to_rgba(pp.SITE_COLOR)
    assert _legend_texts(ax) == ["dropout site (rate > 0)", "site at rate 0 (off)"]


def test_sites_of_one_block_without_a_prefix_fill_one_block():
    sites = dropout_sites(TransformerBlock(8, 2, 16, dropout=0.1, attention_dropout=0.2))
    ax = pp.plot_dropout_sites(sites, ax=_ax()).axes[0]
    assert len(_by_gid(ax.patches, "block-0")) == 1 and not _by_gid(ax.patches, "block-1")
    assert _one(ax.texts, "site-attention.dropout").get_text() == "dropout on softmax(QKᵀ/√d)\np = 0.2"
    assert not [patch for patch in ax.patches if str(patch.get_gid()).startswith("site-box-embedding")]
    drop_path = _extent(_one(ax.patches, "site-box-drop_path_feed_forward"))
    assert _extent(_one(ax.patches, "box-block0-feed-forward"))[2] < drop_path[2]


def test_sites_in_data_order_without_known_names_are_assigned_by_order():
    sites = [("a", "attention probabilities", 0.1), ("b", "residual (attention)", 0.1), ("c", "drop path", 0.1),
             ("d", "residual (feed-forward)", 0.1), ("e", "drop path", 0.2), ("f", "attention probabilities", 0.3)]
    ax = pp.plot_dropout_sites(sites, ax=_ax()).axes[0]
    assert _by_gid(ax.patches, "block-1") and not _by_gid(ax.patches, "block-2")
    feed_forward = _extent(_one(ax.patches, "box-block0-feed-forward"))
    e = _extent(_one(ax.patches, "site-box-e"))
    assert feed_forward[2] < (e[2] + e[3]) / 2 < feed_forward[3]  # the second drop path: the feed-forward branch
    assert _inside(_one(ax.patches, "site-box-f"), _one(ax.patches, "box-block1-attention"))


def test_depth_adds_blocks_without_sites_and_other_sites_are_listed():
    sites = [*dropout_sites(TransformerBlock(8, 2, 16)), ("head_dropout", "other", 0.5)]
    fig = pp.plot_dropout_sites(sites, depth=3)
    assert tuple(fig.get_size_inches()) == pp.dropout_sites_figsize(3, 1)
    ax = fig.axes[0]
    for block in range(3):
        _one(ax.patches, f"block-{block}")
    site_boxes = [patch for patch in ax.patches if str(patch.get_gid()).startswith("site-box-")]
    assert len(site_boxes) == 6
    assert _one(ax.texts, "site-head_dropout").get_text() == "head_dropout\np = 0.5"
    assert _extent(_one(ax.patches, "site-box-head_dropout"))[3] < _extent(_one(ax.patches, "box-head"))[2]


def test_no_sites_draws_the_bare_schematic():
    ax = pp.plot_dropout_sites([], ax=_ax()).axes[0]
    _one(ax.patches, "block-0")
    assert not [patch for patch in ax.patches if str(patch.get_gid()).startswith("site-")]


def test_dropout_sites_figsize_grows_with_depth():
    assert pp.dropout_sites_figsize(2) == (7.2, 4.96)
    assert pp.dropout_sites_figsize(3)[1] > pp.dropout_sites_figsize(2)[1]
    assert pp.dropout_sites_figsize(2, 4)[1] > pp.dropout_sites_figsize(2, 3)[1] > pp.dropout_sites_figsize(2)[1]
    with pytest.raises(ValueError, match="depth must be an int >= 1, got 0"):
        pp.dropout_sites_figsize(0)


@pytest.mark.parametrize(
    ("sites", "error", "message"),
    [
        ("embedding_dropout", TypeError, "sites must be a sequence of \\(module name, kind, rate\\) tuples"),
        ({"a": 0.1}, TypeError, "sites must be a sequence"),
        ([("a", "drop path")], TypeError, "sites\\[0\\] must be a \\(module name, kind, rate\\) tuple"),
        ([("a", "drop path", 0.1), "b"], TypeError, "sites\\[1\\] must be a \\(module name, kind, rate\\) tuple"),
        ([(3, "drop path", 0.1)], TypeError, "sites\\[0\\] module name must be a str, got int 3"),
        ([("a", "dropconnect", 0.1)], ValueError, "sites\\[0\\] kind must be one of .*got 'dropconnect'"),
        ([("a", "drop path", 1.0)], ValueError, "sites\\[0\\] rate must be in \\[0, 1\\), got 1.0"),
        ([("a", "drop path", "0.1")], TypeError, "sites\\[0\\] rate must be a real number, got str"),
        ([("a", "drop path", 0.1), ("a", "drop path", 0.1)], ValueError, "each module once, got 'a' twice"),
        ([("a", "embeddings + positions", 0.1), ("b", "embeddings + positions", 0.1)], ValueError,
         "at most one 'embeddings \\+ positions' site, got 'a' and 'b'"),
    ],
)
def test_dropout_sites_names_the_argument_it_rejects(sites, error, message):
    with pytest.raises(error, match=message):
        pp.plot_dropout_sites(sites, ax=_ax())


def test_dropout_sites_rejects_a_depth_below_the_blocks_of_the_sites():
    with pytest.raises(ValueError, match="depth must be at least the number of blocks the sites fill \\(2\\), got 1"):
        pp.plot_dropout_sites(_classifier_sites(), depth=1, ax=_ax())
    with pytest.raises(TypeError, match="depth must be an int, got float 2.0"):
        pp.plot_dropout_sites(_classifier_sites(), depth=2.0, ax=_ax())
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None"):
        pp.plot_dropout_sites(_classifier_sites(), ax="left")


# --- batch noise ---------------------------------------------------------------------------------------


def test_batch_noise_draws_the_measurements_the_reference_and_the_fitted_slope():
    sizes = np.array([64, 1, 4, 16, 2, 8, 32])  # unsorted: drawn in increasing order
    rng = np.random.default_rng(0)
    variances = 3.0 / sizes * np.exp(rng.normal(0.0, 0.1, sizes.size))
    fig = pp.plot_batch_noise(sizes, torch.tensor(variances), reference=3.0, title="noise")
    assert tuple(fig.get_size_inches()) == pp.BATCH_NOISE_FIGSIZE
    ax = fig.axes[0]
    order = np.argsort(sizes)
    measured = _one(ax.lines, "measured")
    np.testing.assert_array_equal(measured.get_xdata(), sizes[order])
    np.testing.assert_allclose(measured.get_ydata(), variances[order])
    reference = _one(ax.lines, "reference")
    assert reference.get_linestyle() == "--"
    np.testing.assert_allclose(reference.get_ydata(), 3.0 / sizes[order])
    slope = np.polyfit(np.log(sizes), np.log(variances), 1)[0]
    assert abs(slope + 1.0) < 0.1 and f"{slope:.2f}" != "-1.00"  # the legend shows the fit, not the theory
    assert _legend_texts(ax) == [f"measured (fitted log-log slope {slope:.2f})",
                                 r"$\sigma^2/B$, $\sigma^2$ = 3 (slope -1)"]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["1", "2", "4", "8", "16", "32", "64"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("batch size $B$", "variance of the batch mean",
                                                                 "noise")


def test_batch_noise_slope_follows_the_data_and_the_reference_is_optional():
    ax = pp.plot_batch_noise([2, 8, 32], [1.0, 0.5, 0.25], label="BN output", ylabel="variance of BN's output",
                             ax=_ax()).axes[0]
    assert _legend_texts(ax) == ["BN output (fitted log-log slope -0.50)"]
    assert not _by_gid(ax.lines, "reference")
    assert ax.get_ylabel() == "variance of BN's output"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_sizes": [0, 2, 4]}, ValueError, "batch_sizes must hold numbers > 0, got 0.0 at index 0"),
        ({"batch_sizes": [[1, 2, 4]]}, ValueError, "batch_sizes must be a non-empty 1-D array, got shape \\(1, 3\\)"),
        ({"batch_sizes": [4, 4, 4]}, ValueError, "batch_sizes must hold at least two different sizes"),
        ({"variances": [1.0, 0.5]}, ValueError, "variances must have shape \\(3,\\) .*got \\(2,\\)"),
        ({"variances": [1.0, -0.5, 0.25]}, ValueError, "variances must hold numbers > 0, got -0.5 at index 1"),
        ({"variances": [1.0, math.nan, 0.25]}, ValueError, "variances must hold finite numbers"),
        ({"reference": -1.0}, ValueError, "reference must be a finite number > 0, got -1.0"),
        ({"reference": "1"}, TypeError, "reference must be a real number, got str"),
        ({"label": 3}, TypeError, "label must be a str, got int 3"),
    ],
)
def test_batch_noise_names_the_argument_it_rejects(kwargs, error, message):
    arguments = {"batch_sizes": [1, 2, 4], "variances": [1.0, 0.5, 0.25], **kwargs}
    sizes, variances = arguments.pop("batch_sizes"), arguments.pop("variances")
    with pytest.raises(error, match=message):
        pp.plot_batch_noise(sizes, variances, ax=_ax(), **arguments)


# --- double descent ---------------------------------------------------------------------------------------


def _curve() -> DoubleDescentCurve:
    widths = np.array([400, 10, 50, 100, 200])  # unsorted: each line is drawn over increasing widths
    alphas = np.array([0.0, 1e-3, 0.1])
    peak = 1.0 / (np.abs(widths - 100) / 100 + 0.05)
    test_mse = np.stack([0.5 + scale * peak for scale in (1.0, 0.2, 0.02)])
    accuracy = np.clip(0.7 - 0.03 * test_mse, 0.0, 1.0)
    train_mse = np.where(widths >= 100, 0.0, 0.3) * np.ones((3, 1))
    return DoubleDescentCurve(widths, alphas, train_mse, test_mse, accuracy, 100)


def test_double_descent_draws_one_line_per_alpha_and_the_interpolation_threshold():
    curve = _curve()
    fig = pp.plot_double_descent(curve)
    assert tuple(fig.get_size_inches()) == pp.DOUBLE_DESCENT_FIGSIZE
    ax = fig.axes[0]
    order = np.argsort(curve.widths)
    lines = [line for line in ax.lines if str(line.get_gid()).startswith("alpha-")]
    assert len(lines) == len(curve.alphas) == 3
    for i in range(3):
        line = _one(ax.lines, f"alpha-{i}")
        np.testing.assert_array_equal(line.get_xdata(), curve.widths[order])
        np.testing.assert_array_equal(line.get_ydata(), curve.test_mse[i, order])
    threshold = _one(ax.lines, "interpolation-threshold")
    assert list(threshold.get_xdata()) == [100, 100] and threshold.get_linestyle() == "--"
    assert to_rgba(threshold.get_color()) == to_rgba(BEST_EPOCH_COLOR)
    assert _legend_texts(ax) == ["α = 0 (minimum norm)", "α = 0.001", "α = 0.1", "interpolation threshold (N = 100)"]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlim()[0] < 10 and ax.get_xlim()[1] > 400
    assert ax.get_xlabel() == "random features $N$" and ax.get_ylabel().startswith("test MSE")
    assert ax.get_title().startswith("Double descent")


def test_double_descent_test_error_is_one_minus_accuracy_on_a_linear_axis():
    curve = _curve()
    ax = pp.plot_double_descent(curve, metric="test_error", ax=_ax()).axes[0]
    order = np.argsort(curve.widths)
    np.testing.assert_allclose(_one(ax.lines, "alpha-1").get_ydata(), 1.0 - curve.test_accuracy[1, order])
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "test error (1 - accuracy)"


def test_double_descent_names_the_argument_it_rejects():
    with pytest.raises(TypeError, match="curve must be a course_lib.double_descent.DoubleDescentCurve"):
        pp.plot_double_descent(tuple(_curve()), ax=_ax())
    with pytest.raises(ValueError, match="metric must be one of \\('test_mse', 'test_error'\\), got 'train_mse'"):
        pp.plot_double_descent(_curve(), metric="train_mse", ax=_ax())
    zero = _curve()._replace(test_mse=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="curve.test_mse must be > 0 for the log y axis, got 0.0"):
        pp.plot_double_descent(zero, ax=_ax())


# --- learning rates and the generalization gap ----------------------------------------------------------


def _history(train_accuracy=(0.3, 0.6, 0.8, 0.95), val_accuracy=(0.3, 0.5, 0.6, 0.55)) -> History:
    return History(train_loss=[2.0, 1.0, 0.5, 0.3], val_loss=[2.1, 1.2, 0.9, 1.0],
                   train_batch_loss=[2.2, 1.1, 0.6, 0.4],
                   train_accuracy=list(train_accuracy), val_accuracy=list(val_accuracy), lr=[0.1] * 4, best_epoch=2)


def _diverged() -> History:
    nan = float("nan")
    return History(train_loss=[2.0, 5.0, nan], val_loss=[2.1, 6.0, nan], train_batch_loss=[2.0, 5.0, nan],
                   train_accuracy=[0.3, 0.1, 0.1], val_accuracy=[0.3, 0.12, 0.1], lr=[1.0] * 3, best_epoch=0,
                   stopped_epoch=2, diverged=True)


def test_learning_rate_comparison_draws_training_loss_and_validation_accuracy_per_run():
    runs = {"lr = 0.1": _history(), "lr = 1": _diverged()}
    fig = pp.plot_learning_rate_comparison(runs, suptitle="two rates")
    assert tuple(fig.get_size_inches()) == pp.LEARNING_RATE_FIGSIZE
    assert fig.get_suptitle() == "two rates"
    left, right = fig.axes
    np.testing.assert_array_equal(_one(left.lines, "train-lr = 0.1").get_ydata(), [2.0, 1.0, 0.5, 0.3])
    np.testing.assert_array_equal(_one(right.lines, "val-lr = 0.1").get_ydata(), [0.3, 0.5, 0.6, 0.55])
    np.testing.assert_array_equal(_one(left.lines, "train-lr = 1").get_ydata(), [2.0, 5.0])  # NaN not drawn
    best = _one(right.lines, "best-lr = 0.1")
    assert (list(best.get_xdata()), list(best.get_ydata())) == ([2], [0.6])
    crosses = _by_gid(left.lines, "diverged-lr = 1") + _by_gid(right.lines, "diverged-lr = 1")
    assert [(list(c.get_xdata()), list(c.get_ydata())) for c in crosses] == [([1], [5.0]), ([2], [0.1])]
    assert not _by_gid(left.lines, "diverged-lr = 0.1")
    assert _legend_texts(left) == ["lr = 0.1", "lr = 1 (diverged at epoch 2)"]
    assert (left.get_ylabel(), right.get_ylabel()) == ("training loss (eval mode)", "validation accuracy")
    assert left.get_xlabel() == right.get_xlabel() == "epoch"


def test_learning_rate_comparison_can_show_validation_loss_on_log_axes():
    fig = pp.plot_learning_rate_comparison({"lr = 0.1": _history()}, validation="loss", log_loss=True,
                                           fig=Figure(layout="constrained"))
    left, right = fig.axes
    np.testing.assert_array_equal(_one(right.lines, "val-lr = 0.1").get_ydata(), [2.1, 1.2, 0.9, 1.0])
    assert left.get_yscale() == right.get_yscale() == "log"
    assert right.get_ylabel() == "validation loss"


def test_learning_rate_comparison_names_the_argument_it_rejects():
    regression = History(train_loss=[1.0], val_loss=[1.0], train_batch_loss=[1.0], lr=[0.1])
    cases = [
        (([_history()],), {}, TypeError, "histories must be a mapping of labels to data"),
        (({},), {}, ValueError, "histories must map at least one label"),
        (({"lr": "run"},), {}, TypeError, "histories\\['lr'\\] must be a course_lib.train.History"),
        (({"lr": History()},), {}, ValueError, "histories\\['lr'\\] must hold at least one epoch"),
        (({"lr": regression},), {}, ValueError, "histories\\['lr'\\] has no val_accuracy"),
        (({"lr": _history()},), {"validation": "f1"}, ValueError, "validation must be 'accuracy' or 'loss', got 'f1'"),
        (({"lr": _history()},), {"log_loss": 1}, TypeError, "log_loss must be a bool, got int 1"),
        (({"lr": _history()},), {"fig": "figure"}, TypeError, "fig must be a matplotlib Figure or None"),
    ]
    for args, kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            pp.plot_learning_rate_comparison(*args, **kwargs)
    used = Figure()
    used.add_subplot()
    with pytest.raises(ValueError, match="fig must be an empty Figure to draw into, got one with 1 axes"):
        pp.plot_learning_rate_comparison({"lr": _history()}, fig=used)


def test_gap_monitor_shades_the_gap_between_the_curves_and_marks_the_best_epoch():
    history = _history()
    fig = pp.plot_gap_monitor(history)
    ax = fig.axes[0]
    train, val = np.array(history.train_accuracy), np.array(history.val_accuracy)
    gap = _one(ax.collections, "gap")
    vertices = np.concatenate([path.vertices for path in gap.get_paths()])
    assert vertices[:, 1].min() == pytest.approx(val.min()) and vertices[:, 1].max() == pytest.approx(train.max())
    for epoch in range(4):  # the shading spans from the validation to the training curve at each epoch
        at = vertices[np.isclose(vertices[:, 0], epoch), 1]
        assert at.min() == pytest.approx(val[epoch]) and at.max() == pytest.approx(train[epoch])
    best_line = _one(ax.lines, "best-epoch")  # drawn by plot_history, which this builds on
    assert list(best_line.get_xdata()) == [2, 2]
    assert _one(ax.texts, "gap-at-best").get_text() == "gap 0.200"
    assert "gap: training - validation accuracy" in _legend_texts(ax)
    assert "best epoch (2)" in _legend_texts(ax)
    assert ax.get_title() == "Generalization gap: training vs validation accuracy"
    assert ax.get_ylabel() == "accuracy"


def test_gap_monitor_on_the_loss_shades_validation_above_training_and_skips_a_diverged_epoch():
    ax = pp.plot_gap_monitor(_diverged(), metric="loss", title="loss gap", ax=_ax()).axes[0]
    vertices = np.concatenate([path.vertices for path in _one(ax.collections, "gap").get_paths()])
    assert np.all(np.isfinite(vertices)) and vertices[:, 0].max() == pytest.approx(1.0)  # epoch 2 (NaN) unshaded
    assert _one(ax.texts, "gap-at-best").get_text() == "gap 0.100"
    assert "gap: validation - training loss" in _legend_texts(ax)
    assert _one(ax.lines, "stopped-epoch") is not None
    assert ax.get_title() == "loss gap"


def test_gap_monitor_names_the_argument_it_rejects():
    regression = History(train_loss=[1.0], val_loss=[1.0], train_batch_loss=[1.0], lr=[0.1])
    with pytest.raises(TypeError, match="history must be a course_lib.train.History"):
        pp.plot_gap_monitor({"train": [1.0]}, ax=_ax())
    with pytest.raises(ValueError, match="history must hold at least one epoch"):
        pp.plot_gap_monitor(History(), ax=_ax())
    with pytest.raises(ValueError, match="metric must be 'accuracy' or 'loss', got 'error'"):
        pp.plot_gap_monitor(_history(), metric="error", ax=_ax())
    with pytest.raises(ValueError, match="history has no accuracies"):
        pp.plot_gap_monitor(regression, ax=_ax())
    with pytest.raises(TypeError, match="title must be a str, got int 3"):
        pp.plot_gap_monitor(_history(), title=3, ax=_ax())

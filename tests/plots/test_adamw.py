"""Tests for course_lib.adamw_plots.adamw (optimizer paths, effective decay, λ × η grids)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from course_lib.plots import adamw as adamw_plots


def _by_gid(ax, gid: str) -> list:
    artists = [*ax.get_lines(), *ax.patches, *ax.collections, *ax.images, *ax.texts]
    return [artist for artist in artists if artist.get_gid() == gid]


def _one_point(ax, gid: str) -> np.ndarray:
    (line,) = _by_gid(ax, gid)
    assert len(line.get_xdata()) == 1
    return np.array([line.get_xdata()[0], line.get_ydata()[0]])


def _quadratic(W1, W2):
    return 5.0 * (W1 - 2.0) ** 2 + 0.05 * (W2 - 2.0) ** 2


EXTENT = (-0.5, 2.5, -0.5, 2.5)
PATHS = {
    "Adam + L2": np.column_stack([np.linspace(0.0, 1.9, 11), np.linspace(0.0, 0.5, 11)]),
    "AdamW": np.column_stack([np.linspace(0.1, 1.6, 21), np.linspace(0.1, 1.6, 21)]),
}


# --- optimizer paths -------------------------------------------------------------------------


def test_optimizer_paths_draws_each_path_with_its_start_and_final_point():
    fig = adamw_plots.plot_optimizer_paths(_quadratic, EXTENT, PATHS, optimum=(2.0, 2.0), title="two paths")
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == adamw_plots.OPTIMIZER_PATHS_FIGSIZE
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("w₁", "w₂", "two paths")
    assert ax.get_aspect() == 1.0
    assert ax.get_xlim() == (-0.5, 2.5) and ax.get_ylim() == (-0.5, 2.5)
    for label, path in PATHS.items():
        (line,) = _by_gid(ax, f"path-{label}")
        np.testing.assert_array_equal(np.column_stack([line.get_xdata(), line.get_ydata()]), path)
        np.testing.assert_array_equal(_one_point(ax, f"start-{label}"), path[0])
        np.testing.assert_array_equal(_one_point(ax, f"final-{label}"), path[-1])
    np.testing.assert_array_equal(_one_point(ax, "origin"), [0.0, 0.0])
    np.testing.assert_array_equal(_one_point(ax, "optimum"), [2.0, 2.0])
    (contours,) = _by_gid(ax, "loss-contours")
    assert len(contours.levels) == 12 and np.all(np.diff(contours.levels) > 0)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "Adam + L2: final (1.900, 0.500)" in legend and "AdamW: final (1.600, 1.600)" in legend
    assert "start" in legend and any(text.startswith("unregularized optimum") for text in legend)


def test_optimizer_paths_levels_follow_the_loss_and_default_title():
    fig = adamw_plots.plot_optimizer_paths(_quadratic, EXTENT, {"only": PATHS["AdamW"]}, levels=5, grid_points=51)
    ax = fig.axes[0]
    assert ax.get_title() == "Optimizer paths on the loss surface"
    (contours,) = _by_gid(ax, "loss-contours")
    grid = np.linspace(-0.5, 2.5, 51)
    values = _quadratic(*np.meshgrid(grid, grid))
    expected = values.min() + (values.max() - values.min()) * (np.arange(1, 6) / 6) ** 2
    np.testing.assert_allclose(contours.levels, expected)
    assert _by_gid(ax, "optimum") == []  # no optimum given, none drawn


def test_optimizer_paths_draws_into_a_given_axes():
    fig = Figure(figsize=adamw_plots.OPTIMIZER_PATHS_FIGSIZE)
    ax = fig.add_subplot()
    assert adamw_plots.plot_optimizer_paths(_quadratic, EXTENT, PATHS, ax=ax) is fig
    assert len(_by_gid(ax, "path-AdamW")) == 1


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("not callable", EXTENT, PATHS), {}, "loss_on_grid must be a callable"),
        ((_quadratic, (0, 1, 0), PATHS), {}, "extent must be"),
        ((_quadratic, (1, 0, 0, 1), PATHS), {}, r"extent must be \(w1_min, w1_max, w2_min, w2_max\) with min < max"),
        ((_quadratic, EXTENT, {}), {}, "paths must map at least one label"),
        ((_quadratic, EXTENT, [np.zeros((3, 2))]), {}, "paths must map at least one label"),
        ((_quadratic, EXTENT, {"a": np.zeros((3, 3))}), {}, r"paths\['a'\] must have shape \(steps \+ 1, 2\)"),
        ((_quadratic, EXTENT, {"a": np.zeros(4)}), {}, r"paths\['a'\] must be a non-empty 2-D array"),
        ((_quadratic, EXTENT, {"a": [[0.0, np.nan]]}), {}, r"paths\['a'\] must hold finite numbers"),
        ((_quadratic, EXTENT, {"": np.zeros((2, 2))}), {}, "paths labels must be non-empty strings"),
        ((lambda W1, W2: W1[:3], EXTENT, PATHS), {}, "loss_on_grid must return finite values of the grid's shape"),
        ((lambda W1, W2: np.where(W1 > 0, np.inf, W1), EXTENT, PATHS), {}, "loss_on_grid must return finite values"),
        ((lambda W1, W2: np.ones_like(W1), EXTENT, PATHS), {}, "loss_on_grid must vary over extent"),
        ((_quadratic, EXTENT, PATHS), {"optimum": (1.0, 2.0, 3.0)}, "optimum must be a point of the plane"),
        ((_quadratic, EXTENT, PATHS), {"levels": 0}, "levels must be an int >= 1"),
        ((_quadratic, EXTENT, PATHS), {"grid_points": 2.5}, "grid_points must be an int >= 2"),
    ],
)
def test_optimizer_paths_validates_its_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        adamw_plots.plot_optimizer_paths(*args, **kwargs)


# --- effective decay -------------------------------------------------------------------------

SCALES = np.logspace(-3, 1, 9)
RATES = {"Adam + L2": 1e-3 / (SCALES + 1e-8), "AdamW": np.full(9, 1e-3)}


def test_effective_decay_scatters_each_series_log_log_with_a_reference_line():
    fig = adamw_plots.plot_effective_decay(SCALES, RATES, reference=1e-3)
    assert tuple(fig.get_size_inches()) == adamw_plots.EFFECTIVE_DECAY_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_xlabel() == "gradient scale √v̂" and ax.get_ylabel() == "decay per step"
    assert ax.get_title() == "Weight decay per step against the gradient scale"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    for label, rates in RATES.items():
        (points,) = _by_gid(ax, f"decay-{label}")
        np.testing.assert_array_equal(points.get_offsets(), np.column_stack([SCALES, rates]))
    (reference,) = _by_gid(ax, "reference")
    np.testing.assert_array_equal(reference.get_ydata(), [1e-3, 1e-3])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Adam + L2", "AdamW", "ηλ = 0.001"]


def test_effective_decay_accepts_one_gradient_scale_array_per_series():
    scales = {"Adam + L2": SCALES, "AdamW": SCALES[::-1] * 2}
    ax = adamw_plots.plot_effective_decay(scales, RATES, title="own scales").axes[0]
    assert ax.get_title() == "own scales"
    (points,) = _by_gid(ax, "decay-AdamW")
    np.testing.assert_array_equal(points.get_offsets()[:, 0], SCALES[::-1] * 2)
    assert _by_gid(ax, "reference") == []


@pytest.mark.parametrize(
    ("scales", "rates", "kwargs", "message"),
    [
        (SCALES, {}, {}, "rates must map at least one label"),
        (np.zeros(9), RATES, {}, r"gradient_scales must hold values > 0 \(a log axis\)"),
        (SCALES, {"AdamW": np.full(8, 1e-3)}, {}, r"rates\['AdamW'\] must have one value per gradient scale \(9\)"),
        (SCALES, {"AdamW": -np.ones(9)}, {}, r"rates\['AdamW'\] must hold values > 0"),
        (SCALES, {"AdamW": [np.nan] * 9}, {}, r"rates\['AdamW'\] must hold finite numbers"),
        ({"AdamW": SCALES}, RATES, {}, "gradient_scales must have the labels of rates"),
        ({"Adam + L2": SCALES, "AdamW": -SCALES}, RATES, {}, r"gradient_scales\['AdamW'\] must hold values > 0"),
        (SCALES, RATES, {"reference": 0.0}, "reference must be a finite number > 0"),
        (SCALES, RATES, {"reference": "1e-3"}, "reference must be a number > 0 or None"),
    ],
)
def test_effective_decay_validates_its_arguments(scales, rates, kwargs, message):
    with pytest.raises(ValueError, match=message):
        adamw_plots.plot_effective_decay(scales, rates, **kwargs)


# --- learning rate × weight decay grids ------------------------------------------------------

LEARNING_RATES = [1e-4, 1e-3, 1e-2]
STRENGTHS = [0.0, 1e-3, 0.01, 0.1]
ADAM_L2 = np.array(
    [
        [0.90, 0.80, 0.70, 0.95],  # η = 1e-4: best λ = 0.01
        [0.60, 0.50, 0.65, 0.85],  # η = 1e-3: best λ = 0.001 (overall best 0.50)
        [np.nan, np.nan, np.nan, np.nan],  # η = 1e-2: every run diverged
    ]
)
ADAMW = np.array(
    [
        [0.88, 0.85, 0.75, 0.80],
        [0.70, 0.66, 0.55, 0.60],
        [0.72, np.inf, 0.52, 0.58],  # inf: a diverged run, shown like NaN
    ]
)
LOSSES = {"Adam + L2": ADAM_L2, "AdamW": ADAMW}


def _panels(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_gid() != "colorbar"]


def test_hyperparameter_grids_draw_one_labelled_panel_per_optimizer_with_a_shared_scale():
    fig = adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, STRENGTHS, LOSSES)
    width, height = adamw_plots.HYPERPARAMETER_GRID_PANEL_FIGSIZE
    assert tuple(fig.get_size_inches()) == pytest.approx(
        (2 * width + adamw_plots.HYPERPARAMETER_COLORBAR_WIDTH, height)
    )
    assert fig.get_suptitle() == "Validation loss over learning rate η and weight decay λ"
    panels = _panels(fig)
    assert len(panels) == 2 and len(fig.axes) == 3
    (colorbar,) = [ax for ax in fig.axes if ax.get_gid() == "colorbar"]
    assert colorbar.get_ylabel() == "validation loss"
    images = []
    for ax, label in zip(panels, LOSSES):
        assert ax.get_xlabel() == "weight decay λ" and ax.get_ylabel() == "learning rate η"
        assert ax.get_title().startswith(label + "\nbest ")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.001", "0.01", "0.1"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["0.0001", "0.001", "0.01"]
        (image,) = _by_gid(ax, f"grid-{label}")
        images.append(image)
    # one colour scale over all finite values, the diverged cells masked (drawn in the "bad" grey)
    for image in images:
        assert (image.norm.vmin, image.norm.vmax) == (0.50, 0.95)
    data = images[1].get_array()
    assert data.mask[2, 1] and not data.mask[2, 0] and data[2, 2] == 0.52
    assert images[0].get_array().mask[2].all()
    assert images[0].get_cmap().get_bad()[:3] == pytest.approx((0.82, 0.82, 0.82))


def test_hyperparameter_grids_mark_the_best_strength_of_each_learning_rate_and_the_best_cell():
    fig = adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, STRENGTHS, LOSSES)
    adam, adamw = _panels(fig)
    (best,) = _by_gid(adam, "best-Adam + L2")
    np.testing.assert_array_equal(best.get_xdata(), [2, 1])  # the diverged row has no best λ
    np.testing.assert_array_equal(best.get_ydata(), [0, 1])
    (best,) = _by_gid(adamw, "best-AdamW")
    np.testing.assert_array_equal(best.get_xdata(), [2, 2, 2])  # AdamW: the same λ for every η
    np.testing.assert_array_equal(best.get_ydata(), [0, 1, 2])
    (cell,) = _by_gid(adam, "overall-best-Adam + L2")
    assert cell.get_xy() == (0.5, 0.5) and (cell.get_width(), cell.get_height()) == (1.0, 1.0)
    (cell,) = _by_gid(adamw, "overall-best-AdamW")
    assert cell.get_xy() == (1.5, 1.5)
    assert adam.get_title() == "Adam + L2\nbest 0.500 at η = 0.001, λ = 0.001"
    assert adamw.get_title() == "AdamW\nbest 0.520 at η = 0.01, λ = 0.01"


def test_hyperparameter_grids_options_annotate_log_colour_and_no_row_markers():
    fig = adamw_plots.plot_hyperparameter_grids(
        LEARNING_RATES, STRENGTHS, LOSSES, best_per_row=False, log_color=True, annotate=True, value_format=".2f",
        title="grid", colorbar_label="loss",
    )
    assert fig.get_suptitle() == "grid"
    adam, adamw = _panels(fig)
    assert _by_gid(adam, "best-Adam + L2") == [] and len(_by_gid(adam, "overall-best-Adam + L2")) == 1
    assert isinstance(_by_gid(adam, "grid-Adam + L2")[0].norm, LogNorm)
    texts = _by_gid(adamw, "value-AdamW")
    assert len(texts) == 11  # 12 cells, one diverged
    assert {t.get_text() for t in texts} >= {"0.88", "0.52", "0.58"}
    assert len(_by_gid(adam, "value-Adam + L2")) == 8
    assert adam.get_title() == "Adam + L2\nbest 0.50 at η = 0.001, λ = 0.001"


def _colorbar_labels(fig: Figure) -> tuple[list[str], list[str]]:
    (colorbar,) = [ax for ax in fig.axes if ax.get_gid() == "colorbar"]
    fig.canvas.draw()
    return ([t.get_text() for t in colorbar.yaxis.get_ticklabels() if t.get_text()],
            [t.get_text() for t in colorbar.yaxis.get_ticklabels(minor=True) if t.get_text()])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([[0.124, 0.3], [0.9, 1.844]], ["0.2", "0.5", "1"]),  # losses spanning a decade: plain 1-2-5 numbers
        ([[0.002, 0.01], [0.1, 0.453]], ["0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2"]),
    ],
)
def test_hyperparameter_grids_log_colour_bar_is_labelled_with_plain_numbers(values, expected):
    fig = adamw_plots.plot_hyperparameter_grids([1e-3, 1e-2], [0.1, 1.0], {"a": np.array(values)}, log_color=True)
    major, minor = _colorbar_labels(fig)
    assert major == expected and minor == []  # no 2×10⁻¹ next to them


def test_hyperparameter_grids_log_colour_bar_keeps_matplotlibs_labels_when_too_few_plain_numbers_fit():
    fig = adamw_plots.plot_hyperparameter_grids([1e-3, 1e-2], [0.1, 1.0], {"a": np.array([[0.55, 0.6], [0.7, 0.9]])},
                                                log_color=True)
    major, minor = _colorbar_labels(fig)
    assert major + minor  # labelled by matplotlib's log formatter
    losses = {"a": np.array([[0.124, 0.3], [0.9, 1.8]])}
    linear = adamw_plots.plot_hyperparameter_grids([1e-3, 1e-2], [0.1, 1.0], losses)
    assert "0.2" not in _colorbar_labels(linear)[0]  # a linear colour bar keeps its own ticks (0.25, 0.50, …)


def test_hyperparameter_grids_without_a_best_cell_and_with_another_axis_label():
    fig = adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, STRENGTHS, LOSSES, best_per_row=False, mark_best=False,
                                                xlabel="per-step decay")
    for ax, label in zip(_panels(fig), LOSSES):
        assert ax.get_title() == label and ax.get_xlabel() == "per-step decay"
        assert _by_gid(ax, f"overall-best-{label}") == [] and _by_gid(ax, f"best-{label}") == []


def test_hyperparameter_grids_show_a_fully_diverged_panel_without_markers():
    losses = {"diverged": np.full((3, 4), np.nan), "fine": ADAMW}
    diverged, _ = _panels(adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, STRENGTHS, losses))
    assert diverged.get_title() == "diverged\nevery run diverged"
    plt.close("all")
    unmarked, _ = _panels(adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, STRENGTHS, losses, mark_best=False))
    assert unmarked.get_title() == "diverged\nevery run diverged"
    assert _by_gid(diverged, "best-diverged") == [] and _by_gid(diverged, "overall-best-diverged") == []


@pytest.mark.parametrize(
    ("learning_rates", "strengths", "losses", "kwargs", "message"),
    [
        (LEARNING_RATES, STRENGTHS, {"a": np.ones((4, 3))}, {},
         r"losses\['a'\] must have shape \(len\(learning_rates\), len\(strengths\)\) = \(3, 4\), got \(4, 3\)"),
        (LEARNING_RATES, STRENGTHS, {"a": np.ones(12)}, {}, r"losses\['a'\] must have shape"),
        (LEARNING_RATES, STRENGTHS, {"a": [["x"] * 4] * 3}, {}, r"losses\['a'\] must hold real numbers"),
        (LEARNING_RATES, STRENGTHS, {}, {}, "losses must map at least one label"),
        (LEARNING_RATES, STRENGTHS, {"a": np.full((3, 4), np.nan)}, {}, "losses must hold at least one finite value"),
        ([1e-3, 1e-4, 1e-2], STRENGTHS, LOSSES, {}, "learning_rates must be strictly increasing values > 0"),
        ([0.0, 1e-3, 1e-2], STRENGTHS, LOSSES, {}, "learning_rates must be strictly increasing values > 0"),
        (LEARNING_RATES, [-1.0, 0.0, 0.1, 1.0], LOSSES, {}, "strengths must be strictly increasing values >= 0"),
        (LEARNING_RATES, [0.0, np.nan, 0.1, 1.0], LOSSES, {}, "strengths must hold finite numbers"),
        (LEARNING_RATES, STRENGTHS, {"a": np.zeros((3, 4))}, {"log_color": True}, r"losses\['a'\] must be > 0"),
        (LEARNING_RATES, STRENGTHS, LOSSES, {"value_format": "d"}, "value_format must be a float format spec"),
        (LEARNING_RATES, STRENGTHS, LOSSES, {"best_per_row": 1}, "best_per_row must be a bool"),
        (LEARNING_RATES, STRENGTHS, LOSSES, {"mark_best": "no"}, "mark_best must be a bool"),
        (LEARNING_RATES, STRENGTHS, LOSSES, {"xlabel": None}, "xlabel must be a str"),
    ],
)
def test_hyperparameter_grids_validate_their_arguments(learning_rates, strengths, losses, kwargs, message):
    with pytest.raises(ValueError, match=message):
        adamw_plots.plot_hyperparameter_grids(learning_rates, strengths, losses, **kwargs)


def test_best_strength_per_row_prefers_the_strongest_near_tie():
    grid = np.array([[0.300, 0.301, 0.302, 0.5], [0.4, 0.2, 0.3, np.nan], [np.inf, 0.9, 0.1, 0.1]])
    assert adamw_plots.best_strength_per_row(grid) == [0, 1, 3]
    assert adamw_plots.best_strength_per_row(grid, best_within=0.005) == [1, 1, 3]
    assert adamw_plots.best_strength_per_row(grid, best_within=0.01) == [2, 1, 3]
    with pytest.raises(ValueError, match="best_within"):
        adamw_plots.best_strength_per_row(grid, best_within=-0.1)
    with pytest.raises(ValueError, match="row 1 has no finite value"):
        adamw_plots.best_strength_per_row(np.array([[0.1, 0.2], [np.nan, np.inf]]))
    with pytest.raises(ValueError, match="2-D"):
        adamw_plots.best_strength_per_row(np.array([0.1, 0.2]))


def test_hyperparameter_grids_take_one_strength_axis_per_optimizer():
    strengths = {"Adam + L2": [0.0, 1e-4, 1e-3, 1e-2], "AdamW": [0.0, 0.01, 0.1, 1.0]}
    fig = adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, strengths, LOSSES, best_within=0.0)
    adam, adamw = _panels(fig)
    assert [t.get_text() for t in adam.get_xticklabels()] == ["0", "0.0001", "0.001", "0.01"]
    assert [t.get_text() for t in adamw.get_xticklabels()] == ["0", "0.01", "0.1", "1"]
    assert adamw.get_title() == "AdamW\nbest 0.520 at η = 0.01, λ = 0.1"
    plt.close(fig)
    with pytest.raises(ValueError, match="strengths must have the labels of losses"):
        adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, {"Adam + L2": strengths["Adam + L2"]}, LOSSES)
    with pytest.raises(ValueError, match="same number of λ values"):
        adamw_plots.plot_hyperparameter_grids(LEARNING_RATES, {**strengths, "AdamW": [0.0, 0.1, 1.0]}, LOSSES)

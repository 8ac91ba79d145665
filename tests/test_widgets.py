"""Tests for course_lib.widgets: the pure functions, and the demos driven like a user would."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import plots
from course_lib.dropout import running_mean_with_standard_error
from course_lib.widgets import (
    DEFAULT_SEED,
    DropoutNetworkDemo,
    RunningMeanDemo,
    TinyNetwork,
    draw_unit_uniforms,
    eval_mode_output,
    expected_active_connections,
    figure_to_png,
    keep_masks,
    network_statistics,
    running_mean_summary_html,
    statistics_html,
    tiny_network,
    training_mode_outputs,
)

SIZES = (3, 4, 4, 2)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- pure functions of the network demo ------------------------------------


def test_network_statistics_on_a_hand_made_mask():
    masks = (
        np.array([True, True, True]),
        np.array([True, False, False, True]),
        np.array([False, True, True, True]),
        np.array([True, True]),
    )
    stats = network_statistics(SIZES, masks, 0.5, training=True)
    assert stats.units == 13
    assert stats.droppable_units == 8  # the two hidden layers
    assert stats.dropped_units == 3
    assert stats.connections == 3 * 4 + 4 * 4 + 4 * 2
    assert stats.active_connections == 3 * 2 + 2 * 3 + 3 * 2
    assert stats.keep_probability == 0.5
    assert stats.survivor_scale == 2.0


def test_network_statistics_in_eval_mode():
    masks = keep_masks(SIZES, draw_unit_uniforms(SIZES, np.random.default_rng(0)), 0.7, training=False)
    stats = network_statistics(SIZES, masks, 0.7, training=False)
    assert stats.dropped_units == 0
    assert stats.active_connections == stats.connections
    assert stats.keep_probability == 1.0
    assert stats.survivor_scale == 1.0


def test_keep_masks_never_drop_the_output_layer_and_drop_inputs_only_on_request():
    uniforms = tuple(np.zeros(n) for n in SIZES)  # every unit below any p > 0
    masks = keep_masks(SIZES, uniforms, 0.5)
    assert masks[0].all() and masks[-1].all()
    assert not masks[1].any() and not masks[2].any()
    assert not keep_masks(SIZES, uniforms, 0.5, drop_inputs=True)[0].any()


def test_raising_p_only_drops_more_units_for_the_same_draw():
    uniforms = draw_unit_uniforms(SIZES, np.random.default_rng(3))
    previous = None
    for p in np.linspace(0.0, 0.9, 10):
        masks = keep_masks(SIZES, uniforms, p)
        if previous is not None:
            for now, before in zip(masks, previous):
                assert np.all(now <= before)
        previous = masks
    assert all(m.all() for m in keep_masks(SIZES, uniforms, 0.0))


def test_keep_masks_keep_units_at_rate_one_minus_p():
    rng = np.random.default_rng(4)
    kept = [keep_masks((1, 1000, 1), draw_unit_uniforms((1, 1000, 1), rng), 0.3)[1].mean() for _ in range(20)]
    assert np.mean(kept) == pytest.approx(0.7, abs=4 * np.sqrt(0.21 / 20_000))


def test_expected_active_connections_matches_formula_and_simulation():
    p = 0.4
    assert expected_active_connections(SIZES, p) == pytest.approx(3 * 4 * 0.6 + 4 * 4 * 0.36 + 4 * 2 * 0.6)
    assert expected_active_connections(SIZES, p, training=False) == 3 * 4 + 4 * 4 + 4 * 2
    rng = np.random.default_rng(5)
    counts = [
        network_statistics(SIZES, keep_masks(SIZES, draw_unit_uniforms(SIZES, rng), p), p, training=True)
        .active_connections
        for _ in range(4000)
    ]
    standard_error = np.std(counts, ddof=1) / np.sqrt(len(counts))
    assert abs(np.mean(counts) - expected_active_connections(SIZES, p)) < 4 * standard_error


def test_statistics_html_reports_the_numbers():
    stats = network_statistics(SIZES, tuple(np.ones(n, bool) for n in SIZES), 0.25, training=True)
    text = statistics_html(stats, expected_connections=20.5)
    pieces = ("training mode", "p = 0.25", "keep probability 0.75", "scaled by 1.33", "dropped units: 0 of 8",
              "36 of 36", "expected 20.5")
    for piece in pieces:
        assert piece in text


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: keep_masks((3,), (np.zeros(3),), 0.5), ValueError, "at least two"),
        (lambda: keep_masks(SIZES, (np.zeros(3),), 0.5), ValueError, "one array per layer"),
        (lambda: keep_masks(SIZES, tuple(np.zeros(n) for n in SIZES), 1.5), ValueError, "p must be in"),
        (lambda: keep_masks(SIZES, tuple(np.zeros(n) for n in SIZES), 0.5, training=1), TypeError, "training must"),
        (lambda: network_statistics(SIZES, (np.ones(3),) * 4, 0.5, training=True), ValueError, "boolean array"),
        (lambda: draw_unit_uniforms(SIZES, 0), TypeError, "rng"),
    ],
)
def test_pure_functions_validate_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the network demo, driven like a user ----------------------------------


def test_network_demo_is_constructible_and_deterministic_given_a_seed():
    a, b = DropoutNetworkDemo(seed=7), DropoutNetworkDemo(seed=7)
    assert repr(a.widget) == repr(b.widget)
    assert a.image.value == b.image.value and bytes(a.image.value).startswith(b"\x89PNG")
    assert [m.tolist() for m in a.masks] == [m.tolist() for m in b.masks]


def test_network_demo_default_draw_is_typical():
    demo = DropoutNetworkDemo()
    assert demo.seed == DEFAULT_SEED
    assert demo.statistics.dropped_units == demo.statistics.droppable_units // 2


def test_network_demo_slider_changes_the_statistics():
    demo = DropoutNetworkDemo(layer_sizes=(4, 30, 30, 2))
    low = demo.statistics
    image_low = demo.image.value
    demo.p_slider.value = 0.8
    high = demo.statistics
    assert high.dropped_units > low.dropped_units
    assert high.active_connections < low.active_connections
    assert high.keep_probability == pytest.approx(0.2)
    assert "p = 0.80" in demo.stats.value
    assert demo.image.value != image_low


def test_network_demo_eval_toggle_keeps_everything():
    demo = DropoutNetworkDemo(p=0.6)
    demo.mode_toggle.value = "eval"
    stats = demo.statistics
    assert stats.dropped_units == 0
    assert stats.active_connections == stats.connections
    assert stats.keep_probability == 1.0 and stats.survivor_scale == 1.0
    assert "evaluation mode" in demo.stats.value
    demo.mode_toggle.value = "train"
    assert demo.statistics.dropped_units > 0


def test_network_demo_resample_button_draws_a_new_reproducible_mask():
    demo = DropoutNetworkDemo(layer_sizes=(4, 12, 12, 2))
    first = [m.copy() for m in demo.masks]
    demo.resample_button.click()
    assert demo.draw == 1
    second = demo.masks
    assert any(not np.array_equal(x, y) for x, y in zip(first, second))
    replay = DropoutNetworkDemo(layer_sizes=(4, 12, 12, 2))
    replay.resample()
    assert all(np.array_equal(x, y) for x, y in zip(second, replay.masks))


def test_network_demo_static_figure_matches_the_defaults():
    demo = DropoutNetworkDemo()
    fig = demo.static_figure()
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == plots.NETWORK_FIGSIZE
    assert "p = 0.50" in fig.axes[0].get_title()
    crossed = sum(len(c.get_offsets()) for c in fig.axes[0].collections if c.get_gid() == "dropped-crosses")
    assert crossed == demo.statistics.dropped_units


def test_network_demo_validates_arguments():
    with pytest.raises(ValueError, match="0.9"):
        DropoutNetworkDemo(p=0.95)
    with pytest.raises(ValueError, match="seed"):
        DropoutNetworkDemo(seed=-1)


# --- pure functions of the running-mean demo -------------------------------


def test_training_mode_outputs_average_to_the_eval_output():
    network = tiny_network(0)
    outputs = training_mode_outputs(network, 0.5, 20_000, np.random.default_rng(1))
    assert outputs.shape == (20_000, 3)
    running_mean, standard_error = running_mean_with_standard_error(outputs)
    assert np.all(np.abs(running_mean[-1] - eval_mode_output(network)) < 4 * standard_error[-1])
    # the band narrows like 1/sqrt(N): 100x the passes, 1/10 the standard error
    np.testing.assert_allclose(standard_error[-1] / standard_error[199], 0.1, rtol=0.25)


def test_training_mode_outputs_without_dropout_equal_the_eval_output():
    network = tiny_network(0)
    outputs = training_mode_outputs(network, 0.0, 3, np.random.default_rng(0))
    np.testing.assert_allclose(outputs, np.tile(eval_mode_output(network), (3, 1)))


def test_tiny_network_is_reproducible_and_validated():
    a, b = tiny_network(3), tiny_network(3)
    assert isinstance(a, TinyNetwork)
    np.testing.assert_array_equal(a.W1, b.W1)
    assert a.hidden.shape == (16,)
    with pytest.raises(ValueError, match="hidden"):
        tiny_network(hidden=0)
    with pytest.raises(ValueError, match="n_passes"):
        training_mode_outputs(a, 0.5, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="TinyNetwork"):
        training_mode_outputs("net", 0.5, 1, np.random.default_rng(0))


def test_running_mean_summary_reports_gap_in_standard_errors():
    running_mean = np.array([[0.0, 0.0], [1.0, 2.0]])
    standard_error = np.array([[np.nan, np.nan], [0.5, 0.25]])
    text = running_mean_summary_html(running_mean, standard_error, np.array([0.0, 2.5]))
    assert "mean of 2 passes +1.000" in text and "gap 2.0 SE" in text
    assert "gap 2.0 SE" in text.split("<br>")[1]
    one_pass = running_mean_summary_html(running_mean[:1], standard_error[:1], np.zeros(2))
    assert "n/a" in one_pass


# --- the running-mean demo, driven like a user -----------------------------


def test_running_mean_demo_n_slider_extends_one_sample_path():
    demo = RunningMeanDemo(n_passes=100)
    short, _, eval_output = demo.data()
    demo.n_slider.value = 2000
    long, standard_error, _ = demo.data()
    assert long.shape == (2000, 3)
    np.testing.assert_array_equal(long[:100], short)  # same passes, just more of them
    assert np.all(np.abs(long[-1] - eval_output) < 4 * standard_error[-1])
    assert "mean of 2000 passes" in demo.summary.value


def test_running_mean_demo_p_slider_changes_the_spread_but_not_the_target():
    demo = RunningMeanDemo(p=0.1, n_passes=2000)
    _, se_low, eval_low = demo.data()
    image_low = demo.image.value
    demo.p_slider.value = 0.8
    _, se_high, eval_high = demo.data()
    np.testing.assert_array_equal(eval_low, eval_high)
    assert np.all(se_high[-1] > se_low[-1])
    assert demo.image.value != image_low


def test_running_mean_demo_is_deterministic_and_has_a_static_figure():
    a, b = RunningMeanDemo(seed=4), RunningMeanDemo(seed=4)
    assert repr(a.widget) == repr(b.widget)
    np.testing.assert_array_equal(a.samples(), b.samples())
    fig = a.static_figure()
    assert tuple(fig.get_size_inches()) == plots.RUNNING_MEAN_FIGSIZE
    assert "N = 500" in fig.axes[0].get_title()
    solid = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "-"]
    np.testing.assert_allclose([line.get_ydata()[-1] for line in solid], a.data()[0][-1])


def test_running_mean_demo_validates_arguments():
    with pytest.raises(ValueError, match="n_passes"):
        RunningMeanDemo(n_passes=0)
    with pytest.raises(ValueError, match="max_passes"):
        RunningMeanDemo(max_passes=1)


def test_figure_to_png_is_reproducible():
    def draw() -> bytes:
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [1, 0])
        return figure_to_png(fig)

    assert draw() == draw()
    with pytest.raises(TypeError, match="Figure"):
        figure_to_png("figure")

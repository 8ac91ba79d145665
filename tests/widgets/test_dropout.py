"""Tests for course_lib.widgets.dropout: the readouts, and the demos driven like a user would."""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.dropout import network_statistics
from course_lib.plots import dropout as dropout_plots
from course_lib.widgets import STORED_TEXT, DemoBox
from course_lib.widgets.dropout import (
    DEFAULT_SEED,
    DropoutNetworkDemo,
    RunningMeanDemo,
    empty_layers,
    network_readout,
    running_mean_summary_html,
    statistics_html,
    statistics_text,
)


SIZES = (3, 4, 4, 2)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- the readouts -----------------------------------------------------------------------------


def test_statistics_html_reports_the_numbers():
    stats = network_statistics(SIZES, tuple(np.ones(n, bool) for n in SIZES), 0.25, training=True)
    text = statistics_html(stats, expected_connections=20.5)
    pieces = ("training mode", "p = 0.25", "keep probability 0.75", "scaled by 1.33", "dropped units: 0 of 8",
              "36 of 36", "expected 20.5")
    for piece in pieces:
        assert piece in text


def test_empty_layers_finds_the_layers_with_every_unit_dropped():
    sizes = (2, 3, 3, 1)
    masks = [np.ones(2, bool), np.zeros(3, bool), np.array([True, False, False]), np.ones(1, bool)]
    assert empty_layers(sizes, masks) == (1,)
    masks[0] = np.zeros(2, bool)
    assert empty_layers(sizes, masks) == (0, 1)
    assert empty_layers(sizes, [np.ones(n, bool) for n in sizes]) == ()
    with pytest.raises(ValueError, match="masks"):
        empty_layers(sizes, masks[:2])


def test_statistics_text_says_when_a_layer_is_emptied():
    masks = [np.ones(3, bool), np.zeros(4, bool), np.ones(4, bool), np.ones(2, bool)]
    stats = network_statistics(SIZES, masks, 0.5, training=True)
    plain = statistics_text(stats, 20.0)
    assert len(plain.splitlines()) == 2 and "bias" not in plain
    warned = statistics_text(stats, 20.0, SIZES, (1,))
    last = warned.splitlines()[-1]
    assert "every unit of hidden 1 dropped" in last and "only the output layer's bias" in last
    assert f"p^4 = {0.5 ** 4:.2g}" in last
    assert "color" in statistics_html(stats, 20.0, SIZES, (1,)).split("<br>")[-1]
    with pytest.raises(ValueError, match="layer_sizes"):
        statistics_text(stats, 20.0, None, (1,))


def test_an_emptied_layer_leaves_only_the_output_bias_with_output_and_gradient():
    """The claim of the readout, checked on a torch network with the demo's masks."""
    demo = DropoutNetworkDemo(p=0.75)
    assert empty_layers(demo.layer_sizes, demo.masks)
    torch.manual_seed(0)
    sizes = demo.layer_sizes
    linears = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    h = torch.randn(1, sizes[0]) * torch.from_numpy(demo.masks[0])
    for k, linear in enumerate(linears[:-1], start=1):
        h = torch.relu(linear(h)) * torch.from_numpy(demo.masks[k]) / 0.25
    out = linears[-1](h)
    torch.testing.assert_close(out[0], linears[-1].bias)
    out.sum().backward()
    for linear in linears:
        assert torch.count_nonzero(linear.weight.grad) == 0
    assert torch.count_nonzero(linears[-1].bias.grad) == sizes[-1]
    assert all(torch.count_nonzero(linear.bias.grad) == 0 for linear in linears[:-1])


def test_running_mean_summary_reports_gap_in_standard_errors():
    running_mean = np.array([[0.0, 0.0], [1.0, 2.0]])
    standard_error = np.array([[np.nan, np.nan], [0.5, 0.25]])
    text = running_mean_summary_html(running_mean, standard_error, np.array([0.0, 2.5]))
    assert "mean of 2 passes +1.000" in text and "gap 2.0 SE" in text
    assert "gap 2.0 SE" in text.split("<br>")[1]
    one_pass = running_mean_summary_html(running_mean[:1], standard_error[:1], np.zeros(2))
    assert "n/a" in one_pass


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
    assert tuple(fig.get_size_inches()) == dropout_plots.NETWORK_FIGSIZE
    assert "p = 0.50" in fig.axes[0].get_title()
    crossed = sum(len(c.get_offsets()) for c in fig.axes[0].collections if c.get_gid() == "dropped-crosses")
    assert crossed == demo.statistics.dropped_units


def test_network_demo_readout_warns_exactly_when_a_layer_is_emptied():
    demo = DropoutNetworkDemo()
    assert "bias" not in demo.readout_text() and "bias" not in demo.stats.value
    for p in np.arange(0.0, 0.91, 0.05).round(2):
        demo.p_slider.value = float(p)
        emptied = empty_layers(demo.layer_sizes, demo.masks)
        assert ("only the output layer's bias" in demo.readout_text()) == bool(emptied)
        assert ("only the output layer&#x27;s bias" in demo.stats.value) == bool(emptied)
    demo.p_slider.value = 0.75  # the default draw empties both hidden layers here (see DEFAULT_SEED)
    assert demo.statistics.dropped_units == demo.statistics.droppable_units
    assert "every unit of hidden 1 and hidden 2 dropped" in demo.readout_text()
    assert "output is only the bias" in demo.static_figure().axes[0].get_title()
    assert "bias" not in DropoutNetworkDemo().static_figure().axes[0].get_title()
    demo.mode_toggle.value = "eval"
    assert "bias" not in demo.readout_text()


def test_network_demo_readout_text_is_the_html_readout_as_plain_text():
    demo = DropoutNetworkDemo(p=0.7)
    as_text = html.unescape(re.sub(r"<[^>]+>", "", demo.stats.value.replace("<br>", "\n")))
    assert as_text == demo.readout_text()


def test_network_readout_is_the_demo_readout_without_the_demo():
    assert network_readout() == DropoutNetworkDemo().readout_text()
    assert network_readout(p=0.75) == DropoutNetworkDemo(p=0.75).readout_text()
    assert network_readout(training=False) == DropoutNetworkDemo(mode="eval").readout_text()
    demo = DropoutNetworkDemo(layer_sizes=(3, 5, 2), p=0.3, seed=4, drop_inputs=True)
    demo.resample()
    demo.resample()
    assert network_readout((3, 5, 2), 0.3, 4, 2, drop_inputs=True) == demo.readout_text()
    with pytest.raises(ValueError, match="draw"):
        network_readout(draw=-1)
    with pytest.raises(ValueError, match="p"):
        network_readout(p=1.5)


def test_network_demo_can_start_in_eval_mode():
    demo = DropoutNetworkDemo(mode="eval")
    assert not demo.training and demo.statistics.dropped_units == 0
    assert demo.readout_text().startswith("evaluation mode")


def test_network_demo_toggle_label_sits_beside_the_buttons():
    demo = DropoutNetworkDemo()
    (row,) = [c for c in demo.widget.children if isinstance(c, widgets.HBox) and demo.mode_toggle in c.children]
    label, toggle = row.children
    assert isinstance(label, widgets.Label) and label.value == "mode" and toggle is demo.mode_toggle
    assert demo.mode_toggle.description == ""  # no description to wrap onto its own line


def test_demo_widgets_store_a_readable_text_form():
    for demo in (DropoutNetworkDemo(), RunningMeanDemo(n_passes=10)):
        assert isinstance(demo.widget, DemoBox)
        bundle = demo.widget._repr_mimebundle_()
        assert bundle["text/plain"] == STORED_TEXT
        assert "application/vnd.jupyter.widget-view+json" in bundle  # a live front end still shows the demo
    assert "\n" not in STORED_TEXT and "static figure" in STORED_TEXT


def test_network_demo_validates_arguments():
    with pytest.raises(ValueError, match="0.9"):
        DropoutNetworkDemo(p=0.95)
    with pytest.raises(ValueError, match="seed"):
        DropoutNetworkDemo(seed=-1)
    with pytest.raises(ValueError, match="mode"):
        DropoutNetworkDemo(mode="test")


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
    assert tuple(fig.get_size_inches()) == dropout_plots.RUNNING_MEAN_FIGSIZE
    assert "N = 500" in fig.axes[0].get_title()
    solid = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "-"]
    np.testing.assert_allclose([line.get_ydata()[-1] for line in solid], a.data()[0][-1])


def test_running_mean_demo_validates_arguments():
    with pytest.raises(ValueError, match="n_passes"):
        RunningMeanDemo(n_passes=0)
    with pytest.raises(ValueError, match="max_passes"):
        RunningMeanDemo(max_passes=1)

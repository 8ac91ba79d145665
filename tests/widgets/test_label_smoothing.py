"""Tests for course_lib.widgets.label_smoothing: the other convention, the readout, and the demo driven like a user would."""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.losses import optimal_logit_gap, smooth_targets
from course_lib.plots import label_smoothing as ls_plots
from course_lib.widgets import STORED_TEXT, DemoBox
from course_lib.widgets.label_smoothing import SmoothingDemo, others_convention_targets, smoothing_readout_text


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _bar_heights(ax, label: str) -> np.ndarray:
    return np.array([bar.get_height() for bar in ax.patches if bar.get_gid() == f"bars-{label}"])


# --- the other convention and the readout --------------------------------------------------------


@pytest.mark.parametrize(("num_classes", "smoothing", "target_class"), [(10, 0.1, 3), (2, 0.5, 0), (20, 0.37, 19)])
def test_others_convention_gives_one_minus_eps_to_the_target_and_shares_eps_among_the_rest(
        num_classes, smoothing, target_class):
    targets = others_convention_targets(num_classes, smoothing, target_class)
    assert targets.shape == (num_classes,) and targets.dtype == np.float64
    assert targets[target_class] == pytest.approx(1 - smoothing)
    np.testing.assert_allclose(np.delete(targets, target_class), smoothing / (num_classes - 1))
    assert targets.sum() == pytest.approx(1.0)
    # Its optimal logit gap is the "others" one of course_lib.losses, PyTorch's target's the "uniform" one.
    pytorch = smooth_targets(torch.tensor([target_class]), num_classes, smoothing, dtype=torch.float64)[0].numpy()
    other_class = (target_class + 1) % num_classes
    assert math.log(targets[target_class] / targets[other_class]) == pytest.approx(
        optimal_logit_gap(num_classes, smoothing, "others"), abs=1e-12)
    assert math.log(pytorch[target_class] / pytorch[other_class]) == pytest.approx(
        optimal_logit_gap(num_classes, smoothing, "uniform"), abs=1e-12)


def test_others_convention_without_smoothing_is_one_hot():
    np.testing.assert_array_equal(others_convention_targets(4, 0.0, 2), [0.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((1, 0.1, 0), ValueError, "num_classes must be an int >= 2"),
        ((4, 1.0, 0), ValueError, r"smoothing must be in \[0, 1\)"),
        ((4, 0.1, 4), ValueError, r"target_class must be in \[0, 4\), got 4"),
        ((4, "0.1", 0), TypeError, "smoothing must be a real number"),
        ((4.0, 0.1, 0), TypeError, "num_classes must be an int"),
    ],
)
def test_others_convention_validates_its_input(arguments, error, message):
    with pytest.raises(error, match=message):
        others_convention_targets(*arguments)


@pytest.mark.parametrize(("num_classes", "smoothing"), [(10, 0.1), (2, 0.5), (20, 0.03), (7, 0.25)])
def test_readout_states_both_optimal_gaps_of_course_lib_losses(num_classes, smoothing):
    text = smoothing_readout_text(num_classes, smoothing)
    uniform = optimal_logit_gap(num_classes, smoothing, "uniform")
    others = optimal_logit_gap(num_classes, smoothing, "others")
    assert text.startswith(f"K = {num_classes}, ε = {smoothing:g}: optimal logit gap {uniform:.3f} with ε spread "
                           "over all K classes (PyTorch")
    assert f", {others:.3f} with ε spread over the K − 1 others" in text
    assert f"q_y = {1 - smoothing + smoothing / num_classes:.3f}" in text and f"q_y = {1 - smoothing:.3f}" in text
    assert text.endswith("ε = 0: no finite optimum")


def test_readout_of_the_defaults_and_without_smoothing():
    assert smoothing_readout_text(10, 0.1) == (
        "K = 10, ε = 0.1: optimal logit gap 4.511 with ε spread over all K classes (PyTorch: q_y = 0.910, "
        "q_c = 0.0100), 4.394 with ε spread over the K − 1 others (q_y = 0.900, q_c = 0.0111); "
        "ε = 0: no finite optimum")
    text = smoothing_readout_text(5, 0.0)
    assert text.startswith("K = 5, ε = 0: one-hot targets") and "no finite optimal logit gap" in text
    assert "inf" not in text.replace("infinity", "")


# --- the demo at its defaults ------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_demo() -> SmoothingDemo:
    return SmoothingDemo()


def test_default_state_controls_and_layout(default_demo):
    demo = default_demo
    assert demo.setting == (10, 0.1) == demo.default_setting and demo.target_class == 3
    slider, classes = demo.smoothing_slider, demo.num_classes_slider
    assert isinstance(slider, widgets.FloatSlider) and isinstance(classes, widgets.IntSlider)
    assert (slider.min, slider.max, slider.step, slider.value) == (0.0, 0.5, 0.01, 0.1)
    assert (classes.min, classes.max, classes.step, classes.value) == (2, 20, 1, 10)
    assert isinstance(demo.widget, DemoBox) and demo.widget._repr_mimebundle_()["text/plain"] == STORED_TEXT
    assert demo.widget.children[0].children == (slider, classes)
    assert demo.widget.children[1:] == (demo.readout, demo.image)
    assert bytes(demo.image.value).startswith(b"\x89PNG")
    assert demo.readout.value == ("<b>K = 10, ε = 0.1</b>: " + smoothing_readout_text(10, 0.1).split(": ", 1)[1])


def test_the_targets_are_one_hot_pytorchs_and_the_other_convention(default_demo):
    targets = default_demo.targets()
    assert list(targets) == ["one-hot", "ε = 0.1 (PyTorch: ε/K to every class)", "ε = 0.1 (ε/(K − 1) to the others)"]
    one_hot, pytorch, others = targets.values()
    np.testing.assert_array_equal(one_hot, np.eye(10)[3])
    np.testing.assert_array_equal(pytorch, smooth_targets(torch.tensor([3]), 10, 0.1, dtype=torch.float64)[0].numpy())
    np.testing.assert_array_equal(others, others_convention_targets(10, 0.1, 3))


def test_static_figure_draws_the_default_state():
    demo = SmoothingDemo()
    demo.smoothing_slider.value = 0.3  # the static figure ignores the sliders: it is the book's default picture
    demo.num_classes_slider.value = 4
    fig = demo.static_figure()
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == ls_plots.SMOOTHED_TARGETS_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_title() == "Targets for class y = 3 of K = 10 classes, ε = 0.1"
    for label, values in demo.targets(demo.default_setting).items():
        np.testing.assert_allclose(_bar_heights(ax, label), values)
    assert [text.get_text() for text in ax.texts] == ["1.000", "0.910", "0.900"]
    assert demo.readout_text(demo.default_setting) == smoothing_readout_text(10, 0.1)


# --- driven like a user ------------------------------------------------------------------------


@pytest.mark.parametrize(("slider", "value", "setting"), [("smoothing_slider", 0.25, (10, 0.25)),
                                                           ("num_classes_slider", 5, (5, 0.1))])
def test_each_slider_changes_the_readout_and_the_picture(slider, value, setting):
    demo = SmoothingDemo()
    image, readout = demo.image.value, demo.readout.value
    getattr(demo, slider).value = value
    assert demo.setting == setting
    assert demo.image.value != image and demo.readout.value != readout
    uniform, others = (optimal_logit_gap(*setting, convention) for convention in ("uniform", "others"))
    assert f"optimal logit gap {uniform:.3f} with" in demo.readout.value and f", {others:.3f} with" in demo.readout.value


def test_the_same_setting_gives_the_same_picture(default_demo):
    demo = SmoothingDemo()
    assert demo.image.value == default_demo.image.value
    first = demo.image.value
    demo.smoothing_slider.value = 0.42
    demo.num_classes_slider.value = 17
    demo.smoothing_slider.value = 0.1
    demo.num_classes_slider.value = 10
    assert demo.image.value == first and demo.readout.value == default_demo.readout.value


def test_no_smoothing_makes_the_three_targets_one_hot_and_says_there_is_no_finite_optimum():
    demo = SmoothingDemo()
    demo.smoothing_slider.value = 0.0
    for values in demo.targets().values():
        np.testing.assert_array_equal(values, np.eye(10)[3])
    assert "no finite optimal logit gap" in demo.readout.value


def test_fewer_classes_than_the_target_class_shows_the_last_class():
    demo = SmoothingDemo(target_class=3)
    demo.num_classes_slider.value = 2
    assert demo.shown_class() == 1
    targets = demo.targets()
    assert all(values.shape == (2,) and np.argmax(values) == 1 for values in targets.values())
    np.testing.assert_allclose(targets["ε = 0.1 (PyTorch: ε/K to every class)"], [0.05, 0.95])
    np.testing.assert_allclose(targets["ε = 0.1 (ε/(K − 1) to the others)"], [0.1, 0.9])
    demo.num_classes_slider.value = 12
    assert demo.shown_class() == 3


def test_a_slider_value_off_its_two_decimals_is_read_rounded():
    demo = SmoothingDemo()
    demo.smoothing_slider.value = 0.07 + 1e-12  # what floating-point snapping in a front end could send back
    assert demo.smoothing == 0.07 and demo.readout_text().startswith("K = 10, ε = 0.07:")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_classes": 21}, ValueError, r"num_classes must be in \[2, 20\]"),
        ({"num_classes": 1}, ValueError, "num_classes must be an int >= 2"),
        ({"smoothing": 0.6}, ValueError, "smoothing must be one of the ε slider's stops"),
        ({"smoothing": 0.105}, ValueError, "smoothing must be one of the ε slider's stops"),
        ({"smoothing": -0.1}, ValueError, r"smoothing must be in \[0, 1\)"),
        ({"target_class": 10}, ValueError, r"target_class must be in \[0, num_classes\) = \[0, 10\)"),
        ({"target_class": 1.0}, TypeError, "target_class must be an int"),
    ],
)
def test_demo_validates_its_default_state(kwargs, error, message):
    with pytest.raises(error, match=message):
        SmoothingDemo(**kwargs)


def test_other_default_states():
    demo = SmoothingDemo(num_classes=2, smoothing=0.5, target_class=0)
    assert demo.setting == (2, 0.5) and demo.readout_text().startswith("K = 2, ε = 0.5: optimal logit gap 1.099")
    assert SmoothingDemo(smoothing=0.29).smoothing == 0.29

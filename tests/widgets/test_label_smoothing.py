"""Tests for course_lib.widgets.label_smoothing: the other convention, the readouts, and the demo driven like a user would."""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.losses import optimal_logit_gap, optimal_logits, smooth_targets
from course_lib.plots import label_smoothing as ls_plots
from course_lib.widgets import STORED_TEXT, DemoBox
from course_lib.widgets.label_smoothing import (
    NUM_CLASSES_RANGE,
    OPTIMAL_LOGITS_YLIM,
    SmoothingDemo,
    optimal_logits_readout_text,
    others_convention_targets,
    smoothing_readout_text,
)


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
    toggle = demo.view_toggle
    assert isinstance(toggle, widgets.ToggleButtons) and demo.view == "targets" == demo.default_view
    assert toggle.options == (("targets q", "targets"), ("optimal logits", "logits"))
    label, control = demo.widget.children[1].children  # the toggle on one line with its label
    assert isinstance(label, widgets.Label) and label.value == "show" and control is toggle
    assert demo.widget.children[2:] == (demo.readout, demo.image)
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
        ({"view": "logit"}, ValueError, r"view must be one of \('targets', 'logits'\) \(the targets q, or their "
                                        r"optimal logits\), got 'logit'"),
        ({"view": "Targets"}, ValueError, "view must be one of .*got 'Targets'"),
        ({"view": None}, TypeError, r"view must be a str, one of \('targets', 'logits'\) .*, got NoneType None"),
        ({"view": ("logits",)}, TypeError, "view must be a str"),
    ],
)
def test_demo_validates_its_default_state(kwargs, error, message):
    with pytest.raises(error, match=message):
        SmoothingDemo(**kwargs)


def test_other_default_states():
    demo = SmoothingDemo(num_classes=2, smoothing=0.5, target_class=0)
    assert demo.setting == (2, 0.5) and demo.readout_text().startswith("K = 2, ε = 0.5: optimal logit gap 1.099")
    assert SmoothingDemo(smoothing=0.29).smoothing == 0.29


# --- the logit view ------------------------------------------------------------------------------


@pytest.mark.parametrize(("num_classes", "smoothing"), [(10, 0.1), (2, 0.5), (20, 0.01), (7, 0.25)])
def test_logit_readout_gives_both_conventions_centred_logits_and_the_optimal_gap(num_classes, smoothing):
    text = optimal_logits_readout_text(num_classes, smoothing)
    assert text.startswith(f"K = {num_classes}, ε = {smoothing:g}: optimal logits (mean 0) with ε spread over all K "
                           "classes (PyTorch): ")
    for convention, rest in zip(("uniform", "others"), text.split("; ")):
        gap = optimal_logit_gap(num_classes, smoothing, convention)
        # z*_y = (K - 1)/K gap and z*_c = -gap/K: centred at 0, their difference is the gap
        expected = ((num_classes - 1) / num_classes * gap, -gap / num_classes)
        target_logit, wrong_logit = (round(v, 3) + 0.0 for v in expected)  # + 0.0: a gap of 0 reads "0.000"
        assert rest.endswith(f"z*_y = {target_logit:.3f}, z*_c = {wrong_logit:.3f}, gap {gap:.3f}")
    assert "; with ε spread over the K − 1 others: z*_y" in text and "-0.000" not in text


def test_logit_readout_of_the_defaults_and_without_smoothing():
    assert optimal_logits_readout_text(10, 0.1) == (
        "K = 10, ε = 0.1: optimal logits (mean 0) with ε spread over all K classes (PyTorch): z*_y = 4.060, "
        "z*_c = -0.451, gap 4.511; with ε spread over the K − 1 others: z*_y = 3.955, z*_c = -0.439, gap 4.394")
    assert f"{math.log(91):.3f}" == "4.511" and f"{math.log(81):.3f}" == "4.394"
    text = optimal_logits_readout_text(4, 0.0)
    assert text.startswith("K = 4, ε = 0: one-hot targets") and "no finite optimal logits" in text
    assert "inf" not in text.replace("infinity", "") and "z*_y =" not in text


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((1, 0.1), ValueError, "num_classes must be an int >= 2"),
        ((10.0, 0.1), TypeError, "num_classes must be an int"),
        ((10, 1.0), ValueError, r"smoothing must be in \[0, 1\)"),
        ((10, math.nan), ValueError, r"smoothing must be in \[0, 1\)"),
        ((10, "0.1"), TypeError, "smoothing must be a real number"),
    ],
)
def test_logit_readout_validates_its_input(arguments, error, message):
    with pytest.raises(error, match=message):
        optimal_logits_readout_text(*arguments)


def test_the_optimal_logits_are_centred_match_the_targets_and_have_the_optimal_gaps(default_demo):
    targets, logits = default_demo.targets(), default_demo.optimal_logits()
    assert list(logits) == list(targets) and logits["one-hot"] is None  # no finite optimum for the one-hot target
    conventions = dict(zip(list(targets)[1:], ("uniform", "others")))
    for label, convention in conventions.items():
        z = logits[label]
        np.testing.assert_allclose(z, optimal_logits(targets[label]), rtol=0, atol=0)
        assert abs(z.sum()) < 1e-12
        np.testing.assert_allclose(np.exp(z) / np.exp(z).sum(), targets[label], rtol=1e-12)  # softmax(z*) = q
        gap = optimal_logit_gap(10, 0.1, convention)
        np.testing.assert_allclose(z[3] - np.delete(z, 3), gap, rtol=1e-12)  # z*_y - z*_c for every wrong class
    pytorch, others = (logits[label] for label in conventions)
    assert pytorch[3] - pytorch[0] == pytest.approx(math.log(91), rel=1e-12)
    assert others[3] - others[0] == pytest.approx(math.log(81), rel=1e-12)


def test_toggling_to_the_logit_view_changes_readout_and_picture_and_back_restores_both_exactly():
    demo = SmoothingDemo()
    image, readout = bytes(demo.image.value), demo.readout.value
    demo.view_toggle.value = "logits"
    assert demo.view == "logits" and demo.setting == (10, 0.1)
    assert bytes(demo.image.value) != image and demo.readout.value != readout
    assert demo.readout.value == "<b>K = 10, ε = 0.1</b>: " + optimal_logits_readout_text(10, 0.1).split(": ", 1)[1]
    assert "gap 4.511" in demo.readout.value and "gap 4.394" in demo.readout.value
    assert demo.readout_text() == optimal_logits_readout_text(10, 0.1)
    assert demo.readout_text(view="targets") == smoothing_readout_text(10, 0.1)
    demo.view_toggle.value = "targets"
    assert bytes(demo.image.value) == image and demo.readout.value == readout


def test_the_logit_view_draws_the_two_smoothed_targets_logits_and_names_the_one_hot_target():
    demo = SmoothingDemo(view="logits")
    fig = demo.static_figure()
    assert tuple(fig.get_size_inches()) == ls_plots.SMOOTHED_TARGETS_FIGSIZE
    (ax,) = fig.axes
    assert ax.get_title() == "Optimal logits for class y = 3 of K = 10 classes, ε = 0.1"
    assert ax.get_ylim() == OPTIMAL_LOGITS_YLIM
    logits = demo.optimal_logits(demo.default_setting)
    pytorch_label, others_label = list(logits)[1:]
    for label in (pytorch_label, others_label):
        heights = _bar_heights(ax, label)
        np.testing.assert_allclose(heights, logits[label])
    assert not _bar_heights(ax, "one-hot").size
    pytorch, others = _bar_heights(ax, pytorch_label), _bar_heights(ax, others_label)
    assert pytorch[3] - pytorch[0] == pytest.approx(optimal_logit_gap(10, 0.1), rel=1e-12)
    assert others[3] - others[0] == pytest.approx(optimal_logit_gap(10, 0.1, "others"), rel=1e-12)
    assert [text.get_text() for text in ax.texts] == ["4.060", "3.955"]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [pytorch_label, others_label, "one-hot: no finite optimum ($z_y - z_c \\to \\infty$)"]


def test_no_smoothing_in_the_logit_view_draws_no_bars_and_says_there_is_no_finite_optimum():
    demo = SmoothingDemo(view="logits")
    finite = bytes(demo.image.value)
    demo.smoothing_slider.value = 0.0
    assert all(z is None for z in demo.optimal_logits().values())
    assert "no finite optimal logits" in demo.readout.value and "z*_y" not in demo.readout.value
    assert bytes(demo.image.value) != finite
    fig, ax = plt.subplots()
    demo._draw(ax, demo.setting, demo.view)  # the picture the image shows, as artists
    assert not [patch for patch in ax.patches if (patch.get_gid() or "").startswith("bars-")]
    (note,) = [text for text in ax.texts if text.get_gid() == "no-finite-optimum"]
    assert note.get_text().startswith("no finite optimum")
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert len(legend) == 3 and all(line.endswith("no finite optimum ($z_y - z_c \\to \\infty$)") for line in legend)


def test_the_logits_shrink_as_smoothing_grows_and_every_setting_fits_the_fixed_range():
    demo = SmoothingDemo()
    target_logits = [demo.optimal_logits((10, eps))["ε = %g (PyTorch: ε/K to every class)" % eps][3]
                     for eps in (0.01, 0.1, 0.25, 0.5)]
    assert target_logits == sorted(target_logits, reverse=True) and target_logits[-1] > 0
    low, high = OPTIMAL_LOGITS_YLIM
    largest, smallest = -math.inf, math.inf
    for num_classes in range(NUM_CLASSES_RANGE[0], NUM_CLASSES_RANGE[1] + 1):
        for stop in range(1, 51):
            for z in demo.optimal_logits((num_classes, stop / 100)).values():
                if z is not None:
                    largest, smallest = max(largest, z.max()), min(smallest, z.min())
    assert low < smallest and largest < high
    assert largest == pytest.approx(19 / 20 * math.log(1 + 20 * 0.99 / 0.01), rel=1e-12)  # K = 20, ε = 0.01
    assert smallest == pytest.approx(-math.log(1 + 2 * 0.99 / 0.01) / 2, rel=1e-12)  # K = 2, ε = 0.01


def test_the_logit_view_follows_the_sliders_and_static_figure_keeps_the_default_view():
    demo = SmoothingDemo()
    demo.view_toggle.value = "logits"
    demo.num_classes_slider.value = 5
    assert demo.readout_text() == optimal_logits_readout_text(5, 0.1)
    (ax,) = demo.static_figure().axes  # the construction's view and setting, not the controls'
    assert ax.get_title() == "Targets for class y = 3 of K = 10 classes, ε = 0.1"
    assert [text.get_text() for text in ax.texts] == ["1.000", "0.910", "0.900"]
    (ax,) = SmoothingDemo(view="logits", num_classes=5).static_figure().axes
    assert ax.get_title() == "Optimal logits for class y = 3 of K = 5 classes, ε = 0.1"


def test_readout_text_validates_the_view():
    demo = SmoothingDemo()
    with pytest.raises(ValueError, match="view must be one of .*got 'probabilities'"):
        demo.readout_text(view="probabilities")
    with pytest.raises(TypeError, match="view must be a str"):
        demo.readout_text(view=1)

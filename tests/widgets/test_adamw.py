"""Tests for course_lib.widgets.adamw: the readout, and the documented picture of the Adam-vs-AdamW demo."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_optimizer_paths import _assert_paths_match_torch

from course_lib.optimizer_paths import (
    ADAM_DEMO_LABELS,
    ADAM_DEMO_LEARNING_RATE,
    ADAM_DEMO_OPTIMUM,
    ADAM_DEMO_STEPS,
    ADAM_DEMO_STRENGTH,
    adam_and_adamw_paths,
    adam_demo_l2_optimum,
)
from course_lib.plots import adamw as adamw_plots
from course_lib.widgets import adamw as adamw_widgets
from course_lib.widgets.adamw import ADAM_DEMO_LONG_STEPS, AdamPathsDemo, adam_paths_readout_html

OPTIMUM = np.array(ADAM_DEMO_OPTIMUM)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def default_demo() -> AdamPathsDemo:
    return AdamPathsDemo()


@pytest.fixture(scope="module")
def long_demo() -> AdamPathsDemo:
    return AdamPathsDemo(steps=ADAM_DEMO_LONG_STEPS)


# --- the demo at its defaults: the documented picture ---------------------------------------------


def test_demo_default_state(default_demo):
    demo = default_demo
    assert demo.strength == ADAM_DEMO_STRENGTH == 0.3 and demo.learning_rate == ADAM_DEMO_LEARNING_RATE == 0.03
    assert demo.steps == ADAM_DEMO_STEPS == 300
    _assert_paths_match_torch(demo.paths, 0.3, 0.03)
    assert set(demo.final_positions) == set(demo.final_norms) == set(ADAM_DEMO_LABELS)
    for label, path in demo.paths.items():
        np.testing.assert_array_equal(demo.final_positions[label], path[-1])
        assert demo.final_norms[label] == pytest.approx(np.linalg.norm(path[-1]), rel=1e-15)
    assert bytes(demo.image.value).startswith(b"\x89PNG")
    assert demo.widget.children[0].children == (demo.strength_slider, demo.learning_rate_slider)
    assert demo.widget.children[2:] == (demo.readout, demo.image)
    assert demo.setting == demo.default_setting == (0.3, 0.03, 300)


def test_steps_toggle_offers_300_and_3000_steps_beside_its_label(default_demo):
    toggle = default_demo.steps_toggle
    assert isinstance(toggle, widgets.ToggleButtons)
    assert ADAM_DEMO_LONG_STEPS == 3000 and "ADAM_DEMO_LONG_STEPS" in adamw_widgets.__all__
    assert list(toggle.options) == [("300", 300), ("3,000 (run longer)", 3000)] and toggle.value == 300
    assert toggle.get_state()["index"] == 0  # the browser gets an index into the options: the value is exact
    label, control = default_demo.widget.children[1].children
    assert control is toggle and isinstance(label, widgets.Label) and label.value == "steps"
    assert not toggle.description  # the label beside the buttons, not a description wrapping above them


def test_sliders_hand_the_browser_exactly_the_setting_of_the_static_figure(default_demo):
    # A FloatLogSlider's front end snapped η = 0.03 to 10^-1.5 ≈ 0.0316, so the widget showed another
    # picture than the static figure. The browser receives an index into the stops: no value to round.
    for slider, value in ((default_demo.strength_slider, 0.3), (default_demo.learning_rate_slider, 0.03)):
        assert isinstance(slider, widgets.SelectionSlider)
        state = slider.get_state()
        assert slider.value == value and [v for _, v in slider.options][state["index"]] == value
        assert state["_options_labels"][state["index"]] == f"{value:g}"
    assert [v for _, v in default_demo.learning_rate_slider.options] == [
        0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3]
    assert [v for _, v in default_demo.strength_slider.options] == [round(0.05 * k, 2) for k in range(21)]


def test_a_setting_between_the_stops_is_kept_exactly():
    demo = AdamPathsDemo(strength=0.33, learning_rate=0.025)
    assert demo.strength == 0.33 and demo.learning_rate == 0.025
    assert 0.025 in [v for _, v in demo.learning_rate_slider.options]
    assert "λ = 0.33, η = 0.025</b>" in demo.readout.value
    _assert_paths_match_torch(demo.paths, 0.33, 0.025)


def test_moving_a_slider_by_index_as_the_browser_does_recomputes():
    demo = AdamPathsDemo()
    slider = demo.learning_rate_slider
    slider.index = [v for _, v in slider.options].index(0.1)
    assert demo.learning_rate == 0.1 and "λ = 0.3, η = 0.1</b>" in demo.readout.value
    _assert_paths_match_torch(demo.paths, 0.3, 0.1)


def test_demo_defaults_show_the_numbers_quoted_in_its_docstring(default_demo):
    final, norms = default_demo.final_positions, default_demo.final_norms
    assert [f"{x:.4f}" for x in final["Adam + L2"]] == ["1.9417", "0.5000"]
    assert [f"{x:.4f}" for x in final["AdamW"]] == ["1.6439", "1.6439"]
    assert f"{norms['Adam + L2']:.4f}" == "2.0051" and f"{norms['AdamW']:.4f}" == "2.3248"
    kept = {label: 100 * w / OPTIMUM for label, w in final.items()}
    assert [round(k) for k in kept["Adam + L2"]] == [97, 25] and [round(k) for k in kept["AdamW"]] == [82, 82]
    rates = default_demo.decay_rates
    assert f"{rates['Adam + L2'][0]:.1e}" == "1.7e-03" and f"{rates['Adam + L2'][1]:.2f}" == "0.33"
    np.testing.assert_allclose(rates["AdamW"], [0.009, 0.009], rtol=1e-15)
    assert "(1.9417, 0.5000), ‖w‖₂ = 2.0051" in AdamPathsDemo.__doc__
    assert "(1.6439, 1.6439), ‖w‖₂ = 2.3248" in AdamPathsDemo.__doc__


def test_demo_defaults_show_adam_l2_decaying_the_large_gradient_weight_less_than_adamw(default_demo):
    adam, adamw = default_demo.final_positions["Adam + L2"], default_demo.final_positions["AdamW"]
    kept_adam, kept_adamw = adam / OPTIMUM, adamw / OPTIMUM
    # w₁ (gradient 100x larger): Adam + L2 keeps more of it than AdamW, i.e. decays it less ...
    assert abs(1 - kept_adam[0]) < abs(1 - kept_adamw[0]) - 0.1
    # ... and w₂ (small gradients): Adam + L2 decays it far more than AdamW
    assert kept_adam[1] < kept_adamw[1] - 0.5
    # AdamW shrinks both weights by the same proportion: its whole path stays on the diagonal w₁ = w₂
    path = default_demo.paths["AdamW"]
    assert np.max(np.abs(path[:, 0] - path[:, 1])) < 1e-6
    # the decay per step: Adam + L2 divides ηλ by √v̂ (small for w₁, large for w₂); AdamW applies ηλ to both
    rates = default_demo.decay_rates
    assert rates["Adam + L2"][0] < rates["AdamW"][0] / 5 and rates["Adam + L2"][1] > rates["AdamW"][1] * 5


def test_demo_defaults_adam_l2_has_converged_and_adamw_is_still_creeping(default_demo):
    adam, adamw = default_demo.paths["Adam + L2"], default_demo.paths["AdamW"]
    np.testing.assert_allclose(adam[-1], adam_demo_l2_optimum(0.3), atol=1e-5)
    assert np.max(np.abs(adam[-50:] - adam[-1])) < 1e-4
    creep = adamw[-1, 0] - adamw[-51, 0]
    assert 0.015 < creep < 0.035  # "about 0.025 over the last 50 steps", outwards
    assert np.all(np.diff(adamw[-50:, 0]) > 0)
    longer, _ = adam_and_adamw_paths(0.3, 0.03, steps=1000)
    assert longer["AdamW"][-1, 0] > adamw[-1, 0] + 0.1  # run longer: AdamW moves further towards c
    assert longer["AdamW"][-1, 0] < OPTIMUM[0]
    np.testing.assert_allclose(longer["Adam + L2"][-1], adam[-1], atol=1e-5)  # Adam + L2 stays put


def test_demo_readout_contains_the_final_numbers(default_demo):
    text = default_demo.readout.value
    for piece in (
        "λ = 0.3, η = 0.03",
        "300 steps from (0.0000, 0.0000)",
        "c = (2.0000, 2.0000)",
        "(λ/2)‖w‖² = (1.9417, 0.5000)",
        "<b>Adam + L2</b>: final w = (1.9417, 0.5000), ‖w‖₂ = 2.0051 "
        "(97.1% of c<sub>1</sub>, 25.0% of c<sub>2</sub>)",
        "<b>AdamW</b>: final w = (1.6439, 1.6439), ‖w‖₂ = 2.3248 (82.2% of c<sub>1</sub>, 82.2% of c<sub>2</sub>)",
        "decay per step now (9.00e-03, 9.00e-03)",
    ):
        assert piece in text


def test_readout_function_formats_what_it_is_given():
    paths = {"A": np.array([[0.0, 0.0], [1.0, 0.5]]), "B": np.array([[0.0, 0.0], [0.25, 0.25]])}
    rates = {"A": np.array([1e-3, 2e-2]), "B": np.array([5e-3, 5e-3])}
    text = adam_paths_readout_html(paths, rates, 0.5, 0.01)
    assert "λ = 0.5, η = 0.01</b>, 1 steps" in text
    expected = "<b>A</b>: final w = (1.0000, 0.5000), ‖w‖₂ = 1.1180 (50.0% of c<sub>1</sub>, 25.0% of c<sub>2</sub>)"
    assert expected in text
    assert "decay per step now (1.00e-03, 2.00e-02)" in text and "‖w‖₂ = 0.3536" in text
    assert "(λ/2)‖w‖² = (1.9048, 0.3333)" in text


# --- driven like a user --------------------------------------------------------------------------


def test_strength_slider_recomputes_both_paths_and_redraws():
    demo = AdamPathsDemo()
    image, readout = demo.image.value, demo.readout.value
    demo.strength_slider.value = 0.6
    _assert_paths_match_torch(demo.paths, 0.6, 0.03)
    assert demo.image.value != image and demo.readout.value != readout
    assert "λ = 0.6, η = 0.03" in demo.readout.value
    adam = demo.final_positions["Adam + L2"]
    norm = demo.final_norms["Adam + L2"]
    assert f"final w = ({adam[0]:.4f}, {adam[1]:.4f}), ‖w‖₂ = {norm:.4f}" in demo.readout.value
    demo.strength_slider.value = 0.0
    np.testing.assert_array_equal(demo.paths["Adam + L2"], demo.paths["AdamW"])


def test_learning_rate_slider_recomputes_both_paths_and_redraws():
    demo = AdamPathsDemo()
    image = demo.image.value
    demo.learning_rate_slider.value = 0.1
    _assert_paths_match_torch(demo.paths, 0.3, 0.1)
    assert demo.image.value != image
    assert "λ = 0.3, η = 0.1</b>" in demo.readout.value
    adamw = demo.final_positions["AdamW"]
    assert f"final w = ({adamw[0]:.4f}, {adamw[1]:.4f})" in demo.readout.value


@pytest.mark.parametrize(("learning_rate", "margin"), [(1e-3, 0.05), (10**-0.5, 2.0)])
def test_demo_effect_holds_across_the_learning_rate_range(learning_rate, margin):
    # at η = 0.001 the 300 steps go only ~0.4 from the start, so the paths differ only a little
    demo = AdamPathsDemo(learning_rate=learning_rate)
    assert demo.learning_rate == learning_rate
    adam, adamw = demo.final_positions["Adam + L2"], demo.final_positions["AdamW"]
    assert adam[0] / adam[1] > adamw[0] / adamw[1] + margin  # Adam + L2 favours the large-gradient weight
    path = demo.paths["AdamW"]
    assert np.max(np.abs(path[:, 0] - path[:, 1])) < 1e-6


def test_demo_is_deterministic_and_its_static_figure_shows_the_defaults(default_demo):
    other = AdamPathsDemo()
    assert other.image.value == default_demo.image.value and other.readout.value == default_demo.readout.value
    fig = default_demo.static_figure()
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == adamw_plots.OPTIMIZER_PATHS_FIGSIZE
    ax = fig.axes[0]
    assert ax.get_title() == "Adam + L2 vs AdamW: λ = 0.3, η = 0.03, 300 steps"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w₁", "w₂")
    for label in ADAM_DEMO_LABELS:
        (marker,) = [line for line in ax.get_lines() if line.get_gid() == f"final-{label}"]
        point = [marker.get_xdata()[0], marker.get_ydata()[0]]
        np.testing.assert_array_equal(point, default_demo.final_positions[label])
        (path,) = [line for line in ax.get_lines() if line.get_gid() == f"path-{label}"]
        assert len(path.get_xdata()) == ADAM_DEMO_STEPS + 1
    (optimum,) = [line for line in ax.get_lines() if line.get_gid() == "optimum"]
    assert (optimum.get_xdata()[0], optimum.get_ydata()[0]) == ADAM_DEMO_OPTIMUM


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"strength": 1.5}, ValueError, r"strength must be in \[0, 1\] for this demo"),
        ({"strength": -0.1}, ValueError, "strength must be a finite number >= 0"),
        ({"strength": "0.3"}, TypeError, "strength must be a real number"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": 0.5}, ValueError, r"learning_rate must be in \[0.001, 0.316\] for this demo"),
        ({"learning_rate": 1e-4}, ValueError, r"learning_rate must be in \[0.001, 0.316\]"),
        ({"steps": 1000}, ValueError, r"steps must be one of the toggle's options \(300, 3000\), got 1000"),
        ({"steps": 0}, ValueError, r"steps must be one of the toggle's options \(300, 3000\), got 0"),
        ({"steps": -300}, ValueError, r"steps must be one of the toggle's options \(300, 3000\), got -300"),
        ({"steps": 300.0}, TypeError, "steps must be an int, got float 300.0"),
        ({"steps": True}, TypeError, "steps must be an int, got bool True"),
        ({"steps": "300"}, TypeError, "steps must be an int, got str '300'"),
        ({"steps": None}, TypeError, "steps must be an int, got NoneType None"),
    ],
)
def test_demo_validates_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        AdamPathsDemo(**kwargs)


# --- the steps toggle: run longer ----------------------------------------------------------------


def test_long_demo_reproduces_the_numbers_quoted_in_its_docstring(default_demo, long_demo):
    assert long_demo.steps == 3000 and long_demo.steps_toggle.value == 3000
    assert all(path.shape == (3001, 2) for path in long_demo.paths.values())
    final, norms = long_demo.final_positions, long_demo.final_norms
    assert [f"{x:.4f}" for x in final["Adam + L2"]] == ["1.9417", "0.5000"]  # where it was after 300 steps
    assert [f"{x:.4f}" for x in final["AdamW"]] == ["1.9016", "1.9016"]  # from (1.6439, 1.6439): creeping on
    assert f"{norms['AdamW']:.4f}" == "2.6892" and [round(100 * x / 2) for x in final["AdamW"]] == [95, 95]
    rates = long_demo.decay_rates
    assert [f"{r:.2e}" for r in rates["Adam + L2"]] == ["1.25e-02", "2.41e+00"]
    np.testing.assert_allclose(rates["AdamW"], [0.009, 0.009], rtol=1e-15)
    middle, _ = adam_and_adamw_paths(0.3, 0.03, steps=1000)
    assert [f"{x:.4f}" for x in middle["AdamW"][-1]] == ["1.7867", "1.7867"]
    assert [f"{x:.4f}" for x in middle["Adam + L2"][-1]] == ["1.9417", "0.5000"]
    doc = " ".join(AdamPathsDemo.__doc__.split())
    for piece in ("Adam + L2 ends at (1.9417, 0.5000) after both 300 and 3,000 steps",
                  "AdamW goes from (1.6439, 1.6439) after 300 steps to (1.7867, 1.7867) after 1,000 and "
                  "(1.9016, 1.9016), ‖w‖₂ = 2.6892, after 3,000",
                  "(95% after 3,000 steps)", "(1.25e-02, 2.41e+00)"):
        assert piece in doc


def test_run_longer_moves_adamw_along_the_diagonal_and_leaves_adam_l2_where_it_settled(default_demo, long_demo):
    short, long = default_demo.paths, long_demo.paths
    for label in ADAM_DEMO_LABELS:  # the long run continues the short one: the same first 300 steps
        np.testing.assert_array_equal(long[label][: ADAM_DEMO_STEPS + 1], short[label])
    np.testing.assert_allclose(long["Adam + L2"][-1], short["Adam + L2"][-1], rtol=0, atol=1e-5)
    np.testing.assert_allclose(long["Adam + L2"][-1], adam_demo_l2_optimum(0.3), rtol=0, atol=1e-5)
    assert np.max(np.abs(long["Adam + L2"][ADAM_DEMO_STEPS:] - long["Adam + L2"][-1])) < 1e-4  # settled
    adamw = long["AdamW"]
    assert np.max(np.abs(adamw[:, 0] - adamw[:, 1])) < 1e-6  # the same share of c for both weights throughout
    assert np.all(np.diff(adamw[ADAM_DEMO_STEPS:, 0]) > 0)  # still creeping outwards at every step ...
    assert short["AdamW"][-1, 0] + 0.25 < adamw[-1, 0] < OPTIMUM[0]  # ... towards c, not yet there
    # the ratio that tells the rules apart does not fade with time: Adam + L2 still keeps w₁ ~4x more than w₂
    adam_final = long["Adam + L2"][-1]
    assert adam_final[0] / adam_final[1] > 3.8 and adamw[-1, 0] / adamw[-1, 1] == pytest.approx(1.0, abs=1e-6)


def _record_titles(monkeypatch) -> list[str]:
    titles: list[str] = []
    plot = adamw_plots.plot_optimizer_paths

    def recording_plot(*args, **kwargs):
        titles.append(kwargs["title"])
        return plot(*args, **kwargs)

    monkeypatch.setattr(adamw_widgets.adamw_plots, "plot_optimizer_paths", recording_plot)
    return titles


def _count_path_computations(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    compute = adam_and_adamw_paths

    def counting_compute(strength, learning_rate, **kwargs):
        calls.append((strength, learning_rate, kwargs["steps"]))
        return compute(strength, learning_rate, **kwargs)

    monkeypatch.setattr(adamw_widgets, "adam_and_adamw_paths", counting_compute)
    return calls


def test_steps_toggle_redraws_readout_and_title_and_toggling_back_restores_them_exactly(monkeypatch, long_demo):
    demo = AdamPathsDemo()
    titles, computed = _record_titles(monkeypatch), _count_path_computations(monkeypatch)
    image, readout = demo.image.value, demo.readout.value
    demo.steps_toggle.value = ADAM_DEMO_LONG_STEPS
    assert demo.steps == 3000 and demo.setting == (0.3, 0.03, 3000) and computed == [(0.3, 0.03, 3000)]
    assert titles == ["Adam + L2 vs AdamW: λ = 0.3, η = 0.03, 3,000 steps"]
    assert demo.image.value != image and bytes(demo.image.value).startswith(b"\x89PNG")
    assert demo.readout.value != readout and demo.readout.value == long_demo.readout.value
    for piece in ("3,000 steps from (0.0000, 0.0000)",
                  "<b>Adam + L2</b>: final w = (1.9417, 0.5000), ‖w‖₂ = 2.0051",
                  "<b>AdamW</b>: final w = (1.9016, 1.9016), ‖w‖₂ = 2.6892 "
                  "(95.1% of c<sub>1</sub>, 95.1% of c<sub>2</sub>)",
                  "decay per step now (1.25e-02, 2.41e+00)"):
        assert piece in demo.readout.value
    assert demo.image.value == long_demo.image.value  # the same picture as a demo built at 3,000 steps
    demo.steps_toggle.value = ADAM_DEMO_STEPS
    assert demo.image.value == image and demo.readout.value == readout  # byte for byte
    assert titles[-1] == "Adam + L2 vs AdamW: λ = 0.3, η = 0.03, 300 steps"
    demo.steps_toggle.index = 1  # as the browser sets it
    assert demo.steps == 3000 and demo.readout.value == long_demo.readout.value
    assert computed == [(0.3, 0.03, 3000)]  # toggling back and forth computed no path again


def test_toggle_and_sliders_combine_and_each_setting_is_computed_once(monkeypatch):
    demo = AdamPathsDemo()
    computed = _count_path_computations(monkeypatch)
    demo.strength_slider.value = 0.0
    demo.steps_toggle.value = ADAM_DEMO_LONG_STEPS
    # λ = 0: no decay at all, so both optimizers are plain Adam on the loss, also over 3,000 steps
    np.testing.assert_array_equal(demo.paths["Adam + L2"], demo.paths["AdamW"])
    assert "λ = 0, η = 0.03</b>, 3,000 steps" in demo.readout.value
    demo.strength_slider.value = 0.3
    demo.steps_toggle.value = ADAM_DEMO_STEPS
    demo.strength_slider.value = 0.0
    assert computed == [(0.0, 0.03, 300), (0.0, 0.03, 3000), (0.3, 0.03, 3000)]
    with pytest.raises(ValueError, match="read-only"):  # the kept paths cannot be changed by a reader
        demo.paths["AdamW"][-1, 0] = 0.0


def test_path_cache_keeps_the_most_recently_shown_settings(monkeypatch):
    demo = AdamPathsDemo()

    def instant_paths(strength, learning_rate, *, steps, start):
        path = np.zeros((steps + 1, 2))
        return {label: path.copy() for label in ADAM_DEMO_LABELS}, {label: np.zeros(2) for label in ADAM_DEMO_LABELS}

    monkeypatch.setattr(adamw_widgets, "adam_and_adamw_paths", instant_paths)
    settings = [(round(0.01 * k, 2), 0.025, 300) for k in range(1, adamw_widgets._PATH_CACHE_SIZE + 1)]
    first = demo._computed_paths(demo.default_setting)
    for setting in settings:  # one more setting than is kept: the least recently used one, not the first, goes
        demo._computed_paths(setting)
        assert demo._computed_paths(demo.default_setting) is first
    assert len(demo._path_cache) == adamw_widgets._PATH_CACHE_SIZE
    assert settings[0] not in demo._path_cache and settings[-1] in demo._path_cache


def test_static_figure_draws_the_construction_setting_whatever_the_controls_show(long_demo):
    demo = AdamPathsDemo()
    demo.steps_toggle.value = ADAM_DEMO_LONG_STEPS
    demo.learning_rate_slider.value = 0.1
    for built, steps in ((demo, 300), (long_demo, 3000)):
        ax = built.static_figure().axes[0]
        assert ax.get_title() == f"Adam + L2 vs AdamW: λ = 0.3, η = 0.03, {steps:,} steps"
        reference, _ = adam_and_adamw_paths(0.3, 0.03, steps=steps)
        for label in ADAM_DEMO_LABELS:
            (path,) = [line for line in ax.get_lines() if line.get_gid() == f"path-{label}"]
            assert len(path.get_xdata()) == steps + 1
            np.testing.assert_array_equal(path.get_xdata(), reference[label][:, 0])
            np.testing.assert_array_equal(path.get_ydata(), reference[label][:, 1])

"""Tests for course_lib.widgets.mc_dropout: the region readout, and the regression demo driven like a user would."""

from __future__ import annotations

import io
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.mc_dropout import eval_predict, mc_predict
from course_lib.models import make_mlp
from course_lib.plots import mc_dropout as mc_plots
from course_lib.synthetic import gap_regression_function, make_gap_regression
from course_lib.widgets import STORED_TEXT, DemoBox
from course_lib.widgets.mc_dropout import (
    DEFAULT_N_SAMPLES,
    NO_TAU,
    MCRegressionDemo,
    RegionStd,
    band_readout_text,
    mean_std_by_region,
)

RATES = (0.05, 0.1, 0.3)
TAUS = (10.0, 100.0)
X_GRID = np.linspace(-4.0, 4.0, 81)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return make_gap_regression(n_train=30, n_val=10, n_test=10, seed=0)


@pytest.fixture(scope="module")
def models():
    # Untrained networks with different initialisations: the demo only needs networks with dropout.
    return {p: make_mlp((1, 32, 32, 1), dropout=p, seed=k) for k, p in enumerate(RATES)}


def _demo(models, data, **kwargs) -> MCRegressionDemo:
    arguments = {"x_grid": X_GRID, "tau_values": TAUS, "tau": 10.0, "truth": gap_regression_function, **kwargs}
    return MCRegressionDemo(models, data, **arguments)


@pytest.fixture(scope="module")
def default_demo(models, data) -> MCRegressionDemo:
    return _demo(models, data)


# --- the readout helpers ----------------------------------------------------------------------


def test_mean_std_by_region_on_a_hand_made_std():
    x = np.array([-5.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.0, 3.5])
    std = np.array([0.9, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.1, 0.2, 0.3, 0.5])
    regions = mean_std_by_region(x, std)  # intervals [-3, -1] and [1, 3], ends included
    assert isinstance(regions, RegionStd)
    assert regions.training == pytest.approx(np.mean([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]))
    assert regions.gap == pytest.approx(0.6)
    assert regions.beyond == pytest.approx(0.7)
    three = mean_std_by_region(x, std, intervals=((-3.0, -2.0), (0.0, 0.5), (2.5, 3.0)))
    assert three.gap == pytest.approx(np.mean([0.3, 0.5, 0.1]))  # both gaps together
    assert three.training == pytest.approx(np.mean([0.1, 0.2, 0.6, 0.7, 0.2, 0.3]))


def test_mean_std_by_region_takes_columns_and_reports_an_empty_region_as_nan():
    x = torch.linspace(-3.0, 3.0, 7)[:, None]
    regions = mean_std_by_region(x, torch.ones(7, 1))
    assert (regions.training, regions.gap) == (1.0, 1.0) and math.isnan(regions.beyond)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (([0.0, 1.0], [0.1]), ValueError, r"std must have one value per grid point \(2\)"),
        (([0.0, 1.0], [0.1, -0.1]), ValueError, "std must be >= 0"),
        (([0.0, np.nan], [0.1, 0.1]), ValueError, "x_grid must be finite"),
        (([0.0, 1.0], [0.1, 0.2], ((1.0, 0.0),)), ValueError, "intervals must be increasing, disjoint"),
        (([0.0, 1.0], [0.1, 0.2], ((0.0, 2.0), (1.0, 3.0))), ValueError, "intervals must be increasing, disjoint"),
        (([0.0, 1.0], [0.1, 0.2], (0.0, 1.0)), ValueError, r"intervals must be at least one finite \(low, high\)"),
        (([0.0, 1.0], [True, False]), TypeError, "std must hold real numbers"),
    ],
)
def test_mean_std_by_region_validates_its_input(arguments, error, message):
    with pytest.raises(error, match=message):
        mean_std_by_region(*arguments)


def test_without_tau_the_default_state_has_no_noise_term(models, data):
    demo = MCRegressionDemo(models, data, x_grid=X_GRID, tau_values=TAUS)
    assert demo.default_setting == (0.1, None, DEFAULT_N_SAMPLES, "mc") and demo.tau_slider.value == NO_TAU
    with pytest.raises(ValueError, match=r"tau must be None or one of tau_values \(10.0, 100.0\), got float 5.0"):
        MCRegressionDemo(models, data, x_grid=X_GRID, tau_values=TAUS, tau=5.0)


def test_band_readout_text_formats_the_setting_and_the_three_numbers():
    text = band_readout_text(0.1, 100.0, 100, RegionStd(0.08, 0.1714, 0.24))
    assert text == "p = 0.1, τ = 100, M = 100: mean σ on the training range 0.080, in the gap 0.171, beyond the data 0.240"
    assert band_readout_text(0.5, None, 30, RegionStd(0.01, 0.02, math.nan)).startswith("p = 0.5, τ = none, M = 30:")
    assert band_readout_text(0.5, None, 30, RegionStd(0.01, 0.02, math.nan)).endswith("beyond the data n/a")
    with pytest.raises(TypeError, match="region_std must be a RegionStd"):
        band_readout_text(0.1, None, 10, (0.1, 0.2, 0.3))


def test_band_readout_text_in_eval_mode_leaves_out_m_and_names_the_floor():
    assert band_readout_text(0.1, 100.0, 100, RegionStd(0.1, 0.1, 0.1), mode="mc") == band_readout_text(
        0.1, 100.0, 100, RegionStd(0.1, 0.1, 0.1))  # "mc" is the default
    text = band_readout_text(0.2, 30.0, 300, RegionStd(0.18257, 0.18257, 0.18257), mode="eval")
    assert text == ("model.eval(), p = 0.2, τ = 30, M not used (one pass, dropout off): mean σ on the training range "
                    "0.183, in the gap 0.183, beyond the data 0.183 (only the τ⁻¹ floor √(1/τ): no epistemic uncertainty)")
    assert "M = 300" not in text
    assert band_readout_text(0.2, None, 300, RegionStd(0.0, 0.0, math.nan), mode="eval").endswith(
        "beyond the data n/a (σ = 0: no τ⁻¹ term and no epistemic uncertainty)")


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [("train", ValueError, r"mode must be 'mc' \(MC dropout\) or 'eval' \(model.eval\(\)\), got 'train'"),
     ("MC", ValueError, r"mode must be 'mc' .*got 'MC'"), (None, TypeError, r"mode must be a str, 'mc' .*got NoneType None"),
     (True, TypeError, r"mode must be a str, 'mc' .*got bool True"), (["eval"], TypeError, r"mode must be a str, 'mc' .*got list")],
)
def test_band_readout_text_rejects_a_bad_mode(mode, error, message):
    with pytest.raises(error, match=message):
        band_readout_text(0.1, None, 10, RegionStd(0.1, 0.2, 0.3), mode=mode)


# --- the demo at its defaults ------------------------------------------------------------------


def test_default_state_is_the_middle_rate_the_chosen_tau_and_m_100(default_demo, models):
    demo = default_demo
    assert demo.setting == (0.1, 10.0, DEFAULT_N_SAMPLES, "mc") == demo.default_setting and demo.mode == "mc"
    for slider in (demo.p_slider, demo.tau_slider, demo.n_samples_slider):
        assert isinstance(slider, widgets.SelectionSlider)
    assert [label for label, _ in demo.p_slider.options] == ["0.05", "0.1", "0.3"]
    assert [label for label, _ in demo.tau_slider.options] == ["none", "10", "100"]
    assert [value for _, value in demo.n_samples_slider.options] == [10, 30, 100, 300]
    assert isinstance(demo.mode_toggle, widgets.ToggleButtons)
    assert demo.mode_toggle.options == (("MC dropout", "mc"), ("model.eval()", "eval"))
    assert not demo.n_samples_slider.disabled
    assert isinstance(demo.widget, DemoBox) and demo.widget._repr_mimebundle_()["text/plain"] == STORED_TEXT
    assert demo.widget.children[0].children == (demo.p_slider, demo.tau_slider, demo.n_samples_slider)
    label, toggle = demo.widget.children[1].children  # the toggle on one line with its label
    assert isinstance(label, widgets.Label) and label.value == "predict" and toggle is demo.mode_toggle
    assert demo.mode_toggle.description == ""  # no description to wrap onto its own line
    assert demo.widget.children[2:] == (demo.readout, demo.image)
    assert bytes(demo.image.value).startswith(b"\x89PNG")


def test_the_picture_is_mc_predict_of_the_chosen_model_with_the_fixed_seed(default_demo, models):
    mean, std = mc_predict(models[0.1], torch.as_tensor(X_GRID[:, None], dtype=torch.float32), 100, 10.0, seed=0)
    got_mean, got_std = default_demo.prediction()
    np.testing.assert_array_equal(got_mean, mean.double().reshape(-1).numpy())
    np.testing.assert_array_equal(got_std, std.double().reshape(-1).numpy())
    assert got_std.min() >= math.sqrt(1 / 10.0) - 1e-6  # τ⁻¹ is a floor under the variance


def test_readout_is_the_region_summary_of_the_shown_std(default_demo):
    _, std = default_demo.prediction()
    expected = band_readout_text(0.1, 10.0, 100, mean_std_by_region(X_GRID, std))
    assert default_demo.readout_text() == expected
    assert default_demo.readout.value.startswith("<b>p = 0.1, τ = 10, M = 100</b>: mean σ on the training range ")
    assert expected.split(": ", 1)[1] in default_demo.readout.value


def test_static_figure_draws_the_default_state(models, data):
    demo = _demo(models, data)
    default_text = demo.readout_text()
    demo.p_slider.value = 0.3  # the static figure ignores the sliders: it is the book's default picture
    fig = demo.static_figure()
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == mc_plots.PREDICTIVE_BAND_FIGSIZE
    ax = fig.axes[0]
    assert ax.get_title() == "MC dropout, p = 0.1: mean ± 2σ of M = 100 passes (τ = 10)"
    mean, std = demo.prediction(demo.default_setting)
    (line,) = [line for line in ax.get_lines() if line.get_gid() == "mean"]
    np.testing.assert_array_equal(line.get_ydata(), mean)
    assert demo.readout_text(demo.default_setting) == default_text
    (truth,) = [line for line in ax.get_lines() if line.get_gid() == "truth"]
    np.testing.assert_allclose(truth.get_ydata(), gap_regression_function(X_GRID))
    (points,) = [c for c in ax.collections if c.get_gid() == "training-data"]
    np.testing.assert_allclose(points.get_offsets()[:, 0], data.X_train[:, 0].double().numpy())


# --- driven like a user ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slider", "value", "text"),
    [("p_slider", 0.3, "p = 0.3, τ = 10, M = 100"), ("tau_slider", NO_TAU, "p = 0.1, τ = none, M = 100"),
     ("n_samples_slider", 10, "p = 0.1, τ = 10, M = 10")],
)
def test_each_slider_changes_the_readout_and_the_picture(models, data, slider, value, text):
    demo = _demo(models, data)
    image, readout, std = demo.image.value, demo.readout.value, demo.prediction()[1]
    getattr(demo, slider).value = value
    assert demo.image.value != image and demo.readout.value != readout
    assert demo.readout_text().startswith(text + ":")
    assert not np.array_equal(demo.prediction()[1], std)


def test_no_tau_leaves_only_the_spread_of_the_passes(models, data):
    demo = _demo(models, data)
    with_tau = demo.prediction()[1]
    demo.tau_slider.value = NO_TAU
    assert demo.tau is None
    np.testing.assert_allclose(demo.prediction()[1] ** 2 + 1 / 10.0, with_tau**2, rtol=1e-5)


def test_the_same_setting_gives_the_same_picture(models, data, default_demo):
    demo = _demo(models, data)
    assert demo.image.value == default_demo.image.value
    first = demo.image.value
    demo.p_slider.value = 0.05
    demo.n_samples_slider.value = 300
    demo.p_slider.value = 0.1
    demo.n_samples_slider.value = 100
    assert demo.image.value == first and demo.readout.value == default_demo.readout.value
    demo._predictions.clear()  # recomputed, not cached: the fixed seed gives the same passes
    demo.tau_slider.value = 100.0
    demo.tau_slider.value = 10.0
    assert demo.image.value == first


def test_moving_a_slider_by_index_as_the_browser_does(models, data):
    demo = _demo(models, data)
    demo.n_samples_slider.index = 0
    assert demo.n_samples == 10 and demo.readout_text().startswith("p = 0.1, τ = 10, M = 10:")


def test_without_tau_values_and_with_other_m_stops(models, data):
    demo = _demo(models, data, tau_values=None, tau=None, n_samples_values=(5, 50), truth=None)
    assert demo.setting == (0.1, None, 100, "mc")
    assert [label for label, _ in demo.tau_slider.options] == ["none"]
    assert [value for _, value in demo.n_samples_slider.options] == [5, 50, 100]  # M = 100 added as a stop
    assert not [line for line in demo.static_figure().axes[0].get_lines() if line.get_gid() == "truth"]


# --- the prediction toggle: MC dropout or model.eval() ------------------------------------------


def test_toggling_to_eval_changes_readout_and_picture_and_toggling_back_restores_them_exactly(models, data):
    demo = _demo(models, data)
    mc_image, mc_readout, mc_text = demo.image.value, demo.readout.value, demo.readout_text()
    demo.mode_toggle.value = "eval"
    assert demo.mode == "eval" and demo.setting == (0.1, 10.0, 100, "eval")
    assert demo.image.value != mc_image and demo.readout.value != mc_readout
    assert demo.readout.value.startswith("<b>model.eval(), p = 0.1, τ = 10, M not used (one pass, dropout off)</b>: ")
    assert demo.readout_text() == band_readout_text(0.1, 10.0, 100, demo.region_std(), mode="eval")
    demo.mode_toggle.value = "mc"
    assert (demo.image.value, demo.readout.value, demo.readout_text()) == (mc_image, mc_readout, mc_text)
    demo._predictions.clear()  # recomputed, not cached: the same seed gives the same passes and bytes
    demo.mode_toggle.index = 1  # as the browser does
    demo.mode_toggle.index = 0
    assert (demo.image.value, demo.readout.value) == (mc_image, mc_readout)


@pytest.mark.parametrize(("tau", "floor"), [(10.0, math.sqrt(1 / 10.0)), (100.0, 0.1), (NO_TAU, 0.0)])
def test_in_eval_mode_sigma_is_the_tau_floor_everywhere(models, data, tau, floor):
    demo = _demo(models, data, mode="eval")
    demo.tau_slider.value = tau
    _, std = demo.prediction()
    np.testing.assert_allclose(std, np.full(X_GRID.shape, floor), rtol=1e-6, atol=0.0)  # on the data and far from it
    regions = demo.region_std()
    np.testing.assert_allclose([regions.training, regions.gap, regions.beyond], floor, rtol=1e-6, atol=0.0)
    if tau == NO_TAU:
        assert not std.any() and "σ = 0: no τ⁻¹ term" in demo.readout_text()
    else:
        assert f"{floor:.3f}, in the gap {floor:.3f}, beyond the data {floor:.3f}" in demo.readout_text()


def test_the_eval_mean_is_the_model_eval_output_close_to_but_not_the_mc_mean(models, data):
    demo = _demo(models, data)
    mc_mean, mc_std = demo.prediction()
    demo.mode_toggle.value = "eval"
    eval_mean, _ = demo.prediction()
    x = torch.as_tensor(X_GRID[:, None], dtype=torch.float32)
    network = make_mlp((1, 32, 32, 1), dropout=0.1, seed=1).eval()  # the same network as models[0.1], switched off
    with torch.no_grad():
        np.testing.assert_array_equal(eval_mean, network(x).double().reshape(-1).numpy())
    np.testing.assert_array_equal(eval_mean, eval_predict(models[0.1], x)[0].double().reshape(-1).numpy())
    spread = np.sqrt(mc_std**2 - 1 / 10.0)  # the spread of the passes, without the τ⁻¹ term
    assert not np.allclose(eval_mean, mc_mean, rtol=0.0, atol=1e-3)  # weight scaling is not the average ...
    assert np.abs(eval_mean - mc_mean).mean() < 0.5 * spread.mean()  # ... but close to it


def test_no_setting_changes_a_models_training_flags(data):
    models = {p: make_mlp((1, 16, 1), dropout=p, seed=k) for k, p in enumerate(RATES)}
    models[0.3].eval()  # a network handed over in eval mode stays in eval mode
    models[0.05][1].eval()  # and mixed flags come back as they were
    before = {p: [module.training for module in model.modules()] for p, model in models.items()}
    demo = _demo(models, data, mode="eval")
    for mode in ("mc", "eval", "mc"):
        demo.mode_toggle.value = mode
        for p in RATES:
            demo.p_slider.value = p
    demo.static_figure()
    assert {p: [module.training for module in model.modules()] for p, model in models.items()} == before


def test_the_m_slider_is_disabled_in_eval_mode_where_m_does_not_matter(models, data):
    demo = _demo(models, data)
    demo.mode_toggle.value = "eval"
    assert demo.n_samples_slider.disabled
    image, readout, prediction = demo.image.value, demo.readout.value, demo.prediction()
    demo.n_samples_slider.value = 10  # set from code despite the disabled slider: nothing changes
    assert (demo.image.value, demo.readout.value) == (image, readout) and "M not used" in demo.readout_text()
    assert all(np.array_equal(a, b) for a, b in zip(demo.prediction(), prediction))
    demo.mode_toggle.value = "mc"
    assert not demo.n_samples_slider.disabled and demo.readout_text().startswith("p = 0.1, τ = 10, M = 10:")


def test_a_demo_can_start_in_eval_mode_and_its_static_figure_draws_it(models, data):
    demo = _demo(models, data, mode="eval")
    assert demo.default_setting == (0.1, 10.0, DEFAULT_N_SAMPLES, "eval") and demo.mode_toggle.value == "eval"
    assert demo.n_samples_slider.disabled
    pixels = np.asarray(Image.open(io.BytesIO(demo.image.value)).convert("RGB"))
    assert pixels.shape[:2] == np.asarray(Image.open(io.BytesIO(_demo(models, data).image.value))).shape[:2]
    assert pixels[:4].min() == pixels[-4:].min() == pixels[:, :4].min() == pixels[:, -4:].min() == 255  # title inside
    demo.mode_toggle.value = "mc"  # the static figure is the construction default, not the toggle's
    ax = demo.static_figure().axes[0]
    assert ax.get_title() == "model.eval(), p = 0.1: one pass ± 2σ, σ = √(1/τ) (τ = 10)"
    (line,) = [line for line in ax.get_lines() if line.get_gid() == "mean"]
    np.testing.assert_array_equal(line.get_ydata(), demo.prediction(demo.default_setting)[0])
    none = _demo(models, data, mode="eval", tau=None).static_figure().axes[0]
    assert none.get_title() == "model.eval(), p = 0.1: one pass ± 2σ, σ = 0 (no τ⁻¹ term)"


# --- validation ----------------------------------------------------------------------------------


def test_demo_rejects_models_it_cannot_sample(data):
    with pytest.raises(ValueError, match="models must map at least one dropout rate"):
        MCRegressionDemo({}, data, x_grid=X_GRID)
    with pytest.raises(TypeError, match="models must be a mapping"):
        MCRegressionDemo([make_mlp((1, 4, 1), dropout=0.1)], data, x_grid=X_GRID)
    with pytest.raises(ValueError, match=r"models\[0.2\] has no dropout module"):
        MCRegressionDemo({0.2: make_mlp((1, 4, 1))}, data, x_grid=X_GRID)
    with pytest.raises(ValueError, match=r"models\[0.2\] must have been built with dropout rate 0.2, .*p = 0.5"):
        MCRegressionDemo({0.2: make_mlp((1, 4, 1), dropout=0.5)}, data, x_grid=X_GRID)
    with pytest.raises(ValueError, match=r"models keys must be dropout rates p in \(0, 1\)"):
        MCRegressionDemo({0.0: make_mlp((1, 4, 1))}, data, x_grid=X_GRID)
    with pytest.raises(ValueError, match=r"models key must be in \[0, 1\)"):
        MCRegressionDemo({1.5: make_mlp((1, 4, 1), dropout=0.5)}, data, x_grid=X_GRID)
    with pytest.raises(TypeError, match=r"models\[0.2\] must be a torch.nn.Module"):
        MCRegressionDemo({0.2: "network"}, data, x_grid=X_GRID)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tau_values": (100.0, 10.0)}, ValueError, "tau_values must be strictly increasing"),
        ({"tau_values": (-1.0,)}, ValueError, "tau_values must hold finite numbers τ > 0"),
        ({"tau_values": ()}, TypeError, "tau_values must be None or a non-empty sequence"),
        ({"tau_values": (None, 10.0)}, TypeError, "tau_values must hold numbers"),
        ({"n_samples_values": (30, 10)}, ValueError, "n_samples_values must be strictly increasing"),
        ({"n_samples_values": (0, 10)}, ValueError, "n_samples_values entry must be an int >= 1"),
        ({"n_samples_values": (10, 2.5)}, TypeError, "n_samples_values entry must be an int"),
        ({"x_grid": X_GRID[::-1]}, ValueError, "x_grid must be strictly increasing"),
        ({"x_grid": np.ones((5, 2))}, ValueError, r"x_grid must be a non-empty 1-D array"),
        ({"truth": np.ones(3)}, ValueError, r"truth must have one value per grid point \(81\)"),
        ({"seed": -1}, ValueError, "seed"),
        ({"mode": "train"}, ValueError, r"mode must be 'mc' \(MC dropout\) or 'eval' \(model.eval\(\)\), got 'train'"),
        ({"mode": "Eval"}, ValueError, r"mode must be 'mc' .*got 'Eval'"),
        ({"mode": None}, TypeError, r"mode must be a str, 'mc' .*got NoneType None"),
        ({"mode": 1}, TypeError, r"mode must be a str, 'mc' .*got int 1"),
    ],
)
def test_demo_validates_its_settings(models, data, kwargs, error, message):
    with pytest.raises(error, match=message):
        _demo(models, data, **kwargs)


def test_demo_needs_one_dimensional_regression_data(models, data):
    with pytest.raises(TypeError, match="data must have X_train and y_train tensors"):
        MCRegressionDemo(models, (data.X_train, data.y_train), x_grid=X_GRID)

    class TwoFeatures:
        X_train = torch.zeros(4, 2)
        y_train = torch.zeros(4, 1)

    with pytest.raises(ValueError, match=r"data.X_train must have shape \(n, 1\)"):
        MCRegressionDemo(models, TwoFeatures(), x_grid=X_GRID)


def test_a_model_of_another_dtype_gets_inputs_of_its_dtype(data):
    network = make_mlp((1, 8, 1), dropout=0.2).double()
    demo = MCRegressionDemo({0.2: network}, data, x_grid=X_GRID)
    mean, std = demo.prediction()
    assert mean.dtype == np.float64 and np.isfinite(std).all() and std.min() > 0

"""Tests for the helpers in course_lib.widgets that the chapter demos share."""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib.widgets import _fit_window, _fitted_png, _format_point, _rate_slider, _readout_panel, figure_to_png


def test_figure_to_png_is_reproducible():
    def draw() -> bytes:
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [1, 0])
        return figure_to_png(fig)

    assert draw() == draw()
    with pytest.raises(TypeError, match="Figure"):
        figure_to_png("figure")


def test_rate_slider_spans_the_drop_rates_of_the_demos():
    slider = _rate_slider(0.3)
    assert isinstance(slider, widgets.FloatSlider)
    assert (slider.value, slider.min, slider.max, slider.step) == (0.3, 0.0, 0.9, 0.05)
    assert slider.description == "drop rate p" and slider.readout_format == ".2f"


def test_readout_panel_lays_out_the_controls_and_observes_each_of_them():
    first = widgets.FloatSlider(value=0.1)
    second = widgets.ToggleButtons(options=["a", "b"], value="a")
    changes = []
    readout, image, panel = _readout_panel((first, second), changes.append)
    assert isinstance(readout, widgets.HTML) and readout.value == ""
    assert isinstance(image, widgets.Image) and image.format == "png"
    assert isinstance(panel, widgets.VBox) and panel.children[1:] == (readout, image)
    assert panel.children[0].children == (first, second)
    first.value = 0.5
    second.value = "b"
    assert [(change["owner"], change["new"]) for change in changes] == [(first, 0.5), (second, "b")]


def test_format_point_prints_every_coordinate_to_four_decimals():
    assert _format_point(np.array([2.0, -0.123456])) == "(2.0000, -0.1235)"
    assert _format_point([1 / 3, 0.0, 1e-5]) == "(0.3333, 0.0000, 0.0000)"


def test_every_demo_panel_stores_one_readable_line_and_takes_its_own_rows() -> None:
    from course_lib.widgets import STORED_TEXT, DemoBox, _labelled_row
    from course_lib.widgets.adamw import AdamPathsDemo
    from course_lib.widgets.weight_decay import ConstraintGeometryDemo

    for demo in (AdamPathsDemo(), ConstraintGeometryDemo()):
        assert isinstance(demo.widget, DemoBox)
        assert demo.widget._repr_mimebundle_()["text/plain"] == STORED_TEXT
    toggle = widgets.ToggleButtons(options=["a", "b"])
    row = _labelled_row("mode", toggle)
    readout, image, panel = _readout_panel((toggle,), lambda change: None, rows=[row])
    assert panel.children == (row, readout, image) and row.children[0].value == "mode"


# --- sharp pictures: rendered at the size they are shown, every artist inside ---------------------

def _demos():
    from course_lib.widgets.adamw import AdamPathsDemo
    from course_lib.models import make_mlp
    from course_lib.synthetic import make_gap_regression
    from course_lib.widgets.dropout import DropoutNetworkDemo, RunningMeanDemo
    from course_lib.widgets.label_smoothing import SmoothingDemo
    from course_lib.widgets.mc_dropout import MCRegressionDemo
    from course_lib.widgets.variants import MaskDemo
    from course_lib.widgets.weight_decay import ConstraintGeometryDemo

    regressors = {p: make_mlp((1, 16, 16, 1), dropout=p, seed=0) for p in (0.1, 0.2)}  # untrained: only the layout matters
    mc_demo = MCRegressionDemo(regressors, make_gap_regression(), x_grid=np.linspace(-4.0, 4.0, 41), tau_values=(100.0,))
    return [DropoutNetworkDemo(), RunningMeanDemo(), mc_demo, ConstraintGeometryDemo(), AdamPathsDemo(), SmoothingDemo(),
            MaskDemo(), MaskDemo(channels=8, show_scale=True)]


def _png_pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_every_demo_png_has_twice_the_pixels_of_its_fixed_css_width():
    # A figure of w inches is shown w * WIDGET_CSS_DPI CSS pixels wide and rendered at WIDGET_PIXEL_RATIO
    # device pixels per CSS pixel; the old rendering (rcParams' 80 dpi, no layout width, stretched by the
    # browser) fails every line below.
    from course_lib.widgets import WIDGET_CSS_DPI, WIDGET_PIXEL_RATIO

    assert (WIDGET_CSS_DPI, WIDGET_PIXEL_RATIO) == (120, 2)
    for demo in _demos():
        width, height = demo.static_figure().get_size_inches()
        css_width = round(width * WIDGET_CSS_DPI)
        assert 700 <= css_width <= 900, type(demo).__name__  # fills a JupyterLab cell without overflowing it
        assert demo.image.layout.width == f"{css_width}px", type(demo).__name__
        assert (demo.image.layout.max_width, demo.image.layout.height) == ("100%", "auto")
        rows, columns, _ = _png_pixels(demo.image.value).shape
        assert (columns, rows) == (css_width * WIDGET_PIXEL_RATIO, round(height * WIDGET_CSS_DPI) * WIDGET_PIXEL_RATIO)


def test_no_demo_draws_into_the_border_of_its_png():
    # Text running past the figure's edge (the clipped legend of the constraint picture) paints the
    # outermost pixels; the layout keeps a padding there, so they are background white in every demo.
    for demo in _demos():
        pixels = _png_pixels(demo.image.value)
        border = np.concatenate([pixels[:4].reshape(-1, 3), pixels[-4:].reshape(-1, 3),
                                 pixels[:, :4].reshape(-1, 3), pixels[:, -4:].reshape(-1, 3)])
        assert border.min() == 255, type(demo).__name__


def test_figure_to_png_renders_at_the_figure_dpi_whatever_savefig_dpi_says():
    fig = Figure(figsize=(2.0, 1.5), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    with matplotlib.rc_context({"savefig.dpi": 80}):
        assert _png_pixels(figure_to_png(fig)).shape == (75, 100, 3)


def test_fit_window_is_the_figure_when_everything_fits_and_holds_an_overflowing_legend_otherwise():
    def figure(figsize: tuple[float, float], legend_text: str) -> Figure:
        fig = Figure(figsize=figsize, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], label=legend_text)
        ax.set_aspect("equal")  # beside an axes of fixed aspect, constrained layout leaves too little room
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return fig

    fitting = figure((4.0, 2.0), "a")
    np.testing.assert_allclose(_fit_window(fitting).extents, (0.0, 0.0, 4.0, 2.0), atol=0.005)
    assert fitting.get_layout_engine() is None  # laid out once and for all
    assert figure_to_png(fitting) == _fitted_png(figure((4.0, 2.0), "a"))

    # (figsize, label): a legend too wide for the figure (the window grows, the picture shrinks), and one
    # that fits once the picture moves left into the room the equal aspect leaves (the window shifts).
    for figsize, label, grows in [((4.0, 2.0), "a longer legend label", True),
                                  ((6.0, 2.5), "a rather longer legend label here", False)]:
        fig = figure(figsize, label)
        window = _fit_window(fig)
        if grows:
            assert window.width > figsize[0]
        else:
            assert window.width == pytest.approx(figsize[0]) and window.x0 > 0.05
        assert window.width / window.height == pytest.approx(figsize[0] / figsize[1])
        renderer = FigureCanvasAgg(fig).get_renderer()
        legend = fig.axes[0].get_legend().get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
        assert window.x0 <= legend.x0 and legend.x1 <= window.x1 and window.y0 <= legend.y0 and legend.y1 <= window.y1
        rows, columns, _ = _png_pixels(_fitted_png(figure(figsize, label))).shape
        assert (columns, rows) == (round(figsize[0] * 100), round(figsize[1] * 100))
    with pytest.raises(ValueError, match="constrained layout"):
        _fit_window(Figure(layout="tight"))  # explicit: a bare Figure() follows rcParams, which the book style sets
    with pytest.raises(ValueError, match="constrained layout"):
        _fit_window(Figure(layout="none"))

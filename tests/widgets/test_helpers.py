"""Tests for the helpers in course_lib.widgets that the chapter demos share."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.widgets import _format_point, _rate_slider, _readout_panel, figure_to_png


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

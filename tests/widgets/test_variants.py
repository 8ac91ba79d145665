"""Tests for course_lib.widgets.variants: the masks, the readout, and the mask demo driven like a user would."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.dropout import inverted_dropout
from course_lib.variants import drop_block2d, spatial_dropout
from course_lib.widgets import STORED_TEXT, DemoBox
from course_lib.widgets.variants import (
    AVERAGED_DRAWS,
    BLOCK_SIZES,
    VARIANTS,
    MaskDemo,
    draw_masks,
    mask_demo_figsize,
    mask_readout_text,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _images(fig) -> list[np.ndarray]:
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


def _gamma(p: float, bs: int, h: int, w: int) -> float:
    """Ghiasi et al.'s seed rate, written out independently of the code under test."""
    return p * h * w / (bs * bs * (h - bs + 1) * (w - bs + 1))


# --- the seed rate, the masks and the readout ------------------------------------------------------


def test_draw_masks_are_the_real_implementations_on_a_tensor_of_ones():
    ones = torch.ones(1, 4, 24, 24)
    expected = {
        "dropout": inverted_dropout(ones, 0.2, generator=torch.Generator().manual_seed(3)),
        "spatial dropout": spatial_dropout(ones, 0.2, generator=torch.Generator().manual_seed(3)),
        "dropblock": drop_block2d(ones, 0.2, 5, generator=torch.Generator().manual_seed(3)),
    }
    for variant, mask in expected.items():
        drawn = draw_masks(variant, 0.2, 5, 4, 24, seed=3)
        assert drawn.shape == (1, 4, 24, 24) and drawn.dtype == np.float64
        np.testing.assert_array_equal(drawn, mask.double().numpy())
        np.testing.assert_array_equal(drawn, draw_masks(variant, 0.2, 5, 4, 24, seed=3))  # deterministic
        assert not np.array_equal(drawn, draw_masks(variant, 0.2, 5, 4, 24, seed=4))


def test_draw_masks_have_the_structure_and_scale_of_each_variant():
    dropout = draw_masks("dropout", 0.2, 5, 4, 24, seed=0, draws=AVERAGED_DRAWS)
    assert set(np.unique(dropout)) == {0.0, np.float32(1 / 0.8)}
    spatial = draw_masks("spatial dropout", 0.2, 5, 4, 24, seed=0, draws=AVERAGED_DRAWS)
    assert np.all(spatial == spatial[:, :, :1, :1])  # one value per example and channel
    block = draw_masks("dropblock", 0.2, 5, 4, 24, seed=0)
    kept = block != 0
    assert np.all(block[kept] == pytest.approx(block.size / kept.sum(), rel=1e-6))  # numel / count_kept
    # At p = 0.2 with 400 draws of 2304 entries the mean dropped share of plain and spatial dropout is within
    # 5 standard errors of p (plain: sqrt(0.16 / 230400) = 0.0008; spatial: 400 channels, 0.02).
    assert abs(np.mean(dropout == 0) - 0.2) < 5 * 0.0008
    assert abs(np.mean(spatial == 0) - 0.2) < 5 * 0.02
    assert np.all(draw_masks("dropblock", 0.0, 5, 2, 12, seed=0) == 1.0)


def test_readout_of_the_default_dropblock_setting():
    assert mask_readout_text("dropblock", 0.1, 5, 4, 24, 0.0868, 0.0931) == (
        "DropBlock, p = 0.10, block 5×5: this draw drops 8.7% of the 4 × 24 × 24 entries (asked for 10.0%); "
        "seed rate γ = p/bs² · HW/((H−bs+1)(W−bs+1)) = 0.1/25 · 576/400 = 0.00576; "
        "mean over 100 draws: 9.3% dropped")


@pytest.mark.parametrize(("p", "bs", "size"), [(0.1, 5, 24), (0.37, 7, 32), (0.05, 11, 11), (0.5, 1, 12)])
def test_readout_states_gamma_by_the_formula(p, bs, size):
    text = mask_readout_text("dropblock", p, bs, 3, size, 0.5, 0.25)
    assert f"block {bs}×{bs}:" in text and "drops 50.0% of the 3 × " in text and "25.0% dropped" in text
    assert f"= {p:g}/{bs * bs} · {size * size}/{(size - bs + 1) ** 2} = {_gamma(p, bs, size, size):.4g};" in text


def test_readout_of_dropout_and_spatial_dropout_has_no_gamma_and_counts_the_channels():
    plain = mask_readout_text("dropout", 0.25, 5, 4, 24, 0.2474, 0.2501)
    assert plain == ("dropout, p = 0.25: this draw drops 24.7% of the 4 × 24 × 24 entries (asked for 25.0%); "
                     "mean over 100 draws: 25.0% dropped")
    spatial = mask_readout_text("spatial dropout", 0.3, 5, 8, 24, 3 / 8, 0.29, draws=50)
    assert spatial == ("spatial dropout, p = 0.30: this draw drops 37.5% of the 8 × 24 × 24 entries "
                       "(asked for 30.0%): 3 of 8 channels; mean over 50 draws: 29.0% dropped")
    assert "γ" not in plain + spatial and "block" not in plain + spatial


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (("DropBlock", 0.1, 5, 4, 24, 0.1, 0.1), ValueError,
         r"variant must be one of \('dropout', 'spatial dropout', 'dropblock'\), got 'DropBlock'"),
        ((3, 0.1, 5, 4, 24, 0.1, 0.1), TypeError, r"variant must be a str, one of \(.*\), got int"),
        (("dropout", 0.1, 5, 4, 24, 1.5, 0.1), ValueError, r"realised must be a fraction in \[0, 1\], got 1.5"),
        (("dropout", 0.1, 5, 4, 24, 0.1, -0.1), ValueError, r"mean_realised must be a fraction in \[0, 1\], got -0.1"),
        (("dropout", 0.1, 5, 4, 24, "0.1", 0.1), TypeError, "realised must be a real number"),
        (("dropblock", 0.1, 5, 4, 4, 0.1, 0.1), ValueError, "size must be an int >= 5, got 4"),
        (("dropout", 1.0, 5, 4, 24, 0.1, 0.1), ValueError, r"p must be in \[0, 1\)"),
    ],
)
def test_readout_validates_its_input(arguments, error, message):
    with pytest.raises(error, match=message):
        mask_readout_text(*arguments)


# --- the demo at its defaults --------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_demo() -> MaskDemo:
    return MaskDemo()


def test_default_state_controls_and_layout(default_demo):
    demo = default_demo
    assert demo.setting == ("dropblock", 0.1, 5, 0, False) == demo.default_setting
    buttons, p, block, seed, scale = (demo.variant_buttons, demo.p_slider, demo.block_size_slider, demo.seed_slider,
                                      demo.scale_checkbox)
    assert isinstance(buttons, widgets.ToggleButtons)
    assert buttons.options == (("dropout", "dropout"), ("spatial dropout", "spatial dropout"),
                               ("DropBlock", "dropblock"))
    assert (buttons.value, buttons.label) == ("dropblock", "DropBlock")
    assert isinstance(p, widgets.FloatSlider) and (p.min, p.max, p.step, p.value) == (0.0, 0.5, 0.01, 0.1)
    assert isinstance(block, widgets.IntSlider) and (block.min, block.max, block.step, block.value) == (1, 11, 2, 5)
    assert tuple(range(block.min, block.max + 1, block.step)) == BLOCK_SIZES and not block.disabled
    assert isinstance(seed, widgets.IntSlider) and (seed.min, seed.max, seed.value) == (0, 999, 0)
    assert isinstance(scale, widgets.Checkbox) and scale.description == "show the kept scale" and not scale.value
    assert isinstance(demo.new_draw_button, widgets.Button)
    assert isinstance(demo.widget, DemoBox) and demo.widget._repr_mimebundle_()["text/plain"] == STORED_TEXT
    assert demo.widget.children[-2:] == (demo.readout, demo.image)
    rows = demo.widget.children[:-2]
    assert rows[0].children[1] is buttons and rows[1].children == (p, block)
    assert rows[2].children == (seed, demo.new_draw_button, scale)
    assert bytes(demo.image.value).startswith(b"\x89PNG")


def test_default_readout_numbers_equal_the_formulas(default_demo):
    masks = drop_block2d(torch.ones(1, 4, 24, 24), 0.1, 5, generator=torch.Generator().manual_seed(0))[0].numpy()
    np.testing.assert_array_equal(default_demo.masks(), masks)
    batch = drop_block2d(torch.ones(AVERAGED_DRAWS, 4, 24, 24), 0.1, 5, generator=torch.Generator().manual_seed(0))
    mean_realised = float((batch == 0).double().mean())
    assert default_demo.mean_realised_fraction() == pytest.approx(mean_realised, abs=1e-12)
    realised = float(np.mean(masks == 0))
    text = mask_readout_text("dropblock", 0.1, 5, 4, 24, realised, mean_realised)
    assert default_demo.readout_text() == text
    setting, numbers = text.split(": ", 1)
    assert default_demo.readout.value == f"<b>{setting}</b>: {numbers}"
    assert f"this draw drops {100 * realised:.1f}% of the 4 × 24 × 24" in text
    assert f"= {_gamma(0.1, 5, 24, 24):.4g};" in text and f"mean over 100 draws: {100 * mean_realised:.1f}%" in text
    # DropBlock's blocks overlap: the mean over 100 draws lies below p, within the docstring table's 0.9 p-p.
    assert 0.08 < mean_realised < 0.1


def test_static_figure_draws_the_default_state():
    demo = MaskDemo()
    demo.variant_buttons.value = "dropout"  # the static figure ignores the controls: it is the book's picture
    demo.p_slider.value = 0.4
    demo.seed_slider.value = 7
    demo.scale_checkbox.value = True
    fig = demo.static_figure()
    assert plt.fignum_exists(fig.number) and tuple(fig.get_size_inches()) == mask_demo_figsize(4) == (7.2, 2.95)
    assert fig.get_suptitle() == "DropBlock masks, p = 0.10, block 5×5, seed 0: one panel per channel"
    default = demo.masks(demo.default_setting)
    images = _images(fig)
    assert len(images) == 4
    for channel, image in enumerate(images):
        np.testing.assert_array_equal(image, default[channel])
        assert fig.axes[channel].get_title().startswith(
            f"channel {channel + 1}\ndropped {100 * np.mean(default[channel] == 0):.1f}%")
    assert not [ax for ax in fig.axes if ax.get_gid() == "colorbar"]  # the default colours: kept / dropped


def test_the_kept_scale_option_colours_by_value_with_a_colour_bar():
    fig = MaskDemo(show_scale=True, variant="dropout", p=0.2).static_figure()
    (colorbar,) = [ax for ax in fig.axes if ax.get_gid() == "colorbar"]
    assert [tick.get_text() for tick in colorbar.get_xticklabels()] == ["0", "1.25"]  # 1 / (1 - p)


# --- driven like a user ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("control", "value", "setting"),
    [
        ("variant_buttons", "dropout", ("dropout", 0.1, 5, 0, False)),
        ("variant_buttons", "spatial dropout", ("spatial dropout", 0.1, 5, 0, False)),
        ("p_slider", 0.3, ("dropblock", 0.3, 5, 0, False)),
        ("block_size_slider", 9, ("dropblock", 0.1, 9, 0, False)),
        ("seed_slider", 5, ("dropblock", 0.1, 5, 5, False)),
    ],
)
def test_each_control_changes_the_readout_and_the_picture(control, value, setting):
    demo = MaskDemo()
    image, readout = demo.image.value, demo.readout.value
    getattr(demo, control).value = value
    assert demo.setting == setting
    assert demo.image.value != image and demo.readout.value != readout
    variant, p, block_size, seed, _ = setting
    masks = draw_masks(variant, p, block_size, 4, 24, seed)[0]
    assert f"this draw drops {100 * np.mean(masks == 0):.1f}%" in demo.readout.value


def test_the_kept_scale_checkbox_changes_the_picture_but_not_the_numbers():
    demo = MaskDemo()
    image, readout = demo.image.value, demo.readout.value
    demo.scale_checkbox.value = True
    assert demo.image.value != image and demo.readout.value == readout


def test_the_new_draw_button_takes_the_next_seed_and_wraps_around():
    demo = MaskDemo(seed=998)
    image = demo.image.value
    demo.new_draw_button.click()
    assert demo.seed_slider.value == 999 and demo.image.value != image
    demo.new_draw_button.click()
    assert demo.seed_slider.value == 0
    assert demo.image.value == MaskDemo().image.value


def test_block_size_is_disabled_and_ignored_unless_dropblock():
    demo = MaskDemo(variant="dropout")
    assert demo.block_size_slider.disabled
    image, readout = demo.image.value, demo.readout.value
    demo.block_size_slider.value = 11
    assert demo.image.value == image and demo.readout.value == readout
    demo.variant_buttons.value = "dropblock"
    assert not demo.block_size_slider.disabled
    assert "block 11×11" in demo.readout.value


def test_the_same_setting_gives_the_same_picture(default_demo):
    demo = MaskDemo()
    assert demo.image.value == default_demo.image.value
    demo.variant_buttons.value = "spatial dropout"
    demo.p_slider.value = 0.45
    demo.seed_slider.value = 12
    demo.block_size_slider.value = 3
    demo.variant_buttons.value = "dropblock"
    demo.p_slider.value = 0.1
    demo.seed_slider.value = 0
    demo.block_size_slider.value = 5
    assert demo.image.value == default_demo.image.value and demo.readout.value == default_demo.readout.value


def test_spatial_dropout_panels_are_constant_per_channel_and_the_readout_counts_them():
    demo = MaskDemo(variant="spatial dropout", p=0.5, seed=1)
    masks = demo.masks()
    dropped = int(sum(np.all(channel == 0) for channel in masks))
    assert all(len(np.unique(channel)) == 1 for channel in masks)
    assert f": {dropped} of 4 channels;" in demo.readout.value


def test_a_p_value_off_its_two_decimals_is_read_rounded():
    demo = MaskDemo()
    demo.p_slider.value = 0.07 + 1e-12
    assert demo.setting[1] == 0.07 and demo.readout_text().startswith("DropBlock, p = 0.07, block 5×5:")


def test_more_channels_take_more_rows():
    demo = MaskDemo(channels=6, size=16)
    assert mask_demo_figsize(6) == (7.2, 4.9)
    fig = demo.static_figure()
    assert tuple(fig.get_size_inches()) == (7.2, 4.9) and len(_images(fig)) == 6
    assert all(image.shape == (16, 16) for image in _images(fig))
    assert "of the 6 × 16 × 16 entries" in demo.readout.value


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"variant": "DropBlock"}, ValueError, "variant must be one of"),
        ({"p": 0.6}, ValueError, "p must be one of the p slider's stops"),
        ({"p": 0.105}, ValueError, "p must be one of the p slider's stops"),
        ({"p": -0.1}, ValueError, r"p must be in \[0, 1\)"),
        ({"block_size": 4}, ValueError,
         r"block_size must be one of the block-size slider's stops \(1, 3, 5, 7, 9, 11\), got 4"),
        ({"block_size": 5.0}, TypeError, "block_size must be an int"),
        ({"channels": 9}, ValueError, r"channels must be in \[1, 8\], got 9"),
        ({"size": 10}, ValueError, r"size must be in \[11, 64\], got 10"),
        ({"seed": 1000}, ValueError, r"seed must be in \[0, 999\], got 1000"),
        ({"show_scale": 1}, TypeError, "show_scale must be a bool"),
    ],
)
def test_demo_validates_its_default_state(kwargs, error, message):
    with pytest.raises(error, match=message):
        MaskDemo(**kwargs)


def test_variants_name_their_buttons():
    assert VARIANTS == {"dropout": "dropout", "spatial dropout": "spatial dropout", "dropblock": "DropBlock"}

r"""Dropout-variants chapter demo: the masks of dropout, spatial dropout and DropBlock on one feature map.

Built as described in :mod:`course_lib.widgets`, on the figure of
:mod:`course_lib.plots.variants`:

* :class:`MaskDemo` -- the mask that plain dropout
  (:func:`course_lib.dropout.inverted_dropout`), spatial dropout
  (:func:`course_lib.variants.spatial_dropout`) or DropBlock
  (:func:`course_lib.variants.drop_block2d`) puts on a tensor of ones of shape
  ``(1, channels, size, size)``, one panel per channel, with controls for the
  variant, the drop rate, the block size, the seed and the colouring, and a
  readout (:func:`mask_readout_text`) of the realised dropped fraction of the
  draw, DropBlock's seed rate γ and the mean fraction over 100 draws.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from course_lib._validation import check_bool, check_choice, check_int, check_probability, check_real
from course_lib.dropout import inverted_dropout
from course_lib.plots import variants as variants_plots
from course_lib.variants import drop_block2d, drop_block_seed_rate, spatial_dropout
from course_lib.widgets import WIDGET_CSS_DPI, WIDGET_PIXEL_RATIO, _labelled_row, _readout_panel, _show_figure

__all__ = [
    "VARIANTS",
    "RATE_RANGE",
    "RATE_STEP",
    "BLOCK_SIZES",
    "CHANNELS_RANGE",
    "SIZE_RANGE",
    "SEED_RANGE",
    "AVERAGED_DRAWS",
    "MASK_DEMO_WIDTH",
    "mask_demo_figsize",
    "draw_masks",
    "mask_readout_text",
    "MaskDemo",
]

#: The variant toggle: value -> the label on its button.
VARIANTS = {"dropout": "dropout", "spatial dropout": "spatial dropout", "dropblock": "DropBlock"}
#: The p slider's range and step (every value it takes has two decimals).
RATE_RANGE = (0.0, 0.5)
RATE_STEP = 0.01
#: The block-size slider's stops: odd sides, so every block has a centre (Ghiasi et al. use 7 on ResNet-50).
BLOCK_SIZES = (1, 3, 5, 7, 9, 11)
#: Channels (panels) and the side of the square map the demo accepts.
CHANNELS_RANGE = (1, 8)
SIZE_RANGE = (BLOCK_SIZES[-1], 64)
#: The seed slider's range.
SEED_RANGE = (0, 999)
#: How many draws the readout's mean realised fraction averages (one batch).
AVERAGED_DRAWS = 100
#: The picture's width in inches: 864 CSS pixels.
MASK_DEMO_WIDTH = 7.2
_PANELS_PER_ROW = 4
_ROW_HEIGHT, _EXTRA_HEIGHT = 1.95, 1.0  # the extra height holds the titles and the legend or colour bar


def mask_demo_figsize(channels: int) -> tuple[float, float]:
    """The demo picture's size: :data:`MASK_DEMO_WIDTH` wide, one row per four channels.

    Example:
        >>> mask_demo_figsize(4), mask_demo_figsize(5)
        ((7.2, 2.95), (7.2, 4.9))
    """
    channels = _check_channels(channels)
    rows = math.ceil(channels / _PANELS_PER_ROW)
    return MASK_DEMO_WIDTH, round(_EXTRA_HEIGHT + _ROW_HEIGHT * rows, 6)


# --- argument checks -------------------------------------------------------------------------


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    value = check_int(name, value)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{name} must be in [{bounds[0]}, {bounds[1]}], got {value}")
    return value


def _check_channels(channels: int) -> int:
    return _check_range("channels", channels, CHANNELS_RANGE)


def _check_variant(variant: str) -> str:
    return check_choice("variant", variant, VARIANTS)


def _check_rate(p: float) -> float:
    """``p`` as one of the slider's stops 0, 0.01, ..., 0.5 (rounded to two decimals)."""
    p = check_probability("p", p)
    stop = round(p / RATE_STEP)
    if p > RATE_RANGE[1] or not math.isclose(p, stop * RATE_STEP, abs_tol=1e-9):
        raise ValueError(f"p must be one of the p slider's stops 0, {RATE_STEP:g}, ..., {RATE_RANGE[1]:g}, got {p!r}")
    return round(stop * RATE_STEP, 2)


def _check_block_size(block_size: int) -> int:
    block_size = check_int("block_size", block_size)
    if block_size not in BLOCK_SIZES:
        raise ValueError(f"block_size must be one of the block-size slider's stops {BLOCK_SIZES}, got {block_size}")
    return block_size


# --- the masks and the readout ------------------------------------------------------------------


def draw_masks(variant: str, p: float, block_size: int, channels: int, size: int, seed: int,
               draws: int = 1) -> np.ndarray:
    r"""The masks a variant puts on ``torch.ones(draws, channels, size, size)``, drawn from the seed ``seed``.

    The randomness is ``torch.Generator().manual_seed(seed)``. Plain dropout is
    :func:`course_lib.dropout.inverted_dropout` (Bernoulli(1 − p)
    keep mask divided by 1 − p, the rule of ``F.dropout``, which takes no
    generator), spatial dropout :func:`course_lib.variants.spatial_dropout` (one
    mask entry per example and channel), DropBlock
    :func:`course_lib.variants.drop_block2d` (kept entries scaled by
    ``numel / count_kept`` of the whole batch). On a tensor of ones the output
    is the mask itself: 0 where dropped, the kept scale elsewhere. The same
    arguments give the same masks.

    Returns:
        A float64 array of shape ``(draws, channels, size, size)``.

    Example:
        >>> masks = draw_masks("spatial dropout", 0.5, 1, 4, 12, seed=0)
        >>> masks.shape, sorted(set(masks.ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        ((1, 4, 12, 12), True)
    """
    variant = _check_variant(variant)
    p = check_probability("p", p)
    block_size = check_int("block_size", block_size, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    size = check_int("size", size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    draws = check_int("draws", draws, minimum=1)
    generator = torch.Generator().manual_seed(seed)
    ones = torch.ones(draws, channels, size, size)
    if variant == "dropout":
        masks = inverted_dropout(ones, p, generator=generator)
    elif variant == "spatial dropout":
        masks = spatial_dropout(ones, p, generator=generator)
    else:
        masks = drop_block2d(ones, p, block_size, generator=generator)
    return masks.double().numpy()


def mask_readout_text(variant: str, p: float, block_size: int, channels: int, size: int, realised: float,
                      mean_realised: float, draws: int = AVERAGED_DRAWS) -> str:
    r"""The readout of :class:`MaskDemo`: the setting, this draw's dropped fraction, DropBlock's γ, the mean over draws.

    The fractions are given in percent to one decimal; DropBlock's seed rate
    :math:`\gamma` (:func:`course_lib.variants.drop_block_seed_rate`) to four significant digits;
    the requested rate as p.

    Example:
        >>> print(mask_readout_text("dropblock", 0.1, 5, 4, 24, 0.0868, 0.0931))
        DropBlock, p = 0.10, block 5×5: this draw drops 8.7% of the 4 × 24 × 24 entries (asked for 10.0%); seed rate γ = p/bs² · HW/((H−bs+1)(W−bs+1)) = 0.1/25 · 576/400 = 0.00576; mean over 100 draws: 9.3% dropped
        >>> print(mask_readout_text("spatial dropout", 0.25, 5, 4, 24, 0.25, 0.2475))
        spatial dropout, p = 0.25: this draw drops 25.0% of the 4 × 24 × 24 entries (asked for 25.0%): 1 of 4 channels; mean over 100 draws: 24.8% dropped
    """
    variant = _check_variant(variant)
    p = check_probability("p", p)
    block_size = check_int("block_size", block_size, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    size = check_int("size", size, minimum=block_size)
    draws = check_int("draws", draws, minimum=1)
    fractions = {}
    for name, value in (("realised", realised), ("mean_realised", mean_realised)):
        value = check_real(name, value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
        fractions[name] = value
    setting = f"{VARIANTS[variant]}, p = {p:.2f}"
    if variant == "dropblock":
        setting += f", block {block_size}×{block_size}"
    text = (f"{setting}: this draw drops {100 * fractions['realised']:.1f}% of the {channels} × {size} × {size} "
            f"entries (asked for {100 * p:.1f}%)")
    if variant == "spatial dropout":
        text += f": {round(fractions['realised'] * channels)} of {channels} channels"
    if variant == "dropblock":
        gamma = drop_block_seed_rate(p, block_size, (size, size))
        valid = (size - block_size + 1) ** 2
        text += (f"; seed rate γ = p/bs² · HW/((H−bs+1)(W−bs+1)) = {p:g}/{block_size**2} · {size * size}/{valid} "
                 f"= {gamma:.4g}")
    return text + f"; mean over {draws} draws: {100 * fractions['mean_realised']:.1f}% dropped"


# --- the demo ------------------------------------------------------------------------------------


class MaskDemo:
    r"""The masks of dropout, spatial dropout and DropBlock on one ``(1, C, size, size)`` map, one panel per channel.

    The picture is :func:`course_lib.plots.variants.plot_mask_gallery` of the
    mask each channel gets (:func:`draw_masks`: the real implementations on a
    tensor of ones, from a ``torch.Generator`` seeded with the seed slider):
    plain dropout scatters single zeros, spatial dropout zeroes whole
    channels, DropBlock zeroes ``bs × bs`` squares (its seeds drawn at rate
    :math:`\gamma = \frac{p}{bs^2}\frac{HW}{(H-bs+1)(W-bs+1)}` where a whole
    block fits). The readout (:func:`mask_readout_text`) gives this draw's
    dropped fraction against p, γ for DropBlock, and the mean fraction over
    :data:`AVERAGED_DRAWS` further draws (one batch, same seed), which for
    DropBlock sits a little below p because blocks overlap.

    What to look for: at the same p the three variants drop about the same
    share of the map, in ever larger pieces; a larger block needs fewer seeds
    (γ falls like 1/bs²) and its fraction of one draw varies more; block size
    1 is plain dropout (with the kept-fraction scale).

    Controls: ``variant_buttons`` (``ToggleButtons``: "dropout", "spatial dropout",
    "DropBlock", values the keys of :data:`VARIANTS`), ``p_slider`` (a
    ``FloatSlider`` 0 to 0.5 in steps of 0.01, read rounded to two decimals),
    ``block_size_slider`` (an ``IntSlider`` over the odd sides 1 to 11, disabled
    unless DropBlock is chosen), ``seed_slider`` (an ``IntSlider``, 0 to 999),
    ``new_draw_button`` (the next seed) and ``scale_checkbox`` ("show the kept
    scale": colour the kept entries by their multiplier, :math:`1/(1-p)` or
    DropBlock's ``numel / count_kept``, with a colour bar, instead of plain
    kept/dropped). ``readout`` shows the readout (setting in bold), ``image``
    the picture. Display ``demo.widget``; :meth:`static_figure` draws the
    default state. The same setting always gives the same picture on one
    machine; torch's Bernoulli sampler may draw other masks on another
    processor, so a chapter prints no number read off this demo (its readout
    is not stored in the notebook, and nbval ignores PNG bytes).

    Args:
        variant: the default variant, a key of :data:`VARIANTS`.
        p: the default drop rate, one of 0, 0.01, ..., 0.5.
        block_size: the default block side, one of :data:`BLOCK_SIZES`.
        channels: the number of channels (panels), in [1, 8].
        size: the side of the square map, in [11, 64].
        seed: the default seed, in [0, 999].
        show_scale: the default of the "show the kept scale" checkbox.
    """

    def __init__(self, variant: str = "dropblock", p: float = 0.1, block_size: int = 5, channels: int = 4,
                 size: int = 24, seed: int = 0, show_scale: bool = False) -> None:
        variant = _check_variant(variant)
        p = _check_rate(p)
        block_size = _check_block_size(block_size)
        self.channels = _check_channels(channels)
        self.size = _check_range("size", size, SIZE_RANGE)
        seed = _check_range("seed", seed, SEED_RANGE)
        show_scale = check_bool("show_scale", show_scale)
        self.default_setting = (variant, p, block_size, seed, show_scale)
        self.variant_buttons = widgets.ToggleButtons(options=[(label, key) for key, label in VARIANTS.items()],
                                                     value=variant)
        self.p_slider = widgets.FloatSlider(value=p, min=RATE_RANGE[0], max=RATE_RANGE[1], step=RATE_STEP,
                                            description="drop rate p", readout_format=".2f")
        self.block_size_slider = widgets.IntSlider(value=block_size, min=BLOCK_SIZES[0], max=BLOCK_SIZES[-1],
                                                   step=BLOCK_SIZES[1] - BLOCK_SIZES[0], description="block size")
        self.seed_slider = widgets.IntSlider(value=seed, min=SEED_RANGE[0], max=SEED_RANGE[1], description="seed")
        self.new_draw_button = widgets.Button(description="new draw", tooltip="the next seed")
        self.new_draw_button.on_click(self._next_seed)
        self.scale_checkbox = widgets.Checkbox(value=show_scale, description="show the kept scale", indent=False)
        controls = (self.variant_buttons, self.p_slider, self.block_size_slider, self.seed_slider, self.scale_checkbox)
        rows = [_labelled_row("variant", self.variant_buttons),
                widgets.HBox([self.p_slider, self.block_size_slider]),
                widgets.HBox([self.seed_slider, self.new_draw_button, self.scale_checkbox])]
        self.readout, self.image, self.widget = _readout_panel(controls, self._on_change, rows=rows)
        self._update()

    # --- the current setting --------------------------------------------------------------

    @property
    def setting(self) -> tuple[str, float, int, int, bool]:
        """``(variant, p, block_size, seed, show_scale)`` of the controls (p rounded to two decimals)."""
        return (self.variant_buttons.value, round(float(self.p_slider.value), 2), int(self.block_size_slider.value),
                int(self.seed_slider.value), bool(self.scale_checkbox.value))

    def masks(self, setting: tuple[str, float, int, int, bool] | None = None) -> np.ndarray:
        """The ``(channels, size, size)`` mask of ``setting`` (default: the controls'), from :func:`draw_masks`."""
        variant, p, block_size, seed, _ = self.setting if setting is None else setting
        return draw_masks(variant, p, block_size, self.channels, self.size, seed)[0]

    def mean_realised_fraction(self, setting: tuple[str, float, int, int, bool] | None = None) -> float:
        """The dropped share of :data:`AVERAGED_DRAWS` masks drawn as one batch from the same seed."""
        variant, p, block_size, seed, _ = self.setting if setting is None else setting
        batch = draw_masks(variant, p, block_size, self.channels, self.size, seed, draws=AVERAGED_DRAWS)
        return float(np.mean(batch == 0.0))

    def readout_text(self, setting: tuple[str, float, int, int, bool] | None = None) -> str:
        """The readout of ``setting`` (default: the controls'), as plain text (what ``readout`` shows)."""
        setting = self.setting if setting is None else setting
        variant, p, block_size, _, _ = setting
        realised = float(np.mean(self.masks(setting) == 0.0))
        return mask_readout_text(variant, p, block_size, self.channels, self.size, realised,
                                 self.mean_realised_fraction(setting))

    # --- drawing ----------------------------------------------------------------------------

    def static_figure(self) -> Figure:
        """The default state (not the controls') as an ordinary pyplot figure, for the HTML book."""
        fig = plt.figure(figsize=mask_demo_figsize(self.channels), layout="constrained")
        return self._draw(fig, self.default_setting)

    def _title(self, setting: tuple[str, float, int, int, bool]) -> str:
        variant, p, block_size, seed, _ = setting
        block = f", block {block_size}×{block_size}" if variant == "dropblock" else ""
        return f"{VARIANTS[variant]} masks, p = {p:.2f}{block}, seed {seed}: one panel per channel"

    def _draw(self, fig: Figure, setting: tuple[str, float, int, int, bool]) -> Figure:
        masks = self.masks(setting)
        panels = {f"channel {c + 1}": variants_plots.MaskPanel(masks[c], "column", "row") for c in range(self.channels)}
        return variants_plots.plot_mask_gallery(panels, ncols=_PANELS_PER_ROW, show_scale=setting[4], fig=fig,
                                                suptitle=self._title(setting))

    def _next_seed(self, _button: widgets.Button) -> None:
        seed = self.seed_slider.value
        self.seed_slider.value = SEED_RANGE[0] if seed >= SEED_RANGE[1] else seed + 1

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        self.block_size_slider.disabled = self.variant_buttons.value != "dropblock"
        setting, numbers = html.escape(self.readout_text()).split(": ", 1)
        self.readout.value = f"<b>{setting}</b>: {numbers}"
        fig = Figure(figsize=mask_demo_figsize(self.channels), dpi=WIDGET_CSS_DPI * WIDGET_PIXEL_RATIO,
                     layout="constrained")
        self._draw(fig, self.setting)
        _show_figure(self.image, fig)

"""The Digits tab: pick a held-out digit, corrupt it, and see every denoiser answer.

Laid out for one projector screen (1280×720 and up): the picker, the noise controls and the
denoiser list share the top row; the result strip spans the width below. Less-used controls
fold away. On a phone the columns stack, so the strip follows the controls.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr
import numpy as np

from dae import corrupt, images, params, service

from . import panels, stage
from .sketchpad import undecoded
from .context import CPU, LIGHT, Context, GALLERY_PER_CLASS, cpu_bound, unconverted, visitor_errors

# What every change of the tab's inputs runs, in the page: ui/digits.js decides where it is
# computed. Without that script (it failed to load), the server renders, as before.
DISPATCH = """(...values) => {
  if (window.daeDigits) window.daeDigits.changed(values);
  else document.getElementById("digits-refresh")?.click();
}"""


@dataclass
class DigitsView:
    """What other tabs follow: the current digit and the corruption controls.

    ``clean`` holds the 28×28 float32 digit, or None for the default one;
    ``corruption`` is ``[noise, level, blur, mean, clip, seed]``, in
    :func:`dae.corrupt.from_controls` order with the seed last.
    """

    clean: gr.State
    corruption: list


def _picker_order(ctx: Context) -> np.ndarray:
    """Gallery indices row by row, so that each of the 10 columns holds one class."""
    return ctx.gallery_idx.reshape(10, GALLERY_PER_CLASS).T.ravel()


def render(ctx: Context, clean, noise, level, blur, mean, clip, seed, methods, error_maps) -> str:
    """The result strip for one digit and one setting of the controls, each checked against
    its declared range (:mod:`dae.params`): the page's own event is callable too."""
    c = params.digit_corruption(noise, level, blur, mean, clip)
    seed = params.seed(seed)
    methods = params.subset("models", methods or [], ctx.digit_methods, [])
    error_maps = params.flag("error maps", bool(error_maps) if error_maps is None else error_maps)
    digit = ctx.default_digit() if clean is None else clean
    r = ctx.lab.digit(digit, c, seed, methods)
    state = [panels.encode_digit(digit), noise, level, blur, mean, clip, seed, methods, error_maps]
    # a fresh comment each time, so the page always repaints a server render, even one
    # identical to the last it got, after ui/digits.js has painted the strip itself
    return panels.strip(r, bool(error_maps), state=state) + f"<!-- {time.monotonic_ns()} -->"


def from_upload(path: str | None) -> np.ndarray:
    """An uploaded image file → MNIST-style 28×28; a bad file is a clear gr.Error."""
    if not path:
        raise gr.Error("No file arrived.")
    if not isinstance(path, str):
        raise gr.Error(f"image must be a file, got {type(path).__name__}")
    try:
        return service.digit_from_file(path)
    except images.ImageError as e:
        raise gr.Error(str(e)) from None


def _from_sketch(value: str | bytes | None) -> np.ndarray | None:
    """The sketchpad's drawing (its file, see ui/sketchpad.py) as an MNIST-style digit; None
    while the canvas is empty."""
    if not value:
        return None
    digit = service.digit_from_file(value)
    return digit if digit.any() else None


def _new_seed() -> int:
    return int(np.random.default_rng().integers(0, 10_000))


def build(ctx: Context) -> DigitsView:
    """Lay out the tab and wire its events; call inside ``gr.Tab``."""
    order = _picker_order(ctx)
    clean = gr.State()
    with gr.Row(elem_id="digits-top", equal_height=False):
        with gr.Column(scale=5, min_width=300, elem_id="picker"):
            gallery = gr.Gallery([ctx.digits[i] for i in order], columns=10, allow_preview=False,
                                 label="Held-out digits (no model saw them): click one", elem_id="gallery",
                                 elem_classes="pixels", buttons=[], height="auto", object_fit="contain")
            with gr.Row(elem_id="picker-tools"):
                rand = gr.Button("Random digit (any of 5,000)", size="sm", elem_id="random", scale=1)
                stage.tools()  # the stage button and the keys' list (ui/stage.js), in the same line
        with gr.Column(scale=5, min_width=300, elem_id="noise-controls"):
            noise = gr.Radio(list(corrupt.NOISE_KINDS), value="gaussian", label="Noise kind", elem_id="noise-kind")
            level = gr.Slider(**params.LEVEL.widget(), elem_id="sigma",
                              label="Noise level: σ (Gaussian) · ±r (uniform) · fraction (salt-and-pepper)")
            blur = gr.Slider(**params.BLUR.widget(), label="Blur σ (pixels, applied first)", elem_id="blur")
        with gr.Column(scale=4, min_width=260, elem_id="method-controls"):
            methods = gr.CheckboxGroup(ctx.digit_methods, value=ctx.digit_models, label="Denoisers",
                                       elem_id="methods")
            errors = gr.Checkbox(False, label="Error maps: |denoised − original| under each panel",
                                 elem_id="error-maps")
            with gr.Accordion("More: preset, mean, clip, seed, upload or draw", open=False, elem_id="more"):
                preset = gr.Dropdown(list(corrupt.PRESETS), value=None, label="Tutorial preset",
                                     info="sets the controls to a tutorial's exact corruption")
                mean = gr.Slider(**params.MEAN.widget(), label="Noise mean (Gaussian)")
                with gr.Row():
                    clip = gr.Checkbox(True, label="Clip to [0, 1]")
                    seed = gr.Number(precision=0, label="Seed", **params.SEED.widget(),
                                     info="same seed, same noise: numpy's generator on the server, "
                                          "the page's own in your browser")
                    reseed = gr.Button("New noise", size="sm")
                upload = gr.File(label="Upload an image of a digit", file_types=["image"], elem_id="upload")
                sketch = undecoded(gr.Sketchpad(type="filepath", image_mode="RGBA", canvas_size=(280, 280),
                                                brush=gr.Brush(colors=["#000000"], default_size=22),
                                                label="Draw a digit", elem_id="sketch"))
    controls = [noise, level, blur, mean, clip, seed, methods, errors]
    unconverted(*controls)  # /digit_view is callable: render() checks every value itself
    first = render(ctx, None, "gaussian", 0.5, 0.0, 0.0, True, 0, ctx.digit_models, False)
    strip = gr.HTML(first, elem_id="panels", js_on_load=None)
    # The current digit as the browser needs it, and the button the page presses for a server
    # render; both in the DOM but never shown.
    clean_data = gr.Textbox(panels.encode_digit(ctx.default_digit()), visible="hidden", elem_id="clean-data")
    refresh = gr.Button("refresh", visible="hidden", elem_id="digits-refresh")

    def show(clean, *values):
        return render(ctx, clean, *values)

    def chosen(digit: np.ndarray) -> tuple[np.ndarray, str]:
        return digit, panels.encode_digit(digit)

    def pick(evt: gr.SelectData) -> tuple[np.ndarray, str]:
        return chosen(ctx.digits[order[evt.index]])

    def random_digit() -> tuple[np.ndarray, str]:
        return chosen(ctx.digits[np.random.default_rng().integers(len(ctx.digits))])

    def sketched(value):
        digit = _from_sketch(value)  # an unreadable drawing is an ImageError: cpu_bound shows it
        return chosen(digit) if digit is not None else (gr.skip(), gr.skip())

    quiet = dict(api_visibility="private", show_progress="hidden", **LIGHT)
    gallery.select(pick, None, [clean, clean_data], **quiet)
    rand.click(random_digit, None, [clean, clean_data], **quiet)
    # decoding and MNIST-style preprocessing: SciPy and Pillow work, so in the CPU budget
    upload.upload(cpu_bound(lambda path: chosen(from_upload(path))), upload, [clean, clean_data],
                  api_visibility="private", **CPU)
    sketch.change(cpu_bound(sketched), sketch, [clean, clean_data], trigger_mode="always_last",
                  api_visibility="private", **CPU)
    preset.input(visitor_errors(lambda name, s: corrupt.controls(
        corrupt.preset(params.choice("preset", name, list(corrupt.PRESETS)), params.seed(s)))),
        [preset, seed], [noise, level, blur, mean, clip], api_visibility="private", **LIGHT)
    reseed.click(_new_seed, None, seed, api_visibility="private", **LIGHT)
    # Every change goes to ui/digits.js first (no request): it computes in the browser, or
    # presses the hidden button, whose click is the server render.
    gr.on([clean_data.change, *[c.change for c in controls]], None, [clean_data, *controls], None, js=DISPATCH)
    refresh.click(cpu_bound(show), [clean, *controls], strip, show_progress="hidden", trigger_mode="always_last",
                  api_name="digit_view", api_visibility="undocumented", **CPU)
    return DigitsView(clean, [noise, level, blur, mean, clip, seed])

"""The Digits tab: pick a held-out digit, corrupt it, and see every denoiser answer.

Laid out for one projector screen (1280×720 and up): the picker, the noise controls and the
denoiser list share the top row; the result strip spans the width below. Less-used controls
fold away. On a phone the columns stack, so the strip follows the controls.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import gradio as gr
import numpy as np

from dae import corrupt, images, params, service
from dae.state import Spec

from . import panels
from .sketchpad import undecoded
from .context import CPU, LIGHT, Context, GALLERY_PER_CLASS, cpu_bound, unconverted, visitor_errors

# The tab's widgets, by their state field (dae/state.py); the one place their order matters is
# the lists of inputs and outputs below, which are built from it.
CONTROLS = ("noise", "level", "blur", "mean", "clip", "seed", "models", "errors")
# What every change of a widget runs, in the page: ui/state.js takes it by name, and ui/digits.js
# decides where the strip is computed. Without those scripts (they failed to load), the server
# renders the default digit with these widgets' values.
DISPATCH = f"""(...v) => {{
  const s = Object.fromEntries({json.dumps(CONTROLS)}.map((n, i) => [n, v[i]]));
  if (window.daeState) window.daeState.fromWidgets(s);
  else document.getElementById("digits-refresh")?.click();
}}"""
# A server event that reads the Digits tab's state takes it from the page's own copy (ui/state.js),
# the one truth, as its last input: never from a session's copy, which can drift or be evicted.
PAGE_STATE = """(...v) => {
  if (window.daeState) v[v.length - 1] = JSON.stringify(window.daeState.get());
  return v;
}"""


@dataclass
class DigitsView:
    """What other tabs follow: the page's state carrier and two of the widgets.

    ``state`` is a hidden textbox; an event that lists it last among its inputs, with
    ``js=PAGE_STATE``, receives the page's state as JSON (:meth:`unpack` reads it).
    """

    state: gr.Textbox
    noise: gr.Radio
    level: gr.Slider
    spec: Spec
    gallery: np.ndarray

    def unpack(self, state: object) -> tuple:
        """A state (JSON or dict) → (digit, noise, level, blur, mean, clip, seed), checked."""
        s = self.spec.check(state)
        return (self.spec.digit_image(s, self.gallery), s["noise"], s["level"], s["blur"], s["mean"], s["clip"],
                s["seed"])


def spec(ctx: Context) -> Spec:
    """The state's definition on this server: its methods, its gallery, its first digit."""
    return Spec(tuple(ctx.digit_methods), tuple(ctx.digit_models), len(ctx.digits), int(ctx.gallery_idx[0]))


def _picker_order(ctx: Context) -> np.ndarray:
    """Gallery indices row by row, so that each of the 10 columns holds one class."""
    return ctx.gallery_idx.reshape(10, GALLERY_PER_CLASS).T.ravel()


def render(ctx: Context, state: object) -> str:
    """The result strip for the state a request carries (the page's own, or an API client's:
    JSON or a dict), every field checked against its declared range (:mod:`dae.params`).
    The digit travels with the request, as a gallery index or pixels, so a render never
    depends on what the server remembers of a session."""
    sp = spec(ctx)
    s = sp.check(state)
    digit = sp.digit_image(s, ctx.digits)
    r = ctx.lab.digit(digit, params.digit_corruption(s["noise"], s["level"], s["blur"], s["mean"], s["clip"]),
                      s["seed"], s["models"])
    payload = {"state": s, "pixels": panels.encode_digit(digit), "source": "server", **panels.numbers(r, s["errors"])}
    # a fresh comment each time, so the page always repaints a server render, even one
    # identical to the last it got, after ui/digits.js has painted the strip itself
    return panels.carrier(payload) + f"<!-- {time.monotonic_ns()} -->"


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


def _digit_message(digit: int | str, pixels: str) -> str:
    """What a pick, an upload or a drawing hands the page (ui/state.js): the new digit field
    and its pixels, with a stamp so that picking the same digit again is still a change."""
    return json.dumps({"digit": digit, "pixels": pixels, "at": time.monotonic_ns()})


def build(ctx: Context) -> DigitsView:
    """Lay out the tab and wire its events; call inside ``gr.Tab``."""
    order = _picker_order(ctx)
    sp = spec(ctx)
    with gr.Row(elem_id="digits-top", equal_height=False):
        with gr.Column(scale=5, min_width=300, elem_id="picker"):
            gallery = gr.Gallery([ctx.digits[i] for i in order], columns=10, allow_preview=False,
                                 label="Held-out digits (no model saw them): click one", elem_id="gallery",
                                 elem_classes="pixels", buttons=[], height="auto", object_fit="contain")
            rand = gr.Button("Random digit (any of 5,000)", size="sm", elem_id="random")
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
    widgets = dict(zip(CONTROLS, [noise, level, blur, mean, clip, seed, methods, errors]))
    controls = list(widgets.values())
    unconverted(*controls)
    default = sp.to_json(sp.defaults())
    strip = gr.HTML(render(ctx, default), elem_id="panels", js_on_load=None)
    # In the DOM but never shown: the state's carrier for server events (PAGE_STATE fills it),
    # the channel a pick, upload or drawing hands its digit to the page through, and the
    # buttons the page presses for a server render and to set the widgets from a state.
    state_box = gr.Textbox(default, visible="hidden", elem_id="dae-state")
    unconverted(state_box)  # /digit_view is callable: render() checks the state itself
    digit_box = gr.Textbox("", visible="hidden", elem_id="dae-digit")
    refresh = gr.Button("refresh", visible="hidden", elem_id="digits-refresh")
    apply = gr.Button("apply", visible="hidden", elem_id="dae-apply")

    def chosen(digit: np.ndarray, index: int | None = None) -> str:
        pixels = panels.encode_digit(digit)
        return _digit_message(pixels if index is None else int(index), pixels)

    def pick(evt: gr.SelectData) -> str:
        i = int(order[evt.index])
        return chosen(ctx.digits[i], i)

    def random_digit() -> str:
        i = int(np.random.default_rng().integers(len(ctx.digits)))
        return chosen(ctx.digits[i], i)

    def sketched(value):
        digit = _from_sketch(value)  # an unreadable drawing is an ImageError: cpu_bound shows it
        return chosen(digit) if digit is not None else gr.skip()

    quiet = dict(api_visibility="private", show_progress="hidden", **LIGHT)
    gallery.select(pick, None, digit_box, **quiet)
    rand.click(random_digit, None, digit_box, **quiet)
    # decoding and MNIST-style preprocessing: SciPy and Pillow work, so in the CPU budget
    upload.upload(cpu_bound(lambda path: chosen(from_upload(path))), upload, digit_box,
                  api_visibility="private", **CPU)
    sketch.change(cpu_bound(sketched), sketch, digit_box, trigger_mode="always_last",
                  api_visibility="private", **CPU)
    preset.input(visitor_errors(lambda name, s: corrupt.controls(
        corrupt.preset(params.choice("preset", name, list(corrupt.PRESETS)), params.seed(s)))),
        [preset, seed], [noise, level, blur, mean, clip], api_visibility="private", **LIGHT)
    reseed.click(_new_seed, None, seed, api_visibility="private", **LIGHT)
    # Every change goes to the page first (no request): ui/state.js updates its state, and
    # ui/digits.js computes in the browser or presses the hidden button, the server render.
    gr.on([c.change for c in controls], None, controls, None, js=DISPATCH)
    digit_box.change(None, digit_box, None, js="(d) => { window.daeState?.fromServerDigit(d); }")
    apply.click(None, None, controls, js="() => window.daeState.widgetValues()")
    refresh.click(cpu_bound(lambda s: render(ctx, s)), state_box, strip, js=PAGE_STATE, show_progress="hidden",
                  trigger_mode="always_last", api_name="digit_view", api_visibility="undocumented", **CPU)
    return DigitsView(state_box, noise, level, sp, ctx.digits)

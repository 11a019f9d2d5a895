"""The Inside tab: what a bottleneck DAE has learned, and one trained while you watch.

- The 2-D map (``dense-2d``, whose code has two numbers): drawn and decoded in the visitor's
  browser (``ui/inside_browser.js``, served by ``ui/inside_assets.py``): the 5,000 held-out
  codes by class, the digit under the pointer decoded exactly, and the Digits tab's digit's
  journey (clean ○, noisy ×, denoised →) following every change there with no request. This
  module writes its markup (``map2d_html``).
- The projection maps of the larger codes (``dense``: 32, ``conv-latent``: 16): the codes of
  the 5,000 gallery digits, projected to 2-D by LDA (``dae.latent``),
  coloured by class, with the Digits tab's digit marked (clean code, noisy code, and an arrow
  to where the denoiser sends it). It follows that tab's digit and corruption
  whenever this tab is opened.
- Click a projection map: the decoder draws the mean code of the 16 gallery digits nearest to
  that point (an approximation: a map point stands for many codes).
- Interpolation: two gallery digits, 8 decoded steps along the line between their codes,
  beside the naive 8-step pixel cross-fade.
- Train one live: a fresh ``dense`` DAE (``dae.live``), loss curve and test digit per epoch.

The map is a clickable PNG (``ui/inside_map.py``); small digits go out as inline PNGs in
``gr.HTML`` (no file cache, see ``ui/panels.py``).
"""
from __future__ import annotations

import html
import json

import gradio as gr
import numpy as np
import pandas as pd

from dae import corrupt, images, latent, live, params
from dae.registry import MODELS

from .context import CPU, Context, cpu_bound, unconverted
from .digits import PAGE_STATE, from_upload
from .inside_map import MapImage, draw_journey, maps
from .panels import png_uri

# matplotlib's tab10, the projection PNGs' class colours, for the 2-D map and its legend
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")

TRAIN_TIME_LIMIT_S = 180  # Gradio's limit for the streaming live run; dae.live.DEADLINE_S stops it sooner


def _map_for(ctx: Context, model: str) -> MapImage:
    """The map of a bottleneck model, or a gr.Error that says which models have one."""
    have = maps(ctx)
    if not isinstance(model, str) or model not in have:
        if isinstance(model, str) and model in MODELS and not MODELS[model].has_latent:
            raise gr.Error(f"model {model!r} has no bottleneck code; choose one of {list(have)}")
        shown = model if not isinstance(model, str) or len(model) <= 60 else model[:60] + "…"
        raise gr.Error(f"unknown model {shown!r}; choose one of {list(have)}")
    return have[model]


# --- the map with one digit's journey ------------------------------------------------------

def _corruption(noise, level, blur, mean, clip) -> corrupt.Corruption:
    return params.digit_corruption(noise, level, blur or 0.0, mean or 0.0, clip)  # ParamError: cpu_bound


def _digit(image: np.ndarray, caption: str, cls: str = "") -> str:
    return (f'<figure class="inside-digit {cls}"><img src="{png_uri(image)}" alt="{html.escape(caption)}" '
            f'width="28" height="28"><figcaption>{caption}</figcaption></figure>')


def journey_html(j: latent.Journey, on_map: bool) -> str:
    """The three digits behind the markers, and how far each code lies from the clean one."""
    note = "" if on_map else "<p><small>A marker off the map is drawn at its edge.</small></p>"
    return (f'<div class="inside-row">{_digit(j.clean, "clean ◯")}{_digit(j.noisy, "noisy ✕")}'
            f'{_digit(j.denoised, "denoised ➜")}</div>'
            f"<p>Distance from the clean code (all {len(j.clean_code)} numbers): noisy <b>{j.noisy_distance:.2f}</b>, "
            f"denoised <b>{j.denoised_distance:.2f}</b>.</p>{note}")


def show_map(ctx: Context, model: str, clean, noise, level, blur, mean, clip, seed) -> tuple[np.ndarray, str]:
    """The map for the Digits tab's digit and corruption (the default digit for None)."""
    m = _map_for(ctx, model)
    digit = ctx.default_digit() if clean is None else clean
    j = m.space.journey(digit, _corruption(noise, level, blur, mean, clip), params.seed(seed))
    img, on_map = draw_journey(m, j)
    return img, journey_html(j, on_map)


def decode_click(ctx: Context, model: str, evt: gr.SelectData) -> str:
    """The digit the decoder draws where the map was clicked."""
    m = _map_for(ctx, model)
    point = m.to_map(*evt.index) if evt.index else None
    if point is None:
        return '<p class="inside-hint">That is outside the map: click among the points.</p>'
    x, y = point
    how = ("exactly this code" if m.space.way_back == "exact" else
           f"approximately: a projection point stands for many codes, so this is the mean code of the "
           f"{latent.NEIGHBOURS} gallery digits nearest to it on the map")
    return (f'<div class="inside-decoded">{_digit(m.space.decode_point(x, y), "", "inside-big")}'
            f"<p>decoded at ({x:.2f}, {y:.2f}), {how}, through {model}'s decoder</p></div>")


# --- the 2-D map, drawn in the browser ------------------------------------------------------

INTERP_STEPS = 8  # the 2-D map's interpolation, as the projection maps' below


def map2d_html(name: str, space: latent.LatentMap) -> str:
    """The 2-D map's markup; ``ui/inside_browser.js`` draws into its canvases."""
    legend = "".join(f'<li><i style="background:{c}"></i>{k}</li>' for k, c in enumerate(PALETTE))
    digit = lambda key, cap: (f'<figure class="map2d-small"><canvas id="map2d-{key}" width="28" height="28">'  # noqa: E731
                              f'</canvas><figcaption>{cap}</figcaption></figure>')
    return (f'<div id="map2d" class="map2d" data-model="{html.escape(name)}" '
            f'data-palette=\'{json.dumps(PALETTE)}\' data-steps="{INTERP_STEPS}">'
            f'<div class="map2d-plot"><canvas id="map2d-canvas" role="img" aria-label="{html.escape(name)}: '
            f'the 2-number codes of 5,000 held-out digits, coloured by class"></canvas>'
            f'<ul class="map2d-legend" aria-label="digit classes">{legend}'
            f'<li class="map2d-key">○ clean</li><li class="map2d-key">✕ noisy</li>'
            f'<li class="map2d-key">→ denoised</li></ul></div>'
            f'<div class="map2d-side"><figure class="map2d-decoded"><canvas id="map2d-decoded" width="28" '
            f'height="28"></canvas><figcaption id="map2d-at">Hover the map (drag, on a touch screen): the '
            f'decoder draws the digit at that very code.</figcaption></figure>'
            f'<div class="map2d-journey">{digit("clean", "clean ○")}{digit("noisy", "noisy ✕")}'
            f'{digit("denoised", "denoised →")}</div><p id="map2d-dist"></p>'
            f'<label class="map2d-sigma">σ, here: <input type="range" id="map2d-sigma" min="0" max="1.5" '
            f'step="0.01" value="0.5" aria-label="noise level for this map"> <output id="map2d-sigma-value">0.50'
            f'</output><small>the Digits tab\'s other controls; its σ moves this too</small></label>'
            f'<p id="map2d-source" data-source="loading">loading the decoder into your browser…</p></div>'
            f'<div class="map2d-interp" id="map2d-interp"><p class="inside-hint">Interpolation: <b>click two '
            f'points</b> of the map (A, then B): {INTERP_STEPS} digits decoded along the straight line between '
            f'them, above the pixel cross-fade of its two ends, (1 − t)·A + t·B.</p>'
            f'<div class="map2d-row" id="map2d-line"></div><div class="map2d-row" id="map2d-fade"></div></div></div>')


# --- interpolation ---------------------------------------------------------------------------

def interpolation_html(ctx: Context, model: str, a: int, b: int, steps: int = 8) -> str:
    """Two rows: decoded steps along the code line, and the pixel cross-fade."""
    m = _map_for(ctx, model)
    a, b = (params.Range("digit", 0, len(ctx.digits) - 1, 0, whole=True).check(v) for v in (a, b))
    steps = params.STEPS.check(steps)
    da, db = ctx.digits[a], ctx.digits[b]
    rows = [("decoded along the line between the codes", m.space.interpolate(da, db, steps)),
            ("pixel cross-fade (1 − t)·a + t·b", latent.crossfade(da, db, steps))]
    ts = np.linspace(0, 1, steps)
    out = []
    for title, imgs in rows:
        cells = "".join(_digit(im, f"t = {t:.2f}") for im, t in zip(imgs, ts))
        out.append(f'<div class="inside-interp-row"><h4>{title}</h4><div class="inside-row">{cells}</div></div>')
    return "".join(out)


# --- live training ---------------------------------------------------------------------------

def _status(e: live.Epoch | None, message: str, noisy: np.ndarray, clean: np.ndarray, epochs: int = 0) -> str:
    """The fixed test digit, noisy and as the model stands denoises it, and a progress bar.

    The bar is our own ``<progress>``: Gradio's progress overlay would grey out the very
    curves and digit the visitor is watching."""
    shown = e.denoised if e is not None else np.zeros((28, 28), np.float32)
    score = f"PSNR {e.psnr:.2f} dB" if e is not None else "not trained yet"
    bar = (f'<progress max="{epochs}" value="{e.epoch if e else 0}" aria-label="epochs done"></progress>'
           if epochs else "")
    return (f'<div class="inside-row">{_digit(clean, "held-out digit")}{_digit(noisy, "noisy (σ 0.5)")}'
            f'{_digit(shown, f"denoised · {score}", "inside-live-out")}</div>{bar}'
            f'<p class="inside-live-msg">{message}</p>')


def _curves(history: list[live.Epoch]) -> tuple[pd.DataFrame, pd.DataFrame]:
    loss = pd.DataFrame({"epoch": [e.epoch for e in history], "training loss (MSE)": [e.loss for e in history]})
    psnr = pd.DataFrame({"epoch": [e.epoch for e in history], "test digit PSNR (dB)": [e.psnr for e in history]})
    return loss, psnr


def train_live_view(epochs, seed):
    """Stream the live run to the page: status, loss curve, PSNR curve after every epoch."""
    clean, noisy = live.test_digit()
    history: list[live.Epoch] = []
    try:
        n, seed = live.check_epochs(epochs), params.seed(seed)
        yield _status(None, f"Training a fresh dense DAE for {n} epochs…", noisy, clean, n), *_curves([])
        for e in live.TRAINER.stream(n, seed):
            history.append(e)
            msg = (f"Epoch {e.epoch} of {e.epochs}: loss {e.loss:.4f}, {e.elapsed_s:.1f} s"
                   + (" — done. This model is gone when you leave: nothing was saved." if e.epoch == e.epochs else ""))
            yield _status(e, msg, noisy, clean, n), *_curves(history)
        if history and history[-1].epoch < n:
            yield _status(history[-1], _stopped(history[-1]), noisy, clean, n), *_curves(history)
    except live.Busy as b:
        yield _status(None, str(b), noisy, clean), gr.skip(), gr.skip()
    except ValueError as err:
        raise gr.Error(str(err)) from None


# --- layout ----------------------------------------------------------------------------------

def _stopped(e: live.Epoch) -> str:
    return (f"Stopped after epoch {e.epoch} of {e.epochs}: a live run stops once it has taken "
            f"{live.DEADLINE_S} s, so that one visitor cannot hold the server.")


def _picker_choices(ctx: Context) -> list[tuple[str, int]]:
    return [(f"a {ctx.labels[i]} (gallery #{i})", int(i)) for i in ctx.gallery_idx]


def build(ctx: Context, digits_view, tab: gr.Tab) -> None:
    """Lay out the tab and wire it; call inside ``gr.Tab`` (``tab``). ``digits_view`` is the
    Digits tab's view (the page's state, as its events receive it): the map follows it
    whenever this tab is opened. It does not redraw on every slider step of the Digits tab:
    those steps happen while this tab is hidden, and a redraw each would cost every visitor a
    request (and the in-browser path must send none)."""
    every = maps(ctx)
    have = {n: m for n, m in every.items() if m.space.projection != "none"}
    flat = {n: m for n, m in every.items() if m.space.projection == "none"}
    if not every:
        gr.Markdown("No model with a bottleneck could be loaded, so there is nothing to look inside.")
        return
    for name, m in flat.items():
        gr.Markdown(f"**`{name}`: a denoising autoencoder whose code is two numbers, so this map is "
                    "its code, not a view of it.** Each dot is one of the 5,000 held-out digits. "
                    "**Hover** (drag, on a touch screen) and the decoder draws the digit at exactly that "
                    "point. ◯ the Digits tab's digit, ✕ with its noise, → where the denoiser sends it: "
                    "move σ there and watch.", elem_id="map2d-intro")
        gr.HTML(map2d_html(name, m.space), elem_id="inside-2d")
    if not have:
        return
    first = next(iter(have))
    gr.Markdown("### Projections of the bigger codes\nThe codes of `dense` (32 numbers) and `conv-latent` (16) "
                "do not fit on a page: this map is a **projection**, the 2-D view of the code that separates "
                "the classes best (LDA). ◯ the Digits tab's digit, ✕ the same digit with its noise, ➜ where "
                "the denoiser sends it. **Click the map**: the decoder draws an *approximation* of what lies "
                "there (the mean code of the 16 held-out digits nearest to the point).", elem_id="inside-intro")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            model = gr.Radio(list(have), value=first, label="Model", elem_id="inside-model")
            init_map, init_journey = show_map(ctx, first, None, "gaussian", 0.5, 0.0, 0.0, True, 0)
            map_img = gr.Image(init_map, format="png", interactive=False, label="LDA projection of the code (click it)",
                               elem_id="inside-map", buttons=[], show_label=True)
        with gr.Column(scale=2, min_width=260):
            decoded = gr.HTML('<p class="inside-hint">Click the map to decode a point.</p>', elem_id="inside-decoded",
                              label="Decoded")
            journey = gr.HTML(init_journey, elem_id="inside-journey")
    follow = dict(fn=cpu_bound(lambda m, s: show_map(ctx, m, *digits_view.unpack(s))),
                  inputs=[model, digits_view.state], js=PAGE_STATE, outputs=[map_img, journey],
                  trigger_mode="always_last", show_progress="hidden", api_visibility="private", **CPU)
    gr.on([model.change, tab.select], **follow)

    def clicked(m: str, evt: gr.SelectData) -> str:
        return decode_click(ctx, m, evt)

    map_img.select(cpu_bound(clicked), model, decoded, show_progress="hidden", api_visibility="private", **CPU)

    gr.Markdown("### Interpolation: a learned blend against a naive one")
    choices = _picker_choices(ctx)
    one, zero = (next(i for _, i in choices if ctx.labels[i] == k) for k in (1, 0))
    with gr.Row():
        a = gr.Dropdown(choices, value=one, label="From", elem_id="inside-from")
        b = gr.Dropdown(choices, value=zero, label="To", elem_id="inside-to")
    interp = gr.HTML(interpolation_html(ctx, first, one, zero), elem_id="inside-interp")
    gr.on([model.change, a.change, b.change], cpu_bound(lambda m, i, j: interpolation_html(ctx, m, i, j)),
          [model, a, b], interp, trigger_mode="always_last", show_progress="hidden", api_visibility="private", **CPU)

    gr.Markdown("### Train one live\nA fresh `dense` DAE from random weights, on 4,000 gallery digits "
                "(the 1,000 held-out ones, which the Digits tab shows, are not among them), about 20–30 s. "
                "One training at a time for the whole server; nothing is saved.")
    with gr.Row():
        epochs = gr.Slider(**params.EPOCHS.widget(), label="Epochs", elem_id="inside-epochs")
        seed = gr.Number(precision=0, label="Seed", elem_id="inside-seed", **params.SEED.widget())
        go = gr.Button("Train one live", variant="primary", elem_id="inside-train")
    clean, noisy = live.test_digit()
    status = gr.HTML(_status(None, "Press the button to start.", noisy, clean), elem_id="inside-live")
    with gr.Row():
        loss_plot = gr.LinePlot(x="epoch", y="training loss (MSE)", height=260, label="loss", elem_id="inside-loss")
        psnr_plot = gr.LinePlot(x="epoch", y="test digit PSNR (dB)", height=260, label="PSNR",
                                elem_id="inside-psnr")
    go.click(cpu_bound(train_live_view), [epochs, seed], [status, loss_plot, psnr_plot], show_progress="hidden",
             time_limit=TRAIN_TIME_LIMIT_S, api_visibility="private", **CPU)


# --- the named API endpoints -----------------------------------------------------------------

def encode(ctx: Context, image, model="dense", noise="gaussian", sigma=0.5, blur=0.0, mean=0.0, clip=True,
           seed=0) -> dict:
    """An image file → the clean, noisy and denoised codes with their map positions."""
    m = _map_for(ctx, model)
    c, seed = _corruption(noise, sigma, blur, mean, clip), params.seed(seed)
    clean = from_upload(image)
    j = m.space.journey(clean, c, seed)
    return {"model": model, **j.as_dict(), "map_extent": m.space.extent.as_dict(),
            "projection": m.space.projection}


def decode_point(ctx: Context, model="dense", x=0.0, y=0.0) -> np.ndarray:
    """Map coordinates → the decoded 28×28 digit (uint8)."""
    m = _map_for(ctx, model)
    try:
        return images.to_uint8(m.space.decode_point(params.MAP_X.check(x), params.MAP_Y.check(y)))
    except ValueError as e:
        raise gr.Error(str(e)) from None


def interpolate(ctx: Context, image_a, image_b, model="dense", steps=8) -> list[tuple[np.ndarray, str]]:
    """Two image files → the decoded steps along the line between their codes."""
    m = _map_for(ctx, model)
    n = params.STEPS.check(steps)
    a, b = from_upload(image_a), from_upload(image_b)
    try:
        out = m.space.interpolate(a, b, n)
    except ValueError as e:
        raise gr.Error(str(e)) from None
    return [(images.to_uint8(im), f"t = {t:.2f}") for im, t in zip(out, np.linspace(0, 1, n))]


def train_live(epochs=live.DEFAULT_EPOCHS, seed=0):
    """Stream JSON after every epoch; the last one has ``"status": "done"``. A second caller
    while one runs gets ``"status": "busy"`` with the message and seconds left (not an error)."""
    n, s = live.check_epochs(epochs), params.seed(seed)
    history: list[dict] = []
    try:
        for e in live.TRAINER.stream(n, s):
            history.append(e.as_dict())
            yield {"status": "done" if e.epoch == n else "training", "epoch": e.epoch, "epochs": n, "seed": s,
                   "history": history}
        if history and history[-1]["epoch"] < n:
            yield {"status": "stopped", "message": f"stopped at the {live.DEADLINE_S} s limit",
                   "epoch": history[-1]["epoch"], "epochs": n, "seed": s, "history": history}
    except live.Busy as b:
        yield {"status": "busy", "message": str(b), "seconds_left": round(b.seconds_left, 1), "history": []}


def api(ctx: Context) -> None:
    """Register ``/encode``, ``/decode_point``, ``/interpolate`` and ``/train_live``; call inside
    the hidden ``gr.Column`` that holds the named endpoints."""
    maps(ctx)  # at start-up, not on the first request
    f1, f2, model = gr.File(), gr.File(), gr.Textbox("dense")
    noise, sigma, blur, mean = gr.Textbox("gaussian"), gr.Number(0.5), gr.Number(0.0), gr.Number(0.0)
    clip, seed = gr.Checkbox(True), gr.Number(0)
    x, y, steps, epochs = gr.Number(0.0), gr.Number(0.0), gr.Number(8), gr.Number(live.DEFAULT_EPOCHS)
    unconverted(model, noise, sigma, blur, mean, clip, seed, x, y, steps, epochs)

    @cpu_bound
    def enc(image, model="dense", noise="gaussian", sigma=0.5, blur=0.0, mean=0.0, clip=True, seed=0):
        return encode(ctx, image, model, noise, sigma, blur, mean, clip, seed)

    @cpu_bound
    def dec(model="dense", x=0.0, y=0.0):
        return decode_point(ctx, model, x, y)

    @cpu_bound
    def interp(image_a, image_b, model="dense", steps=8):
        return interpolate(ctx, image_a, image_b, model, steps)

    gr.Button().click(enc, [f1, model, noise, sigma, blur, mean, clip, seed], gr.JSON(), api_name="encode", **CPU)
    gr.Button().click(dec, [model, x, y], gr.Image(format="png"), api_name="decode_point", **CPU)
    gr.Button().click(interp, [f1, f2, model, steps], gr.Gallery(format="png"), api_name="interpolate", **CPU)
    gr.Button().click(cpu_bound(train_live), [epochs, seed], gr.JSON(), api_name="train_live",
                      time_limit=TRAIN_TIME_LIMIT_S, **CPU)

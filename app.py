"""Denoising autoencoders, live: a Gradio app over the `dae` package.

    python app.py                 # http://127.0.0.1:7860, shipped weights, offline
    python app.py --host 0.0.0.0 --port 8080

Layout and wiring only: every number on the page comes from `dae` (see dae/service.py).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from dae import MODELS, bench, corrupt, data, images, service
from dae.baselines import DIGIT_BASELINES, PHOTO_BASELINES
from dae.training import read_card
from dae.inference import WEIGHTS_DIR

# --- limits set on purpose (README lists them) ---------------------------------------
MAX_FILE_SIZE = "20mb"
QUEUE_SIZE = 64
CONCURRENCY = 2  # two cores: more parallel TensorFlow calls only contend
TIME_LIMIT_S = 60
# Gradio keeps about 160 KB per visitor session (its copy of the page config, and the State);
# its default of 10,000 sessions would grow the server by 1.6 GB under steady traffic. The
# least recently used session goes first, so only long-idle visitors lose their picked digit.
SESSION_CAPACITY = 500
GALLERY_PER_CLASS = 10

CSS = ".pixels img { image-rendering: pixelated; }"

LAB = service.Lab(os.environ.get("DAE_WEIGHTS"))
DIGITS, LABELS = data.gallery()
DIGIT_METHODS = LAB.digit_models + list(DIGIT_BASELINES)
LATENT_MODELS = [n for n in LAB.digit_models if MODELS[n].has_latent]
GALLERY_IDX = np.concatenate([np.flatnonzero(LABELS == k)[:GALLERY_PER_CLASS] for k in range(10)])
OUT_DIR = Path(tempfile.mkdtemp(prefix="dae-downloads-"))


# --- robustness curves: computed once, off the request path ---------------------------
_curves: dict = {}
_curves_ready = threading.Event()


def _compute_curves() -> None:
    table = bench.robustness(bench.digit_methods(os.environ.get("DAE_WEIGHTS"), LAB.digit_models))
    rows = [{"σ": float(s), "method": m, "PSNR (dB)": v["psnr"], "SSIM": v["ssim"]}
            for m, row in table.items() for s, v in row.items()]
    _curves["df"] = pd.DataFrame(rows)
    _curves_ready.set()


def curves() -> tuple[pd.DataFrame, pd.DataFrame]:
    _curves_ready.wait(timeout=120)
    df = _curves.get("df", pd.DataFrame(columns=["σ", "method", "PSNR (dB)", "SSIM"]))
    return df, df


# --- digits --------------------------------------------------------------------------

def _digit_outputs(clean, noise, level, blur, mean, clip, seed, methods):
    """Everything the Digits tab shows for one digit and one corruption."""
    if clean is None:
        clean = DIGITS[GALLERY_IDX[0]]
    c = corrupt.from_controls(noise, level, blur, mean, clip)
    r = LAB.digit(clean, c, int(seed), list(methods))
    shown = {p.name: p for p in r.panels}
    outs = [gr.Image(service.upscale(r.original)), gr.Image(service.upscale(r.noisy.image), label=r.noisy.caption)]
    for name in DIGIT_METHODS:
        p = shown.get(name)
        outs.append(gr.Image(service.upscale(p.image), label=p.caption, visible=True) if p else gr.Image(visible=False))
    for name in LATENT_MODELS:
        code = r.latents.get(name)
        outs.append(gr.Image(service.latent_strip(code), visible=True,
                             label=f"{name}: {len(code)}-number code, {code.min():.2f} … {code.max():.2f}")
                    if code is not None else gr.Image(visible=False))
    return outs


def pick(evt: gr.SelectData):
    return DIGITS[GALLERY_IDX[evt.index]]


def random_digit():
    return DIGITS[np.random.default_rng().integers(len(DIGITS))]


def from_upload(path):
    if not path:
        raise gr.Error("No file arrived.")
    try:
        return service.digit_from_file(path)
    except images.ImageError as e:
        raise gr.Error(str(e)) from None


def from_sketch(value):
    comp = value.get("composite") if isinstance(value, dict) else value
    if comp is None:
        return gr.skip()
    digit = service.digit_from_array(comp)
    if not digit.any():
        return gr.skip()
    return digit


def apply_preset(name, seed):
    return corrupt.controls(corrupt.preset(name, int(seed)))


def new_seed():
    return int(np.random.default_rng().integers(0, 10_000))


def denoise_digit(image, noise="gaussian", sigma=0.5, blur=0.0, mean=0.0, clip=True, seed=0, models=None):
    """API: an image file of a digit → noisy 28×28, each model's 28×28 output, metrics."""
    clean = from_upload(image)
    try:
        c = corrupt.from_controls(noise, sigma, blur, mean, clip)
    except ValueError as e:
        raise gr.Error(str(e)) from None
    r = LAB.digit(clean, c, int(seed), list(models or LAB.digit_models))
    return images.to_uint8(r.noisy.image), [(images.to_uint8(p.image), p.caption) for p in r.panels], r.metrics()


# --- photos --------------------------------------------------------------------------

def _load_photo(upload, example):
    if upload:
        try:
            return images.read_image(upload)
        except images.ImageError as e:
            raise gr.Error(str(e)) from None
    return data.sample_photo(example or data.SAMPLE_PHOTOS[0])


def _save(image: np.ndarray) -> str:
    """Write the full-resolution result for download; keep the folder from growing."""
    for old in OUT_DIR.glob("*.png"):
        if time.time() - old.stat().st_mtime > 1800:
            old.unlink(missing_ok=True)
    path = OUT_DIR / f"denoised-{time.time_ns()}.png"
    images.save_image(image, path)
    return str(path)


def _photo_result(upload, example, sigma, blur, clip, seed, extra):
    if "photo" not in LAB.models:
        raise gr.Error(LAB.unavailable.get("photo", "the photo model is not loaded"))
    img = _load_photo(upload, example)
    try:
        c = corrupt.Corruption("gaussian", sigma=float(sigma) / 255, blur=float(blur), clip=bool(clip))
    except ValueError as e:
        raise gr.Error(str(e)) from None
    return LAB.photo(img, c, int(seed), list(extra or []))


def run_photo(upload, example, sigma, blur, clip, seed, extra):
    r = _photo_result(upload, example, sigma, blur, clip, seed, extra)
    if r.notice:
        gr.Warning(r.notice)
    main = r.panels[0]
    lines = [f"**noisy**: {r.noisy.psnr:.2f} dB / {r.noisy.ssim:.3f}"] + \
            [f"**{p.name}**: {p.psnr:.2f} dB / {p.ssim:.3f}" for p in r.panels]
    text = "PSNR / SSIM against the original — " + " · ".join(lines) + (f"\n\n⚠️ {r.notice}" if r.notice else "")
    others = [(images.to_uint8(p.image), p.caption) for p in r.panels[1:]]
    return ((images.to_uint8(r.noisy.image), images.to_uint8(main.image)), text, others,
            gr.DownloadButton(value=_save(main.image), interactive=True))


def denoise_photo(image, sigma=25.0, blur=0.0, clip=False, seed=0, baselines=None):
    """API: a photo file → noisy and denoised images at full resolution, metrics."""
    if not image:
        raise gr.Error("No file arrived.")
    r = _photo_result(image, None, sigma, blur, clip, seed, baselines)
    return images.to_uint8(r.noisy.image), images.to_uint8(r.panels[0].image), {**r.metrics(), "notice": r.notice}


# --- models tab ----------------------------------------------------------------------

def model_cards() -> str:
    parts = []
    for name, spec in MODELS.items():
        card = read_card(name, os.environ.get("DAE_WEIGHTS") or WEIGHTS_DIR)
        head = f"### `{name}` ({spec.kind})\n{spec.description}\n\n*From:* {spec.tutorial}."
        if name in LAB.unavailable:
            parts.append(f"{head}\n\n**Unavailable:** {LAB.unavailable[name]}")
            continue
        if not card:
            parts.append(f"{head}\n\nNo model card found.")
            continue
        t = card["training"]
        steps = f", {t['steps']} steps" if t.get("steps") else ""
        val = ", ".join(f"{k}: {v['psnr']} dB" + (f" / {v['ssim']}" if "ssim" in v else "")
                        for k, v in card["validation"].items())
        parts.append(
            f"{head}\n\n| | |\n|---|---|\n| parameters | {card['parameters']:,} |\n"
            f"| data | {card['data']['source']} |\n| corruption | {card['corruption']} |\n"
            f"| differs from the tutorial | {card['differs_from_tutorial']} |\n"
            f"| training | {t.get('total_epochs', t['epochs'])} epochs{steps}, batch {t['batch_size']}, "
            f"last lr {t['learning_rate']}, {t['loss']} loss, {t.get('total_wall_time_s', t['wall_time_s']) / 60:.0f} min "
            f"on {card['made']['machine']}{' (several stages)' if 'continued_from' in t else ''} |\n"
            f"| validation | {val} |\n| made with | `{card['made']['command']}` ({card['made']['date']}) "
            f"{t.get('note', '')} |\n\n<details><summary>architecture</summary>\n\n```\n"
            + "\n".join(card["architecture"]) + "\n```\n</details>")
    return "\n\n---\n\n".join(parts)


# --- layout --------------------------------------------------------------------------

def build() -> gr.Blocks:
    with gr.Blocks(title="Denoising autoencoders, live", delete_cache=(600, 1800)) as demo:
        gr.Markdown("# Denoising autoencoders, live\nPick a held-out MNIST digit (none of the models saw it), "
                    "draw one, or upload one; move the sliders; every denoiser answers side by side.")
        if LAB.unavailable:
            gr.Markdown("\n".join(f"⚠️ {msg}" for msg in LAB.unavailable.values()))
        with gr.Tab("Digits"):
            clean = gr.State()
            with gr.Row():
                with gr.Column(scale=1):
                    gallery = gr.Gallery([(DIGITS[i], str(LABELS[i])) for i in GALLERY_IDX], columns=8,
                                         height=300, allow_preview=False, label="Held-out digits: click one",
                                         elem_id="gallery", elem_classes="pixels")
                    rand = gr.Button("Random digit", elem_id="random")
                    with gr.Accordion("Upload or draw a digit", open=False):
                        upload = gr.File(label="Upload an image of a digit", file_types=["image"], elem_id="upload")
                        sketch = gr.Sketchpad(type="numpy", image_mode="RGBA", canvas_size=(280, 280),
                                              brush=gr.Brush(colors=["#000000"], default_size=22),
                                              label="Draw a digit", elem_id="sketch")
                with gr.Column(scale=1):
                    preset = gr.Dropdown(list(corrupt.PRESETS), value=None, label="Tutorial preset",
                                         info="sets the controls to a tutorial's exact corruption")
                    noise = gr.Radio(list(corrupt.NOISE_KINDS), value="gaussian", label="Noise kind")
                    level = gr.Slider(0, 1.5, value=0.5, step=0.01, label="Noise level",
                                      info="σ (Gaussian) · ±r (uniform) · fraction of pixels (salt-and-pepper)",
                                      elem_id="sigma")
                    blur = gr.Slider(0, 3, value=0, step=0.05, label="Blur σ (pixels, applied first)")
                    mean = gr.Slider(-0.5, 0.5, value=0, step=0.05, label="Noise mean (Gaussian)")
                    with gr.Row():
                        clip = gr.Checkbox(True, label="Clip to [0, 1]")
                        seed = gr.Number(0, precision=0, label="Seed", minimum=0)
                        reseed = gr.Button("New noise")
                    methods = gr.CheckboxGroup(DIGIT_METHODS, value=LAB.digit_models, label="Denoisers")
            panel = dict(height=200, min_width=150, buttons=[])
            with gr.Row(elem_classes="pixels"):
                orig = gr.Image(label="original", elem_id="original", **panel)
                noisy = gr.Image(label="noisy", elem_id="noisy", **panel)
                panels = [gr.Image(label=n, elem_id=f"out-{n}", **panel) for n in LAB.digit_models]
            with gr.Row(elem_classes="pixels"):
                panels += [gr.Image(label=n, elem_id=f"out-{n}", visible=False, **panel) for n in DIGIT_BASELINES]
                latents = [gr.Image(label=f"{n} latent code", height=60, min_width=200, buttons=[])
                           for n in LATENT_MODELS]
            controls = [noise, level, blur, mean, clip, seed, methods]
            outputs = [orig, noisy, *panels, *latents]
            run = dict(fn=_digit_outputs, inputs=[clean, *controls], outputs=outputs,
                       show_progress="hidden", trigger_mode="always_last", time_limit=TIME_LIMIT_S)
            gallery.select(pick, None, clean).then(**run)
            rand.click(random_digit, None, clean).then(**run)
            upload.upload(from_upload, upload, clean).success(**run)
            sketch.change(from_sketch, sketch, clean, trigger_mode="always_last").success(**run)
            preset.input(apply_preset, [preset, seed], [noise, level, blur, mean, clip])
            reseed.click(new_seed, None, seed)
            gr.on([c.change for c in controls], **run)
            demo.load(**run)
        with gr.Tab("Photos") as photos_tab:
            with gr.Row():
                with gr.Column(scale=1):
                    p_upload = gr.File(label="Upload a photo", file_types=["image"], elem_id="photo-upload")
                    p_example = gr.Dropdown(list(data.SAMPLE_PHOTOS), value="astronaut",
                                            label="…or a scikit-image example photo")
                    p_sigma = gr.Slider(0, 75, value=25, step=1, label="Added noise σ (0-255 scale)",
                                        info="0: the photo is already noisy; its noise level is estimated")
                    p_blur = gr.Slider(0, 3, value=0, step=0.1, label="Blur σ (pixels, applied first)")
                    with gr.Row():
                        p_clip = gr.Checkbox(False, label="Clip to [0, 1]")
                        p_seed = gr.Number(0, precision=0, label="Seed", minimum=0)
                    p_extra = gr.CheckboxGroup(list(PHOTO_BASELINES), value=[],
                                               label="Compare with (BM3D takes seconds)")
                    p_go = gr.Button("Denoise", variant="primary")
                with gr.Column(scale=2):
                    p_slider = gr.ImageSlider(label="noisy ↔ denoised", elem_id="photo-slider")
                    p_text = gr.Markdown()
                    p_download = gr.DownloadButton("Download the full-resolution result", interactive=False)
                    p_others = gr.Gallery(label="classical baselines", columns=2, height=300)
            p_in = [p_upload, p_example, p_sigma, p_blur, p_clip, p_seed, p_extra]
            p_run = dict(fn=run_photo, inputs=p_in, outputs=[p_slider, p_text, p_others, p_download],
                         trigger_mode="always_last", time_limit=TIME_LIMIT_S)
            gr.on([photos_tab.select, p_go.click, p_upload.upload, p_example.change, p_sigma.release,
                   p_blur.release, p_clip.change, p_seed.change], **p_run)
        with gr.Tab("Robustness"):
            gr.Markdown("Clipped Gaussian noise at σ 0 … 1 on 200 held-out digits; the same code as the "
                        "README's table (`python -m dae.bench`). Baselines are told the true σ.")
            psnr_plot = gr.LinePlot(x="σ", y="PSNR (dB)", color="method", height=360, label="PSNR")
            ssim_plot = gr.LinePlot(x="σ", y="SSIM", color="method", height=360, label="SSIM")
            demo.load(curves, None, [psnr_plot, ssim_plot])
        with gr.Tab("Models"):
            gr.Markdown(model_cards())
        with gr.Column(visible=False):  # the named API endpoints, sharing the code above
            a_img, a_noise = gr.File(), gr.Textbox("gaussian")
            a_sigma, a_blur, a_mean = gr.Number(0.5), gr.Number(0.0), gr.Number(0.0)
            a_clip, a_seed = gr.Checkbox(True), gr.Number(0, precision=0)
            a_models = gr.CheckboxGroup(LAB.digit_models, value=LAB.digit_models)
            a_noisy, a_gallery, a_metrics = gr.Image(format="png"), gr.Gallery(format="png"), gr.JSON()
            gr.Button().click(denoise_digit, [a_img, a_noise, a_sigma, a_blur, a_mean, a_clip, a_seed, a_models],
                              [a_noisy, a_gallery, a_metrics], api_name="denoise_digit", time_limit=TIME_LIMIT_S)
            b_sigma, b_clip = gr.Number(25.0), gr.Checkbox(False)
            b_extra = gr.CheckboxGroup(list(PHOTO_BASELINES), value=[])
            b_noisy, b_out, b_metrics = gr.Image(format="png"), gr.Image(format="png"), gr.JSON()
            gr.Button().click(denoise_photo, [a_img, b_sigma, a_blur, b_clip, a_seed, b_extra],
                              [b_noisy, b_out, b_metrics], api_name="denoise_photo", time_limit=TIME_LIMIT_S)
    return demo


def serve(demo: gr.Blocks, host: str | None, port: int | None, **launch: object) -> gr.Blocks:
    """Queue and launch ``demo`` with every limit this app sets; returns without blocking."""
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_FILE_SIZE, show_error=True, css=CSS,
                state_session_capacity=SESSION_CAPACITY, prevent_thread_lock=True, **launch)
    return demo


def main() -> None:
    p = argparse.ArgumentParser(description="Denoising autoencoders demo")
    p.add_argument("--host", default=None, help="default: $GRADIO_SERVER_NAME or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT or 7860")
    p.add_argument("--share", action="store_true", help="ask Gradio for a public share link (off by default)")
    a = p.parse_args()
    LAB.warm()
    demo = serve(build(), a.host, a.port, share=a.share)
    # once the page answers: the robustness curves, off the request path
    threading.Thread(target=_compute_curves, daemon=True).start()
    demo.block_thread()


if __name__ == "__main__":
    main()

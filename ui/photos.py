"""The Photos tab: a photo at its own resolution, the photo U-Nets (synthetic noise added, or the
photo's own camera noise), and classical filters."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np

from dae import data, images, params, service
from dae.baselines import PHOTO_BASELINES
from dae.inference import WeightsUnavailable

from .context import CPU, Context, cpu_bound

OUT_DIR = Path(tempfile.mkdtemp(prefix="dae-downloads-"))


def load_photo(upload: str | None, example: str | None) -> np.ndarray:
    if upload:
        if not isinstance(upload, str):
            raise gr.Error(f"image must be a file, got {type(upload).__name__}")
        return images.read_image(upload)  # an ImageError becomes a gr.Error (cpu_bound)
    return data.sample_photo(params.choice("example", example or data.SAMPLE_PHOTOS[0], list(data.SAMPLE_PHOTOS)))


def result(ctx: Context, upload, example, sigma, blur, clip, seed, extra) -> service.Result:
    """Corrupt and denoise one photo; every failure a visitor can cause is a ``gr.Error``."""
    c = params.photo_corruption(sigma, blur, clip)
    seed = params.seed(seed)
    extra = params.subset("baselines", extra, list(PHOTO_BASELINES), [])
    img = load_photo(upload, example)
    try:
        return ctx.lab.photo(img, c, seed, extra)
    except WeightsUnavailable as e:
        raise gr.Error(str(e)) from None


def _save(image: np.ndarray) -> str:
    """Write the full-resolution result for download; keep the folder from growing."""
    for old in OUT_DIR.glob("*.png"):
        if time.time() - old.stat().st_mtime > 1800:
            old.unlink(missing_ok=True)
    path = OUT_DIR / f"denoised-{time.time_ns()}.png"
    images.save_image(image, path)
    return str(path)


def _show(ctx: Context, *inputs):
    r = result(ctx, *inputs)
    if r.notice:
        gr.Warning(r.notice)
    main = r.panels[0]
    lines = [f"**noisy**: {r.noisy.psnr:.2f} dB / {r.noisy.ssim:.3f}"] + \
            [f"**{p.name}**: {p.psnr:.2f} dB / {p.ssim:.3f}" for p in r.panels]
    against = "the upload itself (it is its own reference)" if r.noise_map is not None else "the original"
    text = (f"{r.why}\n\nPSNR / SSIM against {against} — " + " · ".join(lines)
            + (f"\n\n⚠️ {r.notice}" if r.notice else ""))
    others = [(images.to_uint8(p.image), p.caption) for p in r.panels[1:]]
    noise_map = (gr.Image(_map_image(r.noise_map), visible=True, label=_map_label(r.noise_map))
                 if r.noise_map is not None else gr.Image(None, visible=False))
    return ((images.to_uint8(r.noisy.image), images.to_uint8(main.image)), text, noise_map, others,
            gr.DownloadButton(value=_save(main.image), interactive=True))


def _map_image(noise_map: np.ndarray) -> np.ndarray:
    """The model's noise-level map in magma, 0 (black) to its largest σ (light yellow)."""
    from matplotlib import colormaps

    top = max(float(noise_map.max()), 1e-6)
    return (colormaps["magma"](noise_map / top)[..., :3] * 255).astype(np.uint8)


def _map_label(noise_map: np.ndarray) -> str:
    return (f"where the model thinks the noise is: brighter is noisier (σ up to {noise_map.max() * 255:.1f}/255, "
            f"median {np.median(noise_map) * 255:.1f}/255)")


def build(ctx: Context, tab: gr.Tab) -> None:
    """Lay out the tab; it runs when opened and on every control change."""
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label="Upload a photo", file_types=["image"], elem_id="photo-upload")
            example = gr.Dropdown(list(data.SAMPLE_PHOTOS), value="astronaut",
                                  label="…or a scikit-image example photo")
            sigma = gr.Slider(**params.PHOTO_SIGMA.widget(), label="Added noise σ (0-255 scale)",
                              info="0: the photo is already noisy (a night shot): the blind real-noise model runs")
            blur = gr.Slider(**params.PHOTO_BLUR.widget(), label="Blur σ (pixels, applied first)")
            with gr.Row():
                clip = gr.Checkbox(False, label="Clip to [0, 1]")
                seed = gr.Number(precision=0, label="Seed", **params.SEED.widget())
            extra = gr.CheckboxGroup(list(PHOTO_BASELINES), value=[], label="Compare with (BM3D takes seconds)")
            go = gr.Button("Denoise", variant="primary")
        with gr.Column(scale=2):
            slider = gr.ImageSlider(label="noisy ↔ denoised", elem_id="photo-slider")
            text = gr.Markdown(elem_id="photo-why")
            noise_map = gr.Image(visible=False, interactive=False, elem_id="photo-noise-map", buttons=[], height=320)
            download = gr.DownloadButton("Download the full-resolution result", interactive=False)
            others = gr.Gallery(label="classical baselines", columns=2, height=300)
    gr.on([tab.select, go.click, upload.upload, example.change, sigma.release, blur.release, clip.change,
           seed.change], cpu_bound(lambda *a: _show(ctx, *a)), [upload, example, sigma, blur, clip, seed, extra],
          [slider, text, noise_map, others, download], trigger_mode="always_last", api_visibility="private", **CPU)

"""The named API endpoints ``/denoise_digit`` and ``/denoise_photo`` (for ``gradio_client``).

They live in a hidden column, share the tabs' code paths, and keep the inputs and outputs
they have always had: image outputs go through Gradio's file cache, which
``ui/gradio_fixes.py`` makes safe for identical concurrent requests.
"""
from __future__ import annotations

import gradio as gr

from dae import images, params
from dae.baselines import PHOTO_BASELINES

from . import photos
from .context import CPU, LIGHT, RUNNING, Context, cpu_bound, unconverted
from .digits import from_upload


def denoise_digit(ctx: Context, image, noise="gaussian", sigma=0.5, blur=0.0, mean=0.0, clip=True, seed=0,
                  models=None):
    """An image file of a digit → noisy 28×28, each model's 28×28 output, metrics. Every
    parameter is checked against its declared range (:mod:`dae.params`) before any work."""
    c = params.digit_corruption(noise, sigma, blur, mean, clip)
    seed = params.seed(seed)
    chosen = params.subset("models", models, ctx.digit_methods, ctx.digit_models)
    clean = from_upload(image)
    r = ctx.lab.digit(clean, c, seed, chosen)
    return images.to_uint8(r.noisy.image), [(images.to_uint8(p.image), p.caption) for p in r.panels], r.metrics()


def denoise_photo(ctx: Context, image, sigma=25.0, blur=0.0, clip=False, seed=0, baselines=None):
    """A photo file → noisy and denoised images at full resolution, metrics."""
    if not image:
        raise gr.Error("No file arrived.")
    r = photos.result(ctx, image, None, sigma, blur, clip, seed, baselines)
    return (images.to_uint8(r.noisy.image), images.to_uint8(r.panels[0].image),
            {**r.metrics(), "model": r.panels[0].name, "why": r.why, "notice": r.notice})


def build(ctx: Context) -> None:
    """Register both endpoints; call inside a ``gr.Column(visible=False)``."""
    img, noise = gr.File(), gr.Textbox("gaussian")
    sigma, blur, mean = gr.Number(0.5), gr.Number(0.0), gr.Number(0.0)
    clip, seed = gr.Checkbox(True), gr.Number(0, precision=0)
    models = gr.CheckboxGroup(ctx.digit_methods, value=ctx.digit_models)
    noisy, gallery, metrics = gr.Image(format="png"), gr.Gallery(format="png"), gr.JSON()
    unconverted(noise, sigma, blur, mean, clip, seed, models)

    @cpu_bound
    def digit(image, noise="gaussian", sigma=0.5, blur=0.0, mean=0.0, clip=True, seed=0, models=None):
        return denoise_digit(ctx, image, noise, sigma, blur, mean, clip, seed, models)

    @cpu_bound
    def photo(image, sigma=25.0, blur=0.0, clip=False, seed=0, baselines=None):
        return denoise_photo(ctx, image, sigma, blur, clip, seed, baselines)

    gr.Button().click(digit, [img, noise, sigma, blur, mean, clip, seed, models], [noisy, gallery, metrics],
                      api_name="denoise_digit", **CPU)
    p_sigma, p_clip = gr.Number(25.0), gr.Checkbox(False)
    p_extra = gr.CheckboxGroup(list(PHOTO_BASELINES), value=[])
    p_noisy, p_out, p_metrics = gr.Image(format="png"), gr.Image(format="png"), gr.JSON()
    unconverted(p_sigma, p_clip, p_extra)
    gr.Button().click(photo, [img, p_sigma, blur, p_clip, seed, p_extra], [p_noisy, p_out, p_metrics],
                      api_name="denoise_photo", **CPU)
    # how many CPU-bound calls run now and the most at once so far: what the one CPU budget bounds
    gr.Button().click(RUNNING.as_dict, None, gr.JSON(), api_name="server_load", api_visibility="undocumented",
                      **LIGHT)

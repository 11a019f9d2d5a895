"""The Robustness tab: PSNR and SSIM against σ for every method, the current σ marked.

The curves come from ``dae.bench.robustness`` (the README table's code at 11 σ values on
200 held-out digits), computed once in a background thread after the page answers. The
plots are drawn with matplotlib into inline PNGs and the legend is HTML beside them, so it
is never clipped by a plot container and names every method in text a test can read.
"""
from __future__ import annotations

import base64
import html
import io
import threading

import gradio as gr
from matplotlib.figure import Figure

from dae import bench, params

from .context import CPU, Context, cpu_bound

_TEXT = "#8a8f98"  # mid grey: readable on Gradio's light and dark themes alike


class Curves:
    """The robustness table, computed once per process off the request path."""

    def __init__(self, ctx: Context):
        self._ctx, self._ready, self.table, self.error = ctx, threading.Event(), {}, ""

    def compute(self) -> None:
        """Fill ``table``, or ``error`` with why not: a failed job says so on its tab, and
        nobody waits for a result that will never come."""
        try:
            methods = bench.digit_methods(str(self._ctx.weights_dir), self._ctx.digit_models)
            self.table = bench.robustness(methods)
        except Exception as e:  # any failure: shown on the tab instead of a wait
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self._ready.set()

    def start(self) -> None:
        threading.Thread(target=self.compute, daemon=True, name="robustness-curves").start()

    def wait(self, timeout: float = 2.0) -> dict:
        """The table, waiting at most ``timeout`` s (a worker is held meanwhile); {} until ready."""
        self._ready.wait(timeout)
        return self.table


def _colours(names: list[str]) -> dict[str, str]:
    cycle = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
             "#9c755f", "#bab0ac"]  # Tableau 10: distinct for up to ten methods
    return {n: cycle[i % len(cycle)] for i, n in enumerate(names)}


def _plot(table: dict, key: str, label: str, sigma: float | None, colours: dict[str, str]) -> str:
    fig = Figure(figsize=(5.6, 3.2), dpi=100)
    fig.patch.set_alpha(0)
    ax = fig.add_subplot()
    ax.set_facecolor("none")
    for name, row in table.items():
        xs = [float(s) for s in row]
        ax.plot(xs, [row[s][key] for s in row], color=colours[name], lw=2.2 if name != "noisy input" else 1.2,
                ls="--" if name == "noisy input" else "-", marker="o", ms=3)
    if sigma is not None:
        ax.axvline(sigma, color=_TEXT, lw=1, ls=":")
        for name, value in bench.at_sigma(table, sigma, key).items():
            ax.plot([sigma], [value], "o", ms=8, mfc=colours[name], mec="white", mew=1.2, zorder=5)
    ax.set_xlabel("Gaussian σ (clipped)", color=_TEXT)
    ax.set_ylabel(label, color=_TEXT)
    ax.tick_params(colors=_TEXT)
    for spine in ax.spines.values():
        spine.set_color(_TEXT)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render(table: dict, noise: str, level: float, error: str = "") -> str:
    """Both plots and a legend that names every method with its value at the current σ."""
    if error:
        return f"<p>The curves could not be computed ({html.escape(error)}); the other tabs are unaffected.</p>"
    if not table:
        return "<p>The curves are still being computed; open this tab again in a few seconds.</p>"
    c = params.digit_corruption(noise, level)
    sigma = c.sigma if c.noise == "gaussian" else None
    colours = _colours(list(table))
    at = bench.at_sigma(table, sigma, "psnr") if sigma is not None else {}
    items = "".join(
        f'<li class="dae-legend-entry"><span class="dae-swatch" style="background:{colours[n]}"></span>'
        f'<span class="dae-legend-text">{html.escape(n)}'
        + (f' <b>{at[n]:.2f} dB</b>' if n in at else "") + "</span></li>" for n in table)
    note = (f"The dotted line and the dots mark the Digits tab's σ = {sigma:.2f}."
            if sigma is not None else f"The Digits tab is set to {html.escape(noise)} noise; these curves "
            "are for Gaussian noise, so no σ is marked.")
    return (f'<div class="dae-robust"><div class="dae-plots">'
            f'<img src="{_plot(table, "psnr", "PSNR (dB)", sigma, colours)}" alt="PSNR against σ">'
            f'<img src="{_plot(table, "ssim", "SSIM", sigma, colours)}" alt="SSIM against σ"></div>'
            f'<div class="dae-legend" id="robustness-legend"><ul>{items}</ul><p>{note}</p></div></div>')


def build(ctx: Context, curves: Curves, tab: gr.Tab, noise: gr.Radio, level: gr.Slider) -> None:
    """Lay out the tab; it draws when opened, at the Digits tab's current σ."""
    gr.Markdown("Clipped Gaussian noise at σ 0 … 1 on 200 held-out digits; the same code as the "
                "README's quality table (`python -m dae.bench`). Baselines are told the true σ.")
    out = gr.HTML("<p>Open this tab to draw the curves.</p>", elem_id="robustness")
    tab.select(cpu_bound(lambda n, lv: render(curves.wait(), n, lv, curves.error)), [noise, level], out,
               show_progress="minimal", api_visibility="private", **CPU)

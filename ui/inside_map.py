"""The Inside tab's latent map as a picture one can click: a PNG drawn once per model, the
affine link between its pixels and map coordinates, and one digit's journey drawn on it.

Why a PNG (``gr.Image``) and not a ``gr.ScatterPlot``: Gradio 6.31's native plots report a
*brushed range* on select, not a clicked point, while ``gr.Image.select`` gives the clicked
pixel (in the PNG's own pixels, as long as it is not shown larger than it is). The scatter,
axes and legend are drawn once per model with matplotlib; each digit only adds three markers
and an arrow with Pillow, so the pixel ↔ map mapping is fixed and exact.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from dae import latent

from .context import Context

MAP_SIZE = (720, 560)  # PNG pixels; shown no larger, so a click's pixel is the PNG's pixel
CLEAN, NOISY, ARROW = (0, 0, 0), (220, 30, 30), (20, 20, 20)


# --- the maps, built once per process ------------------------------------------------------

@dataclass
class MapImage:
    """One model's map as a PNG background and the affine link between its pixels and the map."""

    space: latent.LatentMap
    background: np.ndarray  # (H, W, 3) uint8
    box: tuple[float, float, float, float]  # the axes' data area in PNG pixels: left, top, right, bottom

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        e, (l, t, r, b) = self.space.extent, self.box
        return l + (x - e.x0) / (e.x1 - e.x0) * (r - l), b - (y - e.y0) / (e.y1 - e.y0) * (b - t)

    def to_map(self, px: float, py: float) -> tuple[float, float] | None:
        """Map coordinates of a PNG pixel, None outside the axes (the legend, the margins)."""
        e, (l, t, r, b) = self.space.extent, self.box
        if not (l <= px <= r and t <= py <= b):
            return None
        return e.x0 + (px - l) / (r - l) * (e.x1 - e.x0), e.y0 + (b - py) / (b - t) * (e.y1 - e.y0)


def background(space: latent.LatentMap) -> MapImage:
    """Scatter, axes and legend, drawn once (matplotlib, off-screen)."""
    from matplotlib.figure import Figure

    w, h = MAP_SIZE
    fig = Figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes((0.09, 0.09, 0.76, 0.84))
    for k in range(10):
        p = space.points[space.labels == k]
        ax.scatter(p[:, 0], p[:, 1], s=4, alpha=0.55, color=f"C{k}", label=str(k), linewidths=0)
    e = space.extent
    ax.set_xlim(e.x0, e.x1)
    ax.set_ylim(e.y0, e.y1)
    kind = {"lda": "LDA", "pca": "PC", "none": "code"}[space.projection]
    ax.set_xlabel(f"{kind} 1")
    ax.set_ylabel(f"{kind} 2")
    view = "" if space.projection == "none" else f", {kind} projection"
    ax.set_title(f"{space.name}: {space.latent_dim}-number codes of 5,000 held-out digits{view}", fontsize=10)
    fig.legend(*ax.get_legend_handles_labels(), loc="center right", title="digit", markerscale=4, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    rgb = np.asarray(Image.open(buf).convert("RGB"))
    l, b, r, t = ax.get_window_extent().extents  # display pixels, origin bottom-left
    return MapImage(space, rgb, (l, h - t, r, h - b))


_MAPS: dict[int, tuple[Context, dict[str, MapImage]]] = {}  # the context is kept so its id is never reused
_MAPS_LOCK = threading.Lock()


def maps(ctx: Context) -> dict[str, MapImage]:
    """The map of each bottleneck model that loaded, built on first use and kept per context
    (``Context`` is not hashable, hence the id)."""
    with _MAPS_LOCK:
        if id(ctx) not in _MAPS:
            spaces = latent.build_maps({n: ctx.lab.models[n].model for n in ctx.latent_models}, ctx.digits,
                                       ctx.labels)
            _MAPS[id(ctx)] = (ctx, {n: background(s) for n, s in spaces.items()})
        return _MAPS[id(ctx)][1]


def _inside(m: MapImage, x: float, y: float) -> tuple[float, float, bool]:
    """A map point's pixel, pulled onto the axes' edge when it lies off the map."""
    l, t, r, b = m.box
    px, py = m.to_pixel(x, y)
    cx, cy = min(max(px, l), r), min(max(py, t), b)
    return cx, cy, (cx, cy) == (px, py)


def _arrow(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float]) -> None:
    draw.line([a, b], fill=ARROW, width=3)
    v = np.subtract(b, a)
    n = float(np.hypot(*v))
    if n < 1:
        return
    u, side = v / n, np.array([-v[1], v[0]]) / n
    tip = np.asarray(b)
    draw.polygon([tuple(tip), tuple(tip - 14 * u + 6 * side), tuple(tip - 14 * u - 6 * side)], fill=ARROW)


def draw_journey(m: MapImage, j: latent.Journey) -> tuple[np.ndarray, bool]:
    """The map with the clean code (black ring), the noisy code (red cross) and an arrow from
    it to the code of the denoised digit; whether all three lie on the map."""
    img = Image.fromarray(m.background.copy())
    d = ImageDraw.Draw(img)
    (cx, cy, c_in), (nx, ny, n_in), (dx, dy, d_in) = (_inside(m, *p) for p in j.points)
    _arrow(d, (nx, ny), (dx, dy))
    d.ellipse([cx - 9, cy - 9, cx + 9, cy + 9], outline=CLEAN, width=3)
    d.line([nx - 7, ny - 7, nx + 7, ny + 7], fill=NOISY, width=4)
    d.line([nx - 7, ny + 7, nx + 7, ny - 7], fill=NOISY, width=4)
    return np.asarray(img), c_in and n_in and d_in

"""Real camera noise, simulated: what a phone or a camera does to a photo taken in low light.

A sensor does not add white Gaussian noise to sRGB pixels. It counts photons (shot noise,
whose variance grows with the signal) plus a read-out floor, behind a Bayer colour filter;
the camera then demosaics (which correlates the noise between neighbouring pixels and
channels), white-balances, applies a colour matrix and a tone curve (which reshape it), and
often saves a JPEG (which smears it into 8×8 blocks). A denoiser trained on white noise
misses most of that. This module runs the pipeline of Brooks et al., "Unprocessing Images
for Learned Raw Denoising" (CVPR 2019), which CBDNet (Guo et al., CVPR 2019) also uses:

    sRGB → inverse tone curve → inverse gamma → inverse colour matrix → inverse white balance
         → RGGB mosaic → shot + read noise → demosaic (Malvar 2004) → white balance
         → colour matrix → gamma → tone curve → in-camera noise reduction
         → 8-bit, or JPEG at a sampled quality

Every camera parameter is drawn per image from a camera-like range (:func:`sample`), and
:func:`apply` is deterministic given its generator, like :mod:`dae.corrupt`. Demosaicing is
``colour-demosaicing``'s (colour-science); JPEG is Pillow's.

The in-camera noise reduction is what makes a camera's JPEG noise blotchy rather than fine:
cameras smooth the grain they cannot remove, chroma harder than luma, and keep edges. It is
modelled on the noise alone (an ideal edge-keeping filter leaves the scene as it is): the
noise is split into luma and two chroma planes, each blurred by a Gaussian of sampled width
and scaled back to a sampled share of its energy. Without it, neighbouring pixels' noise
correlates at about 0.24 (demosaicing alone); a camera's JPEG at ISO 1600–6400 correlates at
about 0.7 (CC15's residuals against their means, averaged over the set), and the sampled
widths span both.
"""
from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

GAMMA = 2.2
# Log shot-noise variance uniform over this range (per unit of linear signal), and the
# read-noise variance tied to it by Brooks et al.'s line fitted to real cameras. Brooks et
# al. go up to 1.2e-2 (about 19 dB PSNR on BSDS500 crops, darker than a phone saves); this
# range, 25-43 dB, is a phone or camera at ISO 800-6400 after its own processing.
LOG_SHOT_RANGE = (np.log(5e-5), np.log(3e-3))
READ_FIT = (2.18, 1.20, 0.26)  # log read = a · log shot + b + N(0, c)
JPEG_QUALITY = (85, 99)  # half-open: 85-98
NR_SHARE = 0.75  # the share of cameras that smooth their noise before saving


@dataclass(frozen=True)
class Camera:
    """One simulated camera and exposure.

    shot, read:  noise variances: var = read + shot · signal, on the linear [0, 1] scale
    red_gain, blue_gain, brightness:  white balance and exposure the camera undoes
    saturation:  the colour matrix (camera → sRGB) is (1 + s)·I − s/3 · 1: rows sum to 1,
                 so greys stay grey, and noise gains colour as real camera matrices give it
    nr_luma, nr_chroma:  the in-camera noise reduction's Gaussian widths (px) on the noise's
                 luma and chroma; 0 leaves that plane's noise as demosaicing made it
    keep_luma, keep_chroma:  the share of each plane's noise RMS left after it
    jpeg_quality:  None saves 8-bit PNG-like values; otherwise JPEG at this quality
    """

    shot: float
    read: float
    red_gain: float = 2.0
    blue_gain: float = 1.7
    brightness: float = 1.0
    saturation: float = 0.3
    nr_luma: float = 0.0
    nr_chroma: float = 0.0
    keep_luma: float = 1.0
    keep_chroma: float = 1.0
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        for name in ("shot", "read"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a finite variance >= 0, got {getattr(self, name)!r}")
        for name in ("nr_luma", "nr_chroma", "keep_luma", "keep_chroma"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {getattr(self, name)!r}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")

    @property
    def ccm(self) -> np.ndarray:
        s = self.saturation
        return (1 + s) * np.eye(3) - s / 3 * np.ones((3, 3))

    @property
    def gains(self) -> np.ndarray:
        return np.array([self.red_gain, 1.0, self.blue_gain]) * self.brightness


def sample(rng: np.random.Generator, jpeg: float = 0.6, nr: float = NR_SHARE) -> Camera:
    """A camera-like draw: Brooks et al.'s noise and white-balance ranges, a mild colour
    matrix, with probability ``nr`` an in-camera noise reduction (luma width 0.3–1.3 px,
    chroma wider by 0.5–2 px, keeping 60–100 % of the luma noise and 30–80 % of the
    chroma), and with probability ``jpeg`` a JPEG at quality 85–98: what a camera or a phone
    saves (its JPEG engine's 'fine'; a web page's 70 would add artefacts the reference lacks)."""
    log_shot = rng.uniform(*LOG_SHOT_RANGE)
    a, b, c = READ_FIT
    log_read = a * log_shot + b + rng.normal(0, c)
    quality = int(rng.integers(*JPEG_QUALITY)) if rng.random() < jpeg else None
    cam = Camera(shot=float(np.exp(log_shot)), read=float(np.exp(log_read)),
                 red_gain=float(rng.uniform(1.9, 2.4)), blue_gain=float(rng.uniform(1.5, 1.9)),
                 brightness=float(1 / max(rng.normal(0.8, 0.1), 0.5)),
                 saturation=float(rng.uniform(0.0, 0.6)), jpeg_quality=quality)
    if rng.random() < nr:
        luma = float(rng.uniform(0.3, 1.3))
        cam = dataclasses.replace(cam, nr_luma=luma, nr_chroma=luma + float(rng.uniform(0.5, 2.0)),
                                  keep_luma=float(rng.uniform(0.6, 1.0)), keep_chroma=float(rng.uniform(0.3, 0.8)))
    return cam


# --- the camera's processing, and its inverse ---------------------------------------

def _tone(x: np.ndarray) -> np.ndarray:
    """The global tone curve Brooks et al. fit to camera JPEGs: smoothstep."""
    return 3 * x ** 2 - 2 * x ** 3


def _untone(y: np.ndarray) -> np.ndarray:
    return 0.5 - np.sin(np.arcsin(1 - 2 * np.clip(y, 0, 1)) / 3)


def unprocess(srgb: np.ndarray, cam: Camera) -> np.ndarray:
    """sRGB in [0, 1] → linear camera RGB before white balance (what the sensor saw)."""
    lin = np.maximum(_untone(srgb), 1e-8) ** GAMMA
    cam_rgb = lin @ np.linalg.inv(cam.ccm).T
    return np.clip(cam_rgb / cam.gains, 0, 1)


def process(raw_rgb: np.ndarray, cam: Camera) -> np.ndarray:
    """Linear camera RGB → sRGB in [0, 1]: what the camera does after demosaicing."""
    lin = np.clip(raw_rgb * cam.gains, 0, 1) @ cam.ccm.T
    return _tone(np.clip(lin, 1e-8, 1) ** (1 / GAMMA))


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """RGGB Bayer mosaic: one colour sample per pixel."""
    cfa = rgb[..., 1].copy()
    cfa[0::2, 0::2] = rgb[0::2, 0::2, 0]
    cfa[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return cfa


def demosaic(cfa: np.ndarray) -> np.ndarray:
    """Malvar, He and Cutler (2004): bilinear plus gradient correction, as camera pipelines do."""
    from colour_demosaicing import demosaicing_CFA_Bayer_Malvar2004

    return np.asarray(demosaicing_CFA_Bayer_Malvar2004(cfa, "RGGB"), np.float64)


# luma and two chroma directions, orthonormal, so that the split and its inverse keep energy
_YCC = np.array([[1, 1, 1], [1, 0, -1], [1, -2, 1]], np.float64) / np.sqrt([[3], [2], [6]])


def reduce_noise(noise: np.ndarray, cam: Camera) -> np.ndarray:
    """The in-camera noise reduction on the noise (H, W, 3): each of luma and chroma blurred
    by its width and scaled to its kept share of the RMS it had."""
    from scipy import ndimage

    if cam.nr_luma == 0 and cam.nr_chroma == 0 and cam.keep_luma == 1 and cam.keep_chroma == 1:
        return noise
    planes = noise @ _YCC.T
    for k, (width, keep) in enumerate(((cam.nr_luma, cam.keep_luma), (cam.nr_chroma, cam.keep_chroma),
                                       (cam.nr_chroma, cam.keep_chroma))):
        p = planes[..., k]
        q = ndimage.gaussian_filter(p, width) if width > 0 else p
        planes[..., k] = q * (keep * p.std() / max(q.std(), 1e-12))
    return planes @ _YCC


def _jpeg(srgb: np.ndarray, quality: int | None) -> np.ndarray:
    """Round to 8 bits, as every saved photo is, through JPEG when the camera saves one
    (Pillow's 4:2:0 chroma subsampling, as phones save)."""
    u8 = np.round(np.clip(srgb, 0, 1) * 255).astype(np.uint8)
    if quality is not None:
        buf = io.BytesIO()
        Image.fromarray(u8).save(buf, "JPEG", quality=quality)
        u8 = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return u8.astype(np.float32) / 255


def apply(srgb: np.ndarray, cam: Camera, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Photograph ``srgb`` (H, W, 3) in [0, 1] with ``cam``: returns ``(noisy, clean)``,
    float32 in [0, 1]. ``clean`` is what the mean of many such shots of the scene would be,
    as CC15's references are: the same camera without the sensor's noise, so mosaic,
    demosaicing and the JPEG's chroma subsampling included (a linear step that averaging
    keeps), but not the JPEG's quantisation (which the noise dithers away in the mean). A
    reference without the subsampling would teach the model to rebuild colour detail that
    the file never held: after demosaicing that step alone costs a q98 JPEG about 30 dB."""
    srgb = np.asarray(srgb, np.float64)
    if srgb.ndim != 3 or srgb.shape[-1] != 3:
        raise ValueError(f"camera noise needs an (H, W, 3) RGB image, got shape {srgb.shape}")
    raw = unprocess(srgb, cam)
    cfa = mosaic(raw)
    clean = process(demosaic(cfa), cam)
    cfa = cfa + rng.standard_normal(cfa.shape) * np.sqrt(cam.read + cam.shot * cfa)
    noisy = clean + reduce_noise(process(demosaic(np.clip(cfa, 0, 1)), cam) - clean, cam)
    if cam.jpeg_quality is not None:
        clean = _jpeg(clean, 100)  # quality 100: the subsampling, next to no quantisation
    return _jpeg(noisy, cam.jpeg_quality), clean.astype(np.float32)


def photograph(srgb: np.ndarray, seed: int, jpeg: float = 0.6) -> tuple[np.ndarray, np.ndarray, Camera]:
    """A seeded draw of :func:`sample` applied to one image: ``(noisy, clean, camera)``."""
    rng = np.random.default_rng(seed)
    cam = sample(rng, jpeg)
    noisy, clean = apply(srgb, cam, rng)
    return noisy, clean, cam

"""README's and docs/quality.md's tables are the benchmark results committed beside them, verbatim.

A hand edit once dropped the photo table from README; this keeps the published figures
and `benchmarks/results/*.json` (what the bench scripts wrote) from drifting apart. The full
tables live in docs/quality.md; README shows a selection of rows and columns of the same
tables, rendered by the same functions, and a small speed table read from speed.json and
load.json.
"""
import json
from pathlib import Path

from dae import bench, corrupt

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUALITY = (ROOT / "docs" / "quality.md").read_text(encoding="utf-8")

# README's headline selection: the tutorials' presets, the models and the best digit filter;
# the photo model against BM3D.
HEADLINE_DIGIT_ROWS = ["noisy input", "dense", "conv-latent", "conv-pool", "unet", "unet-wide", "median filter"]
HEADLINE_PHOTO_ROWS = ["noisy input", "photo", "BM3D", "photo s/image", "BM3D s/image"]


def _result(name: str) -> dict:
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text(encoding="utf-8"))


def _rows(table: dict, names: list[str]) -> dict:
    return {name: table[name] for name in names}


def test_digit_table_is_the_benchmark_result():
    table = _result("digit_quality.json")
    settings = [s for s, _ in bench.digit_settings()]
    assert bench.markdown(table, settings) in QUALITY


def test_photo_table_is_the_benchmark_result():
    assert bench.photo_markdown(_result("photo_quality.json")) in QUALITY


def test_readme_headline_digit_table_is_the_benchmark_result():
    presets = [s for s, _ in bench.digit_settings() if s in corrupt.PRESETS]  # the tutorials' own settings
    assert len(presets) == 5
    table = _rows(_result("digit_quality.json"), HEADLINE_DIGIT_ROWS)
    assert bench.markdown(table, presets) in README


def test_readme_headline_photo_table_is_the_benchmark_result():
    assert bench.photo_markdown(_rows(_result("photo_quality.json"), HEADLINE_PHOTO_ROWS)) in README


def speed_headline(speed: dict, load: dict) -> str:
    """README's speed table, every figure read from the JSON that speed.py and load.py wrote."""
    e2e, compute = speed["end_to_end"], speed["model_compute"]
    rss, rss_peak = speed["app RSS while serving (MB): current, peak"]
    rows = [
        ("`python app.py` until the page answers", f"{speed['python app.py until the page answers (s)']} s"),
        ("one digit, `unet-wide` (model compute)", f"{compute['unet-wide ×1']['dae_ms']} ms"),
        ("one 512² colour photo (model compute)", f"{compute['photo 512² colour']['dae_ms']} ms"),
        ("`/denoise_digit`, all five digit models, end to end p50 / p95",
         f"{e2e['/denoise_digit, all 5 digit models']['p50_ms']} / {e2e['/denoise_digit, all 5 digit models']['p95_ms']} ms"),
        ("`/denoise_photo`, 512² colour, end to end p50 / p95",
         f"{e2e['/denoise_photo, 512² colour']['p50_ms']} / {e2e['/denoise_photo, 512² colour']['p95_ms']} ms"),
        (f"{load['load']['clients']} clients at once, {load['load']['n']} requests: errors, p50 / p95",
         f"{load['load']['errors']}, {load['load']['p50_ms'] / 1000:.1f} / {load['load']['p95_ms'] / 1000:.1f} s"),
        ("resident memory while serving, current / peak", f"{rss:,} / {rss_peak:,} MB"),
    ]
    return "| measured | figure |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def test_readme_speed_table_is_the_benchmark_result():
    assert speed_headline(_result("speed.json"), _result("load.json")) in README


def test_readme_links_every_doc():
    for doc in ("quality", "performance", "experiments", "architecture"):
        assert f"](docs/{doc}.md" in README
        assert (ROOT / "docs" / f"{doc}.md").is_file()


def test_readme_real_noise_row_is_the_benchmark_result():
    t = _result("real_noise.json")["table"]
    row = (f"| {t['noisy shot']['psnr']:.2f} | {t['photo told nothing']['psnr']:.2f} | "
           f"**{t['photo-real']['psnr']:.2f}** ({t['photo-real']['worse_than_shot']} crops worse than the shot) | "
           f"{t['CBM3D, σ estimated']['psnr']:.2f} |")
    assert row in README
    assert f"| **`photo-real`** (blind, what σ 0 runs) | **{t['photo-real']['psnr']:.2f}** |" in QUALITY

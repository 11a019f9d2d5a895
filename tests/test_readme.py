"""README's quality tables are the benchmark results committed beside them, verbatim.

A hand edit once dropped the photo table from README; this keeps the published figures
and `benchmarks/results/*.json` (what the bench scripts wrote) from drifting apart.
"""
import json
from pathlib import Path

from dae import bench

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _result(name: str) -> dict:
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text(encoding="utf-8"))


def test_digit_table_is_the_benchmark_result():
    table = _result("digit_quality.json")
    settings = [s for s, _ in bench.digit_settings()]
    assert bench.markdown(table, settings) in README


def test_photo_table_is_the_benchmark_result():
    assert bench.photo_markdown(_result("photo_quality.json")) in README

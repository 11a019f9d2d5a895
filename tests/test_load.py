"""The short CI variant of benchmarks/load.py: concurrent mixed traffic, no errors."""
from benchmarks.load import load


def test_concurrent_mixed_traffic_has_no_errors(app_url):
    r = load(app_url, clients=6, requests=3)
    assert r["errors"] == 0, r["first_errors"]
    assert r["n"] == 18


def test_short_soak_has_no_errors(app_url):
    """The CI variant of `benchmarks/load.py --soak 600`: 20 s of steady traffic. The app runs
    in this process here, so the memory figures are reported, not judged."""
    import os

    from benchmarks.load import soak

    r = soak(app_url, os.getpid(), seconds=20, clients=2)
    assert r["errors"] == 0 and r["requests"] > 5

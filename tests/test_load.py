"""The short CI variant of benchmarks/load.py: concurrent mixed traffic, no errors."""
from benchmarks.load import load


def test_concurrent_mixed_traffic_has_no_errors(app_url):
    r = load(app_url, clients=6, requests=3)
    assert r["errors"] == 0, r["first_errors"]
    assert r["n"] == 18

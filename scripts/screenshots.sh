#!/usr/bin/env bash
# Refresh the screenshots README shows (docs/screenshot-1280x720.png, docs/screenshot-phone.png)
# on purpose: the browser tests take them, into docs/ only when told to here.
set -euo pipefail
cd "$(dirname "$0")/.."
DAE_SCREENSHOTS="$PWD/docs" python -m pytest -q tests/test_browser.py -k "screenshots or phone"
git status --short docs/

#!/usr/bin/env bash
# Rebuild ui/vendor/uqr/ — the QR code encoder the page draws its "link to this view" with —
# from npm at the version pinned in scripts/uqr/package-lock.json.
#
# Needs Node >= 18 and npm, and only here: the app and the tests use the committed output.
#
#     bash scripts/vendor_uqr.sh && git diff --stat ui/vendor/uqr
#
# What a browser needs, and nothing else:
#   uqr.js     uqr's own ES module (dist/index.mjs), as published: no dependencies, no bundler
#   LICENSE    MIT (Project Nayuki's QR Code generator, which uqr ports, and unjs)
#   VERSIONS   the package version and the sha256 of both files
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pins="$here/uqr"
dest="$here/../ui/vendor/uqr"

cd "$pins"
npm ci --no-audit --no-fund --ignore-scripts
pkg="node_modules/uqr"
[ "$(node -p "require('./$pkg/package.json').license")" = "MIT" ] || { echo "uqr is not MIT any more: check the licence" >&2; exit 1; }
version="$(node -p "require('./$pkg/package.json').version")"

mkdir -p "$dest"
install -m 0644 "$pkg/dist/index.mjs" "$dest/uqr.js"
install -m 0644 "$pkg/LICENSE" "$dest/LICENSE"
{
  echo "# ui/vendor/uqr: written by scripts/vendor_uqr.sh; do not edit by hand."
  echo "uqr $version (MIT, https://github.com/unjs/uqr; a port of Project Nayuki's QR Code generator)"
  echo "# sha256"
  (cd "$dest" && sha256sum uqr.js LICENSE)
} > "$dest/VERSIONS"
ls -l "$dest"

#!/usr/bin/env bash
# Rebuild ui/vendor/tfjs/ — the library the Inside tab trains a DAE with in the visitor's
# browser — from npm at the versions pinned in scripts/tfjs/package-lock.json.
#
# Needs Node >= 18 and npm, and only here: the app and the tests use the committed output.
# Run it after changing the pins:
#
#     bash scripts/vendor_tfjs.sh && git diff --stat ui/vendor/tfjs
#
# What a browser needs (docs/inside.md says why TensorFlow.js, and how well kept it is):
#   tf.min.js                    @tensorflow/tfjs's own prebuilt UMD bundle (core, layers,
#                                converter, data, the CPU and WebGL backends; it sets
#                                window.tf), as published: 1.5 MB, 0.29 MB brotli.
#   tf-backend-wasm.min.js       @tensorflow/tfjs-backend-wasm's UMD bundle (registers the
#                                "wasm" backend on window.tf), as published.
#   tfjs-backend-wasm-simd.wasm  its single-threaded wasm on WebAssembly SIMD (every current
#                                engine), and the plain build for engines without SIMD. Not
#   tfjs-backend-wasm.wasm       the threaded build: it needs SharedArrayBuffer, so COOP/COEP
#                                cross-origin isolation, which breaks embedding the Space.
#   <file>.br                    each compressed once here, brotli quality 11, window 2^24
#                                (Python's brotli, pinned in requirements.txt); the app serves
#                                them as they are (ui/browser_assets.py).
#   LICENSE                      Apache-2.0 (the packages declare it; the canonical text).
#   VERSIONS                     package versions and the sha256 of every file above.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pins="$here/tfjs"
dest="$here/../ui/vendor/tfjs"

cd "$pins"
source "$here/vendor_common.sh"
tfjs="node_modules/@tensorflow/tfjs"
wasm="node_modules/@tensorflow/tfjs-backend-wasm"
install_apache_pins "$tfjs" "$wasm"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
files=(tf.min.js tf-backend-wasm.min.js tfjs-backend-wasm-simd.wasm tfjs-backend-wasm.wasm)
cp "$tfjs/dist/tf.min.js" "$wasm/dist/tf-backend-wasm.min.js" "$wasm/dist/tfjs-backend-wasm-simd.wasm" \
  "$wasm/dist/tfjs-backend-wasm.wasm" "$out/"
python3 "$here/brotli_files.py" "${files[@]/#/$out/}"
cp LICENSE-Apache-2.0.txt "$out/LICENSE"
{
  echo "# ui/vendor/tfjs: written by scripts/vendor_tfjs.sh; do not edit by hand."
  echo "@tensorflow/tfjs $(version "$tfjs") (Apache-2.0, https://github.com/tensorflow/tfjs; tf.min.js as published)"
  echo "@tensorflow/tfjs-backend-wasm $(version "$wasm") (Apache-2.0; tf-backend-wasm.min.js and the wasm as published)"
  echo "brotli $(python3 -c 'import brotli; print(brotli.__version__)') (compression only: <file>.br, quality 11, lgwin 24)"
  echo "# sha256"
  (cd "$out" && sha256sum $(for f in "${files[@]}"; do echo "$f $f.br"; done) LICENSE)
} > "$out/VERSIONS"

mkdir -p "$dest"
rm -f "$dest"/*.js "$dest"/*.wasm "$dest"/*.br "$dest"/LICENSE "$dest"/VERSIONS
install -m 0644 "$out"/* "$dest/"   # npm ships the wasm files executable
ls -l "$dest"

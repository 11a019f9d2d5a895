#!/usr/bin/env bash
# Rebuild ui/vendor/litert/ — the in-browser runtime for the digit models —
# from npm at the versions pinned in scripts/litert/package-lock.json.
#
# Needs Node >= 18 and npm, and only here: the app and the tests use the committed output,
# so `pip install … && python app.py` stays Node-free. Run it after changing the pins:
#
#     bash scripts/vendor_litert.sh && git diff --stat ui/vendor/litert
#
# What a browser needs, and nothing else:
#   litert.js                   @litertjs/core's ES module bundled with esbuild: its
#                               dist/index.js imports the bare name @litertjs/wasm-utils,
#                               which a browser cannot resolve without a bundler or an import map.
#   litert_wasm_internal.js     the Emscripten loader and the wasm it loads: the default
#   litert_wasm_internal.wasm   single-threaded build, which needs WebAssembly relaxed SIMD.
#   litert_wasm_compat_internal.js    the same single-threaded build on plain wasm SIMD, for
#   litert_wasm_compat_internal.wasm  engines without (or with an incomplete) relaxed SIMD:
#                               WebKit (Safari, every iPhone browser), older Chromium/Firefox.
#                               The page tries the relaxed build first and falls back to this
#                               one (ui/digits_browser.js, loadBest).
#                               Not the threaded build (SharedArrayBuffer, so COOP/COEP
#                               cross-origin isolation, which breaks embedding the Space in
#                               an iframe), not JSPI (WebNN / WebGPU partitioning, unused here).
#   <build>.wasm.br             each wasm compressed once here, brotli quality 11, window 2^24
#                               (Python's brotli, pinned in requirements.txt): 9.4 MB -> 2.0 MB
#                               on the wire. The app serves it as it is, with
#                               Content-Encoding: br (ui/browser_assets.py); quality 11 takes
#                               about a minute per build, too slow for start-up.
#   LICENSE                     Apache-2.0 (the packages declare it but ship no licence file;
#                               scripts/litert/LICENSE-Apache-2.0.txt is the canonical text).
#   VERSIONS                    package versions and the sha256 of every file above.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pins="$here/litert"
dest="$here/../ui/vendor/litert"
builds=(litert_wasm_internal litert_wasm_compat_internal)

cd "$pins"
source "$here/vendor_common.sh"
core="node_modules/@litertjs/core"
utils="node_modules/@litertjs/wasm-utils"
install_apache_pins "$core" "$utils"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx --no-install esbuild "$core/dist/index.js" --bundle --format=esm --target=es2022 \
  --legal-comments=inline --log-level=warning --outfile="$out/litert.js"
for b in "${builds[@]}"; do
  cp "$core/wasm/$b.js" "$core/wasm/$b.wasm" "$out/"
done
python3 "$here/brotli_files.py" $(for b in "${builds[@]}"; do echo "$out/$b.wasm"; done)
cp LICENSE-Apache-2.0.txt "$out/LICENSE"
{
  echo "# ui/vendor/litert: written by scripts/vendor_litert.sh; do not edit by hand."
  echo "@litertjs/core $(version "$core") (Apache-2.0, https://github.com/google-ai-edge/LiteRT, litert/js)"
  echo "@litertjs/wasm-utils $(version "$utils") (Apache-2.0, bundled into litert.js)"
  echo "esbuild $(version node_modules/esbuild) (bundler only)"
  echo "brotli $(python3 -c 'import brotli; print(brotli.__version__)') (compression only: <build>.wasm.br, quality 11, lgwin 24)"
  echo "wasm build: litert_wasm_internal (single-threaded, relaxed SIMD)"
  echo "wasm build: litert_wasm_compat_internal (single-threaded, plain SIMD)"
  echo "# sha256"
  (cd "$out" && sha256sum litert.js $(for b in "${builds[@]}"; do echo "$b.js $b.wasm $b.wasm.br"; done) LICENSE)
} > "$out/VERSIONS"

mkdir -p "$dest"
rm -f "$dest"/litert.js "$dest"/litert_wasm_*.js "$dest"/litert_wasm_*.wasm "$dest"/litert_wasm_*.wasm.br "$dest"/LICENSE "$dest"/VERSIONS
install -m 0644 "$out"/* "$dest/"   # npm ships the wasm files executable
ls -l "$dest"

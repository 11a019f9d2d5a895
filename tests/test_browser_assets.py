"""What the in-browser digit path is served: the model manifest, the two vendored LiteRT.js
builds, the headers (encoding, type, caching, content-hashed names) under Gradio and under its
SSR proxy, how loading fails, and how the page picks a build.

The numbers the page computes with them are held to the server's in test_browser_parity.py.
The tests that need no browser run everywhere; the others skip only where no chromium can
be found, and never in CI.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request

from dae.export import current_export, export_status
from dae.registry import digit_models
from tests.conftest import ROOT

DIGIT_MODELS = digit_models()


# --- the manifest: no browser needed ---------------------------------------------------

def test_manifest_lists_the_shipped_exports():
    from ui import browser_assets

    man = browser_assets.manifest()
    assert list(man["models"]) == DIGIT_MODELS
    for name, entry in man["models"].items():
        path = ROOT / "weights" / f"{name}.tflite"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["browser"], entry
        assert entry["sha256"] == sha
        assert entry["bytes"] == path.stat().st_size
        assert entry["has_latent"] == (name in ("dense", "conv-latent"))
        assert entry["url"] == f"{browser_assets.PREFIX}{name}.{sha[:16]}.tflite"
    assert set(man["runtime"]["builds"]) == {"relaxed", "compat"}
    for label, build in browser_assets.WASM_BUILDS.items():
        spec = man["runtime"]["builds"][label]
        for ext in ("js", "wasm"):
            sha = hashlib.sha256((browser_assets.VENDOR_DIR / f"{build}.{ext}").read_bytes()).hexdigest()
            assert spec["loader" if ext == "js" else "wasm"] == f"{browser_assets.PREFIX}{build}.{sha[:16]}.{ext}"
    assert man["module"].startswith(browser_assets.PREFIX + "digits_browser.")
    assert man["controller"].startswith(browser_assets.PREFIX + "digits.")
    assert man["runtime"]["lib"].startswith(browser_assets.PREFIX + "litert.")


def test_every_shipped_export_has_its_quality_11_brotli_and_the_server_sends_it(tmp_path):
    """export_lite writes <file>.br beside each export; it must decompress to the export (a
    stale one would be passed over), and the server sends exactly it. A .br that is not the
    file's is ignored: the server compresses the file itself."""
    import brotli

    from ui import browser_assets

    exports = sorted((ROOT / "weights").glob("*.tflite"))
    assert len(exports) >= len(DIGIT_MODELS) + 2
    for path in exports:
        br = path.with_name(path.name + ".br")
        assert br.is_file() and brotli.decompress(br.read_bytes()) == path.read_bytes(), br.name
    served = browser_assets.Assets().by_path
    for name in DIGIT_MODELS:
        path = ROOT / "weights" / f"{name}.tflite"
        assert served[path].encoded["br"] == path.with_name(path.name + ".br").read_bytes(), name
    raw = (ROOT / "weights" / "dense.tflite").read_bytes()
    (tmp_path / "dense.tflite").write_bytes(raw)
    (tmp_path / "dense.tflite.br").write_bytes(brotli.compress(b"not this file"))
    made = browser_assets._brotli(tmp_path / "dense.tflite", raw, hashlib.sha256(raw).hexdigest(), {})
    assert brotli.decompress(made) == raw


def test_two_wasm_builds_are_vendored_as_versions_records():
    """ui/vendor/litert holds exactly what scripts/vendor_litert.sh writes: the relaxed-SIMD
    and the compat build, each wasm also brotli-compressed, and VERSIONS' sha256s match."""
    import brotli

    from ui import browser_assets

    vendor = browser_assets.VENDOR_DIR
    files = {"litert.js", "LICENSE"}
    for build in browser_assets.WASM_BUILDS.values():
        files |= {f"{build}.js", f"{build}.wasm", f"{build}.wasm.br"}
        assert brotli.decompress((vendor / f"{build}.wasm.br").read_bytes()) == (vendor / f"{build}.wasm").read_bytes()
    assert {p.name for p in vendor.iterdir()} == files | {"VERSIONS"}
    lines = (vendor / "VERSIONS").read_text().splitlines()
    assert "wasm build: litert_wasm_internal (single-threaded, relaxed SIMD)" in lines
    assert "wasm build: litert_wasm_compat_internal (single-threaded, plain SIMD)" in lines
    recorded = dict(reversed(line.split("  ", 1)) for line in lines[lines.index("# sha256") + 1:])
    assert recorded == {name: hashlib.sha256((vendor / name).read_bytes()).hexdigest() for name in files}


def test_a_stale_or_missing_export_stays_on_the_server(tmp_path):
    from ui import browser_assets

    for name in ("dense", "unet"):
        for ext in (".keras", ".json", ".tflite"):
            shutil.copy(ROOT / "weights" / f"{name}{ext}", tmp_path)
    assert current_export("dense", tmp_path) == tmp_path / "dense.tflite"
    with open(tmp_path / "dense.keras", "ab") as f:  # "retrained": the .keras no longer matches the card
        f.write(b"\0")
    (tmp_path / "unet.tflite").unlink()

    assert current_export("dense", tmp_path) is None and current_export("unet", tmp_path) is None
    assert "stale" in export_status("dense", tmp_path)[1] and "missing" in export_status("unet", tmp_path)[1]
    entries = browser_assets.Assets(tmp_path).model_entries()
    assert entries["dense"] == {"has_latent": True, "browser": False, "why": export_status("dense", tmp_path)[1]}
    assert entries["unet"]["browser"] is False and "python -m dae export" in entries["unet"]["why"]
    served = {a.path.name for a in browser_assets.Assets(tmp_path).by_path.values()}
    assert not served & {"dense.tflite", "unet.tflite"} and "conv-pool.tflite" not in served


def _get(url: str, encoding: str | None):
    req = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(req) as r:
        return r.headers, r.read()


def _decode(body: bytes, encoding: str | None) -> bytes:
    import gzip

    import brotli

    return brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body


def check_served(base: str, man: dict, ssr: bool = False) -> dict[str, int]:
    """Every file of the manifest, as a browser with brotli, one with gzip only and one with
    neither would fetch it: the encoding asked for (made before, never on the fly: the same
    bytes twice), the right type, a year's immutable caching, a name holding the first 16
    hex digits of the sha256 of what it decodes to (and for an export, the manifest's sha256).
    Then the page itself: compressed, with the manifest in it (under ``ssr``, Gradio's Node
    server renders the page, uncompressed, and its front end adds the head later: not
    checked), and the config and API info its front end fetches from Python: compressed.
    Returns the brotli bytes per URL."""
    from ui import browser_assets

    served = browser_assets.served()
    assert served is not None and served.gzip_ready.wait(60)
    urls = [man["module"], man["controller"], man["runtime"]["lib"]]
    urls += [u for spec in man["runtime"]["builds"].values() for u in (spec["loader"], spec["wasm"])]
    urls += [e["url"] for e in man["models"].values() if e["browser"]]
    types = {"js": ("text/javascript; charset=utf-8",), "wasm": ("application/wasm",),
             "tflite": ("application/octet-stream",)}
    sizes = {}
    for url in urls:
        ext = url.rsplit(".", 1)[1]
        raw = None
        for enc in ("br", "gzip", None):
            h, body = _get(base + url, {"br": "br, gzip", "gzip": "gzip, deflate"}.get(enc))
            assert h.get("Content-Encoding") == enc, (url, enc, h.get("Content-Encoding"))
            assert h["Content-Type"] in types[ext], (url, h["Content-Type"])
            assert h["Cache-Control"] == "public, max-age=31536000, immutable", url
            data = _decode(body, enc)
            raw = raw or data
            assert data == raw, url
            if enc:
                assert len(body) < len(raw), (url, enc)
                assert _get(base + url, {"br": "br", "gzip": "gzip"}[enc])[1] == body  # made once
            if enc == "br":
                sizes[url] = len(body)
        sha = hashlib.sha256(raw).hexdigest()
        assert url.rsplit("/", 1)[1].split(".")[1] == sha[:16], url
    for name, e in man["models"].items():  # what the page checks before compiling
        h, body = _get(base + e["url"], "br, gzip")
        assert hashlib.sha256(_decode(body, h.get("Content-Encoding"))).hexdigest() == e["sha256"], name
    h, body = _get(base + "/", "br, gzip")
    assert h["Content-Type"].startswith("text/html")
    if not ssr:
        assert h.get("Content-Encoding") == "br"
        assert b"daeBrowser" in _decode(body, "br")
    # what the front end fetches from Python under SSR (the page's content), compressed too
    for path, enc in (("/config?page=", "br"), ("/config?page=", "gzip"), ("/gradio_api/info?page=", "br")):
        h, body = _get(base + path, {"br": "br, gzip", "gzip": "gzip"}[enc])
        small = h.get("Content-Encoding") is None and len(body) < 500  # the middleware's minimum_size
        assert h["Content-Type"].startswith("application/json") and (h.get("Content-Encoding") == enc or small), \
            (path, dict(h))
        json.loads(_decode(body, h.get("Content-Encoding")))
    return sizes


def test_every_asset_is_served_precompressed_hashed_and_cached_for_a_year(assets_app):
    url, man = assets_app
    check_served(url, man)
    # only the table's names: nothing is looked up on disk
    for name in ("litert_wasm_internal.0000000000000000.wasm", "..%2f..%2f..%2fetc%2fpasswd", "litert.js"):
        try:
            _get(url + "/gradio_api/dae/" + name, "br")
            raise AssertionError(f"{name} must be a 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404, name


def test_load_failures_reject_with_a_reason(browser, assets_app):
    """What the fallback relies on: a blocked wasm rejects loadRuntime (no hang), and a model
    that is missing, altered or withheld by the manifest lands in loadModels' failed."""
    url, man = assets_app
    pg = browser.new_page()
    pg.route("**/*.wasm", lambda route: route.abort())
    pg.goto(url + "/")
    why = pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        try { await dj.loadRuntime(man.runtime); return null; } catch (e) { return String(e.message); }
    }""", man)
    assert why.startswith("the in-browser runtime did not load: ")

    pg.unroute("**/*.wasm")
    models = dict(man["models"])
    models["dense"] = {**models["dense"], "url": models["dense"]["url"].replace("dense.", "nope.")}
    models["unet"] = {**models["unet"], "sha256": "0" * 64}
    models["conv-pool"] = {"browser": False, "why": "conv-pool.tflite is stale", "has_latent": False}
    out = pg.evaluate("""async ([man, models]) => {
        const dj = await import(man.module);
        await dj.loadRuntime(man.runtime);  // the failed attempt above does not stick
        const r = await dj.loadModels(models, ["dense", "unet", "conv-pool", "conv-latent"]);
        return {failed: r.failed, stages: r.stages};
    }""", [man, models])
    pg.close()
    failed = out["failed"]
    assert set(failed) == {"dense", "unet", "conv-pool"}
    assert "HTTP 404" in failed["dense"]
    assert "sha256" in failed["unet"] and failed["conv-pool"] == "conv-pool.tflite is stale"
    assert out["stages"] == {"dense": "fetch", "unet": "checksum", "conv-pool": "manifest"}


REFUSE_RELAXED_SIMD_PROBE = """{
    // an engine without relaxed SIMD, as LiteRT's loader sees it: its probe (a tiny module
    // instantiated with WebAssembly.instantiate) is refused; plain SIMD still validates
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = function (src, imports) {
        if (src instanceof Uint8Array && src.length < 200) {
            return Promise.reject(new WebAssembly.CompileError("feature probe refused"));
        }
        return instantiate.call(this, src, imports);
    };
}"""


def _best(pg, man):
    return pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        try {
            const r = await dj.loadBest(man);
            const first = await dj.denoise(r.models.unet, new Float32Array(784));
            return {build: r.build, tried: r.tried, models: Object.keys(r.models), failed: r.failed,
                    ran: first.image.length};
        } catch (e) { return {error: String(e.message)}; }
    }""", man)


def test_without_relaxed_simd_the_compat_build_is_chosen(browser, assets_app):
    """Safari's case (no relaxed SIMD), simulated by refusing LiteRT's probe: loadRuntime's
    relaxed build rejects with a readable reason before fetching any wasm, and loadBest takes
    the compat build, fetching only its wasm."""
    url, man = assets_app
    pg = browser.new_page()
    pg.add_init_script(REFUSE_RELAXED_SIMD_PROBE)
    wasm = []
    pg.on("request", lambda r: wasm.append(r.url) if r.url.endswith(".wasm") else None)
    pg.goto(url + "/")
    why = pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        try { await dj.loadRuntime(man.runtime, "relaxed"); return null; } catch (e) { return String(e.message); }
    }""", man)
    assert why.startswith("the in-browser runtime did not load: this browser's WebAssembly lacks relaxed SIMD")
    assert wasm == []
    best = _best(pg, man)
    pg.close()
    assert best["build"] == "compat" and best["models"] == DIGIT_MODELS and best["ran"] == 784, best
    assert "relaxed SIMD" in best["tried"]["relaxed"]
    assert [u.rsplit("/", 1)[1].split(".")[0] for u in wasm] == ["litert_wasm_compat_internal"]


def test_a_blocked_relaxed_wasm_falls_back_to_compat_and_both_blocked_reject(browser, assets_app):
    url, man = assets_app
    pg = browser.new_page()
    pg.route("**/litert_wasm_internal.*.wasm", lambda route: route.abort())
    pg.goto(url + "/")
    best = _best(pg, man)
    assert best["build"] == "compat" and best["ran"] == 784, best
    assert set(best["tried"]) == {"relaxed"}
    pg.close()

    pg = browser.new_page()
    pg.route("**/*.wasm", lambda route: route.abort())
    pg.goto(url + "/")
    best = _best(pg, man)
    pg.close()
    assert best["error"].startswith("the in-browser runtime did not load: relaxed SIMD build: "), best
    assert "compat, plain SIMD build: " in best["error"]


def test_a_build_that_aborts_on_its_first_inference_is_passed_over(browser, assets_app):
    """An engine may compile a build and still abort when it runs (WebKit's partial relaxed
    SIMD): loadBest runs a first inference on every model before it settles on a build."""
    url, man = assets_app
    pg = browser.new_page()
    pg.goto(url + "/")
    best = pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        const rt = await dj.loadRuntime(man.runtime, "relaxed");
        // this build's models abort when run (each build has its own LiteRT.js instance)
        rt.lib.CompiledModel.prototype.run = async function () {
            throw new WebAssembly.RuntimeError("Aborted(invalid extended simd op 275)");
        };
        const r = await dj.loadBest(man);
        return {build: r.build, tried: r.tried};
    }""", man)
    pg.close()
    assert best["build"] == "compat", best
    assert "invalid extended simd op" in best["tried"]["relaxed"]

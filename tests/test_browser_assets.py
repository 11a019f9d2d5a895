"""What the in-browser digit path is served (issue #21): the model manifest, the one vendored
LiteRT.js build, the MIME type and compression Gradio gives them, and how loading fails.

The numbers the page computes with them are held to the server's in test_browser_parity.py.
The tests that need no browser run everywhere; the others skip only where no chromium can
be found, and never in CI.
"""
from __future__ import annotations

import hashlib
import shutil
import urllib.request

from dae.inference import current_export, export_status
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
        assert entry["browser"], entry
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
        assert entry["has_latent"] == (name in ("dense", "conv-latent"))
        assert entry["url"].endswith(f"/weights/{name}.tflite")
    assert man["runtime"].endswith("/ui/vendor/litert/") and man["module"].endswith("/ui/digits_browser.js")
    assert man["controller"].endswith("/ui/digits.js")
    served = {p.name for p in browser_assets.static_paths()}
    assert served == {"digits_browser.js", "digits.js", "litert", *(f"{n}.tflite" for n in DIGIT_MODELS)}


def test_one_wasm_build_is_vendored_as_versions_records():
    """ui/vendor/litert holds exactly what scripts/vendor_litert.sh writes: one build (the
    module's WASM_BUILD, the one ui/digits_browser.js loads), and VERSIONS' sha256s match."""
    from ui import browser_assets

    vendor = browser_assets.VENDOR_DIR
    build = browser_assets.WASM_BUILD
    files = {"litert.js", f"{build}.js", f"{build}.wasm", "LICENSE"}
    assert {p.name for p in vendor.iterdir()} == files | {"VERSIONS"}
    assert f'"{build}.js"' in (ROOT / "ui" / "digits_browser.js").read_text()
    lines = (vendor / "VERSIONS").read_text().splitlines()
    assert f"wasm build: {build} " in "\n".join(lines)
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
    entries = browser_assets.model_entries(tmp_path)
    assert entries["dense"] == {"has_latent": True, "browser": False, "why": export_status("dense", tmp_path)[1]}
    assert entries["unet"]["browser"] is False and "python -m dae export" in entries["unet"]["why"]
    assert not {p.name for p in browser_assets.static_paths(tmp_path)} & {"dense.tflite", "unet.tflite"}


def test_wasm_gets_its_mime_type_whatever_the_machine_table_says():
    """A system table (or the Windows registry) that maps .wasm elsewhere is overridden, and
    after Gradio's import-time mimetypes.init(), which would discard an earlier fix."""
    import mimetypes

    import gradio.routes  # noqa: F401  (its mimetypes.init() has run, as in the app)

    from ui import browser_assets

    mimetypes.add_type("application/octet-stream", ".wasm")  # as a machine's own table might
    browser_assets.ensure_wasm_mime()
    assert mimetypes.guess_type(f"{browser_assets.WASM_BUILD}.wasm")[0] == "application/wasm"


# --- served, and loaded in a browser ---------------------------------------------------

def test_assets_are_served_as_a_browser_needs_them(assets_app):
    """application/wasm (streaming compilation), the bytes the manifest vouches for, and
    compression where Gradio applies it (by extension: the .js files, not .wasm/.tflite)."""
    url, man = assets_app

    def get(path):
        req = urllib.request.Request(url + path, headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(req) as r:
            return r.headers, r.read()

    from ui.browser_assets import WASM_BUILD

    h, body = get(man["runtime"] + f"{WASM_BUILD}.wasm")
    assert h["Content-Type"] == "application/wasm" and body[:4] == b"\0asm"
    for path in (man["runtime"] + "litert.js", man["runtime"] + f"{WASM_BUILD}.js", man["controller"]):
        h, _ = get(path)
        assert h["Content-Type"] in ("application/javascript", "text/javascript") and h["Content-Encoding"] == "br"
    for name, entry in man["models"].items():
        _, body = get(entry["url"])
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], name


def test_load_failures_reject_with_a_reason(browser, assets_app):
    """What phase 2's fallback relies on: a blocked wasm rejects loadRuntime (no hang), and a
    model that is missing, altered or withheld by the manifest lands in loadModels' failed."""
    url, man = assets_app
    pg = browser.new_page()
    pg.route("**/*.wasm", lambda route: route.abort())
    pg.goto(url + "/")
    why = pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        try { await dj.loadRuntime(man.runtime); return null; } catch (e) { return String(e.message); }
    }""", man)
    assert why.startswith("the in-browser runtime did not load: ")  # then Emscripten's "Aborted(…)"

    pg.unroute("**/*.wasm")
    models = dict(man["models"])
    models["dense"] = {**models["dense"], "url": models["dense"]["url"].replace("dense.tflite", "nope.tflite")}
    models["unet"] = {**models["unet"], "sha256": "0" * 64}
    models["conv-pool"] = {"browser": False, "why": "conv-pool.tflite is stale", "has_latent": False}
    failed = pg.evaluate("""async ([man, models]) => {
        const dj = await import(man.module);
        await dj.loadRuntime(man.runtime);  // the failed attempt above does not stick
        return (await dj.loadModels(models, ["dense", "unet", "conv-pool", "conv-latent"])).failed;
    }""", [man, models])
    pg.close()
    assert set(failed) == {"dense", "unet", "conv-pool"}
    assert "HTTP 403" in failed["dense"] or "HTTP 404" in failed["dense"]
    assert "sha256" in failed["unet"] and failed["conv-pool"] == "conv-pool.tflite is stale"


def test_a_browser_without_relaxed_simd_is_told_so(browser, assets_app):
    """Safari's case (no relaxed SIMD), simulated by failing the tiny modules LiteRT probes
    features with: loadRuntime rejects with a readable reason, before fetching any wasm."""
    url, man = assets_app
    pg = browser.new_page()
    pg.add_init_script("""{
        const instantiate = WebAssembly.instantiate;
        WebAssembly.instantiate = function (src, imports) {
            if (src instanceof Uint8Array && src.length < 200) {
                return Promise.reject(new WebAssembly.CompileError("feature probe refused"));
            }
            return instantiate.call(this, src, imports);
        };
    }""")
    wasm = []
    pg.on("request", lambda r: wasm.append(r.url) if r.url.endswith(".wasm") else None)
    pg.goto(url + "/")
    why = pg.evaluate("""async (man) => {
        const dj = await import(man.module);
        try { await dj.loadRuntime(man.runtime); return null; } catch (e) { return String(e.message); }
    }""", man)
    pg.close()
    assert why.startswith("the in-browser runtime did not load: this browser's WebAssembly lacks relaxed SIMD")
    assert wasm == []

"""The figures in docs/browser.md: what a first visit downloads for the in-browser path, how
long headless Chromium takes per digit model, and how far its outputs are from the server's.

    python scripts/litert/measure.py            # about a minute on a 2-core machine

Serves the assets the way the app does (ui.browser_assets.register on a bare Gradio app),
fetches each one as a browser would (Accept-Encoding: br, gzip) and times ui/digits_browser.js
in Debian's chromium. Not a test and not the tab's benchmark (that one times σ steps on the
real page); a quick check of the runtime itself.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def transfer(base: str, man: dict) -> dict[str, int]:
    """Bytes on the wire per file (compressed where Gradio compresses), as a first visit fetches."""
    urls = {"digits_browser.js": man["module"], **{n: man["runtime"] + n for n in
            ("litert.js", "litert_wasm_internal.js", "litert_wasm_internal.wasm")},
            **{f"{n}.tflite": e["url"] for n, e in man["models"].items() if e["browser"]}}
    out = {}
    for name, url in urls.items():
        req = urllib.request.Request(base + url, headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(req) as r:
            body = r.read()
            out[name] = len(body)
            print(f"  {name:28s} {len(body):>10,} B  {r.headers['Content-Type']:24s} {r.headers.get('Content-Encoding') or '-'}")
    return out


def cpu() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    flags = Path("/proc/cpuinfo").read_text()
    simd = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16") if f" {f}" in flags]
    return f"{model}, {os.cpu_count()} cores, {' '.join(simd) or 'no avx2'}"


def main() -> None:
    import gradio as gr
    from playwright.sync_api import sync_playwright

    from dae import corrupt, data, metrics
    from dae import load as dae_load
    from tests.conftest import free_port
    from ui import browser_assets

    man = browser_assets.register()
    with gr.Blocks() as demo:
        gr.Markdown("measure")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    base = f"http://127.0.0.1:{port}"
    print(f"CPU: {cpu()}")
    print("first visit, per file:")
    sizes = transfer(base, man)
    print(f"  total {sum(sizes.values()):,} B (runtime {sum(v for k, v in sizes.items() if 'tflite' not in k):,}, "
          f"models {sum(v for k, v in sizes.items() if 'tflite' in k):,})")

    clean = data.heldout_digits(2)
    # the parity test's 60 digits: 20 held-out digits × 3 corruptions, seed 7
    settings = [corrupt.from_controls("gaussian", 0.5), corrupt.from_controls("salt-pepper", 0.2, blur=1.0),
                corrupt.from_controls("uniform", 0.8, clip=False)]
    noisy = np.concatenate([corrupt.apply(clean, c, seed=7) for c in settings])
    ref = np.concatenate([clean] * len(settings))
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = browser.new_page()
        page.goto(base + "/")
        print(f"Chromium {browser.version}")
        res = page.evaluate("""async ([man, noisy, ref]) => {
            const t0 = performance.now();
            const dj = await import(man.module);
            await dj.loadRuntime(man.runtime);
            const t1 = performance.now();
            const {models, failed} = await dj.loadModels(man.models);
            const t2 = performance.now();
            const out = {runtime_ms: t1 - t0, models_ms: t2 - t1, failed, per_model: {}, outputs: {}};
            for (const [name, model] of Object.entries(models)) {
                const times = [];
                const imgs = [], psnr = [], ssim = [];
                for (let i = 0; i < noisy.length; i++) {  // warm-up pass, keeps the outputs and their scores
                    const image = (await dj.denoise(model, Float32Array.from(noisy[i]))).image;
                    imgs.push(Array.from(image));
                    psnr.push(dj.psnr(Float32Array.from(ref[i]), image));
                    ssim.push(dj.ssim(Float32Array.from(ref[i]), image));
                }
                for (let rep = 0; rep < 10; rep++) {
                    for (let i = 0; i < noisy.length; i++) {
                        const x = Float32Array.from(noisy[i]);
                        const t = performance.now();
                        await dj.denoise(model, x);
                        times.push(performance.now() - t);
                    }
                }
                out.per_model[name] = times;
                out.outputs[name] = {imgs, psnr, ssim};
            }
            const x = Float32Array.from(noisy[0]);
            const t = performance.now();
            for (let i = 0; i < 200; i++) { const n = dj.corrupt(x, {noise: "gaussian", level: 0.5, blur: 1}, i); dj.psnr(x, n); dj.ssim(x, n); }
            out.corrupt_metrics_ms = (performance.now() - t) / 200;
            return out;
        }""", [man, noisy.reshape(len(noisy), 784).tolist(), ref.reshape(len(ref), 784).tolist()])
        browser.close()
    demo.close()
    print(f"runtime import + wasm compile {res['runtime_ms']:.0f} ms; five models fetched + compiled {res['models_ms']:.0f} ms; "
          f"failed: {res['failed'] or 'none'}")
    print(f"corrupt (blur 1 + σ 0.5) + PSNR + SSIM of one digit: {res['corrupt_metrics_ms']:.2f} ms")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (the machine is shared)")
    print(f"{'model':10s} {'median ms':>9s} {'p90 ms':>7s}  max |browser − server| image, and |browser − dae.metrics| PSNR / SSIM on the")
    print(f"{'':30s}browser's images (the parity test's 20 digits × 3 corruptions)")
    total = 0.0
    for name, times in res["per_model"].items():
        got = res["outputs"][name]
        img = np.asarray(got["imgs"], np.float32).reshape(noisy.shape)
        diff = np.abs(img - dae_load(name).denoise(noisy)).max()
        dp = max(abs(p - metrics.psnr(r, i)) for p, r, i in zip(got["psnr"], ref, img))
        ds = max(abs(s - metrics.ssim(r, i)) for s, r, i in zip(got["ssim"], ref, img))
        med = statistics.median(times)
        total += med
        print(f"{name:10s} {med:9.2f} {np.percentile(times, 90):7.2f}  {diff:.2e}   {dp:.1e} / {ds:.1e}")
    print(f"all five, one σ step: {total:.1f} ms (medians summed)")
    print(json.dumps({"bytes": sizes}, indent=None))


if __name__ == "__main__":
    main()

"""The figures in docs/browser.md: what a first visit downloads for the in-browser path, how
long headless Chromium takes per digit model, and how far its outputs are from the server's.

    python scripts/litert/measure.py            # about a minute on a 2-core machine
    python scripts/litert/measure.py --builds   # relaxed-SIMD vs compat build, interleaved (~3 min)

Serves the assets the way the app does (ui.browser_assets.register and app_kwargs on a bare
Gradio app),
fetches each one as a browser would (Accept-Encoding: br, gzip) and times ui/digits_browser.js
in Debian's chromium. Not a test and not the tab's benchmark (that one times σ steps on the
real page); a quick check of the runtime itself.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, cpu, free_port  # noqa: E402



def _blank_page():
    """A Gradio page with nothing on it, on a free loopback port, serving what
    ui.browser_assets.register() registered before it; returns (the Blocks, its base URL)."""
    import gradio as gr

    from ui import browser_assets

    with gr.Blocks() as demo:
        gr.Markdown("measure")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                app_kwargs=browser_assets.app_kwargs())
    return demo, f"http://127.0.0.1:{port}"

def transfer(base: str, man: dict) -> dict[str, int]:
    """Bytes on the wire per file (as served: brotli), as a first visit on the relaxed build fetches."""
    relaxed = man["runtime"]["builds"]["relaxed"]
    urls = {"digits_browser.js": man["module"], "digits.js": man["controller"], "litert.js": man["runtime"]["lib"],
            "loader .js": relaxed["loader"], "wasm": relaxed["wasm"],
            **{f"{n}.tflite": e["url"] for n, e in man["models"].items() if e["browser"]}}
    out = {}
    for name, url in urls.items():
        req = urllib.request.Request(base + url, headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(req) as r:
            body = r.read()
            out[name] = len(body)
            print(f"  {name:28s} {len(body):>10,} B  {r.headers['Content-Type']:24s} {r.headers.get('Content-Encoding') or '-'}")
    return out


# what --builds compares: @litertjs/core's two single-threaded builds without special headers
BUILDS = {"relaxed": "litert_wasm_internal", "compat": "litert_wasm_compat_internal"}
TIME_BUILD = """async ([man, build, noisy, reps, keep]) => {
    const dj = await import(man.module);
    const runtime = await dj.loadRuntime(man.runtime, build);
    const {models, failed} = await dj.loadModels(man.models, undefined, {runtime});
    const out = {failed, per_model: {}, outputs: {}};
    for (const [name, model] of Object.entries(models)) {
        const imgs = [];
        for (const x of noisy) {  // warm-up pass, keeps the outputs
            const image = (await dj.denoise(model, Float32Array.from(x))).image;
            if (keep) imgs.push(Array.from(image));
        }
        const times = [];
        for (let rep = 0; rep < reps; rep++) {
            for (const row of noisy) {
                const x = Float32Array.from(row);
                const t = performance.now();
                await dj.denoise(model, x);
                times.push(performance.now() - t);
            }
        }
        out.per_model[name] = times;
        if (keep) out.outputs[name] = imgs;
    }
    return out;
}"""


def parity_set():
    """The parity test's 60 digits: 20 held-out digits × 3 corruptions, seed 7 (noisy, clean)."""
    from dae import corrupt, data

    clean = data.heldout_digits(2)
    settings = [corrupt.from_controls("gaussian", 0.5), corrupt.from_controls("salt-pepper", 0.2, blur=1.0),
                corrupt.from_controls("uniform", 0.8, clip=False)]
    noisy = np.concatenate([corrupt.apply(clean, c, seed=7) for c in settings])
    return noisy, np.concatenate([clean] * len(settings))


def compare_builds(rounds: int, reps: int) -> None:
    """Time the relaxed-SIMD and the compat build alternately (a fresh page per build and
    round, the order swapped every round), and report each one's parity with the server."""
    from playwright.sync_api import sync_playwright

    from dae import load as dae_load
    from ui import browser_assets

    wasm_dir = browser_assets.VENDOR_DIR
    man = browser_assets.register()
    demo, base = _blank_page()
    print(f"CPU: {cpu()}")
    print("builds (raw / gzip -9 bytes):")
    import gzip
    for label, build in BUILDS.items():
        for ext in (".js", ".wasm"):
            raw = (wasm_dir / f"{build}{ext}").read_bytes()
            print(f"  {label:8s} {build + ext:36s} {len(raw):>10,} {len(gzip.compress(raw, 9, mtime=0)):>10,}")

    noisy, _ = parity_set()
    rows = noisy.reshape(len(noisy), 784).tolist()
    sums = {label: [] for label in BUILDS}
    per_model = {label: {} for label in BUILDS}
    outputs = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version}; {rounds} rounds × {reps} × {len(rows)} timed calls per model and build")
        for r in range(rounds):
            order = list(BUILDS) if r % 2 == 0 else list(reversed(BUILDS))
            line = []
            for label in order:
                page = browser.new_page()
                page.goto(base + "/")
                res = page.evaluate(TIME_BUILD, [man, label, rows, reps, r < 2])
                page.close()
                assert not res["failed"], res["failed"]
                meds = {n: statistics.median(t) for n, t in res["per_model"].items()}
                for n, m in meds.items():
                    per_model[label].setdefault(n, []).append(m)
                sums[label].append(sum(meds.values()))
                if res["outputs"]:
                    outputs[label] = res["outputs"]
                line.append(f"{label} {sum(meds.values()):.1f} ms")
            print(f"  round {r + 1}: " + ", ".join(line) + f"  (load {os.getloadavg()[0]:.1f})")
        browser.close()
    demo.close()
    labels = list(BUILDS)
    print(f"{'model':10s} " + " ".join(f"{lb + ' ms':>11s}" for lb in labels)
          + "   " + " ".join(f"{'max|Δ| ' + lb:>15s}" for lb in labels) + "   (medians over rounds; |browser − server|)")
    for name in per_model[labels[0]]:
        server = dae_load(name).denoise(noisy)
        diffs = [np.abs(np.asarray(outputs[lb][name], np.float32).reshape(noisy.shape) - server).max() for lb in labels]
        print(f"{name:10s} " + " ".join(f"{statistics.median(per_model[lb][name]):11.2f}" for lb in labels)
              + "   " + " ".join(f"{d:15.2e}" for d in diffs))
    med = {lb: statistics.median(sums[lb]) for lb in labels}
    print("one σ step (five models, per-round sum of medians), median over rounds: "
          + ", ".join(f"{lb} {med[lb]:.1f} ms" for lb in labels)
          + f"; compat/relaxed = {med['compat'] / med['relaxed']:.3f}")
    print(json.dumps({"sums": sums}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--builds", action="store_true", help="compare the relaxed-SIMD and compat builds")
    ap.add_argument("--rounds", type=int, default=6, help="--builds: rounds (each build once per round)")
    ap.add_argument("--reps", type=int, default=3, help="--builds: timed passes over the 60 digits per model")
    args = ap.parse_args()
    if args.builds:
        compare_builds(args.rounds, args.reps)
        return
    from playwright.sync_api import sync_playwright

    from dae import corrupt, data, metrics
    from dae import load as dae_load
    from ui import browser_assets

    man = browser_assets.register()
    demo, base = _blank_page()
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
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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

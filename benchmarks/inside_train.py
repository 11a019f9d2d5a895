"""Training a DAE in the visitor's browser (the Inside tab), in headless Chromium.

    python benchmarks/inside_train.py    # a few minutes; writes benchmarks/results/inside_train.json

Starts ``python app.py`` on loopback, opens the Inside tab in Debian's Chromium (headless,
--disable-gpu: TensorFlow.js on its wasm backend, one thread) and trains through
``window.daeInsideTrain.train`` (ui/inside_train.js), as the page's button does:

- **dense, 30 epochs** (the server's live run's model and default epochs): wall time, the
  loss and the fixed test digit's PSNR at the first and last epoch, and the server calls the
  page made meanwhile (``/gradio_api/queue/join``: none is expected);
- **dense-2d, the page's default epochs** (the model whose map forms as it trains): the same;
- where the time goes, measured in the same run: the page's thread waiting for noisy batches
  (made in a module worker, ui/inside_train_noise.js, with the page's ``corrupt``: the wait is
  the noise the worker did not hide), the optimiser steps (``daeInsideTrain.stats``), and the
  rest (the epoch's test digit, the map's 1,000 codes, drawing).

The machine's load is printed with the figures: these machines are shared.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, cpu, save, start_app  # noqa: E402

SERVER_CALL = "/gradio_api/queue/join"
RUNS = (("dense", 30), ("dense-2d", 10))


def run(page, calls: list, model: str, epochs: int) -> dict:
    page.evaluate("() => { daeInsideTrain.stats.batch.length = 0; daeInsideTrain.stats.step.length = 0; }")
    before = len(calls)
    r = page.evaluate("([model, epochs]) => daeInsideTrain.train({model, epochs, seed: 0})", [model, epochs])
    stats = page.evaluate("() => ({batch: daeInsideTrain.stats.batch.reduce((a, b) => a + b, 0),"
                          " step: daeInsideTrain.stats.step.reduce((a, b) => a + b, 0)})")
    h = r["history"]
    noise, steps = stats["batch"] / 1000, stats["step"] / 1000
    return {"model": model, "epochs": epochs, "backend": r["backend"], "noise_made_in": r["noise"],
            "seconds": round(r["seconds"], 2),
            "per_epoch_s": round(r["seconds"] / epochs, 3),
            "loss_first_last": [round(h[0]["loss"], 5), round(h[-1]["loss"], 5)],
            "psnr_first_last_db": [round(h[0]["psnr"], 2), round(h[-1]["psnr"], 2)],
            "waiting_for_noisy_batches_s": round(noise, 2), "optimiser_steps_s": round(steps, 2),
            "rest_s": round(r["seconds"] - noise - steps, 2), "server_calls": len(calls) - before}


def main() -> int:
    from playwright.sync_api import sync_playwright

    proc, url, startup = start_app()
    load_before = os.getloadavg()
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1280, "height": 720})
            calls: list = []
            page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
            page.goto(url)
            page.wait_for_function("() => window.daeDigits && window.daeDigits.mode === 'browser'", timeout=120_000)
            page.get_by_role("tab", name="Inside").click()
            page.wait_for_function("() => window.daeInsideTrain !== undefined", timeout=60_000)
            page.evaluate("() => daeInsideTrain.ready")
            page.wait_for_timeout(1000)  # the tab's own opening request (the projection map) has gone
            runs = [run(page, calls, m, n) for m, n in RUNS]
            b.close()
    finally:
        proc.terminate()
        proc.wait(30)
    result = {"cpu": cpu(), "load_before": [round(v, 2) for v in load_before],
              "load_after": [round(v, 2) for v in os.getloadavg()], "chromium": CHROMIUM,
              "startup_s": round(startup, 2), "runs": runs}
    print(f"CPU {result['cpu']['model']}, {result['cpu']['cores']} cores; load average before "
          f"{result['load_before']}, after {result['load_after']}")
    for r in runs:
        print(f"{r['model']}, {r['epochs']} epochs in Chromium ({r['backend']}): {r['seconds']} s "
              f"({r['per_epoch_s']} s/epoch); loss {r['loss_first_last'][0]} -> {r['loss_first_last'][1]}, "
              f"test digit PSNR {r['psnr_first_last_db'][0]} -> {r['psnr_first_last_db'][1]} dB; "
              f"waiting for noise ({r['noise_made_in']}) {r['waiting_for_noisy_batches_s']} s, "
              f"optimiser steps {r['optimiser_steps_s']} s, "
              f"rest {r['rest_s']} s; server calls {r['server_calls']}")
    print("wrote", save("inside_train", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

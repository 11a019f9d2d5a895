"""Training a DAE in the visitor's browser (ui/inside_train.js, ui/inside_train_assets.py).

The browser's model is the registry's Keras model (layer by layer, shapes and weight counts),
its data is the server's live run's, its noise is dae.corrupt's training distribution, three
epochs lower the loss, and two pages train at the same time with no request to the server.
The Chromium tests skip only where no chromium can be found, and never in CI.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest

from dae import corrupt, live
from dae.registry import spec
from tests.conftest import skip_without_chromium
from ui import inside_train_assets as ita

SERVER_CALL = "/gradio_api/queue/join"


# --- what the server hands over (no browser) --------------------------------------------------

def test_the_data_file_is_the_live_runs_data():
    raw, layout = ita.data_bytes()
    train, held = live.split()
    n = 28 * 28
    got = np.frombuffer(raw, np.uint8, layout["train"]["count"] * n, layout["train"]["offset"]).reshape(-1, 28, 28)
    assert got.shape[0] == 4000 and np.abs(got / np.float32(255) - train[..., 0]).max() <= 1e-7  # lossless
    got = np.frombuffer(raw, np.uint8, layout["held"]["count"] * n, layout["held"]["offset"]).reshape(-1, 28, 28)
    assert got.shape[0] == 1000 and np.abs(got / np.float32(255) - held[..., 0]).max() <= 1e-7
    labels = np.frombuffer(raw, np.uint8, layout["labels"]["count"], layout["labels"]["offset"])
    assert np.bincount(labels).tolist() == [100] * 10
    noisy = np.frombuffer(raw, "<f4", layout["noisy"]["count"], layout["noisy"]["offset"]).reshape(28, 28)
    clean, ref = live.test_digit()
    assert np.array_equal(noisy, ref) and np.array_equal(held[layout["test_index"], ..., 0], clean)


def test_the_architecture_is_read_from_the_registrys_keras_model():
    for name in ita.MODELS:
        arch = ita.architecture(name)
        keras_model = spec(name).build()
        assert arch["params"] == keras_model.count_params()
        assert sum(layer["params"] for layer in arch["layers"]) == arch["params"]
    assert ita.architecture("dense-2d")["code"] == 2
    with pytest.raises(ita.Untrainable):
        ita.architecture("unet")  # convolutions, skips: not translated, so not offered


# --- in Chromium --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bare_url():
    """A bare Gradio app serving the in-browser manifests as app.py does, with the training
    section's markup on it."""
    skip_without_chromium()
    import gradio as gr

    from benchmarks.common import free_port
    from ui import browser_assets, inside_assets
    from ui.inside import train_browser_html

    man = browser_assets.register()
    inside = inside_assets.register({}, ".")
    with gr.Blocks() as demo:
        gr.HTML(train_browser_html())
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                head=browser_assets.head_script(man) + inside_assets.head_script(inside),
                app_kwargs=browser_assets.app_kwargs())
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _page(browser, url):
    page = browser.new_page()
    calls: list = []
    page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
    page.goto(url)
    page.wait_for_function("() => window.daeInsideTrain !== undefined", timeout=60_000)
    page.evaluate("() => daeInsideTrain.ready")
    return page, calls


def test_the_browsers_model_is_the_keras_model(browser, bare_url):
    page, _ = _page(browser, bare_url)
    for name in ita.MODELS:
        keras_model = spec(name).build()
        theirs = [(type(lay).__name__, list(lay.output.shape[1:]), lay.count_params())
                  for lay in keras_model.layers if type(lay).__name__ != "InputLayer"]
        ours = [(s["class_name"], s["output_shape"], s["params"]) for s in page.evaluate("n => daeInsideTrain.summary(n)", name)]
        assert ours == theirs, name
        assert sum(p for *_, p in ours) == keras_model.count_params()
    page.close()


def test_three_epochs_in_the_browser_lower_the_loss(browser, bare_url):
    page, calls = _page(browser, bare_url)
    r = page.evaluate("() => daeInsideTrain.train({model: 'dense', epochs: 3, seed: 0})")
    loss = [e["loss"] for e in r["history"]]
    print("in-browser dense, 3 epochs: loss", [round(v, 4) for v in loss], "in", round(r["seconds"], 1), "s")
    assert len(loss) == 3 and loss[2] < loss[0] and np.isfinite(loss).all()
    assert calls == []
    page.close()


def test_two_pages_train_at_the_same_time(browser, bare_url):
    (a, calls_a), (b, calls_b) = _page(browser, bare_url), _page(browser, bare_url)
    start = """() => { window.stamps = []; window.run = daeInsideTrain.train({model: 'dense', epochs: 3, seed: 1,
                 onEpoch: () => window.stamps.push(Date.now())}); return true; }"""
    a.evaluate(start)
    b.evaluate(start)
    runs = [p.evaluate("() => window.run.then((r) => ({r, stamps: window.stamps}))") for p in (a, b)]
    for out in runs:
        loss = [e["loss"] for e in out["r"]["history"]]
        assert len(loss) == 3 and loss[2] < loss[0]
    (sa, sb) = (out["stamps"] for out in runs)
    assert sa[0] < sb[-1] and sb[0] < sa[-1], (sa, sb)  # each trained while the other did
    assert calls_a == [] and calls_b == []
    a.close()
    b.close()


def test_the_browsers_training_noise_is_dae_corrupts(browser, bare_url):
    """The draws' mix of kinds, and the mean squared noise they add to the 4,000 training
    digits, against dae.corrupt.sample_training at the live run's focus (the two generators
    differ, so statistically: 5 % on 100,000 draws' shares; 6 % on the noise's energy, whose
    estimate's standard error is about 1.7 % here)."""
    page, _ = _page(browser, bare_url)
    shares = page.evaluate("""async (focus) => {
        const lib = await import(window.daeBrowser.module); const rng = new lib.Rng(7); const n = {};
        for (let i = 0; i < 100000; i++) { const d = daeInsideTrain.sampleTraining(rng, focus); n[d.noise] = (n[d.noise] || 0) + 1; }
        return n; }""", live.FOCUS)
    p = np.array([0.6, 0.17, 0.15, 0.08]) * (1 - live.FOCUS) + np.array([live.FOCUS, 0, 0, 0])
    got = np.array([shares.get(k, 0) for k in corrupt.NOISE_KINDS]) / 100000
    assert np.allclose(got, p, rtol=0.05), (got, p)
    clean, _ = live.split()
    packed = base64.b64encode(np.rint(clean * 255).astype(np.uint8).tobytes()).decode()
    ours = page.evaluate("""async ([b64, focus]) => {
        const flat = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const lib = await import(window.daeBrowser.module); const rng = new lib.Rng(3); let se = 0;
        for (let i = 0; i < flat.length / 784; i++) {
            const c = Float32Array.from(flat.subarray(784 * i, 784 * (i + 1)), (v) => v / 255);
            const x = lib.corrupt(c, daeInsideTrain.sampleTraining(rng, focus), rng.nextUint32());
            for (let k = 0; k < 784; k++) se += (x[k] - c[k]) ** 2;
        }
        return se / flat.length; }""", [packed, live.FOCUS])
    theirs = np.mean([((corrupt.sample_training(clean, np.random.default_rng(s), live.FOCUS) - clean) ** 2).mean()
                      for s in range(5)])
    print(f"mean squared training noise on 4,000 digits: browser {ours:.4f}, dae.corrupt {theirs:.4f}")
    assert abs(ours - theirs) <= 0.06 * theirs
    page.close()

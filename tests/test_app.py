"""The app through its public API (gradio_client), as a script or a Space visitor would."""
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from dae import data, service
from dae.registry import digit_models
from tests.badfiles import catalogue


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    p = tmp_path_factory.mktemp("img") / "d.png"
    Image.fromarray((data.heldout_digits(1)[5, ..., 0] * 255).astype(np.uint8)).save(p)
    return p


def test_denoise_digit_defaults(client, digit_png):
    noisy, outputs, metrics = client.predict(image=handle_file(str(digit_png)), api_name="/denoise_digit")
    assert np.asarray(Image.open(noisy)).shape == (28, 28)
    assert len(outputs) == len(digit_models())
    for name in digit_models():
        assert metrics[name]["psnr"] > metrics["noisy"]["psnr"] + 3, (name, metrics)


def test_denoise_digit_every_parameter(client, digit_png):
    _, outputs, metrics = client.predict(
        image=handle_file(str(digit_png)), noise="salt-pepper", sigma=0.3, blur=0.5, mean=0, clip=True,
        seed=5, models=["unet"], api_name="/denoise_digit")
    assert list(metrics) == ["noisy", "unet"] and metrics["unet"]["psnr"] > metrics["noisy"]["psnr"]


def test_bad_upload_gets_a_clear_error_and_server_keeps_serving(client, digit_png, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image at all")
    with pytest.raises(Exception, match="not an image"):
        client.predict(image=handle_file(str(bad)), api_name="/denoise_digit")
    with pytest.raises(AppError, match="noise must be one of"):
        client.predict(image=handle_file(str(digit_png)), noise="poisson", api_name="/denoise_digit")
    _, _, metrics = client.predict(image=handle_file(str(digit_png)), api_name="/denoise_digit")
    assert "unet" in metrics


@pytest.mark.parametrize("name", list(catalogue()))
def test_every_awkward_upload_through_the_api(client, digit_png, tmp_path, name):
    suffix, data_, expect = catalogue()[name]
    f = tmp_path / f"upload{suffix}"
    f.write_bytes(data_)
    if expect:
        with pytest.raises(Exception, match=expect):
            client.predict(image=handle_file(str(f)), api_name="/denoise_digit")
    else:
        noisy, outputs, metrics = client.predict(image=handle_file(str(f)), api_name="/denoise_digit")
        assert np.asarray(Image.open(noisy)).shape == (28, 28) and len(outputs) == len(digit_models())
        _, out, _ = client.predict(image=handle_file(str(f)), sigma=10, api_name="/denoise_photo")
        assert Image.open(out).size[0] >= 1
    client.predict(image=handle_file(str(digit_png)), api_name="/denoise_digit")  # still serving


def test_upload_over_the_size_cap_is_refused(client, digit_png, tmp_path):
    """A real PNG of 21 MB (random pixels do not compress), so only the size cap can refuse it."""
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (2700, 2700, 3), dtype=np.uint8)).save(big)
    assert big.stat().st_size > 20 * 1024 * 1024 and Image.open(big).size == (2700, 2700)
    with pytest.raises(Exception, match=r"(?i)size|exceeds|limit"):
        client.predict(image=handle_file(str(big)), api_name="/denoise_digit")
    client.predict(image=handle_file(str(digit_png)), api_name="/denoise_digit")


def test_no_file_outside_the_app_can_be_read(app_url):
    import urllib.error
    import urllib.request

    for path in ("/etc/passwd", str(Path(__file__).resolve()), "../../etc/passwd"):
        for route in ("gradio_api/file=", "file="):
            try:
                with urllib.request.urlopen(app_url + route + path, timeout=10) as r:
                    assert b"root:" not in r.read() and r.status != 200, path
            except urllib.error.HTTPError as e:
                assert e.code in (403, 404, 400), (path, e.code)


def test_visitor_sessions_are_bounded_and_the_oldest_go_first(served_app, digit_png):
    """Gradio keeps a copy of the page config per session; unbounded, a soak grew the server
    by 6 MB a minute. The cap evicts the least recently used, and new visitors still get served."""
    import app

    demo, url = served_app
    holder = demo.state_holder
    for i in range(app.SESSION_CAPACITY + 50):
        holder[f"visitor-{i}"]
    assert len(holder.session_data) == app.SESSION_CAPACITY
    assert "visitor-0" not in holder and f"visitor-{app.SESSION_CAPACITY + 49}" in holder
    noisy, panels, metrics = Client(url, verbose=False).predict(image=handle_file(str(digit_png)),
                                                                api_name="/denoise_digit")
    assert metrics and len(holder.session_data) == app.SESSION_CAPACITY


def test_denoise_photo(client, tmp_path):
    p = tmp_path / "photo.png"
    img = data.sample_photo("chelsea")[:150, :211]
    Image.fromarray((img * 255).astype(np.uint8)).save(p)
    noisy, out, metrics = client.predict(image=handle_file(str(p)), sigma=25, api_name="/denoise_photo")
    assert np.asarray(Image.open(out)).shape == (150, 211, 3)  # full resolution, colour
    assert metrics["photo"]["psnr"] > metrics["noisy"]["psnr"] + 5


def test_lab_reports_unavailable_models_and_serves_the_rest(tmp_path):
    """Degraded start: one model's weights corrupt, another missing; the rest still work."""
    import shutil
    from dae.inference import WEIGHTS_DIR

    for name in ("dense", "conv-latent", "conv-pool"):
        for ext in (".keras", ".json", ".tflite"):
            shutil.copy(WEIGHTS_DIR / f"{name}{ext}", tmp_path)
    (tmp_path / "conv-pool.json").unlink()  # weights without their card: unavailable too
    (tmp_path / "unet.keras").write_bytes(b"garbage")
    lab = service.Lab(tmp_path)
    assert set(lab.models) == {"dense", "conv-latent"}
    assert "conv-pool.json does not exist" in lab.unavailable["conv-pool"]
    assert "python train.py --model unet" in lab.unavailable["unet"]
    assert "python train.py --model photo" in lab.unavailable["photo"]
    r = lab.digit(data.heldout_digits(1)[0, ..., 0], service.corrupt.gaussian(0.5), 0, ["dense", "unet"])
    assert [p.name for p in r.panels] == ["dense"]


def test_app_starts_degraded_and_serves_the_other_models(tmp_path, digit_png):
    """`python app.py` with one model's weights corrupt and one missing: it starts, the page names
    them with how to restore them, and the API still answers with the rest."""
    import shutil
    import urllib.request

    from benchmarks.common import start_app
    from dae.inference import WEIGHTS_DIR

    for f in WEIGHTS_DIR.glob("*"):
        if not f.name.startswith(("unet", "photo")):
            shutil.copy(f, tmp_path)
    (tmp_path / "unet.keras").write_bytes(b"corrupt")
    proc, url, _ = start_app(env={"DAE_WEIGHTS": str(tmp_path)})
    try:
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "python train.py --model unet" in page and "python train.py --model photo" in page
        _, outputs, metrics = Client(url, verbose=False).predict(image=handle_file(str(digit_png)),
                                                                 api_name="/denoise_digit")
        assert set(metrics) == {"noisy", "dense", "conv-latent", "conv-pool"}
    finally:
        proc.terminate()
        proc.wait(30)


def test_app_starts_with_a_truncated_export_and_a_card_without_training(tmp_path, digit_png):
    """A truncated unet.tflite (its card's sha256 no longer matches) and a dense card without
    'training' (what `python -m dae export` once wrote): the app answers; dense is unavailable
    with the reason; unet is converted again for the server and left out of the browser's
    manifest; every other panel renders."""
    import json
    import shutil
    import urllib.request

    from benchmarks.common import start_app
    from dae.inference import WEIGHTS_DIR

    for f in WEIGHTS_DIR.glob("*"):
        shutil.copy(f, tmp_path)
    lite = tmp_path / "unet.tflite"
    lite.write_bytes(lite.read_bytes()[:5000])
    card = json.loads((tmp_path / "dense.json").read_text())
    del card["training"]
    (tmp_path / "dense.json").write_text(json.dumps(card))
    proc, url, _ = start_app(env={"DAE_WEIGHTS": str(tmp_path)})
    try:
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "dense.json has no valid" in page and "unet.tflite does not match the sha256" in page
        from ui.browser_assets import Assets

        entries = Assets(tmp_path).model_entries()  # what that page's manifest lists
        assert entries["unet"]["browser"] is False and entries["dense"]["browser"] is False
        assert entries["unet-wide"]["browser"] is True
        _, outputs, metrics = Client(url, verbose=False).predict(image=handle_file(str(digit_png)),
                                                                 api_name="/denoise_digit")
        assert set(metrics) == {"noisy", "conv-latent", "conv-pool", "unet", "unet-wide"}
        assert metrics["unet"]["psnr"] > metrics["noisy"]["psnr"] + 3  # the reconverted graph works
    finally:
        proc.terminate()
        proc.wait(30)


def test_photo_at_sigma_0_goes_to_the_real_noise_model(client, tmp_path):
    """σ 0 means "already noisy": /denoise_photo runs the blind photo-real and says so; an added
    σ runs photo, told that σ."""
    p = tmp_path / "p.png"
    Image.fromarray((data.sample_photo("astronaut")[:96, :96] * 255).astype(np.uint8)).save(p)
    _, _, metrics = client.predict(image=handle_file(str(p)), sigma=0, api_name="/denoise_photo")
    assert metrics["model"] == "photo-real" and "photo-real" in metrics and "already noisy" in metrics["why"]
    _, _, metrics = client.predict(image=handle_file(str(p)), sigma=25, api_name="/denoise_photo")
    assert metrics["model"] == "photo" and "σ 25/255" in metrics["why"]

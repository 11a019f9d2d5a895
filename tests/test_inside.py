"""The Inside tab's endpoints through gradio_client, and a browser that clicks the latent map.

Served by the real app (tests/conftest.py).
"""
import time

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from dae import data, latent, live




@pytest.fixture(scope="module")
def inside_url(app_url):
    """The real app, which has the Inside tab."""
    return app_url


@pytest.fixture(scope="module")
def client(inside_url):
    return Client(inside_url, verbose=False)


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    d = tmp_path_factory.mktemp("digits")
    x = data.heldout_digits(1)
    paths = []
    for i in (3, 7):
        p = d / f"{i}.png"
        Image.fromarray((x[i, ..., 0] * 255).astype(np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_encode_gives_three_codes_and_their_map_positions(client, pngs):
    r = client.predict(image=handle_file(pngs[0]), api_name="/encode")
    assert r["model"] == "dense" and r["projection"] == "lda"
    for k in ("clean", "noisy", "denoised"):
        assert len(r[k]["code"]) == 32 and len(r[k]["map"]) == 2
    assert r["noisy"]["code"] != r["clean"]["code"]
    (x0, x1), (y0, y1) = r["map_extent"]["x"], r["map_extent"]["y"]
    assert x0 <= r["clean"]["map"][0] <= x1 and y0 <= r["clean"]["map"][1] <= y1
    quiet = client.predict(image=handle_file(pngs[0]), model="conv-latent", noise="none", sigma=0, seed=3,
                           api_name="/encode")
    assert len(quiet["clean"]["code"]) == 16 and quiet["noisy"]["code"] == quiet["clean"]["code"]


def test_decode_point_draws_a_digit_anywhere_on_the_map(client):
    for model in ("dense", "conv-latent"):
        img = np.asarray(Image.open(client.predict(model=model, x=0.5, y=-0.5, api_name="/decode_point")))
        assert img.shape == (28, 28) and img.max() > 128  # a digit: some bright ink
    assert np.asarray(Image.open(client.predict(api_name="/decode_point"))).shape == (28, 28)  # all defaults


@pytest.mark.parametrize("bad, message", [
    ({"model": "unet"}, "no bottleneck"), ({"model": "photo"}, "no bottleneck"), ({"model": "nope"}, "unknown model"),
    ({"x": 50.0}, "off the dense map"), ({"y": -50.0}, "off the dense map"),
    ({"x": 1e6}, "x must be a number from -1000 to 1000"), ({"y": "nan"}, "y must be a number"),
    ({"y": "inf"}, "y must be a number")])
def test_decode_point_refuses_bad_input_clearly(client, bad, message):
    with pytest.raises(Exception, match=message):
        client.predict(api_name="/decode_point", **bad)
    client.predict(api_name="/decode_point")  # still serving


def test_interpolate_returns_the_decoded_steps(client, pngs):
    out = client.predict(image_a=handle_file(pngs[0]), image_b=handle_file(pngs[1]), api_name="/interpolate")
    assert len(out) == 8 and out[0]["caption"] == "t = 0.00" and out[-1]["caption"] == "t = 1.00"
    frames = [np.asarray(Image.open(o["image"])) for o in out]
    assert all(f.shape == (28, 28) for f in frames) and not np.array_equal(frames[0], frames[-1])
    three = client.predict(image_a=handle_file(pngs[0]), image_b=handle_file(pngs[1]), model="conv-latent", steps=3,
                           api_name="/interpolate")
    assert len(three) == 3


@pytest.mark.parametrize("bad, message", [
    ({"steps": latent.MAX_STEPS + 1}, "steps"), ({"steps": 1}, "steps"), ({"steps": 2.5}, "whole number"),
    ({"model": "unet-wide"}, "no bottleneck")])
def test_interpolate_refuses_bad_input_clearly(client, pngs, bad, message):
    with pytest.raises(Exception, match=message):
        client.predict(image_a=handle_file(pngs[0]), image_b=handle_file(pngs[1]), api_name="/interpolate", **bad)


def test_interpolate_refuses_a_file_that_is_not_an_image(client, pngs, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image at all")
    with pytest.raises(Exception, match="not an image"):
        client.predict(image_a=handle_file(str(bad)), image_b=handle_file(pngs[1]), api_name="/interpolate")


def test_train_live_streams_epochs_and_a_second_caller_gets_the_waiting_message(client):
    job = client.submit(epochs=3, seed=0, api_name="/train_live")
    end = time.monotonic() + 120
    while not job.outputs() and time.monotonic() < end:  # the first epoch has been reported
        time.sleep(0.1)
    assert job.outputs() and job.outputs()[0]["status"] == "training"
    busy = Client(client.src, verbose=False).predict(epochs=3, seed=1, api_name="/train_live")
    assert busy["status"] == "busy" and busy["seconds_left"] > 0
    assert "someone else is training" in busy["message"].lower() and " s left" in busy["message"]
    final = job.result()
    assert final["status"] == "done" and [h["epoch"] for h in final["history"]] == [1, 2, 3]
    assert final["history"][-1]["loss"] < final["history"][0]["loss"]
    assert final["history"][-1]["psnr"] > final["history"][0]["psnr"]
    assert [o["epoch"] for o in job.outputs()] == [1, 2, 3]  # streamed, one per epoch


@pytest.mark.parametrize("bad", [0, live.MAX_EPOCHS + 1, 2.5, "nan"])
def test_train_live_refuses_bad_epochs(client, bad):
    with pytest.raises(Exception, match="epochs"):
        client.predict(epochs=bad, api_name="/train_live")


def test_clicking_the_map_shows_the_decoded_digit(inside_url, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(inside_url)
    page.get_by_role("tab", name="Inside").click()
    img = page.locator("#inside-map img").first
    expect(img).to_be_visible(timeout=60_000)
    box = img.bounding_box()
    img.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})  # inside the axes
    decoded = page.locator("#inside-decoded .inside-big img")
    expect(decoded).to_be_visible(timeout=30_000)
    assert decoded.get_attribute("src").startswith("data:image/png;base64,")
    assert "decoded at (" in page.locator("#inside-decoded").inner_text()
    assert decoded.evaluate("e => getComputedStyle(e).imageRendering") == "pixelated"
    first = decoded.get_attribute("src")
    img.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.3})  # elsewhere: another digit
    page.wait_for_function(
        f"() => document.querySelector('#inside-decoded .inside-big img').src !== {first!r}", timeout=30_000)
    before = img.get_attribute("src")  # the other model: another map
    page.locator("#inside-model label", has_text="conv-latent").click()
    page.wait_for_function(
        f"() => document.querySelector('#inside-map img').src !== {before!r}", timeout=30_000)
    # the map follows the Digits tab: pick another digit there, come back, see its journey
    journey = page.locator("#inside-journey").inner_html()
    page.get_by_role("tab", name="Digits").click()
    shown = page.locator("#out-unet img").get_attribute("src")
    page.locator("#gallery button.thumbnail-item").nth(13).click()
    page.wait_for_function(f"() => document.querySelector('#out-unet img').src !== {shown!r}", timeout=30_000)
    page.get_by_role("tab", name="Inside").click()
    page.wait_for_function(f"() => document.querySelector('#inside-journey').innerHTML !== {journey!r}",
                           timeout=30_000)
    page.close()

"""Inside the bottleneck models (dae.latent) and the live training (dae.live), no Gradio."""
import time

import numpy as np
import pytest

import dae
from dae import corrupt, data, latent, live
from dae.inference import WEIGHTS_DIR

BOTTLENECK = ["dense", "conv-latent"]


@pytest.fixture(scope="module")
def maps():
    x, y = data.gallery()
    return latent.build_maps({n: dae.load(n).model for n in BOTTLENECK}, x, y)


@pytest.mark.parametrize("name", BOTTLENECK)
def test_decoding_a_clean_code_gives_the_models_own_reconstruction(maps, digits, name):
    m, x = maps[name], digits[:50]
    own = dae.load(name).model(x, training=False).numpy()[..., 0]
    np.testing.assert_allclose(m.decode(m.encode(x)), own, atol=1e-5)
    # and the shipped (TFLite, int8) denoiser draws nearly the same digits
    assert np.abs(m.decode(m.encode(x)) - dae.load(name).denoise(x)[..., 0]).mean() < 0.01


@pytest.mark.parametrize("name", BOTTLENECK)
def test_the_denoiser_sends_a_noisy_code_back_towards_the_clean_one(maps, digits, name):
    """The arrow's claim, over the 200 held-out digits at σ 0.5: the code of the denoised
    digit, enc(dec(enc(noisy))), lies closer to the clean code than the noisy code does."""
    m = maps[name]
    j = [m.journey(d, corrupt.gaussian(0.5), seed=i) for i, d in enumerate(digits)]
    to_noisy = np.mean([s.noisy_distance for s in j])
    to_denoised = np.mean([s.denoised_distance for s in j])
    print(f"{name}: mean code distance to the clean code: noisy {to_noisy:.3f}, denoised {to_denoised:.3f}")
    assert to_denoised < 0.8 * to_noisy
    # on the map too, where the arrow is drawn
    on_map = lambda k: np.mean([np.linalg.norm(s.points[k] - s.points[0]) for s in j])  # noqa: E731
    assert on_map(2) < on_map(1)


@pytest.mark.parametrize("name", BOTTLENECK)
def test_decoding_at_a_class_mean_position_draws_that_class(maps, name):
    m = maps[name]
    x, y = data.gallery()
    means = np.stack([x[y == k].mean(0) for k in range(10)])
    hits = [int(np.argmin(((means - m.decode_point(*p)) ** 2).mean((1, 2)))) == k
            for k, p in enumerate(m.class_means())]
    assert sum(hits) >= 8, hits


def test_the_pca_map_is_kept_for_comparison_and_fails_the_class_mean_test():
    """Why the app's map is LDA: on the PCA map the classes overlap (docs/inside.md)."""
    x, y = data.gallery()
    m = latent.LatentMap("conv-latent", dae.load("conv-latent").model, x, y, "pca", "inverse")
    means = np.stack([x[y == k].mean(0) for k in range(10)])
    hits = sum(int(np.argmin(((means - m.decode_point(*p)) ** 2).mean((1, 2)))) == k
               for k, p in enumerate(m.class_means()))
    assert hits <= 5


def test_map_points_are_checked(maps):
    m = maps["dense"]
    e = m.extent
    assert m.decode_point((e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2).shape == (28, 28)
    for bad in [(np.nan, 0.0), (0.0, np.inf), (e.x1 + 1, 0.0), (0.0, e.y0 - 1)]:
        with pytest.raises(ValueError, match="finite|off the"):
            m.decode_point(*bad)
    assert e.contains(*m.points.min(0)) and e.contains(*m.points.max(0))


def test_a_model_without_a_bottleneck_cannot_be_split():
    with pytest.raises(ValueError, match="no layer named 'latent'"):
        latent.split(dae.load("unet").model)


def test_interpolation_runs_from_one_digit_to_the_other(maps, digits):
    m, a, b = maps["conv-latent"], digits[0, ..., 0], digits[150, ..., 0]
    steps = m.interpolate(a, b, 8)
    assert steps.shape == (8, 28, 28)
    np.testing.assert_allclose(steps[0], m.decode(m.encode(a))[0], atol=1e-5)
    np.testing.assert_allclose(steps[-1], m.decode(m.encode(b))[0], atol=1e-5)
    fade = latent.crossfade(a, b, 8)
    np.testing.assert_allclose(fade[0], a)
    np.testing.assert_allclose(fade[-1], b)
    np.testing.assert_allclose(fade[3], (4 / 7) * a + (3 / 7) * b, atol=1e-6)
    for bad in (1, 0, latent.MAX_STEPS + 1, 2.5):
        with pytest.raises(ValueError, match="steps"):
            m.interpolate(a, b, bad)


def test_journey_as_json(maps, digits):
    j = maps["dense"].journey(digits[3, ..., 0], corrupt.gaussian(0.5), seed=1).as_dict()
    assert set(j) == {"clean", "noisy", "denoised"}
    assert len(j["clean"]["code"]) == 32 and len(j["noisy"]["map"]) == 2


# --- the live training ------------------------------------------------------------------

def test_live_split_holds_out_the_gallerys_benchmark_digits():
    train, held = live.split()
    assert train.shape == (4000, 28, 28, 1) and held.shape == (1000, 28, 28, 1)
    np.testing.assert_array_equal(held, data.heldout_digits(live.HELDOUT_PER_CLASS))
    seen = {t.tobytes() for t in train}
    assert not any(h.tobytes() in seen for h in held)
    clean, noisy = live.test_digit()
    assert any(np.array_equal(clean, h[..., 0]) for h in held) and not np.array_equal(clean, noisy)


def _wait_idle(trainer, timeout=60.0):
    end = time.monotonic() + timeout
    while trainer.seconds_left() is not None and time.monotonic() < end:
        time.sleep(0.1)


def test_three_live_epochs_learn_and_a_second_caller_is_told_to_wait():
    before = sorted((p.name, p.stat().st_mtime_ns) for p in WEIGHTS_DIR.iterdir())
    trainer = live.LiveTrainer()
    epochs, refused = [], []
    for e in trainer.stream(3, seed=0):
        epochs.append(e)
        if e.epoch == 1:
            with pytest.raises(live.Busy, match=r"(?i)someone else is training.*about \d+ s left") as busy:
                next(trainer.stream(3, seed=1))
            refused.append(busy.value.seconds_left)
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[-1].loss < epochs[0].loss
    assert epochs[-1].psnr > epochs[0].psnr
    assert epochs[-1].denoised.shape == (28, 28) and refused[0] > 0
    _wait_idle(trainer)
    assert trainer.seconds_left() is None
    assert sorted((p.name, p.stat().st_mtime_ns) for p in WEIGHTS_DIR.iterdir()) == before  # nothing written


def test_leaving_early_stops_the_training_and_frees_the_lock():
    trainer = live.LiveTrainer()
    stream = trainer.stream(live.MAX_EPOCHS, seed=0)
    next(stream)
    stream.close()
    _wait_idle(trainer, timeout=30)
    assert trainer.seconds_left() is None
    assert [e.epoch for e in trainer.stream(1, seed=0)] == [1]


@pytest.mark.parametrize("bad", [0, live.MAX_EPOCHS + 1, 2.5, "3", None, True])
def test_bad_epochs_are_refused(bad):
    with pytest.raises(ValueError, match="epochs"):
        live.check_epochs(bad)


# --- the 2-D code (dense-2d) ----------------------------------------------------------------

MAP_2D = "dense-2d"


@pytest.fixture(scope="module")
def map2d():
    x, y = data.gallery()
    return latent.build_maps({MAP_2D: dae.load(MAP_2D).model}, x, y)[MAP_2D]


def test_a_2d_code_is_its_own_map_and_a_point_decodes_exactly(map2d, digits):
    assert map2d.projection == "none" and map2d.way_back == "exact" and map2d.latent_dim == 2
    np.testing.assert_array_equal(map2d.points, map2d.codes)
    x, y = map2d.points[17]
    np.testing.assert_array_equal(map2d.code_at(x, y), [x, y])
    np.testing.assert_allclose(map2d.decode_point(x, y), map2d.decode(map2d.codes[17:18])[0], atol=1e-6)
    own = dae.load(MAP_2D).model(digits[:20], training=False).numpy()[..., 0]
    np.testing.assert_allclose(map2d.decode(map2d.encode(digits[:20])), own, atol=1e-5)
    with pytest.raises(ValueError, match="off the"):
        map2d.decode_point(map2d.extent.x1 + 1, 0.0)


def test_the_2d_denoiser_sends_a_noisy_code_back_towards_the_clean_one(map2d, digits):
    """The journey's claim for the 2-D model, over the 200 held-out digits at σ 0.5: on average
    enc(dec(enc(noisy))) lies closer to enc(clean) than enc(noisy) does (here the code is the map)."""
    j = [map2d.journey(d, corrupt.gaussian(0.5), seed=i) for i, d in enumerate(digits)]
    noisy, denoised = np.mean([s.noisy_distance for s in j]), np.mean([s.denoised_distance for s in j])
    closer = np.mean([s.denoised_distance < s.noisy_distance for s in j])
    print(f"{MAP_2D}: mean distance to the clean code over {len(j)} digits: noisy {noisy:.3f}, "
          f"denoised {denoised:.3f} (ratio {denoised / noisy:.2f}; closer for {closer:.1%})")
    assert denoised < noisy


def test_the_2d_code_separates_the_classes_better_than_the_dense_lda_map(map2d, maps):
    """Held-out kNN accuracy (k = 10, 5-fold) of the 5,000 gallery digits in each map."""
    ours = latent.knn_accuracy(map2d.codes, map2d.labels)
    lda = {n: latent.knn_accuracy(maps[n].codes, maps[n].labels, "lda") for n in BOTTLENECK}
    print(f"kNN accuracy: {MAP_2D} code {ours:.4f}; LDA maps " + ", ".join(f"{n} {v:.4f}" for n, v in lda.items()))
    assert ours > lda["dense"]


def test_the_2d_models_halves_are_current_exports():
    from dae.export import halves_status

    halves, why = halves_status(MAP_2D, WEIGHTS_DIR)
    assert halves is not None, why
    assert set(halves) == {"encoder", "decoder"}


def test_export_writes_the_2d_halves_and_they_compute_the_keras_halves(tmp_path, map2d):
    """`python -m dae export` (in-process) on the .keras file alone: the card's inference entry
    names both halves, halves_status vouches for them, and each float32 graph computes its
    Keras half."""
    import shutil

    import tensorflow as tf

    from dae.__main__ import export
    from dae.export import halves_status

    for ext in (".keras", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{MAP_2D}{ext}", tmp_path / f"{MAP_2D}{ext}")
    export([MAP_2D], tmp_path)
    halves, why = halves_status(MAP_2D, tmp_path)
    assert halves is not None, why
    code = map2d.codes[:1]
    run = tf.lite.Interpreter(model_path=str(halves["decoder"]))
    run.allocate_tensors()
    run.set_tensor(run.get_input_details()[0]["index"], code.astype(np.float32))
    run.invoke()
    out = run.get_tensor(run.get_output_details()[0]["index"]).reshape(28, 28)
    np.testing.assert_allclose(out, map2d.decode(code)[0], atol=1e-5)


def test_a_changed_half_is_never_offered_to_the_browser(tmp_path, map2d):
    import shutil

    from dae.export import halves_status
    from ui import inside_assets

    for f in WEIGHTS_DIR.glob(f"{MAP_2D}.*"):
        shutil.copy(f, tmp_path / f.name)
    assert halves_status(MAP_2D, tmp_path)[0] is not None
    decoder = tmp_path / f"{MAP_2D}.decoder.tflite"
    decoder.write_bytes(decoder.read_bytes()[:-1] + b"\0")
    halves, why = halves_status(MAP_2D, tmp_path)
    assert halves is None and "does not match the sha256" in why
    entry = inside_assets.manifest({MAP_2D: map2d}, tmp_path, folder=tmp_path)["models"][MAP_2D]
    assert entry == {"browser": False, "why": why}

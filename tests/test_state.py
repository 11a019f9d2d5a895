"""The Digits tab's one state (dae/state.py): a link round-trips every control, junk is dropped
one parameter at a time with a notice, a request's state is checked strictly. The page's side
(ui/state.js against this, in Chromium) is tests/test_state_browser.py."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from dae import params
from dae.state import FIELDS, Spec

SPEC = Spec(("dense", "conv-latent", "unet", "median filter"), ("dense", "unet"), 5000, 7)

# one changed value per control, each away from its default
CHANGES = {"tab": "inside", "digit": 4321, "noise": "salt-pepper", "level": 0.37, "blur": 1.25, "mean": -0.15,
           "clip": False, "seed": 4294967295, "models": ["median filter", "dense"], "errors": True}


@pytest.mark.parametrize("field", FIELDS)
def test_state_to_link_to_state_is_the_identity_for_every_control(field):
    state = {**SPEC.defaults(), field: CHANGES[field]}
    back, notices = SPEC.from_query(SPEC.to_query(state))
    assert notices == [] and back == state


def test_every_control_at_once_and_at_the_ends_of_its_range():
    state = {**SPEC.defaults(), **CHANGES}
    assert SPEC.from_query("?" + SPEC.to_query(state)) == (state, [])
    for r, name in ((params.LEVEL, "level"), (params.BLUR, "blur"), (params.MEAN, "mean")):
        for v in (r.lo, r.hi):
            s = {**SPEC.defaults(), name: v}
            assert SPEC.from_query(SPEC.to_query(s))[0] == s
    empty = {**SPEC.defaults(), "models": []}
    assert SPEC.from_query(SPEC.to_query(empty))[0] == empty
    assert SPEC.check(json.loads(SPEC.to_json(state))) == state


def test_a_link_is_readable_by_a_person():
    q = SPEC.to_query({**SPEC.defaults(), "digit": 123, "level": 0.5, "models": ["dense", "median filter"]})
    assert q == ("tab=digits&digit=123&noise=gaussian&level=0.5&blur=0&mean=0&clip=on&seed=0"
                 "&models=dense,median%20filter&errors=off")


def test_junk_parameters_are_dropped_one_by_one_with_a_notice():
    state, notices = SPEC.from_query("?level=abc&digit=123&foo=1&blur=0x1&models=dense,nope,unet&clip=maybe"
                                     "&seed=1.5&noise=pink&tab=stage&server=1&__theme=dark&errors=on")
    assert state == {"digit": 123, "models": ["dense", "unet"], "errors": True}
    assert notices == ["ignored level=abc: must be a number from 0 to 1.5",
                       "ignored foo: not a setting of this page",
                       "ignored blur=0x1: must be a number from 0 to 3",
                       "ignored clip=maybe: must be on or off",
                       "ignored seed=1.5: must be a whole number from 0 to 4294967295",
                       "ignored noise=pink: must be one of gaussian, uniform, salt-pepper, none",
                       "ignored tab=stage: must be one of digits, photos, inside, robustness, models",
                       "ignored model nope: not on this page"]


@pytest.mark.parametrize("raw", ["nan", "inf", "-Infinity", "1e999", "", " ", "5000", "-1", "12.5"])
def test_a_bad_digit_is_dropped(raw):
    state, notices = SPEC.from_query(f"digit={raw}")
    assert state == {} and len(notices) == 1 and notices[0].startswith("ignored digit=")


def test_a_request_state_is_checked_strictly():
    pixels = base64.b64encode(np.full(784, 0.25, "<f4").tobytes()).decode()
    assert SPEC.check({"digit": pixels})["digit"] == pixels
    for bad, word in [({"digit": 5000}, "digit"), ({"level": 9}, "sigma"), ({"models": ["nope"]}, "models"),
                      ({"digit": base64.b64encode(np.full(784, 2, "<f4").tobytes()).decode()}, "digit"),
                      ({"digit": "AAAA"}, "digit"), ({"wat": 1}, "wat"), ("[1]", "object"), ("{", "JSON")]:
        with pytest.raises(params.ParamError, match=word):
            SPEC.check(bad)


def test_json_drops_bad_fields_alone():
    state, notices = SPEC.from_json(json.dumps({"level": 0.7, "blur": "x", "zzz": 1}))
    assert state == {"level": 0.7} and len(notices) == 2


def test_on_a_space_the_link_is_the_public_address():
    from ui.state_page import public_url

    assert public_url({"SPACE_HOST": "someone-dae-live.hf.space"}) == "https://someone-dae-live.hf.space/"
    assert public_url({"SPACE_ID": "Someone/dae_live"}) == "https://someone-dae-live.hf.space/"
    assert public_url({}) == ""

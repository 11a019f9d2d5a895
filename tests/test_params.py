"""dae.params: one declared range per parameter, and what a value outside it gets."""
import math

import numpy as np
import pytest

from dae import corrupt, params


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -0.01, 3.01, 1e6, "1", None, True, [1], {}])
def test_blur_outside_its_range_is_refused_with_the_name_the_value_and_the_range(bad):
    with pytest.raises(params.ParamError, match=r"blur must be a number from 0 to 3, got"):
        params.BLUR.check(bad)


def test_in_range_values_pass_and_whole_numbers_must_be_whole():
    assert params.BLUR.check(3) == 3.0 and params.LEVEL.check(np.float32(0.5)) == 0.5
    assert params.SEED.check(7.0) == 7 and isinstance(params.SEED.check(7.0), int)
    with pytest.raises(params.ParamError, match="whole number"):
        params.SEED.check(7.5)


def test_a_digit_corruption_is_checked_before_it_is_built():
    assert params.digit_corruption("uniform", 0.3, 1.0, 0.0, False) == corrupt.from_controls("uniform", 0.3, 1.0, 0.0, False)
    for args, match in [(("poisson", 0.5), "noise must be one of"), (("gaussian", 0.5, 1e6), "blur"),
                        (("gaussian", 0.5, 0, math.nan), "mean"), (("gaussian", 0.5, 0, 0, "yes"), "clip")]:
        with pytest.raises(params.ParamError, match=match):
            params.digit_corruption(*args)


def test_model_lists_are_subsets_without_repeats():
    assert params.subset("models", None, ["a", "b"], ["a"]) == ["a"]
    assert params.subset("models", ["b"], ["a", "b"], ["a"]) == ["b"]
    for bad, match in [(["a", "a"], "twice"), (["c"], "one of"), ("a", "list"), ([1], "one of")]:
        with pytest.raises(params.ParamError, match=match):
            params.subset("models", bad, ["a", "b"], ["a"])


def test_the_widgets_are_built_from_the_same_ranges():
    """The Digits tab's blur slider is the declared range, so the page cannot be wider than the API."""
    import gradio as gr

    s = gr.Slider(**params.BLUR.widget())
    assert (s.minimum, s.maximum, s.value, s.step) == (params.BLUR.lo, params.BLUR.hi, params.BLUR.default, params.BLUR.step)

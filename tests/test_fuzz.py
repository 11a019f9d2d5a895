"""Every named endpoint fuzzed with Hypothesis (benchmarks/fuzz.py's strategies, CI-sized):
each answer is a result or an error with a message, the server logs no exception, and it
still serves a normal request afterwards. ``python benchmarks/fuzz.py`` runs 2,000."""
import numpy as np
from gradio_client import Client, handle_file
from PIL import Image

from benchmarks import fuzz

EXAMPLES = 80


def test_fuzzed_requests_get_a_result_or_a_message(app_url, tmp_path, capfd):
    client = Client(app_url, verbose=False)
    records = fuzz.run(client, EXAMPLES, tmp_path)
    outcomes = {r["outcome"] for r in records}
    assert "broken" not in outcomes, [r for r in records if r["outcome"] == "broken"][:3]
    assert {"ok", "error"} <= outcomes  # both kinds of answer were exercised
    assert len({r["api"] for r in records}) == len(fuzz.KIND)  # every endpoint was reached
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" not in err, err[-3000:]
    digit = tmp_path / "d.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(digit)
    assert "unet" in client.predict(image=handle_file(str(digit)), api_name="/denoise_digit")[2]

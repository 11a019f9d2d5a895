"""The repository is a Hugging Face Space: what the Hub checks, and how a Space starts it.

- every binary file goes through Git LFS (the Hub rejects a push with a plain binary blob);
- README's front matter is what ``huggingface_hub``'s own card classes read, and agrees with
  requirements.txt and the files;
- ``python app.py`` with exactly a Space's environment (``GRADIO_SERVER_NAME=0.0.0.0``, port
  7860) answers on 7860, with no network but loopback;
- TensorFlow's start-up banners stay out of the terminal unless asked for (dae/quiet.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPACE_PORT = 7860  # what a Gradio Space serves on
SHORT_DESCRIPTION_MAX = 60  # the Hub's limit; huggingface_hub itself does not check it


# --- Git LFS ---------------------------------------------------------------------------

def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def _binary_files() -> list[str]:
    """Tracked files with a NUL byte in their first 8,000 bytes: git's own binary test."""
    out = []
    for name in _git("ls-files", "-z").split("\0"):
        path = ROOT / name
        if name and path.is_file():
            with path.open("rb") as f:
                if b"\0" in f.read(8000):
                    out.append(name)
    return out


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_every_binary_file_goes_through_lfs():
    files = _binary_files()
    assert any(f.endswith(".keras") for f in files), "the weights should be among the binary files"
    attrs = _git("check-attr", "filter", "--", *files).splitlines()
    unrouted = [line for line in attrs if not line.endswith(": filter: lfs")]
    assert not unrouted, f"add a pattern to .gitattributes for: {unrouted}"


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_lfs_patterns_cover_what_is_coming():
    """Binaries of the kinds the repository holds (runtime builds, screenshots, weights) are routed
    even before a new one lands."""
    probes = ["ui/vendor/litert/other_build.wasm", "docs/screenshot-wide.png", "docs/phone.jpg",
              "weights/new.keras", "weights/new.tflite", "benchmarks/results/x.npz"]
    for line in _git("check-attr", "filter", "--", *probes).splitlines():
        assert line.endswith(": filter: lfs"), line
    assert _git("check-attr", "filter", "--", "weights/unet.json").strip().endswith(": unspecified"), \
        "model cards are small text: they stay plain git"


# --- front matter ----------------------------------------------------------------------

def _card():
    from huggingface_hub import SpaceCard

    return SpaceCard.load(ROOT / "README.md")


def test_front_matter_is_a_space_card():
    from huggingface_hub import SpaceCardData

    data = _card().data
    assert isinstance(data, SpaceCardData)
    assert data.sdk == "gradio"
    assert (ROOT / data.app_file).is_file()
    assert re.fullmatch(r"3\.(1[0-4])", str(data.python_version)), data.python_version
    assert data.title and data.license == "apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    short = data.to_dict().get("short_description", "")
    assert 0 < len(short) <= SHORT_DESCRIPTION_MAX, (len(short), short)
    # weights ship in this repository and no Hub dataset is loaded: no models/datasets lines
    assert not data.models and not data.datasets


def test_sdk_version_is_the_pinned_gradio():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", (ROOT / "requirements.txt").read_text(), re.M))
    assert _card().data.sdk_version == pins["gradio"]


# --- a Space's start: 0.0.0.0:7860, no network -------------------------------------------

# Loaded into the app's interpreter through PYTHONPATH: any name lookup or connection that is
# not loopback fails at once and is written down, so the test can say what was attempted.
_SITECUSTOMIZE = textwrap.dedent('''
    import os, socket
    _LOG = os.environ["NET_ATTEMPTS_LOG"]
    _LOCAL = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "::", "", None}

    def _note(what):
        with open(_LOG, "a") as f:
            f.write(f"{what}\\n")

    _getaddrinfo = socket.getaddrinfo
    def getaddrinfo(host, *a, **k):
        h = host.decode() if isinstance(host, bytes) else host
        if h not in _LOCAL and not str(h).startswith("127."):
            _note(f"resolve {h}")
            raise socket.gaierror(socket.EAI_NONAME, "network disabled by tests/test_space.py")
        return _getaddrinfo(host, *a, **k)
    socket.getaddrinfo = getaddrinfo

    _connect = socket.socket.connect
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL \\
                and not str(address[0]).startswith("127."):
            _note(f"connect {address[0]}")
            raise OSError(101, "network disabled by tests/test_space.py")
        return _connect(self, address)
    socket.socket.connect = connect
''')

# Started inside the namespace: the app, then a poll of 127.0.0.1:7860 from the same namespace.
_PROBE = textwrap.dedent('''
    import subprocess, sys, time, urllib.request
    url, timeout = sys.argv[1], float(sys.argv[2])
    app = subprocess.Popen([sys.executable, "app.py"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end, status = time.time() + timeout, None
    try:
        while time.time() < end and app.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.2)
    finally:
        app.terminate()
        try:
            err = app.communicate(timeout=20)[1]
        except subprocess.TimeoutExpired:
            app.kill()
            err = app.communicate()[1]
    print("STATUS", status)
    sys.stderr.write(err.decode(errors="replace")[-3000:])
''')


def _loopback_only_namespace() -> bool:
    """Can we start a network namespace with only loopback (root, or CAP_SYS_ADMIN)?"""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    return r.returncode == 0


def test_space_environment_answers_on_7860_without_network(tmp_path):
    """What a Space runs, cut off from everything but loopback; it must still answer.

    Gradio 6.31's own network use on this path (read in gradio/blocks.py, analytics.py,
    networking.py): ``Blocks.__init__`` starts a thread for ``analytics.version_check``
    (GET api.gradio.app/pkg-version, 3 s timeout, every error swallowed) unless
    ``GRADIO_ANALYTICS_ENABLED`` is not "True"; ``launch`` posts usage analytics from
    threads (api.gradio.app/huggingface.co, errors swallowed); ``networking.url_ok`` checks
    the local URL, on loopback; a share tunnel (api.gradio.app/v3/tunnel-request) only with
    ``--share``/``share=True``: app.py passes ``share=False`` unless asked, so
    ``GRADIO_SHARE`` is ignored. None of these blocks start-up; this test proves it.
    """
    (tmp_path / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    log = tmp_path / "attempts.log"
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_")}
    env.update(GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(SPACE_PORT), NET_ATTEMPTS_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    url = f"http://127.0.0.1:{SPACE_PORT}/"
    if _loopback_only_namespace():
        # a fresh namespace: 7860 is always free there, and only loopback exists
        cmd = ["unshare", "-n", "sh", "-c", f'ip link set lo up && exec "{sys.executable}" "{probe}" {url} 240']
        where = "a network namespace with only loopback"
    else:
        from tests.conftest import free_port

        port = SPACE_PORT if _port_free(SPACE_PORT) else free_port()
        if port != SPACE_PORT:
            env["GRADIO_SERVER_PORT"] = str(port)
            url = f"http://127.0.0.1:{port}/"
        cmd = [sys.executable, str(probe), url, "240"]
        where = (f"the host network (no unshare), sockets blocked in Python, on port {port}"
                 + ("" if port == SPACE_PORT else f": {SPACE_PORT} was busy on this machine"))
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    attempts = sorted(set(log.read_text().split("\n")) - {""}) if log.exists() else []
    assert "STATUS 200" in r.stdout, (f"app did not answer {url} in {where}; it tried: {attempts}\n"
                                      f"{r.stdout[-2000:]}\n{r.stderr[-3000:]}")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


# --- a quiet start -----------------------------------------------------------------------

BANNERS = re.compile(r"absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|"
                     r"This TensorFlow binary is optimized|XNNPACK delegate")


def _dae(*args: str, **extra_env: str) -> str:
    """stderr of ``python -m dae …`` in an environment without any log setting of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DAE_VERBOSE")}
    # stand in for a CPU where TensorFlow turns oneDNN on by default (AVX-512 VNNI and up):
    # only the log line differs, which is what this test is about
    env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    env.update(extra_env)
    r = subprocess.run([sys.executable, "-m", "dae", *args], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "unet-wide" in r.stdout
    return r.stderr


def test_start_is_quiet_and_verbose_brings_the_banners_back():
    quiet = _dae("models")
    assert not BANNERS.search(quiet), quiet
    loud = _dae("--verbose", "models")
    assert "oneDNN custom operations are on" in loud and "absl::InitializeLog" in loud, loud


def test_dae_verbose_env_brings_the_banners_back():
    assert "oneDNN custom operations are on" in _dae("models", DAE_VERBOSE="1")


def test_quiet_filter_keeps_every_other_line(capfd):
    """Only the banners are dropped from fd 2; anything else written meanwhile comes back."""
    from dae import quiet

    with quiet.filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"a real error\n"
                    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        print("from python", file=sys.stderr)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == ["a real error", "from python"], err

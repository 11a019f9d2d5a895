"""Compress each file given once, brotli quality 11, window 2^24, as ``<file>.br`` beside it.

For the vendoring scripts (scripts/vendor_litert.sh, scripts/vendor_tfjs.sh): brotli's output
depends only on its input, its settings and the library's version (pinned in requirements.txt),
so a rebuild at the same pins writes the same bytes. Each result is checked by decompressing it.
"""
import sys
from pathlib import Path

import brotli

for name in sys.argv[1:]:
    path = Path(name)
    raw = path.read_bytes()
    br = brotli.compress(raw, mode=brotli.MODE_GENERIC, quality=11, lgwin=24)
    assert brotli.decompress(br) == raw
    path.with_name(path.name + ".br").write_bytes(br)
    print(f"{path.name}: {len(raw):,} bytes, brotli {len(br):,}", file=sys.stderr)

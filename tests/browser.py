"""Load built book pages in headless Chromium and report what a reader would see (no tests here;
tests/book/test_book_report.py uses it on the smoke book).

Each page is served over HTTP from the built HTML folder, as a reader's browser or a static host
would get it, with a probe script added to a copy of the page. After MathJax's first typeset
the probe writes, into the DOM Chromium dumps: how many formulas were typeset, how many images
the page has and which did not load, and how many raw TeX delimiters remain in the visible text.
"""
from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

PROBE = r"""
<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var loaded = images.map(function (img) {
    img.loading = "eager";
    return img.complete ? null : new Promise(function (done) { img.onload = img.onerror = done; });
  });
  var typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
  Promise.all(loaded.concat([typeset])).then(function () {
    var text = document.body.innerText;
    document.body.setAttribute("data-probe", JSON.stringify({
      images: images.length,
      broken: images.filter(function (i) { return !i.complete || i.naturalWidth === 0; })
                    .map(function (i) { return i.getAttribute("src"); }),
      formulas: document.querySelectorAll(".math").length,
      typeset: document.querySelectorAll("mjx-container").length,
      raw_tex: (text.match(/\\\(|\\\)|\\\[|\\\]/g) || []).length,
      mathjax: Boolean(window.MathJax && MathJax.version)
    }));
  });
});
</script>
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@contextmanager
def serve(folder: Path):
    """An HTTP server on a free local port for `folder`; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def probe(html_dir: Path, page: str, base_url: str, budget_ms: int = 20000) -> dict:
    """What the reader sees on `page` (a path under `html_dir`), loaded from `base_url`."""
    source = html_dir / page
    probed = source.with_name(f".probe-{source.name}")        # beside it: relative links still resolve
    text = source.read_text()
    probed.write_text(text.replace("</body>", PROBE + "</body>") if "</body>" in text else text + PROBE)
    try:
        proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--virtual-time-budget={budget_ms}", "--dump-dom",
                               f"{base_url}/{probed.relative_to(html_dir).as_posix()}"],
                              capture_output=True, text=True, timeout=120)
    finally:
        probed.unlink(missing_ok=True)
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    if found is None:
        return {"error": f"no probe result (chromium exit {proc.returncode}): {proc.stderr.strip()[-500:]}"}
    return json.loads(html.unescape(found.group(1)))


def pages(html_dir: Path) -> list[str]:
    """Every page a reader opens: the book's own pages, not Sphinx's index and search."""
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if p.name not in ("genindex.html", "search.html") and not p.name.startswith(".")
                  and "_static" not in p.parts and "_sources" not in p.parts
                  and 'http-equiv="refresh"' not in p.read_text().lower())     # index.html only redirects

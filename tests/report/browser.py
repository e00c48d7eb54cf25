"""Headless Chromium for the documentation-site tests: load a built page, read what a reader sees.

Uses the ``chromium`` command line only (``--dump-dom`` of a harness page holding every page to read, after a
virtual-time budget; ``--screenshot``): no Python bindings, no browser download.  CI installs Debian's
``chromium`` package (``.ci/run``); elsewhere a test that needs it skips, saying why — but under ``CI=true`` a
missing browser fails the test, so the site check cannot silently stop running in CI.
"""
from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Collection

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: milliseconds of virtual time each page gets to run its scripts before the DOM is read
BUDGET_MS = 1500


def find_browser() -> str:
    """Path of a Chromium-family browser; skips the test (fails it under ``CI=true``) without one."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    why = ("no headless Chromium found (tried " + ", ".join(BROWSERS) + "); install it with "
           "`apt-get install chromium` (.ci/run does so in CI)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {why}")
    pytest.skip(why)


def _args(browser: str, profile: Path, budget_ms: int = BUDGET_MS) -> list[str]:
    # --no-sandbox: CI runs as root; a profile per call: parallel test workers must not share one
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}"]


#: the page that loads every page to read in a frame of its own and, BUDGET_MS after they all loaded, copies
#: each frame's DOM into a textarea of its own (the DOM the browser dumps is the harness's)
_HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
{frames}
<script>
window.addEventListener("load", () => setTimeout(() => {{
  document.querySelectorAll("iframe").forEach((frame, i) => {{
    const out = document.createElement("textarea");
    out.id = "dom-" + i;
    const doc = frame.contentDocument;
    out.textContent = doc && doc.documentElement ? doc.documentElement.outerHTML : "";
    document.body.appendChild(out);
  }});
}}, {budget}));
</script></body></html>
"""
_DUMPED = re.compile(r'<textarea id="dom-(\d+)">(.*?)</textarea>', re.DOTALL)


def dump_doms(browser: str, urls: list[str], workdir: Path, timeout: float = 120) -> list[str]:
    """The DOM of each page (``file://`` URLs) after its scripts ran (what the reader's browser shows), from one
    browser start for all of them (a start per page cost about half a CPU-second each): every page is loaded in an
    800×600 frame of a harness page (``workdir/harness.html``) that, :data:`BUDGET_MS` after all frames have
    loaded, copies each frame's DOM into its own element; ``--allow-file-access-from-files`` lets the harness
    read ``file://`` frames.  Fails when a page's DOM is missing or empty (a frame that did not load)."""
    import html

    frames = "\n".join(f'<iframe src="{html.escape(url)}" style="width:800px;height:600px"></iframe>' for url in urls)
    harness = workdir / "harness.html"
    harness.write_text(_HARNESS.format(frames=frames, budget=BUDGET_MS), encoding="utf-8")
    proc = subprocess.run([*_args(browser, workdir / "profile-harness", budget_ms=4 * BUDGET_MS),
                           "--allow-file-access-from-files", "--dump-dom", harness.as_uri()],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"chromium could not load {harness}: {proc.stderr[-2000:]}"
    doms = {int(i): html.unescape(body) for i, body in _DUMPED.findall(proc.stdout)}
    missing = [url for i, url in enumerate(urls) if "<html" not in doms.get(i, "")]
    assert not missing, f"chromium did not load {missing} in the harness: {proc.stderr[-2000:]}"
    return [doms[i] for i in range(len(urls))]


def screenshot(browser: str, url: str, out: Path, profile: Path, size: str = "1280,1600", timeout: float = 60) -> bytes:
    """A PNG of the page's top ``size`` (width,height in CSS pixels)."""
    proc = subprocess.run([*_args(browser, profile), f"--window-size={size}", f"--screenshot={out}", url],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0 and out.is_file(), f"chromium could not screenshot {url}: {proc.stderr[-2000:]}"
    return out.read_bytes()


class _Reader(html.parser.HTMLParser):
    """Visible text (outside scripts, styles, code blocks and hidden math annotations), MathML elements,
    link targets and image sources of one page."""

    SKIP = {"script", "style", "code", "pre", "annotation", "noscript", "svg", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.maths = 0
        self.links: list[str] = []
        self.assets: list[str] = []
        self._skip = 0
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "math":
            self.maths += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.links.append(a["src"])
        if tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "preload", "icon"):
            self.assets.append(a["href"])
        if tag in self.VOID:
            return
        self._stack.append(tag)
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self.VOID or tag not in self._stack:
            return
        while self._stack:
            top = self._stack.pop()
            if top in self.SKIP:
                self._skip -= 1
            if top == tag:
                break

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def read_page(dom: str) -> _Reader:
    reader = _Reader()
    reader.feed(dom)
    reader.close()
    return reader


#: LaTeX a math renderer would have replaced: \( \) \[ \] delimiters, $...$ spans, bare TeX commands
UNRENDERED_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]{0,200}\$|\\(?:frac|sqrt|mathrm|sigma|left|right)\b")


def unrendered_math(text: str) -> list[str]:
    """Pieces of ``text`` that look like LaTeX left for a renderer that never ran."""
    return UNRENDERED_MATH.findall(text)


def broken_links(site: Path, page: Path, targets: list[str], absent: Collection[str] = ()) -> list[str]:
    """Relative links and image sources of ``page`` (a file of the built ``site``) whose file is missing;
    ``use_directory_urls`` pages resolve to ``<dir>/index.html``.  ``absent``: files of ``site`` (paths relative
    to it, ``/``-separated) that count as missing: the site checked lacks them although this build has them."""
    root = site.resolve()
    gone = {root / rel for rel in absent}
    bad = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "//")):
            continue  # external, mailto: or same-page anchor
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not path:
            continue
        resolved = (page.parent / path).resolve() if not path.startswith("/") else (site / path.lstrip("/"))
        if resolved.is_dir():
            resolved = resolved / "index.html"
        if (not resolved.is_file() or resolved.resolve() in gone
                or root not in (resolved.resolve(), *resolved.resolve().parents)):
            bad.append(target)
    return bad


def png_is_blank(png: bytes) -> bool:
    """Whether a screenshot is (nearly) one colour: fewer than 1% of its pixels differ from the commonest."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("L")
    hist = img.histogram()
    return sum(hist) - max(hist) < 0.01 * sum(hist)

#!/usr/bin/env python3
"""Opens an fdsim HTML report in headless Chromium and fails on what a
reader would trip over.

Usage: check.py REPORT_DIR SHOTS_DIR [--expect-scenarios N] [--chromium PATH]

It opens REPORT_DIR/index.html and every scenario page the index links
to, and fails (exit 1, one line per problem) on:
  - a link to a file that does not exist, or to an anchor the page lacks;
  - an image that did not load;
  - a console error, an uncaught exception or a failed resource load;
  - in every plot: two tick labels of one axis that overlap or repeat,
    two point labels that overlap, a legend over the data area, text
    outside the picture, or text smaller than 12 px;
  - a page whose navigation is still shown when printed;
  - fewer scenarios in the index than --expect-scenarios.
It saves a screenshot of each page (1280 x 900) as SHOTS_DIR/NAME.png.

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ending in a NUL byte on file
descriptors 3 and 4), so nothing beyond Python's standard library and the
Debian chromium package is needed.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

# Runs in each page; returns what the checks need.
PAGE_JS = r"""
(() => {
  const out = {links: [], badAnchors: [], badImages: [], plots: [], scenarios: 0,
               title: document.title};
  const overlap = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                            a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (const a of document.querySelectorAll('a[href]')) {
    const raw = a.getAttribute('href');
    if (raw.startsWith('#')) {
      if (!document.getElementById(decodeURIComponent(raw.slice(1)))) out.badAnchors.push(raw);
    } else {
      out.links.push(a.href);
    }
  }
  out.scenarios = document.querySelectorAll('nav.site li > a').length;
  for (const img of document.querySelectorAll('img')) {
    if (!img.complete || img.naturalWidth === 0) out.badImages.push(img.getAttribute('src'));
  }
  document.querySelectorAll('svg.fdsim-plot').forEach((svg, i) => {
    const p = {index: i, problems: [], ticks: 0, labels: 0};
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')];
    for (const t of texts) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
          r.bottom > box.bottom + 1) {
        p.problems.push(`text "${t.textContent}" sticks out of the picture`);
      }
      const size = parseFloat(getComputedStyle(t).fontSize);
      if (size < 12) p.problems.push(`text "${t.textContent}" is ${size} px`);
    }
    const pairs = (list, what) => {
      for (let a = 0; a < list.length; a++) {
        for (let b = a + 1; b < list.length; b++) {
          if (overlap(list[a].getBoundingClientRect(), list[b].getBoundingClientRect())) {
            p.problems.push(`${what} "${list[a].textContent}" and "${list[b].textContent}" overlap`);
          }
        }
      }
    };
    for (const axis of ['x-axis', 'y-axis']) {
      const ticks = [...svg.querySelectorAll(`.${axis} .tick-label`)];
      p.ticks += ticks.length;
      if (ticks.length < 2) p.problems.push(`${axis} has ${ticks.length} tick label(s)`);
      const seen = new Set();
      for (const t of ticks) {
        if (seen.has(t.textContent)) p.problems.push(`${axis} label "${t.textContent}" repeats`);
        seen.add(t.textContent);
      }
      pairs(ticks, `${axis} labels`);
    }
    const labels = [...svg.querySelectorAll('.point-label')];
    p.labels = labels.length;
    pairs(labels, 'point labels');
    const area = svg.querySelector('.plot-area');
    const legend = svg.querySelector('.legend');
    if (area && legend && legend.childElementCount > 0 &&
        overlap(area.getBoundingClientRect(), legend.getBoundingClientRect())) {
      p.problems.push('the legend covers the data area');
    }
    const points = svg.querySelectorAll('.point');
    const titled = svg.querySelectorAll('.point > title');
    if (titled.length !== points.length) p.problems.push('a point has no tooltip');
    out.plots.push(p);
  });
  return out;
})()
"""

PRINT_JS = r"""
(() => [...document.querySelectorAll('nav')].every(n => getComputedStyle(n).display === 'none'))()
"""


class Chromium:
    """A headless Chromium driven over --remote-debugging-pipe."""

    def __init__(self, exe, profile):
        to_child, self._to_child = os.pipe()
        self._from_child, from_child = os.pipe()

        def fds():
            os.dup2(to_child, 100)
            os.dup2(from_child, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--font-render-hinting=none", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        self.log = open(os.path.join(profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self._buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe (see chromium.log)")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and m.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def console_errors(events, session):
    errs = []
    for m in events:
        if m.get("sessionId") != session:
            continue
        p = m.get("params", {})
        if m.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errs.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                for a in p.get("args", [])))
        elif m.get("method") == "Runtime.exceptionThrown":
            errs.append("exception: " + p.get("exceptionDetails", {}).get("text", ""))
        elif m.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            errs.append(f"log: {e.get('text', '')} {e.get('url', '')}".strip())
    return errs


def file_of(url):
    """The local path a file: URL names, without its fragment and query."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.unquote(parts.path) if parts.scheme == "file" else None


def check_page(browser, url, shot):
    """Opens one page; returns (problems, the page's findings)."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget",
                           {"targetId": target, "flatten": True})["sessionId"]
    for m in ("Page.enable", "Runtime.enable", "Log.enable"):
        browser.call(m, session=session)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                 session=session)
    browser.call("Page.navigate", {"url": url}, session=session)
    browser.wait_event("Page.loadEventFired", session)
    found = browser.call("Runtime.evaluate", {"expression": PAGE_JS, "returnByValue": True},
                         session=session)["result"]["value"]
    problems = console_errors(browser.events, session)
    for link in found["links"]:
        path = file_of(link)
        if path is not None and not os.path.exists(path):
            problems.append(f"broken link: {link}")
    problems += [f"missing anchor: {a}" for a in found["badAnchors"]]
    problems += [f"image not loaded: {src}" for src in found["badImages"]]
    for p in found["plots"]:
        problems += [f"plot {p['index'] + 1}: {x}" for x in p["problems"]]
    png = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    browser.call("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
    hidden = browser.call("Runtime.evaluate", {"expression": PRINT_JS, "returnByValue": True},
                          session=session)["result"]["value"]
    if not hidden:
        problems.append("navigation is still shown when printed")
    browser.call("Target.closeTarget", {"targetId": target})
    return problems, found


def main(argv):
    args = argv[1:]
    expect = 0
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    if "--expect-scenarios" in args:
        i = args.index("--expect-scenarios")
        expect = int(args[i + 1])
        del args[i:i + 2]
    if "--chromium" in args:
        i = args.index("--chromium")
        exe = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report, shots = (os.path.abspath(a) for a in args)
    os.makedirs(shots, exist_ok=True)
    index = os.path.join(report, "index.html")
    if not os.path.isfile(index):
        print(f"error: no {index}", file=sys.stderr)
        return 1
    profile = tempfile.mkdtemp(prefix="fdsim-chromium-")
    browser = Chromium(exe, profile)
    failures = []
    try:
        problems, found = check_page(browser, "file://" + index, os.path.join(shots, "index.png"))
        failures += [f"index.html: {p}" for p in problems]
        if found["scenarios"] < expect:
            failures.append(f"index.html lists {found['scenarios']} scenario(s), "
                            f"expected {expect}")
        pages = sorted({file_of(l) for l in found["links"]
                        if (file_of(l) or "").endswith("/report.html")})
        if not pages:
            failures.append("index.html links no scenario page")
        plots = ticks = labels = 0
        for page in pages:
            name = os.path.basename(os.path.dirname(page))
            problems, found = check_page(browser, "file://" + page,
                                         os.path.join(shots, f"{name}.png"))
            failures += [f"{name}/report.html: {p}" for p in problems]
            if not found["plots"]:
                failures.append(f"{name}/report.html: no plot")
            plots += len(found["plots"])
            ticks += sum(p["ticks"] for p in found["plots"])
            labels += sum(p["labels"] for p in found["plots"])
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    for f in failures:
        print(f"FAIL {f}")
    print(f"checked index.html and {len(pages)} scenario page(s): {plots} plot(s), "
          f"{ticks} tick labels, {labels} point labels; screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

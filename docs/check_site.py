"""Open the built site in headless Chromium and fail on what a reader would see broken.

Serves the built HTML on a local port, loads the home page, an API page and a gallery page
in Debian's ``chromium`` (through Playwright, which drives the installed browser: nothing is
downloaded), saves a full-page screenshot of each, and exits non-zero on a console error, an
uncaught page error, a request that failed or returned an HTTP error, or an image that did
not load.

Usage: python docs/check_site.py docs/_build/html [--screenshots DIR] [--browser PATH]
"""

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {
    "home": "index.html",
    "api": "generated/skdistill.DistilledClassifier.html",
    "gallery": "auto_examples/student_size.html",
    "benchmark": "benchmarks/generated/quality.html",
}

BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(image => !image.complete || image.naturalWidth === 0)
    .map(image => image.src)"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder):
    """An HTTP server for ``folder`` on a free local port, in a daemon thread."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_page(browser, url, screenshot):
    """Load ``url``; return the problems seen, and save a screenshot."""
    problems = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda message: message.type == "error"
            and problems.append(f"console error: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(
        f"request failed: {request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and problems.append(
        f"HTTP {response.status}: {response.url}"))
    response = page.goto(url, wait_until="networkidle")
    if response is None or response.status != 200:
        problems.append(f"could not load {url}")
    problems += [f"image did not load: {src}" for src in page.evaluate(BROKEN_IMAGES)]
    if not page.title():
        problems.append("the page has no title")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return problems


def main():
    parser = argparse.ArgumentParser(description="Check the built site in headless Chromium.")
    parser.add_argument("site", type=Path, help="the built HTML folder")
    parser.add_argument("--screenshots", type=Path, default=Path("docs/_build/screenshots"))
    parser.add_argument("--browser", default=shutil.which("chromium") or shutil.which(
        "chromium-browser"), help="the Chromium executable (default: chromium on PATH)")
    args = parser.parse_args()
    if not args.browser:
        sys.exit("No Chromium found: install Debian's chromium package or pass --browser.")
    missing = [path for path in PAGES.values() if not (args.site / path).is_file()]
    if missing:
        sys.exit(f"Pages missing from {args.site}: {missing}")
    args.screenshots.mkdir(parents=True, exist_ok=True)
    server = serve(args.site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    failures = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.browser,
                                             args=["--no-sandbox"])
        for name, path in PAGES.items():
            screenshot = args.screenshots / f"{name}.png"
            problems = check_page(browser, f"{base}/{path}", screenshot)
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"{name:8s} {path:50s} {status}; screenshot {screenshot}")
            for problem in problems:
                print(f"    {problem}")
            failures += len(problems)
        browser.close()
    server.shutdown()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""Open the built site in headless Chromium and fail on what a reader would see broken.

Serves the built HTML on a local port, loads the home page, an API page and a gallery page
in Debian's ``chromium`` (through Playwright, which drives the installed browser: nothing is
downloaded), saves a full-page screenshot of each, and exits non-zero on a console error, an
uncaught page error, a request that failed or returned an HTTP error, or an image that did
not load. Then it runs the searches readers make in the site's own search box and fails when
the page that answers one is not among its first three results (:data:`SEARCHES`).

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

SEARCHES = {
    "XGBoost": ["user_guide/teachers.html", "auto_examples/gradient_boosting_teachers.html"],
    "LightGBM": ["user_guide/teachers.html", "auto_examples/gradient_boosting_teachers.html"],
    "CatBoost": ["user_guide/teachers.html", "auto_examples/gradient_boosting_teachers.html"],
    "GPU": ["user_guide/scale.html"],
    "DataFrame": ["user_guide/data.html"],
    "ONNX": ["user_guide/deployment.html", "generated/skdistill.export_onnx.html"],
    "tune": ["user_guide/tuning.html"],
    "unlabelled": ["user_guide/transfer.html"],
    "images": ["user_guide/images.html"],
}
"""What readers search for, and the pages that answer it (one must be in the first three)."""

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


def first_results(browser, base, query, n=3):
    """The site paths of the first ``n`` results of the site's search for ``query``."""
    page = browser.new_page()
    page.goto(f"{base}/search.html?q={query}", wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('.search-summary') !== null",
                           timeout=30_000)
    links = page.eval_on_selector_all("ul.search > li > a",
                                      "links => links.map(link => link.getAttribute('href'))")
    page.close()
    return [link.split("#")[0].split("?")[0].lstrip("./") for link in links[:n]]


def check_searches(browser, base):
    """The problems of :data:`SEARCHES`: a query whose answer is not in its first three."""
    problems = []
    for query, answers in SEARCHES.items():
        found = first_results(browser, base, query)
        status = "ok" if set(found) & set(answers) else "missing"
        print(f"search {query!r:13s} {status}: {found}")
        if status != "ok":
            problems.append(f"search {query!r}: none of {answers} in the first three {found}")
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
        search_problems = check_searches(browser, base)
        for problem in search_problems:
            print(f"    {problem}")
        failures += len(search_problems)
        browser.close()
    server.shutdown()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

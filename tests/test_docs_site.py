"""The documentation site's benchmark pages: every results file gets one, rendered faithfully."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "results_pages", ROOT / "docs" / "_ext" / "results_pages.py")
results_pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(results_pages)


def test_every_results_table_has_a_page_and_an_index_entry():
    files = {path.name for path in (ROOT / "benchmarks" / "results").iterdir()
             if path.suffix in {".md", ".txt"}}
    listed = {name for name, *_ in results_pages.PAGES}
    assert files == listed
    index = (ROOT / "docs" / "benchmarks" / "index.md").read_text(encoding="utf-8")
    for name in listed:
        assert f"generated/{Path(name).stem}\n" in index, name


def test_a_page_takes_the_command_and_machine_its_script_wrote():
    page = results_pages.render("images.md", "Images", "python3 benchmarks/images.py", "")
    first_lines = (ROOT / "benchmarks" / "results" / "images.md").read_text().splitlines()[:2]
    command = first_lines[0].removeprefix("Command: ")
    machine = first_lines[1].removeprefix("Machine: ")
    assert f"- **Reproduce:** `{command}`" in page
    assert f"- **Machine:** {machine}" in page
    assert "\nCommand:" not in page and "\nMachine:" not in page
    assert page.startswith("# Images\n")


def test_a_page_without_them_uses_the_listed_command_and_the_development_machine():
    page = results_pages.render("quality.md", "Accuracy", "python3 benchmarks/quality.py", "")
    assert "- **Reproduce:** `python3 benchmarks/quality.py`" in page
    assert results_pages.DEV_MACHINE in page
    assert "![Accuracy](../../../benchmarks/results/quality.png)" in page


def test_headings_are_moved_under_the_page_title():
    assert results_pages._shift_headings("### A\n\n#### B\n", 2) == "## A\n\n### B\n"
    assert results_pages._shift_headings("no heading\n", 2) == "no heading\n"


def test_text_results_are_shown_verbatim():
    page = results_pages.render("epoch_speed.txt", "Epoch speed", "cmd", "")
    body = (ROOT / "benchmarks" / "results" / "epoch_speed.txt").read_text().strip()
    assert f"```text\n{body}\n```" in page


def test_the_gallery_order_lists_every_example():
    spec = importlib.util.spec_from_file_location(
        "gallery_order", ROOT / "docs" / "_ext" / "gallery_order.py")
    gallery_order = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery_order)
    scripts = sorted(path.name for path in (ROOT / "examples").glob("*.py"))
    assert sorted(gallery_order.ORDER) == scripts
    key = gallery_order.ExampleOrder("examples")
    assert sorted(scripts, key=key)[0] == "distill_digits.py"

"""The documentation's copyable snippets run as they are.

A page marks a Python block that a reader can paste and run with the MyST comment line
``% runs as it is`` right above it. The marked blocks of a page run in order in one
namespace, as a reader pasting them one after another would run them.
"""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
MARK = "% runs as it is"
MARK_LINE = re.compile(r"^" + re.escape(MARK) + r"$", re.M)
BLOCK = re.compile(r"^" + re.escape(MARK) + r"\n```python\n(.*?)^```$", re.M | re.S)


def runnable_blocks(text):
    """The code of every Python block right after a ``% runs as it is`` line."""
    return BLOCK.findall(text)


PAGES = sorted(path for path in DOCS.rglob("*.md")
               if "_build" not in path.parts and MARK_LINE.search(path.read_text(encoding="utf-8")))


def test_marked_blocks_are_found_and_nothing_else():
    text = (f"{MARK}\n```python\nx = 1\n```\n\n```python\nnot run\n```\n"
            f"{MARK}\n```python\ny = 2\n```\n")
    assert runnable_blocks(text) == ["x = 1\n", "y = 2\n"]
    assert DOCS / "user_guide" / "teachers.md" in PAGES
    assert DOCS / "contributing.md" not in PAGES  # it names the mark inside a sentence
    for page in PAGES:  # a mark stands right above a Python block, or it is a typo
        text = page.read_text(encoding="utf-8")
        assert len(MARK_LINE.findall(text)) == len(runnable_blocks(text)), page


def _teachers_page(ns):
    labels = {"renews", "churns"}
    for name, rows in (("xgboost_student", "as_categories"), ("lightgbm_student", "as_categories"),
                       ("catboost_student", "with_strings")):
        model = ns[name]
        assert set(model.classes_) == labels and model.score(ns[rows], ns["y"]) > 0.7, name
    assert type(ns["xgboost_student"].teacher_).__name__ == "IntegerLabels"
    assert set(ns["xgboost_student"].predict(ns["frame"].iloc[:3])) <= labels


def _getting_started(ns):
    assert ns["model"].score(ns["X_test"], ns["y_test"]) > 0.85


def _deployment(ns):
    import numpy as np

    probabilities = ns["session"].run(None, {"X": ns["X_new"].astype("float32")})[1]
    np.testing.assert_allclose(probabilities, ns["model"].predict_proba(ns["X_new"]), atol=1e-5)
    np.testing.assert_allclose(ns["frame_probabilities"],
                               ns["frame_model"].predict_proba(ns["new_frame"]), atol=1e-5)
    assert set(ns["feed"]) == {"size", "colour"}


def _tuning(ns):
    search = ns["students"]
    assert set(search.best_params_) == {"student_preprocessor", "module__hidden_layer_sizes"}
    assert len(search.cv_results_["params"]) == 4 and search.best_score_ > 0.9


OUTCOMES = {"teachers.md": _teachers_page, "getting_started.md": _getting_started,
            "deployment.md": _deployment, "tuning.md": _tuning}
"""What each page's snippets must have produced, checked after they ran."""


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_the_marked_blocks_of_a_page_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a snippet writes stays out of the checkout
    namespace = {"__name__": "__snippet__"}
    blocks = runnable_blocks(page.read_text(encoding="utf-8"))
    assert blocks, f"{page.name} is listed but has no block after a '% runs as it is' line"
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{page.name}, block {number}", "exec"), namespace)
        except ModuleNotFoundError as exc:  # an optional library (e.g. the teachers extra)
            pytest.skip(f"{page.name}, block {number} needs {exc.name}")
    OUTCOMES[page.name](namespace)  # a page with marked blocks says what they must produce

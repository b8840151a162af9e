"""The demo script of the README runs to completion.

The other scripts in ``examples/`` are the documentation's gallery: the docs build
(``python -m sphinx -W ...``, run by ``.ci/run``) executes every one of them and fails
when one raises.
"""

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def test_demo_runs():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "distill_digits.py")],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "accuracy" in result.stdout
    assert "GridSearchCV best T=" in result.stdout


def test_every_example_is_in_the_gallery():
    """Each script opens with the title sphinx-gallery needs (a line underlined by '=')."""
    for script in sorted(EXAMPLES.glob("*.py")):
        lines = script.read_text(encoding="utf-8").splitlines()
        assert lines[0] == '"""', script.name
        assert lines[2] == "=" * len(lines[1]), script.name

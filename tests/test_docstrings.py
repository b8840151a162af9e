"""Every public docstring passes numpydoc's validation, and every public name has an API page.

Public classes and functions need the full set of checks (parameters, returns, See Also,
Examples); their public methods need their parameters and returns documented. Left out:
ES01 (an extended summary is optional) and RT02 (a Returns entry may name the value).
"""

import inspect
import re
from pathlib import Path

import pytest
from numpydoc.validate import validate

import skdistill

IGNORED = {"ES01", "RT02"}
METHOD_IGNORED = IGNORED | {"SA01", "EX01", "SS05"}
API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def public_names():
    return [name for name in skdistill.__all__
            if inspect.isclass(getattr(skdistill, name))
            or inspect.isfunction(getattr(skdistill, name))]


def public_methods():
    """``(class name, method name)`` for every public method a public class defines itself."""
    for name in public_names():
        cls = getattr(skdistill, name)
        if not inspect.isclass(cls):
            continue
        for attribute, value in vars(cls).items():
            if attribute.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__doc__ is None:   # inherited documentation (e.g. torch's forward)
                continue
            yield name, attribute


def failures(qualified_name, ignored):
    return [f"{code}: {message}" for code, message in validate(qualified_name)["errors"]
            if code not in ignored]


@pytest.mark.parametrize("name", public_names())
def test_public_docstring_is_valid(name):
    assert failures(f"skdistill.{name}", IGNORED) == []


@pytest.mark.parametrize("owner, method", list(public_methods()),
                         ids=[f"{c}.{m}" for c, m in public_methods()])
def test_public_method_docstring_is_valid(owner, method):
    assert failures(f"skdistill.{owner}.{method}", METHOD_IGNORED) == []


def test_every_public_name_has_an_api_page():
    listed = set(re.findall(r"^   (\w+)$", API_PAGE.read_text(encoding="utf-8"), flags=re.M))
    assert set(skdistill.__all__) - listed == set()

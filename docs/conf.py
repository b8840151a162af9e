"""Sphinx configuration of skdistill's documentation site.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` after
``pip install -e ".[docs]"``. The gallery runs every script in ``examples/``; the benchmark
pages are rendered from ``benchmarks/results/`` at build time (``_ext/results_pages.py``).
"""

import sys
from pathlib import Path

import skdistill

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "skdistill"
author = "skdistill developers"
copyright = "2026, skdistill developers"
release = skdistill.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "results_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "**.codeobj.json"]
templates_path = ["_templates"]
root_doc = "index"

# Every cross-reference must resolve. Names of other packages cannot (the build is offline,
# so there is no intersphinx): those are written as literals or ignored here by namespace.
nitpicky = True
nitpick_ignore_regex = [
    ("py:.*", r"(numpy|np|torch|sklearn|skorch|pandas|pd|scipy|dask|polars|onnx|onnxruntime"
              r"|joblib|matplotlib|skl2onnx|pathlib|os|collections|typing)(\..*)?"),
    ("py:.*", r"(array-like|sparse matrix|ndarray|DataFrame|callable|optional|default|of|or"
              r"|shape|str|int|float|bool|dict|list|tuple|None|object|path-like|iterable)"),
]
# numpydoc links an attribute that is an inherited property (``loss_curve_``) to a page of its
# own, which autosummary does not make: its Attributes entry is its documentation.
nitpick_ignore = [("py:obj", "loss_curve_"), ("py:obj", "validation_scores_")]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "RT01", "SS01", "SS02", "GL03"}
numpydoc_validation_exclude = {r"\.SOFT_LOSSES$"}  # a dict: its documentation is the API page

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # execute every script, not only plot_*.py
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "doc_module": ("skdistill",),
    "backreferences_dir": "generated/backreferences",
    "reset_modules": ("matplotlib", "seaborn", "gallery_threads.one_thread"),
}

html_theme = "pydata_sphinx_theme"
html_title = "skdistill"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": {"benchmarks/generated/*": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # the theme logs an error when no mode is stored

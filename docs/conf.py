"""Sphinx configuration for the lpengine documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W -b html docs docs/_build/html

The API reference is generated from the docstrings (autosummary + numpydoc).
The notebooks under ``docs/notebooks/`` are rendered copies with their outputs
(``python docs/render_notebooks.py`` writes them); nothing is executed at build
time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Document the tree this file lives in, not whatever lpengine happens to be installed.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lpengine  # noqa: E402  (needs the path above)

project = "lpengine"
author = "the lpengine developers"
copyright = "2026, the lpengine developers"
release = lpengine.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",  # Markdown pages (MyST) and notebooks
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "render_notebooks.py"]
templates_path = ["_templates"]

# --- API reference ---------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's __all__ is its public API
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc's Parameters section carries types and shapes
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- MyST and notebooks ----------------------------------------------------------------------------------
nb_execution_mode = "off"  # notebooks are rendered with their committed outputs; never run at build time
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- HTML --------------------------------------------------------------------------------------------------
html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"lpengine {release}"
html_theme_options = {
    "description": "Exact LP analysis of ReLU networks",
    "fixed_sidebar": True,
    "page_width": "1100px",
}

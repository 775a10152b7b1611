"""The version of lpengine: the one place it is written.

``pyproject.toml`` reads it at build time (``[tool.setuptools.dynamic]``) and
``lpengine.__version__`` re-exports it, so an installed wheel, an editable
install and a plain checkout on ``sys.path`` all report the same string.
"""

__version__ = "0.1.0"

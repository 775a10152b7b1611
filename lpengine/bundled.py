"""The problem files that ship with lpengine, found by name.

The files of ``problems/`` in the repository (the default problems of ``lpengine solve`` and
``lpengine count``, and the papers' example setups; see ``problems/PROVENANCE.md``) are package data
(``lpengine/data/problems``), so an installed wheel can run them without a checkout::

    lpengine solve default                 # the same as: lpengine solve problems/default.toml
    lpengine count --net regions_default   # the same as: --net problems/regions_default.npz

A name is looked up only when no file of that name exists: a path always means the file it names.

Examples
--------
>>> from lpengine.bundled import bundled_problems, find_problem_file
>>> "default.toml" in bundled_problems()
True
>>> find_problem_file("default", suffixes=(".toml",)).name
'default.toml'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

__all__ = ["bundled_problems", "bundled_problem_path", "find_problem_file"]


def _directory() -> Path:
    # Package data of a regular (unzipped) install or a checkout: a real directory on disk.
    return Path(str(resources.files("lpengine") / "data" / "problems"))


def bundled_problems() -> tuple[str, ...]:
    """File names of the bundled problems, sorted (``.toml`` problem files and ``.npz`` networks).

    Returns
    -------
    tuple of str
        For example ``("argmin_2d.toml", "default.toml", ..., "regions_default.npz")``.
    """
    directory = _directory()
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.name for p in directory.iterdir() if p.suffix in (".toml", ".npz")))


def bundled_problem_path(name: str) -> Path:
    """The path of a bundled problem file, by its file name (``"default.toml"``).

    Parameters
    ----------
    name : str
        A file name from :func:`bundled_problems`.

    Returns
    -------
    pathlib.Path
        The installed file.

    Raises
    ------
    FileNotFoundError
        If no bundled problem has that name; the message lists the bundled names.
    """
    names = bundled_problems()
    if name not in names:
        raise FileNotFoundError(f"no bundled problem named {name!r}; bundled: {', '.join(names) or 'none'}.")
    return _directory() / name


def find_problem_file(path: str | os.PathLike[str], *, suffixes: Sequence[str]) -> Path:
    """Resolve a command-line file argument: an existing path, else a bundled problem of that name.

    Parameters
    ----------
    path : str or os.PathLike
        What the user typed: a path, or the bare name of a bundled problem, with or without its suffix
        (``"default"``, ``"default.toml"``).
    suffixes : sequence of str
        The suffixes the caller reads (``(".toml",)`` for problem files, ``(".npz",)`` for networks);
        a name without a suffix is tried with each.

    Returns
    -------
    pathlib.Path
        ``path`` itself when it exists or when it names no bundled problem (the caller then reports the
        missing file as usual); otherwise the bundled file.
    """
    given = Path(path)
    if given.exists() or given.parent != Path("."):
        return given
    names = bundled_problems()
    for candidate in (given.name, *(given.name + s for s in suffixes)):
        if candidate in names and Path(candidate).suffix in suffixes:
            return bundled_problem_path(candidate)
    return given

"""Shared test fixtures: paths of the repository and of the reference data beside it."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on fixed examples (the same on every run, so a stop is judged on the code, not on a
# draw); elsewhere they draw new ones each run and keep searching. A failure prints its @reproduce_failure line.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The original task files (../shared/data); tests that need them skip with a reason when absent."""
    if not (SHARED_DATA / "var_u.mat").is_file():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


def copy_repo(dest: Path) -> Path:
    """A clean copy of the repository's tracked and untracked-not-ignored files (no results/).

    In a git checkout, git lists the files; in an unpacked source archive (no .git), the tree is
    walked with the root .gitignore's patterns (:func:`copy_tree_without_git`).
    """
    files = _git_files()
    if files is None:
        return copy_tree_without_git(REPO, dest)
    for rel in files:
        src = REPO / rel
        if not src.exists() and not src.is_symlink():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        else:
            shutil.copy2(src, target)
    return dest


def _git_files() -> list[str] | None:
    """The files git would keep (tracked, or untracked and not ignored), or None outside a git checkout of REPO."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=REPO, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:  # no git installed
        return None
    # An archive unpacked inside some other repository is not a checkout of this one.
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != REPO:
        return None
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def ignore_patterns(root: Path) -> list[str]:
    """The patterns of ``root/.gitignore`` (blank lines and comments dropped), plus ``.git`` itself
    (a folder in a clone, a file in a worktree)."""
    path = root / ".gitignore"
    lines = path.read_text().splitlines() if path.is_file() else []
    patterns = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    unsupported = [p for p in patterns if p.startswith("!")]
    if unsupported:
        raise ValueError(f"{path}: negated patterns {unsupported} are not supported by the copy without git")
    return [".git", *patterns]


def is_ignored(rel: Path, is_dir: bool, patterns: list[str]) -> bool:
    """Whether ``rel`` (relative to the root) matches a .gitignore pattern.

    The subset of .gitignore that a root file needs: ``name`` matches a file or folder of that
    name at any depth, ``name/`` only a folder, a leading or inner ``/`` anchors the pattern at
    the root; ``*``, ``?`` and ``[...]`` are wildcards (in an anchored pattern ``*`` may also
    match ``/``, where git's would not).
    """
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if dir_only and not is_dir:
            continue
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel.as_posix(), pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(rel.name, pattern):
            return True
    return False


def copy_tree_without_git(root: Path, dest: Path) -> Path:
    """Copy ``root`` to ``dest`` without git: every file but those the root .gitignore (or .git) excludes.

    Ignored folders are not entered, so a large results/ or .venv/ costs nothing. Symlinks are
    copied as links.
    """
    patterns = ignore_patterns(root)
    for here, dirs, files in os.walk(root):
        base = Path(here)
        rel_here = base.relative_to(root)
        links = [d for d in dirs if (base / d).is_symlink()]  # a link to a folder: copied as a link, as git does
        dirs[:] = sorted(d for d in dirs if d not in links and not is_ignored(rel_here / d, True, patterns))
        for name in sorted([*files, *links]):
            rel = rel_here / name
            if is_ignored(rel, False, patterns):
                continue
            src, target = root / rel, dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                target.symlink_to(src.readlink())
            else:
                shutil.copy2(src, target)
    return dest


def snakemake_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def pytest_configure(config):
    # Tests use small tensors: one thread avoids oversubscribing a 2-core machine (much faster there).
    import torch

    torch.set_num_threads(1)

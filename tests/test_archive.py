"""The suite runs from an unpacked source archive (no .git) as from a clone: the tests that copy the
project (conftest.copy_repo) then walk the tree with the .gitignore patterns instead of asking git."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, _git_files, copy_repo, copy_tree_without_git

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# A test that copies the project and runs a real Snakemake job in the copy (about 20 s).
COPYING_TEST = "tests/test_reliability.py::test_diverged_run_fails_its_estimate_job_or_is_skipped_when_config_says_so"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@needs_git
def test_copy_without_git_keeps_what_git_keeps(tmp_path):
    """On a tree with every kind of ignored file, the walk keeps exactly the files git lists."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(REPO / ".gitignore", src / ".gitignore")
    kept = ["Snakefile", "workflow/infoplane/cli.py", ".ci/run", ".test/config.yaml", "workflow/logs/keep.txt"]
    ignored = [
        "results/runs/a/metrics.csv",
        ".snakemake/locks/0.input.lock",
        ".venv/bin/python",
        "workflow/infoplane/__pycache__/cli.cpython-311.pyc",
        "workflow/infoplane.egg-info/PKG-INFO",
        ".pytest_cache/v/cache/nodeids",
        "logs/run.log",  # /logs/ is anchored at the root; workflow/logs/ above is kept
        "build/lib/x.py",
    ]
    for rel in kept + ignored:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    (src / "profiles").symlink_to("workflow")  # a link to a folder is copied as a link
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"], cwd=src, check=True, capture_output=True, text=True
    ).stdout.split()
    assert set(listed) == {*kept, ".gitignore", "profiles"}  # git's own answer, the truth here

    dest = copy_tree_without_git(src, tmp_path / "dest")
    assert _files(dest) == set(listed)
    assert (dest / "profiles").is_symlink() and (dest / "Snakefile").read_text() == "Snakefile"


@needs_git
def test_copy_repo_of_this_checkout_is_what_git_lists(tmp_path):
    files = _git_files()
    if files is None:
        pytest.skip("not a git checkout (an unpacked archive): nothing to compare with")
    walked = _files(copy_tree_without_git(REPO, tmp_path / "walked"))
    assert walked == {f for f in files if (REPO / f).exists() or (REPO / f).is_symlink()}


@pytest.mark.slow
@pytest.mark.long  # over 40 s: CI runs it with `-m long`
def test_copying_tests_pass_from_an_archive_copy(tmp_path):
    """An archive copy (no .git) runs a test that copies the project and runs Snakemake there."""
    archive = copy_repo(tmp_path / "archive")
    assert not (archive / ".git").exists()
    no_git = "import conftest; assert conftest._git_files() is None"  # the copy there walks the tree
    subprocess.run([sys.executable, "-c", no_git], cwd=archive / "tests", check=True)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", COPYING_TEST],
        cwd=archive,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]

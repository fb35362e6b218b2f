"""Shared test fixtures: paths of the repository and of the reference data beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    """A clean copy of the repository's tracked and untracked-not-ignored files (no results/)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
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


def snakemake_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def pytest_configure(config):
    # Tests use small tensors: one thread avoids oversubscribing a 2-core machine (much faster there).
    import torch

    torch.set_num_threads(1)

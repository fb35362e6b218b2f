"""Many outputs from one job, none of them lost to a failure.

Snakemake deletes every output of a failed job. A job that makes many outputs (the activations of a
group of runs, the MI tables of a group) therefore builds each one in a staging folder outside its
declared outputs, next to a fingerprint of what made it (a JSON file: the settings and the content
digests of the inputs), and moves them all into place only when every one is made. A rerun of a
failed job reuses each staged output whose fingerprint matches the one it would make now, and
builds the rest. A job without a staging folder builds straight into its outputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FINGERPRINT_SUFFIX = ".fingerprint.json"


def tree_digest(path: str | Path) -> str:
    """Content digest (BLAKE2b, 128 bits) of a file, or of every file under a folder with its relative path.

    Snakemake's marker files (``.snakemake_timestamp`` in a finished directory output) are left out,
    so a store digests the same staged and published. Content, not mtimes: a store copied elsewhere
    or rewritten with the same bytes keeps its digest; any changed byte changes it.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"cannot fingerprint {str(path)!r}: it does not exist")
    h = hashlib.blake2b(digest_size=16)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        rel = file.relative_to(path).as_posix() if file != path else ""
        if Path(rel).name.startswith(".snakemake"):
            continue
        h.update(rel.encode() + b"\0" + str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


@dataclass
class Output:
    """One output of a many-output job.

    name: how the log names it; dest: the declared output (file or folder); staged: where it is
    built first (None: straight into ``dest``); fingerprint: what makes it, as plain JSON values
    (called once, only where a staged copy may be reused).
    """

    name: str
    dest: Path
    staged: Path | None = None
    fingerprint: Callable[[], dict] | None = None


class OutputsFailed(RuntimeError):
    """Some outputs of a many-output job failed; the others are staged for the rerun."""


def _fingerprint_path(staged: Path) -> Path:
    return staged.with_name(staged.name + FINGERPRINT_SUFFIX)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _matches(staged: Path, fingerprint: dict) -> bool:
    fp = _fingerprint_path(staged)
    if not (staged.exists() and fp.is_file()):
        return False
    try:
        return json.loads(fp.read_text()) == json.loads(json.dumps(fingerprint))
    except ValueError:  # a fingerprint cut short: rebuild
        return False


def _prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``root`` while they are empty."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone)
            return
        folder = folder.parent


def make_outputs(
    outputs: list[Output],
    build: Callable[[Output, Path], None],
    log: logging.Logger,
    stage_root: str | Path | None = None,
) -> dict[str, list[str]]:
    """Build every output with ``build(output, path)`` (which writes it at ``path``), then publish them.

    Staged outputs (``output.staged`` set) whose fingerprint file equals ``output.fingerprint()`` are
    reused, not rebuilt, and the log says so. A failure is logged and the job goes on with the other
    outputs; at the end the first failure is raised again when it was the only output, else
    :class:`OutputsFailed` naming every failure and where the finished outputs wait. Published
    outputs leave nothing in staging; ``stage_root`` bounds the removal of emptied staging folders.
    Returns {"reused": names, "built": names}.
    """
    reused, built, failed = [], [], []
    for out in outputs:
        if out.staged is None:
            target = out.dest
        else:
            target = out.staged
            fingerprint = out.fingerprint() if out.fingerprint is not None else {}
            if _matches(target, fingerprint):
                log.info("reused %s: staged in %s with the same fingerprint", out.name, target)
                reused.append(out.name)
                continue
            _remove(_fingerprint_path(target))  # first: a stale fingerprint never vouches for a half-built output
            _remove(target)
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            build(out, target)
        except Exception as err:
            log.exception("%s failed: %s", out.name, err)
            failed.append((out, err))
            _remove(target)  # half-built: never published, never reused
            continue
        if out.staged is not None:
            _fingerprint_path(target).write_text(json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")
        built.append(out.name)
    if failed:
        if len(outputs) == 1:
            raise failed[0][1]
        names = ", ".join(out.name for out, _ in failed)
        failed_names = {out.name for out, _ in failed}
        staged = [out for out in outputs if out.staged is not None and out.name not in failed_names]
        where = f"; the {len(staged)} finished are staged under {stage_root} and a rerun reuses them" if staged else ""
        first = failed[0][1]
        raise OutputsFailed(
            f"{len(failed)} of {len(outputs)} outputs failed ({names}){where}. "
            f"First error: {type(first).__name__}: {first}"
        ) from first
    for out in outputs:
        if out.staged is None:
            continue
        _remove(out.dest)  # Snakemake removed it already; a stale one must not block the move
        out.dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(out.staged, out.dest)
        _remove(_fingerprint_path(out.staged))
        if stage_root is not None:
            _prune(out.staged.parent, Path(stage_root))
    if any(out.staged is not None for out in outputs):
        log.info("%d outputs: %d built, %d reused from staging", len(outputs), len(built), len(reused))
    return {"reused": reused, "built": built}

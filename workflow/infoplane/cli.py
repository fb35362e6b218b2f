"""The ``infoplane`` command line. One subcommand per task; add one with a function and a parser.

    infoplane estimate --method ksg --param k=5 x.npy y.npy
    infoplane estimate --method binning --param bins=30 --no-ci acts.npy labels.npy

prints the :class:`infoplane.estimators.MIEstimate` as JSON on stdout.

    infoplane doctor [directory]

says whether the directory's Snakemake lock is stale (no Snakemake runs there; exit status 1)
and gives the command that removes it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import numpy as np


def parse_param(text: str) -> tuple[str, object]:
    """``key=value`` -> (key, value), the value read as a Python literal (5, 0.1, True, 'x') or a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"--param expects key=value, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key, value


def _load(path: str, name: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise SystemExit(f"infoplane estimate: {name} file {path!r} does not exist")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise SystemExit(
            f"infoplane estimate: {name} file {path!r} is not a readable .npy array: {err}"
        ) from None


def cmd_estimate(args: argparse.Namespace) -> int:
    from .estimators import estimate  # noqa: PLC0415  (import torch only when needed)

    x, y = _load(args.x, "x"), _load(args.y, "y")
    params = dict(args.param)
    try:
        result = estimate(args.method, x, y, device=args.device, ci=not args.no_ci, seed=args.seed, **params)
    except (ValueError, TypeError) as err:
        print(f"infoplane estimate: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2 if args.pretty else None))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Say whether the working directory's Snakemake lock is stale; exit 1 when it is (nothing is removed)."""
    from .locks import lock_report

    stale, line = lock_report(args.directory)
    print(f"infoplane doctor: {line}")
    return 1 if stale else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infoplane", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="estimate I(X;Y) in bits from two .npy arrays, printed as JSON")
    est.add_argument("--method", required=True, help="estimator name (ksg, kde, binning, gaussian, ...)")
    est.add_argument("--param", action="append", type=parse_param, default=[], metavar="KEY=VALUE",
                     help="estimator parameter, repeatable (e.g. --param k=5)")  # fmt: skip
    est.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda:0, ...")
    est.add_argument("--no-ci", action="store_true", help="skip the confidence interval")
    est.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    est.add_argument("--pretty", action="store_true", help="indent the JSON")
    est.add_argument("x", help=".npy array (n, dx) or (n,)")
    est.add_argument("y", help=".npy array (n, dy), (n,) floats or (n,) integer labels")
    est.set_defaults(func=cmd_estimate)
    doc = sub.add_parser("doctor", help="check a working directory for a stale Snakemake lock (left by a killed run)")
    doc.add_argument("directory", nargs="?", default=".", help="the workflow's working directory (default: here)")
    doc.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

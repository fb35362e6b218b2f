"""The ``infoplane`` command line. One subcommand per task; add one with a function and a parser.

    infoplane estimate --method ksg --param k=5 x.npy y.npy
    infoplane estimate --method binning --param bins=30 --no-ci acts.npy labels.npy

prints the :class:`infoplane.estimators.MIEstimate` as JSON on stdout.

    infoplane plane --activations acts.npz --inputs x.npy --labels y.npy --estimator binning \
        --param bins=30 --out mi.csv --figure infoplane.png

writes the tidy MI table of activations computed anywhere (the workflow's run table), and the
information plane when asked, without Snakemake.

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


def cmd_plane(args: argparse.Namespace) -> int:
    from .analysis.external import ActivationsFileError, plane_table, read_activations, read_array  # noqa: PLC0415

    try:
        acts, names = read_activations(args.activations)
        inputs, labels = read_array(args.inputs, "inputs"), read_array(args.labels, "labels")
        table = plane_table(acts, inputs, labels, args.estimator, dict(args.param), device=args.device,
                            on_nonfinite=args.on_nonfinite)  # fmt: skip
    except (ActivationsFileError, ValueError, TypeError) as err:
        print(f"infoplane plane: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    renamed = {k: v for k, v in names.items() if v != f"layer{k}"}
    if renamed:
        print(f"infoplane plane: layers numbered in file order: {renamed}", file=sys.stderr)
    print(f"infoplane plane: {len(table)} rows ({acts.sizes['epoch']} epochs x {len(names)} layers) -> {out}",
          file=sys.stderr)  # fmt: skip
    if args.figure:
        from .analysis import stack_run_tables  # noqa: PLC0415
        from .figures import infoplane_figure, save_figure  # noqa: PLC0415

        labelled = stack_run_tables([(table, {"estimator": args.estimator, "activation": Path(args.activations).stem})],
                                    "plane")  # fmt: skip
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        save_figure(infoplane_figure(labelled), args.figure)
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
    pl = sub.add_parser("plane", help="the MI table (and information plane) of activations computed anywhere")
    pl.add_argument("--activations", required=True,
                    help="activations.zarr (a workflow store) or .npz ((epoch, sample, unit) per layer)")  # fmt: skip
    pl.add_argument("--inputs", required=True, help=".npy array (n, ...): the inputs X, uniform over its rows")
    pl.add_argument("--labels", required=True, help=".npy array (n,) of integer labels Y")
    pl.add_argument("--estimator", required=True, help="estimator method (binning, kde, ksg, ...)")
    pl.add_argument("--param", action="append", type=parse_param, default=[], metavar="KEY=VALUE",
                    help="estimator parameter, repeatable (e.g. --param bins=30)")  # fmt: skip
    pl.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda:0, ...")
    pl.add_argument("--on-nonfinite", choices=["error", "skip"], default="error",
                    help="NaN/inf activations: fail naming epoch and layer, or skip those epochs")  # fmt: skip
    pl.add_argument("--out", required=True, help="the tidy MI table (.csv) to write")
    pl.add_argument("--figure", help="also draw the information plane to this .png")
    pl.set_defaults(func=cmd_plane)
    doc = sub.add_parser("doctor", help="check a working directory for a stale Snakemake lock (left by a killed run)")
    doc.add_argument("directory", nargs="?", default=".", help="the workflow's working directory (default: here)")
    doc.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

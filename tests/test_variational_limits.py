"""The variational limits target (Song & Ermon 2020): the staircase sampler against its closed form,
the claims on hand-made tables (holding and failing), the training loop, and the target run for real."""

import math
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, copy_repo, snakemake_cmd
from infoplane.benchmarks.staircase import (
    COLUMNS,
    DEFAULTS,
    gaussian_mi_nats,
    rho_from_mi_nats,
    run_staircase,
    sample_staircase,
)
from infoplane.claims import CLAIM_COLUMNS, CLAIMS
from infoplane.config import load_yaml, validate_config
from infoplane.estimators import estimate
from infoplane.estimators.base import NATS_TO_BITS

TINY = dict(stages_nats=[2.0, 6.0], steps_per_stage=6, batch_size=16, dim=4, hidden=8, layers=1, embed=4)


@pytest.mark.parametrize("mi_nats", [0.5, 2.0, 10.0])
def test_rho_and_mi_are_inverse(mi_nats):
    assert gaussian_mi_nats(rho_from_mi_nats(mi_nats, 20), 20) == pytest.approx(mi_nats, rel=1e-12)
    # the paper's 2 nats over 20 pairs: rho^2 = 1 - e^{-0.2}
    assert rho_from_mi_nats(2.0, 20) == pytest.approx(math.sqrt(1 - math.exp(-0.2)), rel=1e-12)


def test_sampler_mi_matches_the_closed_form_and_the_gaussian_estimator():
    g = torch.Generator().manual_seed(0)
    x, y = sample_staircase(40000, 6.0, 20, "gaussian", g)
    assert x.shape == y.shape == (40000, 20)
    # each coordinate pair has correlation rho, pairs are independent: I = -dim/2 log(1 - rho^2)
    rho = rho_from_mi_nats(6.0, 20)
    per_pair = [np.corrcoef(x[:, i], y[:, i])[0, 1] for i in range(20)]
    assert np.allclose(per_pair, rho, atol=0.01)
    assert abs(np.corrcoef(x[:, 0], y[:, 1])[0, 1]) < 0.02
    # another implementation: the library's Gaussian (CCA) estimator on the whole 20+20 sample
    mi_nats = estimate("gaussian", x.double(), y.double(), ci=False).mi_bits / NATS_TO_BITS
    assert mi_nats == pytest.approx(6.0, abs=0.05)


def test_cubic_transform_keeps_every_rank_so_the_mi():
    x, y = sample_staircase(500, 4.0, 5, "gaussian", torch.Generator().manual_seed(3))
    xc, yc = sample_staircase(500, 4.0, 5, "cubic", torch.Generator().manual_seed(3))
    assert torch.equal(x, xc)
    assert torch.allclose(yc, y**3)
    assert torch.equal(yc.argsort(0), y.argsort(0))  # monotone per coordinate: I(X; Y^3) = I(X; Y)
    with pytest.raises(ValueError, match="unknown transform 'square'"):
        sample_staircase(5, 1.0, 2, "square")


def test_schema_defaults_are_the_library_defaults():
    config = validate_config(load_yaml(REPO / "config/config.yaml"))
    assert config["variational_limits"] == DEFAULTS


def test_paper_config_holds_the_published_scale():
    vl = validate_config(load_yaml(REPO / "config/paper/variational_limits.yaml"))["variational_limits"]
    assert vl["steps_per_stage"] == 4000 and vl["batch_size"] == 64 and vl["dim"] == 20
    assert vl["stages_nats"] == [2, 4, 6, 8, 10] and vl["hidden"] == 256


def test_a_run_is_deterministic_bounded_and_has_one_row_per_step_and_tau():
    a = run_staircase("smile", "concat", "cubic", 7, smile_taus=[1.0, math.inf], **TINY)
    b = run_staircase("smile", "concat", "cubic", 7, smile_taus=[1.0, math.inf], **TINY)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == COLUMNS
    assert sorted(a["method"].unique()) == ["smile_tau1", "smile_tauinf"]
    assert len(a) == 2 * 12 and a["estimate_nats"].notna().all() and not a["run_diverged"].any()
    assert sorted(a["true_mi_nats"].unique()) == [2.0, 6.0]
    nce = run_staircase("infonce", "separable", "gaussian", 0, **TINY)
    assert (nce["estimate_nats"] <= math.log(16) + 1e-9).all()
    assert not nce.equals(run_staircase("infonce", "separable", "gaussian", 1, **TINY))
    with pytest.raises(ValueError, match="unknown method 'dv'"):
        run_staircase("dv", "concat", "gaussian", 0, **TINY)


def _table(sd: dict, means: dict | None = None, steps=40, stages=(2.0, 10.0), batch=64) -> pd.DataFrame:
    """A hand-made staircase table: per method a noise standard deviation at each stage (nats)."""
    rng = np.random.default_rng(0)
    means = means or {}
    rows = []
    for critic in ("separable", "concat"):
        for seed in (0, 1, 2):
            for method, sds in sd.items():
                for stage, (mi, s) in enumerate(zip(stages, sds, strict=True)):
                    level = means.get(method, [mi - 0.5] * len(stages))[stage]
                    for k in range(steps):
                        value = level + s * rng.standard_normal()
                        rows.append(dict(step=stage * steps + k, stage=stage, true_mi_nats=mi, method=method,
                                         critic=critic, transform="gaussian", seed=seed, estimate_nats=value,
                                         batch_size=batch))  # fmt: skip
    return pd.DataFrame(rows)


def test_claims_hold_on_a_table_that_shows_the_limits():
    table = _table(
        {"infonce": [0.1, 0.02], "nwj": [0.1, 1.0], "mine": [0.1, 0.8], "smile_tau5": [0.1, 0.2]},
        means={"infonce": [1.5, 4.0]},
    )
    claims = CLAIMS["song_ermon2020"](table).set_index("claim")
    assert list(claims.reset_index().columns) == CLAIM_COLUMNS
    assert claims["holds"].all() and len(claims) == 4
    assert (claims["n_runs"] == 6).all()
    # ln(1.0^2 / 0.1^2) = 4.6 for NWJ
    assert claims.loc["the variance of NWJ grows with the true MI", "observed"] == pytest.approx(4.6, abs=0.7)
    assert claims.loc["InfoNCE stays below log(batch size)", "observed"] == pytest.approx(4.0, abs=0.02)


def test_claims_fail_on_a_table_that_does_not():
    table = _table(
        {"infonce": [0.1, 0.02], "nwj": [0.5, 0.5], "mine": [0.8, 0.1], "smile_tau5": [0.1, 2.0]},
        means={"infonce": [1.5, 5.0]},
    )
    claims = CLAIMS["song_ermon2020"](table)
    assert not claims["holds"].any() and len(claims) == 4


def test_claims_ignore_a_learning_trend_and_name_the_table_they_need():
    # a critic still climbing steadily is not noise: detrended, the variance stays flat
    table = _table({"nwj": [0.1, 0.1]})
    table["estimate_nats"] += 0.05 * table["step"] * (table["stage"] == 1)
    row = CLAIMS["song_ermon2020"](table).iloc[0]
    assert not row["holds"] and abs(row["observed"]) < 0.5
    mi_table = pd.DataFrame({"epoch": [0], "layer": [1], "quantity": ["I_XT"], "mi_bits": [1.0]})
    with pytest.raises(ValueError, match="staircase table .* lacks columns"):
        CLAIMS["song_ermon2020"](mi_table, None, 1.0)


def _snakemake(*args, cwd):
    result = subprocess.run([*snakemake_cmd(), *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"snakemake {args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def test_paper_scale_dry_run_plans_a_job_per_transform_and_seed():
    # --configfile takes every word after it: the target comes first
    out = _snakemake("variational_limits", "-n", "--configfile", "config/paper/variational_limits.yaml", cwd=REPO)
    assert "variational_limits_run" in out and "variational_limits_figure" in out
    paper = load_yaml(REPO / "config/paper/variational_limits.yaml")["variational_limits"]
    assert f"variational_limits_run           {2 * len(paper['seeds'])}" in out


@pytest.mark.slow
def test_tiny_target_runs_through_snakemake(tmp_path):
    work = copy_repo(tmp_path / "repo")
    tiny = load_yaml(REPO / ".test/config.yaml")
    tiny["variational_limits"] = dict(TINY, seeds=[0], transforms=["cubic"], smile_taus=[5.0, float("inf")])
    (work / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    _snakemake("variational_limits", "--cores", "2", "--configfile", "tiny.yaml", cwd=work)
    estimates = pd.read_csv(work / "results/experiments/variational_limits/estimates.csv")
    assert set(COLUMNS) <= set(estimates.columns)
    assert set(estimates["method"]) == {"mine", "nwj", "infonce", "smile_tau5", "smile_tauinf"}
    assert len(estimates) == 5 * 2 * 12 and np.isfinite(estimates["estimate_nats"]).all()
    claims = pd.read_csv(work / "results/experiments/variational_limits/claims.csv")
    assert list(claims.columns) == CLAIM_COLUMNS and len(claims) == 4
    assert (work / "results/figures/variational_limits/staircase.png").stat().st_size > 10_000

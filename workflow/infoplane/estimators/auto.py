"""``method="auto"``: choose an estimator from the data alone, give an interval that covers its bias
as far as a check can see it, and record why.

No single estimator is right on most known-MI families (Czyz et al. 2023), and the ones that look
best on full-rank data (Gaussian and t copulas) break on the data infoplane exists for: network
layers and images, many coordinates near a curved manifold of few dimensions. The rules:

1. Marginals: the copula step (:mod:`.prepare`) always; constant columns (dead units) and exact
   copies of a column are dropped (an injective map of the rows: I is kept); a side that is constant
   everywhere is refused.
2. Class labels as y: the mixed kNN estimator of Ross (2014), with the reliability protocol.
3. Ties: discrete-valued columns (fewer distinct values than n / 5) or repeated rows get a little
   tie-breaking noise: zero distances make neighbour counts meaningless.
4. Geometry, in more than ``LOW_DIMS`` dimensions (:mod:`.geometry`): a side lies *near a manifold*
   when its rank is below its column count, its TwoNN intrinsic dimension is below
   ``MANIFOLD_ID_RATIO`` x what a full-rank Gaussian of the same size gives, or the correlation of
   its normal scores has an eigenvalue below ``MIN_CORRELATION_EIGENVALUE``. There a Gaussian or
   t copula (full-dimensional models that invert that correlation) is never a candidate: KSG with
   Euclidean marginal norms is the only one (neighbour counts see the manifold's dimension).
5. Otherwise: tail dependence (a t copula fitted to the ranks beats the Gaussian copula by the
   likelihood-ratio statistic ``TAIL_STATISTIC``, the 1% level on the boundary; up to
   ``TCOPULA_MAX_DIMS`` dimensions): the larger of KSG and the t copula; few dimensions (at most
   ``LOW_DIMS``): KSG; more: the larger of KSG and the bias-corrected Gaussian copula. Each of the
   pair errs low where it errs (KSG in many dimensions and under heavy tails; a copula model on
   dependence it cannot express), so the larger is taken, and rule 4 keeps a blown-up copula out.
6. KSG chosen (continuous y, n >= ``PROTOCOL_MIN_N``): :func:`.ksg_rates.ksg_over_rates`. KSG on
   chunks of n / gamma rows, extrapolated to infinite data with the bias falling like N^-1 (the
   protocol of Abdelaleem et al. 2025), N^-2/d (kNN bias for smooth densities, d the summed TwoNN
   dimensions) and N^-1/d (densities with edges): the estimate is the N^-2/d intercept, the
   interval the union of the three fits' intervals and of the sampling interval around k = 1, 3, 10.
   ``reliable`` is False when the three intercepts or the three k spread by more than 20% of the
   estimate (0.05 bit, or the sampling error, at least): the bias is then large and its size depends
   on how it decays. Heavy tails (excess kurtosis > ``HEAVY_TAILS``) in more than 2 dimensions also
   set it False: KSG misses 20-45% of such MI on the suite and no interval shows it.
7. Gaussian copula chosen: its interval is the protocol's, with the exact finite-sample bias removed
   in every chunk (:mod:`.gaussian`). It is checked against KSG on the leading canonical pairs
   (:mod:`.copula_check`): a Gaussian's MI is a lower bound for Gaussian marginals, so KSG above the
   Gaussian formula there (beyond twice the sampling error) is dependence the model misses; the
   interval is then widened above by twice that excess and ``reliable`` set False. Passing means
   more than not rejecting: the excess's upper bound (+2 se) must lie below a tolerance
   (``MODEL_TOLERANCE_BITS``, or ``MODEL_TOLERANCE`` of the pairs' Gaussian MI), else the interval
   is widened above by that bound and ``reliable`` is False (an equivalence test: a check too noisy
   to see a misfit does not vouch for the model). A passing check still widens the interval above by
   that bound: the misfit it allows is the model's possible bias, which no sampling interval holds.
   Before the check, the copula step's own bias (normal scores pull strong correlations in: 0.1 bit
   low at 9 bits in 3+3 dimensions) is measured by a parametric bootstrap of the fitted Gaussian
   copula (:mod:`.normal_score_bias`), and the interval widened towards the truth by it.
8. t copula chosen: the protocol's interval widened to the parametric bootstrap of the fit
   (``T_RESAMPLES`` samples; the protocol understates the fit's spread about twofold), then the
   same canonical-pair check on the fit's own canonical pairs, where a t copula's MI is closed
   form (:func:`.copula_check.t_canonical_pair_excess`): a spiral's radius-dependent rotation is
   tail-free enough for the likelihood ratio to prefer a t, yet no t copula expresses it (seen on
   10+10 and 5+5 spirals: the t copula at half the truth, which was reported reliable).

What the interval covers: the chosen estimator's sampling error (the protocol's, with the part its
chunk means share) and the systematic error of its extrapolation; for KSG also its bias as far as
it follows a power law in N with a rate between 1/d and 1 and as far as it moves with k; for a
copula, the model's misfit as far as the canonical-pair checks bound it (above only: a copula that
misfits errs low), nothing beyond that. ``reliable:
True`` means every check that applies passed, so the interval is trusted as given; ``False``
carries the reason. The benchmarks (``snakemake results/experiments/estimators/benchmark.csv`` and
``.../manifold_benchmark.csv``) measure both: solved, coverage and *false reliable* per family.

The result's ``params`` name the chosen method and its settings; ``diagnostics`` hold the data
summary (n, dimensions, discreteness, tail index, geometry, the t-copula fit), every candidate's
value, the fits and the reasons.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from .base import NATS_TO_BITS, MIEstimate, is_labels, register
from .copula_check import canonical_pair_excess, t_canonical_pair_excess
from .geometry import (
    drop_degenerate_columns,
    full_dimensional_reference,
    intrinsic_dimension,
    numerical_rank,
    smallest_eigenvalue_below,
)
from .ksg_rates import ksg_over_rates
from .normal_score_bias import normal_score_bias
from .tcopula import fit_t_copula, parametric_interval

LOW_DIMS = 4
PROTOCOL_MIN_N = 200
K_SPREAD = (1, 10)  # KSG is re-run at these k to see its bias
MAX_K_SPREAD = 0.2
TCOPULA_MIN_N = 100  # below this the t copula is not fitted (nu is poorly determined)
T_RESAMPLES = 20  # parametric-bootstrap samples for the t copula's interval
TAIL_STATISTIC = 5.41  # 1% level of the likelihood ratio for nu = inf on the boundary (1/2 chi2_0 + 1/2 chi2_1)
CHECK_MIN_N = 400  # the canonical-pair check of the Gaussian copula needs this many rows
MIN_EXCESS_BITS = 0.02  # and flags an excess of KSG over the Gaussian formula above this (and 2 se)
CHECK_RESAMPLES = 20  # half-samples for the check's standard error
SCORE_BIAS_RESAMPLES = 10  # parametric-bootstrap samples for the copula step's bias (Gaussian copula)
# ... and calls the copula reliable only if the excess's upper bound (+2 se) is below this tolerance:
MODEL_TOLERANCE_BITS = 0.05  # bits, or
MODEL_TOLERANCE = 0.05  # of the Gaussian MI on the pairs, whichever is larger
HEAVY_TAILS = 10.0  # excess kurtosis above which the tails count as heavy (Student-t with <= ~4.6 dof)
TCOPULA_MAX_DIMS = 100  # above this the t copula is not fitted (Kendall's tau over every pair: minutes to hours)
MANIFOLD_ID_RATIO = 0.5  # a side whose TwoNN dimension is below this x a full-rank Gaussian's lies near a manifold
MIN_CORRELATION_EIGENVALUE = 1e-3  # a normal-score correlation with a smaller eigenvalue is near-singular


def _excess_kurtosis(a: torch.Tensor) -> float:
    a = a - a.mean(0)
    var = (a * a).mean(0).clamp(min=1e-300)
    return float(((a**4).mean(0) / var**2 - 3.0).max())


def describe(x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """What auto looks at: n, dimensions, label/discrete columns, the largest excess kurtosis."""
    n = x.shape[0]
    floats = [t for t in (x, y) if not is_labels(t)]
    unique = min(int(torch.unique(t[:, j]).numel()) for t in floats for j in range(t.shape[1]))
    joint = torch.cat([t if t.ndim == 2 else t[:, None].to(x.dtype) for t in (x, y)], dim=1)
    duplicate_rows = n - int(torch.unique(joint, dim=0).shape[0])
    return {
        "n": n,
        "dim_x": int(x.shape[1]),
        "dim_y": 1 if is_labels(y) else int(y.shape[1]),
        "labels": is_labels(y),
        "min_distinct_values": unique,
        "discrete": unique < n / 5,
        "duplicate_rows": duplicate_rows,
        "max_excess_kurtosis": max(_excess_kurtosis(t) for t in floats),
    }


def side_geometry(a: torch.Tensor, copula: torch.Tensor, seed: int = 0) -> dict[str, Any]:
    """Numerical rank, TwoNN dimension (and a full-rank Gaussian's at this size), whether the normal-score
    correlation has an eigenvalue below ``MIN_CORRELATION_EIGENVALUE``, and whether the side lies near a
    manifold; a: raw (n, d), copula: its normal scores."""
    d = int(a.shape[1])
    rank = numerical_rank(a)
    ident = min(intrinsic_dimension(a, seed=seed), float(d))
    reference = full_dimensional_reference(a.shape[0], min(d, rank))
    c = copula - copula.mean(dim=0)
    norms = (c * c).sum(dim=0).clamp(min=1e-300).sqrt()
    singular = smallest_eigenvalue_below((c.T @ c) / norms.outer(norms), MIN_CORRELATION_EIGENVALUE)
    manifold = rank < d or ident < MANIFOLD_ID_RATIO * reference or singular
    return {"columns": d, "numerical_rank": rank, "intrinsic_dim": ident, "full_rank_gaussian_dim": reference,
            "near_singular_correlation": singular, "manifold": bool(manifold)}  # fmt: skip


def choose(x: torch.Tensor, y: torch.Tensor, k: int = 3) -> tuple[list[tuple[str, dict]], dict[str, Any], list[str]]:
    """Candidates [(method, params)], the data summary, and the reasons; x, y are raw (not yet copula)."""
    info = describe(x, y)
    why = ["copula marginals: MI is invariant to them, and they tame tails and curved marginals"]
    if info["max_excess_kurtosis"] > 3:
        why.append(f"heavy tails seen (excess kurtosis up to {info['max_excess_kurtosis']:.1f})")
    knn = {"k": k, "standardize": True}
    if info["labels"]:
        return [("ksg", knn)], info, [*why, "y holds class labels: the mixed kNN estimator (Ross 2014)"]
    if info["discrete"]:
        why.append(f"discrete-valued columns ({info['min_distinct_values']} distinct values): tie-breaking noise")
        knn = {**knn, "noise": 1e-3}
    if info["duplicate_rows"] and not info["discrete"]:
        why.append(f"{info['duplicate_rows']} duplicated rows: tie-breaking noise (zero distances break kNN counts)")
        knn = {**knn, "noise": 1e-3}
    dims = info["dim_x"] + info["dim_y"]
    if dims > LOW_DIMS:
        from .prepare import prepare_marginals

        sides = {"x": x, "y": y} if not info["labels"] else {"x": x}
        geometry = {s: side_geometry(a, prepare_marginals(a, "copula")) for s, a in sides.items()}
        info["geometry"] = geometry
        info["intrinsic_dim"] = sum(g["intrinsic_dim"] for g in geometry.values())
        flat = [s for s, g in geometry.items() if g["manifold"]]
        if flat:
            described = "; ".join(
                f"{s}: {g['columns']} columns, rank {g['numerical_rank']}, "
                f"intrinsic dimension {g['intrinsic_dim']:.1f} "
                f"(a full-rank Gaussian gives {g['full_rank_gaussian_dim']:.1f}), normal-score correlation "
                f"{'near-singular' if g['near_singular_correlation'] else 'well conditioned'}"
                for s, g in geometry.items()
            )
            info["manifold"] = True
            return [("ksg", {**knn, "metric": "euclidean"})], info, [
                *why,
                f"{' and '.join(flat)} near a low-dimensional manifold ({described}): a Gaussian or t copula is "
                "full-dimensional and would invert a near-singular correlation, so neither is a candidate",
                "KSG with Euclidean marginal norms on the normal scores (neighbour counts see the manifold's "
                "dimension, not the coordinates'; the max-norm over many coordinates ties on rectified units)",
            ]
    tails = False
    if dims > TCOPULA_MAX_DIMS:
        why.append(f"{dims} dimensions: the t copula is not fitted (above {TCOPULA_MAX_DIMS}: Kendall's tau over "
                   "every pair of coordinates takes too long)")  # fmt: skip
    elif not info["discrete"] and info["n"] >= TCOPULA_MIN_N:
        fit = fit_t_copula(torch.cat([x, y], dim=1).cpu().numpy(), info["dim_x"])
        info["_tcopula_fit"] = fit  # for the interval; not a diagnostic
        info.update(tcopula_dof=fit.dof, tcopula_tail_statistic=fit.tail_statistic,
                    tcopula_bits=fit.mi_nats * NATS_TO_BITS)  # fmt: skip
        tails = fit.tail_statistic > TAIL_STATISTIC
        why.append(
            f"t copula fitted to the ranks: nu = {fit.dof:.3g}, likelihood ratio against the Gaussian copula "
            f"{fit.tail_statistic:.1f} ({'above' if tails else 'not above'} {TAIL_STATISTIC}: "
            f"{'tail dependence' if tails else 'no tail dependence shown'})"
        )
    if dims <= LOW_DIMS and not tails:
        return [("ksg", knn)], info, [*why, f"{dims} dimensions in all: KSG is nearly unbiased here"]
    if tails:
        why.append(
            "tail dependence: KSG is biased low under heavy tails even on copula scores, so the larger of KSG "
            "and the t-copula estimate"
        )
        return [("ksg", knn), ("tcopula", {})], info, why
    why.append(f"{dims} dimensions: KSG biased low, so the larger of KSG and the Gaussian-copula estimate")
    return [("ksg", knn), ("gaussian", {"bias_correction": True})], info, why


def _model_check(check, model, name, r, high, reliable, why):
    """Apply a canonical-pair check (:mod:`.copula_check`) to a copula model's result: (high, reliable, reason).

    An excess of KSG over the model's MI on the pairs beyond twice its se (and ``MIN_EXCESS_BITS``) rejects
    the model: the interval is widened above by twice the excess. Passing needs more than not rejecting:
    the excess's upper bound (+2 se) must lie below max(``MODEL_TOLERANCE_BITS``, ``MODEL_TOLERANCE`` x
    the model's pair MI), else the interval is widened above by that bound (an equivalence test: a check
    too noisy to see a misfit does not vouch for the model). When it passes the interval is still widened
    above by that bound (the misfit the data allow). reason is None when the check passes.
    """
    excess, se = check["excess_bits"], check["se_bits"]
    excess_bound = excess + 2 * se  # the excess the data cannot rule out
    tolerance = max(MODEL_TOLERANCE_BITS, MODEL_TOLERANCE * check["gaussian_bits"])
    prior = [r.diagnostics["reason"]] if r.reliable is False and r.diagnostics.get("reason") else []
    if excess > max(2 * se, MIN_EXCESS_BITS):
        high = max(high, r.mi_bits + excess) + excess if high is not None else high
        why.append("interval widened above by twice the canonical pairs' excess over the model")
        reason = (
            f"on the leading canonical pairs KSG finds {check['ksg_bits']:.3f} bits where {model} has "
            f"{check['gaussian_bits']:.3f} (+{excess:.3f}, se {se:.3f}): the dependence is not "
            f"{'Gaussian' if name == 'Gaussian copula' else 'that of a ' + name}, and the {name} estimate misses "
            "at least that much"
        )
        return high, False, "; ".join([*prior, reason])
    if excess_bound > tolerance:
        # Not rejected, but not shown either. Seen on the 25+25 spirals of Czyz et al.: an excess of
        # 0.03-0.07 bit on the pairs at a se of 0.02, while the Gaussian copula misses 0.1-0.3 bit.
        high = high + excess_bound if high is not None else high
        why.append("interval widened above by the excess the canonical-pair check cannot rule out")
        reason = (
            f"the canonical-pair check cannot rule out {excess_bound:.3f} bits of dependence {model} misses "
            f"(excess {excess:+.3f}, se {se:.3f}; tolerance {tolerance:.3f}): the {name} is not shown to hold"
        )
        return high, False, "; ".join([*prior, reason])
    # Passed: the model holds within the tolerance, and the interval still covers the misfit the check
    # allows (a bias of the model's, not sampling error: the protocol's interval does not contain it).
    if excess_bound > 0:
        high = high + excess_bound if high is not None else high
        why.append(f"interval widened above by {excess_bound:.3f} bits, the misfit the canonical-pair check allows")
    return high, reliable, None


def estimate_auto(
    estimate, xt, yt, *, start, device, ci, ci_level, seed, marginals, protocol, protocol_max_gamma, k: int = 3
) -> MIEstimate:
    """The ``method="auto"`` branch of :func:`infoplane.estimators.estimate` (x, y already tensors)."""
    # Constant columns (dead units) and exact copies of a column carry nothing: dropping them keeps I(X;Y).
    dropped = {}
    for side in ("x", "y"):
        a = xt if side == "x" else yt
        if is_labels(a):
            continue
        if bool((a == a[:1]).all()):
            # A constant variable shares nothing: I(X;Y) = 0 exactly (a dead layer, say); said, not estimated.
            reason = f"every column of {side} is constant over the {a.shape[0]} rows: I(X;Y) = 0 exactly"
            return MIEstimate(0.0, 0.0, 0.0, int(a.shape[0]), time.perf_counter() - start, "auto",
                              {"chosen": "constant", "seed": seed, "k": k, "ci_level": ci_level}, True,
                              {"chosen": "constant", "reason": reason, "why": [reason]})  # fmt: skip
        reduced, counts = drop_degenerate_columns(a)
        if reduced.shape[1] < a.shape[1]:
            dropped[side] = counts
        xt, yt = (reduced, yt) if side == "x" else (xt, reduced)
    candidates, info, why = choose(xt, yt, k=k)
    if dropped:
        info["dropped_columns"] = dropped
        why.insert(
            1,
            "dropped constant and duplicated columns (keeps I): "
            + ", ".join(
                f"{s}: {c['constant_columns']} constant, {c['duplicate_columns']} copies" for s, c in dropped.items()
            ),
        )
    fit = info.pop("_tcopula_fit", None)
    from .prepare import prepare_marginals

    xc, yc = prepare_marginals(xt, "copula"), prepare_marginals(yt, "copula")
    fitted = {"tcopula": info.get("tcopula_bits")}  # fitted in choose()
    values = {
        m: fitted[m] if m in fitted else estimate(m, xc, yc, device=device, ci=False, seed=seed, **p).mi_bits
        for m, p in candidates
    }
    method, params = max(candidates, key=lambda c: values[c[0]])
    if len(candidates) > 1:
        why.append(f"chose {method}: " + ", ".join(f"{m} {v:.3f} bits" for m, v in values.items()))
    if method == "ksg" and not info["labels"] and info["n"] >= PROTOCOL_MIN_N:
        return _ksg_rates_result(xc, yc, params, info, why, values, start=start, seed=seed, ci_level=ci_level, k=k)
    # The protocol's smallest chunks must stay well above the dimension (the Gaussian estimator needs n > d + 1).
    max_gamma = min(protocol_max_gamma, info["n"] // max(PROTOCOL_MIN_N // 10, 5 * (info["dim_x"] + info["dim_y"])))
    use_protocol = protocol or (info["n"] >= PROTOCOL_MIN_N and max_gamma >= 4)
    protocol_max_gamma = max_gamma if not protocol else protocol_max_gamma
    r = estimate(
        method,
        xc,
        yc,
        device=device,
        ci=ci or use_protocol,
        ci_level=ci_level,
        seed=seed,
        protocol=use_protocol,
        protocol_max_gamma=protocol_max_gamma,
        **params,
    )
    why.append("interval: the reliability protocol's intercept" if use_protocol else "interval: subsampling")
    low, high, reliable, extra = r.ci_low_bits, r.ci_high_bits, r.reliable, {}
    if method == "gaussian" and high is not None:
        # The copula step's own bias (ranks pull strong correlations in; :mod:`.normal_score_bias`): the
        # protocol cannot see it, so the interval is widened towards the truth by it where it is detectable.
        nsb = normal_score_bias(xc, yc, n_resamples=SCORE_BIAS_RESAMPLES, seed=seed)
        extra["normal_score_bias"] = nsb
        if abs(nsb["bias_bits"]) > 2 * nsb["se_bits"]:
            width = abs(nsb["bias_bits"]) + 2 * nsb["se_bits"]
            low, high = (low, high + width) if nsb["bias_bits"] < 0 else (low - width, high)
            why.append(f"interval widened {'above' if nsb['bias_bits'] < 0 else 'below'} by {width:.3f} bits: the "
                       "copula step's bias, by a parametric bootstrap of the fitted Gaussian copula")  # fmt: skip
    if method == "gaussian" and info["n"] >= CHECK_MIN_N:
        # A Gaussian copula's MI is a lower bound when the dependence is not Gaussian: compare KSG with the
        # Gaussian formula where the model puts most of the MI (:mod:`.copula_check`).
        check = canonical_pair_excess(
            xc, yc, pairs=min(2, info["dim_x"], info["dim_y"]), n_resamples=CHECK_RESAMPLES, seed=seed
        )
        extra["canonical_pair_check"] = check
        high, reliable, reason = _model_check(check, "a Gaussian", "Gaussian copula", r, high, reliable, why)
        if reason:
            extra["reason"] = reason
    if method == "ksg" and info["n"] > 2 * K_SPREAD[-1]:
        # The kNN bias depends on k; the spread of the estimates over k is bias the protocol cannot see
        # (heavy tails, strong curvature). The interval takes them in, and a large spread flags the result.
        by_k = {kk: estimate("ksg", xc, yc, device=device, ci=False, seed=seed, **{**params, "k": kk}).mi_bits
                for kk in K_SPREAD}  # fmt: skip
        # The union of the protocol's interval placed at each k's estimate: the bias lies somewhere over
        # the range of k, and the sampling error applies wherever it lies.
        low = min(low, min(by_k.values()) - (r.mi_bits - low))
        high = max(high, max(by_k.values()) + (high - r.mi_bits))
        spread = max(by_k.values()) - min(by_k.values())
        extra = {"ksg_by_k_bits": by_k, "ksg_k_spread_bits": spread}
        why.append(
            f"interval widened to the protocol's around the KSG estimates at k = {list(K_SPREAD)} "
            "(bias the protocol cannot see)"
        )
        if spread > MAX_K_SPREAD * max(abs(r.mi_bits), 0.05):
            reliable = False
            extra["reason"] = "; ".join(
                [*([r.diagnostics["reason"]] if r.reliable is False else []),
                 f"KSG moves by {spread:.3f} bits between k = {K_SPREAD[0]} and {K_SPREAD[-1]} (more than "
                 f"{MAX_K_SPREAD:.0%} of the estimate): its bias is large here"]
            )  # fmt: skip
    if method == "tcopula" and ci:
        # The protocol's interval understates the fit's spread over samples about twofold (its chunks
        # and subsamples agree more than independent samples do); the parametric bootstrap does not.
        pb_low, pb_high, _ = parametric_interval(fit, info["n"], n_resamples=T_RESAMPLES, level=ci_level, seed=seed)
        low, high = min(low, pb_low) if low is not None else pb_low, max(high, pb_high) if high is not None else pb_high
        extra["tcopula_parametric_interval_bits"] = (pb_low, pb_high)
        why.append(f"interval widened to the parametric bootstrap of the t copula ({T_RESAMPLES} samples)")
    if method == "tcopula" and info["n"] >= CHECK_MIN_N:
        # The same check for the t copula, on the fit's own canonical pairs where its MI is closed form.
        check = t_canonical_pair_excess(
            xc, yc, fit, pairs=min(2, info["dim_x"], info["dim_y"]), n_resamples=CHECK_RESAMPLES, seed=seed
        )
        extra["canonical_pair_check"] = check
        high, reliable, reason = _model_check(check, f"a t (nu = {fit.dof:.3g})", "t copula", r, high, reliable, why)
        if reason:
            extra["reason"] = reason
    dims = info["dim_x"] + info["dim_y"]
    if method == "ksg" and info["max_excess_kurtosis"] > HEAVY_TAILS and dims > 2:
        # Measured on the suite: KSG misses 20-45% of the MI of Student-t pairs (1-3 dof) in 2+2 to 5+5
        # dimensions even after the copula step, and neither the protocol nor the spread over k shows it.
        prior = extra.get("reason") or (r.diagnostics.get("reason") if reliable is False else None)
        reliable = False
        tails = (
            f"heavy tails (excess kurtosis {info['max_excess_kurtosis']:.0f}) in {dims} dimensions: "
            "kNN estimates are biased low here by more than their interval shows"
        )
        extra["reason"] = "; ".join([*([prior] if prior else []), tails])
    diagnostics = {**info, "chosen": method, "candidates_bits": values, "why": why, **r.diagnostics, **extra}
    record = {
        "chosen": method,
        "chosen_params": params,
        "marginals": "copula",
        "seed": seed,
        "k": k,
        "protocol": use_protocol,
        "ci_level": ci_level,
    }
    if "tcopula_dof" in info:
        record["tcopula_dof"] = info["tcopula_dof"]  # the fitted nu, whether or not the t copula was chosen
    return MIEstimate(
        mi_bits=r.mi_bits,
        ci_low_bits=low,
        ci_high_bits=high,
        n_samples=r.n_samples,
        seconds=time.perf_counter() - start,
        method="auto",
        params=record,
        reliable=reliable,
        diagnostics=diagnostics,
    )


def _ksg_rates_result(xc, yc, params, info, why, values, *, start, seed, ci_level, k) -> MIEstimate:
    """KSG chosen on continuous data: :func:`.ksg_rates.ksg_over_rates` on the normal scores."""
    d = info.get("intrinsic_dim") or sum(min(intrinsic_dimension(a, seed=seed), float(a.shape[1])) for a in (xc, yc))
    info["intrinsic_dim"] = d
    metric = params.get("metric", "chebyshev")
    if metric == "euclidean":
        # The joint distance is the larger of the two sides': a Euclidean norm grows like sqrt(d), so a
        # 128-unit layer would decide every neighbourhood against 4 input codes (KSG then gives ~0). Per-
        # coordinate RMS norms keep the sides comparable; scaling a side keeps I.
        xc, yc = xc / xc.shape[1] ** 0.5, yc / yc.shape[1] ** 0.5
    r = ksg_over_rates(xc, yc, intrinsic_dim=d, k=params["k"], noise=params.get("noise", 0.0), metric=metric,
                       level=ci_level, seed=seed)  # fmt: skip
    why.append(
        f"KSG ({metric} marginal norms) on chunks of n / gamma rows, extrapolated to infinite data with its bias "
        f"falling like N^-1, N^-2/d and N^-1/d (d = {d:.1f}, TwoNN): the estimate is the N^-2/d one, the interval the "
        "union of the three and of k = 1, 3, 10 (sampling error, and KSG's bias as far as it follows a power law in N)"
    )
    reliable, reason = r["reliable"], r["reason"]
    dims = info["dim_x"] + info["dim_y"]
    if info["max_excess_kurtosis"] > HEAVY_TAILS and dims > 2:
        # Measured on the suite: KSG misses 20-45% of the MI of Student-t pairs (1-3 dof) in 2+2 to 5+5
        # dimensions even after the copula step, and neither the protocol nor the spread over k shows it.
        reliable = False
        tails = (
            f"heavy tails (excess kurtosis {info['max_excess_kurtosis']:.0f}) in {dims} dimensions: "
            "kNN estimates are biased low here by more than their interval shows"
        )
        reason = tails if r["reliable"] else f"{reason}; {tails}"
    extra = {key: r[key] for key in ("intercepts_bits", "rates", "ksg_by_k_bits", "chunk_means_bits", "gammas")}
    diagnostics = {**info, "chosen": "ksg", "candidates_bits": values, "why": why, "reason": reason, **extra}
    record = {"chosen": "ksg", "chosen_params": {**params, "metric": metric, "extrapolation": "rates 1, 2/d, 1/d"},
              "marginals": "copula", "seed": seed, "k": k, "protocol": True, "ci_level": ci_level}  # fmt: skip
    if "tcopula_dof" in info:
        record["tcopula_dof"] = info["tcopula_dof"]
    return MIEstimate(
        mi_bits=r["mi_bits"],
        ci_low_bits=r["ci_low_bits"],
        ci_high_bits=r["ci_high_bits"],
        n_samples=int(xc.shape[0]),
        seconds=time.perf_counter() - start,
        method="auto",
        params=record,
        reliable=reliable,
        diagnostics=diagnostics,
    )


@register("auto", ci="none", labels_ok=True)
def auto_mi_bits(x: torch.Tensor, y: torch.Tensor, k: int = 3, seed: int = 0) -> float:
    """``method="auto"`` as a plain function (point estimate only): see the module docstring.

    :func:`infoplane.estimators.estimate` handles ``"auto"`` itself, recording the choice.
    """
    from . import estimate

    return estimate("auto", x, y, ci=False, seed=seed, k=k, protocol=False).mi_bits

"""KSG on data near a low-dimensional manifold, with an interval that covers its bias.

Why KSG: its estimate, psi(k) + psi(N) - <psi(n_x + 1) + psi(n_y + 1)>, uses neighbour counts only,
never the ambient dimension. On a smooth d-dimensional manifold a small ball of any norm meets the
manifold in a set of volume c eps^d, and the joint ball of KSG (the larger of the two marginal
distances) is the product of the marginal ones, so the constants cancel as in d dimensions: KSG on
500 tanh units driven by a 2-d source behaves as KSG on the source (measured on
:mod:`infoplane.tasks.manifold`: within 0.05 bit of KSG on the source itself at 1-6 bits). The
marginal norm is Euclidean: the max-norm over hundreds of coordinates is dominated by the one
coordinate that moves most, and it ties on duplicated and rectified units.

Why it still errs: KSG is biased low when the dependence is strong in several intrinsic dimensions
(4+4 dims at 4 bits: 3.5 bits at n = 5000, on the source as on its embedding), and the bias falls
slowly with n. The leading bias of kNN estimators in d dimensions is of order N^(-2/d) for smooth
densities bounded away from zero (Berrett, Samworth & Yuan 2019), and of order N^(-1/d) where the
density has edges (uniform sources, seams, images). The reliability protocol of Abdelaleem et al.
(2025, :mod:`.protocol`) extrapolates in 1/N, which suits plug-in estimators, not this.

What is done: KSG on disjoint chunks of n / gamma rows (gamma = 1..10), once; the chunk means are
extrapolated to infinite data with the bias taken to fall like N^-r for three rates:
r = 1 (the protocol's), r = 2/d (smooth densities) and r = 1/d (densities with edges), with d the
sum of the two sides' intrinsic dimensions (TwoNN, :mod:`.geometry`), since the joint term's bias
is the slowest. The estimate is the r = 2/d intercept. The interval is the union of the three
fits' intervals (each: sampling error of the intercept with the chunks' shared error, and half of
its extrapolation as systematic error, :func:`.protocol.fit_chunks`), and of the protocol's
sampling interval placed at the full-data KSG estimates for k = 1 and 10 (KSG's bias moves with k).

What it covers: sampling error and the part of KSG's bias that follows a power law in N with a
rate between 1/d and 1, with d the estimated intrinsic dimension. Not: a bias that does not fall
with n at these sizes (a TwoNN estimate far below the truth; a metric that saturates, such as
pixel distances between images that do not overlap), nor the loss of information of a map that is
not injective. ``reliable`` is True only when the three extrapolations and the k = 1, 3, 10
estimates agree to within ``MAX_SPREAD`` of the estimate (or 0.05 bit) and the r = 2/d fit
passes the protocol's checks: the interval is then narrow because the bias is small, not because
it was assumed away.
"""

from __future__ import annotations

from typing import Any

import torch

from .knn import ksg_mi_bits
from .protocol import chunk_estimates, fit_chunks

K_SPREAD = (1, 10)
MAX_SPREAD = 0.2  # the extrapolations and the k = 1, 3, 10 estimates may spread this much of the estimate
MIN_SPREAD_BITS = 0.05


def ksg_over_rates(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    intrinsic_dim: float,
    k: int = 3,
    noise: float = 0.0,
    metric: str = "euclidean",
    max_gamma: int = 10,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """KSG with the rate-aware extrapolation; x: (n, dx), y: (n, dy) already on copula scores.

    intrinsic_dim: the joint's intrinsic dimension (the two sides' summed); metric: the marginal norm
    (Euclidean near manifolds, see the module docstring; auto keeps the max-norm on full-dimensional
    data, where KSG was validated with it). Returns a dict:
    mi_bits, ci_low_bits, ci_high_bits, reliable, reason, and the fits' diagnostics.
    """
    d = max(float(intrinsic_dim), 1.0)
    params = {"k": k, "metric": metric, "standardize": False, "noise": noise, "seed": seed}

    def ksg(a, b, kk=k):
        return ksg_mi_bits(a, b, **{**params, "k": kk})

    values = chunk_estimates(ksg, x, y, max_gamma=max_gamma, seed=seed)
    rates = {"1": 1.0, "2/d": min(1.0, 2.0 / d), "1/d": min(1.0, 1.0 / d)}
    fits = {name: fit_chunks(values, level=level, rate=r) for name, r in rates.items()}
    mi, low0, high0, fit_ok, main = fits["2/d"]
    intercepts = {name: f[0] for name, f in fits.items()}
    low = min(f[1] for f in fits.values())
    high = max(f[2] for f in fits.values())
    full = float(main["full_data_bits"])
    by_k = {kk: ksg(x, y, kk) for kk in K_SPREAD}
    by_k[k] = full
    # The sampling error applies wherever KSG's k-dependent bias puts it: the rate-1 fit's half-width
    # (the least extrapolated) around each k's full-data estimate.
    half = 0.5 * (fits["1"][2] - fits["1"][1])
    low, high = min(low, min(by_k.values()) - half), max(high, max(by_k.values()) + half)
    # A spread counts as bias only beyond the sampling error (the rate-1 fit's 95% half-width).
    scale = max(MAX_SPREAD * abs(mi), MIN_SPREAD_BITS, half)
    rate_spread = max(intercepts.values()) - min(intercepts.values())
    k_spread = max(by_k.values()) - min(by_k.values())
    reasons = []
    if not fit_ok:
        reasons.append(main["reason"])
    if rate_spread > scale:
        reasons.append(
            f"the extrapolations to infinite data at bias rates N^-1, N^-2/d and N^-1/d (d = {d:.1f}) spread "
            f"{rate_spread:.3f} bits ({', '.join(f'{n}: {v:.3f}' for n, v in intercepts.items())}): KSG's bias here "
            "is large and its size depends on how it decays"
        )
    if k_spread > scale:
        reasons.append(f"KSG moves by {k_spread:.3f} bits between k = 1 and 10: its bias is large here")
    return {
        "mi_bits": mi,
        "ci_low_bits": low,
        "ci_high_bits": high,
        "reliable": not reasons,
        "reason": "; ".join(reasons) if reasons else "rates and k agree: KSG's bias is small here",
        "intercepts_bits": intercepts,
        "rates": rates,
        "ksg_by_k_bits": {int(kk): float(v) for kk, v in sorted(by_k.items())},
        "chunk_means_bits": main["chunk_means_bits"],
        "gammas": main["gammas"],
        "full_data_bits": full,
        "fit_2_over_d": {key: main[key] for key in ("intercept_se_bits", "correction_bits", "reduced_chi2")},
    }


__all__ = ["ksg_over_rates"]

"""infoplane.measures: measures of representations other than Shannon mutual information.

Each module is one idea from one paper, works on torch tensors on any device, and knows nothing
of Snakemake:

- :mod:`.diffusion_entropy`: diffusion spectral entropy and mutual information, DSE and DSMI
  (Liao et al. 2023), in bits of the eigenvalue spectrum of a diffusion operator.
- :mod:`.condition_number`: condition numbers of weight matrices and of activation covariances.
- :mod:`.cauchy_schwarz`: the Cauchy-Schwarz quadratic mutual information, CS-QMI, with Gaussian
  kernels (Yu et al. 2024), in bits.
- :mod:`.wasserstein_dependency`: the Wasserstein dependency measure of a Lipschitz critic
  (Ozair et al. 2019), in units of the standardised data (not bits).

DSMI and CS-QMI are also registered as estimator methods (``dsmi``, ``cs_qmi``), so that a preset can
put them on the information plane; see each module for what the number means.
"""

from __future__ import annotations

from .cauchy_schwarz import cs_qmi_bits, gaussian_cs_qmi_nats
from .condition_number import activation_condition_number, condition_number, weight_condition_number
from .diffusion_entropy import diffusion_spectral_entropy_bits, diffusion_spectral_mi_bits
from .wasserstein_dependency import wasserstein_dependency

__all__ = [
    "activation_condition_number",
    "condition_number",
    "cs_qmi_bits",
    "diffusion_spectral_entropy_bits",
    "diffusion_spectral_mi_bits",
    "gaussian_cs_qmi_nats",
    "wasserstein_dependency",
    "weight_condition_number",
]

"""infoplane: the information-theoretic study of neural networks.

Subpackages, one idea each: ``data`` (datasets), ``models`` (architectures), ``training``
(the training loop and capture schedule), ``extraction`` (replaying weights into activations),
``estimators`` (mutual information), ``analysis`` (MI tables of runs and experiments),
``claims`` (machine-checked statements of papers), ``figures``, ``io`` (Zarr and CSV helpers),
and ``config`` (loading and validating the workflow config). None of them imports Snakemake.
"""

__version__ = "0.1.0"

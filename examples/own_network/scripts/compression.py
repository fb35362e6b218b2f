"""How much each layer compressed: I(X;T) at its peak minus at the last captured epoch, in bits."""

import pandas as pd

mi = pd.read_csv(snakemake.input[0])  # noqa: F821
ixt = mi[mi["quantity"] == "I_XT"].sort_values("epoch")
rows = []
for (run, layer), path in ixt.groupby(["run", "layer"]):
    rows.append(
        {
            "run": run,
            "layer": layer,
            "peak_I_XT_bits": path["mi_bits"].max(),
            "last_I_XT_bits": path["mi_bits"].iloc[-1],
            "compression_bits": path["mi_bits"].max() - path["mi_bits"].iloc[-1],
        }
    )
pd.DataFrame(rows).to_csv(snakemake.output[0], index=False)  # noqa: F821

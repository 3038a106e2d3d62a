# %% [markdown]
# # Tutorial: the VAE on the 8x8 digits
#
# A variational autoencoder, z ~ N(0, I), x ~ p(x | decoder(z)), trained with SVI on
# scikit-learn's digits (embedded, no download). We read the generative story as a
# graph, train for a few seconds, evaluate the likelihood bound, sweep the latents and
# measure how much each one carries.
#
# Run it with `python docs/tutorials/vae.py [OUT]` (OUT: where the files go, default a
# temporary directory). About 10 seconds on one CPU thread. The test suite runs it
# (`tests/test_tutorials.py`).

# %%
import json
import sys
import tempfile
from pathlib import Path

import pyro
import torch
from pyro import poutine

from pyro_vaes import api
from pyro_vaes.analysis.influence import analyse_latents, factor_ranges, traverse_factors
from pyro_vaes.analysis.mutual_information import format_nats
from pyro_vaes.config import TrainConfig
from pyro_vaes.figures import save_image_grid
from pyro_vaes.models import DataInfo, build_model

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="vae-tutorial-"))
out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The generative story
#
# Small MLP nets keep the tutorial fast (`net="mlp"`). The VAE's default likelihood is a
# Normal with one learned scale (grey levels are continuous): its log-density can exceed
# zero, so the ELBO in nats is often *positive* and the training loss (the negative
# ELBO) negative. That is not a bug; a Bernoulli likelihood (`likelihood="bernoulli"`)
# gives the familiar positive loss.

# %%
options = {"net": "mlp", "hidden_dim": 128, "latent_dim": 6}
train_config = TrainConfig(data="digits", epochs=30, batch_size=64, lr=3e-3, seed=0)
splits = api.load_splits(train_config)
model = build_model("vae", DataInfo.from_splits(splits), dict(options))
batch = api.example_batch(model, splits)
graph = pyro.render_model(model.model, model_args=model.site_args(batch),
                          render_distributions=True)
graph.render(str(out / "vae-model"), format="svg", cleanup=True)
print(poutine.trace(model.model).get_trace(*model.site_args(batch)).format_shapes())

# %% [markdown]
# The graph (`OUT/vae-model.svg`) has one plate, `data`, holding z and the observed x.

# %% [markdown]
# ## 2. Train
#
# `api.train` is what `pyro-vaes train vae` calls; it writes a run directory (checkpoint,
# config.json, experiment.toml, metrics.jsonl, figures).

# %%
run = api.train("vae", out / "run", model_options=options, train_config=train_config)
for record in run.history:
    print(f"epoch {record['epoch']}: train loss {record['train_loss']:.2f}, "
          f"validation ELBO {record['val_elbo']:.2f} nats")

# %% [markdown]
# ## 3. Evaluate
#
# The test ELBO and the importance-weighted log-likelihood bound (K samples per image).

# %%
results = api.evaluate(run, split="test", num_samples=50)
print({key: value for key, value in results.items() if isinstance(value, float)})

# %% [markdown]
# ## 4. Intervene: sweep each latent
#
# Every latent of one test image is swept between the 2% and 98% quantiles of its
# posterior means, the others held at the image's posterior mean.

# %%
analysis = analyse_latents(run.model, run.splits.test, limit=300)
factors = analysis.ranking()
x = run.splits.test.pixels(torch.arange(1))
grid = traverse_factors(run.model, x, factors, factor_ranges(analysis, factors), steps=9)
save_image_grid(grid[0].flatten(0, 1), out / "vae-traversal.png", nrow=9,
                row_labels=[f"{site}[{j}]" for site, j in factors],
                title="VAE: each latent swept, most informative first")

# %% [markdown]
# ## 5. Analyse: what each latent carries
#
# I(x; z_j), the mutual information between the image and each latent (nats), estimated
# from the posterior Gaussians; a latent near 0 nats is unused (collapsed).

# %%
rows = analysis.rows()
for row in rows:
    print(f"z[{row['dim']}]  I = {format_nats(row['mi_mixture'])} nats  active: {row['active']}")
summary = {"test_elbo": results["test_elbo"], "mutual_information": [r["mi_mixture"] for r in rows]}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(f"files in {out}")

# %% [markdown]
# # Tutorial: the ML-VAE on groups of 8x8 digits
#
# Bouchacourt et al.'s multi-level VAE: images come in groups that share one factor (here
# the class); each group has one content latent c shared by its members, each member its
# own style s. The members' posteriors for c are combined (a product of Gaussians). We
# read the story as a graph, train for a few seconds, evaluate the group likelihood and a
# probe of the content, swap content and style between groups, and measure what c and s
# carry.
#
# Run it with `python docs/tutorials/mlvae.py [OUT]` (OUT: where the files go, default a
# temporary directory); under a minute on one CPU thread. `tests/test_tutorials.py` runs it.

# %%
import json
import sys
import tempfile
from pathlib import Path

import pyro
import torch
from pyro import poutine

from pyro_vaes import api
from pyro_vaes.analysis.influence import analyse_latents
from pyro_vaes.analysis.mutual_information import format_nats
from pyro_vaes.config import TrainConfig
from pyro_vaes.interventions import InterventionOptions, intervention
from pyro_vaes.models import DataInfo, build_model

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="mlvae-tutorial-"))
out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The generative story
#
# Small MLP nets keep it fast. The ML-VAE's default likelihood is the Bernoulli, so its
# losses are positive numbers of nats (per group: the ELBO sums over a group's members).
# `latent_dim` is the total: `content_dim` for c, the rest for s. Groups: 8 images of one
# class (`group_by="class"`, `group_size=8`).

# %%
options = {"net": "mlp", "hidden_dim": 128, "latent_dim": 8, "content_dim": 4}
train_config = TrainConfig(data="digits", epochs=10, batch_size=16, lr=3e-3, seed=0)
splits = api.load_splits(train_config)
model = build_model("mlvae", DataInfo.from_splits(splits), dict(options))
batch = api.example_batch(model, splits)
for role, fn in (("model", model.model), ("guide", model.guide)):
    graph = pyro.render_model(fn, model_args=model.site_args(batch), render_distributions=True)
    graph.render(str(out / f"mlvae-{role}"), format="svg", cleanup=True)
print(poutine.trace(model.model).get_trace(*model.site_args(batch)).format_shapes())

# %% [markdown]
# `OUT/mlvae-model.svg`: a `groups` plate holding c and, inside, a members plate holding s
# and x. The guide (`OUT/mlvae-guide.svg`) accumulates the members' evidence about c.

# %% [markdown]
# ## 2. Train
#
# Every batch is a set of groups; the loss is the negative ELBO per group.

# %%
run = api.train("mlvae", out / "run", model_options=options, train_config=train_config)
for record in run.history:
    print(f"epoch {record['epoch']}: train loss {record['train_loss']:.2f}, validation "
          f"ELBO {record['val_elbo']:.2f} nats per group")

# %% [markdown]
# ## 3. Evaluate
#
# The likelihood bounds (per group), and linear probes: how well the class can be read from
# the content c and from the style s (a good split: high from c, low from s).

# %%
results = api.evaluate(run, split="test", num_samples=20, measures="likelihood,probes")
print({key: value for key, value in results.items() if isinstance(value, float)})

# %% [markdown]
# ## 4. Intervene: swap content and style
#
# `swap` decodes the content of one group with the style of each image of another.

# %%
(out / "interventions").mkdir(exist_ok=True)
written = intervention("mlvae", "swap")(run, out / "interventions",
                                    InterventionOptions(num_images=4, seed=0))
print("written", *[str(path) for path in written])

# %% [markdown]
# ## 5. Analyse: what c and s carry
#
# I(x; latent_j) per latent (nats), for the content and the style.

# %%
rows = analyse_latents(run.model, run.splits.test, limit=300).rows()
for row in rows:
    print(f"{row['site']}[{row['dim']}]  I = {format_nats(row['mi_mixture'])} nats")
summary = {"test_elbo": results["test_elbo"],
           "mutual_information": [r["mi_mixture"] for r in rows]}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(f"files in {out}")

# %% [markdown]
# # Tutorial: the class-related / class-independent VAE ("parted") on the 8x8 digits
#
# Hajimiri et al.'s model: a class c, a class-related latent u whose prior is a Gaussian
# mixture with one component per class, and a class-independent latent z ~ N(0, I); the
# image is decoded from (u, z). A Bhattacharyya penalty keeps the mixture's components
# apart. We read the story as a graph, train on 200 labels, evaluate the likelihood and the
# classifier, swap the class-related part between test images, and measure what u and z
# carry.
#
# Run it with `python docs/tutorials/parted.py [OUT]` (OUT: where the files go, default a
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

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="parted-tutorial-"))
out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The generative story
#
# Small MLP nets keep it fast. The model's default likelihood is the Bernoulli, so its
# losses are positive numbers of nats. `latent_dim` is the total: `class_dim` for u,
# the rest for z.

# %%
options = {"net": "mlp", "hidden_dim": 128, "latent_dim": 12, "class_dim": 6}
train_config = TrainConfig(data="digits", labels=200, epochs=10, batch_size=64, lr=3e-3,
                           seed=0)
splits = api.load_splits(train_config)
model = build_model("parted", DataInfo.from_splits(splits), dict(options))
batch = api.example_batch(model, splits)
for role, fn in (("model", model.model), ("guide", model.guide)):
    graph = pyro.render_model(fn, model_args=model.site_args(batch), render_distributions=True)
    graph.render(str(out / f"parted-{role}"), format="svg", cleanup=True)
print(poutine.trace(model.model).get_trace(*model.site_args(batch)).format_shapes())

# %% [markdown]
# `OUT/parted-model.svg`: c picks u's mixture component; z is free; x depends on u and z.
# The guide (`OUT/parted-guide.svg`) encodes u and z from x and, on unlabelled images,
# infers c from u.

# %% [markdown]
# ## 2. Train
#
# Labelled batches add the supervised term; every batch pays the Bhattacharyya penalty
# (`gamma_bc`) on the overlap of the prior's components.

# %%
run = api.train("parted", out / "run", model_options=options, train_config=train_config)
for record in run.history:
    print(f"epoch {record['epoch']}: train loss {record['train_loss']:.2f}, validation "
          f"ELBO {record['val_elbo']:.2f} nats, accuracy {record['val_accuracy']:.3f}")

# %% [markdown]
# ## 3. Evaluate
#
# The likelihood bounds, and the accuracy of the inferred class on the test images
# (`classifier_accuracy`).

# %%
results = api.evaluate(run, split="test", num_samples=20, measures="likelihood,accuracy")
print({key: value for key, value in results.items() if isinstance(value, float)})

# %% [markdown]
# ## 4. Intervene: swap the class-related part
#
# `swap` combines the u of one test image with the z of another, as a grid: the class
# should follow u, the style z.

# %%
(out / "interventions").mkdir(exist_ok=True)
written = intervention("parted", "swap")(run, out / "interventions",
                                    InterventionOptions(num_images=4, seed=0))
print("written", *[str(path) for path in written])

# %% [markdown]
# ## 5. Analyse: what u and z carry
#
# I(x; latent_j) per latent (nats), for u and z.

# %%
rows = analyse_latents(run.model, run.splits.test, limit=300).rows()
for row in rows:
    print(f"{row['site']}[{row['dim']}]  I = {format_nats(row['mi_mixture'])} nats")
summary = {"test_elbo": results["test_elbo"], "test_accuracy": results["classifier_accuracy"],
           "mutual_information": [r["mi_mixture"] for r in rows]}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(f"files in {out}")

# %% [markdown]
# # Tutorial: the CCVAE on the 8x8 digits
#
# Joy et al.'s characteristic capturing VAE: the latent splits into characteristic latents
# z_c (one per class here, the digits having one ten-class label) and style latents z_s.
# The label y sets the prior p(z_c | y); a diagonal classifier q(y | z_c) reads the label
# back from z_c alone; the image is decoded from z = (z_c, z_s) only. We read the story as
# a graph, train on 200 labels, evaluate the likelihood and the classifier, flip the class
# of test images through z_c, and measure what each latent carries.
#
# Run it with `python docs/tutorials/ccvae.py [OUT]` (OUT: where the files go, default a
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

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="ccvae-tutorial-"))
out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The generative story
#
# Small MLP nets keep it fast. The CCVAE's default likelihood is the Bernoulli, so its
# losses are positive numbers of nats. `latent_dim` is the total: 10 characteristic
# latents (one per class) and 4 style latents.

# %%
options = {"net": "mlp", "hidden_dim": 128, "latent_dim": 14}
train_config = TrainConfig(data="digits", labels=200, epochs=10, batch_size=64, lr=3e-3,
                           seed=0)
splits = api.load_splits(train_config)
model = build_model("ccvae", DataInfo.from_splits(splits), dict(options))
batch = api.example_batch(model, splits)
for role, fn in (("model", model.model), ("guide", model.guide)):
    graph = pyro.render_model(fn, model_args=model.site_args(batch), render_distributions=True)
    graph.render(str(out / f"ccvae-{role}"), format="svg", cleanup=True)
print(poutine.trace(model.model).get_trace(*model.site_args(batch)).format_shapes())

# %% [markdown]
# `OUT/ccvae-model.svg`: y inside a `labels` plate sets z_c; z_s is free; x depends on
# z_c and z_s, not on y. The guide (`OUT/ccvae-guide.svg`) encodes z from x and, on
# unlabelled images, reads y from z_c.

# %% [markdown]
# ## 2. Train
#
# Labelled batches use the CCVAE's supervised bound (with its classifier weight);
# unlabelled ones the plain ELBO with y inferred.

# %%
run = api.train("ccvae", out / "run", model_options=options, train_config=train_config)
for record in run.history:
    print(f"epoch {record['epoch']}: train loss {record['train_loss']:.2f}, validation "
          f"ELBO {record['val_elbo']:.2f} nats, accuracy {record['val_accuracy']:.3f}")

# %% [markdown]
# ## 3. Evaluate
#
# The likelihood bounds, and the accuracy of the classifier q(y | z_c) on the test images.

# %%
results = api.evaluate(run, split="test", num_samples=20, measures="likelihood,accuracy")
print({key: value for key, value in results.items() if isinstance(value, float)})

# %% [markdown]
# ## 4. Intervene: flip the class through z_c
#
# `flip` resamples each test image's characteristic latents from the conditional prior of
# another class, keeping its style z_s: the digit should change, the handwriting stay.

# %%
(out / "interventions").mkdir(exist_ok=True)
written = intervention("ccvae", "flip")(run, out / "interventions",
                                    InterventionOptions(num_images=4, seed=0))
print("written", *[str(path) for path in written])

# %% [markdown]
# ## 5. Analyse: what each latent carries
#
# I(x; z_j) per latent (nats), for z_c and z_s. The class information should sit in z_c.

# %%
rows = analyse_latents(run.model, run.splits.test, limit=300).rows()
for row in rows:
    print(f"{row['site']}[{row['dim']}]  I = {format_nats(row['mi_mixture'])} nats")
summary = {"test_elbo": results["test_elbo"], "test_accuracy": results["accuracy"],
           "mutual_information": [r["mi_mixture"] for r in rows]}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(f"files in {out}")

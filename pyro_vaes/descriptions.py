"""One-line descriptions of the swappable parts and the data sets, importable without torch.

``pyro-vaes list`` prints these without loading torch or Pyro; the modules that
implement the parts (``priors``, ``guides``, ``likelihoods``, ``nets``,
``inference``, ``data``) export the same tables, and
``tests/test_deferred_imports.py`` checks that every part has its line.
"""

from __future__ import annotations

PRIOR_DESCRIPTIONS: dict[str, str] = {
    "normal": "standard Normal N(0, I)",
    "mixture": "learnable Gaussian mixture (--mixture-components K, bounded log-variances)",
}

GUIDE_DESCRIPTIONS: dict[str, str] = {
    "diagonal": "diagonal Normal N(mu(x), diag sigma(x)^2)",
    "lowrank": "low-rank plus diagonal Normal (--guide-rank r)",
    "full": "full-covariance Normal with a Cholesky factor L(x)",
    "flow": "diagonal Normal through inverse autoregressive flows (--flow-layers K)",
}

LIKELIHOOD_DESCRIPTIONS: dict[str, str] = {
    "bernoulli": "Bernoulli(logits), grey levels as soft targets",
    "laplace": "Laplace(mean, 1), mean = sigmoid(decoder)",
    "normal": "Normal(mean, sigma) with one learned scalar sigma",
}

ELBO_DESCRIPTIONS: dict[str, str] = {
    "trace": "Trace_ELBO: Monte Carlo for every term (score function for discrete sites)",
    "meanfield": "TraceMeanField_ELBO: analytic KL where a closed form exists",
    "enum": "TraceEnum_ELBO: discrete sites marked for enumeration are summed exactly",
}

NET_DESCRIPTIONS: dict[str, str] = {
    "mlp": "fully connected: encoder pixels-H-H, decoder z-H-H-pixels (H = --hidden-dim)",
    "conv": "stride-2 4x4 convolutions (--channels, doubled halfway), a linear layer of "
            "--hidden-dim, mirrored in the decoder; square images, side even and >= 8 "
            "(the default wherever it fits)",
}

DATASET_DESCRIPTIONS: dict[str, str] = {
    "digits": "scikit-learn 8x8 handwritten digits, 1797 images, 10 classes (default; no files "
              "needed)",
    "fashion-mnist": "Fashion-MNIST 28x28 clothing, 70000 images, 10 classes (IDX files; the "
                     "installed copy unless --data-root)",
    "mnist": "MNIST 28x28 handwritten digits, 70000 images, 10 classes (IDX files, needs "
             "--data-root)",
    "idx": "any directory of the four MNIST-style IDX files (needs --data-root)",
    "shapes": "procedural 64x64 shapes, 46080 images, factors shape/scale/rotation/pos_x/pos_y",
    "shapes-small": "procedural 32x32 shapes, 1296 images, same factors with fewer levels (for "
                    "tests)",
    "celeba": "CelebA aligned faces, 64x64 RGB, 40 binary attributes (local copy, needs "
              "--data-root)",
    "image-folder": "a directory with one subfolder of images per class, 64x64 RGB (needs "
                    "--data-root)",
}
"""The data sets of ``pyro_vaes.data.load_dataset``, the default ("digits") first."""

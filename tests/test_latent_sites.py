"""Latent sites found from traces, decoding through the model, and the MI uses."""

from __future__ import annotations

import json

import pytest
import torch

from pyro_vaes.analysis.influence import (
    LatentAnalysis,
    accuracy_versus_kept,
    default_ks,
    pruned_reconstructions,
    traverse_factors,
)
from pyro_vaes.analysis.latent_sites import LatentSite, decode_latents, gaussian_latents
from pyro_vaes.analysis.mutual_information import mutual_information_report
from pyro_vaes.models import DataInfo, build_model
from tests.conftest import run_cli

INFO = DataInfo((1, 8, 8), 10, [str(i) for i in range(10)])


def test_gaussian_latents_are_the_guide_parameters():
    vae = build_model("vae", INFO, latent_dim=4, hidden_dim=16)
    x = torch.rand(6, 1, 8, 8)
    sites = gaussian_latents(vae, x)
    loc, scale = vae.posterior.loc_scale(vae.encoder(x))
    assert list(sites) == ["z"]
    assert torch.allclose(sites["z"].loc, loc) and torch.allclose(sites["z"].scale, scale)


def test_lowrank_guide_reports_marginal_standard_deviations():
    vae = build_model("vae", INFO, latent_dim=3, hidden_dim=16, guide="lowrank")
    x = torch.rand(4, 1, 8, 8)
    q = vae.posterior(vae.encoder(x))
    site = gaussian_latents(vae, x)["z"]
    assert torch.allclose(site.scale, q.covariance_matrix.diagonal(dim1=-2, dim2=-1).sqrt())


def test_decoding_posterior_means_is_the_reconstruction():
    vae = build_model("vae", INFO, latent_dim=4, hidden_dim=16)
    x = torch.rand(5, 1, 8, 8)
    means = {"z": gaussian_latents(vae, x)["z"].loc}
    assert torch.allclose(decode_latents(vae, x, means), vae.reconstruct(x), atol=1e-6)


def test_discrete_guide_sites_are_read_at_their_mode():
    m2 = build_model("m2", INFO, latent_dim=3, hidden_dim=16)
    x = torch.rand(5, 1, 8, 8)
    site = gaussian_latents(m2, x)["z"]
    # Re-run the guide with y fixed to the argmax of q(y|x) by hand.
    from pyro import poutine

    trace = poutine.trace(m2.guide).get_trace(x, None)
    probs = trace.nodes["y"]["fn"].probs
    mode = probs.argmax(-1)
    fixed = poutine.trace(poutine.condition(m2.guide, data={"y": mode})).get_trace(x, None)
    assert torch.allclose(site.loc, fixed.nodes["z"]["fn"].base_dist.loc)


def test_pruning_all_factors_reconstructs_and_none_gives_the_prior_mean_image():
    vae = build_model("vae", INFO, latent_dim=4, hidden_dim=16)
    x = torch.rand(3, 1, 8, 8)
    ranking = [("z", j) for j in range(4)]
    out = pruned_reconstructions(vae, x, ranking, [0, 4])
    assert torch.allclose(out[1], vae.reconstruct(x), atol=1e-6)
    assert torch.allclose(out[0], vae.decode(torch.zeros(3, 4)), atol=1e-6)
    assert torch.allclose(out[0][0], out[0][1])


def test_traversal_changes_only_the_swept_factor():
    vae = build_model("vae", INFO, latent_dim=3, hidden_dim=16)
    x = torch.rand(2, 1, 8, 8)
    grids = traverse_factors(vae, x, [("z", 1)], {("z", 1): (-2.0, 2.0)}, steps=5)
    assert grids.shape == (2, 1, 5, 1, 8, 8)
    loc = gaussian_latents(vae, x)["z"].loc
    expected = loc.clone()
    expected[:, 1] = 2.0
    assert torch.allclose(grids[:, 0, -1], vae.decode(expected), atol=1e-6)


def _synthetic_analysis(n: int, seed: int) -> tuple[LatentAnalysis, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    informative = 3.0 * (2 * labels.double() - 1) + 0.3 * torch.randn(n, generator=generator,
                                                                        dtype=torch.float64)
    noise = 0.05 * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    loc = torch.cat([noise[:, :1], informative[:, None], noise[:, 1:]], dim=1)
    scale = torch.full_like(loc, 0.3)
    site = LatentSite("z", loc, scale)
    return LatentAnalysis({"z": site}, {"z": mutual_information_report(loc, scale)}), labels


def test_ranking_and_accuracy_versus_k_on_a_known_case():
    train, y_train = _synthetic_analysis(400, 0)
    test, y_test = _synthetic_analysis(200, 1)
    assert train.ranking()[0] == ("z", 1)
    assert train.influential(0.5) == [("z", 1)]
    rows = accuracy_versus_kept(train, test, y_train, y_test, [1, 3])
    assert rows[0]["accuracy_top_k"] > 0.98
    assert rows[0]["accuracy_bottom_k"] < 0.7
    assert rows[1]["accuracy_top_k"] == rows[1]["accuracy_bottom_k"]
    assert default_ks(10) == [1, 2, 4, 8, 10]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("analyze") / "run"
    result = run_cli("train", "vae", "--out", str(run), "--epochs", "3", "--latent-dim", "4",
                     "--max-train", "300")
    assert result.returncode == 0, result.stderr
    return run


def test_analyze_commands_on_a_trained_run(digits_run):
    result = run_cli("analyze", "mi", str(digits_run), "--top-k", "2")
    assert result.returncode == 0, result.stderr
    saved = json.loads((digits_run / "analysis" / "mi-test.json").read_text())
    assert len(saved["factors"]) == 4 and len(saved["influential"]) == 2
    for row in saved["factors"]:
        # I <= closed form <= KL, up to Monte Carlo error of the mixture estimate
        assert row["mi_mixture"] <= row["mi_moment_matched"] + 0.05
        assert row["mi_moment_matched"] <= row["kl_to_prior"] + 1e-6
    assert (digits_run / "figures" / "mi-test.png").exists()
    result = run_cli("analyze", "traverse", str(digits_run), "--top-k", "2", "--num-images", "1")
    assert result.returncode == 0, result.stderr
    assert (digits_run / "figures" / "traverse-influential-test-0.png").exists()
    result = run_cli("analyze", "prune", str(digits_run), "--k", "1", "--k", "4")
    assert result.returncode == 0, result.stderr
    pruned = json.loads((digits_run / "analysis" / "prune-test.json").read_text())
    assert [r["k"] for r in pruned["accuracy"]] == [1, 4]
    result = run_cli("analyze", "metrics", str(digits_run))
    assert result.returncode == 2 and "no known factors" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_on_the_shapes_set(tmp_path):
    run = tmp_path / "shapes"
    result = run_cli("train", "vae", "--data", "shapes-small", "--out", str(run), "--epochs",
                     "1", "--latent-dim", "5", "--max-train", "600")
    assert result.returncode == 0, result.stderr
    result = run_cli("analyze", "metrics", str(run), "--limit", "300")
    assert result.returncode == 0, result.stderr
    scores = json.loads((run / "analysis" / "metrics-test.json").read_text())
    for key in ("mig_continuous", "mig_binned", "dci_disentanglement", "sap",
                "factor_vae_score", "beta_vae_score"):
        assert 0.0 <= scores[key] <= 1.0, key

"""`pyro-vaes report RUN`: the page's numbers against the library computed independently,
its frames against the models' own decoders, bad input, and the page in a real Chromium."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch

from pyro_vaes import api
from pyro_vaes.analysis.influence import analyse_latents
from pyro_vaes.analysis.latent_sites import gaussian_latents
from pyro_vaes.config import TrainConfig
from pyro_vaes.process import torch_threads
from pyro_vaes.report.build import ReportOptions, build_page
from pyro_vaes.report.explorer import MODE_MARGIN
from pyro_vaes.report.page import explorer_data, render, signed
from pyro_vaes.report.png import encode_png, to_bytes
from pyro_vaes.report.summary import curves
from runners.cli import main
from tests.conftest import ROOT, run_cli

MODELS = ("vae", "ccvae", "m2", "mlvae", "parted")
LABELS = {"ccvae": 60, "m2": 60, "parted": 60}
OPTIONS = ReportOptions(images=3, steps=5, span=2.0, limit=150, seed=0)
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, api.Run]:
    """One tiny run of every model on the digits (one epoch on 200 images), loaded."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in MODELS:
        with torch_threads(1):    # one thread: quickest for these tiny nets on a busy machine
                api.train(name, root / name, model_options={"hidden_dim": 32},
                      train_config=TrainConfig(epochs=1, max_train=200,
                                               labels=LABELS.get(name)), figures=False)
        out[name] = api.load_run(root / name)
    return out


@pytest.fixture(scope="module")
def pages(runs) -> dict[str, tuple]:
    """Each run's page and its HTML."""
    out = {}
    for name, run in runs.items():
        with torch_threads(1):
            page = build_page(run, "last", OPTIONS)
        out[name] = (page, render(page))
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def _png_pixels(uri: str) -> np.ndarray:
    """Decode a PNG data URI with Pillow (an independent decoder): (H, W, C) uint8."""
    from PIL import Image

    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(prefix):])))
    image.load()
    array = np.asarray(image)
    return array[..., None] if array.ndim == 2 else array


def _embedded(html: str) -> dict:
    """The explorer's data as the page's script reads it."""
    start = html.index('<script type="application/json" id="explorer-data">')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def _close(uri: str, expected: torch.Tensor) -> None:
    """A PNG frame equals an image (C, H, W) in [0, 1] to its 8-bit rounding."""
    pixels = _png_pixels(uri).astype(np.float64) / 255.0
    want = expected.detach().double().cpu().numpy().transpose(1, 2, 0)
    assert pixels.shape == want.shape
    assert np.abs(pixels - want).max() <= 0.5 / 255 + 1e-6


# -- the PNG writer ----------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
def test_png_round_trips_through_an_independent_decoder(channels):
    image = torch.rand(channels, 7, 5, generator=torch.Generator().manual_seed(0)).numpy()
    image[0, 0, 0], image[0, 0, 1] = -0.5, 1.5        # clipped to 0 and 1
    uri = "data:image/png;base64," + base64.b64encode(encode_png(image)).decode()
    decoded = _png_pixels(uri)
    assert decoded.shape == (7, 5, channels)
    assert np.array_equal(decoded, to_bytes(image))
    assert decoded[0, 0, 0] == 0 and decoded[0, 1, 0] == 255
    assert decoded[3, 2, 0] == round(float(image[0, 3, 2]) * 255)


# -- what the page holds -----------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_page_is_one_self_contained_file(pages, name):
    _, html = pages[name]
    tags = _parse(html)
    images = [attrs for tag, attrs in tags.tags if tag == "img"]
    assert len(images) > 2 * OPTIONS.images
    for attrs in images:
        pixels = _png_pixels(attrs["src"])
        assert pixels.shape[0] > 0 and pixels.shape[1] > 0
    for tag, attrs in tags.tags:
        assert tag not in ("link", "iframe", "object", "embed"), tag
        for key in ("src", "href"):
            value = attrs.get(key, "")
            assert value.startswith(("data:", "#")) or not value, (tag, value)
        assert not (tag == "script" and "src" in attrs)
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


@pytest.mark.parametrize("name", MODELS)
def test_one_slider_per_latent_dimension_ordered_by_mutual_information(runs, pages, name):
    run, (page, html) = runs[name], pages[name]
    test = run.splits.test
    analysis = analyse_latents(run.model, test, limit=OPTIONS.limit, seed=OPTIONS.seed)
    expected = {(r["site"], r["dim"]): r["mi_mixture"] for r in analysis.rows()}
    factors = page.explorer.factors
    assert {(f.site, f.dim) for f in factors} == set(expected)
    assert len(factors) == len(expected)
    for f in factors:
        assert f.mi == pytest.approx(expected[(f.site, f.dim)], abs=1e-12)
    for site in {f.site for f in factors}:
        mis = [f.mi for f in factors if f.site == site]
        assert mis == sorted(mis, reverse=True)
    assert html.count('class="factor"') == len(factors)
    assert html.count('<input type="range"') == len(factors)
    data = _embedded(html)
    assert np.array(data["frames"], dtype=object).shape == (OPTIONS.images, len(factors),
                                                            OPTIONS.steps)
    assert page.explorer.mi_images == OPTIONS.limit


def test_vae_frames_decode_the_posterior_mean_plus_offsets(runs, pages):
    run, (page, html) = runs["vae"], pages["vae"]
    model = run.model
    x = run.splits.test.pixels(torch.arange(OPTIONS.images))
    q = model.posterior_distribution(x)
    loc, scale = q.mean, q.stddev
    data = _embedded(html)
    offsets = torch.linspace(-OPTIONS.span, OPTIONS.span, OPTIONS.steps)
    for i in range(OPTIONS.images):
        _close(data["reconstructions"][i], model.reconstruct(x[i:i + 1])[0])
        for f, factor in enumerate(page.explorer.factors):
            j = factor.dim
            assert factor.reset[i] == OPTIONS.steps // 2     # the middle frame is the mean
            for s in (0, OPTIONS.steps // 2, OPTIONS.steps - 1):
                z = loc[i].clone()
                z[j] = loc[i, j] + offsets[s] * scale[i, j]
                assert data["values"][f][i][s] == pytest.approx(float(z[j]), abs=1e-4)
                _close(data["frames"][i][f][s], model.decode(z[None])[0])


def test_ccvae_characteristic_sliders_sweep_between_the_conditional_prior_modes(runs, pages):
    run, (page, html) = runs["ccvae"], pages["ccvae"]
    model = run.model
    x = run.splits.test.pixels(torch.arange(OPTIONS.images))
    loc_c, _, loc_s, scale_s = model.encode(x)
    modes = model.conditional_prior.loc.detach()
    sds = model.conditional_prior.scales().detach()
    data = _embedded(html)
    names = model.label_space.names
    seen = set()
    for f, factor in enumerate(page.explorer.factors):
        j, i = factor.dim, 1
        if factor.site == "z_c":
            seen.add(j)
            assert factor.name == f"z_c[{names[j]}]"
            sign = 1.0 if float(modes[1, j] - modes[0, j]) >= 0 else -1.0
            first = float(modes[0, j] - sign * MODE_MARGIN * sds[0, j])
            last = float(modes[1, j] + sign * MODE_MARGIN * sds[1, j])
            assert factor.values[i][0] == pytest.approx(first, abs=1e-5)
            assert factor.values[i][-1] == pytest.approx(last, abs=1e-5)
            assert factor.values[0] == factor.values[i]          # the same for every image
            z_c = loc_c[i].clone()
            z_c[j] = factor.values[i][-1]
            _close(data["frames"][i][f][-1], model.decode(z_c[None], loc_s[i:i + 1])[0])
            nearest = int(np.argmin(np.abs(np.array(factor.values[i]) - float(loc_c[i, j]))))
            assert factor.reset[i] == nearest
        else:
            z_s = loc_s[i].clone()
            z_s[j] = loc_s[i, j] - OPTIONS.span * scale_s[i, j]
            _close(data["frames"][i][f][0], model.decode(loc_c[i:i + 1], z_s[None])[0])
    assert seen == set(range(len(names)))
    assert "conditional-prior modes" in page.explorer.ranges


def test_m2_frames_decode_at_the_predicted_class(runs, pages):
    run, (page, html) = runs["m2"], pages["m2"]
    model = run.model
    x = run.splits.test.pixels(torch.arange(OPTIONS.images))
    y = model.predict(x)
    z = model.encode(x, y)
    scale = gaussian_latents(model, x)["z"].scale
    data = _embedded(html)
    i = 2
    for f, factor in enumerate(page.explorer.factors[:3]):
        changed = z[i].clone()
        changed[factor.dim] = z[i, factor.dim] + OPTIONS.span * scale[i, factor.dim]
        _close(data["frames"][i][f][-1], model.decode(changed[None], y[i:i + 1])[0])


def test_curves_plot_every_numeric_key_of_the_metrics(runs, pages):
    records = [{"epoch": 1, "train_loss": 3.0, "val_elbo": -2.0, "note": "text",
                "flag": True, "recon": 1.5},
               {"epoch": 2, "train_loss": 2.0, "val_elbo": float("nan"), "kl_z": 0.25,
                "entropy": 4}]
    got = {s.name: (s.epochs, s.values) for s in curves(records)}
    assert got == {"train_loss": ([1, 2], [3.0, 2.0]), "val_elbo": ([1], [-2.0]),
                   "recon": ([1], [1.5]), "kl_z": ([2], [0.25]), "entropy": ([2], [4.0])}
    for name in MODELS:
        run, (page, html) = runs[name], pages[name]
        logged = json.loads(run.directory.metrics.read_text().splitlines()[0])
        numeric = [k for k, v in logged.items() if k != "epoch" and isinstance(v, float)]
        assert [s.name for s in page.curves] == numeric
        for key in numeric:
            assert f'aria-label="{key}"' in html


def test_a_new_logged_term_gets_its_own_chart(runs, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(runs["vae"].directory.root, copy)
    with (copy / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"epoch": 2, "train_loss": 1.0, "kl_z": 3.5,
                                 "recon": -20.25}) + "\n")
    page = build_page(api.load_run(copy), "last", ReportOptions(images=1, steps=3, limit=50))
    names = [s.name for s in page.curves]
    assert "kl_z" in names and "recon" in names
    series = page.curves[names.index("train_loss")]
    assert series.epochs == [1, 2] and series.values[1] == 1.0


def test_evaluation_is_read_from_the_run_when_there_and_computed_otherwise(runs, pages,
                                                                            tmp_path):
    page, _ = pages["vae"]
    assert page.evaluation.computed
    assert page.evaluation.values["test_elbo_images"] == OPTIONS.limit
    assert "computed by this report" in page.evaluation.source
    copy = tmp_path / "run"
    shutil.copytree(runs["vae"].directory.root, copy)
    run = api.load_run(copy)
    figures = {"checkpoint": "last", **api.evaluate(run, num_samples=3)}
    (copy / "evaluation-test.json").write_text(json.dumps(figures))
    page = build_page(run, "last", ReportOptions(images=1, steps=3, limit=50))
    assert not page.evaluation.computed
    assert page.evaluation.values == json.loads(json.dumps(figures))
    assert str(copy / "evaluation-test.json") in page.evaluation.source
    assert "at epoch" not in page.evaluation.source
    stale = {**figures, "epoch": 7}
    (copy / "evaluation-test.json").write_text(json.dumps(stale))
    page = build_page(run, "last", ReportOptions(images=1, steps=3, limit=50))
    assert "computed at epoch 7, the checkpoint is at epoch 1" in page.evaluation.source


@pytest.mark.parametrize("name", ["ccvae", "m2", "parted"])
def test_confusion_matrix_counts_the_models_predictions(runs, pages, name):
    run, (page, html) = runs[name], pages[name]
    test = run.splits.test
    predicted = run.model.predict(test.pixels())
    counts = np.zeros((10, 10), dtype=int)
    for t, p in zip(test.targets.tolist(), predicted.tolist(), strict=True):
        counts[t, p] += 1
    matrix = page.confusion
    assert np.array_equal(np.array(matrix.counts), counts)
    assert matrix.images == len(test)
    assert matrix.accuracy == pytest.approx(np.trace(counts) / len(test), abs=1e-12)
    assert 'class="confusion"' in html


def test_models_without_predictions_have_no_confusion_matrix(pages):
    assert pages["vae"][0].confusion is None and pages["mlvae"][0].confusion is None
    assert 'class="confusion"' not in pages["vae"][1]


@pytest.mark.parametrize("name,kinds", [
    ("vae", []), ("ccvae", ["generate", "swap", "flip"]), ("m2", ["generate", "swap", "flip"]),
    ("mlvae", ["generate", "swap", "interpolate"]), ("parted", ["generate", "generate", "swap"]),
])
def test_the_models_own_interventions_are_embedded(pages, name, kinds):
    page, html = pages[name]
    assert [g.kind for g in page.grids] == kinds
    for grid in page.grids:
        assert grid.uri in html
        assert _png_pixels(grid.uri).shape[0] > 100       # a drawn figure, not a frame


def test_options_and_data_are_shown(runs, pages):
    run, (page, html) = runs["ccvae"], pages["ccvae"]
    titles = [t.title for t in page.overview]
    assert titles == ["Run", "Data", "Training options", "Model options"]
    data = dict((row[0], row[1]) for row in page.overview[1].rows)
    splits = run.splits
    assert data["train / validation / test"] == \
        f"{len(splits.train)} / {len(splits.val)} / {len(splits.test)}"
    assert data["labelled training images"] == f"60 of {len(splits.train)}"
    train = {row[0]: (row[1], marked) for row, marked in zip(page.overview[2].rows,
                                                             page.overview[2].marked,
                                                             strict=True)}
    assert train["--labels"] == ("60", True) and train["--seed"] == ("0", False)
    assert train["--max-train"] == ("200", True)
    assert '<tr class="marked"><td>--labels</td><td>60</td>' in html


# -- the command line --------------------------------------------------------------------
def test_report_command_writes_the_page(runs, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(runs["ccvae"].directory.root, copy)
    args = ["report", str(copy), "--images", "2", "--steps", "3", "--limit", "100"]
    with torch_threads(1):
        assert main(args) == 0
    out = copy / "report.html"
    assert f"written {out}" in capsys.readouterr().out
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and len(_embedded(html)["frames"]) == 2
    assert not (copy / "cache").exists() and not (copy / "evaluation-test.json").exists()
    with torch_threads(1):
        assert main(args + ["--force", "--out", str(tmp_path / "other.html")]) == 0
    assert (tmp_path / "other.html").is_file()


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        out[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


@pytest.fixture(scope="module")
def work(runs, tmp_path_factory) -> Path:
    """A run with an earlier report, a run without best.pt, and directories that are no
    runs."""
    root = tmp_path_factory.mktemp("work")
    shutil.copytree(runs["vae"].directory.root, root / "run")
    (root / "run" / "report.html").write_text("an earlier report\n")
    shutil.copytree(runs["vae"].directory.root, root / "no-best")
    (root / "no-best" / "best.pt").unlink()
    (root / "not-a-run").mkdir()
    (root / "not-a-run" / "notes.txt").write_text("mine\n")
    (root / "a-file").write_text("not a directory\n")
    (root / "folder.html").mkdir()
    return root


BAD = [
    ("report {w}/not-a-run", "no checkpoint.pt in it"),
    ("report {w}/no-such-run", "no such run directory"),
    ("report {w}/run", "report.html already exists; pass --force"),
    ("report {w}/run --out {w}/folder.html", "folder.html is a directory"),
    ("report {w}/run --out /proc/pyro-vaes-report.html", "cannot write in /proc"),
    ("report {w}/run --out {w}/a-file/report.html", "a-file does not exist"),
    ("report {w}/run --out {w}/report.txt", "the file name must end in .html or .htm"),
    ("report {w}/run --out {w}/no/such/dir/r.html", "does not exist"),
    ("report {w}/no-best --checkpoint best --out {w}/r.html", "no best checkpoint"),
    ("report {w}/run --images 33 --out {w}/r.html", "33 is not in the range"),
    ("report {w}/run --span nan --out {w}/r.html", "'nan' is not a finite number"),
    ("report {w}/run --steps 1 --out {w}/r.html", "1 is not in the range"),
]


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("Error: "), err
    return lines[0]


@pytest.mark.parametrize("command,expected", BAD, ids=[c for c, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(work, capsys, command, expected):
    args = [a.replace("{w}", str(work)) for a in command.split()]
    before = _snapshot(work)
    capsys.readouterr()
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected.replace("{w}", str(work)) in _one_error_line(err)
    assert _snapshot(work) == before


def test_more_images_than_the_test_split_is_refused(runs):
    from pyro_vaes.errors import ConfigError

    test = len(runs["vae"].splits.test)
    with pytest.raises(ConfigError, match=f"more than the {test} test images"):
        build_page(runs["vae"], "last", ReportOptions(images=test + 1))


@pytest.mark.slow
def test_bad_input_in_a_real_process(work):
    before = _snapshot(work)
    result = run_cli("report", str(work / "run"), cwd=work)
    assert result.returncode == 2, result.stderr
    assert "report.html already exists; pass --force" in _one_error_line(result.stderr)
    assert _snapshot(work) == before


def test_help_and_usage_errors_load_no_torch():
    probe = ("import json, sys\nfrom runners.cli import main\ncode = main(sys.argv[1:])\n"
             "print(json.dumps([code, [m for m in ('torch', 'pyro', 'matplotlib') "
             "if m in sys.modules]]))")
    for args, code in ((["report", "--help"], 0), (["report"], 2),
                       (["report", "r", "--steps", "0"], 2)):
        done = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, text=True,
                              capture_output=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [code, []], done.stderr


# -- the page in a real browser ----------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through selenium. Outside CI a machine without it skips; in
    CI (CI=true) its absence fails: .ci/run installs it."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = (f"the browser test needs {', '.join(missing)}: apt-get install chromium "
                   f"chromium-driver, pip install -e '.[test]'")
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def test_the_page_works_in_chromium(browser, pages, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page, html = pages["ccvae"]
    path = tmp_path / "report.html"
    path.write_text(html)
    data = _embedded(html)
    browser.get(path.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"

    # every image decodes
    widths = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    tags = [tag for tag, _ in _parse(html).tags if tag == "img"]
    assert len(widths) == len(tags) and min(widths) > 0

    rows = browser.find_elements(By.CSS_SELECTOR, ".factor")
    assert len(rows) == len(page.explorer.factors)

    def shown(row):
        return row.find_element(By.CSS_SELECTOR, "img.frame").get_attribute("src")

    def position(row):
        return int(row.find_element(By.CSS_SELECTOR, "input").get_attribute("value"))

    # a slider moved with the keyboard shows the precomputed frame of its new position
    f = next(k for k, factor in enumerate(page.explorer.factors) if factor.site == "z_s")
    row = rows[f]
    start = position(row)
    assert shown(row) == data["frames"][0][f][start]
    slider = row.find_element(By.CSS_SELECTOR, "input")
    slider.send_keys(Keys.ARROW_RIGHT)
    assert position(row) == start + 1
    assert shown(row) == data["frames"][0][f][start + 1] != data["frames"][0][f][start]
    assert row.find_element(By.CSS_SELECTOR, "output").text == \
        signed(data["values"][f][0][start + 1])
    slider.send_keys(Keys.END)
    assert position(row) == OPTIONS.steps - 1
    assert shown(row) == data["frames"][0][f][-1]

    # picking another image changes every slider's frame to that image's frame
    browser.find_elements(By.CSS_SELECTOR, ".pick")[2].click()
    assert browser.find_element(By.ID, "picked-original").get_attribute("src") == \
        data["images"][2]
    for k, other in enumerate(rows):
        assert shown(other) == data["frames"][2][k][position(other)]
        assert data["frames"][2][k][position(other)] != data["frames"][0][k][position(other)]

    # reset puts every slider back at the frame nearest the picked image's posterior mean
    browser.find_element(By.ID, "reset").click()
    for k, other in enumerate(rows):
        assert position(other) == data["reset"][k][2]
        assert shown(other) == data["frames"][2][k][data["reset"][k][2]]

    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_the_page_data_is_what_the_script_reads(pages):
    page, html = pages["ccvae"]
    assert _embedded(html) == json.loads(json.dumps(explorer_data(page.explorer)))


def test_a_guide_without_gaussian_latents_gets_a_page_that_says_why(tmp_path):
    with torch_threads(1):
        api.train("vae", tmp_path / "flow", model_options={"hidden_dim": 32, "guide": "flow"},
                  train_config=TrainConfig(epochs=1, max_train=100), figures=False)
        page = build_page(api.load_run(tmp_path / "flow"), "last",
                          ReportOptions(images=2, steps=3, limit=50))
    assert page.explorer.factors == [] and "flow guide is not Gaussian" in \
        page.explorer.unavailable
    html = render(page)
    assert "No sliders: " in html and _embedded(html)["frames"] == [[], []]
    assert len(page.explorer.images) == len(page.explorer.reconstructions) == 2


def test_binary_attributes_get_per_attribute_accuracies(tmp_path):
    with torch_threads(1):
        api.train("ccvae", tmp_path / "attr", model_options={"hidden_dim": 32,
                                                             "label_kind": "attributes"},
                  train_config=TrainConfig(data="shapes-small", epochs=1, max_train=200,
                                           labels=60), figures=False)
        run = api.load_run(tmp_path / "attr")
        page = build_page(run, "last", ReportOptions(images=2, steps=3, limit=100))
    test = run.splits.test
    predicted = run.model.predict(test.pixels())
    per = (predicted == test.attributes).double().mean(0)
    matrix = page.confusion
    assert matrix.names == list(run.splits.attribute_names) and matrix.counts == []
    assert matrix.per_attribute == pytest.approx(per.tolist(), abs=1e-6)
    assert matrix.accuracy == pytest.approx(float(per.mean()), abs=1e-6)
    names = {f.name for f in page.explorer.factors if f.site == "z_c"}
    assert names == {f"z_c[{a}]" for a in run.splits.attribute_names}
    assert "Accuracy per attribute" in render(page)

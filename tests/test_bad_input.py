"""Every bad input a user can give: one line, exit code 2, nothing already written changed.

The table runs each command through ``runners.cli.main`` in this process (a few are also
run as real processes below) inside one work directory that holds a trained run, runs
with broken checkpoints and outputs of earlier calls. For each row: the exit code is 2,
stderr is exactly one line ``Error: ...`` naming the problem (without "Traceback" and
without ever suggesting ``weights_only=False``), and the SHA-256 of every file under the
work directory, and the set of paths there, are the same before and after.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.runs import RunLock
from runners.cli import main
from tests.conftest import run_cli

TINY = {"latent_dim": 2, "hidden_dim": 16}
TRAIN = TrainConfig(epochs=1, max_train=100, batch_size=50, seed=1)


def _snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every file, and every directory, under ``root``."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        out[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def _copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def _write_idx(path: Path, data: torch.Tensor) -> None:
    """One IDX file of uint8 data (magic 0x0000080N, the sizes, the bytes)."""
    header = bytes([0, 0, 8, data.dim()]) + b"".join(int(s).to_bytes(4, "big")
                                                      for s in data.shape)
    path.write_bytes(header + data.to(torch.uint8).numpy().tobytes())


def _idx_set(root: Path, train_labels: torch.Tensor, test_count: int = 20) -> None:
    """A directory of the four IDX files: 8x8 images, the given training labels, a test set
    of ``test_count`` images of classes 0, 1, 0, 1, ..."""
    root.mkdir()
    generator = torch.Generator().manual_seed(0)
    n = len(train_labels)
    _write_idx(root / "train-images-idx3-ubyte",
               torch.randint(0, 256, (n, 8, 8), generator=generator))
    _write_idx(root / "train-labels-idx1-ubyte", train_labels)
    _write_idx(root / "t10k-images-idx3-ubyte",
               torch.randint(0, 256, (test_count, 8, 8), generator=generator))
    _write_idx(root / "t10k-labels-idx1-ubyte", torch.arange(test_count) % 2)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A work directory: a trained VAE run, an M2 run with interventions drawn, and runs whose
    checkpoint or config.json is broken in every way a user has met."""
    root = tmp_path_factory.mktemp("work")
    run = root / "run"
    api.train("vae", run, model_options=TINY, train_config=TRAIN)
    m2 = root / "m2"
    api.train("m2", m2, model_options=TINY,
              train_config=TrainConfig(epochs=1, max_train=100, batch_size=50, labels=20),
              figures=False)
    assert main(["intervene", "traverse", str(m2), "--num-images", "1", "--steps", "2"]) == 0
    checkpoint = (run / "checkpoint.pt").read_bytes()

    def broken(name: str, data: bytes) -> None:
        (root / name).mkdir()
        (root / name / "checkpoint.pt").write_bytes(data)

    broken("random", torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                   dtype=torch.uint8).numpy().tobytes())
    broken("empty", b"")
    broken("truncated", checkpoint[: len(checkpoint) // 2])
    broken("pickle", pickle.dumps({"when": datetime.datetime(2024, 1, 1)}, protocol=2))
    broken("pickle4", pickle.dumps({"when": datetime.datetime(2024, 1, 1)}, protocol=4))
    (root / "foreign").mkdir()
    torch.save({"state_dict": {}}, root / "foreign" / "checkpoint.pt")
    (root / "incomplete").mkdir()
    torch.save({"format": "pyro_vaes/1", "config": {}}, root / "incomplete" / "checkpoint.pt")

    edited = _copy_run(run, root / "edited")
    config = json.loads((edited / "config.json").read_text())
    config["model"] = "m2"
    (edited / "config.json").write_text(json.dumps(config))

    wrong = _copy_run(run, root / "wrong-weights")
    saved = torch.load(wrong / "checkpoint.pt", weights_only=True)
    saved["config"]["model_config"]["latent_dim"] = 5
    torch.save(saved, wrong / "checkpoint.pt")
    (wrong / "config.json").write_text(json.dumps(saved["config"]))

    (run / "figures" / "samples-seed0-n64.png").write_bytes(b"an earlier sample call")
    (run / "analysis").mkdir()
    (run / "analysis" / "mi-test.json").write_text("{}\n")
    (run / "figures" / "prune-test.png").write_bytes(b"an earlier prune call")
    (root / "not-a-run").mkdir()
    (root / "not-a-run" / "notes.txt").write_text("mine\n")
    (root / "a-file").write_text("not a directory\n")
    (root / "drawings").mkdir()
    (root / "drawings" / "vae-model.svg").write_text("<svg/>\n")

    # data that cannot mean what the models assume
    labels = torch.arange(100) % 10
    _idx_set(root / "idx-outlier", torch.cat([labels[:-1], torch.tensor([255])]))
    _idx_set(root / "idx-empty-test", labels, test_count=0)
    _idx_set(root / "idx-one-class", torch.zeros(100, dtype=torch.long))
    # run directories damaged in ways a user has met
    folder = _copy_run(run, root / "checkpoint-folder")
    (folder / "checkpoint.pt").unlink()
    (folder / "checkpoint.pt").mkdir()
    lost = _copy_run(run, root / "lost-checkpoint")
    (lost / "checkpoint.pt").unlink()
    return root


# (arguments, words the one line must hold); {w} is the work directory
CASES = [
    # numbers that are not numbers, or absurd
    ("train vae --lr nan", "--lr must be a finite number"),
    ("train vae --lr inf", "--lr must be a finite number"),
    ("train vae --lr -inf", "--lr must be a finite number"),
    ("train vae --beta nan", "--beta must be a finite number"),
    ("train vae --clip-norm nan", "--clip-norm must be a finite number"),
    ("train vae --lr-schedule exponential --lr-decay inf", "--lr-decay must be a finite"),
    ("train vae --lr abc", "'abc' is not a valid float"),
    ("train vae --latent-dim 1000000000", "--latent-dim must be at most"),
    ("train vae --hidden-dim 1000000000", "--hidden-dim must be at most"),
    ("train vae --epochs 1000000000", "--epochs must be at most"),
    ("train vae --seed 99999999999", "--seed must be at most 4294967295"),
    ("train vae --num-particles 1000000000", "--num-particles must be at most"),
    ("train vae --image-size 100000", "--image-size must be at most"),
    ("train vae --checkpoint-every 0", "--checkpoint-every must be at least 1"),
    ("train vae --guide flow --flow-layers 100000", "--flow-layers must be at most"),
    ("train vae --latent-dim 0", "--latent-dim must be at least 1"),
    # options that would be silently ignored
    ("train vae --lr-decay 0.5", "--lr-decay only applies with --lr-schedule exponential"),
    ("train vae --mixture-components 3", "--mixture-components only applies with --prior"),
    ("train vae --guide-rank 4", "--guide-rank only applies with --guide lowrank"),
    ("train vae --data digits --data-root {w}", "--data-root is not used by --data digits"),
    ("train vae --data shapes-small --data-root {w}", "--data-root is not used"),
    ("train mlvae --group-size 500 --max-train 300", "--group-size 500 is larger than every"),
    ("train mlvae --group-size 2 --max-group-size 500 --max-train 300",
     "--max-group-size 500 is larger than every"),
    ("train mlvae --groups-per-batch 5000 --max-train 300",
     "--groups-per-batch 5000 is more than the"),
    ("train vae --out {w}/run --resume --latent-dim 3 --prior mixture --epochs 3",
     "--resume cannot change --latent-dim 3 (the run has 2); --prior mixture"),
    ("train vae --out {w}/run --resume --batch-size 7 --epochs 3",
     "--resume cannot change --batch-size 7 (the run has 50)"),
    ("train vae --out {w}/run --resume --data fashion-mnist --epochs 3",
     "--resume cannot change --data fashion-mnist"),
    ("train vae --out {w}/run --resume", "has already trained 1 epochs"),
    # devices
    ("train vae --device bogus", "is not a torch device"),
    ("train vae --device mps", "only cpu and cuda"),
    ("train vae --device cuda:0", "CUDA is not available"),
    # where a run is written
    ("train vae --out /proc/pyro-vaes-test/run", "cannot write in /proc"),
    ("train vae --out {w}/a-file", "a-file' is a file"),
    ("train vae --out {w}/a-file/run", "is a file, so no directory"),
    ("train vae --out {w}/run", "already exists and holds a run; pass --resume"),
    ("train vae --out {w}/not-a-run", "already exists and is not empty"),
    # resuming what is not a run of this model
    ("train m2 --out {w}/run --resume --epochs 3", "holds a 'vae' run, not 'm2'"),
    ("train vae --out {w}/no-such-run --resume", "no such run directory"),
    ("train vae --out {w}/not-a-run --resume", "no checkpoint.pt in it"),
    ("train vae --out {w}/random --resume --epochs 3", "not a readable checkpoint"),
    ("train vae --out {w}/edited --resume --epochs 3", "config.json names model 'm2'"),
    ("train vae --out {w}/wrong-weights --resume --epochs 3", "weights do not fit"),
    # checkpoints that are not valid checkpoints of the project
    ("sample {w}/random", "not a readable checkpoint (it is corrupt"),
    ("sample {w}/empty", "not a readable checkpoint"),
    ("sample {w}/truncated", "not a readable checkpoint"),
    ("sample {w}/pickle", "it holds Python objects other than tensors"),
    ("evaluate {w}/pickle", "it holds Python objects other than tensors"),
    ("sample {w}/pickle4", "not a readable checkpoint"),
    ("sample {w}/foreign", "no 'pyro_vaes/1' format tag"),
    ("sample {w}/incomplete", "an incomplete pyro_vaes checkpoint"),
    ("sample {w}/edited", "config.json names model 'm2'"),
    ("evaluate {w}/edited", "config.json names model 'm2'"),
    ("sample {w}/wrong-weights", "weights do not fit model 'vae'"),
    ("evaluate {w}/run --seed 99999999999999999999", "is not in the range"),
    ("evaluate {w}/run -k 100000000", "is not in the range"),
    ("sample {w}/not-a-run", "no checkpoint.pt in it"),
    ("sample {w}/no-such-run", "no such run directory"),
    # outputs of sample, intervene, analyze and render never replace a file without --force
    ("sample {w}/run --out {w}/run/config.json", "the file name must end in .png"),
    ("sample {w}/run --out no/such/dir/s.png", "directory no/such/dir does not exist"),
    ("sample {w}/run --out {w}/run/figures/loss_curves.png", "already exists; pass --force"),
    ("sample {w}/run", "samples-seed0-n64.png already exists (the default file for --seed 0 "
     "-n 64); pass --force to overwrite it, or --out FILE"),
    ("sample {w}/run --out /proc/pyro-vaes-test.png", "cannot write in /proc"),
    ("sample {w}/run --seed 99999999999", "99999999999 is not in the range"),
    ("intervene traverse {w}/m2 --num-images 1 --steps 2", "already exist"),
    ("intervene traverse {w}/m2 --out /proc/pyro-vaes-test", "cannot write in /proc"),
    ("intervene traverse {w}/m2 --span nan", "'nan' is not a finite number"),
    ("intervene swap {w}/run", "model 'vae' has no interventions (they act on the labels or "
     "groups of ccvae, m2, mlvae, parted runs; 'swap' is offered for ccvae, m2, mlvae, parted "
     "runs); for the latents of a 'vae' run use `pyro-vaes analyze traverse RUN`"),
    ("analyze mi {w}/run", "mi-test.json"),
    ("analyze prune {w}/run", "prune-test.png"),
    ("analyze mi {w}/run --threshold nan", "'nan' is not a finite number"),
    ("render vae --out {w}/drawings", "vae-model.svg already exists; pass --force"),
    ("render vae --out /proc/pyro-vaes-test", "cannot write in /proc"),
    ("render vae --latent-dim 1000000000", "--latent-dim must be at most"),
    ("render vae --data digits --data-root {w}", "--data-root is not used"),
    # an option larger than what it indexes
    ("train vae --guide lowrank --guide-rank 5 --latent-dim 4",
     "--guide-rank 5 is larger than --latent-dim 4"),
    ("render vae --guide lowrank --guide-rank 5 --latent-dim 4",
     "--guide-rank 5 is larger than --latent-dim 4"),
    ("analyze mi {w}/run --split val --top-k 3", "--top-k 3 is larger than the 2 latents"),
    ("analyze traverse {w}/run --split val --top-k 3", "--top-k 3 is larger than the 2 latents"),
    ("analyze prune {w}/run --split val --k 3", "--k 3 is larger than the 2 latents"),
    ("intervene traverse {w}/m2 --label 3 --out {w}/fresh",
     "--label does not apply to `intervene traverse` of model 'm2'"),
    ("intervene swap {w}/m2 --label 3 --out {w}/fresh", "--label does not apply"),
    ("intervene generate {w}/m2 --label 10 --out {w}/fresh", "--label '10' is not a label"),
    ("intervene flip {w}/m2 --label 99 --out {w}/fresh", "--label '99' is not a label"),
    ("intervene interpolate {w}/m2 --out {w}/fresh",
     "has no 'interpolate' intervention; it supports: traverse, generate, swap, flip "
     "('interpolate' is offered for mlvae runs)"),
    # data that cannot mean what the model assumes, refused before anything is written
    ("train vae --data idx --data-root {w}/idx-outlier",
     "label 255 (1 image) would make 256 classes"),
    ("train m2 --data idx --data-root {w}/idx-outlier --labels 20",
     "label 255 (1 image) would make 256 classes"),
    ("train vae --data idx --data-root {w}/idx-empty-test", "t10k-images-idx3-ubyte: holds no"),
    ("train m2 --data idx --data-root {w}/idx-one-class --labels 20",
     "every training image has class '0'; model 'm2' learns to tell classes apart"),
    ("train ccvae --data idx --data-root {w}/idx-one-class --labels 20",
     "model 'ccvae' learns to tell classes apart"),
    ("train parted --data idx --data-root {w}/idx-one-class --labels 20",
     "model 'parted' learns to tell classes apart"),
    # damaged run directories: what is wrong, and what can be done
    ("sample {w}/checkpoint-folder", "checkpoint.pt is a directory, not a checkpoint file"),
    ("train vae --out {w}/checkpoint-folder --resume --epochs 3",
     "checkpoint.pt is a directory, not a checkpoint file"),
    ("sample {w}/lost-checkpoint",
     "lost-checkpoint lost its checkpoint.pt (the last state) but keeps best.pt"),
    ("evaluate {w}/lost-checkpoint", "copy {w}/lost-checkpoint/best.pt to "
     "{w}/lost-checkpoint/checkpoint.pt to use or resume it from that epoch (`pyro-vaes train "
     "vae --out {w}/lost-checkpoint --resume`"),
    ("train vae --out {w}/lost-checkpoint --resume --epochs 3",
     "or train it again with `pyro-vaes train vae --config "
     "{w}/lost-checkpoint/experiment.toml --out NEW_DIR`"),
    ("train vae --out {w}/lost-checkpoint", "already exists and is not empty"),
]


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "weights_only" not in err, err
    assert lines[0].startswith("Error: "), err
    return lines[0]


@pytest.mark.parametrize("command,expected", CASES, ids=[c for c, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(work, monkeypatch, capsys, command,
                                                          expected):
    monkeypatch.chdir(work)
    args = [a.replace("{w}", str(work)) for a in command.split()]
    if args[0] == "train" and "--out" not in args:
        args += ["--out", str(work / "new-run")]
    before = _snapshot(work)
    capsys.readouterr()
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    line = _one_error_line(err)
    assert expected.replace("{w}", str(work)) in line, line
    assert _snapshot(work) == before


def test_a_run_being_trained_refuses_a_second_process(work, capsys):
    lock = RunLock(work / "run")
    lock.acquire()
    try:
        before = _snapshot(work)
        for args in (["train", "vae", "--out", str(work / "run"), "--resume", "--epochs", "2"],
                     ["train", "vae", "--out", str(work / "run")]):
            capsys.readouterr()
            assert main(args) == 2
            line = _one_error_line(capsys.readouterr().err)
            assert "is being trained by process" in line, line
        assert _snapshot(work) == before
    finally:
        lock.release()


REAL = ("train vae --lr nan", "train vae --latent-dim 1000000000",
        "train vae --out /proc/pyro-vaes-test/run", "sample {w}/random", "sample {w}/pickle",
        "sample {w}/run --out no/such/dir/s.png",
        "train vae --out {w}/run --resume --latent-dim 3 --prior mixture --epochs 3")


@pytest.mark.slow
@pytest.mark.parametrize("command,expected", [c for c in CASES if c[0] in REAL],
                         ids=list(REAL))
def test_bad_input_in_a_real_process(work, command, expected):
    args = [a.replace("{w}", str(work)) for a in command.split()]
    if args[0] == "train" and "--out" not in args:
        args += ["--out", str(work / "new-run")]
    before = _snapshot(work)
    result = run_cli(*args, cwd=work)
    assert result.returncode == 2, result.stderr
    assert expected.replace("{w}", str(work)) in _one_error_line(result.stderr)
    assert _snapshot(work) == before

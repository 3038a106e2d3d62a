"""The step loop's device path, checked on the CPU: the running loss stays on the device,
Pyro's host reads are switched off, images are moved once, bf16 nets train."""

from __future__ import annotations

import math
import traceback

import pyro
import pytest
import torch

import pyro_vaes.inference.elbo as elbo_module
from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference import make_elbo
from pyro_vaes.inference.host_reads import no_host_reads
from pyro_vaes.models import MODELS, Batch, DataInfo, build_model
from pyro_vaes.nets.precision import autocast_nets, check_autocast
from pyro_vaes.training import Trainer
from pyro_vaes.training.distributed import DistributedContext
from pyro_vaes.training.plans import PLANS
from pyro_vaes.training.trainer import DivergenceWatch

READS = ("item", "__bool__", "__float__", "__int__", "tolist")


class HostReads:
    """Records every read of a tensor's value on the host (what syncs a GPU)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.saved = {name: getattr(torch.Tensor, name) for name in READS}

    def __enter__(self) -> HostReads:
        def spy(name):
            original = self.saved[name]

            def read(tensor, *args, **kwargs):
                self.calls.append("".join(traceback.format_stack(limit=8)[:-1]))
                return original(tensor, *args, **kwargs)
            return read
        for name in READS:
            setattr(torch.Tensor, name, spy(name))
        return self

    def __exit__(self, *exc) -> None:
        for name, original in self.saved.items():
            setattr(torch.Tensor, name, original)

    def outside(self, *allowed: str) -> list[str]:
        """Reads whose stack mentions none of ``allowed`` (file names)."""
        return [c for c in self.calls if not any(a in c for a in allowed)]


# Adam keeps its step counters on the CPU even for GPU weights (reading them never syncs).
ADAM = "torch/optim/"
# Pyro's eager TraceEnum_ELBO checks its enumeration mask on the host (pyro/infer/util.py,
# Dice.compute_expectation); the compiled graph (--jit) does not.
DICE = "pyro/infer/util.py"


def _batches(name: str) -> list[Batch]:
    x, y = torch.rand(16, 1, 8, 8), torch.randint(0, 10, (16,))
    if name == "mlvae":
        return [Batch(x.reshape(4, 4, 1, 8, 8), y[:4], torch.ones(4, 4, dtype=torch.bool))]
    return [Batch(x), Batch(x, y)]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
def test_a_training_step_reads_nothing_on_the_host(name, jit):
    pyro.enable_validation(False)
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model(name, info, {"hidden_dim": 16})
    elbo = make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting, jit=jit)
    optimizer = torch.optim.Adam(model.parameters())
    watch = DivergenceWatch(torch.device("cpu"), DistributedContext())
    total = torch.zeros((), dtype=torch.float64)
    batches = _batches(name)
    for batch in batches:  # compile first
        model.loss(elbo, batch)
    with HostReads() as reads, no_host_reads(True):
        for step, batch in enumerate(batches, start=1):  # what Trainer._step does
            loss = model.loss(elbo, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            watch.observe(loss, step)
            total += loss.detach().double() * batch.size
    allowed = (ADAM,) if jit or model.default_elbo != "enum" else (ADAM, DICE)
    assert reads.outside(*allowed) == []
    assert watch.first_bad() is None and math.isfinite(float(total))


def test_no_host_reads_changes_neither_losses_nor_gradients():
    pyro.enable_validation(False)
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    for name, elbo_name in (("vae", "trace"), ("vae", "meanfield"), ("m2", "enum")):
        model = build_model(name, info, {"hidden_dim": 16})
        elbo = make_elbo(elbo_name, max_plate_nesting=model.max_plate_nesting)
        params = list(model.parameters())
        out = []
        for enabled in (False, True):
            torch.manual_seed(0)
            with no_host_reads(enabled):
                loss = model.loss(elbo, Batch(torch.rand(8, 1, 8, 8)))
            assert torch.is_tensor(loss)
            out.append((loss, torch.autograd.grad(loss, params, allow_unused=True)))
        (a, ga), (b, gb) = out
        assert float(a.detach()) == float(b.detach())
        for x, y in zip(ga, gb, strict=True):
            assert (x is None and y is None) or torch.equal(x, y)


def test_an_epoch_reads_the_loss_only_at_its_check_points(monkeypatch):
    monkeypatch.setattr(elbo_module, "reads_cost_a_sync", lambda device: True)
    splits = load_dataset("digits", None, seed=0, max_train=200)
    model = build_model("vae", DataInfo.from_splits(splits), {"hidden_dim": 16})
    trainer = Trainer(model, splits, TrainConfig(batch_size=20, seed=0), progress=True)
    trainer.watch.every = 4  # 10 steps: reads at steps 4 and 8, then at the end
    with HostReads() as reads:
        loss = trainer.train_epoch()
    ours = reads.outside(ADAM)
    # 2 divergence checks with their progress-bar reads, the end-of-epoch check and sum
    assert len(ours) == 6, "".join(ours)
    assert all("training/trainer.py" in c for c in ours)
    assert math.isfinite(loss)


def test_bf16_nets_train_and_keep_float32_outputs():
    pyro.enable_validation(False)
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model("ccvae", info, {"hidden_dim": 16, "net": "conv", "channels": 4})
    assert autocast_nets(model, "bf16") == ["encoder", "decoder"]
    assert autocast_nets(model, "bf16") == []  # once only
    keys = set(model.state_dict())
    x = torch.rand(8, 1, 8, 8)
    assert model.encoder(x).dtype == torch.float32
    elbo = make_elbo("enum", max_plate_nesting=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        loss = model.loss(elbo, Batch(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert set(model.state_dict()) == keys
    assert losses[-1] < losses[0] and all(map(math.isfinite, losses))
    with pytest.raises(ConfigError, match="--autocast 'fp8' is not valid"):
        check_autocast("fp8", torch.device("cpu"))
    with pytest.raises(ConfigError, match="leave --autocast out"):
        check_autocast("bf16", torch.device("meta"))


def test_images_move_to_the_device_once_and_batches_index_them_there():
    splits = load_dataset("digits", None, seed=0, max_train=60)
    resident = splits.to("meta")  # a device without data: any copy back would fail
    assert resident.train.images.device.type == "meta"
    assert resident.train.targets is splits.train.targets  # labels stay on the host
    model = build_model("m2", DataInfo.from_splits(splits), {"hidden_dim": 16})
    plan = PLANS[model.plan](model, splits, batch_size=16, device="meta", labels=20)
    plan.splits = resident
    batches = list(plan.train_batches(torch.Generator().manual_seed(0)))
    assert len(batches) == plan.num_train_batches()
    assert all(b.x.device.type == "meta" and b.x.dtype == torch.float32 for b in batches)
    assert all(b.y is None or b.y.device.type == "meta" for b in batches)

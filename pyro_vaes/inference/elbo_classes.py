"""The ELBOs by name, and the rule that samples enumerated sites (shared by the eager and the
compiled losses)."""

from __future__ import annotations

from pyro.infer import ELBO, Trace_ELBO, TraceEnum_ELBO, TraceMeanField_ELBO

from pyro_vaes.descriptions import ELBO_DESCRIPTIONS  # noqa: F401 (exported)

ELBO_CLASSES: dict[str, type[ELBO]] = {
    "trace": Trace_ELBO,
    "meanfield": TraceMeanField_ELBO,
    "enum": TraceEnum_ELBO,
}


def sample_instead(msg: dict) -> dict:
    """``poutine.infer_config`` rule: sample the sites marked for enumeration."""
    return {"enumerate": None} if msg["infer"].get("enumerate") else {}

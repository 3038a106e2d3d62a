"""The ELBOs by name, and the rule that samples enumerated sites (shared by the eager and the
compiled losses)."""

from __future__ import annotations

from pyro.infer import ELBO, Trace_ELBO, TraceEnum_ELBO, TraceMeanField_ELBO

ELBO_CLASSES: dict[str, type[ELBO]] = {
    "trace": Trace_ELBO,
    "meanfield": TraceMeanField_ELBO,
    "enum": TraceEnum_ELBO,
}

ELBO_DESCRIPTIONS = {
    "trace": "Trace_ELBO: Monte Carlo for every term (score function for discrete sites)",
    "meanfield": "TraceMeanField_ELBO: analytic KL where a closed form exists",
    "enum": "TraceEnum_ELBO: discrete sites marked for enumeration are summed exactly",
}


def sample_instead(msg: dict) -> dict:
    """``poutine.infer_config`` rule: sample the sites marked for enumeration."""
    return {"enumerate": None} if msg["infer"].get("enumerate") else {}

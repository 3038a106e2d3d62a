"""`pyro-vaes list`: what the library offers."""

from __future__ import annotations

import click


def _section(title: str, rows: dict[str, str]) -> None:
    click.echo(f"{title}:")
    width = max(len(k) for k in rows)
    for key, text in rows.items():
        click.echo(f"  {key:<{width}}  {text}")


@click.command("list")
def list_command() -> None:
    """List models, priors, guides, likelihoods, ELBOs, nets and data sets."""
    from pyro_vaes.data import dataset_description, list_datasets
    from pyro_vaes.guides import GUIDE_DESCRIPTIONS
    from pyro_vaes.inference import ELBO_DESCRIPTIONS
    from pyro_vaes.likelihoods import LIKELIHOOD_DESCRIPTIONS
    from pyro_vaes.models import MODELS
    from pyro_vaes.nets import NET_DESCRIPTIONS
    from pyro_vaes.priors import PRIOR_DESCRIPTIONS

    _section("models", {name: cls.description for name, cls in MODELS.items()})
    _section("priors", PRIOR_DESCRIPTIONS)
    _section("guides", GUIDE_DESCRIPTIONS)
    _section("likelihoods", LIKELIHOOD_DESCRIPTIONS)
    _section("elbos", ELBO_DESCRIPTIONS)
    _section("nets", NET_DESCRIPTIONS)
    _section("data sets", {name: dataset_description(name) for name in list_datasets()})

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
    """List models, their recipes, priors, guides, likelihoods, ELBOs, nets and data sets."""
    # Light tables only: the list answers without loading torch or Pyro.
    from pyro_vaes import descriptions
    from pyro_vaes.models.catalog import CATALOG

    _section("models", {name: entry.description for name, entry in CATALOG.items()})
    _section("recipes (train MODEL --recipe NAME; elbo is the default)",
             {f"{name} {recipe.name}": recipe.summary for name, entry in CATALOG.items()
              for recipe in entry.recipes()})
    _section("priors", descriptions.PRIOR_DESCRIPTIONS)
    _section("guides", descriptions.GUIDE_DESCRIPTIONS)
    _section("likelihoods", descriptions.LIKELIHOOD_DESCRIPTIONS)
    _section("elbos", descriptions.ELBO_DESCRIPTIONS)
    _section("nets", descriptions.NET_DESCRIPTIONS)
    _section("data sets", descriptions.DATASET_DESCRIPTIONS)

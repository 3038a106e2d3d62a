"""A run's report: one self-contained HTML page (`pyro-vaes report RUN`).

The page shows the run's options, data and training curves, its evaluation figures, a
latent explorer (a slider per latent dimension moving through precomputed decoded frames,
beside each dimension's mutual information), the model's own interventions and its
predictions on the test split. Everything is embedded: the file opens from disk in any
current browser without a network.

- :mod:`.summary`: options, recipe, data, curves, evaluation;
- :mod:`.explorer`: the explorer's frames and mutual information;
- :mod:`.grids`: interventions and the confusion matrix;
- :mod:`.charts`, :mod:`.page`, ``page.css``, ``page.js``: the HTML;
- :mod:`.build`: :func:`write_report`.
"""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

_WHERE = {"ReportOptions": "pyro_vaes.report.build", "build_page": "pyro_vaes.report.build",
          "write_report": "pyro_vaes.report.build", "render": "pyro_vaes.report.page"}
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)

__all__ = sorted(_WHERE)

"""The report page as one HTML string: everything inline (CSS, the explorer's script, the
images as data URIs, the charts as SVG), nothing fetched from anywhere."""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from typing import Any

from pyro_vaes.report.charts import line_chart
from pyro_vaes.report.content import Confusion, Evaluation, Explorer, Page, Table


def prose(text: str) -> str:
    """Escaped text with `backquoted` spans set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _asset(name: str) -> str:
    return resources.files("pyro_vaes.report").joinpath(name).read_text()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.4f}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"<td>{escape(str(value))}</td>"


def table(t: Table) -> str:
    """A <table> with a caption and a note; marked rows get the ``marked`` class."""
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header) if any(t.header) else ""
    rows = []
    for i, row in enumerate(t.rows):
        marked = ' class="marked"' if i < len(t.marked) and t.marked[i] else ""
        rows.append(f"<tr{marked}>{''.join(_cell(v) for v in row)}</tr>")
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    return (f"<div><table><caption>{escape(t.title)}</caption>"
            f"{'<thead><tr>' + head + '</tr></thead>' if head else ''}"
            f"<tbody>{''.join(rows)}</tbody></table>{note}</div>")


def signed(value: float) -> str:
    """A value with its sign and two decimals, as the page's script writes it (never
    "-0.00")."""
    return f"{round(value, 2) + 0.0:+.2f}"


def _json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element (no ``<`` can close it)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def explorer_section(e: Explorer) -> str:
    """The strip of images, the picked image with its reconstruction, one slider per latent
    dimension (grouped by site, by decreasing mutual information), and the frames as JSON."""
    picks = "".join(
        f'<button class="pick" type="button" data-index="{i}" '
        f'aria-pressed="{"true" if i == 0 else "false"}" title="{escape(label)}">'
        f'<img class="px" src="{uri}" alt="{escape(label)}"><span>{escape(label.split(":")[0])}'
        f"</span></button>" for i, (uri, label) in enumerate(zip(e.images, e.image_labels,
                                                                   strict=True)))
    picked = (f'<div class="picked"><p id="picked-label">{escape(e.image_labels[0])}</p>'
              f'<div class="pair"><figure><img id="picked-original" class="px" '
              f'src="{e.images[0]}" alt="picked test image"><figcaption>test image'
              f'</figcaption></figure><figure><img id="picked-reconstruction" class="px" '
              f'src="{e.reconstructions[0]}" alt="its reconstruction"><figcaption>'
              f"reconstruction</figcaption></figure></div>"
              f'<button id="reset" type="button">Reset sliders</button></div>')
    if e.unavailable:
        body = f'<p class="unavailable">No sliders: {escape(e.unavailable)}</p>'
    else:
        top = max((f.mi for f in e.factors), default=0.0) or 1.0
        sites: dict[str, list[str]] = {}
        for index, f in enumerate(e.factors):
            start = f.reset[0]
            width = max(0.0, f.mi) / top * 46
            kl = "" if f.kl is None else f"; KL to the prior {f.kl:.3f} nats"
            sites.setdefault(f.site, []).append(
                f'<div class="factor" data-factor="{index}" data-site="{escape(f.site)}" '
                f'title="{escape(f.name)}: I(x; z) {f.mi:.3f} nats{kl}; range: '
                f'{escape(f.range_kind)}"><span class="name">{escape(f.name)}</span>'
                f'<span class="mi"><span class="track"><span class="bar" '
                f'style="width:{width:.1f}px"></span></span>{f.mi + 0.0:.3g}</span>'
                f'<input type="range" min="0" max="{e.steps - 1}" step="1" value="{start}" '
                f'aria-label="{escape(f.name)}">'
                f'<output>{signed(f.values[0][start])}</output>'
                f'<img class="frame px" src="{e.frames[0][index][start]}" '
                f'alt="{escape(f.name)} frame"></div>')
        body = "".join(f'<h3>{escape(site)} <span class="note">({len(rows)} dimensions, '
                       f"I(x; z) in nats)</span></h3><div class=\"site\">{''.join(rows)}</div>"
                       for site, rows in sites.items())
    data = (f'<script type="application/json" id="explorer-data">'
            f"{_json_for_script(explorer_data(e))}</script>")
    note = (f"Pick a test image; each slider sets one latent dimension (the others stay at the "
            f"image's posterior mean) and shows the decoded mean image, precomputed at "
            f"{e.steps} values: {escape(e.ranges) or 'none'}. Sliders are ordered within each "
            f"site by the mutual information I(x; z_j) (mixture estimate over "
            f"{e.mi_images} test images); Reset returns each slider to the frame nearest the "
            f"posterior mean.")
    return (f'<section id="explorer"><h2>Latent explorer</h2><p class="note">{note}</p>'
            f'<div class="strip">{picks}</div><div class="explorer-body">{picked}'
            f'<div class="sliders">{body}</div></div>{data}</section>')


def explorer_data(e: Explorer) -> dict[str, Any]:
    """What the page's script reads: images, frames[i][f][s], values[f][i][s], reset[f][i]."""
    return {"images": e.images, "reconstructions": e.reconstructions, "labels": e.image_labels,
            "names": [f.name for f in e.factors], "frames": e.frames,
            "values": [[[round(v, 5) for v in row] for row in f.values] for f in e.factors],
            "reset": [f.reset for f in e.factors]}


def evaluation_section(ev: Evaluation) -> str:
    rows = [[key, value] for key, value in ev.values.items()]
    body = table(Table("Evaluation", ["figure", "value"], rows))
    kind = "computed" if ev.computed else "read"
    return (f'<section id="evaluation"><h2>Evaluation</h2><p class="note">'
            f"<strong>{kind}</strong>: {prose(ev.source)}</p>{body}</section>")


def confusion_section(c: Confusion) -> str:
    if c.per_attribute is not None:
        rows = [[name, acc] for name, acc in zip(c.names, c.per_attribute, strict=True)]
        inner = table(Table("Accuracy per attribute", ["attribute", "accuracy"], rows))
    else:
        head = "".join(f"<th>{escape(n)}</th>" for n in c.names)
        rows = []
        for name, counts in zip(c.names, c.counts, strict=True):
            total = max(sum(counts), 1)
            cells = "".join(
                f'<td style="background: rgba(37, 99, 235, {n / total:.3f});'
                f'{" color: #fff;" if n / total > 0.55 else ""}">{n}</td>' for n in counts)
            rows.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
        inner = (f'<table class="confusion"><thead><tr><th>true \\ predicted</th>{head}</tr>'
                 f"</thead><tbody>{''.join(rows)}</tbody></table>")
    return (f'<section id="confusion"><h2>Predicted labels on the test split</h2>'
            f'<p class="note">Accuracy {c.accuracy:.4f} on {c.images} test images (the '
            f"model's own prediction); shading: the fraction of each true class.</p>"
            f"{inner}</section>")


def render(page: Page) -> str:
    """The whole page."""
    sections = [("explorer", "Latent explorer"), ("curves", "Training"),
                ("evaluation", "Evaluation")]
    if page.grids:
        sections.append(("interventions", "Interventions"))
    if page.confusion is not None:
        sections.append(("confusion", "Predictions"))
    sections.append(("run", "Run and options"))
    nav = "".join(f'<a href="#{key}">{escape(label)}</a>' for key, label in sections)
    charts = "".join(line_chart(s, page.loaded_epoch) for s in page.curves) or \
        '<p class="note">RUN/metrics.jsonl holds no epoch yet.</p>'
    curves = (f'<section id="curves"><h2>Training curves</h2><p class="note">Every numeric '
              f"quantity of RUN/metrics.jsonl per epoch; the dashed line marks the epoch of "
              f"the checkpoint shown ({page.loaded_epoch}).</p>"
              f'<div class="charts">{charts}</div></section>')
    grids = ""
    if page.grids:
        figures = "".join(f'<figure class="grid"><img src="{g.uri}" alt="{escape(g.title)}">'
                          f"<figcaption>{escape(g.title)}</figcaption></figure>"
                          for g in page.grids)
        grids = (f'<section id="interventions"><h2>Interventions</h2><p class="note">The '
                 f"model's own interventions on test images, as <code>pyro-vaes intervene</code> "
                 f"draws them (its default options).</p><div class=\"figures\">{figures}</div>"
                 f"</section>")
    overview, options = page.overview[:2], page.overview[2:]
    run = (f'<section id="run"><h2>Run and options</h2><div class="cards">'
           f"{''.join(table(t) for t in overview)}</div><p class=\"note\">Options marked * "
           f"differ from their defaults.</p><div class=\"cards\">"
           f"{''.join(table(t) for t in options)}</div></section>")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in page.notes)
    confusion = confusion_section(page.confusion) if page.confusion is not None else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(page.title)}</title><style>{_asset('page.css')}</style></head>"
            f"<body><header><h1>{escape(page.title)}</h1><p class=\"subtitle\">"
            f"{escape(page.subtitle)}</p><nav>{nav}</nav></header><main>{notes}"
            f"{explorer_section(page.explorer)}{curves}{evaluation_section(page.evaluation)}"
            f"{grids}{confusion}{run}</main><script>{_asset('page.js')}</script></body>"
            "</html>\n")

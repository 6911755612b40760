"""Drawing small relationship subgraphs: one finding's paths, or one person's neighbourhood.

A finding's evidence carries ``nodes`` ({id, label}) and ``edges`` ({source,
target, label}); ``render_svg`` lays them out with networkx (seeded spring
layout, so the drawing is reproducible) and writes inline SVG with no external
assets. Node ids start with their kind: ``S:`` staff post, ``P:`` person,
``C:`` case, ``A:`` bank account, ``F:`` filing or record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape

import networkx as nx
import polars as pl
from markupsafe import Markup

KIND_STYLE = {"S": ("#c0392b", "工作人员"), "P": ("#2e86c1", "人员"), "C": ("#27ae60", "案件"),
              "A": ("#e67e22", "账户"), "F": ("#7f8c8d", "备案/记录")}
MAX_DRAWN = 20


def build_graph(nodes: list[dict], edges: list[dict]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for n in nodes:
        g.add_node(n["id"], label=n.get("label") or n["id"])
    for e in edges:
        g.add_edge(e["source"], e["target"], label=e.get("label") or "")
    return g


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def text_width(text: str, size: float = 11) -> float:
    """Approximate rendered width of ``text``: a Chinese character is one em, other characters 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in text)


def render_svg(nodes: list[dict], edges: list[dict], width: int = 640, height: int | None = None) -> Markup:
    """Inline SVG of a small graph (seeded spring layout; labels shortened, full text in <title>).

    The viewBox is computed from the node positions plus the extents of every label, so nothing is
    clipped; the drawing scales to the page width (``width`` is its natural width). Labels of edges
    between the same two nodes are spread apart instead of drawn on top of each other.
    """
    g = build_graph(nodes, edges)
    if not g:
        return Markup("")
    height = height or min(200 + 25 * max(len(g) - 4, 0), 420)
    pos = nx.spring_layout(nx.Graph(g), seed=7, k=1.6 / max(len(g), 1) ** 0.5) if len(g) > 1 else {
        next(iter(g)): (0.0, 0.0)}
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]

    def at(v: str) -> tuple[float, float]:
        x, y = pos[v]
        sx = (x - min(xs)) / ((max(xs) - min(xs)) or 1)
        sy = (y - min(ys)) / ((max(ys) - min(ys)) or 1)
        return sx * width, sy * height

    boxes: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 of everything drawn
    parts: list[str] = []
    pair_count: dict[frozenset, int] = {}
    for u, v, _ in g.edges(data=True):
        key = frozenset((u, v))
        pair_count[key] = pair_count.get(key, 0) + 1
    pair_seen: dict[frozenset, int] = {}
    for u, v, data in g.edges(data=True):
        (x1, y1), (x2, y2) = at(u), at(v)
        key = frozenset((u, v))
        k, n = pair_seen.get(key, 0), pair_count[key]
        pair_seen[key] = k + 1
        (ax, ay), (bx, by) = sorted([(x1, y1), (x2, y2)])  # one normal per pair, whatever the direction
        length = max(((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5, 1)
        nx_, ny_ = -(by - ay) / length, (bx - ax) / length  # unit normal: spread parallel labels along it
        shift = (k - (n - 1) / 2) * 14
        lx, ly = x1 * 0.5 + x2 * 0.5 + nx_ * shift, y1 * 0.5 + y2 * 0.5 + ny_ * shift - 3
        label = _short(data["label"], 14)
        half = text_width(label) / 2
        boxes += [(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), (lx - half, ly - 11, lx + half, ly + 3)]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999" '
                     f'marker-end="url(#arr)"><title>{escape(data["label"])}</title></line>')
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" fill="#555" text-anchor="middle" paint-order="stroke" '
                     f'stroke="#fff" stroke-width="3">{escape(label)}</text>')
    for v, data in g.nodes(data=True):
        x, y = at(v)
        color = KIND_STYLE.get(v.split(":", 1)[0], ("#555", ""))[0]
        label = _short(data["label"])
        half = text_width(label) / 2
        boxes += [(x - 9, y - 9, x + 9, y + 9), (x - half, y + 10, x + half, y + 25)]
        parts.append(f'<g><title>{escape(data["label"])}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="9" '
                     f'fill="{color}"/><text x="{x:.1f}" y="{y + 21:.1f}" text-anchor="middle">'
                     f'{escape(label)}</text></g>')
    margin = 8
    x0, y0 = min(b[0] for b in boxes) - margin, min(b[1] for b in boxes) - margin
    vw, vh = max(b[2] for b in boxes) + margin - x0, max(b[3] for b in boxes) + margin - y0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="100%" '
           f'viewBox="{x0:.1f} {y0:.1f} {vw:.1f} {vh:.1f}" style="max-width:{vw:.0f}px;height:auto" '
           f'preserveAspectRatio="xMidYMid meet" font-size="11" font-family="sans-serif">',
           '<defs><marker id="arr" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>',
           *parts, "</svg>"]
    return Markup("".join(out))


def legend() -> Markup:
    items = "".join(f'<span style="color:{c}">●</span> {escape(t)}　' for c, t in KIND_STYLE.values())
    return Markup(f'<p class="small">{items}</p>')


def relations_section(frame: pl.DataFrame, names: dict[str, str],
                      mask: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> dict | None:
    """The report's 关系线索 section: K/C findings with their paths, the top ``MAX_DRAWN`` drawn
    (``mask``, if given, applied to them)."""
    from auditor.core.vocab import SEVERITIES
    from auditor.engine.runner import rules_in
    from auditor.reporting.env import environment

    rows = frame.filter(pl.col("rule").is_in(rules_in("drawn")))
    if not rows.height:
        return None
    rank = pl.col("severity").replace_strict({s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int8)
    top = rows.sort([rank, pl.col("amount_fen").fill_null(0), "finding_id"], descending=[False, True, False])
    items = []
    drawn = top.head(MAX_DRAWN)
    for r in (mask(drawn) if mask else drawn).iter_rows(named=True):
        ev = json.loads(r["evidence"])
        items.append({"finding_id": r["finding_id"], "rule": r["rule"], "rule_name": names.get(r["rule"], ""),
                      "severity": r["severity"], "title": r["title"], "paths": ev.get("paths", []),
                      "svg": render_svg(ev.get("nodes", []), ev.get("edges", []), width=900)})
    html = environment().get_template("_relations.html.j2").render(
        items=items, total=rows.height, shown=len(items), legend=legend())
    return {"title": "关系线索（近亲属、关系保、卡折代管）", "html": Markup(html)}

"""Small inline SVG charts for printed pages (no scripts, no external assets): columns over months,
horizontal bars per category (optionally two series side by side). With ``links`` each column or group of
bars is a link (an SVG ``<a>``), e.g. to the worklist behind it."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from auditor.reporting.drawings import text_width

COLORS = ("#1f4e79", "#e67e22", "#27ae60", "#c0392b")


def _link(href: str | None, label: str, body: str) -> str:
    return f'<a href="{escape(href)}" class="chart-link" aria-label="{escape(label)}">{body}</a>' if href else body


def columns(title: str, labels: list[str], values: list[int], width: int = 720, height: int = 220,
            links: list[str] | None = None) -> Markup:
    """One column per label (e.g. findings per month) with its value on top."""
    top = max(values, default=0) or 1
    n = max(len(labels), 1)
    slot = (width - 40) / n
    bar = min(slot * 0.6, 60)
    base = height - 28
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" '
             f'width="100%" viewBox="0 0 {width} {height}" font-size="12" '
             f'font-family="sans-serif"><line x1="30" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (base - 20) * value / top
        x = 30 + slot * i + (slot - bar) / 2
        parts.append(_link(links[i] if links else None, f"{label}：{value}",
                           f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="{COLORS[0]}"><title>{escape(label)}：{value}</title></rect>'
                           f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">{value}</text>'
                           f'<text x="{x + bar / 2:.1f}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>'))
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(title: str, labels: list[str], series: dict[str, list[int]], width: int = 720,
         links: list[str] | None = None) -> Markup:
    """Horizontal bars, one group per label and one bar per series, with a legend."""
    names = list(series)
    top = max((v for values in series.values() for v in values), default=0) or 1
    left = max((text_width(label, 12) for label in labels), default=40) + 16
    row = 8 + 14 * len(names)
    height = 30 + row * len(labels) + 10
    scale = (width - left - 60) / top
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" '
             f'width="100%" viewBox="0 0 {width} {height}" font-size="12" '
             f'font-family="sans-serif">']
    x = left
    for k, name in enumerate(names):
        parts.append(f'<rect x="{x:.0f}" y="6" width="10" height="10" fill="{COLORS[k % len(COLORS)]}"/>'
                     f'<text x="{x + 14:.0f}" y="15">{escape(name)}</text>')
        x += text_width(name, 12) + 34
    for i, label in enumerate(labels):
        y = 30 + row * i
        group = [f'<text x="{left - 8:.0f}" y="{y + row / 2 + 2:.0f}" text-anchor="end">{escape(label)}</text>']
        for k, name in enumerate(names):
            value = series[name][i]
            by = y + 4 + 14 * k
            group.append(f'<rect x="{left:.0f}" y="{by}" width="{value * scale:.1f}" height="11" '
                         f'fill="{COLORS[k % len(COLORS)]}"><title>{escape(label)} {escape(name)}：{value}</title>'
                         f'</rect><text x="{left + value * scale + 4:.1f}" y="{by + 10}">{value}</text>')
        summary = "，".join(f"{name} {series[name][i]}" for name in names)
        parts.append(_link(links[i] if links else None, f"{label}：{summary}", "".join(group)))
    parts.append("</svg>")
    return Markup("".join(parts))

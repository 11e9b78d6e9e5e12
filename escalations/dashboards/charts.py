"""Charts drawn on the server as SVG: no script and no chart library in the browser.

Each chart is an image with a text alternative that states its figures; the data table beside
it (with the links to the lists behind each figure) is the full account for screen readers.
Only presentation attributes are used, never style attributes, so a strict CSP allows them."""

from __future__ import annotations

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from escalations.dashboards.tables import Table

BLUE = "#1d70b8"
GREEN = "#00703c"
TEXT = "#0b0c0c"
GREY = "#b1b4b6"
WIDTH = 640
FONT = "GDS Transport, arial, sans-serif"


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _svg(slug: str, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    return format_html(
        '<svg class="portal-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="100%" role="img" aria-labelledby="chart-{s}-title chart-{s}-desc" '
        'font-family="{font}" font-size="14">'
        '<title id="chart-{s}-title">{title}</title><desc id="chart-{s}-desc">{desc}</desc>'
        "{body}</svg>",
        w=WIDTH,
        h=height,
        s=slug,
        font=FONT,
        title=title,
        desc=desc,
        body=format_html_join("", "{}", ((part,) for part in body)),
    )


def bar_chart(table: Table, column: int = 1) -> SafeString:
    """Horizontal bars, one per row, for a table of counts."""
    series = table.series(column)
    if not series:
        return SafeString("")
    label_width, value_space, row_height = 260, 60, 28
    bar_space = WIDTH - label_width - value_space
    top = max((value for _, value, _ in series), default=0) or 1
    body = []
    for i, (label, value, _) in enumerate(series):
        y = i * row_height
        length = round(bar_space * value / top, 1)
        body.append(
            format_html(
                '<text x="{lx}" y="{ty}" text-anchor="end" fill="{text}">{label}</text>'
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="{blue}"></rect>'
                '<text x="{vx}" y="{ty}" fill="{text}">{value}</text>',
                lx=label_width - 8,
                ty=y + 19,
                label=_short(label),
                bx=label_width,
                by=y + 4,
                bw=length,
                bh=row_height - 8,
                vx=label_width + length + 6,
                value=_number(value),
                text=TEXT,
                blue=BLUE,
            )
        )
    desc = "; ".join(f"{label}: {_number(value)}" for label, value, _ in series)
    header = table.headers[column].lower()
    return _svg(table.slug, len(series) * row_height + 4, f"{table.caption} ({header})", desc, body)


def column_chart(table: Table) -> SafeString:
    """Paired columns over time (raised and resolved per month or quarter)."""
    rows = table.rows
    if not rows:
        return SafeString("")
    left, bottom, top_margin, height = 40, 40, 30, 260
    plot_height = height - bottom - top_margin
    step = (WIDTH - left) / len(rows)
    bar = max(step / 2 - 1, 1)
    peak = max((max(r[1].value or 0, r[2].value or 0) for r in rows), default=0) or 1
    body = [
        format_html(
            '<rect x="{x}" y="4" width="12" height="12" fill="{blue}"></rect>'
            '<text x="{tx}" y="15" fill="{text}">{raised}</text>'
            '<rect x="{x2}" y="4" width="12" height="12" fill="{green}"></rect>'
            '<text x="{tx2}" y="15" fill="{text}">{resolved}</text>'
            '<line x1="{l}" y1="{base}" x2="{w}" y2="{base}" stroke="{grey}"></line>'
            '<text x="{lm}" y="{ty}" text-anchor="end" fill="{text}">{peak}</text>',
            x=left,
            tx=left + 16,
            x2=left + 100,
            tx2=left + 116,
            raised=table.headers[1],
            resolved=table.headers[2],
            blue=BLUE,
            green=GREEN,
            grey=GREY,
            text=TEXT,
            l=left,
            w=WIDTH,
            base=height - bottom,
            lm=left - 4,
            ty=top_margin + 10,
            peak=_number(peak),
        )
    ]
    label_every = max(1, round(len(rows) / 8))
    for i, row in enumerate(rows):
        x = left + i * step
        for offset, cell, colour in ((0, row[1], BLUE), (bar, row[2], GREEN)):
            h = round(plot_height * (cell.value or 0) / peak, 1)
            body.append(
                format_html(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"></rect>',
                    x=round(x + offset, 1),
                    y=round(height - bottom - h, 1),
                    w=round(bar, 1),
                    h=h,
                    c=colour,
                )
            )
        if i % label_every == 0:
            body.append(
                format_html(
                    '<text x="{x}" y="{y}" fill="{text}" font-size="12">{label}</text>',
                    x=round(x, 1),
                    y=height - bottom + 18,
                    text=TEXT,
                    label=_short(row[0].text, 12),
                )
            )
    desc = "; ".join(
        f"{row[0].text}: {row[1].text} {table.headers[1].lower()}, "
        f"{row[2].text} {table.headers[2].lower()}"
        for row in rows
    )
    return _svg(table.slug, height, table.caption, desc, body)


def chart_for(table: Table) -> SafeString:
    if table.chart == "bar":
        return bar_chart(table)
    if table.chart == "columns":
        return column_chart(table)
    return SafeString("")


def _number(value: float) -> str:
    return escape(f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}")

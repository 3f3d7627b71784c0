"""Charts as data for server-rendered SVG (templates/reports/_charts.html).

Geometry is worked out here, markup is in the template: no script, no inline style
(the Content-Security-Policy allows neither), so a chart prints and reads the same
without JavaScript. Colours are SVG ``fill`` attributes (program colours from
PluginMeta.colour, checked as hex when the plugin loads) or CSS classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 640
LABEL_W = 190  # the labels' column
VALUE_W = 110  # room for the value after the longest bar
ROW_H = 26
BAR_H = 18
TOP = 6


def count(n: int | float | Decimal | None) -> str:
    if n is None:
        return "—"
    return f"{n:,.0f}" if isinstance(n, float) else f"{n:,}"


def hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal: 90 → 1.5."""
    return "—" if minutes is None else f"{minutes / 60:,.1f}"


def percent(ratio: float | None, digits: int = 1) -> str:
    return "—" if ratio is None else f"{ratio * 100:.{digits}f} %"


def short(label: str, limit: int = 13) -> str:
    """A label that fits the labels' column (the table beside the chart has it whole)."""
    return label if len(label) <= limit else label[:limit - 1] + "…"


@dataclass
class Segment:
    x: float
    width: float
    title: str  # read by screen readers and shown as a tooltip
    fill: str | None = None  # a hex colour, else the css class colours it
    css: str = ""


@dataclass
class Row:
    label: str
    value: str
    y: float
    segments: list[Segment] = field(default_factory=list)
    full: str = ""  # the label before it was shortened

    @property
    def text_y(self) -> float:
        return self.y + BAR_H - 5

    @property
    def end(self) -> float:
        return max((s.x + s.width for s in self.segments), default=LABEL_W)


@dataclass
class BarChart:
    """Horizontal bars, each of one or more stacked segments."""

    id: str
    title: str
    rows: list[Row]
    legend: list[tuple[str, str | None, str]] = field(default_factory=list)  # label, fill, css
    width: int = WIDTH
    label_w: int = LABEL_W
    bar_h: int = BAR_H

    @property
    def height(self) -> int:
        return int(TOP * 2 + ROW_H * max(1, len(self.rows)))

    @property
    def empty(self) -> bool:
        return not any(r.segments for r in self.rows)


def bar_chart(chart_id: str, title: str, items: list[tuple[str, float, str]],
              fill: dict[str, str] | None = None, css: str = "bar",
              scale_max: float | None = None) -> BarChart:
    """One bar per item: (label, value, value text). ``fill`` maps labels to colours."""
    fills = fill or {}
    # A program's colour is its fill attribute alone: a class's CSS fill would win over it.
    return stacked_chart(chart_id, title,
                         [(label, [(label, v, fills.get(label), "" if label in fills else css)],
                           text) for label, v, text in items], scale_max=scale_max)


def stacked_chart(chart_id: str, title: str,
                  items: list[tuple[str, list[tuple[str, float, str | None, str]], str]],
                  legend: list[tuple[str, str | None, str]] | None = None,
                  scale_max: float | None = None) -> BarChart:
    """Rows of stacked segments: (label, [(segment title, value, fill, css)], value text).
    Bars share one scale (the longest row, or ``scale_max``); negative values (a credit
    note larger than the month's invoices) are drawn as zero."""
    longest = max((sum(max(0.0, v) for _t, v, _f, _c in segs) for _l, segs, _x in items),
                  default=0.0)
    top = scale_max if scale_max else longest
    span = WIDTH - LABEL_W - VALUE_W
    rows = []
    for i, (label, segs, text) in enumerate(items):
        y = TOP + i * ROW_H + (ROW_H - BAR_H) / 2
        x = float(LABEL_W)
        row = Row(short(label), text, y, full=label)
        for seg_title, value, seg_fill, seg_css in segs:
            w = span * max(0.0, value) / top if top else 0.0
            if w > 0:
                row.segments.append(Segment(round(x, 1), round(max(w, 1.0), 1), seg_title,
                                            seg_fill, seg_css))
                x += w
        rows.append(row)
    return BarChart(chart_id, title, rows, legend or [])


@dataclass
class Column:
    label: str
    value: str
    x: float
    y: float
    height: float


@dataclass
class ColumnChart:
    """Vertical columns (visits per month of a fiscal year)."""

    id: str
    title: str
    columns: list[Column]
    width: int = WIDTH
    height: int = 200
    base: int = 170  # the baseline's y; labels below it
    column_w: float = 30


def column_chart(chart_id: str, title: str, items: list[tuple[str, float, str]]
                 ) -> ColumnChart:
    top = max((v for _l, v, _t in items), default=0) or 1
    slot = WIDTH / max(1, len(items))
    chart = ColumnChart(chart_id, title, [], column_w=min(40.0, slot * 0.6))
    usable = chart.base - 24  # room above the tallest column for its value
    for i, (label, value, text) in enumerate(items):
        h = usable * max(0.0, value) / top
        x = i * slot + (slot - chart.column_w) / 2
        chart.columns.append(Column(label, text, round(x, 1), round(chart.base - h, 1),
                                    round(h, 1)))
    return chart

"""Charts as SVG drawn on the server: no script, readable without colour (direct value labels,
a hatch pattern for the second series), each with a <title> and <desc> for screen readers.

The page shows each chart's numbers in a table beside it as well.

Each chart is drawn twice: wide for a desktop, narrow for a phone (the stylesheet shows one).
A drawing scales to its box's width, and so does its text: the wide one at a phone's width
would shrink 12-unit labels to 5 pixels, so the narrow one is laid out for about 320 pixels,
where its text stays at least 12 pixels high.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
INK = "#1c2430"
MUTED = "#5b6675"
GRID = "#d9dee5"
BAR = "#1f5fbf"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
WIDE, NARROW = 720, 320
# The narrow drawing's text, in its own units: 12 pixels or more once scaled to 296 pixels.
NARROW_FONT = 13
# Roughly how wide a character of the narrow drawing's text is, to keep words inside it.
NARROW_CHAR = 7.2


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    # A second series drawn inside the bar with a hatch pattern (e.g. attended of registered).
    part: int | None = None
    note: str = ""


def _svg(chart_id: str, title: str, description: str, width: int, height: int) -> ET.Element:
    narrow = width == NARROW
    if narrow:
        chart_id += "-narrow"
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "class": "chart",
            "font-family": FONT,
            "font-size": str(NARROW_FONT if narrow else 12),
        },
    )
    ET.SubElement(root, "title", {"id": f"{chart_id}-title"}).text = title
    ET.SubElement(root, "desc", {"id": f"{chart_id}-desc"}).text = description
    return root


def _text(parent: ET.Element, x: float, y: float, content: str, **attributes: str) -> None:
    element = ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", **attributes})
    element.text = content


def _line(parent: ET.Element, x1: float, y1: float, x2: float, y2: float, **attrs: str) -> None:
    ET.SubElement(
        parent,
        "line",
        {"x1": f"{x1:.1f}", "y1": f"{y1:.1f}", "x2": f"{x2:.1f}", "y2": f"{y2:.1f}", **attrs},
    )


def _rect(parent: ET.Element, x: float, y: float, w: float, h: float, **attrs: str) -> None:
    ET.SubElement(
        parent,
        "rect",
        {"x": f"{x:.1f}", "y": f"{y:.1f}", "width": f"{w:.1f}", "height": f"{h:.1f}", **attrs},
    )


def _hatch(root: ET.Element, chart_id: str) -> str:
    defs = ET.SubElement(root, "defs")
    pattern = ET.SubElement(
        defs,
        "pattern",
        {
            "id": f"{chart_id}-hatch",
            "patternUnits": "userSpaceOnUse",
            "width": "6",
            "height": "6",
            "patternTransform": "rotate(45)",
        },
    )
    _rect(pattern, 0, 0, 6, 6, fill="#ffffff")
    _line(pattern, 0, 0, 0, 6, stroke=INK, **{"stroke-width": "3"})
    return f"url(#{chart_id}-hatch)"


def _nice_top(value: int) -> tuple[int, int]:
    """An axis maximum at or above `value` and a tick step that divides it (1, 2 or 5 x 10^n)."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    return int(math.ceil(value / step) * step), step


def _render(root: ET.Element) -> Markup:
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704 (built by ElementTree)


def _both(wide: ET.Element, narrow: ET.Element) -> Markup:
    """The two drawings of one chart; the stylesheet shows the one that fits the screen."""
    return (
        Markup('<div class="chart-wide">')
        + _render(wide)
        + Markup('</div><div class="chart-narrow">')
        + _render(narrow)
        + Markup("</div>")
    )


def _fit(text: str, room: float) -> str:
    """`text` cut to the characters that fit in `room` units of the narrow drawing."""
    most = max(int((room + 1) / NARROW_CHAR), 4)
    return text if len(text) <= most else text[: most - 1] + "…"


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: list[Bar],
    x_label: str,
    y_label: str,
    marker: tuple[int, str] | None = None,
) -> Markup:
    """Vertical bars over time, each with its value written above it (while there is room).

    `marker`: (index of a bar, words) draws a dashed line there, such as the event's day.
    """

    def draw(width: int) -> ET.Element:
        narrow = width == NARROW
        height = 260 if narrow else 300
        left, right, top, bottom = (48, 8, 28, 78) if narrow else (56, 16, 28, 70)
        plot_w, plot_h = width - left - right, height - top - bottom
        root = _svg(chart_id, title, description, width, height)
        axis_top, step = _nice_top(max((bar.value for bar in bars), default=0))

        for tick in range(0, axis_top + 1, step):
            y = top + plot_h - plot_h * tick / axis_top
            _line(root, left, y, left + plot_w, y, stroke=GRID)
            _text(root, left - 6, y + 4, str(tick), fill=MUTED, **{"text-anchor": "end"})
        _line(root, left, top + plot_h, left + plot_w, top + plot_h, stroke=INK)
        _line(root, left, top, left, top + plot_h, stroke=INK)

        count = max(len(bars), 1)
        slot = plot_w / count
        bar_w = max(slot * 0.7, 1.0)
        # Show at most ~16 date labels (6 on a phone); every bar keeps its value label while
        # there is room.
        label_every = max(1, math.ceil(count / (6 if narrow else 16)))
        for index, bar in enumerate(bars):
            x = left + slot * index + (slot - bar_w) / 2
            bar_h = plot_h * bar.value / axis_top
            y = top + plot_h - bar_h
            _rect(root, x, y, bar_w, bar_h, fill=BAR)
            centre = x + bar_w / 2
            if slot >= (22 if narrow else 16):
                _text(root, centre, y - 4, str(bar.value), fill=INK, **{"text-anchor": "middle"})
            if index % label_every == 0:
                _text(
                    root,
                    centre,
                    top + plot_h + 14,
                    bar.label,
                    fill=INK,
                    transform=f"rotate(-40 {centre:.1f} {top + plot_h + 14:.1f})",
                    **{"text-anchor": "end"},
                )
        if marker is not None and 0 <= marker[0] < len(bars):
            x = left + slot * marker[0] + slot / 2
            _line(root, x, top - 6, x, top + plot_h, stroke=INK, **{"stroke-dasharray": "4 3"})
            # Written towards the middle, so a marker near the right edge stays inside.
            anchor = {"text-anchor": "end"} if x > width / 2 else {}
            _text(root, x + (-4 if anchor else 4), top - 10, marker[1], fill=INK, **anchor)

        _text(root, left + plot_w / 2, height - 4, x_label, fill=INK, **{"text-anchor": "middle"})
        _text(
            root,
            14,
            top + plot_h / 2,
            y_label,
            fill=INK,
            transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
            **{"text-anchor": "middle"},
        )
        return root

    return _both(draw(WIDE), draw(NARROW))


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: list[Bar],
    value_label: str,
    part_label: str | None = None,
) -> Markup:
    """Horizontal bars, one a row, labelled on the left and with their values on the right.

    When bars carry a `part`, it is drawn hatched inside the bar and a legend names both.
    On a phone each label goes above its bar, which leaves the bars room.
    """
    chart = _BarChart(chart_id, title, description, bars, value_label, part_label)
    return _both(_bars(chart), _stacked_bars(chart))


@dataclass(frozen=True)
class _BarChart:
    chart_id: str
    title: str
    description: str
    bars: list[Bar]
    value_label: str
    part_label: str | None


def _bar(
    root: ET.Element, x: float, y: float, h: float, width: float, bar: Bar, hatch: str
) -> None:
    """One bar `width` long, its part hatched inside it; `width` is the bar's full value's."""
    _rect(root, x, y, width, h, fill=BAR)
    if bar.part and bar.value:
        _rect(root, x, y + 5, width * bar.part / bar.value, h - 10, fill=hatch, stroke=INK)


def _bars(chart: _BarChart) -> ET.Element:
    bars, part_label, value_label = chart.bars, chart.part_label, chart.value_label
    row_h, gap = 26, 10
    left, right, top = 190, 170, 34 if part_label else 12
    width = WIDE
    plot_w = width - left - right
    height = top + len(bars) * (row_h + gap) + 30
    root = _svg(chart.chart_id, chart.title, chart.description, width, height)
    hatch = _hatch(root, chart.chart_id) if part_label else ""
    top_value = max((bar.value for bar in bars), default=0) or 1

    if part_label:
        _legend(root, left, value_label, part_label, hatch)

    for index, bar in enumerate(bars):
        y = top + index * (row_h + gap)
        _text(
            root,
            left - 8,
            y + row_h / 2 + 4,
            bar.label[:28],
            fill=INK,
            **{"text-anchor": "end"},
        )
        bar_w = plot_w * bar.value / top_value
        _bar(root, left, y, row_h, bar_w, bar, hatch)
        words = bar.note or str(bar.value)
        _text(root, left + bar_w + 6, y + row_h / 2 + 4, words, fill=INK)
    axis_y = top + len(bars) * (row_h + gap) - gap / 2
    _line(root, left, top - 4, left, axis_y, stroke=INK)
    _text(root, left + plot_w / 2, height - 6, value_label, fill=MUTED, **{"text-anchor": "middle"})
    return root


def _stacked_bars(chart: _BarChart) -> ET.Element:
    """The phone's bar chart: each label on a line of its own, its bar and value below it."""
    bars, part_label, value_label = chart.bars, chart.part_label, chart.value_label
    width = NARROW
    label_h, bar_h, gap = 18, 20, 12
    top = 32 if part_label else 4
    row = label_h + bar_h + gap
    height = top + len(bars) * row + 24
    root = _svg(chart.chart_id, chart.title, chart.description, width, height)
    hatch = _hatch(root, chart.chart_id + "-narrow") if part_label else ""
    top_value = max((bar.value for bar in bars), default=0) or 1
    # The longest value's words sit after the longest bar, inside the drawing.
    words_w = max((len(bar.note or str(bar.value)) for bar in bars), default=1) * NARROW_CHAR
    plot_w = max(width - 2 - min(words_w + 6, width * 0.6), 40)

    if part_label:
        _legend(root, 1, value_label, part_label, hatch)

    for index, bar in enumerate(bars):
        y = top + index * row
        _text(root, 1, y + label_h - 5, _fit(bar.label, width), fill=INK)
        bar_w = plot_w * bar.value / top_value
        _bar(root, 1, y + label_h, bar_h, bar_w, bar, hatch)
        words = bar.note or str(bar.value)
        _text(root, bar_w + 7, y + label_h + bar_h - 5, _fit(words, width - bar_w - 8), fill=INK)
    _text(root, 1, height - 6, value_label, fill=MUTED)
    return root


def _legend(root: ET.Element, x: float, value_label: str, part_label: str, hatch: str) -> None:
    """Solid for the value, hatched for its part, on the drawing's first line."""
    em = NARROW_CHAR if root.get("font-size") == str(NARROW_FONT) else 7.5
    _rect(root, x, 8, 14, 14, fill=BAR)
    _text(root, x + 20, 19, value_label, fill=INK)
    legend_x = x + 30 + em * len(value_label)
    _rect(root, legend_x, 8, 14, 14, fill=hatch, stroke=INK)
    _text(root, legend_x + 20, 19, part_label, fill=INK)

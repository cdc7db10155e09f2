"""Charts as SVG drawn on the server: no script, readable without colour (direct value labels,
a hatch pattern for the second series), each with a <title> and <desc> for screen readers.

The page shows each chart's numbers in a table beside it as well.
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


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    # A second series drawn inside the bar with a hatch pattern (e.g. attended of registered).
    part: int | None = None
    note: str = ""


def _svg(chart_id: str, title: str, description: str, width: int, height: int) -> ET.Element:
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
            "font-size": "12",
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
    width, height = 720, 300
    left, right, top, bottom = 56, 16, 28, 70
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
    # Show at most ~16 date labels; every bar keeps its value label while there is room.
    label_every = max(1, math.ceil(count / 16))
    for index, bar in enumerate(bars):
        x = left + slot * index + (slot - bar_w) / 2
        bar_h = plot_h * bar.value / axis_top
        y = top + plot_h - bar_h
        _rect(root, x, y, bar_w, bar_h, fill=BAR)
        centre = x + bar_w / 2
        if slot >= 16:
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
        _text(root, x + 4, top - 10, marker[1], fill=INK, **{"font-weight": "600"})

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
    return _render(root)


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
    """
    row_h, gap = 26, 10
    left, right, top = 190, 170, 34 if part_label else 12
    width = 720
    plot_w = width - left - right
    height = top + len(bars) * (row_h + gap) + 30
    root = _svg(chart_id, title, description, width, height)
    hatch = _hatch(root, chart_id) if part_label else ""
    top_value = max((bar.value for bar in bars), default=0) or 1

    if part_label:
        _rect(root, left, 8, 14, 14, fill=BAR)
        _text(root, left + 20, 19, value_label, fill=INK)
        legend_x = left + 30 + 7.5 * len(value_label)
        _rect(root, legend_x, 8, 14, 14, fill=hatch, stroke=INK)
        _text(root, legend_x + 20, 19, part_label, fill=INK)

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
        _rect(root, left, y, bar_w, row_h, fill=BAR)
        if bar.part:
            part_w = plot_w * bar.part / top_value
            _rect(root, left, y + 5, part_w, row_h - 10, fill=hatch, stroke=INK)
        words = bar.note or str(bar.value)
        _text(root, left + bar_w + 6, y + row_h / 2 + 4, words, fill=INK)
    axis_y = top + len(bars) * (row_h + gap) - gap / 2
    _line(root, left, top - 4, left, axis_y, stroke=INK)
    _text(root, left + plot_w / 2, height - 6, value_label, fill=MUTED, **{"text-anchor": "middle"})
    return _render(root)

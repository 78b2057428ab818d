"""Bar charts as data for server-rendered SVG: no JavaScript, no charting library.

Each bar carries its exact value for the tooltip and the table beside the chart, so what the
chart shows is the number the database holds. What the chart prints is sized to fit: labels
wrap onto up to three lines (the full text is in the tooltip when even that is too short), and
a value is printed above its bar, abbreviated (98.8M, 9877万), when it fits the bar's width."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation

WIDTH = 360  # about a dashboard card's inner width at 1280 px, so 10 units print as 10 px
LEFT = 6
PLOT_TOP = 16  # room above the tallest bar for its value
PLOT_HEIGHT = 150
LINE_HEIGHT = 12
MAX_LABEL_LINES = 3
LABEL_FONT = 10  # px; labels of a crowded chart (narrow columns) print at DENSE_FONT
DENSE_FONT = 9
DENSE_SLOT = 40  # a column narrower than this is crowded
VALUE_FONT = 9
# Advances in em of the sans-serif fonts browsers use (DejaVu, Noto, Segoe UI, PingFang),
# rounded up: a text thought to fit does.
_NARROW = set(" .,:;'!|/()[]-ijlrtf")
_BROAD = set("MWmw@%")

ELLIPSIS = "…"


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal | int
    value_text: str
    series: str
    series_label: str
    short_text: str = ""  # printed above the bar; empty when it would not fit

    @property
    def value_attr(self) -> str:
        """The exact value, locale-independent (for tests and scripts reading the chart)."""
        return f"{self.value:.2f}" if isinstance(self.value, Decimal) else str(self.value)

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return round(self.y - 3, 1)


@dataclass
class Group:
    label: str
    bars: list[Bar]
    label_x: float
    slot_x: float
    slot_width: float
    lines: list[str]

    @property
    def tooltip(self) -> str:
        """The full label and every value of the group, for the hover area over its slot."""
        values = "\n".join(f"{bar.series_label}: {bar.value_text}" for bar in self.bars)
        return f"{self.label}\n{values}"


@dataclass
class Chart:
    groups: list[Group]
    series: list[tuple[str, str]]  # (key, label) for the legend
    width: int = WIDTH
    height: int = PLOT_TOP + PLOT_HEIGHT + LINE_HEIGHT + 6
    baseline: int = PLOT_TOP + PLOT_HEIGHT
    dense: bool = False  # labels at the smaller font

    @property
    def is_empty(self) -> bool:
        return all(bar.value == 0 for group in self.groups for bar in group.bars)

    @property
    def label_y(self) -> int:
        return self.baseline + LINE_HEIGHT

    @property
    def line_height(self) -> int:
        return LINE_HEIGHT


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Decimal | int], Sequence[str]]],
) -> Chart:
    """`series` is (key, legend label, values, value texts) with one value per label; bars
    of a label stand side by side, scaled to the largest value."""
    largest = max((value for _, _, values, _ in series for value in values), default=0) or 1
    slot = (WIDTH - LEFT * 2) / max(len(labels), 1)
    bar_width = slot * 0.7 / max(len(series), 1)
    baseline = PLOT_TOP + PLOT_HEIGHT
    font = DENSE_FONT if slot < DENSE_SLOT else LABEL_FONT
    groups = []
    for index, label in enumerate(labels):
        slot_x = LEFT + slot * index
        start = slot_x + slot * 0.15
        bars = []
        for position, (key, name, values, texts) in enumerate(series):
            value = values[index]
            height = float(value) / float(largest) * PLOT_HEIGHT
            short = compact(value) if value else ""
            if text_width(short, VALUE_FONT) > bar_width + 1:
                short = ""
            bars.append(
                Bar(
                    x=round(start + bar_width * position, 1),
                    y=round(baseline - height, 1),
                    width=round(bar_width - 1, 1),
                    height=round(height, 1),
                    value=value,
                    value_text=texts[index],
                    series=key,
                    series_label=name,
                    short_text=short,
                )
            )
        groups.append(
            Group(
                label=label,
                bars=bars,
                label_x=round(slot_x + slot / 2, 1),
                slot_x=round(slot_x, 1),
                slot_width=round(slot, 1),
                lines=wrap(label, slot - 2, font=font),
            )
        )
    lines = max((len(group.lines) for group in groups), default=1)
    return Chart(
        groups=groups,
        series=[(key, name) for key, name, _, _ in series],
        height=baseline + LINE_HEIGHT * lines + 6,
        baseline=baseline,
        dense=font == DENSE_FONT,
    )


def compact(value: Decimal | int) -> str:
    """A number short enough to print above a bar: 1.25B, 98.8M, 45K; in Chinese 12.5亿, 9877万
    (Chinese counts in ten-thousands). Three significant digits; the exact figure is in the
    tooltip and the table."""
    number = Decimal(value)
    sign = "-" if number < 0 else ""
    number = abs(number)
    language = (translation.get_language() or "").lower()
    scale = _UNITS_ZH if language.startswith("zh") else _UNITS
    index = max(i for i, (size, _suffix) in enumerate(scale) if number >= size or i == 0)
    text = _significant(number / scale[index][0])
    if index + 1 < len(scale) and Decimal(text) * scale[index][0] >= scale[index + 1][0]:
        index += 1  # 999,999 rounds to 1000K: say 1M
        text = _significant(number / scale[index][0])
    return f"{sign}{text}{scale[index][1]}"


# (size, suffix), smallest first.
_UNITS = (
    (Decimal(1), ""),
    (Decimal(10**3), "K"),
    (Decimal(10**6), "M"),
    (Decimal(10**9), "B"),
    (Decimal(10**12), "T"),
)
_UNITS_ZH = (
    (Decimal(1), ""),
    (Decimal(10**4), "万"),
    (Decimal(10**8), "亿"),
    (Decimal(10**12), "万亿"),
)


def _significant(number: Decimal) -> str:
    places = 0 if number >= 100 else 1 if number >= 10 else 2
    text = f"{number:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def char_width(char: str, font: float = LABEL_FONT) -> float:
    if unicodedata.east_asian_width(char) in "WF":
        em = 1.0
    elif char in _NARROW:
        em = 0.4
    elif char in _BROAD or char.isupper():
        em = 0.8
    else:
        em = 0.65
    return em * font


def text_width(text: str, font: float = LABEL_FONT) -> float:
    return round(sum(char_width(char, font) for char in text), 2)


# Hangul, CJK and full-width forms: a line may break between any two of these.
_WIDE = "\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef"
# A wide character on its own, or a run of other non-space characters with its trailing space.
_PIECES = re.compile(rf"[{_WIDE}]\s*|[^\s{_WIDE}]+\s*")


def wrap(
    text: str, width: float, *, font: float = LABEL_FONT, max_lines: int = MAX_LABEL_LINES
) -> list[str]:
    """`text` in lines no wider than `width`: broken between words, between Chinese
    characters, or inside a word too long for a line; the last line ends in an ellipsis when
    the text needs more than `max_lines`."""
    lines: list[str] = []
    line = ""
    for piece in _PIECES.findall(" ".join(text.split())):
        while text_width((line + piece).rstrip(), font) > width:
            if line:
                lines.append(line.rstrip())
                line = ""
                continue
            head = _fitting(piece, width, font)  # a word wider than a whole line: cut it
            lines.append(head)
            piece = piece[len(head) :]
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + ELLIPSIS, font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
    return lines or [""]


def _fitting(text: str, width: float, font: float) -> str:
    """The longest start of `text` no wider than `width` (one character at least)."""
    used = 0.0
    for index, char in enumerate(text):
        used += char_width(char, font)
        if used > width:
            return text[: max(index, 1)]
    return text

"""Bar charts as data for server-rendered SVG: no JavaScript, no charting library.

Each bar carries its exact value for the tooltip and the table beside the chart, so what the
chart shows is the number the database holds."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 400
HEIGHT = 200
PLOT_TOP = 10
PLOT_BOTTOM = 170  # room below for the labels
LEFT = 10


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal | int
    value_text: str
    series: str

    @property
    def value_attr(self) -> str:
        """The exact value, locale-independent (for tests and scripts reading the chart)."""
        return f"{self.value:.2f}" if isinstance(self.value, Decimal) else str(self.value)


@dataclass
class Group:
    label: str
    bars: list[Bar]
    label_x: float


@dataclass
class Chart:
    groups: list[Group]
    series: list[tuple[str, str]]  # (key, label) for the legend
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = PLOT_BOTTOM

    @property
    def is_empty(self) -> bool:
        return all(bar.value == 0 for group in self.groups for bar in group.bars)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Decimal | int], Sequence[str]]],
) -> Chart:
    """`series` is (key, legend label, values, value texts) with one value per label; bars
    of a label stand side by side, scaled to the largest value."""
    largest = max((value for _, _, values, _ in series for value in values), default=0) or 1
    slot = (WIDTH - LEFT * 2) / max(len(labels), 1)
    bar_width = slot * 0.7 / max(len(series), 1)
    groups = []
    for index, label in enumerate(labels):
        start = LEFT + slot * index + slot * 0.15
        bars = []
        for position, (key, _, values, texts) in enumerate(series):
            value = values[index]
            height = float(value) / float(largest) * (PLOT_BOTTOM - PLOT_TOP)
            bars.append(
                Bar(
                    x=round(start + bar_width * position, 1),
                    y=round(PLOT_BOTTOM - height, 1),
                    width=round(bar_width - 1, 1),
                    height=round(height, 1),
                    value=value,
                    value_text=texts[index],
                    series=key,
                )
            )
        groups.append(Group(label=label, bars=bars, label_x=round(start + slot * 0.35, 1)))
    return Chart(groups=groups, series=[(key, name) for key, name, _, _ in series])

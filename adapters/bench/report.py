"""The bench's figures as rows: side by side per comparison, with ratio and target, as
text (one table) and as JSON (the same figures)."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("python-statemachine", "websockets", "aiortc", "structlog")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank): with fewer than 20 samples, the worst one."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Row:
    """One figure; ``cells`` are the sides of the comparison (label -> value)."""

    group: str
    name: str
    unit: str
    cells: dict[str, float | None]
    target: str = "-"
    #: ``"a/b"``: print cells[a] / cells[b] as the ratio.
    ratio: str | None = None
    note: str = ""

    def ratio_value(self) -> float | None:
        if self.ratio is None:
            return None
        top, bottom = self.ratio.split("/")
        a, b = self.cells.get(top), self.cells.get(bottom)
        if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
            return None
        return a / b


@dataclass
class Report:
    machine: dict[str, Any] = field(default_factory=dict)
    conditions: str = ""
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for row in self.rows:
            entry = asdict(row)
            entry["ratio_value"] = row.ratio_value()
            rows.append(entry)
        return {"machine": self.machine, "conditions": self.conditions, "figures": rows}

    def write_json(self, path: Path) -> None:
        text = json.dumps(self.to_json(), indent=2, allow_nan=False, default=_no_nan)
        path.write_text(text + "\n", encoding="utf-8")

    def table(self) -> str:
        m = self.machine
        lines = [
            f"ptt bench  {m.get('date', '')}",
            f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; "
            f"Python {m.get('python', '?')}; "
            + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items()),
        ]
        if self.conditions:
            lines.append(f"conditions: {self.conditions}")
        group = None
        groups = list(dict.fromkeys(row.group for row in self.rows))
        for row in sorted(self.rows, key=lambda r: groups.index(r.group)):  # stable
            if row.group != group:
                group = row.group
                lines += ["", f"## {group}"]
            cells = "  ".join(f"{label} {_fmt(v)}" for label, v in row.cells.items())
            ratio = row.ratio_value()
            ratio_text = f"  [{row.ratio} = {ratio:.2f}]" if ratio is not None else ""
            unit = f" ({row.unit})" if row.unit else ""
            note = f"  -- {row.note}" if row.note else ""
            lines.append(f"{row.name}{unit}: {cells}{ratio_text}  | target {row.target}{note}")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}" if magnitude >= 1 else f"{value:.3f}"


def _no_nan(value: Any) -> Any:
    raise TypeError(f"not JSON: {value!r}")


def machine_info(date: str) -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    return {
        "date": date,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "packages": packages,
    }


def clean(value: float | None) -> float | None:
    """NaN as ``None`` (JSON has no NaN)."""
    if value is None or math.isnan(value):
        return None
    return value

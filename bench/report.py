"""Benchmark results: ratios to the bare Django view, the stdout table, latest.json/.md/.png."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
BARE = "bare"


@dataclass
class Result:
    """One measured scenario. `rps` is requests/s (for order placement: orders/s at N buyers)."""

    name: str
    label: str
    path: str
    tool: str  # "wrk" or "python-threads"
    rps: float
    requests: int
    errors: int
    seconds: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    ratio_to_bare: float | None = None
    extra: dict = field(default_factory=dict)


def add_ratios(results: list[Result]) -> None:
    """Every figure divided by the bare view's req/s of the same run (same server, same machine)."""
    bare = next((result for result in results if result.name == BARE), None)
    for result in results:
        result.ratio_to_bare = round(result.rps / bare.rps, 4) if bare and bare.rps else None


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: list[Result], *, markdown: bool = False) -> str:
    columns = ["scenario", "req/s", "x bare", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "errors", "db conns"]
    rows = [
        [
            r.label,
            _cell(r.rps, ".1f"),
            _cell(r.ratio_to_bare, ".3f"),
            _cell(r.p50_ms, ".2f"),
            _cell(r.p90_ms, ".2f"),
            _cell(r.p95_ms, ".2f"),
            _cell(r.p99_ms, ".2f"),
            str(r.errors),
            _cell(r.extra.get("db_connections_peak"), "d"),
        ]
        for r in results
    ]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(["---"] + ["---:"] * (len(columns) - 1)) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(columns), "-" * len(line(columns)), *map(line, rows)])


def document(*, config: dict, environment: dict, results: list[Result]) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "config": config,
        "environment": environment,
        "results": [asdict(result) for result in results],
    }


def chart(results: list[Result], path: Path, *, title: str) -> None:
    """Req/s per scenario with its ratio to bare, and order placement latency beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    throughput = [r for r in results if r.tool == "wrk"]
    latency = [r for r in results if r.tool != "wrk"]
    fig, axes = plt.subplots(
        1, 2, figsize=(13, 0.45 * len(throughput) + 2.5), gridspec_kw={"width_ratios": [3, 1]}, squeeze=False
    )
    left, right = axes[0]
    labels = [r.label for r in throughput][::-1]
    values = [r.rps for r in throughput][::-1]
    bars = left.barh(labels, values, color=["#888888" if r.name == BARE else "#3b78c2" for r in throughput][::-1])
    for bar, result in zip(bars, throughput[::-1], strict=True):
        note = f" {result.rps:,.0f}" + (f"  ({result.ratio_to_bare:.2f}x bare)" if result.ratio_to_bare else "")
        left.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, note, va="center", fontsize=8)
    left.set_xlabel("requests/s (wrk, higher is better)")
    left.set_xlim(0, max(values, default=1) * 1.35)
    left.set_title(title, fontsize=10)

    names = [kind if len(latency) == 1 else f"{r.name} {kind}" for r in latency for kind in ("p50", "p95")]
    millis = [value or 0 for r in latency for value in (r.p50_ms, r.p95_ms)]
    right.bar(names, millis, color=["#5aa469", "#d35d6e"] * len(latency))
    for index, value in enumerate(millis):
        right.text(index, value, f"{value:.0f} ms", ha="center", va="bottom", fontsize=8)
    right.set_ylabel("ms (lower is better)")
    right.set_title(latency[0].label if len(latency) == 1 else "latency", fontsize=10)
    right.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(out_dir: Path, *, config: dict, environment: dict, results: list[Result]) -> list[Path]:
    """latest.json (everything), latest.md (the table), latest.png (the chart)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = (out_dir / f"latest.{ext}" for ext in ("json", "md", "png"))
    json_path.write_text(json.dumps(document(config=config, environment=environment, results=results), indent=2) + "\n")
    title = (
        f"{config['server']} x{config['workers']} workers, {config['products']:,} products, {environment['cpus']} CPUs"
    )
    md_path.write_text(
        f"# Latest benchmark\n\n{title}, {config['duration_s']:g} s per scenario.\n\n{table(results, markdown=True)}\n"
    )
    chart(results, png_path, title=title)
    return [json_path, md_path, png_path]

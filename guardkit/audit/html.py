"""``report.html``: the audit for a reviewer, one self-contained file.

Charts are inline SVG drawn here, styles are inline, and a Content-Security-Policy forbids every
fetch, so the page opens from disk, offline, and cannot phone home. The key numbers are text
(each tile carries ``data-key``), so they can be copied, searched and tested.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from guardkit.audit.report import AuditReport

__all__ = ["render_html"]

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:21px}
header p{margin:4px 0 0;color:#b9c0cc;font-size:13px}main{padding:20px 28px;max-width:1100px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:18px}
.tile{background:#fff;border-radius:8px;padding:12px 16px;min-width:150px}
.tile .v{display:block;font-size:24px;font-weight:650}.tile .k{color:#5b6475;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 2px #0002}
section h2{font-size:15px;margin:0 0 8px}.note{color:#5b6475;font-size:13px}
.guarantee{background:#e9f6ec;border-left:4px solid #2f9e44;padding:10px 14px;margin-bottom:18px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px 3px 0;text-align:left}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_OUTCOME_COLORS = {
    "reliable": "#2f9e44",
    "repaired": "#74b816",
    "flagged": "#f59f00",
    "refused": "#868e96",
    "failed": "#e03131",
}
_E = html.escape


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"


def _money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:.6g} {currency}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _el(tag: str, text: str = "", **attrs: object) -> str:
    """One SVG or HTML element; ``font_size`` becomes ``font-size``, floats get one decimal."""
    written = " ".join(
        f'{k.rstrip("_").replace("_", "-")}="{v:.1f}"'
        if isinstance(v, float)
        else f'{k.rstrip("_").replace("_", "-")}="{_E(str(v))}"'
        for k, v in attrs.items()
    )
    return f"<{tag} {written}>{text}</{tag}>"


def _tile(key: str, value: str, label: str) -> str:
    inner = _el("span", _E(value), class_="v") + _el("span", _E(label), class_="k")
    return _el("div", inner, class_="tile", data_key=key)


def _hbars(rows: Sequence[tuple[str, float, str]], fmt: str = "{:.0f}", width: int = 420) -> str:
    """Horizontal bars: (label, value, colour) each, scaled to the largest value."""
    if not rows:
        return '<p class="note">nothing to show</p>'
    top = max(v for _, v, _ in rows) or 1.0
    bar_w, h = width - 190, 24
    parts = []
    for i, (label, value, colour) in enumerate(rows):
        y, w = i * h + 2, max(1.0, bar_w * value / top) if value else 0.0
        parts += [
            _el("text", _E(label), x=0, y=y + 16, font_size=12),
            _el("rect", x=120, y=y + 3, width=float(w), height=h - 8, fill=colour, rx=2),
            _el("text", _E(fmt.format(value)), x=124 + w, y=y + 16, font_size=12),
        ]
    return _el("svg", "".join(parts), width=width, height=h * len(rows) + 4, role="img")


def _columns(
    counts: Sequence[int], labels: Sequence[str], colour: str, marker: float | None = None
) -> str:
    """Vertical histogram; ``marker`` (0..1 across the axis) draws a dashed threshold line."""
    width, height, pad = 440, 170, 24
    top = max(counts, default=0) or 1
    col = (width - 2 * pad) / max(1, len(counts))
    parts = []
    for i, c in enumerate(counts):
        h = (height - 20) * c / top
        mid = pad + i * col + col / 2
        parts += [
            _el("rect", x=mid - col / 2 + 2, y=height - h, width=col - 4, height=h, fill=colour),
            _el("text", str(c), x=mid, y=height - h - 4, font_size=11, text_anchor="middle"),
            _el("text", _E(labels[i]), x=mid, y=height + 16, font_size=10, text_anchor="middle"),
        ]
    if marker is not None and 0.0 <= marker <= 1.0:
        x = pad + (width - 2 * pad) * marker
        parts += [
            _el("line", x1=x, x2=x, y1=0, y2=height, stroke="#e03131", stroke_dasharray="5 3"),
            _el("text", "threshold", x=x + 4, y=12, font_size=11, fill="#e03131"),
        ]
    return _el("svg", "".join(parts), width=width, height=height + 34, role="img")


def _interval(rate: float | None, low: float, high: float) -> str:
    """The rate as a dot on a 0-100 % axis with its confidence interval as a band."""
    width, pad = 440, 20
    span = width - 2 * pad

    def x(v: float) -> float:
        return pad + span * v

    parts = [
        _el("line", x1=pad, x2=width - pad, y1=24, y2=24, stroke="#ced4da", stroke_width=2),
        _el("rect", x=x(low), y=16, width=max(1.0, x(high) - x(low)), height=16, fill="#a5d8ff"),
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            _el("text", f"{tick:.0%}", x=x(tick), y=50, font_size=10, text_anchor="middle")
        )
    if rate is not None:
        parts.append(_el("circle", cx=x(rate), cy=24, r=6, fill="#1c7ed6"))
    return _el("svg", "".join(parts), width=width, height=56, role="img")


def _reliability(points: Sequence[tuple[float, float, int]]) -> str:
    """Predicted risk against observed hallucination rate; the diagonal is perfect calibration."""
    size, pad = 220, 28
    span = size - 2 * pad

    def px(v: float) -> float:
        return pad + span * v

    def py(v: float) -> float:
        return size - pad - span * v

    mid = size / 2
    parts = [
        _el("rect", x=pad, y=pad, width=span, height=span, fill="none", stroke="#ced4da"),
        _el("line", x1=px(0), y1=py(0), x2=px(1), y2=py(1), stroke="#adb5bd", stroke_dasharray="4"),
        _el("text", "predicted risk", x=mid, y=size - 6, font_size=10, text_anchor="middle"),
        _el("text", "observed", x=10, y=mid, font_size=10, transform=f"rotate(-90 10 {mid})"),
    ]
    top = max((n for *_, n in points), default=1)
    for pred, obs, n in points:
        r = 3 + 6 * (n / top) ** 0.5
        parts.append(_el("circle", cx=px(pred), cy=py(obs), r=r, fill="#7048e8", opacity=0.8))
    return _el("svg", "".join(parts), width=size, height=size, role="img")


def _section(title: str, body: str, note: str = "") -> str:
    extra = f'<p class="note">{_E(note)}</p>' if note else ""
    return f"<section><h2>{_E(title)}</h2>{body}{extra}</section>"


def _tiles(r: AuditReport) -> str:
    low, high = r.rcr_ci
    return (
        '<div class="tiles">'
        + "".join(
            [
                _tile("cases", str(r.cases), "cases audited"),
                _tile("reliable", str(r.reliable), "reliable completions"),
                _tile("rcr", _pct(r.rcr), "reliable-completion rate"),
                _tile("rcr_ci", f"[{_pct(low)}, {_pct(high)}]", "Wilson 95 % interval"),
                _tile(
                    "cost_per_reliable",
                    _money(r.cost_per_reliable, r.currency),
                    "cost per reliable completion"
                    + (  # their cost is unknown, not zero: the figure is a lower bound
                        f" (lower bound: {r.unpriced_cases} of {r.cases} cases unpriced)"
                        if r.unpriced_cases
                        else ""
                    ),
                ),
                _tile(
                    "cost_total",
                    "not priced"
                    if r.unpriced_cases == r.cases
                    else _money(r.cost_total, r.currency),
                    "total cost",
                ),
                _tile("latency_p95", _ms(r.latency_ms.p95), "latency p95"),
                _tile("tokens", f"{r.tokens.total:,}", "tokens"),
            ]
            + (
                [
                    _tile(
                        "expected_match_rate",
                        _pct(r.expected_match_rate),
                        f"expected answer (of {r.expected_checked} answered cases that name one)",
                    )
                ]
                if r.expected_match_rate is not None
                else []
            )
        )
        + "</div>"
    )


def _calibration(r: AuditReport) -> str:
    c = r.calibration
    if c is None:
        return ""
    ci = ""
    if c.accepted_ci is not None:
        ci = f" (Wilson 95 % [{_pct(c.accepted_ci[0])}, {_pct(c.accepted_ci[1])}])"
    rows = [
        ("labelled cases", str(c.labelled), "labelled"),
        ("hallucination rate", _pct(c.hallucination_rate), "hallucination_rate"),
        ("AUROC of risk", "n/a" if c.auroc is None else f"{c.auroc:.3f}", "auroc"),
        ("Brier score", f"{c.brier:.4f}", "brier"),
        ("ECE (10 bins)", f"{c.ece:.4f}", "ece"),
        ("accepted", str(c.accepted), "accepted"),
        (
            "hallucinations among accepted",
            _pct(c.accepted_hallucination_rate) + ci,
            "accepted_rate",
        ),
    ]
    table = "".join(
        _el("tr", _el("th", _E(k)) + _el("td", _E(v), data_key=key)) for k, v, key in rows
    )
    return _section(
        "Risk calibration against labels", _reliability(c.reliability) + f"<table>{table}</table>"
    )


def _risk(r: AuditReport) -> str:
    if not r.risk.scored:
        note = "No case was scored: the policy has no risk check (checks: {risk: ...})."
        return _section("Risk distribution", "", note)
    threshold = "none" if r.risk.threshold is None else f"{r.risk.threshold:.3g}"
    chart = _columns(
        r.risk.histogram, [f"{i / 10:.1f}" for i in range(10)], "#7048e8", r.risk.threshold
    )
    note = (
        f"{r.risk.scored} cases scored, {r.risk.accepted} at or under the threshold ({threshold})."
    )
    return _section("Risk distribution", chart, note)


def _not_reliable(r: AuditReport) -> str:
    head = "".join(_el("th", h) for h in ("case", "outcome", "attempts", "failed", "risk", "why"))
    rows = "".join(
        _el(
            "tr",
            _el("td", _E(c.id))
            + _el("td", _E(c.outcome))
            + _el("td", str(c.attempts))
            + _el("td", _E(", ".join(c.checks_failed)))
            + _el("td", "" if c.risk is None else f"{c.risk:.2f}")
            + _el("td", _E(c.reason)),
            data_case=c.id,
        )
        for c in r.not_reliable
    )
    shown = len(r.not_reliable)
    total = r.cases - r.reliable
    note = f"{shown} of {total} cases, in suite order; records.jsonl holds every case in full."
    return _section("Cases not reliable, and why", f"<table><tr>{head}</tr>{rows}</table>", note)


def render_html(r: AuditReport) -> str:
    """The whole page."""
    outcome_rows = [(k, float(v), _OUTCOME_COLORS.get(k, "#495057")) for k, v in r.outcomes.items()]
    check_rows = [(k, v * 100, "#e8590c") for k, v in r.check_failure_rates.items()]
    attempts = list(r.attempts_histogram.items())
    lat = r.latency_ms
    lat_labels = [f"{e:.0f}" for e in lat.edges[:-1]]
    guarantee = (
        f'<div class="guarantee" data-key="guarantee">{_E(r.guarantee)}</div>'
        if r.guarantee
        else ""
    )
    skipped = "".join(
        f"<tr><td>line {p.line}</td><td>{_E(p.message)}</td></tr>" for p in r.skipped_lines
    )
    sections = [
        _section(
            "Reliable-completion rate",
            _interval(r.rcr, *r.rcr_ci),
            f"{r.reliable} of {r.cases} cases; the band is the Wilson 95 % interval.",
        ),
        _section("Outcomes", _hbars(outcome_rows)),
        _section(
            "Check failure rates (% of cases where the check ran)", _hbars(check_rows, "{:.1f} %")
        ),
        _section(
            "Attempts per case",
            _columns([v for _, v in attempts], [k for k, _ in attempts], "#1c7ed6"),
        ),
        _risk(r),
        _section(
            "Latency per case (ms)",
            _columns(r.latency_ms.histogram, lat_labels, "#0ca678"),
            f"p50 {_ms(lat.p50)}, p95 {_ms(lat.p95)}, p99 {_ms(lat.p99)}.",
        ),
        _calibration(r),
    ]
    if r.not_reliable:
        sections.append(_not_reliable(r))
    if skipped:
        sections.append(_section("Skipped suite lines", f"<table>{skipped}</table>"))
    title = f"guardkit audit: {r.policy.id} {r.policy.version}"
    subtitle = (
        f"{r.source} · engine {r.engine} · suite {r.suite} · {r.generated_at:%Y-%m-%d %H:%M} UTC"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{_E(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_E(title)}</h1><p>{_E(subtitle)}</p></header><main>{_tiles(r)}{guarantee}"
        f'<div class="grid">{"".join(s for s in sections if s)}</div></main></body></html>\n'
    )

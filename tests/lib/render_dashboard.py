#!/usr/bin/env python3
"""Renders a Grafana dashboard JSON as one self-contained HTML page, from a real
Prometheus: its panels in their grid (gridPos), each query run over the last
minutes (time series as SVG lines, bar gauges as bars, tables as rows), with
titles, legends (legendFormat) and units.  Debian has no Grafana; headless
Chromium screenshots this page instead.

    render_dashboard.py DASHBOARD.json PROMETHEUS_URL OUT.html [MINUTES]

Variables take their "All" value (.*).  Exits 1 naming any query that failed.
Each panel is a <section class="panel" data-series="N"> for the test to count.
"""
import html
import json
import re
import sys
import time
import urllib.parse
import urllib.request

COLORS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"]
ROW_PX = 34


def query(base, path, params):
    url = base + "/api/v1/" + path + "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]["result"]


def legend(fmt, metric):
    if not fmt:
        return ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)


def human(v, unit):
    if unit == "bytes" or unit == "Bps":
        for suffix in ["B", "KiB", "MiB", "GiB", "TiB"]:
            if abs(v) < 1024 or suffix == "TiB":
                return f"{v:.3g} {suffix}{'/s' if unit == 'Bps' else ''}"
            v /= 1024
    if unit == "s":
        return f"{v * 1000:.3g} ms" if abs(v) < 1 else f"{v:.3g} s"
    return f"{v:.4g}"


def expand(expr):
    return expr.replace("$instance", ".*").replace("$vm", ".*")


def timeseries_svg(series, unit, width, height):
    pts = [(t, v) for s in series for t, v in s["values"]]
    if not pts:
        return "<svg></svg>"
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    v0, v1 = min(0, min(p[1] for p in pts)), max(p[1] for p in pts)
    v1 = v1 if v1 > v0 else v0 + 1
    t1 = t1 if t1 > t0 else t0 + 1
    left, bottom = 70, 18
    w, h = width - left - 10, height - bottom - 8
    out = [f'<svg width="{width}" height="{height}">']
    for k in range(5):
        y = 8 + h - h * k / 4
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
                   f'{html.escape(human(v0 + (v1 - v0) * k / 4, unit))}</text>')
    for k in range(5):
        x = left + w * k / 4
        label = time.strftime("%H:%M:%S", time.gmtime(t0 + (t1 - t0) * k / 4))
        out.append(f'<text x="{x:.1f}" y="{height - 3}" class="axis" text-anchor="middle">{label}</text>')
    for i, s in enumerate(series):
        line = " ".join(f"{left + w * (t - t0) / (t1 - t0):.1f},{8 + h - h * (v - v0) / (v1 - v0):.1f}"
                        for t, v in s["values"])
        out.append(f'<polyline points="{line}" fill="none" stroke="{COLORS[i % len(COLORS)]}" '
                   f'stroke-width="2"/>')
    out.append("</svg>")
    return "".join(out)


def legend_html(series):
    return "<ul class='legend'>" + "".join(
        f"<li><span style='background:{COLORS[i % len(COLORS)]}'></span>{html.escape(s['name'])}</li>"
        for i, s in enumerate(series)) + "</ul>"


def panel_timeseries(base, p, start, end, width, height):
    series = []
    for t in p["targets"]:
        for r in query(base, "query_range", {"query": expand(t["expr"]), "start": start,
                                             "end": end, "step": 2}):
            vals = [(float(a), float(b)) for a, b in r["values"] if b not in ("NaN", "+Inf", "-Inf")]
            series.append({"name": legend(t.get("legendFormat"), r["metric"]), "values": vals})
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    return len(series), timeseries_svg(series, unit, width, height - 40) + legend_html(series)


def panel_bargauge(base, p, end):
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    rows = []
    for t in p["targets"]:
        for r in query(base, "query", {"query": expand(t["expr"]), "time": end}):
            rows.append((legend(t.get("legendFormat"), r["metric"]), float(r["value"][1])))
    top = max([v for _, v in rows] + [1e-12])
    bars = "".join(f"<div class='bar'><label>{html.escape(n)}</label><div class='track'>"
                   f"<div class='fill' style='width:{100 * v / top:.1f}%'></div></div>"
                   f"<b>{html.escape(human(v, unit))}</b></div>" for n, v in rows)
    return len(rows), bars


def panel_table(base, p, end):
    rows = []
    for t in p["targets"]:
        rows += query(base, "query", {"query": expand(t["expr"]), "time": end})
    cols = sorted({k for r in rows for k in r["metric"] if k not in ("__name__", "job")})
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(r['metric'].get(c, ''))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return len(rows), f"<table><tr>{head}</tr>{body}</table>"


def render(dash, base, minutes):
    end = time.time()
    start = end - minutes * 60
    cells, failed = [], []
    for p in dash["panels"]:
        g = p["gridPos"]
        style = f"grid-column:{g['x'] + 1}/span {g['w']};grid-row:{g['y'] + 1}/span {g['h']}"
        title = html.escape(p["title"].replace("$vm", "all VMs"))
        if p["type"] == "row":
            cells.append(f"<h2 style='{style}'>{title}</h2>")
            continue
        width, height = g["w"] * 57, g["h"] * ROW_PX - 30
        try:
            if p["type"] == "timeseries":
                n, body = panel_timeseries(base, p, start, end, width, height)
            elif p["type"] == "bargauge":
                n, body = panel_bargauge(base, p, end)
            else:
                n, body = panel_table(base, p, end)
        except Exception as e:  # a query Prometheus refused
            failed.append(f"{p['title']}: {e}")
            n, body = 0, f"<p class='error'>{html.escape(str(e))}</p>"
        cells.append(f"<section class='panel' data-series='{n}' style='{style}'>"
                     f"<h3>{title}</h3>{body}</section>")
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(dash['title'])}</title>
<style>
body {{ background:#111217; color:#ccccdc; font:12px sans-serif; margin:8px; }}
h1 {{ font-size:16px; margin:4px 0 10px; }}
.grid {{ display:grid; grid-template-columns:repeat(24, 1fr); grid-auto-rows:{ROW_PX}px; gap:6px; }}
h2 {{ font-size:14px; margin:8px 0 0; align-self:end; }}
.panel {{ background:#181b1f; border:1px solid #2c3235; border-radius:3px; padding:4px 8px; overflow:hidden; }}
.panel h3 {{ font-size:12px; margin:2px 0 4px; }}
line.grid {{ stroke:#2c3235; }} text.axis {{ fill:#8e8e8e; font-size:10px; }}
ul.legend {{ list-style:none; padding:0; margin:0; font-size:10px; }}
ul.legend li {{ display:inline-block; margin-right:10px; }}
ul.legend span {{ display:inline-block; width:10px; height:3px; margin-right:4px; vertical-align:middle; }}
.bar {{ display:grid; grid-template-columns:45% 1fr 70px; gap:6px; margin:3px 0; align-items:center; }}
.track {{ background:#22252b; height:12px; }} .fill {{ background:#73bf69; height:12px; }}
table {{ border-collapse:collapse; font-size:10px; }} td, th {{ border-bottom:1px solid #2c3235; padding:2px 6px; text-align:left; }}
.error {{ color:#f2495c; }}
</style></head><body><h1>{html.escape(dash['title'])} <small>(last {minutes} minutes)</small></h1>
<div class="grid">{''.join(cells)}</div></body></html>"""
    return page, failed


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    dash = json.load(open(sys.argv[1]))
    page, failed = render(dash, sys.argv[2].rstrip("/"), float(sys.argv[4]) if len(sys.argv) > 4 else 3)
    open(sys.argv[3], "w").write(page)
    for f in failed:
        print("render_dashboard.py: " + f, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

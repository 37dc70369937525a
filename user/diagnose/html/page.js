"use strict";
// Draws each migration's timeline from the JSON in #swack-data into SVG.
// Sets data-rendered="ok" on the body when done; any error lands in #errors.
(function () {
  // The SVG namespace is a name, never fetched: spelled so that the page holds no URL.
  var NS = ["http:", "", "www.w3.org", "2000", "svg"].join("/");
  var W = 1000, L = 190, R = 20, ROW = 24, CHART = 80;
  var COLORS = ["#e6550d", "#31a354", "#756bb1", "#636363", "#3182bd", "#d6616b"];

  function fail(msg) {
    var e = document.getElementById("errors");
    e.textContent += msg + "\n";
    document.body.setAttribute("data-rendered", "error");
  }
  window.onerror = function (msg, src, line) { fail("script error: " + msg + " line " + line); };

  function el(parent, name, attrs, text) {
    var n = document.createElementNS(NS, name);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    parent.appendChild(n);
    return n;
  }
  function tip(node, text) { el(node, "title", {}, text); return node; }
  function bytes(v) {
    var u = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i ? v.toFixed(1) : v.toFixed(0)) + " " + u[i];
  }

  function span(m) {
    var lo = Infinity, hi = -Infinity;
    m.lanes.forEach(function (l) { lo = Math.min(lo, l.start); hi = Math.max(hi, l.end); });
    if (m.window) hi = Math.max(hi, m.window[1]);
    return [lo, hi > lo ? hi : lo + 1];
  }

  function Chart(svg, m) {
    var s = span(m);
    this.svg = svg; this.y = 10; this.t0 = s[0]; this.t1 = s[1];
  }
  Chart.prototype.x = function (t) {
    return L + (t - this.t0) / (this.t1 - this.t0) * (W - L - R);
  };
  Chart.prototype.label = function (text, h) {
    el(this.svg, "text", { x: 6, y: this.y + h / 2 + 4, "class": "lane-label" }, text);
    el(this.svg, "line", { x1: L, x2: W - R, y1: this.y + h, y2: this.y + h, "class": "grid" });
  };

  Chart.prototype.phases = function (lane, g) {
    var c = this, y = this.y, st = lane.states;
    this.label(lane.side + " " + lane.pid + " phases", ROW);
    st.forEach(function (s, i) {
      var end = i + 1 < st.length ? st[i + 1][0] : lane.end;
      var x = c.x(s[0]), w = Math.max(c.x(end) - x, 1.5);
      var known = /^(setup|active|device|pre-switchover|completed|failed|failing|cancelling|cancelled)$/;
      tip(el(g, "rect", { x: x, y: y + 3, width: w, height: ROW - 6,
        "class": "phase phase-" + (known.test(s[1]) ? s[1] : "other") }),
        s[1] + " at " + s[0].toFixed(3) + " ms");
    });
    lane.iterations.forEach(function (it) {
      tip(el(g, "line", { x1: c.x(it[0]), x2: c.x(it[0]), y1: y, y2: y + ROW, "class": "iteration" }),
        "iteration (dirty sync) at " + it[0].toFixed(3) + " ms, " + bytes(it[1]) + " sent");
    });
    lane.checkpoints.forEach(function (cp) {
      tip(el(g, "circle", { cx: c.x(cp[0]), cy: y + ROW / 2, r: 2.5, "class": "checkpoint" }),
        cp[1] + " at " + cp[0].toFixed(3) + " ms");
    });
    this.y += ROW;
  };

  // A step line for each series, on one scale; returns the paths.
  Chart.prototype.lines = function (g, title, list, cls) {
    var c = this, y = this.y, max = 1;
    this.label(title, CHART);
    list.forEach(function (s) { s.points.forEach(function (p) { max = Math.max(max, p[1]); }); });
    if (list.extra) max = Math.max(max, list.extra);
    el(g, "text", { x: L - 4, y: y + 10, "text-anchor": "end" }, list.fmt(max));
    var paths = list.map(function (s, k) {
      var d = "", py = null;
      s.points.forEach(function (p) {
        var px = c.x(p[0]), ny = y + CHART - 4 - p[1] / max * (CHART - 12);
        d += (d ? (py !== null ? " L" + px + " " + py : "") + " L" : "M") + px + " " + ny;
        py = ny;
      });
      var path = el(g, "path", { d: d || "M0 0", "class": cls + " " + s.cls,
        stroke: s.color || COLORS[k % COLORS.length] });
      if (s.data) path.setAttribute("data-device", s.data);
      if (list.length > 1)
        el(g, "text", { x: 12, y: y + CHART / 2 + 18 + 12 * k, fill: path.getAttribute("stroke"),
          "class": "legend" }, s.name);
      tip(path, s.name + ": " + s.points.map(function (p) {
        return p[0].toFixed(1) + " ms " + list.fmt(p[1]); }).join(", "));
      return path;
    });
    this.y += CHART;
    return paths;
  };

  function lanesOf(m, side) { return m.lanes.filter(function (l) { return l.side === side; })[0]; }

  function pendingChart(c, g, m, i) {
    var src = lanesOf(m, "src");
    if (!src || !src.pending.length) return;
    var list = [{ name: "pending bytes", points: src.pending, cls: "", color: "#08519c" }];
    list.fmt = bytes; list.extra = src.threshold;
    var y0 = c.y, max = Math.max.apply(null, src.pending.map(function (p) { return p[1]; }).concat([src.threshold, 1]));
    c.lines(g, "pending bytes (src)", list, "pending")[0].setAttribute("id", "pending-" + i);
    if (src.threshold) {
      var ty = y0 + CHART - 4 - src.threshold / max * (CHART - 12);
      tip(el(g, "line", { x1: L, x2: W - R, y1: ty, y2: ty, "class": "threshold" }),
        "threshold " + bytes(src.threshold));
    }
  }

  function acksChart(c, g, m) {
    var list = m.lanes.filter(function (l) { return l.acks.length; }).map(function (l) {
      return { name: "ACKs pending (" + l.side + ")", points: l.acks, cls: "acks-" + l.side,
        color: l.side === "src" ? "#e6550d" : "#31a354" };
    });
    list.fmt = function (v) { return String(Math.round(v)); };
    if (list.length) c.lines(g, "switchover ACKs pending", list, "acks");
  }

  function initialCharts(c, g, m) {
    m.lanes.forEach(function (l) {
      var list = l.devices.filter(function (d) { return d.initial.length; }).map(function (d) {
        return { name: d.name + " initial bytes", points: d.initial, cls: "", data: d.name };
      });
      list.fmt = bytes;
      if (list.length) c.lines(g, "initial bytes (" + l.side + ")", list, "initial");
    });
  }

  function axis(c, svg) {
    var y = c.y + 6;
    el(svg, "line", { x1: L, x2: W - R, y1: y, y2: y, "class": "axis" });
    for (var k = 0; k <= 5; k++) {
      var t = c.t0 + (c.t1 - c.t0) * k / 5, x = c.x(t);
      el(svg, "line", { x1: x, x2: x, y1: y, y2: y + 4, "class": "axis" });
      el(svg, "text", { x: x, y: y + 16, "text-anchor": "middle" }, t.toFixed(1) + " ms");
    }
    c.y = y + 24;
  }

  function downtime(c, svg, m, i, top) {
    if (!m.window) return;
    var x = c.x(m.window[0]), w = Math.max(c.x(m.window[1]) - x, 2);
    tip(el(svg, "rect", { id: "downtime-" + i, x: x, y: top, width: w, height: c.y - 30 - top,
      "class": "downtime" }), m.window[2] + " downtime " +
      (m.window[1] - m.window[0]).toFixed(3) + " ms");
    var right = x + w + 120 < W;
    el(svg, "text", { x: right ? x + w + 3 : x - 3, y: c.y - 34, "text-anchor": right ? "start" : "end",
      "class": "downtime-label" }, "downtime " + (m.window[1] - m.window[0]).toFixed(1) + " ms");
  }

  // The downtime window is milliseconds of a migration that takes seconds:
  // its phases get a strip of their own, at their own scale.
  function zoom(c, svg, m, i) {
    var b = m.breakdown || [], total = 0;
    b.forEach(function (p) { total += p[1]; });
    if (!m.window || !total) return;
    var g = el(svg, "g", { id: "downtime-zoom-" + i, "class": "downtime-zoom" });
    var y = c.y, x = L, scale = (W - L - R) / total;
    el(g, "text", { x: 6, y: y + ROW / 2 + 4, "class": "lane-label" },
      "downtime, zoomed (" + total.toFixed(2) + " ms)");
    b.forEach(function (p, k) {
      var w = p[1] * scale;
      tip(el(g, "rect", { x: x, y: y + 3, width: Math.max(w, 1), height: ROW - 6,
        "class": "zoom-phase", fill: COLORS[k % COLORS.length] }),
        p[0] + " " + p[1].toFixed(3) + " ms");
      if (w > 60)
        el(g, "text", { x: x + 3, y: y + ROW / 2 + 4, "class": "zoom-label" },
          p[0] + " " + p[1].toFixed(2) + " ms");
      x += w;
    });
    c.y += ROW + 6;
  }

  function draw(m, i) {
    var host = document.getElementById("timeline-" + i);
    var svg = el(host, "svg", { id: "timeline-svg-" + i, width: W, "class": "timeline-svg" });
    var c = new Chart(svg, m), top = c.y;
    m.lanes.forEach(function (lane) {
      var g = el(svg, "g", { id: "lane-" + lane.side + "-" + i, "class": "lane lane-" + lane.side });
      c.phases(lane, g);
    });
    var charts = el(svg, "g", { "class": "charts" });
    pendingChart(c, charts, m, i);
    acksChart(c, charts, m);
    initialCharts(c, charts, m);
    axis(c, svg);
    downtime(c, svg, m, i, top);
    zoom(c, svg, m, i);
    svg.setAttribute("height", c.y);
  }

  try {
    var data = JSON.parse(document.getElementById("swack-data").textContent);
    data.forEach(draw);
    if (document.body.getAttribute("data-rendered") !== "error")
      document.body.setAttribute("data-rendered", "ok");
  } catch (e) {
    fail("script error: " + e.message);
  }
})();

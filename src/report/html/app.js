// The sockspec report: the list, the filters and, when a scenario is opened, its details.
// Every text goes in through textContent (never innerHTML), so a frame cannot inject markup.
(function () {
  "use strict";
  var PAGE = 200; // frames per "show more"
  var SVGNS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("sockspec-data").textContent);
  var records = data.records;
  var list = document.getElementById("list");
  var rows = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, cls) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (cls) e.setAttribute("class", cls);
    return e;
  }
  function secs(ms) { return (ms / 1000).toFixed(3) + "s"; }

  // Failures first, then passed, then ignored; by trial name within each.
  var RANK = { failed: 0, unavailable: 1, passed: 2, ignored: 3 };
  function build() {
    var frag = document.createDocumentFragment();
    var order = records.map(function (r, i) { return i; });
    order.sort(function (a, b) {
      var ra = records[a], rb = records[b];
      return (RANK[ra.outcome] - RANK[rb.outcome]) || (ra.trial < rb.trial ? -1 : ra.trial > rb.trial ? 1 : a - b);
    });
    order.forEach(function (i) {
      var r = records[i];
      var d = el("details", "scenario");
      d.dataset.outcome = r.outcome;
      d.dataset.trial = r.trial;
      d.dataset.index = i;
      var s = el("summary");
      s.appendChild(el("span", "badge " + r.outcome, r.outcome));
      s.appendChild(el("span", "trial", r.trial));
      s.appendChild(el("span", "cause", r.cause ? r.cause.first_line : ""));
      s.appendChild(el("span", "time", secs(r.duration_ms)));
      d.appendChild(s);
      d.addEventListener("toggle", function () {
        if (d.open && !d.dataset.rendered) { d.dataset.rendered = "1"; d.appendChild(details(r)); }
      });
      rows.push({ el: d, text: (r.trial + " " + r.name + " " + (r.cause ? r.cause.kind + " " + r.cause.first_line : "")).toLowerCase(), outcome: r.outcome });
      frag.appendChild(d);
    });
    list.appendChild(frag);
  }

  function details(r) {
    var b = el("div", "body");
    if (r.cause) {
      b.appendChild(el("p", "first-line", r.cause.first_line));
      b.appendChild(el("p", "kv", "cause: " + r.cause.kind));
    }
    var meta = "scenario " + r.scenario + " (" + r.file + ") · environment " + r.environment +
      " · started " + r.started_at + " · " + secs(r.duration_ms) + " · run " + data.runs[r.run];
    b.appendChild(el("p", "kv", meta));
    if (r.credential) b.appendChild(el("p", "kv credential", "credential: " + r.credential));
    if (r.diagnostic) {
      b.appendChild(el("h3", null, r.outcome === "ignored" ? "Reason" : "Diagnostic"));
      b.appendChild(el("pre", "diagnostic", r.diagnostic));
    }
    if (r.timeline.length) {
      b.appendChild(el("h3", null, "Timeline"));
      b.appendChild(timeline(r));
      b.appendChild(frames(r));
    }
    if (r.http.length) { b.appendChild(el("h3", null, "HTTP calls")); b.appendChild(http(r.http)); }
    if (r.snapshot_diff) { b.appendChild(el("h3", null, "Snapshot diff")); b.appendChild(diff(r.snapshot_diff)); }
    return b;
  }

  function timeline(r) {
    var W = 1000, L = 70, R = 990, CY = 40, SY = 90, H = 125;
    // From the first entry (the upgrade request) to the last, or the end of the trial.
    var start = r.timeline[0].at_ms, end = start;
    r.timeline.forEach(function (e) { if (e.at_ms > end) end = e.at_ms; if (e.at_ms < start) start = e.at_ms; });
    if (r.duration_ms > end && r.duration_ms - end < (end - start) * 0.25) end = r.duration_ms;
    if (end - start < 0.001) end = start + 1;
    var span = end - start;
    function x(ms) { return (L + (R - L) * (Math.max(start, Math.min(ms, end)) - start) / span).toFixed(1); }
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" }, "timeline");
    s.setAttribute("aria-label", "timeline of " + r.trial);
    [["client", CY], ["server", SY]].forEach(function (l) {
      s.appendChild(svg("line", { x1: L, x2: R, y1: l[1], y2: l[1] }, "lane"));
      var t = svg("text", { x: 4, y: l[1] + 4 }, "lane-label"); t.textContent = l[0]; s.appendChild(t);
    });
    r.steps.forEach(function (st) {
      if (st.began_ms === null || st.began_ms === undefined) return;
      var g = svg("g", {}, "step");
      g.appendChild(svg("line", { x1: x(st.began_ms), x2: x(st.began_ms), y1: 14, y2: H - 18 }, "step-line"));
      var t = svg("text", { x: Number(x(st.began_ms)) + 2, y: st.index % 2 ? 11 : 22 }, "step-label");
      t.textContent = st.index + " " + st.keyword; g.appendChild(t);
      if (st.within_ms !== null && st.within_ms !== undefined && st.began_ms + st.within_ms <= end) {
        var dx = x(st.began_ms + st.within_ms);
        var dl = svg("line", { x1: dx, x2: dx, y1: 20, y2: H - 18 }, "deadline");
        var tt = svg("title", {}); tt.textContent = "deadline of step " + st.index + " (" + secs(st.within_ms) + ")";
        dl.appendChild(tt); g.appendChild(dl);
      }
      s.appendChild(g);
    });
    var marks = svg("g", {}, "marks");
    r.timeline.forEach(function (e) {
      var y = e.lane === "client" ? CY : SY, m;
      if (e.kind === "sent" || e.kind === "received") {
        m = svg("rect", { x: Number(x(e.at_ms)) - 2, y: y - 8, width: 4, height: 16 },
          "frame " + (e.kind === "sent" ? "sent" : e.disposition));
      } else if (e.kind === "close_sent" || e.kind === "close_received" || e.kind === "dropped" || e.kind === "closing") {
        var cx = Number(x(e.at_ms));
        m = svg("polygon", { points: (cx - 6) + "," + (y - 7) + " " + (cx + 6) + "," + (y - 7) + " " + cx + "," + (y + 7) }, "close-mark " + e.kind);
      } else {
        m = svg("circle", { cx: x(e.at_ms), cy: y, r: 5 }, "hs-mark " + e.kind);
      }
      var t = svg("title", {});
      t.textContent = secs(e.at_ms) + " " + e.kind + (e.disposition ? " (" + e.disposition + ")" : "") + ": " + e.text;
      m.appendChild(t); marks.appendChild(m);
    });
    s.appendChild(marks);
    var a = svg("text", { x: L, y: H - 4 }, "axis"); a.textContent = secs(start); s.appendChild(a);
    var z = svg("text", { x: R - 50, y: H - 4 }, "axis"); z.textContent = secs(end); s.appendChild(z);
    var wrap = el("div", "timeline-wrap");
    wrap.appendChild(s);
    var legend = el("div", "legend");
    [["#0969da", "sent"], ["#1a7f37", "claimed"], ["#bf8700", "skipped"], ["#8c959f", "ignored"], ["#9a6700", "unclaimed"], ["#8250df", "close"], ["#24292f", "handshake"], ["#cf222e", "deadline"]].forEach(function (l) {
      var sp = el("span"); var i = el("i"); i.style.background = l[0]; sp.appendChild(i); sp.appendChild(document.createTextNode(l[1])); legend.appendChild(sp);
    });
    wrap.appendChild(legend);
    return wrap;
  }

  function frames(r) {
    var wrap = el("div", "frames-wrap");
    var table = el("table", "frames");
    var head = el("tr");
    ["time", "", "step", "#", "fate", "frame"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    var shown = 0;
    var more = el("button", "more");
    function page(n) {
      var upto = Math.min(r.timeline.length, shown + n);
      var frag = document.createDocumentFragment();
      for (; shown < upto; shown++) {
        var e = r.timeline[shown];
        var tr = el("tr", e.disposition || e.kind);
        tr.appendChild(el("td", null, secs(e.at_ms)));
        tr.appendChild(el("td", null, e.lane === "client" ? "\u2192" : "\u2190"));
        tr.appendChild(el("td", null, e.step === null ? "" : e.step));
        tr.appendChild(el("td", null, e.seq === null ? "" : e.seq));
        tr.appendChild(el("td", "fate", e.disposition ? e.disposition + (e.claimed_by ? " by " + e.claimed_by : "") : e.kind));
        tr.appendChild(el("td", "text", e.text));
        frag.appendChild(tr);
      }
      table.appendChild(frag);
      var left = r.timeline.length - shown;
      more.style.display = left > 0 ? "" : "none";
      more.textContent = "show " + Math.min(left, PAGE) + " more of " + left;
    }
    more.addEventListener("click", function () { page(PAGE); });
    wrap.appendChild(table);
    wrap.appendChild(more);
    page(PAGE);
    return wrap;
  }

  function http(calls) {
    var table = el("table", "http");
    var head = el("tr");
    ["time", "phase", "call", "status", "request", "response / error"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    calls.forEach(function (c) {
      var tr = el("tr");
      tr.appendChild(el("td", null, secs(c.at_ms)));
      tr.appendChild(el("td", null, c.phase));
      tr.appendChild(el("td", "text", c.method + " " + c.url));
      tr.appendChild(el("td", null, c.status === null ? "\u2014" : c.status));
      tr.appendChild(el("td", "text", c.request || ""));
      tr.appendChild(el("td", "text", c.error || c.response || ""));
      table.appendChild(tr);
    });
    return table;
  }

  function diff(text) {
    var pre = el("pre", "diff");
    text.split("\n").forEach(function (line) {
      var c = line.charAt(0) === "+" ? "add" : line.charAt(0) === "-" ? "del" : null;
      pre.appendChild(el("span", c, line + "\n"));
    });
    return pre;
  }

  function applyFilter() {
    var q = document.getElementById("filter-text").value.toLowerCase().trim();
    var o = document.getElementById("filter-outcome").value;
    var n = 0;
    rows.forEach(function (row) {
      var show = (!o || row.outcome === o) && (!q || row.text.indexOf(q) >= 0);
      row.el.style.display = show ? "" : "none";
      if (show) n++;
    });
    document.getElementById("shown-count").textContent = n + " of " + rows.length + " shown";
  }

  function openTrial(name) {
    rows.forEach(function (row) {
      if (row.el.dataset.trial === name) { row.el.open = true; row.el.scrollIntoView(); }
    });
  }
  function fromHash() {
    var h = location.hash;
    if (h.indexOf("#trial=") === 0) openTrial(decodeURIComponent(h.slice(7)));
  }

  build();
  document.getElementById("filter-text").addEventListener("input", applyFilter);
  document.getElementById("filter-outcome").addEventListener("change", applyFilter);
  document.getElementById("open-failed").addEventListener("click", function () {
    rows.forEach(function (row) { if (row.outcome === "failed" || row.outcome === "unavailable") row.el.open = true; });
  });
  document.getElementById("close-all").addEventListener("click", function () {
    rows.forEach(function (row) { row.el.open = false; });
  });
  window.addEventListener("hashchange", fromHash);
  applyFilter();
  // Failures open by default while they are few; a #trial=NAME link opens that one.
  var failed = rows.filter(function (row) { return row.outcome === "failed" || row.outcome === "unavailable"; });
  if (failed.length <= 20) failed.forEach(function (row) { row.el.open = true; });
  fromHash();
  document.body.dataset.ready = "1";
})();

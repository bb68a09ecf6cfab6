// The dashboard's only script besides plotly.js: it re-aggregates the embedded
// per-day rows for the chosen dates and channel and redraws with Plotly.react.
// Every string from the data reaches the page through esc() (Plotly labels,
// which Plotly reads as HTML-ish text) or textContent; never innerHTML.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const T = {};
  for (const [name, table] of Object.entries(DATA)) {
    if (table && table.columns) {
      T[name] = table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]])));
    }
  }
  const uniq = (xs) => [...new Set(xs)].sort();
  const DAYS = uniq([].concat(...["stats", "chat", "tasks", "friction", "edges"].map((n) => T[n].map((r) => r.day))));
  const CHANNELS = uniq(T.stats.map((r) => r.channel));
  const CONFIG = { displaylogo: false, responsive: true };
  const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const state = { from: DAYS[0] || "", to: DAYS[DAYS.length - 1] || "", channel: "" };

  const $ = (id) => document.getElementById(id);
  const addDays = (day, n) => new Date(Date.parse(day + "T00:00:00Z") + n * 86400000).toISOString().slice(0, 10);
  const daysBetween = (a, b) => Math.round((Date.parse(b) - Date.parse(a)) / 86400000) + 1;
  const inRange = (r, from, to) => r.day >= from && r.day <= to;
  const chanOk = (r) => !state.channel || r.channel === state.channel;
  const pick = (name, from = state.from, to = state.to, byChannel = true) =>
    T[name].filter((r) => inRange(r, from, to) && (!byChannel || chanOk(r)));
  const sum = (rows, key) => rows.reduce((a, r) => a + (Number(r[key]) || 0), 0);
  const ratio = (a, b) => (b ? a / b : null);
  const pct = (v) => (v === null ? "-" : (100 * v).toFixed(1) + "%");
  const groupSum = (rows, keyOf, valueOf) => {
    const out = new Map();
    for (const r of rows) out.set(keyOf(r), (out.get(keyOf(r)) || 0) + valueOf(r));
    return out;
  };
  const layout = (title, extra) => Object.assign({
    title: { text: title, font: { size: 14 } }, margin: { l: 60, r: 20, t: 40, b: 40 }, height: 320,
    legend: { orientation: "h", y: -0.2 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
  }, extra || {});
  const draw = (id, traces, lay) => Plotly.react($(id), traces, lay, CONFIG);

  // Distinct customers: HyperLogLog registers merged by max, then the standard estimate.
  const SKETCHES = DATA.customers.sketches.map(([day, channel, b64]) =>
    ({ day, channel, registers: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)) }));
  function customers(from, to) {
    const m = 1 << DATA.customers.bits, merged = new Uint8Array(m);
    let any = false;
    for (const s of SKETCHES) {
      if (!inRange(s, from, to) || !chanOk(s)) continue;
      any = true;
      for (let i = 0; i < m; i++) if (s.registers[i] > merged[i]) merged[i] = s.registers[i];
    }
    if (!any) return 0;
    let harmonic = 0, zeros = 0;
    for (const v of merged) { harmonic += Math.pow(2, -v); if (v === 0) zeros++; }
    const raw = (0.7213 / (1 + 1.079 / m)) * m * m / harmonic;
    return Math.round(raw <= 2.5 * m && zeros ? m * Math.log(m / zeros) : raw);
  }

  function headline(from, to) {
    const rows = pick("stats", from, to), n = sum(rows, "journeys");
    return {
      journeys: n, customers: customers(from, to), conversion: ratio(sum(rows, "converted"), n),
      bounce: ratio(sum(rows, "bounced"), n), escalation: ratio(sum(rows, "escalated"), n),
      effort: ratio(sum(rows, "effort_sum"), n),
    };
  }

  // name, format, change format, whether a rise is good.
  const TILES = [
    ["journeys", (v) => v.toLocaleString("en"), "relative", true],
    ["customers", (v) => v.toLocaleString("en"), "relative", true],
    ["conversion", pct, "points", true],
    ["bounce", pct, "points", false],
    ["escalation", pct, "points", false],
    ["effort", (v) => (v === null ? "-" : v.toFixed(2) + " / 5"), "absolute", false],
  ];
  function drawTiles() {
    const span = daysBetween(state.from, state.to);
    const prevTo = addDays(state.from, -1), prevFrom = addDays(state.from, -span);
    const now = headline(state.from, state.to), before = headline(prevFrom, prevTo);
    for (const [name, fmt, kind, riseIsGood] of TILES) {
      $("tile-" + name + "-value").textContent = fmt(now[name]);
      const a = now[name], b = before[name], delta = $("tile-" + name + "-delta");
      let text = "no data in the previous " + span + " day(s)", cls = "delta";
      if (b !== null && b !== 0 && a !== null && before.journeys) {
        const d = kind === "relative" ? (a - b) / b : a - b;
        const shown = kind === "relative" ? (100 * d).toFixed(1) + "%"
          : kind === "points" ? (100 * d).toFixed(1) + " pts" : d.toFixed(2);
        text = (d > 0 ? "+" : "") + shown + " vs " + prevFrom + " to " + prevTo;
        cls = d === 0 ? "delta" : (d > 0) === riseIsGood ? "delta good" : "delta bad";
      }
      delta.textContent = text;
      delta.className = cls;
    }
  }

  function drawTrends() {
    const rows = pick("stats"), days = DAYS.filter((d) => d >= state.from && d <= state.to);
    const shown = state.channel ? [state.channel] : CHANNELS;
    const series = [["trend-journeys", "Journeys", null], ["trend-conversion", "Conversion", "converted"],
      ["trend-bounce", "Bounce rate", "bounced"], ["trend-escalation", "Escalation rate", "escalated"]];
    for (const [id, title, part] of series) {
      const traces = shown.map((ch, i) => {
        const byDay = new Map(rows.filter((r) => r.channel === ch).map((r) => [r.day, r]));
        const y = days.map((d) => {
          const r = byDay.get(d);
          return r ? (part ? ratio(r[part], r.journeys) : r.journeys) : (part ? null : 0);
        });
        return { type: "scatter", mode: "lines+markers", name: esc(ch), x: days, y,
          line: { color: COLORS[CHANNELS.indexOf(ch) % COLORS.length] } };
      });
      draw(id, traces, layout(title + " by acquisition channel",
        { yaxis: part ? { tickformat: ".0%", rangemode: "tozero" } : { rangemode: "tozero" }, xaxis: { type: "category" } }));
    }
  }

  // A Sankey cannot draw cycles (A -> B -> A): the heaviest edges go first, an edge closing a loop is left out.
  function acyclic(edges) {
    const out = new Map(), kept = [];
    const reaches = (from, to) => {
      const stack = [from], seen = new Set();
      while (stack.length) {
        const n = stack.pop();
        if (n === to) return true;
        if (seen.has(n)) continue;
        seen.add(n);
        for (const m of out.get(n) || []) stack.push(m);
      }
      return false;
    };
    for (const e of edges) {
      if (reaches(e.to, e.from)) continue;
      kept.push(e);
      out.set(e.from, (out.get(e.from) || []).concat([e.to]));
    }
    return kept;
  }

  function drawPaths() {
    const edgeSums = groupSum(pick("edges", state.from, state.to, false), (r) => r.from + "\u0000" + r.to, (r) => r.transitions);
    const edges = acyclic([...edgeSums].map(([k, v]) => ({ from: k.split("\u0000")[0], to: k.split("\u0000")[1], value: v }))
      .sort((a, b) => b.value - a.value));
    const nodes = ["(entry)"], index = new Map([["\u0001entry", 0]]);
    const node = (key, label) => {
      if (!index.has(key)) { index.set(key, nodes.length); nodes.push(label); }
      return index.get(key);
    };
    const source = [], target = [], value = [];
    const link = (a, b, v) => { if (v > 0) { source.push(a); target.push(b); value.push(v); } };
    for (const [page, v] of groupSum(pick("entries"), (r) => r.page, (r) => r.journeys)) link(0, node(page, esc(page)), v);
    for (const e of edges) link(node(e.from, esc(e.from)), node(e.to, esc(e.to)), e.value);
    const exit = node("\u0001exit", "(exit)");
    for (const [page, v] of groupSum(pick("exits"), (r) => r.page, (r) => r.journeys)) link(node(page, esc(page)), exit, v);
    draw("paths", [{ type: "sankey", arrangement: "snap", node: { label: nodes, pad: 12, thickness: 14 },
      link: { source, target, value } }], layout("Top paths: entry page, top transitions, exit page", { height: 460 }));

    const cross = [...groupSum(pick("cross"), (r) => r.path, (r) => r.journeys)].sort((a, b) => b[1] - a[1]).slice(0, 12);
    const converted = groupSum(pick("cross"), (r) => r.path, (r) => r.converted);
    const label = (p) => esc(p.split(",").join(" \u2192 "));
    draw("cross", [{ type: "bar", orientation: "h", y: cross.map(([p]) => label(p)), x: cross.map(([, n]) => n),
      marker: { color: cross.map(([p]) => (p.includes(",") ? "#e15759" : "#bab0ac")) },
      text: cross.map(([p, n]) => "conversion " + pct(ratio(converted.get(p), n))), textposition: "auto",
      hovertemplate: "%{y}: %{x} journeys, %{text}<extra></extra>" }],
      layout("Channel paths (red: cross-channel)", { yaxis: { autorange: "reversed", type: "category" }, margin: { l: 140, r: 20, t: 40, b: 40 } }));
  }

  function drawFunnel() {
    const steps = DATA.funnel_steps, rows = pick("funnel");
    const reached = (mine) => steps.map((_, k) => sum(mine.filter((r) => r.furthest >= k + 1), "journeys"));
    const all = reached(rows);
    draw("funnel", [{ type: "funnel", y: steps.map(esc), x: all, textinfo: "value+percent previous",
      marker: { color: "#4e79a7" }, connector: { line: { color: "#bab0ac" } },
      hovertemplate: "%{y}: %{x} journeys, %{percentPrevious:.1%} of the previous step<extra></extra>" }],
      layout("Funnel: journeys reaching each step in order", { margin: { l: 100, r: 20, t: 40, b: 40 } }));
    // Per channel: the share of the journeys that entered the funnel still in it at each step.
    const totals = groupSum(rows, (r) => r.channel, (r) => r.journeys);
    const shown = state.channel ? [state.channel] : [...totals].sort((a, b) => b[1] - a[1]).map(([c]) => c);
    const traces = shown.map((ch) => {
      const counts = reached(rows.filter((r) => r.channel === ch));
      return { type: "scatter", mode: "lines+markers", name: esc(ch), x: steps.map(esc),
        y: counts.map((n) => ratio(n, counts[0])), customdata: counts,
        hovertemplate: "%{x}: %{y:.1%} (%{customdata} journeys)<extra>" + esc(ch) + "</extra>",
        line: { color: COLORS[CHANNELS.indexOf(ch) % COLORS.length] } };
    }).filter((t) => t.customdata[0] > 0);
    draw("funnel-channels", traces, layout("Still in the funnel at each step, by acquisition channel",
      { yaxis: { tickformat: ".0%", range: [0, 1.05] }, xaxis: { type: "category" } }));
  }

  function drawFriction() {
    const rows = pick("friction", state.from, state.to, false);
    const pages = [...groupSum(rows, (r) => r.page, (r) => r.occurrences)].sort((a, b) => b[1] - a[1]).map(([p]) => p);
    const types = uniq(rows.map((r) => r.type));
    const cells = groupSum(rows, (r) => r.page + "\u0000" + r.type, (r) => r.occurrences);
    draw("friction", [{ type: "heatmap", colorscale: [[0, "#fff5f0"], [1, "#a50f15"]], x: types.map(esc), y: pages.map((p) => esc(p || "(chat)")),
      z: pages.map((p) => types.map((t) => cells.get(p + "\u0000" + t) || 0)),
      hovertemplate: "%{y} / %{x}: %{z} occurrences<extra></extra>" }],
      layout("Friction hotspots: occurrences by page and type", { height: 420, margin: { l: 200, r: 20, t: 40, b: 90 },
        yaxis: { autorange: "reversed", type: "category" }, xaxis: { type: "category" } }));

    const impact = pick("impact"), stats = pick("stats");
    const all = sum(stats, "journeys"), allConverted = sum(stats, "converted");
    const withN = groupSum(impact, (r) => r.type, (r) => r.journeys), withC = groupSum(impact, (r) => r.type, (r) => r.converted);
    const kinds = [...withN.keys()].sort((a, b) => withN.get(b) - withN.get(a));
    const withRate = kinds.map((t) => ratio(withC.get(t), withN.get(t)));
    const withoutRate = kinds.map((t) => ratio(allConverted - withC.get(t), all - withN.get(t)));
    draw("impact", [
      { type: "bar", name: "with", x: kinds.map(esc), y: withRate, marker: { color: "#e15759" },
        customdata: kinds.map((t) => withN.get(t)), hovertemplate: "%{x}: %{y:.1%} of %{customdata} journeys<extra>with</extra>" },
      { type: "bar", name: "without", x: kinds.map(esc), y: withoutRate, marker: { color: "#59a14f" },
        customdata: kinds.map((t) => all - withN.get(t)), hovertemplate: "%{x}: %{y:.1%} of %{customdata} journeys<extra>without</extra>" },
    ], layout("Friction impact: conversion of journeys with and without each friction type",
      { barmode: "group", yaxis: { tickformat: ".0%" }, xaxis: { type: "category" }, margin: { l: 60, r: 20, t: 40, b: 100 } }));
  }

  function drawTimeOnPage() {
    const rows = pick("time_on_page"), bins = DATA.time_bins;
    const perPage = groupSum(rows, (r) => r.page, (r) => r.views);
    const pages = [...perPage].sort((a, b) => b[1] - a[1]).map(([p]) => p);
    const cells = groupSum(rows, (r) => r.page + "\u0000" + r.bin, (r) => r.views);
    draw("time-on-page", [{ type: "heatmap", colorscale: [[0, "#f7fbff"], [1, "#08306b"]], x: bins, y: pages.map(esc),
      z: pages.map((p) => bins.map((_, b) => ratio(cells.get(p + "\u0000" + b) || 0, perPage.get(p)))),
      customdata: pages.map((p) => bins.map((_, b) => cells.get(p + "\u0000" + b) || 0)),
      hovertemplate: "%{y}, %{x}: %{z:.1%} (%{customdata} views)<extra></extra>", colorbar: { tickformat: ".0%" } }],
      layout("Time on page: share of each top page's timed views per bin", { height: 360, margin: { l: 160, r: 20, t: 40, b: 60 },
        yaxis: { autorange: "reversed", type: "category" }, xaxis: { type: "category" } }));
  }

  function drawTasks() {
    const rows = pick("tasks", state.from, state.to, false);
    const attempts = groupSum(rows, (r) => r.task, (r) => r.attempts);
    const stat = (key) => groupSum(rows, (r) => r.task, (r) => Number(r[key]) || 0);
    const done = stat("completions"), frictioned = stat("friction_sum"), effort = stat("effort_sum");
    const tasks = [...attempts.keys()].filter((t) => attempts.get(t))
      .sort((a, b) => effort.get(b) / attempts.get(b) - effort.get(a) / attempts.get(a));
    draw("tasks", [{ type: "bar", orientation: "h", y: tasks.map(esc), x: tasks.map((t) => effort.get(t) / attempts.get(t)),
      marker: { color: "#f28e2b" },
      text: tasks.map((t) => "completion " + pct(ratio(done.get(t), attempts.get(t))) + " \u00b7 friction "
        + pct(ratio(frictioned.get(t), attempts.get(t))) + " \u00b7 " + attempts.get(t) + " attempts"),
      textposition: "auto", hovertemplate: "%{y}: effort %{x:.2f}, %{text}<extra></extra>" }],
      layout("Effort by task, hardest first (1 effortless, 5 very hard)", { height: 360,
        yaxis: { autorange: "reversed", type: "category" }, xaxis: { range: [0, 5] }, margin: { l: 130, r: 20, t: 40, b: 40 } }));
  }

  function drawChat() {
    const rows = pick("chat", state.from, state.to, false), n = sum(rows, "conversations");
    // Daily medians and averages re-aggregate as conversation-weighted means: close, not exact.
    const weighted = (key) => {
      const known = rows.filter((r) => r[key] !== null);
      return ratio(known.reduce((a, r) => a + r[key] * r.conversations, 0), sum(known, "conversations"));
    };
    const seconds = (v) => (v === null ? "-" : v.toFixed(0) + " s");
    const tiles = { conversations: n.toLocaleString("en"), containment: pct(ratio(sum(rows, "bot_contained"), n)),
      "chat-escalation": pct(ratio(sum(rows, "escalated"), n)), wait: seconds(weighted("median_wait_s")),
      "first-response": seconds(weighted("median_first_response_s")),
      csat: weighted("avg_csat") === null ? "-" : weighted("avg_csat").toFixed(2) + " / 5" };
    for (const [id, text] of Object.entries(tiles)) $("chat-" + id).textContent = text;
    const days = rows.map((r) => r.day);
    draw("chat", [
      { type: "bar", name: "bot contained", x: days, y: rows.map((r) => r.bot_contained), marker: { color: "#59a14f" } },
      { type: "bar", name: "escalated", x: days, y: rows.map((r) => r.escalated), marker: { color: "#e15759" } },
      { type: "bar", name: "other", x: days, y: rows.map((r) => Math.max(0, r.conversations - r.bot_contained - r.escalated)),
        marker: { color: "#bab0ac" } },
      { type: "scatter", mode: "lines+markers", name: "CSAT", x: days, y: rows.map((r) => r.avg_csat), yaxis: "y2",
        line: { color: "#4e79a7" } },
    ], layout("Chat conversations per day and CSAT", { barmode: "stack", xaxis: { type: "category" },
      yaxis2: { overlaying: "y", side: "right", range: [1, 5], title: { text: "CSAT" } } }));
  }

  function update() {
    const note = state.channel ? "channel: " + state.channel : "all channels";
    $("selection").textContent = state.from + " to " + state.to + ", " + note;
    drawTiles(); drawTrends(); drawPaths(); drawFunnel(); drawFriction(); drawTimeOnPage(); drawTasks(); drawChat();
  }

  function setup() {
    if (!DAYS.length) {
      $("selection").textContent = "The warehouse has no journeys yet: run `journeys run` first.";
      return;
    }
    const from = $("filter-from"), to = $("filter-to"), channel = $("filter-channel");
    for (const input of [from, to]) { input.min = state.from; input.max = state.to; }
    from.value = state.from; to.value = state.to;
    for (const ch of CHANNELS) {
      const option = document.createElement("option");
      option.value = ch; option.textContent = ch;
      channel.appendChild(option);
    }
    const changed = () => {
      state.from = from.value || DAYS[0]; state.to = to.value || DAYS[DAYS.length - 1]; state.channel = channel.value;
      if (state.from > state.to) [state.from, state.to] = [state.to, state.from];
      update();
    };
    for (const control of [from, to, channel]) control.addEventListener("change", changed);
    $("filter-reset").addEventListener("click", () => {
      from.value = DAYS[0]; to.value = DAYS[DAYS.length - 1]; channel.value = ""; changed();
    });
    update();
  }
  setup();
})();

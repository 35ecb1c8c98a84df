// asym dashboard: polls /api/dashboard and renders it. Text only (textContent), never innerHTML, so no
// value from the system (a model's rationale, a symbol) can inject markup.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TOKEN_KEY = "asym-monitor-token";
  let pollMs = 1500;
  let timer = null;

  // A token in the URL fragment (#token=...) is moved into this tab's storage and removed from the URL.
  function takeTokenFromFragment() {
    const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  function headers() {
    const t = sessionStorage.getItem(TOKEN_KEY);
    return t ? { Authorization: "Bearer " + t } : {};
  }

  function $(id) { return document.getElementById(id); }

  function text(id, value) {
    const el = $(id);
    if (el) { el.textContent = value === null || value === undefined ? "–" : String(value); }
  }

  function signed(s) {
    if (s === null || s === undefined) { return "–"; }
    const str = String(s);
    return str.startsWith("-") || !/[1-9]/.test(str) ? str : "+" + str;  // no sign on a zero
  }

  function signClass(el, s) {
    el.classList.remove("pos", "neg");
    if (s === null || s === undefined) { return; }
    const str = String(s);
    if (str.startsWith("-")) { el.classList.add("neg"); } else if (/[1-9]/.test(str)) { el.classList.add("pos"); }
  }

  function pct(x, digits) {
    if (x === null || x === undefined) { return "–"; }
    return (Number(x) * 100).toFixed(digits === undefined ? 2 : digits) + "%";
  }

  function num(x, digits) {
    if (x === null || x === undefined) { return "–"; }
    return Number(x).toFixed(digits === undefined ? 2 : digits);
  }

  function time(ms) {
    if (!ms) { return "–"; }
    return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  }

  function fillTable(id, rows, build) {
    const body = $(id).tBodies[0];
    const out = [];
    for (const row of rows) {
      const tr = document.createElement("tr");
      const cells = build(row, tr);
      for (const c of cells) {
        const td = document.createElement("td");
        if (c && typeof c === "object" && "text" in c) {
          td.textContent = c.text;
          if (c.cls) { td.className = c.cls; }
        } else {
          td.textContent = c === null || c === undefined ? "–" : String(c);
        }
        tr.appendChild(td);
      }
      out.push(tr);
    }
    body.replaceChildren(...out);
  }

  function renderMode(mode) {
    const box = $("mode-box");
    box.className = "mode " + mode.mode;
    text("mode", mode.mode);
    text("mode-cause", mode.cause || "");
  }

  function renderHealth(h) {
    const el = $("health");
    if (!h) { el.textContent = ""; return; }
    el.textContent = h.ready ? "ready" : "not ready: " + h.reasons.join("; ");
    el.className = "health " + (h.ready ? "ready" : "notready");
  }

  function renderAccount(a, nPositions) {
    text("equity", a.equity);
    text("pnl-total", signed(a.total_pnl));
    signClass($("pnl-total"), a.total_pnl);
    text("pnl-day", signed(a.day_pnl));
    signClass($("pnl-day"), a.day_pnl);
    text("pnl-realised", signed(a.realised_pnl));
    text("pnl-unrealised", signed(a.unrealised_pnl));
    text("drawdown", pct(a.drawdown));
    text("positions-count", nPositions);
  }

  function renderCurve(points) {
    const svg = $("curve");
    const W = 800, H = 180, PAD = 6;
    const kids = [];
    if (points.length >= 2) {
      const ys = points.map((p) => Number(p.pnl));
      const t0 = points[0].ts, t1 = points[points.length - 1].ts;
      let lo = Math.min(0, ...ys), hi = Math.max(0, ...ys);
      if (hi === lo) { hi = lo + 1; }
      const x = (t) => PAD + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (W - 2 * PAD));
      const y = (v) => H - PAD - ((v - lo) / (hi - lo)) * (H - 2 * PAD);
      const zero = document.createElementNS(SVG_NS, "line");
      zero.setAttribute("x1", "0"); zero.setAttribute("x2", String(W));
      zero.setAttribute("y1", String(y(0))); zero.setAttribute("y2", String(y(0)));
      zero.setAttribute("stroke", "#30363d"); zero.setAttribute("stroke-dasharray", "4 4");
      kids.push(zero);
      const line = document.createElementNS(SVG_NS, "polyline");
      line.setAttribute("points", points.map((p, i) => x(p.ts).toFixed(1) + "," + y(ys[i]).toFixed(1)).join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", ys[ys.length - 1] >= 0 ? "#3fb950" : "#f85149");
      line.setAttribute("stroke-width", "2");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      line.setAttribute("id", "curve-line");
      kids.push(line);
      text("curve-caption", time(t0) + " → " + time(t1) + "  P&L " + signed(points[points.length - 1].pnl) +
        "  (" + points.length + " points)");
    } else {
      text("curve-caption", "not enough equity history yet");
    }
    svg.replaceChildren(...kids);
  }

  function renderAlerts(alerts) {
    const ul = $("alerts");
    const items = alerts.map((a) => {
      const li = document.createElement("li");
      li.className = a.severity;
      li.textContent = "[" + a.severity + "] " + a.key + ": " + a.summary + " (since " + time(a.started_ms) + ")";
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.textContent = "none";
      items.push(li);
    }
    ul.replaceChildren(...items);
  }

  function render(d) {
    pollMs = d.poll_ms || pollMs;
    renderMode(d.mode);
    renderHealth(d.health);
    renderAccount(d.account, d.positions.length);
    renderCurve(d.curve);
    renderAlerts(d.alerts);
    fillTable("positions", d.positions, (p) => [
      p.symbol, p.side || "flat", p.size, p.avg_price, p.mark_price, p.leverage,
      { text: signed(p.unrealised_pnl), cls: String(p.unrealised_pnl).startsWith("-") ? "neg" : "pos" },
      p.liq_price, p.take_profit, p.stop_loss,
    ]);
    fillTable("signals", d.signals, (s, tr) => {
      tr.className = s.outcome;
      return [
        time(s.ts), s.symbol, s.action || "–", s.outcome,
        s.confidence === null ? "–" : num(s.confidence, 2), s.reward_risk,
        { text: s.outcome === "rejected" ? s.reason : s.rationale, cls: "rationale" }, s.model_id,
      ];
    });
    fillTable("enhanced", d.enhanced, (e) => {
      const f = e.funding_sentiment, oi = e.oi_sentiment, t = e.technical_indicators, nl = e.nearby_liquidations;
      return [
        e.symbol, e.last_price, e.spread_pct === null ? "–" : num(e.spread_pct, 4),
        e.liquidity_score === null ? "–" : num(e.liquidity_score, 2), e.liquidation_risk,
        f ? f.direction + " " + f.pressure : "–", oi ? oi.label : "–",
        e.market_risk_score === null ? "–" : num(e.market_risk_score, 2),
        t && t.rsi_14 !== null ? num(t.rsi_14, 1) : "–", t && t.atr_pct !== null ? num(t.atr_pct, 2) : "–",
        t && t.ema_trend ? t.ema_trend : "–", nl ? nl.count + " / " + nl.notional : "–",
        e.quality_flags.join(", "),
      ];
    });
    const q = d.quality;
    text("usable-share", q.usable_share === null ? "–" : pct(q.usable_share, 0));
    text("quality-total", q.events_total);
    fillTable("freshness", q.freshness, (f, tr) => {
      tr.className = f.stale ? "stale" : "fresh";
      return [f.stream, f.age_s === null ? "never" : num(f.age_s, 1), num(f.max_age_s, 0), f.stale ? "STALE" : "ok"];
    });
    fillTable("quality-kinds", Object.entries(q.events_by_kind), (kv) => [kv[0], kv[1]]);
    fillTable("latency", d.latency, (l) => [l.endpoint, l.count, l.errors, num(l.p50_ms, 1), num(l.p95_ms, 1),
      num(l.p99_ms, 1)]);
    text("updated", time(d.ts_ms));
  }

  function showLogin(show) {
    $("login").hidden = !show;
    $("main").hidden = show;
  }

  async function poll() {
    try {
      const resp = await fetch("/api/dashboard", { headers: headers(), cache: "no-store" });
      if (resp.status === 401) {
        showLogin(true);
        $("conn").textContent = "token required";
        return;
      }
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      showLogin(false);
      render(await resp.json());
      $("conn").textContent = "";
      $("conn").classList.remove("down");
    } catch (err) {
      $("conn").textContent = "(disconnected: " + err.message + ")";
      $("conn").classList.add("down");
    } finally {
      if (!$("login").hidden) { return; }
      clearTimeout(timer);
      timer = setTimeout(poll, pollMs);
    }
  }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    showLogin(false);
    poll();
  });

  takeTokenFromFragment();
  poll();
})();

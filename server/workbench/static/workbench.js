// Keeps the inbox live: new alerts and dispositions arrive over server-sent events (/events).
// Builds rows with textContent only (no HTML from the feed is ever parsed). window.rwSeen records when each
// alert reached the page (Date.now()), which the browser test and bench/workbench_latency.py read.
(function () {
  "use strict";
  window.rwSeen = {};
  const list = document.getElementById("alerts");
  const live = document.getElementById("live");
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const officer = document.querySelector('meta[name="officer"]').content;
  const filter = (name) => document.getElementById("filter-" + name).value;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function when(ts) {
    const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)$/.exec(ts || "");
    return m ? m[1] + " " + m[2] + (m[3] === "Z" ? "+0000" : m[3].replace(":", "")) : (ts || "");
  }
  function matches(a) {
    return (!filter("detector") || a.detector === filter("detector")) &&
      (!filter("severity") || a.severity === filter("severity")) &&
      (!filter("tier") || a.risk_tier === filter("tier")) &&
      (!filter("status") || a.status === filter("status"));
  }
  function row(a) {
    const art = el("article", "alert sev-" + a.severity);
    Object.assign(art.dataset, {alertId: a.alert_id, detector: a.detector, severity: a.severity,
      tier: a.risk_tier, status: a.status, customer: a.customer_id});
    const r = el("div", "row");
    r.append(el("span", "time", when(a.event_time)), el("span", "sev", a.severity.toUpperCase()));
    const det = el("a", "detector", a.detector); det.href = "/alerts/" + encodeURIComponent(a.alert_id);
    const cus = el("a", "customer", a.customer_id); cus.href = "/customers/" + encodeURIComponent(a.customer_id);
    r.append(det, cus, el("span", "tier", "tier " + a.risk_tier), el("span", "score", "score " + Number(a.score).toFixed(2)),
      el("span", "status status-" + a.status, a.status.replace("_", " ")));
    art.append(r, el("p", "reason", a.reason));
    const ev = el("details", "evidence"); ev.append(el("summary", null, "evidence"));
    const dl = el("dl");
    for (const [k, v] of Object.entries(a.evidence || {})) dl.append(el("dt", null, k), el("dd", null, String(v)));
    ev.append(dl); art.append(ev);
    if (officer) {
      const f = el("form", "dispose"); f.method = "post"; f.action = "/alerts/" + encodeURIComponent(a.alert_id) + "/disposition";
      const c = el("input"); c.type = "hidden"; c.name = "csrf"; c.value = csrf;
      const b = el("input"); b.type = "hidden"; b.name = "back"; b.value = location.pathname + location.search;
      const n = el("input"); n.name = "note"; n.placeholder = "note (optional)"; n.maxLength = 2000;
      f.append(c, b, n);
      for (const [value, label] of [["confirmed", "confirm"], ["false_positive", "false positive"], ["escalated", "escalate"]]) {
        const btn = el("button", null, label); btn.name = "disposition"; btn.value = value; f.append(btn);
      }
      art.append(f);
    }
    return art;
  }
  const source = new EventSource("/events");
  source.onopen = () => { live.textContent = "live"; document.body.dataset.live = "1"; };
  source.onerror = () => { live.textContent = "reconnecting…"; document.body.dataset.live = "0"; };
  source.addEventListener("alert", (e) => {
    const a = JSON.parse(e.data);
    if (document.querySelector('article[data-alert-id="' + CSS.escape(a.alert_id) + '"]') || !matches(a)) return;
    const empty = document.getElementById("empty"); if (empty) empty.remove();
    list.prepend(row(a));
    window.rwSeen[a.alert_id] = Date.now();
  });
  source.addEventListener("disposition", (e) => {
    const d = JSON.parse(e.data);
    const art = document.querySelector('article[data-alert-id="' + CSS.escape(d.alert_id) + '"]');
    if (!art) return;
    art.dataset.status = d.disposition;
    const s = art.querySelector(".status");
    s.className = "status status-" + d.disposition; s.textContent = d.disposition.replace("_", " ");
  });
})();

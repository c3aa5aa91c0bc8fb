// polytail dashboard: polls the token-protected JSON API and renders it.
// The token lives in sessionStorage and travels only in the Authorization header (never a
// cookie), so no other site can act with it. Data is inserted as text, never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "polytail.token";
  const pollMs = Number(document.body.dataset.pollMs) || 3000;
  let timer = null;

  // --- token ---------------------------------------------------------------------------
  function takeTokenFromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function showLogin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById("main").hidden = true;
    document.getElementById("login").hidden = false;
    document.getElementById("login-message").textContent = message || "";
    stopPolling();
  }

  // --- API -----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    init.headers["Authorization"] = "Bearer " + token();
    init.headers["Accept"] = "application/json";
    if (init.body !== undefined) init.headers["Content-Type"] = "application/json";
    const response = await fetch(path, init);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error : "HTTP " + response.status;
      throw new ApiError(response.status, message);
    }
    return body;
  }

  function handleError(error) {
    if (error instanceof ApiError && error.status === 401) {
      showLogin(error.message);
    } else if (error instanceof ApiError && error.status === 403) {
      stopPolling();
      showMessage(error.message);
    } else {
      showMessage(error.message || String(error));
    }
  }

  function showMessage(text) {
    const element = document.getElementById("message");
    element.textContent = text || "";
    element.hidden = !text;
  }

  // --- formatting (exact: amounts arrive as decimal strings and stay strings) -------------
  function amount(text) {
    if (text === null || text === undefined) return "–";
    const [whole, fraction = ""] = String(text).split(".");
    return whole + "." + fraction.padEnd(2, "0");
  }
  function quantity(text) {
    return text === null || text === undefined ? "–" : String(text);
  }
  function time(ms) {
    if (ms === null || ms === undefined) return "–";
    return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  }
  function duration(seconds) {
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return (d ? d + "d " : "") + h + "h " + m + "m";
  }
  function signClass(text) {
    if (text === null || text === undefined) return "";
    return String(text).startsWith("-") ? "neg" : String(text) === "0" ? "" : "pos";
  }
  function short(address) {
    return address && address.length > 12 ? address.slice(0, 6) + "…" + address.slice(-4) : address || "";
  }

  // --- DOM helpers ---------------------------------------------------------------------
  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (className) td.className = className;
    return td;
  }
  function fill(tableId, rows, emptyText) {
    const body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(emptyText, "empty");
      td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
      tr.append(td);
      body.append(tr);
      return;
    }
    rows.forEach((tr) => body.append(tr));
  }
  function row(cells, attributes) {
    const tr = document.createElement("tr");
    Object.entries(attributes || {}).forEach(([key, value]) => tr.setAttribute(key, value));
    tr.append(...cells);
    return tr;
  }

  // --- rendering -----------------------------------------------------------------------
  function renderStatus(status) {
    const badge = document.getElementById("mode-badge");
    badge.textContent = status.mode.toUpperCase();
    badge.className = "badge " + status.mode;
    document.getElementById("account").textContent = "account " + status.account;
    document.getElementById("uptime").textContent = "up " + duration(status.uptime_s);
    const ready = document.getElementById("ready");
    ready.textContent = status.health.ready
      ? "ready"
      : "not ready: " + status.health.waiting_for.join(", ");
    ready.className = "pill " + (status.health.ready ? "ok" : "bad");

    const kill = status.kill_switch;
    const killState = document.getElementById("kill-state");
    killState.textContent = kill.engaged ? "KILL SWITCH ENGAGED (" + kill.source + ")" : "kill switch off";
    killState.className = "pill " + (kill.engaged ? "bad" : "ok");
    const killButton = document.getElementById("kill-button");
    killButton.hidden = false;
    killButton.dataset.engaged = String(kill.engaged);
    killButton.textContent = kill.engaged ? "Release kill switch" : "Engage kill switch";

    const cards = [
      ["Cash", amount(status.cash)],
      ["Equity", amount(status.equity)],
      ["Exposure", amount(status.exposure)],
      ["PnL today", amount(status.pnl_today.total), signClass(status.pnl_today.total)],
      ["PnL total", amount(status.pnl_total.total), signClass(status.pnl_total.total)],
      ["Realized total", amount(status.pnl_total.realized), signClass(status.pnl_total.realized)],
      ["Open orders", status.open_orders],
      ["Positions", status.positions],
    ];
    const container = document.getElementById("cards");
    container.replaceChildren(
      ...cards.map(([label, value, className]) => {
        const card = document.createElement("div");
        card.className = "card";
        const title = document.createElement("div");
        title.className = "label";
        title.textContent = label;
        const figure = document.createElement("div");
        figure.className = "value " + (className || "");
        figure.textContent = String(value);
        card.append(title, figure);
        return card;
      })
    );

    fill(
      "components",
      status.health.components.map((c) =>
        row(
          [
            cell(c.component + (c.required ? "" : " (optional)")),
            cell(c.state, "state " + c.state),
            cell(c.detail),
            cell(time(c.since_ms)),
          ],
          { "data-component": c.component }
        )
      ),
      "no component has reported"
    );
    fill(
      "breakers",
      status.breakers.map((b) =>
        row([cell(b.scope), cell(b.reason), cell(short(b.leader)), cell(b.detail), cell(time(b.tripped_at_ms))])
      ),
      "no breaker tripped"
    );
  }

  function renderLeaders(leaders) {
    fill(
      "leaders",
      leaders.map((l) => {
        const action = document.createElement("button");
        action.type = "button";
        action.className = l.paused ? "resume" : "pause";
        action.textContent = l.paused ? "Resume" : "Pause";
        action.dataset.address = l.address;
        action.dataset.action = l.paused ? "resume" : "pause";
        const actionCell = document.createElement("td");
        actionCell.append(action);
        const state = !l.enabled ? "disabled" : l.paused ? "paused" : "copying";
        return row(
          [
            cell(l.label),
            cell(short(l.address), "mono"),
            cell(state, "state " + state),
            cell(l.copies, "num"),
            cell(l.skips, "num"),
            cell(amount(l.realized_pnl), "num " + signClass(l.realized_pnl)),
            cell(amount(l.unrealized_pnl), "num " + signClass(l.unrealized_pnl)),
            cell(amount(l.budget_used) + " / " + amount(l.budget), "num"),
            actionCell,
          ],
          { "data-address": l.address }
        );
      }),
      "no leader is watched"
    );
  }

  function renderPositions(positions) {
    fill(
      "positions",
      positions.map((p) =>
        row(
          [
            cell(p.market),
            cell(p.outcome),
            cell(quantity(p.shares), "num"),
            cell(quantity(p.average_cost), "num"),
            cell(p.mark === null ? "–" : p.mark, "num"),
            cell(amount(p.market_value), "num"),
            cell(amount(p.unrealized_pnl), "num " + signClass(p.unrealized_pnl)),
            cell(amount(p.realized_pnl), "num " + signClass(p.realized_pnl)),
            cell(p.by_leader.map((s) => s.label + " " + s.shares).join(", ")),
          ],
          { "data-token": p.token_id }
        )
      ),
      "no open position"
    );
  }

  function renderOrders(orders) {
    fill(
      "orders",
      orders.map((view) => {
        const o = view.order;
        const intent = o.intent;
        return row(
          [
            cell(time(intent.created_at_ms)),
            cell(intent.side, "side " + intent.side.toLowerCase()),
            cell((view.market || intent.token_id) + (view.outcome ? " · " + view.outcome : "")),
            cell(intent.order_type),
            cell(intent.limit_price, "num"),
            cell(quantity(intent.size), "num"),
            cell(quantity(o.filled), "num"),
            cell(o.state, "state " + o.state.toLowerCase()),
            cell(view.leader_label),
          ],
          { "data-client-id": intent.client_id }
        );
      }),
      "no open order"
    );
  }

  function renderDecisions(decisions) {
    fill(
      "decisions",
      decisions.map((view) => {
        const d = view.decision;
        const reasons = document.createElement("td");
        reasons.className = "reasons";
        view.explanations.forEach((text) => {
          const line = document.createElement("div");
          line.textContent = text;
          reasons.append(line);
        });
        if (d.detail) {
          const detail = document.createElement("div");
          detail.className = "muted";
          detail.textContent = d.detail;
          reasons.append(detail);
        }
        return row(
          [
            cell(time(d.decided_at_ms)),
            cell(d.action, "action " + d.action),
            cell(view.leader_label || short(d.leader)),
            cell(d.side || ""),
            cell((view.market || d.token_id || "") + (view.outcome ? " · " + view.outcome : "")),
            cell(d.action === "copy" ? quantity(d.size) : "", "num"),
            cell(d.action === "copy" ? amount(d.notional) : "", "num"),
            reasons,
            cell(d.fill_id || "", "mono"),
          ],
          { "data-intent": d.intent_key }
        );
      }),
      "no decision yet"
    );
  }

  // --- loop and actions ------------------------------------------------------------------
  async function refresh() {
    try {
      const data = await api("/api/overview");
      document.getElementById("login").hidden = true;
      document.getElementById("main").hidden = false;
      showMessage("");
      renderStatus(data.status);
      renderLeaders(data.leaders);
      renderPositions(data.positions);
      renderOrders(data.orders);
      renderDecisions(data.decisions);
      document.body.dataset.loaded = "true";
    } catch (error) {
      handleError(error);
    }
  }

  function startPolling() {
    stopPolling();
    refresh();
    timer = window.setInterval(refresh, pollMs);
  }
  function stopPolling() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }

  async function act(path, body) {
    try {
      await api(path, { method: "POST", body: body === undefined ? "{}" : JSON.stringify(body) });
      await refresh();
    } catch (error) {
      handleError(error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeTokenFromFragment();
    document.getElementById("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = document.getElementById("token-input");
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      input.value = "";
      document.getElementById("login").hidden = true;
      startPolling();
    });
    document.getElementById("leaders").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      button.disabled = true;
      const path = "/api/leaders/" + encodeURIComponent(button.dataset.address) + "/" + button.dataset.action;
      act(path);
    });
    document.getElementById("kill-button").addEventListener("click", (event) => {
      const engaged = event.target.dataset.engaged === "true";
      if (!engaged && !window.confirm("Engage the kill switch? No new order will be sent, exits included.")) {
        return;
      }
      act("/api/kill-switch", { engaged: !engaged });
    });
    if (token()) startPolling();
    else showLogin("");
  });
})();

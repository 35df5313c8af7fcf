// The live pages' script (agent console, wallboard, unit workbench, ticket page). It follows the
// websocket protocol v1 of /ws (README: "Agent console: the websocket protocol"):
// subscribes to the topics the page names, resumes after the sequence number the page was
// rendered at, reconnects with a growing pause and resumes again, and when an event concerns a
// part of the page fetches that part anew from the server (which renders it, escaped, as it
// renders the page). Text from events is only ever set as textContent: nothing a citizen wrote
// can become markup here, and the pages' CSP forbids inline scripts besides.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.WebSocket) return;

  var topics = (live.dataset.topics || "").split(" ").filter(Boolean);
  var ticketId = live.dataset.ticket || "";
  var lastSeq = Number(live.dataset.seq || 0);
  var throttleMs = Number(live.dataset.throttle || 800);
  var statusEl = document.getElementById("live-status");
  var socket = null;
  var retry = 0;
  var nextId = 1;
  var editing = false;

  function say(text, ok) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = ok ? "live-on" : "live-off";
  }

  function send(msg) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      msg.v = 1;
      msg.id = nextId++;
      socket.send(JSON.stringify(msg));
    }
  }

  // ---- parts of the page fetched again ----------------------------------------------------
  var parts = Array.prototype.slice.call(document.querySelectorAll("[data-part]"));
  var due = {};
  var timer = null;
  var lastFetch = 0;

  parts.forEach(function (el) {
    // A part someone is typing into is not replaced under their hands: it says it is stale.
    el.addEventListener("input", function () { el.dataset.dirty = "1"; });
  });

  function partUrl(name) {
    var url = new URL(window.location.href);
    url.searchParams.delete("created");
    url.searchParams.delete("done");
    url.searchParams.delete("unanswered");
    url.searchParams.set("part", name);
    return url.pathname + url.search;
  }

  function staleNotice(el) {
    if (el.previousElementSibling && el.previousElementSibling.classList.contains("stale")) return;
    var p = document.createElement("p");
    p.className = "stale";
    p.setAttribute("role", "status");
    p.textContent = "此处内容已有更新。";
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = "刷新（放弃未提交的输入）";
    b.addEventListener("click", function () {
      delete el.dataset.dirty;
      p.remove();
      fetchPart(el);
    });
    p.appendChild(b);
    el.parentNode.insertBefore(p, el);
  }

  function fetchPart(el) {
    var name = el.dataset.part;
    return fetch(partUrl(name), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.status === 401 || res.redirected) { window.location.reload(); return null; }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.text();
      })
      .then(function (html) {
        if (html === null) return;
        // DOMParser makes inert nodes: its scripts never run, wherever they are put.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var selected = selectedHref();
        el.replaceChildren.apply(el, Array.prototype.slice.call(doc.body.childNodes));
        el.dataset.fresh = String(Date.now());
        restoreSelection(selected);
        document.dispatchEvent(new CustomEvent("live:part", { detail: name }));
      })
      .catch(function () { /* the next event or reconnect fetches it again */ });
  }

  function flush() {
    timer = null;
    lastFetch = Date.now();
    parts.forEach(function (el) {
      if (!due[el.dataset.part]) return;
      delete due[el.dataset.part];
      if (el.dataset.dirty || (editing && el.contains(document.activeElement))) staleNotice(el);
      else fetchPart(el);
    });
  }

  function refresh(all, forTicket) {
    parts.forEach(function (el) {
      var when = el.dataset.when || "any";
      if (all || when === "any" || (when === "ticket" && forTicket)) due[el.dataset.part] = true;
    });
    if (timer) return;
    var wait = Math.max(0, throttleMs - (Date.now() - lastFetch));
    timer = setTimeout(flush, wait);
  }

  // ---- events -----------------------------------------------------------------------------
  var feed = document.getElementById("live-feed");

  function onEvent(m) {
    if (m.seq <= lastSeq) return; // seen already (a replay after a live delivery)
    lastSeq = m.seq;
    refresh(false, m.ticket_id === ticketId);
    if (feed && m.ticket) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/tickets/" + encodeURIComponent(m.ticket.id);
      a.textContent = m.ticket.number;
      li.appendChild(document.createTextNode((m.kind_label || m.kind) + " "));
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + (m.ticket.title || "")));
      feed.insertBefore(li, feed.firstChild);
      while (feed.children.length > 10) feed.removeChild(feed.lastChild);
    }
  }

  // ---- presence ---------------------------------------------------------------------------
  var agentsEl = document.getElementById("agents");
  var agents = new Map();

  function renderAgents() {
    if (!agentsEl) return;
    var rows = Array.from(agents.values()).sort(function (a, b) {
      return (a.display_name || "").localeCompare(b.display_name || "", "zh-CN");
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.user = a.username;
      tr.dataset.state = a.state;
      [a.display_name || a.username, a.state_label || a.state, formatTime(a.since)].forEach(function (t) {
        var td = document.createElement("td");
        td.textContent = t;
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 3;
      td.className = "muted";
      td.textContent = "无人在线。";
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    agentsEl.replaceChildren(frag);
    var counts = document.getElementById("agent-counts");
    if (counts) {
      var by = {};
      rows.forEach(function (a) { by[a.state_label] = (by[a.state_label] || 0) + 1; });
      counts.textContent = "在线 " + rows.length + " 人" + Object.keys(by).map(function (k) {
        return "，" + k + " " + by[k];
      }).join("");
    }
  }

  function onPresence(m) {
    if (m.snapshot) agents.clear();
    (m.agents || []).forEach(function (a) {
      if (a.state === "offline") agents.delete(a.user_id);
      else agents.set(a.user_id, a);
    });
    renderAgents();
    var mine = document.getElementById("presence-state");
    (m.agents || []).forEach(function (a) {
      if (mine && me && a.user_id === me.id && a.state !== "offline") mine.value = a.state;
    });
  }

  function formatTime(s) {
    if (!s) return "";
    var d = new Date(s);
    if (isNaN(d)) return "";
    return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }

  var stateSelect = document.getElementById("presence-state");
  if (stateSelect) {
    stateSelect.addEventListener("change", function () { send({ type: "presence", state: stateSelect.value }); });
  }

  // ---- who views and edits the ticket -----------------------------------------------------
  var watchersEl = document.getElementById("watchers");

  function names(list) {
    return (list || []).map(function (w) { return w.display_name || w.username; }).join("、");
  }

  function onWatchers(m) {
    if (!watchersEl || m.ticket_id !== ticketId) return;
    var parts = [];
    if (m.viewing && m.viewing.length) parts.push("正在查看：" + names(m.viewing));
    if (m.editing && m.editing.length) parts.push("正在办理：" + names(m.editing));
    watchersEl.textContent = parts.join("；");
  }

  if (ticketId) {
    document.addEventListener("focusin", function (e) {
      var panel = document.querySelector('[data-when="ticket"]');
      var inForm = panel && panel.contains(e.target) && e.target.closest("form");
      if (inForm && !editing) { editing = true; send({ type: "editing", ticket_id: ticketId }); }
    });
  }

  // ---- the connection ---------------------------------------------------------------------
  var me = null;
  var subscribeId = 0;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    say(retry ? "实时更新：连接中断，正在重连…" : "实时更新：连接中…", false);
    socket = new WebSocket(scheme + "//" + window.location.host + "/ws");
    socket.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      switch (m.type) {
        case "hello":
          me = m.user;
          retry = 0;
          subscribeId = nextId;
          send({ type: "subscribe", topics: topics });
          break;
        case "subscribed":
          if (m.id === subscribeId) {
            send({ type: "resume", after: lastSeq });
            if (ticketId) send({ type: editing ? "editing" : "viewing", ticket_id: ticketId });
            if (stateSelect && stateSelect.dataset.set) send({ type: "presence", state: stateSelect.value });
          }
          break;
        case "resumed":
          say("实时更新：已连接", true);
          if (m.last_seq > lastSeq) lastSeq = m.last_seq;
          break;
        case "reload":
          // Too far behind to replay: everything is fetched again, then it goes on live.
          lastSeq = m.last_seq;
          refresh(true, true);
          say("实时更新：已连接", true);
          break;
        case "event": onEvent(m); break;
        case "presence": onPresence(m); break;
        case "watchers": onWatchers(m); break;
        case "error":
          if (m.field && m.field.indexOf("topics") === 0) say("实时更新：无权订阅（" + m.message + "）", false);
          break;
      }
    };
    socket.onclose = function (e) {
      socket = null;
      if (e.code === 4001) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      retry++;
      var pause = Math.min(15000, 500 * Math.pow(2, Math.min(retry, 5))) * (0.7 + Math.random() * 0.6);
      say("实时更新：连接中断，" + Math.round(pause / 1000) + " 秒后重连…", false);
      setTimeout(connect, pause);
    };
  }
  if (stateSelect) stateSelect.addEventListener("change", function () { stateSelect.dataset.set = "1"; });

  // ---- keyboard shortcuts (agent console) -------------------------------------------------
  var keyed = live.dataset.keys === "console";
  var selectedIndex = -1;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("a[data-queue-row]")); }
  function selectedHref() { var r = rows()[selectedIndex]; return r ? r.getAttribute("href") : null; }
  function restoreSelection(href) {
    if (!keyed || href === null) return;
    selectedIndex = rows().findIndex(function (a) { return a.getAttribute("href") === href; });
    mark();
  }
  function mark() {
    rows().forEach(function (a, i) {
      var tr = a.closest("tr");
      if (tr) tr.classList.toggle("selected", i === selectedIndex);
    });
    var r = rows()[selectedIndex];
    if (r) r.scrollIntoView({ block: "nearest" });
  }

  if (keyed) {
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (e.key === "Escape" && typing) { t.blur(); return; }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      var list = rows();
      if (e.key === "j" || e.key === "k") {
        if (!list.length) return;
        selectedIndex = e.key === "j" ? Math.min(list.length - 1, selectedIndex + 1) : Math.max(0, selectedIndex - 1);
        mark();
        e.preventDefault();
      } else if ((e.key === "Enter" || e.key === "o") && list[selectedIndex]) {
        window.location.href = list[selectedIndex].getAttribute("href");
        e.preventDefault();
      } else if (e.key === "n") {
        window.location.href = "/console";
        e.preventDefault();
      } else if (e.key === "/") {
        var s = document.getElementById("category-search");
        if (s) { s.focus(); e.preventDefault(); }
      }
    });
  }

  // ---- the new-appeal form: category search and the caller's earlier tickets --------------
  var search = document.getElementById("category-search");
  var select = document.getElementById("category_id");
  if (search && select) {
    search.addEventListener("input", function () {
      var q = search.value.trim();
      var first = null;
      var shown = 0;
      Array.prototype.forEach.call(select.querySelectorAll("option"), function (o) {
        var group = o.parentNode.tagName === "OPTGROUP" ? o.parentNode.label : "";
        var hit = !q || !o.value || (o.textContent + " " + group).indexOf(q) >= 0;
        o.hidden = !hit;
        if (hit && o.value) { shown++; if (!first) first = o; }
      });
      if (q && first) select.value = first.value;
      search.title = q ? "匹配 " + shown + " 个分类" : "";
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); select.focus(); }
    });
  }

  var phone = document.getElementById("citizen_phone");
  var history = document.getElementById("caller-history");
  if (phone && history) {
    var asked = "";
    var look = function () {
      var p = phone.value.replace(/[\s-]/g, "");
      if (p.length < 7 || p === asked) return;
      asked = p;
      fetch("/api/v1/tickets?limit=10&citizen_phone=" + encodeURIComponent(p), { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.json() : { items: [] }; })
        .then(function (body) {
          history.replaceChildren();
          var items = body.items || [];
          var h = document.createElement("p");
          h.textContent = items.length ? "该号码的历史工单（" + items.length + "）：" : "该号码没有历史工单。";
          history.appendChild(h);
          var ul = document.createElement("ul");
          items.forEach(function (t) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/console?ticket=" + encodeURIComponent(t.id);
            a.textContent = t.number;
            li.appendChild(a);
            li.appendChild(document.createTextNode(" " + t.status_label + " " + t.title));
            ul.appendChild(li);
          });
          history.appendChild(ul);
        })
        .catch(function () {});
    };
    phone.addEventListener("change", look);
    phone.addEventListener("blur", look);
  }

  // ---- knowledge answers: matching articles as the agent types, "用此答复" --------------------
  // The server renders the panel's content (escaped, matches in <mark>); it is parsed inert and
  // put in place like any other part. Answers are only copied into form fields as values.
  function initKnowledge() {
    var kb = document.getElementById("kb-answers");
    if (!kb || kb.dataset.ready) return;
    kb.dataset.ready = "1";
    var kbInputs = (kb.dataset.from || "").split(" ").filter(Boolean)
      .map(function (id) { return document.getElementById(id); }).filter(Boolean);
    var kbAsked = null;
    var kbTimer = null;
    var kbLookup = function () {
      var q = kb.dataset.q || kbInputs.map(function (el) { return el.value; }).join(" ");
      q = q.replace(/\s+/g, " ").trim().slice(0, 200);
      if (q.length < 2 || q === kbAsked) return;
      kbAsked = q;
      fetch("/console/answers?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (res) { if (!res.ok) throw new Error("HTTP " + res.status); return res.text(); })
        .then(function (html) {
          if (q !== kbAsked) return; // a later lookup is on its way
          var doc = new DOMParser().parseFromString(html, "text/html");
          kb.replaceChildren.apply(kb, Array.prototype.slice.call(doc.body.childNodes));
          kb.dataset.fresh = String(Date.now());
        })
        .catch(function () { kbAsked = null; });
    };
    kbInputs.forEach(function (el) {
      el.addEventListener("input", function () {
        clearTimeout(kbTimer);
        kbTimer = setTimeout(kbLookup, 300);
      });
    });
    kb.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest(".kb-use") : null;
      if (!b) return;
      var li = b.closest("li");
      var text = li && li.querySelector(".kb-text");
      var answer = document.getElementById("answer");
      var article = document.getElementById("answer-article");
      if (!answer || !article || !text) return;
      answer.value = text.value;
      article.value = b.dataset.slug;
      var cite = document.getElementById("answer-cite");
      if (cite) cite.textContent = "引用知识：《" + b.dataset.title + "》";
      var box = document.getElementById("answer-now");
      if (box) box.hidden = false;
      answer.focus();
    });
    kbLookup();
  }
  initKnowledge();
  // A part fetched again (the ticket) brings a new panel.
  document.addEventListener("live:part", initKnowledge);

  window.addEventListener("pagehide", function () { if (socket) socket.close(1000); });
  connect();
})();

/* 关系图谱: draws /graph/data as SVG in every <section data-graph> (see reports/web/_graph.html.j2).
   Pan (drag), zoom (wheel, buttons), click a node to see it and expand its links, filter by kind of link.
   No library and no inline script (the CSP forbids it); data comes in through data-attributes.
   Hooks for tests: data-state (loading|ready|error), data-node-count and data-edge-count on the section. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var GLYPH = { person: "人", post: "岗", "case": "户", phone: "电", dwelling: "址", account: "账" };
  var NODE_NAMES = { person: "人员", post: "工作人员岗位", "case": "救助案件（户）", phone: "电话", dwelling: "住址",
    account: "银行账户" };
  var LABELLED_EDGES = 70; // edge labels are drawn up to this many edges

  function svg(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function tag(name, text, cls, parent) {
    var e = document.createElement(name);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function short(text, n) {
    return text.length <= n ? text : text.slice(0, n - 1) + "…";
  }

  function Graph(root) {
    this.root = root;
    this.canvas = root.querySelector(".graph-canvas");
    this.view = root.querySelector(".graph-view");
    this.status = root.querySelector(".graph-status");
    this.side = root.querySelector(".graph-selected");
    this.list = root.querySelector(".graph-finding-list");
    this.expand = [];
    this.data = null;
    this.nodes = {};
    this.selected = null;
    this.t = { x: 0, y: 0, k: 1 };
    this.bind();
    this.load();
  }

  Graph.prototype.query = function () {
    var d = this.root.dataset, p = new URLSearchParams();
    if (d.person) { p.set("person", d.person); }
    if (d.staff) { p.set("staff", d.staff); }
    if (d.personToken) { p.set("person_token", d.personToken); }
    if (d.staffToken) { p.set("staff_token", d.staffToken); }
    p.set("month", d.month || "");
    if (d.reason) { p.set("reason", d.reason); }
    this.expand.forEach(function (k) { p.append("expand", k); });
    var boxes = this.root.querySelectorAll("input[name=graph-kind]");
    var on = Array.prototype.filter.call(boxes, function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    if (on.length !== boxes.length) { p.set("kinds", on.join(",")); }
    return p.toString();
  };

  Graph.prototype.load = function (undo) {
    var self = this;
    self.root.dataset.state = "loading";
    self.status.textContent = "正在载入关系图…";
    fetch("/graph/data?" + self.query(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
          return { ok: false, body: { error: "登录已失效或服务器无响应，请刷新页面（必要时重新登录）" } };
        });
      })
      .then(function (res) {
        if (!res.ok) {
          if (undo) { undo(); }
          self.fail(res.body.error || "无法载入关系图");
          return;
        }
        self.draw(res.body);
      }, function () {
        if (undo) { undo(); }
        self.fail("网络错误，无法载入关系图");
      });
  };

  Graph.prototype.fail = function (message) {
    this.root.dataset.state = this.data ? "ready" : "error";
    this.root.querySelector(".graph-message").textContent = this.data ? "" : message;
    this.status.textContent = message;
    this.status.classList.add("graph-error");
  };

  Graph.prototype.draw = function (data) {
    var self = this, view = this.view;
    this.data = data;
    this.nodes = {};
    data.nodes.forEach(function (n) { self.nodes[n.key] = n; });
    while (view.firstChild) { view.removeChild(view.firstChild); }
    var at = {};
    data.nodes.forEach(function (n) { at[n.key] = n; });
    var lengths = data.edges.map(function (e) {
      var a = at[e.source], b = at[e.target];
      return Math.sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
    }).filter(function (d) { return d > 0; }).sort(function (p, q) { return p - q; });
    var median = lengths.length ? lengths[Math.floor(lengths.length / 2)] : 1;
    var scale = 150 / median; // pixels per layout unit: a typical link is 150 px long at zoom 1
    data.nodes.forEach(function (n) { n.px = n.x * scale; n.py = n.y * scale; });

    var edges = svg("g", { "class": "graph-edges" }, view);
    var labels = svg("g", { "class": "graph-edge-labels" }, view);
    var pairs = {};
    data.edges.forEach(function (e) {
      var id = [e.source, e.target].sort().join("|");
      e.rank = pairs[id] = (pairs[id] || 0) + 1;
    });
    data.edges.forEach(function (e) {
      var a = self.nodes[e.source], b = self.nodes[e.target];
      var id = [e.source, e.target].sort().join("|"), n = pairs[id];
      var dx = b.px - a.px, dy = b.py - a.py, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var sign = e.source < e.target ? 1 : -1;
      var off = (e.rank - 1 - (n - 1) / 2) * 26 * sign;
      var cx = (a.px + b.px) / 2 - dy / len * off, cy = (a.py + b.py) / 2 + dx / len * off;
      var hot = e.findings.length > 0;
      var path = svg("path", { d: "M" + a.px + "," + a.py + " Q" + cx + "," + cy + " " + b.px + "," + b.py,
        "class": "gedge kind-" + e.kind + (hot ? " hot" : ""), "data-kind": e.kind }, edges);
      svg("title", {}, path).textContent = (data.kind_labels[e.kind] || e.kind) + "：" + e.label +
        (hot ? "\n问题线索：" + e.rules.join("、") : "");
      if (data.edges.length <= LABELLED_EDGES) {
        var t = n > 1 ? e.rank / (n + 1) : 0.5; // parallel links: labels spread along the link, not stacked
        if (sign < 0) { t = 1 - t; }
        var mx = (1 - t) * (1 - t) * a.px + 2 * (1 - t) * t * cx + t * t * b.px;
        var my = (1 - t) * (1 - t) * a.py + 2 * (1 - t) * t * cy + t * t * b.py;
        svg("text", { x: mx, y: my, "class": "gedge-label" + (hot ? " hot" : "") }, labels).textContent =
          short(e.label, 12);
      }
    });

    var layer = svg("g", { "class": "graph-nodes" }, view);
    data.nodes.forEach(function (n) {
      var hot = n.findings.length > 0, r = n.focus ? 22 : 16;
      var g = svg("g", { "class": "gnode" + (n.expanded ? " expanded" : "") + (n.expandable ? "" : " closed"),
        transform: "translate(" + n.px + "," + n.py + ")", "data-key": n.key, "data-kind": n.kind,
        "data-expandable": String(n.expandable && !n.expanded), tabindex: "0", role: "button",
        "aria-label": n.label }, layer);
      var cls = "gnode-shape kind-" + n.kind + (n.focus ? " focus" : "") + (hot ? " hot" : "") +
        n.tags.map(function (t) { return " tag-" + t; }).join("");
      svg("circle", { r: r, "class": cls }, g);
      svg("text", { "class": "gnode-glyph" + (n.focus ? " focus" : "") }, g).textContent = GLYPH[n.kind] || "?";
      svg("text", { y: r + 14, "class": "gnode-label" + (hot ? " hot" : "") }, g).textContent = short(n.label, 18);
      if (hot) {
        svg("text", { y: -r - 6, "class": "gnode-rules" }, g).textContent = n.rules.join(" ");
      }
      if (n.more > 0) {
        svg("text", { x: r - 2, y: -r + 4, "class": "gnode-more" }, g).textContent = "+" + n.more;
      }
      svg("title", {}, g).textContent = n.label + "（" + (NODE_NAMES[n.kind] || n.kind) + "）" +
        (hot ? "\n问题线索：" + n.rules.join("、") : "") +
        (n.more > 0 ? "\n另有 " + n.more + " 个关联未显示" : "") +
        (n.expandable && !n.expanded ? "\n点击展开关联" : "");
    });

    this.root.dataset.nodeCount = String(data.nodes.length);
    this.root.dataset.edgeCount = String(data.edges.length);
    this.root.dataset.state = "ready";
    this.status.classList.remove("graph-error");
    this.status.textContent = data.month + " · " + data.nodes.length + " 个节点、" + data.edges.length + " 条关系 · " +
      (data.masked ? "个人信息已脱敏" : "显示完整信息（查看理由已记入访问日志）") + (data.notice ? " · " + data.notice : "");
    this.findings(data.findings);
    this.fit();
    var keep = this.selected && this.nodes[this.selected] ? this.selected : data.focus;
    this.select(keep);
  };

  Graph.prototype.findings = function (findings) {
    var list = this.list;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!findings.length) {
      tag("li", "图中人员和关系在本月没有问题线索。", "muted", list);
      return;
    }
    findings.forEach(function (f) {
      var li = tag("li", null, null, list);
      var a = tag("a", null, null, li);
      a.href = "/findings/" + encodeURIComponent(f.id);
      tag("span", f.rule, "graph-rule", a);
      a.appendChild(document.createTextNode(" " + f.name + "（" + f.severity + "，" + f.street + "）"));
      tag("div", f.title, "graph-finding-title", li);
    });
  };

  Graph.prototype.select = function (key) {
    var n = this.nodes[key], side = this.side;
    if (!n) { return; }
    this.selected = key;
    Array.prototype.forEach.call(this.view.querySelectorAll(".gnode"), function (g) {
      g.classList.toggle("selected", g.getAttribute("data-key") === key);
    });
    while (side.firstChild) { side.removeChild(side.firstChild); }
    tag("h3", "节点详情", null, side);
    tag("p", n.label, "graph-node-title", side);
    tag("p", (NODE_NAMES[n.kind] || n.kind) + (n.focus ? " · 查询中心" : ""), "muted", side);
    var dl = tag("dl", null, "graph-detail", side);
    Object.keys(n.detail).forEach(function (k) {
      tag("dt", k, null, dl);
      tag("dd", n.detail[k] || "—", null, dl);
    });
    if (n.rules.length) {
      tag("p", "问题线索：" + n.rules.join("、"), "graph-hot-note", side);
    }
    var state = !n.expandable ? "其他街镇的人员、岗位或案件，不能展开" : n.expanded ?
      (n.more > 0 ? "已展开，另有 " + n.more + " 个关联未显示" : "已展开全部关联") : "点击节点展开其关联";
    tag("p", state, "muted", side);
  };

  Graph.prototype.clickNode = function (key) {
    var n = this.nodes[key], self = this;
    if (!n) { return; }
    this.select(key);
    if (n.expandable && !n.expanded) {
      this.expand.push(key);
      this.load(function () { self.expand.pop(); });
    }
  };

  Graph.prototype.apply = function () {
    this.view.setAttribute("transform", "translate(" + this.t.x + "," + this.t.y + ") scale(" + this.t.k + ")");
  };

  Graph.prototype.fit = function () {
    var box = this.canvas.getBoundingClientRect(), b = this.view.getBBox();
    if (!b.width && !b.height) { return; }
    var k = Math.min(box.width / (b.width + 60), box.height / (b.height + 60), 1);
    this.t = { k: k, x: box.width / 2 - (b.x + b.width / 2) * k, y: box.height / 2 - (b.y + b.height / 2) * k };
    this.apply();
  };

  Graph.prototype.zoom = function (factor, sx, sy) {
    var t = this.t, k = Math.max(0.1, Math.min(8, t.k * factor));
    t.x = sx - (sx - t.x) * (k / t.k);
    t.y = sy - (sy - t.y) * (k / t.k);
    t.k = k;
    this.apply();
  };

  Graph.prototype.bind = function () {
    var self = this, canvas = this.canvas, drag = null;
    canvas.addEventListener("pointerdown", function (ev) {
      var g = ev.target.closest ? ev.target.closest(".gnode") : null;
      drag = { x: ev.clientX, y: ev.clientY, tx: self.t.x, ty: self.t.y, moved: false,
        key: g ? g.getAttribute("data-key") : null };
      canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) { return; }
      drag.moved = true;
      canvas.classList.add("panning");
      self.t.x = drag.tx + dx;
      self.t.y = drag.ty + dy;
      self.apply();
    });
    canvas.addEventListener("pointerup", function () {
      var d = drag;
      drag = null;
      canvas.classList.remove("panning");
      if (d && !d.moved && d.key) { self.clickNode(d.key); }
    });
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var box = canvas.getBoundingClientRect();
      self.zoom(Math.pow(1.0015, -ev.deltaY), ev.clientX - box.left, ev.clientY - box.top);
    }, { passive: false });
    canvas.addEventListener("keydown", function (ev) {
      var g = ev.target.closest ? ev.target.closest(".gnode") : null;
      if (g && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        self.clickNode(g.getAttribute("data-key"));
      }
    });
    Array.prototype.forEach.call(this.root.querySelectorAll("[data-zoom]"), function (b) {
      b.addEventListener("click", function () {
        var box = canvas.getBoundingClientRect(), how = b.getAttribute("data-zoom");
        if (how === "fit") { self.fit(); } else { self.zoom(how === "in" ? 1.25 : 0.8, box.width / 2, box.height / 2); }
      });
    });
    this.root.querySelector("[data-reset]").addEventListener("click", function () {
      self.expand = [];
      self.load();
    });
    Array.prototype.forEach.call(this.root.querySelectorAll("input[name=graph-kind]"), function (b) {
      b.addEventListener("change", function () { self.load(); });
    });
  };

  Array.prototype.forEach.call(document.querySelectorAll("[data-graph]"), function (root) { root.graph = new Graph(root); });
}());

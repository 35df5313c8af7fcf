// The citizen portal's only script (served from /portal/static/, no inline script anywhere).
// Every page works without it; it adds: a search box over the category list, "use my position",
// a count of the chosen photos, and care mode switched without leaving the page.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // ---- category search: filter the options of the <select> as the citizen types ----
  function categorySearch() {
    var select = $("category_id"), box = $("category-search"), count = $("category-count");
    if (!select || !box) return;
    var groups = [];
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (g) {
      var options = [];
      Array.prototype.forEach.call(g.querySelectorAll("option"), function (o) {
        options.push({ value: o.value, text: o.textContent, path: o.getAttribute("data-path") || "" });
      });
      groups.push({ label: g.label, options: options });
    });
    var empty = select.querySelector("option[value='']");
    box.hidden = false;
    function render(query) {
      var q = query.replace(/\s+/g, "").toLowerCase();
      var chosen = select.value;
      while (select.lastChild) select.removeChild(select.lastChild);
      if (empty) select.appendChild(empty);
      var shown = 0, last = null;
      groups.forEach(function (g) {
        var hit = g.options.filter(function (o) {
          return !q || (g.label + o.path + o.text).replace(/\s+/g, "").toLowerCase().indexOf(q) >= 0;
        });
        if (!hit.length) return;
        var group = document.createElement("optgroup");
        group.label = g.label;
        hit.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o.value;
          opt.textContent = o.text;
          opt.setAttribute("data-path", o.path);
          if (o.value === chosen) opt.selected = true;
          group.appendChild(opt);
          shown += 1;
          last = o.value;
        });
        select.appendChild(group);
      });
      if (q && shown === 1) select.value = last;
      if (count) {
        count.hidden = !q;
        count.textContent = shown ? "找到 " + shown + " 个分类，请在下面的列表中选择。" : "没有找到相关分类，可以换个关键字，或选择“不确定，由工作人员分类”。";
      }
    }
    box.addEventListener("input", function () { render(box.value); });
  }

  // ---- "use my position": fills the hidden latitude/longitude; optional ----
  function position() {
    var geo = $("geo"), use = $("geo-use"), clear = $("geo-clear"), status = $("geo-status");
    var lat = $("latitude"), lng = $("longitude");
    if (!geo || !lat || !lng || !("geolocation" in navigator)) return;
    geo.hidden = false;
    clear.hidden = !(lat.value && lng.value);
    use.addEventListener("click", function () {
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(6);
        lng.value = p.coords.longitude.toFixed(6);
        status.textContent = "已附上您的位置（误差约 " + Math.round(p.coords.accuracy) + " 米）。";
        clear.hidden = false;
      }, function (e) {
        status.textContent = e.code === 1 ? "您没有允许获取位置。可以不提供位置，直接填写地址。" : "暂时无法获取位置，请填写地址。";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    clear.addEventListener("click", function () {
      lat.value = ""; lng.value = "";
      status.textContent = "已清除位置。";
      clear.hidden = true;
    });
  }

  // ---- photos: say how many were chosen, warn before the server refuses ----
  function photos() {
    var input = $("photo"), status = $("photo-status");
    if (!input || !status) return;
    input.addEventListener("change", function () {
      var files = input.files || [], big = 0;
      for (var i = 0; i < files.length; i++) if (files[i].size > 10 * 1024 * 1024) big += 1;
      var text = files.length ? "已选择 " + files.length + " 张照片。" : "";
      if (files.length > 9) text += "最多只能上传9张，请重新选择。";
      if (big) text += big + " 张照片超过10MB，请换一张。";
      status.textContent = text;
    });
  }

  // ---- care mode without leaving the page (the form still works without the script) ----
  function careToggle() {
    var form = $("care-toggle");
    if (!form || !window.fetch || !window.FormData) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var on = form.elements.on.value === "1";
      fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
        .then(function () {
          document.body.classList.toggle("care", on);
          form.elements.on.value = on ? "0" : "1";
          var b = form.querySelector("button");
          b.textContent = on ? "标准模式" : "关怀模式（大字）";
          b.setAttribute("aria-pressed", on ? "true" : "false");
        })
        .catch(function () { form.submit(); });
    });
  }

  function start() { categorySearch(); position(); photos(); careToggle(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

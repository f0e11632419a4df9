/* Review console: live queue (server-sent events), keyboard shortcuts, edit diff.
   No inline script anywhere (the Content-Security-Policy forbids it); every string from the
   server is inserted as text or as server-rendered, autoescaped HTML. */
(function () {
  "use strict";

  function list() { return document.getElementById("queue-list"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue-list a.row")); }
  function selectedId() {
    var art = document.querySelector("#pane article.draft");
    return art ? art.getAttribute("data-draft-id") : "";
  }

  function markSelected() {
    var id = selectedId();
    rows().forEach(function (a) {
      if (a.getAttribute("data-id") === id) { a.setAttribute("aria-current", "true"); }
      else { a.removeAttribute("aria-current"); }
    });
  }

  function refreshList() {
    var el = list();
    if (!el || !window.htmx) { return; }
    var q = el.getAttribute("data-filter-query") || "";
    var url = "/queue/items?" + q + "&draft=" + encodeURIComponent(selectedId());
    window.htmx.ajax("GET", url, { target: "#queue-list", swap: "innerHTML" }).then(markSelected);
  }

  function refreshPane() {
    var id = selectedId();
    if (!id || !window.htmx) { return; }
    var q = (list() && list().getAttribute("data-filter-query")) || "";
    window.htmx.ajax("GET", "/drafts/" + encodeURIComponent(id) + "/pane?" + q,
                     { target: "#pane", swap: "innerHTML" });
  }

  function connect() {
    if (!list() || !window.EventSource) { return; }
    var source = new EventSource("/events");
    source.addEventListener("ready", function () { document.body.setAttribute("data-live", "on"); });
    source.addEventListener("queue", function (ev) {
      var data = {};
      try { data = JSON.parse(ev.data || "{}"); } catch (e) { data = {}; }
      refreshList();
      if (data.draftId && data.draftId === selectedId() && data.status !== "pending_review") {
        refreshPane();
      }
    });
    source.onerror = function () { document.body.setAttribute("data-live", "off"); };
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var id = selectedId();
    var at = -1;
    all.forEach(function (a, i) { if (a.getAttribute("data-id") === id) { at = i; } });
    var next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    if (next) { next.click(); next.focus(); }
  }

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function openAndFocus(boxId, fieldId) {
    var box = document.getElementById(boxId);
    var field = document.getElementById(fieldId);
    if (!box || !field) { return; }
    box.open = true;
    field.focus();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (typing(ev.target)) {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.key === "j") { move(1); ev.preventDefault(); }
    else if (ev.key === "k") { move(-1); ev.preventDefault(); }
    else if (ev.key === "a") {
      var form = document.getElementById("approve-form");
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    }
    else if (ev.key === "e") { ev.preventDefault(); openAndFocus("edit-box", "edit-text"); }
    else if (ev.key === "r") { ev.preventDefault(); openAndFocus("reject-box", "reject-reason"); }
  });

  /* Word-level diff of the edit against the draft (longest common subsequence). */
  function tokens(s) { return s.match(/\s+|\S+/g) || []; }
  function diff(a, b) {
    var n = a.length, m = b.length, i, j;
    if (n * m > 4000000) { return [["del", a.join("")], ["ins", b.join("")]]; }
    var L = [];
    for (i = 0; i <= n; i++) { L.push(new Array(m + 1).fill(0)); }
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) {
        L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    var out = [];
    i = 0; j = 0;
    function push(op, t) {
      if (out.length && out[out.length - 1][0] === op) { out[out.length - 1][1] += t; }
      else { out.push([op, t]); }
    }
    while (i < n && j < m) {
      if (a[i] === b[j]) { push("same", a[i]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) { push("del", a[i]); i++; }
      else { push("ins", b[j]); j++; }
    }
    while (i < n) { push("del", a[i++]); }
    while (j < m) { push("ins", b[j++]); }
    return out;
  }

  function showDiff() {
    var area = document.getElementById("edit-text");
    var target = document.getElementById("edit-diff");
    if (!area || !target) { return; }
    var parts = diff(tokens(area.getAttribute("data-original") || ""), tokens(area.value));
    target.textContent = "";
    parts.forEach(function (p) {
      var node = p[0] === "same" ? document.createTextNode(p[1]) :
        document.createElement(p[0] === "del" ? "del" : "ins");
      if (p[0] !== "same") { node.textContent = p[1]; }
      target.appendChild(node);
    });
  }

  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id === "edit-text") { showDiff(); }
  });
  document.addEventListener("change", function (ev) {
    var form = ev.target && ev.target.form;
    if (form && form.id === "filters") { form.submit(); }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail && ev.detail.target && ev.detail.target.id === "pane") { markSelected(); showDiff(); }
  });

  /* Knowledge base uploads: each file on its own request, with a progress bar (XHR upload
     progress); drag and drop or the file input. The server answers JSON; the documents
     table is then re-read and keeps polling until every document is ready or failed. */
  function refreshDocs(folder) {
    if (!window.htmx || !document.getElementById("kb-docs")) { return; }
    window.htmx.ajax("GET", "/knowledge/table?folder=" + encodeURIComponent(folder),
                     { target: "#kb-docs", swap: "outerHTML" });
  }

  function uploadOne(form, file) {
    var list = document.getElementById("upload-progress");
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.className = "text";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    var result = document.createElement("span");
    result.className = "result";
    result.textContent = "uploading…";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(result);
    item.setAttribute("data-file", file.name);
    list.appendChild(item);

    var folder = form.getAttribute("data-folder") || "";
    var max = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    if (max && file.size > max) {
      item.setAttribute("data-state", "refused");
      result.textContent = "refused: larger than the limit of " + max.toLocaleString() + " bytes";
      result.classList.add("error");
      return;
    }
    var data = new FormData();
    data.append("folder", folder);
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/knowledge/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", form.elements.csrf.value);
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) { bar.value = Math.round(ev.loaded / ev.total * 100); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch (e) { body = {}; }
      if (xhr.status === 200 || xhr.status === 201) {
        bar.value = 100;
        item.setAttribute("data-state", "uploaded");
        result.textContent = (body.replaced ? "replaced" : "uploaded") + ": its status is in the list below";
        refreshDocs(folder);
      } else {
        item.setAttribute("data-state", "refused");
        result.textContent = "refused: " + (typeof body.detail === "string" ? body.detail : "error " + xhr.status);
        result.classList.add("error");
      }
    };
    xhr.onerror = function () {
      item.setAttribute("data-state", "refused");
      result.textContent = "the upload did not reach the server";
      result.classList.add("error");
    };
    xhr.send(data);
  }

  function uploadAll(form, files) {
    Array.prototype.forEach.call(files, function (f) { uploadOne(form, f); });
  }

  function setUpUploads() {
    var form = document.getElementById("upload-form");
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("upload-files");
    if (!form || !zone || !input || !window.FormData) { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (input.files.length) { uploadAll(form, input.files); input.value = ""; }
    });
    input.addEventListener("change", function () {
      if (input.files.length) { uploadAll(form, input.files); input.value = ""; }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (ev.dataTransfer && ev.dataTransfer.files.length) { uploadAll(form, ev.dataTransfer.files); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { connect(); showDiff(); setUpUploads(); });
})();

// kxsj serve: reload this tab when its page is rebuilt; show build errors over it.
// Injected into HTML responses by the dev server only, never into `kxsj build` output.
(function () {
  "use strict";
  var here = decodeURIComponent(location.pathname);
  var events = new EventSource("/_kxsj/events");

  events.addEventListener("reload", function (e) {
    var msg = JSON.parse(e.data);
    if (msg.all || msg.pages.indexOf(here) >= 0) location.reload();
  });

  events.addEventListener("problems", function (e) {
    show(JSON.parse(e.data));
  });

  function show(problems) {
    var box = document.getElementById("kxsj-overlay");
    if (!problems.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = "kxsj-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText =
        "position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:2147483647;max-height:50vh;overflow:auto;" +
        "background:#2b0d0d;color:#ffe9e9;border:2px solid #e55353;border-radius:6px;padding:0.8rem 1rem;" +
        "font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;box-shadow:0 4px 24px rgba(0,0,0,.4)";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var head = document.createElement("strong");
    head.textContent = "kxsj serve: the last save has errors; the preview shows the last good version\n";
    box.appendChild(head);
    problems.forEach(function (p) {
      var line = document.createElement("div");
      line.className = "kxsj-problem";
      line.textContent = p.path + (p.line ? ":" + p.line : "") + ": " + p.level + ": " + p.message;
      box.appendChild(line);
    });
  }
})();

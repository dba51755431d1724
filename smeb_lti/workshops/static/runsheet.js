// The run-sheet's clock: every second, show the time and mark the agenda item running now and the next one.
// Only updates the "now/next" text when the item changes, so screen readers hear one announcement per item.
"use strict";
(function () {
  var list = document.getElementById("runsheet");
  if (!list) return;
  var items = Array.prototype.slice.call(list.querySelectorAll("li[data-start]"));
  var clock = document.getElementById("clock");
  var nowEl = document.getElementById("now-item");
  var nextEl = document.getElementById("next-item");
  var none = list.getAttribute("data-none") || "-";
  var last = null;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = new Date();
    clock.textContent = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
    var current = -1, next = -1;
    for (var i = 0; i < items.length; i++) {
      var start = Date.parse(items[i].getAttribute("data-start")), end = Date.parse(items[i].getAttribute("data-end"));
      if (now >= start && now < end) { current = i; next = i + 1 < items.length ? i + 1 : -1; break; }
      if (now < start) { next = i; break; }
    }
    var key = current + "/" + next;
    if (key === last) return;
    last = key;
    items.forEach(function (li, i) {
      li.classList.toggle("now", i === current);
      if (i === current) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    });
    nowEl.textContent = current >= 0 ? items[current].getAttribute("data-title") : none;
    nextEl.textContent = next >= 0 ? items[next].getAttribute("data-title") : none;
  }
  tick();
  window.setInterval(tick, 1000);
})();

// The dashboard's only script of its own (CSP: scripts from this server only, none inline).
// 1. The live fragment is the same HTML for every watcher, so its forms carry no CSRF token;
//    each form gets this session's token (from the page's <meta>) when it is submitted.
// 2. Elapsed times and bake/pause countdowns tick every second between server updates.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="phasegate-csrf"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector('input[name="csrf"]');
    if (input && !input.value) { input.value = csrf(); }
  }, true);
  function text(seconds) {
    seconds = Math.max(0, seconds);
    if (seconds < 60) { return seconds.toFixed(1) + "s"; }
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    if (m < 60) { return m + "m" + (s < 10 ? "0" : "") + s + "s"; }
    return Math.floor(m / 60) + "h" + (m % 60 < 10 ? "0" : "") + (m % 60) + "m";
  }
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = text(now - parseFloat(el.getAttribute("data-since")));
    });
    document.querySelectorAll("[data-until]").forEach(function (el) {
      el.textContent = text(parseFloat(el.getAttribute("data-until")) - now);
    });
  }
  setInterval(tick, 1000);
})();

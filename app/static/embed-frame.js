// Run inside the embedded form (templates/embedded.html): tells the page framing it how tall
// this page is, now and whenever it changes, so static/embed.js can size the frame to fit.
// The message holds only a height, so any parent may read it; the parent checks our origin.
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  function report() {
    window.parent.postMessage(
      { eventEmbedHeight: document.documentElement.scrollHeight },
      "*"
    );
  }
  window.addEventListener("load", report);
  if (window.ResizeObserver) {
    new ResizeObserver(report).observe(document.body);
  }
  report();
})();

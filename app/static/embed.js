// The embed snippet's script, run on the marketer's own page:
//   <script src="https://events.example.com/static/embed.js" data-event="SLUG" async></script>
// It puts the event's form in a frame just after the script tag, hands the page's utm_*
// parameters on to it, and sets the frame's height to what the framed page reports.
// No inline script and no eval, so it runs under a strict Content-Security-Policy.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.event) {
    return;
  }
  var origin = new URL(script.src).origin;
  var src = new URL("/e/" + encodeURIComponent(script.dataset.event) + "/embed", origin);
  new URLSearchParams(window.location.search).forEach(function (value, name) {
    if (name.indexOf("utm_") === 0) {
      src.searchParams.set(name, value);
    }
  });
  var frame = document.createElement("iframe");
  frame.src = src.toString();
  frame.title = script.dataset.title || "Registration form";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = "600px";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    // Only our frame may resize it: another frame on the page could post the same shape.
    if (event.origin !== origin || event.source !== frame.contentWindow) {
      return;
    }
    var height = event.data && event.data.eventEmbedHeight;
    if (typeof height === "number" && height > 0 && height < 20000) {
      frame.style.height = Math.ceil(height) + "px";
    }
  });
})();

// Show an event's start in the visitor's own time zone when it differs from the event's.
(function () {
  var visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("time[data-local-time]").forEach(function (node) {
    if (!visitorZone || node.dataset.zone === visitorZone) return;
    var instant = new Date(node.getAttribute("datetime"));
    var text = new Intl.DateTimeFormat(undefined, {
      weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
      timeZoneName: "short"
    }).format(instant);
    var slot = node.parentNode.querySelector("[data-visitor-time]");
    if (slot) {
      slot.textContent = "(" + text + " your time)";
      slot.hidden = false;
    } else {
      node.title = text + " your time";
    }
  });
})();

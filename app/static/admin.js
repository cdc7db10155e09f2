// Console niceties that the pages work without: the browser's zone as a new event's zone
// (the server marks the select only on a fresh form, where it chose UTC), and a second
// "are you sure?" before cancelling a registration.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone === "Etc/UTC" || zone === "Etc/GMT") zone = "UTC";
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    if (!zone) return;
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
    if (!option) {
      // Browsers may name an older alias ("Asia/Calcutta") the picker leaves out; the server
      // takes any IANA name, so offer the browser's own first.
      option = new Option("Your browser's zone — " + zone, zone);
      (select.querySelector("optgroup") || select).prepend(option);
    }
    select.value = zone;
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();

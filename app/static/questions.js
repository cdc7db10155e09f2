// Show a conditional registration question only while its condition holds. Without this
// script every question is shown with its condition in words, and the server decides.
(function () {
  var form = document.querySelector("form [data-show-if-key]");
  if (!form) return;
  form = form.closest("form");
  var conditional = Array.prototype.slice.call(form.querySelectorAll("[data-show-if-key]"));

  function answerOf(key) {
    var inputs = form.querySelectorAll('[name="answers.' + key + '"]');
    if (!inputs.length) return null;
    var first = inputs[0];
    var holder = first.closest(".field");
    if (holder && holder.hidden) return null;
    if (first.type === "checkbox" && inputs.length === 1 && first.value === "y") {
      return first.checked;
    }
    if (first.type === "checkbox") {
      return Array.prototype.filter.call(inputs, function (box) { return box.checked; })
        .map(function (box) { return box.value; });
    }
    var text = first.value.trim();
    var number = Number(text.replace(/,/g, ""));
    return text !== "" && !isNaN(number) && first.inputMode === "decimal" ? number : text;
  }

  function holds(field) {
    var wanted = JSON.parse(field.dataset.showIfEquals);
    var answer = answerOf(field.dataset.showIfKey);
    return Array.isArray(answer) ? answer.indexOf(wanted) !== -1 : answer === wanted;
  }

  function update() {
    // Once per conditional question, so a chain of conditions settles.
    for (var pass = 0; pass < conditional.length; pass += 1) {
      conditional.forEach(function (field) { field.hidden = !holds(field); });
    }
  }

  conditional.forEach(function (field) {
    var note = field.querySelector("[data-condition-note]");
    if (note) note.hidden = true;
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();

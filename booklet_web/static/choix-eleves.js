/* Class page: choose pupils by large check boxes on a touch screen (with "Tous" and a search by name), by the dual
   list with a mouse. booklet.css shows one of them by the media query below; this script, once when the page opens,
   disables the fields of the other (both send "eleve") and shows "Tous" and the search. Without it, sans-js.css
   shows the check boxes alone, and they work. */
(function () {
  "use strict";
  var form = document.getElementById("choix-eleves");
  if (!form) { return; }
  var touch = window.matchMedia("(pointer: coarse), (hover: none)");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("#cases-eleves input[name=eleve]"));
  var all = document.getElementById("eleve-tous");
  var search = document.getElementById("recherche-eleve");
  var count = document.getElementById("compte-eleves");

  function shown(box) { return !box.closest("li").hidden; }

  function update() {
    var visible = boxes.filter(shown);
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = visible.length > 0 && visible.every(function (b) { return b.checked; });
    count.textContent = checked === 0 ? "Aucun élève coché." :
      checked + (checked > 1 ? " élèves cochés." : " élève coché.");
  }

  function setMode() {
    var isTouch = touch.matches;
    form.dataset.mode = isTouch ? "tactile" : "souris";
    boxes.forEach(function (b) { b.disabled = !isTouch; });
    document.getElementById("eleves-choisis").disabled = isTouch;
  }

  search.closest(".recherche-eleve").hidden = false;
  all.closest(".tous-eleves").hidden = false;
  search.addEventListener("input", function () {
    var wanted = search.value.trim().toLocaleLowerCase("fr");
    boxes.forEach(function (b) {
      var name = b.labels[0].textContent.toLocaleLowerCase("fr");
      b.closest("li").hidden = wanted !== "" && name.indexOf(wanted) < 0;
    });
    update();
  });
  all.addEventListener("change", function () {
    boxes.filter(shown).forEach(function (b) { b.checked = all.checked; });
    update();
  });
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  form.addEventListener("submit", function (e) {
    if (form.dataset.mode === "tactile" && !boxes.some(function (b) { return b.checked; })) {
      e.preventDefault();
      count.textContent = "Cochez au moins un élève.";
    }
  });
  setMode();
  update();
}());

/* Livret personnel de compétences: the dual list of pupils, the print button (the livret page: livret.js). */
(function () {
  "use strict";

  function moveOptions(from, to, all) {
    var moving = Array.prototype.filter.call(from.options, function (o) { return all || o.selected; });
    moving.forEach(function (o) { o.selected = false; to.appendChild(o); });
    var sorted = Array.prototype.slice.call(to.options).sort(function (a, b) {
      return a.text.localeCompare(b.text, "fr");
    });
    sorted.forEach(function (o) { to.appendChild(o); });
    moving.forEach(function (o) { o.selected = true; });
    return moving.length;
  }

  function dualList() {
    var form = document.getElementById("choix-eleves");
    if (!form) { return; }
    var left = document.getElementById("eleves-classe");
    var right = document.getElementById("eleves-choisis");
    document.getElementById("ajouter").addEventListener("click", function () { moveOptions(left, right, false); });
    document.getElementById("ajouter-tous").addEventListener("click", function () { moveOptions(left, right, true); });
    document.getElementById("retirer").addEventListener("click", function () { moveOptions(right, left, false); });
    document.getElementById("retirer-tous").addEventListener("click", function () { moveOptions(right, left, true); });
    left.addEventListener("dblclick", function () { moveOptions(left, right, false); });
    right.addEventListener("dblclick", function () { moveOptions(right, left, false); });
    left.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); moveOptions(left, right, false); }
    });
    right.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === "Delete") { e.preventDefault(); moveOptions(right, left, false); }
    });
    form.addEventListener("submit", function (e) {
      if (form.dataset.mode === "tactile") { return; }  // the check boxes of choix-eleves.js
      if (right.options.length === 0) {
        e.preventDefault();
        var msg = document.getElementById("aucun-eleve");
        if (!msg) {
          msg = document.createElement("p");
          msg.id = "aucun-eleve";
          msg.className = "message erreur";
          msg.setAttribute("role", "alert");
          msg.textContent = "Sélectionnez au moins un élève (colonne de droite).";
          form.insertBefore(msg, form.firstChild);
        }
        return;
      }
      Array.prototype.forEach.call(right.options, function (o) { o.selected = true; });
    });
  }

  function printButton() {
    var button = document.getElementById("imprimer");
    if (button) { button.addEventListener("click", function () { window.print(); }); }
  }

  dualList();
  printButton();
}());

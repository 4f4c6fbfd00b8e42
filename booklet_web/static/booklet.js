/* Livret personnel de compétences: the dual list of pupils, the stars, the unsaved-changes warning. */
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

  function livret() {
    var form = document.getElementById("livret");
    if (!form) { return; }
    var dirty = false;
    var reminder = document.getElementById("rappel");
    function markDirty() {
      dirty = true;
      reminder.classList.add("urgent");
      reminder.textContent = "N'oubliez pas d'enregistrer !! (modifications non enregistrées)";
    }
    form.addEventListener("change", function (e) {
      if (e.target.classList.contains("star")) { markDirty(); }
    });
    document.getElementById("tous-items").addEventListener("click", function (e) {
      e.preventDefault();
      form.querySelectorAll("input.star").forEach(function (box) {
        if (!box.disabled && !box.checked) { box.checked = true; }
      });
      markDirty();
    });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (e) {
      if (dirty) { e.preventDefault(); e.returnValue = "N'oubliez pas d'enregistrer !!"; }
    });
    document.querySelectorAll("nav.competences a").forEach(function (link) {
      link.addEventListener("click", function (e) {
        if (dirty && !window.confirm("N'oubliez pas d'enregistrer !! Quitter cette compétence sans enregistrer ?")) {
          e.preventDefault();
        } else {
          dirty = false;
        }
      });
    });
  }

  function printButton() {
    var button = document.getElementById("imprimer");
    if (button) { button.addEventListener("click", function () { window.print(); }); }
  }

  dualList();
  livret();
  printButton();
}());

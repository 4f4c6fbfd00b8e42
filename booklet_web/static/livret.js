/* The livret page: stars as buttons (shape + text, aria-pressed), unsaved changes kept in this browser until the
   server confirms them, Enregistrer with fetch (retries when the network is lost), the save bar with the count,
   the warning two minutes before the session's idle end. Without JavaScript the form posts as before. */
(function () {
  "use strict";

  var form = document.getElementById("livret");
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input.star"));
  var field = function (name) { return form.querySelector("input[name='" + name + "']").value; };
  var pupils = Array.prototype.map.call(form.querySelectorAll("input[name='eleve']"), function (i) {
    return i.value;
  }).sort();
  // what is kept: item -> starred (true/false); never a token, a code or a session id
  var key = ["jeton-livret", form.dataset.utilisateur, field("classe"), pupils.join(","), field("competence")]
    .join(":");
  var validated = form.dataset.validee === "1";
  var original = {};
  var buttons = {};
  var reminder = document.getElementById("rappel");
  var status = document.getElementById("etat-enregistrement");
  var saveButton = document.getElementById("enregistrer");
  var leaving = false;
  var saving = false;
  var retryTimer = null;
  var attempt = 0;

  function storageGet() {
    try { return JSON.parse(window.localStorage.getItem(key) || "{}") || {}; } catch (e) { return {}; }
  }

  function changes() {
    var found = {};
    boxes.forEach(function (box) {
      if (box.checked !== original[box.value]) { found[box.value] = box.checked; }
    });
    return found;
  }

  function count() { return Object.keys(changes()).length; }

  function label(box) {
    var parts = ["Item " + box.value + " : " + (box.checked ? "acquis" : "non acquis")];
    if (box.checked && validated && original[box.value]) { parts.push("compétence validée"); }
    if (box.dataset.qui && box.checked === original[box.value]) { parts.push(box.dataset.qui); }
    if (box.checked !== original[box.value]) { parts.push("modification non enregistrée"); }
    return parts.join(", ");
  }

  function draw(box) {
    var button = buttons[box.value];
    var done = box.checked && validated && original[box.value];
    button.setAttribute("aria-pressed", box.checked ? "true" : "false");
    button.setAttribute("aria-label", label(box));
    button.querySelector(".glyphe").textContent = done ? "\u2714" : (box.checked ? "\u2605" : "\u2606");
    button.querySelector(".mot").textContent = done ? "validé" : (box.checked ? "acquis" : "non acquis");
    button.classList.toggle("modifie", box.checked !== original[box.value]);
  }

  function refresh() {
    var n = count();
    boxes.forEach(draw);
    if (n) {
      reminder.classList.add("urgent");
      reminder.textContent = n + " modification(s) non enregistrée(s) : n'oubliez pas d'enregistrer !!";
    } else {
      reminder.classList.remove("urgent");
      reminder.textContent = "Aucune modification non enregistrée";
    }
  }

  function keep() {
    var found = changes();
    try {
      if (Object.keys(found).length) {
        window.localStorage.setItem(key, JSON.stringify(found));
      } else {
        window.localStorage.removeItem(key);
      }
    } catch (e) { /* private browsing: the page still warns before leaving */ }
    refresh();
  }

  function say(text) { status.textContent = text; }

  // the stars become buttons; the checkboxes stay (hidden) and are what the form sends
  boxes.forEach(function (box) {
    original[box.value] = box.checked;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "etoile";
    var glyph = document.createElement("span");
    glyph.className = "glyphe";
    glyph.setAttribute("aria-hidden", "true");
    var word = document.createElement("span");
    word.className = "mot";
    button.appendChild(glyph);
    button.appendChild(word);
    if (box.disabled) { button.setAttribute("aria-disabled", "true"); }
    button.addEventListener("click", function () {
      if (box.disabled) { return; }
      box.checked = !box.checked;
      keep();
    });
    buttons[box.value] = button;
    var cell = box.closest("td");
    cell.querySelector(".sans-js").hidden = true;
    cell.appendChild(button);
  });

  // changes kept by an earlier visit (a session that ended, a lost connection): put them back
  var kept = storageGet();
  var restored = 0;
  boxes.forEach(function (box) {
    if (!box.disabled && Object.prototype.hasOwnProperty.call(kept, box.value) && box.checked !== !!kept[box.value]) {
      box.checked = !!kept[box.value];
      restored += 1;
    }
  });
  keep();
  if (restored) {
    say(restored + " modification(s) gardée(s) dans ce navigateur ont été rétablie(s) : cliquez sur Enregistrer.");
  }

  document.getElementById("tous-items").addEventListener("click", function (e) {
    e.preventDefault();
    boxes.forEach(function (box) { if (!box.disabled) { box.checked = true; } });
    keep();
  });

  function csrf() { return field("csrf_token"); }

  function offerLogin(message) {
    var target = form.dataset.connexion + "?suite=" + encodeURIComponent(location.pathname + location.search);
    status.textContent = "";
    var text = document.createElement("span");
    text.textContent = (message || "Votre session a expiré.") + " ";
    var link = document.createElement("a");
    link.href = target;
    link.id = "se-reconnecter";
    link.textContent = "Se reconnecter";
    link.addEventListener("click", function () { leaving = true; });
    status.appendChild(text);
    status.appendChild(link);
    status.classList.add("alerte");
    link.focus();
  }

  function retry() {
    var seconds = Math.min(30, 2 * Math.pow(2, attempt));
    attempt += 1;
    var left = seconds;
    var tick = function () {
      say("Connexion perdue, nouvel essai dans " + left + " s… (vos modifications sont gardées)");
      if (left <= 0) { retryTimer = null; send(); return; }
      left -= 1;
      retryTimer = window.setTimeout(tick, 1000);
    };
    tick();
  }

  function send() {
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    saving = true;
    saveButton.setAttribute("aria-busy", "true");
    say("Enregistrement…");
    window.fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (response) {
      saving = false;
      saveButton.removeAttribute("aria-busy");
      if (response.status < 502 || response.status > 504) { attempt = 0; }
      if (response.status === 401 || response.type === "opaqueredirect") {
        return response.json().then(function (body) { offerLogin(body.message); }, function () { offerLogin(); });
      }
      if (response.status >= 502 && response.status <= 504) { retry(); return; }  // a proxy without its server
      return response.json().then(function (body) {
        if (response.ok && body.enregistre) {
          try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
          leaving = true;
          window.location.assign(body.suite);  // the page as saved, with the server's message
        } else {
          say(body.message || "L'enregistrement a été refusé : vos modifications restent gardées dans ce navigateur.");
        }
      }, function () {
        say("L'enregistrement a été refusé : vos modifications restent gardées dans ce navigateur.");
      });
    }, function () {
      saving = false;
      saveButton.removeAttribute("aria-busy");
      retry();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!saving) { send(); }
  });
  window.addEventListener("online", function () { if (retryTimer) { send(); } });

  window.addEventListener("beforeunload", function (e) {
    if (!leaving && count()) { e.preventDefault(); e.returnValue = "N'oubliez pas d'enregistrer !!"; }
  });
  document.querySelectorAll("nav.competences a").forEach(function (link) {
    link.addEventListener("click", function (e) {
      if (!count()) { return; }
      if (window.confirm("N'oubliez pas d'enregistrer !! Quitter cette compétence sans enregistrer ?")) {
        leaving = true;  // the changes stay kept in this browser for when she comes back
      } else {
        e.preventDefault();
      }
    });
  });

  // the warning two minutes before the idle end; "Rester connecté" touches the session
  var dialog = document.getElementById("avertissement-session");
  var stayButton = document.getElementById("rester-connecte");
  var restant = parseInt(form.dataset.restant, 10);
  var deadline = isNaN(restant) ? null : Date.now() + restant * 1000;
  var before = null;
  var warned = false;

  function closeDialog() {
    dialog.hidden = true;
    if (before && before.focus) { before.focus(); }
  }

  function openDialog() {
    warned = true;
    before = document.activeElement;
    dialog.hidden = false;
    stayButton.focus();
  }

  dialog.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); closeDialog(); }
    if (e.key === "Tab") { e.preventDefault(); stayButton.focus(); }  // the dialog's one control keeps the focus
  });

  stayButton.addEventListener("click", function () {
    var body = new FormData();
    body.append("csrf_token", csrf());
    window.fetch(form.dataset.rester, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (response) {
      if (!response.ok) { closeDialog(); offerLogin(); return; }
      return response.json().then(function (answer) {
        deadline = Date.now() + answer.restant * 1000;
        warned = false;
        closeDialog();
        say("Session prolongée.");
      });
    }, function () { say("Connexion perdue : la session n'a pas pu être prolongée."); });
  });

  if (deadline !== null) {
    window.setInterval(function () {
      var left = deadline - Date.now();
      if (left <= 0) {
        if (!dialog.hidden) { closeDialog(); }
        if (!document.getElementById("se-reconnecter")) { offerLogin(); }
        deadline = null;
      } else if (left <= 120000 && !warned) {
        openDialog();
      }
    }, 1000);
  }
}());

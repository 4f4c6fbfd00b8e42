"""Administration: the confirmation page of every act that takes something away (disable, lock, unassign, reset
a PIN, retire, change a role). A GET page names the token, its holder and what will happen; its POST button carries
``confirme=oui`` to ``admin.token_action``. No JavaScript: the page is the confirmation."""

from __future__ import annotations

from flask import abort, g, render_template, request, url_for

from booklet_web.admin import bp
from booklet_web.admin_tokens import CONFIRMED, STATES_FR
from booklet_web.auth import admin_required, services
from booklet_web.forms import EmptyForm
from verifier import fleet

_SESSIONS = "{who} est déconnecté(e) à l'instant de toutes ses sessions ouvertes."

#: per act: the page's title and button, and what will happen (``{serial}``, ``{who}`` filled in)
TOKEN_ACTS = {
    "desactiver": ("Désactiver la clé {serial} (perdue, volée)", "Désactiver la clé {serial}", [
        "La clé ne permettra plus de se connecter, même avec le bon PIN, jusqu'à ce qu'elle soit désaffectée.",
        _SESSIONS,
        "Si la clé est seulement oubliée, un « Accès de secours » pour la journée suffit peut-être.",
    ]),
    "bloquer": ("Bloquer la clé {serial}", "Bloquer la clé {serial}", [
        "La clé ne permettra plus de se connecter jusqu'à ce qu'un administrateur la débloque (« Débloquer »).",
        _SESSIONS,
    ]),
    "reinitialiser-pin": ("Réinitialiser le PIN de la clé {serial}", "Réinitialiser le PIN de la clé {serial}", [
        "Le PIN actuel est effacé : à sa prochaine connexion, {who} saisira les 6 chiffres de la clé seuls, puis "
        "choisira un nouveau PIN.",
        _SESSIONS,
    ]),
    "desaffecter": ("Désaffecter la clé {serial}", "Désaffecter la clé {serial}", [
        "{who} ne pourra plus se connecter avec cette clé ; son PIN, les compteurs et la dérive de la clé sont "
        "effacés, et la clé redevient prête à être affectée.",
        _SESSIONS,
        "Un accès de secours en cours pour {who} prend fin.",
    ]),
    "retirer": ("Retirer la clé {serial} du service", "Retirer la clé {serial}", [
        "La clé est retirée pour de bon : son secret et son PIN sont détruits, elle ne permettra plus jamais de "
        "se connecter, et elle n'est plus affectée à personne.",
        _SESSIONS,
        "Pour s'en servir à nouveau, il faudra l'effacer et la préparer comme une clé neuve (jeton-provision).",
    ]),
}


def _role_page(login: str, role: str):
    store = services().store
    user = store.find_user(login)
    if user is None or role not in ("teacher", "admin"):
        abort(404)
    refusal = None
    if role == user.role:  # nothing would change
        refusal = f"{login} est déjà {'administrateur' if role == 'admin' else 'professeur'} : rien à changer."
    if role == "admin":
        title = f"Rendre {login} administrateur"
        effects = [f"{login} pourra gérer les utilisateurs, les clés et les classes, et valider les compétences.",
                   _SESSIONS.format(who=login) + " Il ou elle se reconnecte pour recevoir ses nouveaux droits."]
    else:
        title = f"Retirer le rôle d'administrateur à {login}"
        effects = [f"{login} redevient professeur : plus d'accès à l'administration.", _SESSIONS.format(who=login)]
        with store.engine.connect() as conn:
            alone = user.role == "admin" and fleet.count_administrators(conn) == 1
        if alone:
            refusal = f"{login} est le seul administrateur : nommez d'abord un autre administrateur."
        elif login == g.user.login:
            effects.insert(0, "C'est votre propre compte : vous perdrez vous-même l'accès à l'administration.")
    hidden = {"action": "role", "identifiant": login, "role": role}
    return render_template("admin/confirmer.html", title=title, effects=effects, button=title, hidden=hidden,
                           refusal=refusal, back=url_for("admin.user", login=login),
                           back_label=f"Retour à la fiche de {login}", form=EmptyForm())


@bp.route("/cles/confirmer")
@admin_required
def confirm():
    """Say what an act will do, then offer its button (or say why it cannot be done)."""
    action = request.args.get("action", "")
    if action not in CONFIRMED:
        abort(404)
    if action == "role":
        return _role_page((request.args.get("identifiant") or "")[:64], request.args.get("role", ""))
    serial = (request.args.get("serie") or "")[:16]
    token = services().store.find_token(serial)
    if token is None:
        abort(404)
    title, button, effects = TOKEN_ACTS[action]
    who = token.login or "son utilisateur"
    state = STATES_FR.get(token.state, token.state)
    details = [f"Clé {token.serial}, {state}" + (f", affectée à {token.login}." if token.login else ".")]
    if not token.login:  # nobody to log out
        effects = [e for e in effects if e is not _SESSIONS and "{who}" not in e]
    return render_template("admin/confirmer.html", title=title.format(serial=serial), details=details,
                           effects=[e.format(serial=serial, who=who) for e in effects],
                           button=button.format(serial=serial), hidden={"action": action, "serie": serial},
                           reasons=action == "desactiver", refusal=None,
                           back=url_for("admin.token", serial=token.serial),
                           back_label=f"Retour à la clé {token.serial}", form=EmptyForm())

"""``make radius-demo``: jeton-radius on 127.0.0.1:18120 over the demo's database (``make demo``'s var/demo/), so the
demo's simulated tokens also log in through RADIUS (radtest, a VPN client, pam_radius_auth).

Declares the local gateway ``demo-local`` (127.0.0.1) once, with a random shared secret kept beside the demo's key
file (var/demo/radius-secret, mode 0600), prints in French how to try it with radtest, then serves until Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from verifier.errors import VerifierError
from verifier.opening import open_store
from verifier.radius.clients import add_client, list_clients

DEMO = Path("var") / "demo"
LISTEN = "127.0.0.1:18120"


def main(directory: Path = DEMO, listen: str = LISTEN) -> int:
    db, keys = directory / "demo.db", directory / "keys.json"
    if not db.exists() or not keys.exists():
        print("jeton-radius : erreur : pas de démo dans var/demo/ : lancez d'abord `make demo` (puis Ctrl-C ou un "
              "autre terminal)", file=sys.stderr)
        return 1
    url = f"sqlite:///{db}"
    secret_file = directory / "radius-secret"
    try:
        with open_store(url, keys) as store:
            if not any(c.name == "demo-local" for c in list_clients(store)):
                secret = secrets.token_urlsafe(24)
                fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(secret + "\n")
                add_client(store, "demo-local", "127.0.0.1", secret.encode(), actor="demo")
    except VerifierError as exc:
        print(f"jeton-radius : erreur : {exc.french or exc}", file=sys.stderr)
        return 1
    print(f"Serveur RADIUS de la démo sur {listen} (client demo-local = 127.0.0.1, secret dans {secret_file}).\n"
          f"Essai : radtest jdupont PIN+CODE {listen} 0 \"$(cat {secret_file})\"\n"
          "Première connexion : le code seul, puis suivez les messages (docs/radius.md). Ctrl-C pour arrêter.",
          flush=True)
    from verifier.radius.cli import main as radius_main

    return radius_main(["--db", url, "--keys", str(keys), "--listen", listen])


if __name__ == "__main__":
    sys.exit(main(listen=sys.argv[1] if len(sys.argv) > 1 else LISTEN))  # an optional HOST:PORT

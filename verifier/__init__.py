"""Jeton verifier: token store, secrets at rest, PIN + code verification, PIN lifecycle, audit."""

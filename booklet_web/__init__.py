"""Jeton booklet: the Livret Personnel de Compétences web application, logged into with the verifier."""

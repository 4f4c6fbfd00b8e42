"""Vendor the Système de design de l'État (DSFR, npm ``@gouvfr/dsfr``) into ``booklet_web/static/dsfr/``.

Run by ``make dsfr`` (a prerequisite of ``make venv``, ``make demo`` and ``make test``), never at run time: the
pages load the files from the application itself, under the strict CSP (``default-src 'self'``).

``npm pack`` fetches the pinned version into a cache (``var/cache/dsfr/``); the tarball's SHA-512 must equal the
pin below (the registry's ``dist.integrity``), or nothing is unpacked. Only what the pages use is kept:
``dsfr.min.css`` without its ``@font-face`` rules, those rules alone in ``fonts.css`` (linked only on a State
service's site: the Marianne font is reserved for the State), the Marianne and Spectral fonts, and the icons
``dsfr.min.css`` points at. Licence: the DSFR code is under the Licence Ouverte / Etalab 2.0 (see docs/booklet.md).

Usage: ``python -m booklet_web.vendor_dsfr [--cache DIR] [--target DIR]``. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "1.15.3"
#: the registry's dist.integrity for @gouvfr/dsfr@1.15.3
INTEGRITY = "sha512-R9AALZc1LfZjtytWZMOaUIOHWTkllBZ/sZlsL8TpKZVgF3qUKXt/uNYh+L1D1Fh4p92ZqWxbtNcebsigBZe5pQ=="
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "booklet_web" / "static" / "dsfr"
CACHE = ROOT / "var" / "cache" / "dsfr"
#: written last: its presence says the folder is whole (the Makefile's target)
STAMP = "VERSION"

_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_ICON_URL = re.compile(r"url\((icons/[^)\"']+)\)")


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(cache: Path) -> Path:
    """The pinned tarball in ``cache`` (``npm pack`` when absent), checked against :data:`INTEGRITY`."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"gouvfr-dsfr-{VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is missing: install Debian's npm (apt-get install npm) to vendor the DSFR")
        # a fixed command line, the version pinned above
        command = [npm, "pack", f"@gouvfr/dsfr@{VERSION}", "--pack-destination", str(cache), "--silent"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    found = integrity_of(tarball)
    if found != INTEGRITY:
        tarball.unlink()
        sys.exit(f"@gouvfr/dsfr@{VERSION}: integrity {found} differs from the pin {INTEGRITY}; removed")
    return tarball


def split_fonts(css: str) -> tuple[str, str]:
    """(the stylesheet without its @font-face rules, those rules alone)."""
    faces = _FONT_FACE.findall(css)
    return _FONT_FACE.sub("", css), "\n".join(faces) + "\n"


def unpack(tarball: Path, target: Path) -> None:
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        def read(name: str) -> bytes:
            return tar.extractfile(f"package/dist/{name}").read()

        css = read("dsfr.min.css").decode()
        without_fonts, fonts = split_fonts(css)
        (staging / "dsfr.min.css").write_text(without_fonts)
        (staging / "fonts.css").write_text(fonts)
        wanted = sorted(set(_ICON_URL.findall(css)) | set(re.findall(r"url\((fonts/[^)]+)\)", fonts)))
        for name in wanted:
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(read(name))
        (staging / "LICENSE.md").write_bytes(tar.extractfile("package/LICENSE.md").read())
    (staging / STAMP).write_text(VERSION + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    unpack(fetch(args.cache), args.target)
    print(f"DSFR {VERSION} vendored into {args.target}")


if __name__ == "__main__":
    main()

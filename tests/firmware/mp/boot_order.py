"""Runs the firmware's main.py under CPython with stand-ins for everything it may import, recording each
import and each call in order; prints the record as JSON.

argv: ``rp2`` or ``unix`` (the platform main.py sees), then what the stand-in boot_token.run does: ``ok``,
``ctrl-c`` (a KeyboardInterrupt that arrived in the window before the first statement) or ``error``; then
``blank`` or ``locked`` (what the store says). The stand-in ``machine.reset`` records the reset and ends
main.py as the board's reset would.
"""

import builtins
import json
import sys
import types

EVENTS = []
platform, behaviour, state = sys.argv[1:4]
main_py = sys.argv[4]

real_import = builtins.__import__


def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name in STANDINS:
        EVENTS.append(["import", name])
        return STANDINS[name]
    return real_import(name, globals, locals, fromlist, level)


def recorder(module, name):
    def call(*args, **kwargs):
        EVENTS.append(["call", module + "." + name, list(args), kwargs])
        if (module, name) == ("machine", "reset"):
            raise SystemExit("reset")
        if (module, name) == ("boot_token", "run"):
            if behaviour == "ctrl-c":
                raise KeyboardInterrupt
            if behaviour == "error":
                raise ValueError("a bug")
        if (module, name) == ("boot_token", "blank"):
            return state == "blank"
        return None

    return call


class Pin:
    IN, OUT, PULL_UP = 0, 1, 1

    def __init__(self, *args, **kwargs):
        EVENTS.append(["call", "machine.Pin", list(args), kwargs])


STANDINS = {
    "micropython": types.SimpleNamespace(kbd_intr=recorder("micropython", "kbd_intr")),
    "sys": types.SimpleNamespace(platform=platform),
    "machine": types.SimpleNamespace(Pin=Pin, reset=recorder("machine", "reset")),
    "boot_token": types.SimpleNamespace(run=recorder("boot_token", "run"), blank=recorder("boot_token", "blank")),
}

builtins.__import__ = recording_import
outcome = "returned"
try:
    with open(main_py) as f:
        source = f.read()
    exec(compile(source, "main.py", "exec"), {"__name__": "__main__"})  # noqa: S102 - the firmware's own main.py
except SystemExit as exc:
    outcome = "exit:" + str(exc)
except BaseException as exc:  # noqa: BLE001 - what would reach the REPL
    outcome = "raised:" + type(exc).__name__
finally:
    builtins.__import__ = real_import
sys.stdout.write(json.dumps({"events": EVENTS, "outcome": outcome}) + "\n")

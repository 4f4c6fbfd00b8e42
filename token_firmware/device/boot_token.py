"""What main.py runs once Ctrl-C is off and the power is held: pick the board, start the loop (app.main: faults
restart it, and repeated faults let go of the power hold). Also the one question main.py's guard asks."""

import gc
import sys


def _board():
    # Compiling a .py source at import needs a free block of a few KB, so on a small heap (the firmware is
    # tested at 48 KB) the board goes first, then the app, with a collection after each.
    if sys.platform == "rp2":
        import board_pico as board_mod
    else:
        import board_host as board_mod
    gc.collect()
    return board_mod


def run():
    import time

    board_mod = _board()
    import app

    gc.collect()
    app.main(board_mod, time.sleep_ms)


def blank():
    """True only when the store says, without doubt, that the token holds no secret (Ctrl-C may stop it)."""
    import store

    return store.Store(_board().flash_dir()).load() == "blank"

"""Boot: pick the board this runs on and start the token's loop."""

import gc
import sys
import time

# Compiling a .py source at import needs a free block of a few KB, so on a small heap (the firmware is
# tested at 48 KB) the board goes first, then the app, with a collection after each.
if sys.platform == "rp2":
    import board_pico as board_mod
else:
    import board_host as board_mod
gc.collect()
import app  # noqa: E402

gc.collect()


def boot():
    board = board_mod.make()
    while True:
        try:
            app.App(board).run()
        except Exception:  # a bug must never end main.py: that would open the REPL
            # KeyboardInterrupt (Ctrl-C on a blank token) and SystemExit are not Exceptions: they do end it.
            # Nothing is printed: the serial line is the protocol's, and a message could carry data.
            gc.collect()
            time.sleep(0.1)  # a fault that repeats at once must not spin the CPU


boot()

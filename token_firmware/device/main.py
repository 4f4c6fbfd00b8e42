"""Boot: pick the board this runs on and start the token's loop (app.main: faults restart it, and repeated
faults let go of the power hold)."""

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
app.main(board_mod, time.sleep_ms)

"""Boot: pick the board this runs on and start the token's loop."""

import sys

if sys.platform == "rp2":
    import board_pico as board_mod
else:
    import board_host as board_mod

import app

app.App(board_mod.make()).run()

"""Boot: close the Ctrl-C window and hold the power first, then start the token's loop (app.main).

MicroPython runs main.py with Ctrl-C enabled: a host that streams 0x03 could stop it during the imports, the
board set-up or the store load (0.3-0.8 s) and get the REPL, which reads the secret. So the very first
statement disables Ctrl-C, the second drives the soft latch's hold pin (GP7 on the Pico: the latch lets go
0.6-1 s after the button is released), and only then does anything slow run. Ctrl-C comes back only once the
store says the token is blank (app.App._changed). An exception that escapes on a token that is not blank (a
Ctrl-C that arrived in the few instructions before the first statement, a broken file) resets the board
instead of reaching the REPL.
"""

try:
    import micropython

    micropython.kbd_intr(-1)
    import sys

    if sys.platform == "rp2":
        import machine

        machine.Pin(7, machine.Pin.OUT, value=1)  # board_pico.PINS["power_hold"]: hold the soft latch
    import boot_token

    boot_token.run()
except (Exception, KeyboardInterrupt) as exc:
    # SystemExit is neither: the simulator's power-off (its serial line closed) ends main.py quietly.
    try:
        import boot_token

        blank = boot_token.blank()
    except Exception:
        blank = False  # what cannot be read cannot be trusted to be blank
    if not blank:
        import machine

        if hasattr(machine, "reset"):  # the unix port has none unless the simulator adds it (token_firmware/sim.py)
            machine.reset()
    raise exc

"""The token's main loop: serve the serial protocol, show the code on a press, release the power hold.

Everything the loop touches comes from a board object (board_pico or board_host), so the same code runs
on the Pico and in the simulator. Between two display updates the loop sleeps through ``board.sleep(ms)``
(on the Pico a lightsleep while on battery: the TM1637 keeps showing the digits by itself).

How long a press keeps the code shown (docs/firmware.md has the reasoning and the battery numbers): a press
shows it ``SHOW_MS``; a second press while it is shown keeps it shown until the code has changed, then
``AFTER_MS`` more, so a teacher at the first-use step ("wait until the code on your token changes") sees the
change without the token going dark.

A locked token answers CODE over USB only while it shows the code after a press (``present``): software on
the host cannot read codes. ``board.always_on`` (the simulator's ``--always-on``, for demos and tests) keeps
the display on as if the button were held. Each pass of the loop feeds the board's watchdog
(``board.feed``); a press on low cells shows ``bAtt`` for ``BATT_MS`` before the code.
"""

import gc

import proto
import store

SHOW_MS = 10000  # a press shows the code this long (and holds the power)
AFTER_MS = 5000  # a second press while shown: until the code has rolled over, then the new code this long
ROLL_WAIT_MS = 62000  # ... but never longer than the longest step (60 s) and then some: a stopped clock never rolls
SLEEP_MAX_MS = 250  # longest sleep while shown: a press (stretched by C1, see docs/hardware.md) is not missed
IDLE_MS = 100  # sleep between two looks at the serial line and the button while nothing is shown
HALF_MS = 2000  # an 8-digit code alternates its two halves on the 6-digit display
MAX_FAULTS = 3  # after this many faults a battery token shows ERR_FAULT briefly and lets go of the power
FAULT_SHOW_MS = 2000
FAULT_PAUSE_MS = 1000

BLANK = "------"
ERR_STORE = "Err St"
ERR_CLOCK = "Err CL"
ERR_FAULT = "Err FL"
LOW_BATTERY = "bAtt  "
BATT_MS = 1000


def _lit(left, period):
    return (left * 6 + period - 1) // period


class App:
    def __init__(self, board):
        self.board = board
        self.store = store.Store(board.flash_dir, scrub=board.SCRUB)
        self.store.load()
        if self.store.owes_scrub():  # a WIPE whose scrub a power cut stopped
            self.store.scrub(board.feed)
        self.proto = proto.Protocol(self.store, board.clock, board.MODEL, self._changed, self.present, board.facts)
        self.awake_until = None  # ticks_ms at which the display may go dark (None: nothing shown)
        self.wait_roll = False  # a second press: keep showing until the code has rolled over
        self.roll_by = 0  # ticks_ms after which a roll-over is no longer waited for
        self.step = None  # the step of the code shown
        self.shown = None
        self.due = 0  # ticks_ms of the next display update
        self.batt_until = None  # ticks_ms until which the low-battery warning shows (None: not shown)
        self._changed()
        if board.PRESS_AT_BOOT or board.always_on:
            self.press()

    def _changed(self):
        # A blank token keeps Ctrl-C for mpremote; a seeded or locked one treats 0x03 as a plain byte.
        self.board.set_ctrl_c(self.store.state == "blank")
        if self.store.state != "blank":
            self.board.watch()  # from now on a hang resets the board (a blank token keeps the REPL usable)
        self.shown = None

    def present(self):
        """True while a person's press keeps the code on the display (so a locked token may answer CODE)."""
        return self.awake_until is not None and self.batt_until is None

    def press(self):
        b = self.board
        b.hold()
        # A press while the code is shown: keep it shown until it has rolled over (the step shown is kept, so
        # the roll-over is seen against it), then AFTER_MS more. Either way at least SHOW_MS from this press.
        now = b.ticks_ms()
        self.wait_roll = self.awake_until is not None
        if self.wait_roll:
            self.roll_by = b.ticks_add(now, ROLL_WAIT_MS)
        else:
            self.step = None
        self.awake_until = b.ticks_add(now, SHOW_MS)
        self.shown = None
        volts = b.battery()
        if volts is not None and volts < b.BATTERY_LOW and self.store.state in ("seeded", "locked"):
            self.batt_until = b.ticks_add(now, BATT_MS)  # the cells are low: say so before the code
            self.awake_until = b.ticks_add(self.awake_until, BATT_MS)

    def screen(self, now_ms):
        """(text, dots, step, ms to the next change) to show now: the code and its countdown, or a glyph.

        ``step`` is None for dashes and error glyphs (they never roll over); the next change is a guess from
        the clock's whole seconds, so the loop looks again at each wake-up from a second before it.
        """
        st = self.store.state
        if st == "corrupt":
            return ERR_STORE, 0, None, None
        if st == "blank":
            return BLANK, 0, None, None
        if not self.proto.clock_ok():
            return ERR_CLOCK, 0, None, None
        code, step, left = self.proto.code_now()
        period = self.store.period
        lit = _lit(left, period)
        dots = ((1 << lit) - 1) << (6 - lit)
        secs = 1
        while secs < left and _lit(left - secs, period) == lit:
            secs += 1
        nxt = (secs - 1) * 1000  # from a second early: where the clock is within its second is unknown
        if nxt < SLEEP_MAX_MS:
            nxt = SLEEP_MAX_MS  # the change is within a second: look again at each wake-up
        if len(code) == 8:
            half = (now_ms // HALF_MS) % 2
            code = code[:4] + "  " if half == 0 else "  " + code[4:]
            nxt = min(nxt, HALF_MS - now_ms % HALF_MS)
        return code, dots, step, nxt

    def tick(self):
        """One pass of the loop, without waiting: serial, button, and the display when an update is due."""
        b = self.board
        b.feed()
        data = b.read()
        if data:
            for reply in self.proto.feed(data):
                b.write(reply)
                b.feed()
                self.shown = None  # a request (TIME, SEED, WIPE ...) may change what is shown: look again
            if self.store.owed:  # after WIPE, once its reply is out: erase the old blocks
                self.store.scrub(b.feed)
        if b.pressed():
            self.press()
        if self.awake_until is None:
            return
        now = b.ticks_ms()
        if self.batt_until is not None:
            if b.ticks_diff(now, self.batt_until) < 0:
                if self.shown is None:
                    self.shown = (LOW_BATTERY, 0)
                    b.display.show(LOW_BATTERY, 0)
                return
            self.batt_until = None
            self.shown = None
        if self.shown is None or b.ticks_diff(now, self.due) >= 0:
            text, dots, step, nxt = self.screen(now)
            if step is None:
                self.wait_roll = False
            elif self.step is not None and step != self.step and self.wait_roll:
                self.wait_roll = False
                later = b.ticks_add(now, AFTER_MS)
                if b.ticks_diff(later, self.awake_until) > 0:
                    self.awake_until = later
            self.step = step
            self.due = b.ticks_add(now, nxt if nxt is not None else SHOW_MS)
            if self.shown is None or text != self.shown[0] or dots != self.shown[1]:
                self.shown = (text, dots)
                b.display.show(text, dots)
        if self.wait_roll and b.ticks_diff(now, self.roll_by) >= 0:
            self.wait_roll = False  # no roll-over in time: the clock has stopped (it shows the code it had)
        if b.always_on:
            self.awake_until = b.ticks_add(now, SHOW_MS)  # as if the button were held
        elif not self.wait_roll and b.ticks_diff(self.awake_until, now) <= 0:
            self.awake_until = None
            self.shown = None
            b.display.off()
            b.release()

    def sleep_ms(self):
        """How long the loop may sleep now: until the next display update or the end of the display."""
        if self.awake_until is None:
            return IDLE_MS
        b = self.board
        now = b.ticks_ms()
        ms = SLEEP_MAX_MS
        if self.batt_until is not None:
            return max(0, min(ms, b.ticks_diff(self.batt_until, now)))
        left = b.ticks_diff(self.due, now)
        if left < ms:
            ms = left
        left = b.ticks_diff(self.roll_by if self.wait_roll else self.awake_until, now)
        if left < ms:
            ms = left
        return ms if ms > 0 else 0

    def step_loop(self):
        """One pass and the sleep after it (run() repeats this)."""
        self.tick()
        self.board.sleep(self.sleep_ms())

    def run(self):
        while True:
            self.step_loop()


def fault(board_mod, board):
    """Show the fault glyph briefly, blank the display and release the power hold (board may be None)."""
    board_mod.give_up(board, ERR_FAULT, FAULT_SHOW_MS)


def main(board_mod, sleep_ms):
    """Run the token forever; a fault restarts the loop, and repeated faults let go of the power.

    A bug must never end main.py (that would open the REPL). KeyboardInterrupt (Ctrl-C on a blank token) and
    SystemExit are not Exceptions: they do end it. Nothing is printed: the serial line is the protocol's, and
    a message could carry data. After MAX_FAULTS faults the token shows ERR_FAULT and releases the power
    hold, so a battery token switches off instead of restarting until its cells are flat; on USB it keeps
    trying, more slowly, and the glyph comes back after each further fault.
    """
    board = None
    faults = 0
    while True:
        try:
            if board is None:
                board = board_mod.make()
            App(board).run()
        except Exception:
            faults += 1
            gc.collect()
            if faults >= MAX_FAULTS:
                fault(board_mod, board)
            if board is not None:
                board.feed()  # the pause and the glyph are well under the watchdog's timeout
            sleep_ms(FAULT_PAUSE_MS)  # a fault that repeats at once must not spin the CPU

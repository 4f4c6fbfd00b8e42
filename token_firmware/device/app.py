"""The token's main loop: serve the serial protocol, show the code on a press, release the power hold.

Everything the loop touches comes from a board object (board_pico or board_host), so the same code runs
on the Pico and in the simulator.
"""

import proto
import store

DISPLAY_MS = 20000  # how long a press keeps the code shown (and the power held)
WAIT_MS = 100  # longest sleep between two looks at the serial line, the button and the clock
HALF_MS = 2000  # an 8-digit code alternates its two halves on the 6-digit display

BLANK = "------"
ERR_STORE = "Err St"
ERR_CLOCK = "Err CL"


class App:
    def __init__(self, board):
        self.board = board
        self.store = store.Store(board.flash_dir)
        self.store.load()
        self.proto = proto.Protocol(self.store, board.clock, board.MODEL, self._changed)
        self.awake_until = None
        self.shown = None
        self._changed()
        if board.PRESS_AT_BOOT:
            self.press()

    def _changed(self):
        # A blank token keeps Ctrl-C for mpremote; a seeded or locked one treats 0x03 as a plain byte.
        self.board.set_ctrl_c(self.store.state == "blank")
        self.shown = None

    def press(self):
        self.board.hold()
        self.awake_until = self.board.ticks_add(self.board.ticks_ms(), DISPLAY_MS)
        self.shown = None

    def screen(self, now_ms):
        """(text, dots) to show now: the code and its countdown, dashes, or an error glyph."""
        st = self.store.state
        if st == "corrupt":
            return ERR_STORE, 0
        if st == "blank":
            return BLANK, 0
        if not self.proto.clock_ok():
            return ERR_CLOCK, 0
        code, step, left = self.proto.code_now()
        period = self.store.period
        lit = (left * 6 + period - 1) // period
        dots = ((1 << lit) - 1) << (6 - lit)
        if len(code) == 8:
            code = code[:4] + "  " if (now_ms // HALF_MS) % 2 == 0 else "  " + code[4:]
        return code, dots

    def tick(self):
        """One pass of the loop, without waiting."""
        b = self.board
        data = b.read()
        if data:
            for reply in self.proto.feed(data):
                b.write(reply)
        if b.pressed():
            self.press()
        now = b.ticks_ms()
        if self.awake_until is not None:
            if b.ticks_diff(self.awake_until, now) <= 0:
                self.awake_until = None
                self.shown = None
                b.display.off()
                b.release()
            else:
                scr = self.screen(now)
                if scr != self.shown:
                    self.shown = scr
                    b.display.show(scr[0], scr[1])

    def run(self):
        while True:
            self.board.wait(WAIT_MS)
            self.tick()

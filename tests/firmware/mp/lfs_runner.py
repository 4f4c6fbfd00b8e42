"""WIPE on MicroPython's own littlefs, on a RAM flash with a real flash's rules (a block is erased to 0xFF
before it is programmed; programming can only clear bits), formatted as the rp2 port formats its flash.

argv[1]: "scrub" (the firmware as it is: App with a board whose SCRUB is on), "noscrub" (the same board
with SCRUB off: what WIPE did before) or "cut" (the power fails after WIPE's reply, before its scrub).
Prints one JSON object: whether the secret (raw or hex, as the record holds it) is anywhere in the flash
image before and after, the replies, and the state a fresh boot reads.
"""

import binascii
import json
import os
import sys

import app
import fakes
import golden_runner
import otp
import vfs

BLOCK = 4096
BLOCKS = 48


class RamFlash:
    def __init__(self):
        self.data = bytearray(b"\xff" * (BLOCK * BLOCKS))

    def readblocks(self, n, buf, off=0):
        start = n * BLOCK + off
        buf[:] = self.data[start : start + len(buf)]

    def writeblocks(self, n, buf, off=None):
        if off is None:  # the simple protocol: erase, then program
            self.ioctl(6, n)
            off = 0
        start = n * BLOCK + off
        for i in range(len(buf)):
            self.data[start + i] &= buf[i]

    def ioctl(self, op, arg):
        if op == 4:
            return BLOCKS
        if op == 5:
            return BLOCK
        if op == 6:
            self.data[arg * BLOCK : (arg + 1) * BLOCK] = b"\xff" * BLOCK
        return 0


def frame(body):
    return (body + "*" + "%08x" % (binascii.crc32(body.encode()) & 0xFFFFFFFF)).encode() + b"\n"


def found():
    return [bytes(flash.data).find(m) >= 0 for m in marks]


mode = sys.argv[1]
flash = RamFlash()
vfs.VfsLfs2.mkfs(flash, progsize=256)  # as the rp2 port's _boot.py formats and mounts its flash
vfs.mount(vfs.VfsLfs2(flash, progsize=256), "/flash")
start = {"state": "seeded", "serial": "JT-000042", "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "algo": "sha1",
         "digits": 6, "period": 30, "time": 1767225612}
secret = otp.b32decode(start["secret_b32"])
marks = (secret, binascii.hexlify(secret))
golden_runner.prepare("/flash", start)  # SEED, as the firmware stores it
board = fakes.FakeBoard("/flash", fakes.FakeClock(start["time"]))
board.SCRUB = mode != "noscrub"
token = app.App(board)
board.inbox = frame("1 LOCK")
token.tick()
before = found()
board.inbox = frame("2 WIPE JT-000042")
after_cut = None
if mode == "cut":

    def cut(feed=None):
        raise KeyboardInterrupt  # the power fails here: nothing after this runs

    token.store.scrub = cut
    try:
        token.tick()
    except KeyboardInterrupt:
        pass
    after_cut = found()
else:
    token.tick()
boot = app.App(board)  # the next boot (it finishes a scrub a power cut stopped)
print(json.dumps({"before": before, "after": found(), "after_cut": after_cut, "state": boot.store.state,
                  "replies": [r.decode() for r in board.outbox], "files": sorted(os.listdir("/flash"))}))

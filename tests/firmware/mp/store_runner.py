"""Power cuts during a store write, and truncated store files, under the firmware's store module.

argv[1]: a scratch directory. Prints one JSON object per scenario: the state before, the state the
write was meant to leave, and what a reboot (a fresh Store.load) finds after a cut at every step of
the write; then one object with what a reboot finds in the store file truncated at every byte.
"""

import binascii
import json
import os
import sys

import store

KEY = b"12345678901234567890"


class PowerCut(OSError):
    pass


class CutFile:
    def __init__(self, f, fs):
        self.f = f
        self.fs = fs

    def write(self, data):
        room = self.fs.budget
        if room < len(data):
            self.f.write(data[:room])
            self.fs.budget = 0
            self.f.close()
            raise PowerCut()
        self.fs.budget -= len(data)
        return self.f.write(data)

    def read(self, n):
        return self.f.read(n)

    def close(self):
        self.f.close()


class CutFs:
    """File operations that stop (a power cut) once ``budget`` bytes and operations are spent."""

    def __init__(self, budget):
        self.budget = budget

    def _spend(self):
        if self.budget <= 0:
            raise PowerCut()
        self.budget -= 1

    def open(self, path, mode):
        if "w" in mode:
            self._spend()
        return CutFile(open(path, mode), self)

    def rename(self, a, b):
        self._spend()
        os.rename(a, b)

    def remove(self, path):
        self._spend()
        os.remove(path)


def reset(d):
    for name in os.listdir(d):
        os.remove(d + "/" + name)


def hexs(b):
    return binascii.hexlify(b).decode()


def snapshot(s):
    return [s.state, s.serial, hexs(s.secret), s.algo, s.digits, s.period]


def prepare(d, before):
    reset(d)
    s = store.Store(d)
    if before == "seeded":
        s.save("seeded", "JT-000042", KEY, "sha1", 6, 30)
    elif before == "locked":
        s.save("locked", "JT-000042", KEY, "sha1", 6, 30)
    s.load()
    return s


def act(s, action):
    if action == "seed":
        return s.save("seeded", "JT-000042", KEY, "sha1", 6, 30)
    if action == "lock":
        return s.save("locked", s.serial, s.secret, s.algo, s.digits, s.period)
    return s.wipe()


def scenario(d, before, action):
    s = prepare(d, before)
    old = snapshot(s)
    act(s, action)
    check = store.Store(d)
    check.load()
    new = snapshot(check)
    results = []
    budget = 0
    while True:
        s = prepare(d, before)
        s.fs = CutFs(budget)
        ok = act(s, action)
        boot = store.Store(d)
        boot.load()
        results.append(snapshot(boot))
        if ok:
            break
        budget += 1
    return {"scenario": before + "+" + action, "old": old, "new": new, "results": results}


def truncations(d):
    s = prepare(d, "locked")
    with open(s.path, "rb") as f:
        data = f.read()
    found = []
    for n in range(len(data) + 1):
        with open(s.path, "wb") as f:
            f.write(data[:n])
        boot = store.Store(d)
        found.append(boot.load())
    return {"length": len(data), "record": data.index(b"\n") + 1, "found": found}


def failed_wipe(d):
    """A WIPE whose write fails (the power stays on): what the running token holds afterwards."""
    out = []
    for budget in range(3):
        s = prepare(d, "locked")
        s.fs = CutFs(budget)
        ok = s.wipe()
        out.append([ok, snapshot(s)])
    return {"failed_wipe": out}


d = sys.argv[1]
for before, action in (("blank", "seed"), ("seeded", "lock"), ("locked", "wipe"), ("seeded", "wipe")):
    print(json.dumps(scenario(d, before, action)))
print(json.dumps(failed_wipe(d)))
print(json.dumps(truncations(d)))

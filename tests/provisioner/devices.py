"""Tokens the recovery and batch tests can start, unplug and plug back with their state kept.

``SimToken`` is the real firmware in the simulator (its state directory is its flash); ``PtyToken`` is the
scripted token of :mod:`tests.provisioner.scripted`, whose state lives in the test process. Both give a new
pty path each time they are plugged in, as a USB token may come back as another /dev/ttyACM*.
"""

from __future__ import annotations

from pathlib import Path

from tests.provisioner.scripted import ScriptedDevice, ScriptedToken


class PtyToken:
    def __init__(self, state_dir: Path, faults: frozenset[str] = frozenset()) -> None:
        self.model = ScriptedToken(set(faults))
        self._device: ScriptedDevice | None = None

    def plug(self) -> str:
        self._device = ScriptedDevice(self.model).__enter__()
        return self._device.port

    def unplug(self) -> None:
        if self._device is not None:
            self._device.__exit__(None, None, None)
            self._device = None

    def press(self) -> None:
        self.model.pressed = True


class SimToken:
    def __init__(self, state_dir: Path) -> None:
        from tests.provisioner.conftest import simulator_class

        self._cls = simulator_class()
        self.state_dir = state_dir
        self._sim = None

    def plug(self) -> str:
        self._sim = self._cls(self.state_dir)
        self._sim.__enter__()
        return self._sim.port

    def unplug(self) -> None:
        if self._sim is not None:
            self._sim.__exit__(None, None, None)
            self._sim = None

    def press(self) -> None:
        assert self._sim.press(wait=5), "the simulated token did not take the press"


KINDS = {"simulator": SimToken, "scripted": PtyToken}

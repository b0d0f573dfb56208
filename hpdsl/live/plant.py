"""The built-in plant model as the controller's field: `hpdsl run RULES --plant sim`.

No network: before each scan the plant's sensors set the package's inputs, after it the
package's commands drive the plant one cycle forward (the plant model and weather of
`hpdsl simulate`). Time is the plant's, so a run is the same every time and can go faster than
the wall clock.
"""

from __future__ import annotations

from typing import Any

from hpdsl.live.field import LinkStatus
from hpdsl.sim.run import PlantLoop


class SimulatedField:
    """The plant model behind the controller's `Field` interface."""

    def __init__(self, plant: PlantLoop) -> None:
        self.plant = plant

    async def start(self) -> None:
        return None

    def feed(self, package: Any, now: float) -> None:
        self.plant.sense()

    def deliver(self, package: Any) -> None:
        self.plant.actuate()

    async def stop(self) -> int:
        return 0  # the plant model has no outputs of its own to make safe

    def statuses(self) -> list[LinkStatus]:
        return []

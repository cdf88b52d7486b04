"""Online monitoring's use cases, the one door for the web pages, the API, the CLI and the MQTT service.

* :mod:`.service` — :class:`MonitoringService` (owned by the app as ``app.state.monitoring``): caches, the city
  state, scoped reads and the readings write.
* :mod:`.city` — the city state (:class:`City`: indicators, budget position, alerts, monthly totals).
* :mod:`.submissions` — ingest of a batch with scope, submission record and audit (every channel).
* :mod:`.daily` — daily energy from the lake (raw and repaired) for the alerts of the CLI.
"""

from citycarbon.services.monitoring.city import City, build_city, visible_units
from citycarbon.services.monitoring.service import MonitoringService, NotFound, ReadingsPage, SubmissionsPage
from citycarbon.services.monitoring.submissions import IngestOutcome, Sender, submission_recorder

__all__ = ["City", "IngestOutcome", "MonitoringService", "NotFound", "ReadingsPage", "Sender",
           "SubmissionsPage", "build_city", "submission_recorder", "visible_units"]

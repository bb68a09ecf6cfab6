"""Earlier runs' quality results, read back from the ``quality_runs`` table."""
from __future__ import annotations

import json


def recent_volume_counts(connection, window: int = 7) -> list[dict[str, int]]:
    """Channel counts of the last ``window`` ``volume`` rows of quality_runs, oldest first (a DB-API connection)."""
    cursor = connection.cursor()
    cursor.execute("SELECT details FROM quality_runs WHERE suite = 'volume' ORDER BY checked_at DESC, run_id DESC "
                   f"LIMIT {int(window)}")
    out = []
    for (details,) in cursor.fetchall():
        if isinstance(details, (str, bytes)):
            details = json.loads(details)
        out.append({k: int(v) for k, v in (details or {}).get("counts", {}).items()})
    return out[::-1]

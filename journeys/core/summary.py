"""The run's arithmetic: input = processed + duplicates + dead letters."""
from __future__ import annotations

from dataclasses import dataclass, field

DEAD_LETTER_PREFIX = "dead_letter."


@dataclass(frozen=True)
class RunSummary:
    input: int
    processed: int
    duplicates: int
    dead_letters: int
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    journeys: int = 0
    page_views: int = 0
    friction_points: int = 0
    # Computed rows (not inputs) the warehouse refused at landing, per table: dead letters landing_failed.
    refused_rows: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.input == self.processed + self.duplicates + self.dead_letters

    @classmethod
    def from_counters(cls, counters: dict[str, int]) -> "RunSummary":
        reasons = {name[len(DEAD_LETTER_PREFIX):]: value for name, value in counters.items()
                   if name.startswith(DEAD_LETTER_PREFIX)}
        return cls(input=counters.get("input", 0), processed=counters.get("processed", 0),
                   duplicates=counters.get("duplicates", 0), dead_letters=counters.get("dead_letters", 0),
                   dead_letter_reasons=dict(sorted(reasons.items())), journeys=counters.get("journeys", 0),
                   page_views=counters.get("page_views", 0), friction_points=counters.get("friction_points", 0))

    def lines(self) -> list[str]:
        check = "ok" if self.balanced else "MISMATCH"
        out = [f"input {self.input} = processed {self.processed} + duplicates {self.duplicates}"
               f" + dead letters {self.dead_letters} ({check})"]
        out += [f"  dead letter {reason}: {count}" for reason, count in self.dead_letter_reasons.items()]
        out += [f"  landing refused {count} {table} row(s): dead letters landing_failed (computed, not inputs)"
                for table, count in self.refused_rows.items()]
        out.append(f"journeys {self.journeys}, page views {self.page_views}, friction points {self.friction_points}")
        return out

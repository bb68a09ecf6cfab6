"""Prints how fast the synthetic generator makes events (events per second)."""
import sys
import time

from journeys.generators.synthetic import generate_events


def main(n: int = 100_000, repeats: int = 3) -> None:
    for seed in range(repeats):
        began = time.perf_counter()
        generate_events(n, seed=seed)
        seconds = time.perf_counter() - began
        print(f"seed {seed}: {n} events in {seconds:.2f} s = {n / seconds:,.0f} events/s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

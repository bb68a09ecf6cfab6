"""Where the tests' own data lives, whatever folder a test file is in."""
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
SCENARIOS = TESTS / "scenarios"
REFERENCE = TESTS / "reference"
SCHEMAS_DIR = ROOT / "schemas"

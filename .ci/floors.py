"""Print pins for the oldest releases pyproject.toml allows: one `name==floor` line
per runtime dependency (its environment marker kept), for `pip install -c`.

CI installs kxsj once with the newest releases and once with these, so a floor
in pyproject.toml is a release the suite has passed on, not a guess.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def floors(requirements: list[str]) -> list[str]:
    pins = []
    for requirement in requirements:
        m = FLOOR.match(requirement)
        if not m:
            sys.exit(f"floors.py: cannot read the requirement {requirement!r}")
        name, spec, marker = m.group(1), m.group(2), m.group(3) or ""
        low = re.search(r">=\s*([0-9][^,\s]*)", spec)
        if not low:
            sys.exit(f"floors.py: {requirement!r} has no `>=` floor; give it one")
        pins.append(f"{name}=={low.group(1)}{marker}")
    return pins


if __name__ == "__main__":
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    print("\n".join(floors(project["dependencies"])))

"""Copy the front-end assets the web cockpit serves from node_modules/ into the package.

The assets come from the npm registry at install time (``npm ci`` with the committed package-lock.json);
nothing minified from a third party is committed. The web app serves them from
``src/citycarbon/web/static/vendor/`` (git-ignored), so no page ever loads anything from a CDN.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (file in node_modules, name served under /static/vendor/)
ASSETS = [
    ("echarts/dist/echarts.min.js", "echarts.min.js"),
    ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
]


def main() -> int:
    target = ROOT / "src" / "citycarbon" / "web" / "static" / "vendor"
    target.mkdir(parents=True, exist_ok=True)
    missing = []
    for source, name in ASSETS:
        path = ROOT / "node_modules" / source
        if not path.is_file():
            missing.append(str(path))
            continue
        shutil.copyfile(path, target / name)
    for licence in ("echarts/LICENSE", "htmx.org/LICENSE"):
        path = ROOT / "node_modules" / licence
        if path.is_file():
            shutil.copyfile(path, target / (licence.split("/")[0] + ".LICENSE.txt"))
    if missing:
        print("vendor_assets: missing (run `npm ci` first): " + ", ".join(missing), file=sys.stderr)
        return 1
    print(f"vendor_assets: {len(ASSETS)} files in {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

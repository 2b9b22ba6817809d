"""Copy the records behind the example report into it, so its numbers trace back in a fresh clone.

`results/` is not tracked; the example report is. Usage:
    python scripts/vendor_example_records.py RESULTS STUDY.PRESET REPORT_DIR
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def main(results: str, study: str, report_dir: str) -> None:
    results_dir, report = Path(results), Path(report_dir)
    manifest_path = results_dir / "studies" / f"{study}.json"
    manifest = json.loads(manifest_path.read_text())
    out = report / "records"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for key in manifest["records"].values():
        shutil.copy(results_dir / "records" / f"{key}.json", out / f"{key}.json")
    shutil.copy(manifest_path, out / manifest_path.name)
    page = report / "report.md"
    page.write_text(page.read_text().replace("../../results/records/", "records/"))


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Re-run the commands the docs show and paste their real output back in.

Tables generated from the code (``<!-- generated: NAME -->`` blocks: hardware and workload
fields with their bounds, input limits; ``accelsim.config.docs``) and the JSON Schemas in
``docs/schemas/`` are rewritten first.

A fenced block whose first line is ``$ accelsim ...`` is a command and its
output; this script runs the command as if from the repository root (in a
scratch folder that links to it, so files the command writes do not land in
the tree) and replaces the output with what it prints now. Commands that fail are left alone and
listed. Prose that quotes numbers from those outputs must still be read by a
person afterwards: the script prints which blocks changed.

    python scripts/update_doc_outputs.py docs/calibration.md docs/validation.md
    python scripts/update_doc_outputs.py docs/calibration.md --only "accelsim formulas"
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```[a-z]*\n(\$ accelsim [^\n]*)\n(.*?)^```", re.S | re.M)


def run(command: str) -> str | None:
    """Run in a scratch folder that sees the repository's files (so outputs land there)."""
    args = shlex.split(command[2:])
    with tempfile.TemporaryDirectory() as scratch:
        for entry in ROOT.iterdir():
            if not entry.name.startswith("."):
                (Path(scratch) / entry.name).symlink_to(entry)
        proc = subprocess.run([sys.executable, "-m", "accelsim", *args[1:]], cwd=scratch, capture_output=True,
                              text=True)
    return proc.stdout if proc.returncode == 0 else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("docs", nargs="+", type=Path)
    p.add_argument("--only", help="only commands that start with this text")
    p.add_argument("--generated-only", action="store_true", help="only the generated tables, run no command")
    args = p.parse_args()
    from accelsim.config.docs import generated_files, refresh

    for name, text in generated_files().items():  # the published JSON Schemas
        path = ROOT / name
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"{name}: updated")
    for doc in args.docs:
        text = doc.read_text()
        fresh = refresh(text)
        if fresh != text:
            print(f"{doc}: updated  the generated tables")
        text = fresh
        if args.generated_only:
            doc.write_text(text)
            continue
        changed, failed = [], []

        def replace(match: re.Match) -> str:
            command, old = match.group(1), match.group(2)
            if args.only and not command[2:].startswith(args.only):
                return match.group(0)
            out = run(command)
            if out is None:
                failed.append(command)
                return match.group(0)
            if out != old:
                changed.append(command)
            return match.group(0).replace(command + "\n" + old, command + "\n" + out, 1)

        doc.write_text(BLOCK.sub(replace, text))
        for command in changed:
            print(f"{doc}: updated  {command}")
        for command in failed:
            print(f"{doc}: FAILED   {command} (left as it was)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run two commits side by side on every shipped hwconfig x workload x batch and diff the JSON.

Each revision is checked out into a temporary git worktree and run in a child process of the
current Python (same interpreter and dependencies), so both see exactly the same inputs: the
hwconfig and workload *files of the newer revision* are used for both unless ``--own-inputs``
is given (then each revision loads its own shipped files by name).

    python scripts/diff_outputs.py                      # HEAD~1 against the working tree
    python scripts/diff_outputs.py --base main~3 --head HEAD --batch 1 8 --models engine analytical
    python scripts/diff_outputs.py --hw tpu_v1 gemmini --workload resnet50 --keys cycles dram_bytes

Prints one line per case (identical / differs in N keys, with the first differences) and a
summary; exits 1 when any case differs (or failed on one side only), 0 when all are identical.
Keys that name the software (``accelsim_version``, ``workload.source``) are ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED = {"accelsim_version", "workload.source"}

CHILD = r"""
import json, sys
from accelsim.config import load_hardware, load_workload
from accelsim.config.loader import parse_override, with_overrides
from accelsim.models import run_model
from accelsim.reports.records import run_record
from accelsim.errors import AccelsimError
cases, overrides = json.loads(sys.stdin.read())
overrides = dict(parse_override(text) for text in overrides)
out = {}
for key, (hw, wl, batch, model) in cases.items():
    try:
        hardware = load_hardware(hw)
        if overrides:
            hardware = with_overrides(hardware, overrides)
        run = run_model(model, hardware, load_workload(wl, batch=batch))
        out[key] = run_record(run)
    except AccelsimError as err:
        out[key] = {"error": str(err)}
print(json.dumps(out))
"""


def flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            name = v.get("name", i) if isinstance(v, dict) else i
            out.update(flatten(v, f"{prefix}{name}."))
        return out
    return {prefix[:-1]: value}


def shipped(kind: str, root: Path) -> list[str]:
    suffixes = {"hwconfigs": (".yaml", ".cfg"), "workloads": (".yaml", ".csv")}[kind]
    return sorted(p.stem for p in (root / kind).iterdir() if p.suffix in suffixes)


def run_revision(rev: str | None, cases: dict, inputs: Path | None, overrides: list[str]) -> dict:
    """Results of ``cases`` at revision ``rev`` (None: the working tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        if rev is None:
            tree = ROOT
        else:
            tree = Path(tmp) / "tree"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                           check=True, capture_output=True)
        try:
            if inputs is not None:  # point shipped names at the newer revision's files
                resolved = {}
                for key, (hw, wl, batch, model) in cases.items():
                    hw_path = next((inputs / "hwconfigs").glob(f"{hw}.*"))
                    wl_path = next((inputs / "workloads").glob(f"{wl}.*"))
                    resolved[key] = (str(hw_path), str(wl_path), batch, model)
                cases = resolved
            env = dict(os.environ, PYTHONPATH=str(tree))
            proc = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps([cases, overrides]), text=True,
                                  capture_output=True, env=env, cwd=tmp)
            if proc.returncode:
                sys.exit(f"revision {rev or 'working tree'} failed:\n{proc.stderr}")
            return json.loads(proc.stdout)
        finally:
            if rev is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="older revision (default: %(default)s)")
    parser.add_argument("--head", default=None, help="newer revision (default: the working tree)")
    parser.add_argument("--hw", nargs="*", help="hwconfig names (default: every shipped one)")
    parser.add_argument("--workload", nargs="*", help="workload names (default: every shipped one)")
    parser.add_argument("--batch", nargs="*", type=int, default=[1, 8])
    parser.add_argument("--models", nargs="*", default=["engine", "analytical"])
    parser.add_argument("--keys", nargs="*", help="compare only flattened keys containing one of these")
    parser.add_argument("--ignore", nargs="*", default=[], help="skip flattened keys containing one of these")
    parser.add_argument("--own-inputs", action="store_true", help="each revision loads its own shipped files")
    parser.add_argument("--head-set", action="append", default=[], metavar="PATH=VALUE",
                        help="hardware override for the newer revision only (e.g. activations=dram)")
    parser.add_argument("--show", type=int, default=3, help="differences shown per case")
    args = parser.parse_args()

    hws = args.hw or shipped("hwconfigs", ROOT)
    wls = args.workload or shipped("workloads", ROOT)
    cases = {f"{hw}/{wl}/b{b}/{m}": (hw, wl, b, m) for hw in hws for wl in wls for b in args.batch
             for m in args.models}
    inputs = None if args.own_inputs else ROOT
    old = run_revision(args.base, cases, inputs, [])
    new = run_revision(args.head, cases, inputs, args.head_set)
    same = differ = 0
    added: set[str] = set()
    for key in cases:
        a, b = flatten(old[key]), flatten(new[key])
        added |= {k.split(".")[-1] for k in b if k not in a}
        keys = sorted(set(a) | set(b))
        if args.keys:
            keys = [k for k in keys if any(part in k for part in args.keys)]
        keys = [k for k in keys if not any(part in k for part in args.ignore)]
        diffs = [k for k in keys if k not in IGNORED and a.get(k, "<absent>") != b.get(k, "<absent>")]
        # keys only the newer revision has are additions, not differences
        changed = [k for k in diffs if k in a]
        if not changed:
            same += 1
            continue
        differ += 1
        shown = ", ".join(f"{k}: {a.get(k)} -> {b.get(k, '<absent>')}" for k in changed[: args.show])
        print(f"{key}: differs in {len(changed)} keys: {shown}")
    added = sorted(added)
    print(f"{len(cases)} cases: {same} identical, {differ} differ"
          + (f"; keys added: {', '.join(added[:20])}" + (" ..." if len(added) > 20 else "") if added else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

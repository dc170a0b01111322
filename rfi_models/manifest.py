"""The sha256 manifest of a checkpoints folder (rules in `rfi_models.checkpoint`).

python -m rfi_models.manifest --write checkpoints    # (re)write checkpoints/MANIFEST.json
python -m rfi_models.manifest --verify checkpoints   # exit 1, one line per problem, if anything differs
"""

from __future__ import annotations

import argparse
import sys

from .checkpoint import CheckpointError, read_manifest, verify_folder, write_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfi_models.manifest", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", metavar="FOLDER", help="(re)write FOLDER/MANIFEST.json")
    action.add_argument("--verify", metavar="FOLDER", help="check FOLDER against its MANIFEST.json")
    args = parser.parse_args(argv)
    if args.write:
        manifest = write_manifest(args.write)
        print(f"wrote {manifest} ({len(read_manifest(manifest))} files)")
        return 0
    try:
        problems = verify_folder(args.verify)
    except CheckpointError as err:
        problems = [str(err)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.verify}: every file matches its manifest")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

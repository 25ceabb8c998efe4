"""`portal-clean [--json] -o OUTPUT INPUT`: the metadata cleaner on its own.

Exit status: 0 cleaned (OUTPUT written), 1 could not clean (nothing written),
2 usage. The output file appears only once complete (written beside it, then
renamed), so a refusal or a crash never leaves a partial file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from .errors import CleaningRefused
from .isolate import clean_isolated
from .messages import note_sentence, refusal_sentence, removed_sentence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal-clean", description="Remove identifying metadata from a file."
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-o", "--output", required=True, help="where to write the cleaned file")
    parser.add_argument("input", help="the file to clean")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if _same_file(args.input, args.output):
        print("portal-clean: OUTPUT must differ from INPUT", file=sys.stderr)
        return 2
    if os.path.isdir(args.output):
        print(f"portal-clean: OUTPUT is a folder: {args.output}", file=sys.stderr)
        return 2
    try:
        source = open(args.input, "rb")
    except OSError as exc:
        print(f"portal-clean: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.output))
    try:
        fd, partial = tempfile.mkstemp(prefix=".portal-clean-", dir=out_dir)
    except OSError as exc:
        source.close()
        print(f"portal-clean: cannot write in {out_dir}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        with source, os.fdopen(fd, "wb") as sink:
            report = clean_isolated(source, sink, name_hint=os.path.basename(args.input))
    except CleaningRefused as exc:
        os.unlink(partial)
        if args.json:
            print(json.dumps({"cleaned": False, "code": exc.code, "detail": exc.detail,
                              "reason": refusal_sentence(exc.code, exc.detail)},
                             ensure_ascii=False))
        else:
            print(f"not cleaned: {refusal_sentence(exc.code, exc.detail)}", file=sys.stderr)
        return 1
    except BaseException:
        os.unlink(partial)
        raise
    try:
        os.replace(partial, args.output)
    except OSError as exc:  # OUTPUT became a folder after the check above
        os.unlink(partial)
        print(f"portal-clean: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.json:
        data = {"cleaned": True, **report.to_dict()}
        print(json.dumps(data, ensure_ascii=False, sort_keys=True))
    else:
        print(f"cleaned {report.kind}: {args.output}")
        for finding in report.removed:
            print(f"  removed: {removed_sentence(finding)}")
        for finding in report.notes:
            print(f"  note: {note_sentence(finding)}")
    return 0


def _same_file(input_path: str, output_path: str) -> bool:
    """True when OUTPUT names INPUT, also through a symlink, a symlinked folder or a hard link."""
    try:
        return os.path.samefile(input_path, output_path)
    except OSError:  # one of them does not exist (yet): compare the names we were given
        return os.path.realpath(input_path) == os.path.realpath(output_path)


if __name__ == "__main__":
    sys.exit(main())

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
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        print("portal-clean: OUTPUT must differ from INPUT", file=sys.stderr)
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
        os.replace(partial, args.output)
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


if __name__ == "__main__":
    sys.exit(main())

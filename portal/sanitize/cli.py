"""`portal-clean [--json] [--show-values] -o OUTPUT INPUT`: the metadata cleaner on its own.

What it removed is printed by kind and count ("1 author name(s)"); the values
themselves (the name, the company, the path) only with `--show-values`, for
someone checking their own file: whoever cleans another person's file (an
editor with a file the server could not clean) never has them on screen.

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
from .messages import (
    kinds_only,
    note_kind,
    note_sentence,
    refusal_kind,
    refusal_sentence,
    removed_kind,
    removed_sentence,
)
from .sandbox.isolate import clean_isolated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal-clean", description="Remove identifying metadata from a file."
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--show-values", action="store_true",
                        help="also print the values removed (names, places, paths)")
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
        detail = exc.detail if args.show_values else ""
        reason = (refusal_sentence(exc.code, exc.detail) if args.show_values
                  else refusal_kind(exc.code))
        if args.json:
            print(json.dumps({"cleaned": False, "code": exc.code, "detail": detail,
                              "reason": reason}, ensure_ascii=False))
        else:
            print(f"not cleaned: {reason}", file=sys.stderr)
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
    shown = report if args.show_values else kinds_only(report)
    if args.json:
        data = {"cleaned": True, **shown.to_dict()}
        print(json.dumps(data, ensure_ascii=False, sort_keys=True))
    else:
        removed, note = (removed_sentence, note_sentence) if args.show_values else (removed_kind,
                                                                                   note_kind)
        print(f"cleaned {report.kind}: {args.output}")
        for finding in shown.removed:
            print(f"  removed: {removed(finding)}")
        for finding in shown.notes:
            print(f"  note: {note(finding)}")
    return 0


def _same_file(input_path: str, output_path: str) -> bool:
    """True when OUTPUT names INPUT, also through a symlink, a symlinked folder or a hard link."""
    try:
        return os.path.samefile(input_path, output_path)
    except OSError:  # one of them does not exist (yet): compare the names we were given
        return os.path.realpath(input_path) == os.path.realpath(output_path)


if __name__ == "__main__":
    sys.exit(main())

"""Bounded coverage-guided fuzzing: no input crashes the cleaner or hangs it past its limit.

Threat model row "hostile upload". For every format family, fuzz_target.py runs
in its own process under libFuzzer (atheris), seeded from the test documents,
and feeds each mutated input to `clean()` in that process. A crash is any
exception but CleaningRefused, output the verifier refuses, an input slower than
PER_INPUT_SECONDS or memory past RSS_LIMIT_MB; libFuzzer then exits non-zero and
writes the input to the test's temporary directory, and the failure message
quotes libFuzzer's report and that path. Reproduce one with
`python -m tests.sanitize.fuzz_target FAMILY CORPUS_DIR path/to/crash-…`.

The seed is fixed and the runs are bounded, so the whole file takes about fifty
seconds on two cores and CI sees nearly the same inputs every time (not exactly:
the PDF cleaner's random /ID and other small differences from run to run steer
libFuzzer's choices a little).
PENNAME_FUZZ_RUNS=N runs N inputs per family instead (and PENNAME_FUZZ_SEED
another seed), for a deeper local search.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sanitize.fuzz_target import FAMILIES

# Enough to run every seed and a few hundred mutations of them in every family.
DEFAULT_RUNS = 1500
RUNS = int(os.environ.get("PENNAME_FUZZ_RUNS", str(DEFAULT_RUNS)))
SEED = int(os.environ.get("PENNAME_FUZZ_SEED", "20240604"))
# A small input is cleaned in milliseconds; seconds mean a hang (as in test_properties).
PER_INPUT_SECONDS = 10
# The fuzzing process with every parser loaded stays near 150 MB; far more is a bomb.
RSS_LIMIT_MB = 2048
# The process as a whole: libFuzzer's own limits should fire long before this.
PROCESS_BOUND_SECONDS = 60 + RUNS * PER_INPUT_SECONDS // 20
REPO = Path(__file__).resolve().parents[2]



def fuzz(family: str, workdir: Path, runs: int = RUNS, extra_env: dict[str, str] | None = None
         ) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """Run one family's fuzzing process; return it and the inputs libFuzzer saved as crashes."""
    if importlib.util.find_spec("atheris") is None:
        pytest.fail("atheris is not installed: pip install -e '.[test]'")
    corpus, artifacts = workdir / "corpus", workdir / "crashes"
    artifacts.mkdir(parents=True)
    command = [
        sys.executable, "-m", "tests.sanitize.fuzz_target", family, str(corpus),
        f"-runs={runs}", f"-seed={SEED}", f"-timeout={PER_INPUT_SECONDS}",
        f"-rss_limit_mb={RSS_LIMIT_MB}", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
    ]
    # A fixed hash seed keeps set and dict order, and so coverage feedback, the same every run.
    env = {**os.environ, "PYTHONHASHSEED": "0", **(extra_env or {})}
    # atheris prints the Python traceback on stdout and libFuzzer its report on stderr.
    process = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace",
                             timeout=PROCESS_BOUND_SECONDS, check=False)
    return process, sorted(artifacts.iterdir())


def libfuzzer_report(process: subprocess.CompletedProcess[str], crashes: list[Path]) -> str:
    """What a person needs to act on a failure: libFuzzer's report and the saved inputs."""
    lines = [line for line in process.stdout.splitlines()
             if not line.startswith("INFO: Instrumenting") and line.strip()]
    start = next((i for i, line in enumerate(lines)
                  if "Uncaught Python exception" in line or "ERROR: libFuzzer" in line), None)
    shown = lines[max(0, start - 5):] if start is not None else lines[-40:]
    written = re.findall(r"Test unit written to (\S+)", process.stdout)
    return "\n".join([
        f"exit status {process.returncode}",
        *shown[-120:],
        f"crashing input(s): {', '.join(map(str, crashes)) or ', '.join(written) or 'none saved'}",
    ])


@pytest.mark.parametrize("family", [family.name for family in FAMILIES])
def test_fuzzed_inputs_are_cleaned_and_verified_or_refused(family: str, tmp_path: Path) -> None:
    started = time.monotonic()
    process, crashes = fuzz(family, tmp_path)
    assert process.returncode == 0 and not crashes, libfuzzer_report(process, crashes)
    done = re.search(r"Done (\d+) runs", process.stdout)
    assert done and int(done.group(1)) >= RUNS, libfuzzer_report(process, crashes)
    print(f"{family}: {done.group(1)} runs in {time.monotonic() - started:.1f} s")


def test_harness_reports_a_crash_with_its_input(tmp_path: Path) -> None:
    """The harness can fail: a cleaner that raises on some input makes the run exit
    non-zero, name the exception, and save the input that did it."""
    process, crashes = fuzz("text-markdown-openpgp", tmp_path, runs=200,
                            extra_env={"PENNAME_FUZZ_SELF_CHECK": "1"})
    report = libfuzzer_report(process, crashes)
    assert process.returncode != 0, report
    assert "InjectedCrash" in report and len(crashes) == 1, report
    assert str(crashes[0]) in report

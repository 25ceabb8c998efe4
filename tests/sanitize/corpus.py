"""Where the mat2 test corpus lives: shared/corpus/mat2 beside the checkout.

Defined once here; the tests that read real-world samples import it.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mat2"

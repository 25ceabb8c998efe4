"""The kinds table and the code it names agree: every kind the cleaners accept has
a cleaner and a verifier that exist, a name, and an extension; refused kinds have
neither; and the places that once kept their own lists read this one."""

from __future__ import annotations

import importlib

import pytest

from portal.sanitize import core, filenames, kinds, messages, sniff, verify
from portal.sanitize.safecopy import render


@pytest.mark.parametrize("kind", sorted(kinds.CLEANABLE | kinds.PASS_THROUGH))
def test_every_accepted_kind_has_a_cleaner_a_verifier_a_name_and_an_extension(kind):
    entry = kinds.BY_NAME[kind]
    module, func = kinds.module_path(entry.cleaner)
    assert callable(getattr(importlib.import_module(module), func))
    assert entry.verifier, f"{kind} has no verifier"
    if entry.verifier == "stream":
        assert entry.streaming
        verify.StreamVerifier(kind)  # refuses a kind it has no check for
    else:
        module, func = kinds.module_path(entry.verifier)
        assert callable(getattr(importlib.import_module(module), func))
    assert entry.label and entry.extensions


def test_refused_kinds_have_no_cleaner_and_a_reason():
    for kind in kinds.REFUSED:
        assert not kinds.BY_NAME[kind].cleaner
    assert not kinds.REFUSED.keys() & (kinds.CLEANABLE | kinds.PASS_THROUGH)


def test_names_are_unique_and_claims_lead_to_one_kind():
    names = [kind.name for kind in kinds.KINDS]
    assert len(names) == len(set(names))
    extensions = [ext for kind in kinds.KINDS for ext in kind.extensions]
    assert len(extensions) == len(set(extensions))
    for ext, kind in kinds.BY_EXTENSION.items():
        assert sniff.claimed_kind(f"file.{ext}") == kind


def test_the_other_places_read_the_table():
    assert core.CLEANERS is kinds.CLEANERS
    assert sniff.CLEANABLE is kinds.CLEANABLE
    assert sniff.REFUSED_KINDS is kinds.REFUSED
    assert messages.KIND_NAMES is kinds.LABELS
    assert filenames.EXTENSIONS is kinds.FILE_EXTENSIONS
    assert render.RENDERABLE is kinds.RENDERABLE
    assert set(verify._VERIFIERS) == {
        name for name, target in kinds.VERIFIERS.items() if target != "stream"
    }

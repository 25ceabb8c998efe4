"""A backup's rows, loaded with the models of the schema they were dumped from.

`loaddata` builds rows with today's models: a backup made before a field was
added would be inserted with a column the restored schema (the backup's own,
older one) does not have yet, and the restore would fail. Here each row is
built with the historical model of the migrations the backup records, inserted
into that schema, and the newer migrations then carry the rows forward (data
migrations included), exactly as they carried the live database.

What loading does besides (as `loaddata` does): forward references between
rows are resolved at the end, foreign keys are checked once everything is in,
and the tables' sequences are moved past the restored ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.apps.registry import Apps
from django.core.management.color import no_style
from django.core.serializers import base, python
from django.db import connection
from django.db.migrations.loader import MigrationLoader


class _HistoricalDeserializer(python.Deserializer):
    """Django's deserializer, reading model names against a migration state's models."""

    # Set by Django's deserializer (not in its type stubs).
    using: str
    handle_forward_references: bool

    def __init__(self, objects: list[dict[str, Any]], *, models: Apps, **options: Any) -> None:
        super().__init__(objects, **options)
        self.models = models

    # Natural keys name Django's own rows (users, content types, permissions): their
    # tables do not change between our releases, and only today's managers know how
    # to find a row by its natural key (a historical User has no USERNAME_FIELD).
    def _natural(self, field: Any, value: list[Any]) -> Any:
        live = apps.get_model(field.remote_field.model._meta.label)
        try:
            return live._default_manager.db_manager(self.using).get_by_natural_key(*value).pk
        except live.DoesNotExist:
            if self.handle_forward_references:
                return base.DEFER_FIELD
            raise

    def _handle_fk_field_node(self, field: Any, field_value: Any) -> Any:
        if isinstance(field_value, list):
            return self._natural(field, field_value)
        return super()._handle_fk_field_node(field, field_value)  # type: ignore[misc]

    def _handle_m2m_field_node(self, field: Any, field_value: Any) -> Any:
        if field_value and all(isinstance(value, list) for value in field_value):
            keys = [self._natural(field, value) for value in field_value]
            return base.DEFER_FIELD if base.DEFER_FIELD in keys else keys
        return super()._handle_m2m_field_node(field, field_value)  # type: ignore[misc]

    def _get_model_from_node(self, model_identifier: str) -> Any:  # type: ignore[override]
        try:
            return self.models.get_model(model_identifier)
        except (LookupError, TypeError, ValueError):
            raise base.DeserializationError(
                f"Invalid model identifier: {model_identifier}") from None


def models_at(nodes: Iterable[tuple[str, str]]) -> Apps:
    """The models as they were once the migrations `nodes` (and what they need) had run."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return loader.project_state(list(nodes), at_end=True).apps


def load_rows(database: bytes, models: Apps) -> None:
    """Insert the dumped rows (`dumpdata` JSON) with `models`; nothing else changes."""
    objects = json.loads(database)
    if not objects:
        return
    loaded: set[Any] = set()
    deferred = []
    with connection.constraint_checks_disabled():
        for row in _HistoricalDeserializer(objects, models=models,
                                           handle_forward_references=True):
            row.save()
            loaded.add(type(row.object))
            if row.deferred_fields:
                deferred.append(row)
        for row in deferred:
            row.save_deferred_fields()
    connection.check_constraints(table_names=[model._meta.db_table for model in loaded])
    statements = connection.ops.sequence_reset_sql(no_style(), list(loaded))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

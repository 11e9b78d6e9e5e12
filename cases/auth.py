"""The portal's sign-in backend."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.db.models.query import get_related_populators
from django_otp.models import Device

# The second factor the session says verified it (django_otp's persistent id, such as
# "otp_totp.totpdevice/12"), set by security.middleware.SignedInMiddleware while it loads the
# user, so that whether that device still stands is read in the same query (issue 18 point 5).
SESSION_DEVICE: ContextVar[str | None] = ContextVar("session_device", default=None)


def session_device(persistent_id: str | None) -> tuple[type[Device], int] | None:
    """The device model and primary key a django_otp persistent id names; None for no id or an
    id that names no device model."""
    if not persistent_id:
        return None
    label, _, pk = persistent_id.rpartition("/")
    if label.count(".") > 1:  # django_otp's legacy form, the full import path
        parts = label.split(".")
        label = f"{parts[-3]}.{parts[-1]}"
    try:
        # scoped-lookup: allowed (only a django_otp device model is used, checked below)
        model = apps.get_model(label)
        pk = int(pk)
    except (LookupError, ValueError):
        return None
    if not issubclass(model, Device):
        return None
    return model, pk


# Stand-ins for the user's and the device's ids in the compiled query, swapped for the real ones
# at each run: no real primary key is negative, and these fit even a 32-bit column (an id out of
# its column's range would compile to no query at all).
_USER_ID = -2_147_480_017
_DEVICE_ID = -2_147_480_023


@dataclass(frozen=True)
class _CompiledUserQuery:
    sql: str
    params: tuple
    user_id_at: tuple[int, ...]
    device_id_at: tuple[int, ...]
    user_columns: slice
    user_attnames: tuple[str, ...]
    annotations: tuple[tuple[str, int], ...]
    related: tuple
    converters: tuple


@functools.cache
def _compiled_user_query(alias: str, device_model: type[Device] | None) -> _CompiledUserQuery:
    """The user with their person and, given a device model, whether the session's device is a
    confirmed device of theirs: built with the ORM and compiled once per database and device
    model. Compiling it took longer than PostgreSQL took to answer it (about 0.5 ms against
    0.1), on every request; what the ORM needs to turn the row into the user and their person
    (columns, converters, the person's populator) is kept from the same compilation."""
    users = get_user_model()._default_manager.using(alias).select_related("person")
    if device_model is not None:
        mine = device_model._default_manager.filter(
            pk=_DEVICE_ID, user=OuterRef("pk"), confirmed=True
        )
        users = users.annotate(second_factor_stands=Exists(mine))
    compiler = users.filter(pk=_USER_ID).query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    user_id_at = tuple(i for i, p in enumerate(params) if p == _USER_ID)
    device_id_at = tuple(i for i, p in enumerate(params) if p == _DEVICE_ID)
    if len(user_id_at) != 1 or len(device_id_at) != (device_model is not None):
        raise AssertionError(f"The signed-in user's query did not compile as expected: {sql}")
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    columns = slice(fields[0], fields[-1] + 1)
    return _CompiledUserQuery(
        sql=sql,
        params=tuple(params),
        user_id_at=user_id_at,
        device_id_at=device_id_at,
        user_columns=columns,
        user_attnames=tuple(s[0].target.attname for s in select[columns]),
        annotations=tuple(compiler.annotation_col_map.items()),
        related=tuple(get_related_populators(klass_info, select, alias)),
        # Each converter depends on the backend and the settings only, alike for every
        # connection to this database.
        converters=tuple(compiler.get_converters([s[0] for s in select]).items()),
    )


def signed_in_user(user_id, persistent_id: str | None):
    """The user with this id, their person joined and, if the session names a second-factor
    device, `second_factor_stands`: whether it is a confirmed device of theirs (False for a name
    that is no device's). One query, compiled once; None if there is no such user."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    device = session_device(persistent_id)
    query = _compiled_user_query(alias, device[0] if device else None)
    connection = connections[alias]
    pk = user_model._meta.pk
    params = list(query.params)
    params[query.user_id_at[0]] = pk.get_db_prep_value(pk.to_python(user_id), connection)
    if device:
        params[query.device_id_at[0]] = device[1]
    with connection.cursor() as cursor:
        cursor.execute(query.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for at, (converters, expression) in query.converters:
        for convert in converters:
            row[at] = convert(row[at], expression, connection)
    user = user_model.from_db(alias, query.user_attnames, row[query.user_columns])
    for populator in query.related:
        populator.populate(row, user)
    for name, at in query.annotations:
        setattr(user, name, row[at])
    if persistent_id and device is None:
        user.second_factor_stands = False  # the session names something that is no device
    return user


class PortalBackend(ModelBackend):
    """Django's ModelBackend, loading the user's Person in the same query: every signed-in page
    needs both, and this is the query that runs on every request. Whether the session's second
    factor still stands is read in it too (SESSION_DEVICE): `second_factor_stands`."""

    def get_user(self, user_id):
        user = signed_in_user(user_id, SESSION_DEVICE.get())
        if user is None or not self.user_can_authenticate(user):
            return None
        user.person_loaded_with_user = True  # cases.people.person_for reads it
        return user

"""Typed Backend API resources, built from Clerk's snake_case wire JSON.

Timestamps on the wire are milliseconds since the epoch; each is also exposed as an aware
``datetime`` (``*_datetime``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Clerk's M2M and API-key timestamps are milliseconds; its OAuth verify examples are seconds.
# Nothing in the next 3,000 years is 10**11 seconds, nothing since 1973 is 10**11 milliseconds.
_MS_THRESHOLD = 10**11


def epoch_seconds(value: int | None) -> float | None:
    """A Clerk timestamp (milliseconds, or seconds for some OAuth answers) in seconds."""
    if value is None:
        return None
    return value / 1000 if abs(value) >= _MS_THRESHOLD else float(value)


def ms_to_datetime(value: int | None) -> datetime | None:
    seconds = epoch_seconds(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


class _Timestamped(BaseModel):
    """Clerk's ``created_at``/``updated_at`` (milliseconds), and as datetimes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    created_at: int | None = None
    updated_at: int | None = None

    @property
    def created_at_datetime(self) -> datetime | None:
        return ms_to_datetime(self.created_at)

    @property
    def updated_at_datetime(self) -> datetime | None:
        return ms_to_datetime(self.updated_at)


class Resource(_Timestamped):
    object: str | None = None
    id: str
    subject: str
    scopes: list[str] = Field(default_factory=list)
    claims: dict[str, Any] | None = None
    revoked: bool = False
    revocation_reason: str | None = None
    expired: bool = False
    expiration: int | None = None
    last_used_at: int | None = None

    @field_validator("scopes", mode="before")
    @classmethod
    def _null_scopes(cls, value: Any) -> Any:
        # Clerk may answer ``"scopes": null``; principal lists are always lists.
        return [] if value is None else value

    @field_validator("revoked", "expired", mode="before")
    @classmethod
    def _null_flags(cls, value: Any) -> Any:
        # A null flag is an unset one (the field's default), not an unusable answer.
        return False if value is None else value

    @property
    def expiration_datetime(self) -> datetime | None:
        return ms_to_datetime(self.expiration)

    @property
    def last_used_at_datetime(self) -> datetime | None:
        return ms_to_datetime(self.last_used_at)


class M2MToken(Resource):
    """``object: machine_to_machine_token``. ``token`` is present only when just created."""

    token: str | None = Field(None, repr=False)


class APIKey(Resource):
    """``object: api_key``. ``secret`` is present only when just created."""

    type: str | None = None
    name: str | None = None
    created_by: str | None = None
    description: str | None = None
    secret: str | None = Field(None, repr=False)


class OAuthAccessToken(Resource):
    """``object: clerk_idp_oauth_access_token``.

    ``aud`` is the audience (the resources the token was issued for), when Clerk set one.
    """

    client_id: str = ""
    type: str | None = None
    aud: list[str] | None = None

    @field_validator("aud", mode="before")
    @classmethod
    def _aud_list(cls, value: Any) -> Any:
        # Clerk's ``fromJSON`` normalises a string ``aud`` to a one-element list.
        if isinstance(value, str):
            return [value] if value else None
        return value


class APIKeySecret(BaseModel):
    """``GET /api_keys/{id}/secret``: an API key's secret, shown again on request."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    secret: str = Field(repr=False)


class DeletedObject(BaseModel):
    """What a ``DELETE`` answers (``machines.delete``, ``api_keys.delete``).

    Unlike Clerk's JS SDK, which types the machine answer as a ``Machine``, the id is kept.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    object: str | None = None
    id: str | None = None
    slug: str | None = None
    deleted: bool = True


# -- machines (``/v1/machines``) ---------------------------------------------------------------


class Machine(_Timestamped):
    """``object: machine``: one of your services, as Clerk knows it.

    ``scoped_machines`` are the machines it may call (its M2M tokens carry their ids as
    ``scopes``); nested ones have no ``scoped_machines`` of their own. ``secret_key`` is present
    only in the answer to ``create``; later, ``machines.get_secret_key`` reads it.
    """

    object: str | None = None
    id: str
    name: str
    instance_id: str | None = None
    default_token_ttl: int | None = None
    scoped_machines: list[Machine] = Field(default_factory=list)
    secret_key: str | None = Field(None, repr=False)

    @field_validator("scoped_machines", mode="before")
    @classmethod
    def _null_scoped(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def scoped_machine_ids(self) -> list[str]:
        return [machine.id for machine in self.scoped_machines]


class MachineScope(BaseModel):
    """``object: machine_scope``: ``from_machine_id`` may call ``to_machine_id``.

    The answer to ``delete_scope`` is one too, with ``deleted=True``: the machine ids are kept
    (Clerk's JS SDK turns that answer into a ``DeletedObject`` and loses them).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    object: str | None = None
    from_machine_id: str
    to_machine_id: str
    created_at: int | None = None
    deleted: bool = False


class MachineSecretKey(BaseModel):
    """``object: machine_secret_key``: a machine's secret key (``ak_...``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    object: str | None = None
    secret: str = Field(repr=False)


R = TypeVar("R", bound=BaseModel)


class Page(BaseModel, Generic[R]):
    """One page of a list call."""

    model_config = ConfigDict(frozen=True)

    data: list[R]
    total_count: int

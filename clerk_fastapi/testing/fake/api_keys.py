"""The fake's API-key endpoints: the whole API-key API of Clerk's Backend API (create, list,
get, update, delete, read the secret, revoke; verify lives with the other verify endpoints).

Validation follows Clerk's OpenAPI spec: ``subject`` matches ``^(user|org|mch|scim)_\\w{27}$``,
``name`` has at least 3 characters and no surrounding spaces, ``created_by`` is a user id,
``description`` at most 255 characters, ``seconds_until_expiration`` a positive number, ids
``^(ak|api_key)_[0-9A-Fa-f]{32}$``; a refused parameter is a 400 with Clerk's ``form_param_*``
code, an unknown id a 404. Create answers 201 (the spec says 200, the Python SDK accepts only
201, the JS SDK any 2xx: docs/testing.md, "The fake and Clerk's wire").
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clerk_fastapi.testing.fake._common import (
    API_KEY_ID,
    API_KEY_SUBJECT,
    USER_ID,
    Record,
    bad_lifetime,
    bad_param,
    missing_param,
    not_found,
    number,
    page,
    query_bool,
    random_text,
    unknown_params,
)
from clerk_fastapi.testing.fake.minting import Minting

_CREATE_FIELDS = {
    "type",
    "name",
    "description",
    "subject",
    "claims",
    "scopes",
    "created_by",
    "seconds_until_expiration",
}
_UPDATE_FIELDS = {"claims", "scopes", "description", "subject", "seconds_until_expiration"}
_NAME = re.compile(r"\S(.*\S)?", re.DOTALL)


def _check_common(body: dict[str, Any]) -> Response | None:
    """The fields create and update share, as the spec types them."""
    subject = body.get("subject")
    if "subject" in body and (
        not isinstance(subject, str) or API_KEY_SUBJECT.fullmatch(subject) is None
    ):
        return bad_param("subject", "must be a user, organization or machine id")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        return bad_param("description", "must be at most 255 characters")
    scopes = body.get("scopes")
    if scopes is not None and (
        not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)
    ):
        return bad_param("scopes", "must be a list of strings")
    seconds = body.get("seconds_until_expiration")
    if bad_lifetime(seconds):
        return bad_param("seconds_until_expiration", "must be a positive number")
    claims = body.get("claims")
    if claims is not None and not isinstance(claims, dict):
        return bad_param("claims", "must be an object")
    return None


class APIKeyEndpoints(Minting):
    """``/api_keys`` (mixed into ``FakeClerk``; instance secret key)."""

    def _expiration_ms(self, seconds: Any) -> int | None:
        parsed = number(seconds)
        return None if parsed is None else self._now_ms() + int(parsed * 1000)

    def _api_key_json(self, record: Record) -> dict[str, Any]:
        """A key as the API answers it: ``expired`` as of now, never the secret."""
        resource = record.resource
        expiration = resource.get("expiration")
        expired = expiration is not None and expiration <= self.clock() * 1000
        return {**resource, "expired": expired}

    def _api_key_record(self, request: Request) -> tuple[str, Record] | Response:
        key_id = request.path_params["token_id"]
        if API_KEY_ID.fullmatch(key_id) is None:
            return bad_param("apiKeyID", "is not a valid API key id")
        token = self._by_id.get(key_id)
        record = self._store.get(token) if token is not None else None
        if token is None or record is None or record.kind != "api_key":
            return not_found("API key not found")
        return token, record

    async def _api_key_create(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            return missing_param("name")
        refused = unknown_params(body, _CREATE_FIELDS) or _check_common(body)
        if refused is not None:
            return refused
        for required in ("name", "subject"):
            if body.get(required) is None:
                return missing_param(required)
        name = body["name"]
        if not isinstance(name, str) or len(name) < 3 or _NAME.fullmatch(name) is None:
            return bad_param("name", "must be at least 3 characters, without surrounding spaces")
        created_by = body.get("created_by")
        if created_by is not None and (
            not isinstance(created_by, str) or USER_ID.fullmatch(created_by) is None
        ):
            return bad_param("created_by", "must be a user id")
        key_type = body.get("type", "api_key")
        if not isinstance(key_type, str) or not 3 <= len(key_type) <= 25:
            return bad_param("type", "must be 3 to 25 characters")
        resource = self._api_key_resource(
            body["subject"],
            body.get("scopes"),
            name,
            body.get("claims"),
            body.get("description"),
            self._now(),
            None,
        )
        now_ms = self._now_ms()
        resource.update(
            type=key_type,
            created_at=now_ms,
            updated_at=now_ms,
            expiration=self._expiration_ms(body.get("seconds_until_expiration")),
        )
        if "created_by" in body:
            resource["created_by"] = created_by
        token = "ak_" + random_text(40)
        self._remember(token, Record("api_key", resource))
        return JSONResponse({**resource, "secret": token}, status_code=201)

    async def _api_key_list(self, request: Request, body: Any) -> Response:
        params = request.query_params
        subject = params.get("subject")
        if not subject:
            return missing_param("subject")
        if API_KEY_SUBJECT.fullmatch(subject) is None:
            return bad_param("subject", "must be a user, organization or machine id")
        invalid = query_bool(request, "include_invalid")
        if isinstance(invalid, Response):
            return invalid
        key_type = params.get("type") or "api_key"
        text = (params.get("query") or "").lower()
        records = [
            record
            for record in self._store.values()
            if record.kind == "api_key"
            and record.resource.get("subject") == subject
            and record.resource.get("type", "api_key") == key_type
            and (not text or text in str(record.resource.get("name", "")).lower())
        ]
        listed = [self._api_key_json(record) for record in self._newest_first(records)]
        if not invalid:
            listed = [item for item in listed if not item["revoked"] and not item["expired"]]
        picked = page(listed, request)
        if isinstance(picked, Response):
            return picked
        return JSONResponse({"data": picked, "total_count": len(listed)})

    async def _api_key_get(self, request: Request, body: Any) -> Response:
        found = self._api_key_record(request)
        if isinstance(found, Response):
            return found
        return JSONResponse(self._api_key_json(found[1]))

    async def _api_key_update(self, request: Request, body: Any) -> Response:
        found = self._api_key_record(request)
        if isinstance(found, Response):
            return found
        body = body if isinstance(body, dict) else {}
        refused = unknown_params(body, _UPDATE_FIELDS) or _check_common(body)
        if refused is not None:
            return refused
        resource = found[1].resource
        for name in ("claims", "scopes", "description", "subject"):
            if name in body:
                resource[name] = body[name] if name != "scopes" else list(body[name] or [])
        if "seconds_until_expiration" in body:
            resource["expiration"] = self._expiration_ms(body["seconds_until_expiration"])
        resource["updated_at"] = self._now_ms()
        return JSONResponse(self._api_key_json(found[1]))

    async def _api_key_delete(self, request: Request, body: Any) -> Response:
        found = self._api_key_record(request)
        if isinstance(found, Response):
            return found
        token, record = found
        del self._store[token]
        self._by_id.pop(record.resource["id"], None)
        return JSONResponse({"object": "api_key", "id": record.resource["id"], "deleted": True})

    async def _api_key_secret(self, request: Request, body: Any) -> Response:
        found = self._api_key_record(request)
        if isinstance(found, Response):
            return found
        return JSONResponse({"secret": found[0]})

    def _newest_first(self, records: list[Record]) -> list[Record]:
        """Clerk lists newest first; the creation order breaks ties within one millisecond."""
        return sorted(
            records, key=lambda r: (r.resource.get("created_at") or 0, r.seq), reverse=True
        )

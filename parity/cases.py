"""The auth cases: each one a request (method, URL, headers), an ``acceptsToken`` form and a
configuration, built from the token corpus."""

from __future__ import annotations

from typing import Any

import cookie_cases
from common import (
    APP_ORIGIN,
    AUDIENCE,
    FAULT_SCENARIOS,
    NOW,
    OTHER_ISSUER,
    URL,
    cookie_suffix,
    live_publishable_key,
)
from corpus import Corpus

from clerk_fastapi.testing import FakeClerk, SigningKey

ACCEPTS_FORMS: list[Any] = [
    None,  # omitted: Clerk's default, session_token
    "session_token",
    "any",
    "oauth_token",
    "m2m_token",
    "api_key",
    "machine_token",
    ["session_token"],
    ["oauth_token", "m2m_token", "api_key"],
    ["session_token", "oauth_token"],
    ["session_token", "m2m_token", "api_key"],
    ["api_key"],
]

# Clerk's auth-object field -> clerk-fastapi's principal field, per token type.


class Cases:
    def __init__(self, fake: FakeClerk, corpus: Corpus) -> None:
        self.fake = fake
        self.corpus = corpus
        self.items: list[dict[str, Any]] = []
        self.live_pk = live_publishable_key(fake.frontend_api)
        self.test_pk = fake.publishable_key
        self.suffix = cookie_suffix(self.live_pk)
        self.pem = fake.signing_key.public_pem()
        self.other_pem = SigningKey.generate("other", pool_index=13).public_pem()

    def add(
        self,
        desc: str,
        *,
        token_name: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        accepts: Any = "session_token",
        method: str = "GET",
        config: dict[str, Any] | None = None,
        fixture: dict[str, Any] | None = None,
        url: str = URL,
    ) -> None:
        cfg = {"publishable_key": "live", **(config or {})}
        fix = dict(fixture or {})
        tokens = list(fix.pop("extra_tokens", []))
        if token_name is not None:
            token, _, base = self.corpus.tokens[token_name]
            fix = {**base, **fix}
            tokens.append(token)
        all_headers = [("accept", "application/json"), *(headers or [])]
        self.items.append(
            {
                "id": f"c{len(self.items) + 1:04d}",
                "desc": desc,
                "now": NOW,
                "accepts": accepts,
                "config": cfg,
                "request": {"method": method, "url": url, "headers": all_headers},
                "fixture": fix,
                "tokens": tokens,
            }
        )

    def bearer(self, name: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.corpus.tokens[name][0]}")]

    def build(self) -> list[dict[str, Any]]:
        self.header_matrix()
        self.config_variants()
        self.header_forms()
        self.methods_and_handshake()
        cookie_cases.cookies(self)
        self.backend_faults()
        self.machine_secret_keys()
        cookie_cases.cookie_config_variants(self)
        self.query_parameters()
        return self.items

    def query_parameters(self) -> None:
        t = self.corpus.tokens
        cookie = f"__session={t['s_valid'][0]}; __client_uat={NOW - 30}"
        for label, query, config in (
            ("token in query, no header", f"?__session={t['s_valid'][0]}", {}),
            (
                "__clerk_db_jwt in query (dev)",
                "?__clerk_db_jwt=dvb_parity",
                {"publishable_key": "test"},
            ),
            ("__clerk_synced=true", "?__clerk_synced=true", {}),
            (
                "__clerk_redirect_url (dev)",
                "?__clerk_redirect_url=https%3A%2F%2Fapp.test%2F",
                {"publishable_key": "test"},
            ),
        ):
            for headers in ([], [("cookie", cookie)]):
                carrier = "cookie" if headers else "no cookie"
                self.add(
                    f"query {label}, {carrier}",
                    token_name="s_valid",
                    headers=headers,
                    accepts=None,
                    config=config,
                    url=URL + query,
                )

    def backend_faults(self) -> None:
        jwts = ["s_valid", "o_valid", "m_valid"]
        opaque = ["oat_valid", "mt_valid", "ak_user"]
        for backend in [*FAULT_SCENARIOS, "closed"]:
            names = jwts if backend.startswith("jwks") else opaque
            if backend == "closed":
                names = ["s_valid", "o_valid", "m_valid", *opaque]
            for name in names:
                kind = self.corpus.tokens[name][1]
                for accepts in ("any", kind):
                    self.add(
                        f"backend {backend} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config={"backend": backend},
                    )
        # A cookie session while the JWKS fails.
        cookie = f"__session={self.corpus.tokens['s_valid'][0]}; __client_uat={NOW - 30}"
        for backend in ("jwks_500", "jwks_empty", "closed"):
            self.add(
                f"backend {backend} cookie s_valid",
                token_name="s_valid",
                headers=[("cookie", cookie)],
                accepts=None,
                config={"backend": backend},
            )

    def machine_secret_keys(self) -> None:
        for msk in ("good", "wrong"):
            for name in ("mt_valid", "mt_unknown", "m_valid", "ak_user", "oat_valid", "s_valid"):
                for accepts in ("m2m_token", "any", ["m2m_token", "api_key"]):
                    self.add(
                        f"machine_secret_key={msk} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config={"machine_secret_key": msk},
                    )
            self.add(
                f"machine_secret_key={msk} no token accepts='m2m_token'",
                accepts="m2m_token",
                config={"machine_secret_key": msk},
            )

    def header_matrix(self) -> None:
        for name in self.corpus.tokens:
            for accepts in ACCEPTS_FORMS:
                self.add(
                    f"header {name} accepts={accepts!r}",
                    token_name=name,
                    headers=self.bearer(name),
                    accepts=accepts,
                )

    def config_variants(self) -> None:
        pem_tokens = [n for n in self.corpus.tokens if n[:2] in ("s_", "o_", "m_")]
        variants: list[tuple[str, dict[str, Any], list[str]]] = [
            (
                "authorized_parties=[app]",
                {"authorized_parties": [APP_ORIGIN]},
                [n for n in self.corpus.tokens if n[:2] in ("s_", "o_", "m_")],
            ),
            (
                "authorized_parties=[other]",
                {"authorized_parties": ["https://other.test"]},
                [
                    "s_valid",
                    "s_azp_missing",
                    "s_azp_foreign",
                    "s_expired",
                    "o_valid",
                    "o_azp_foreign",
                    "m_valid",
                    "m_azp_foreign",
                    "ak_user",
                    "mt_valid",
                ],
            ),
            (
                "audience",
                {"audience": [AUDIENCE]},
                [
                    n
                    for n in self.corpus.tokens
                    if n[:2] in ("s_", "o_", "m_") or n.startswith("oat_")
                ]
                + ["ak_user", "mt_valid"],
            ),
            (
                "issuer=fake",
                {"issuer": self.fake.issuer},
                [n for n in self.corpus.tokens if n.startswith(("s_", "o_valid", "m_valid"))],
            ),
            (
                "issuer=other",
                {"issuer": OTHER_ISSUER},
                [
                    "s_valid",
                    "s_iss_other",
                    "s_iss_missing",
                    "s_iss_trailing_slash",
                    "s_expired",
                    "o_valid",
                    "o_iss_other",
                    "m_valid",
                    "m_iss_other",
                    "ak_user",
                ],
            ),
            ("jwt_key=pem", {"jwt_key": "pem"}, pem_tokens),
            (
                "jwt_key=other-pem",
                {"jwt_key": "other_pem"},
                ["s_valid", "s_kid_unknown", "s_expired", "o_valid", "m_valid", "ak_user"],
            ),
            (
                "secret_key=wrong",
                {"secret_key": "wrong"},
                [
                    "s_valid",
                    "s_kid_unknown",
                    "o_valid",
                    "m_valid",
                    "oat_valid",
                    "mt_valid",
                    "ak_user",
                ],
            ),
        ]
        for label, config, names in variants:
            for name in names:
                kind = self.corpus.tokens[name][1]
                for accepts in ("any", kind):
                    self.add(
                        f"header {name} {label} accepts={accepts!r}",
                        token_name=name,
                        headers=self.bearer(name),
                        accepts=accepts,
                        config=config,
                    )

    def header_forms(self) -> None:
        for name, accepts_list in (
            ("s_valid", [None, "any", ["session_token", "api_key"]]),
            ("ak_user", ["api_key", "any"]),
            ("m_valid", ["m2m_token", "any"]),
        ):
            token = self.corpus.tokens[name][0]
            other = self.corpus.tokens["ak_org"][0]
            forms: list[tuple[str, list[tuple[str, str]], list[str]]] = [
                ("Bearer <t>", [("authorization", f"Bearer {token}")], []),
                ("bearer <t>", [("authorization", f"bearer {token}")], []),
                ("BEARER <t>", [("authorization", f"BEARER {token}")], []),
                ("<t> alone", [("authorization", token)], []),
                ("Bearer  <t> (two spaces)", [("authorization", f"Bearer  {token}")], []),
                ("Bearer <t> junk", [("authorization", f"Bearer {token} junk")], []),
                ("Bearer <t> <t2>", [("authorization", f"Bearer {token} {other}")], [other]),
                ("Bearer <t>, trailing space", [("authorization", f"Bearer {token} ")], []),
                ("Bearer\\t<t>", [("authorization", f"Bearer\t{token}")], []),
                ("Bearer (bare)", [("authorization", "Bearer")], []),
                ("Bearer + space", [("authorization", "Bearer ")], []),
                ("empty header", [("authorization", "")], []),
                ("Basic creds", [("authorization", "Basic dXNlcjpwYXNz")], []),
                ("Token <t>", [("authorization", f"Token {token}")], []),
                (
                    "two headers <t>, <t2>",
                    [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {other}")],
                    [other],
                ),
                (
                    "two identical headers",
                    [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")],
                    [],
                ),
                ("Bearer <t>,", [("authorization", f"Bearer {token},")], []),
                ('Bearer "<t>"', [("authorization", f'Bearer "{token}"')], []),
            ]
            for label, headers, extra in forms:
                for accepts in accepts_list:
                    self.add(
                        f"header form {label} [{name}] accepts={accepts!r}",
                        token_name=name,
                        headers=headers,
                        accepts=accepts,
                        fixture={"extra_tokens": extra},
                    )

    def methods_and_handshake(self) -> None:
        refresh = f"__refresh_{self.suffix}=refresh_token_value"
        html = [("accept", "text/html,application/xhtml+xml")]
        doc = [("sec-fetch-dest", "document")]
        for name in ("s_expired", "s_nbf_future", "s_iat_future", "s_valid", "s_bad_signature_key"):
            variants: list[tuple[str, str, list[tuple[str, str]]]] = [
                ("POST", "POST", []),
                ("PUT", "PUT", []),
                ("GET text/html", "GET", html),
                ("GET sec-fetch-dest=document", "GET", doc),
                (
                    "GET sec-fetch-dest=empty + text/html",
                    "GET",
                    [*html, ("sec-fetch-dest", "empty")],
                ),
                (
                    "GET document, redirect count 3",
                    "GET",
                    [*doc, ("cookie", "__clerk_redirect_count=3")],
                ),
                ("GET __refresh cookie", "GET", [("cookie", refresh)]),
                ("POST __refresh cookie", "POST", [("cookie", refresh)]),
            ]
            for label, method, extra in variants:
                for accepts in ("session_token", "any"):
                    self.add(
                        f"method {label} header {name} accepts={accepts!r}",
                        token_name=name,
                        headers=[*self.bearer(name), *extra],
                        accepts=accepts,
                        method=method,
                    )

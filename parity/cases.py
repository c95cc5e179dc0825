"""The auth cases: each one a request (method, URL, headers), an ``acceptsToken`` form and a
configuration, built from the token corpus."""

from __future__ import annotations

from typing import Any

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
        self.cookies()
        self.backend_faults()
        self.machine_secret_keys()
        self.cookie_config_variants()
        self.query_parameters()
        return self.items

    def cookie_config_variants(self) -> None:
        t = self.corpus.tokens
        configs: list[tuple[str, dict[str, Any]]] = [
            ("authorized_parties=[app]", {"authorized_parties": [APP_ORIGIN]}),
            ("authorized_parties=[other]", {"authorized_parties": ["https://other.test"]}),
            ("audience", {"audience": [AUDIENCE]}),
            ("issuer=fake", {"issuer": self.fake.issuer}),
            ("issuer=other", {"issuer": OTHER_ISSUER}),
            ("jwt_key=pem", {"jwt_key": "pem"}),
            ("jwt_key=other-pem", {"jwt_key": "other_pem"}),
            ("secret_key=wrong", {"secret_key": "wrong"}),
        ]
        names = [
            "s_valid",
            "s_azp_missing",
            "s_azp_foreign",
            "s_aud_match",
            "s_aud_other",
            "s_iss_missing",
            "s_expired",
            "s_kid_unknown",
        ]
        for label, config in configs:
            for name in names:
                cookie = f"__session={t[name][0]}; __client_uat={NOW - 30}"
                for accepts in (None, "any"):
                    self.add(
                        f"cookie {name} + uat {label} accepts={accepts!r}",
                        token_name=name,
                        headers=[("cookie", cookie)],
                        accepts=accepts,
                        config=config,
                    )

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

    def cookies(self) -> None:
        t = self.corpus.tokens
        sfx = self.suffix
        uat_ok = str(NOW - 30)
        session_accepts: list[Any] = [
            None,
            "any",
            ["session_token", "api_key"],
            ["api_key"],
            "api_key",
            "machine_token",
        ]
        plain: list[tuple[str, str, str | None]] = [
            ("no cookies", "", None),
            ("__session + uat", f"__session={t['s_valid'][0]}; __client_uat={uat_ok}", "s_valid"),
            ("__session, no uat", f"__session={t['s_valid'][0]}", "s_valid"),
            ("__session + uat=0", f"__session={t['s_valid'][0]}; __client_uat=0", "s_valid"),
            ("__session + uat junk", f"__session={t['s_valid'][0]}; __client_uat=abc", "s_valid"),
            (
                "__session + uat 123abc",
                f"__session={t['s_valid'][0]}; __client_uat=123abc",
                "s_valid",
            ),
            ("__session + empty uat", f"__session={t['s_valid'][0]}; __client_uat=", "s_valid"),
            ("uat only", f"__client_uat={uat_ok}", None),
            ("uat=0 only", "__client_uat=0", None),
            (
                "uat later than iat",
                f"__session={t['s_valid'][0]}; __client_uat={NOW + 30}",
                "s_valid",
            ),
            ("uat equal to iat", f"__session={t['s_valid'][0]}; __client_uat={NOW}", "s_valid"),
            (
                "uat later, token without iat",
                f"__session={t['s_minimal'][0]}; __client_uat={NOW + 30}",
                "s_minimal",
            ),
            ("empty __session + uat", f"__session=; __client_uat={uat_ok}", None),
            # Number.parseInt with no radix: 0x is hexadecimal, a sign may precede it.
            *(
                (
                    f"__session + uat {uat}",
                    f"__session={t['s_valid'][0]}; __client_uat={uat}",
                    "s_valid",
                )
                for uat in ("0x10", "+0X1f", "-0x10", f"0x{NOW + 30:x}", "0x", "-5", "1e3", "0b1")
            ),
        ]
        uat_old = str(NOW - 200)  # before every token's iat: the cookie checks pass
        for name in (
            "s_expired",
            "s_expired_in_skew",
            "s_nbf_future",
            "s_iat_future",
            "s_bad_signature_key",
            "s_kid_unknown",
            "s_alg_rs384",
            "s_azp_missing",
        ):
            cookie = f"__session={t[name][0]}; __client_uat={uat_old}"
            plain.append((f"__session={name} + older uat", cookie, name))
        for name in (
            "s_pending",
            "s_valid_v1",
            "s_expired",
            "s_nbf_future",
            "s_iat_future",
            "s_bad_signature_key",
            "s_alg_hs256",
            "s_kid_unknown",
            "s_cat_template",
            "s_cat_m2m",
            "s_cat_unknown",
            "s_cat_ignore",
            "s_azp_missing",
            "s_sub_empty",
            "s_typ_lower",
            "s_iss_other",
            "s_iss_missing",
            "m_valid",
            "o_valid",
            "ak_user",
            "mt_valid",
            "oat_valid",
            "x_word",
            "x_three_dots",
            "s_exp_missing",
        ):
            cookie = f"__session={t[name][0]}; __client_uat={uat_ok}"
            plain.append((f"__session={name} + uat", cookie, name))
        good, bad = t["s_valid"][0], t["s_bad_signature_key"][0]
        plain += [
            (
                "two __session good,bad",
                f"__session={good}; __session={bad}; __client_uat={uat_ok}",
                "s_valid",
            ),
            (
                "two __session bad,good",
                f"__session={bad}; __session={good}; __client_uat={uat_ok}",
                "s_bad_signature_key",
            ),
            (
                "two __session identical",
                f"__session={good}; __session={good}; __client_uat={uat_ok}",
                "s_valid",
            ),
            ("quoted __session", f'__session="{good}"; __client_uat={uat_ok}', "s_valid"),
            ("spaces around", f" __session = {good} ;  __client_uat = {uat_ok} ", "s_valid"),
            ("suffixed only", f"__session_{sfx}={good}; __client_uat_{sfx}={uat_ok}", "s_valid"),
            (
                "suffixed session, plain uat",
                f"__session_{sfx}={good}; __client_uat={uat_ok}",
                "s_valid",
            ),
            ("suffixed session, no uat", f"__session_{sfx}={good}", "s_valid"),
            (
                "plain bad + suffixed good",
                f"__session={bad}; __client_uat={uat_ok}; __session_{sfx}={good}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "plain good + suffixed bad",
                f"__session={good}; __client_uat={uat_ok}; __session_{sfx}={bad}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "plain foreign iss + suffixed good",
                f"__session={t['s_iss_other'][0]}; __client_uat={uat_ok}; __session_{sfx}={good}; "
                f"__client_uat_{sfx}={uat_ok}",
                "s_valid",
            ),
            (
                "suffixed uat=0, plain good",
                f"__session={good}; __client_uat={uat_ok}; __session_{sfx}={bad}; "
                f"__client_uat_{sfx}=0",
                "s_valid",
            ),
            ("wrong suffix", f"__session_zzzzzzzz={good}; __client_uat_zzzzzzzz={uat_ok}", None),
            # Rule 4: both UATs set and the plain session is newer -> plain; else suffixed.
            (
                "plain newer + suffixed older",
                f"__session={good}; __client_uat={uat_old}; "
                f"__session_{sfx}={t['s_expired_in_skew'][0]}; __client_uat_{sfx}={uat_old}",
                "s_valid",
            ),
            (
                "plain older + suffixed newer",
                f"__session={t['s_expired_in_skew'][0]}; __client_uat={uat_old}; "
                f"__session_{sfx}={good}; __client_uat_{sfx}={uat_old}",
                "s_valid",
            ),
        ]
        for label, cookie, token_name in plain:
            headers = [("cookie", cookie)] if cookie else []
            for accepts in session_accepts:
                for method in ("GET", "POST"):
                    if method == "POST" and accepts not in (None, "any"):
                        continue
                    self.add(
                        f"cookie {label} accepts={accepts!r} {method}",
                        token_name=token_name,
                        headers=headers,
                        accepts=accepts,
                        method=method,
                    )
        # Header beats cookie; lower-case bearer falls back to the cookie in Clerk.
        cookie = f"__session={good}; __client_uat={uat_ok}"
        for label, header in (
            ("header ak_user + cookie", f"Bearer {t['ak_user'][0]}"),
            ("header bad session + cookie", f"Bearer {bad}"),
            ("header s_valid + cookie", f"Bearer {good}"),
            ("lower-case bearer bad + cookie", f"bearer {bad}"),
            ("Basic + cookie", "Basic dXNlcjpwYXNz"),
        ):
            for accepts in (None, "any", ["session_token", "api_key"], "api_key"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("authorization", header), ("cookie", cookie)],
                    accepts=accepts,
                    fixture={"extra_tokens": [t["ak_user"][0], bad]},
                )
        # Development instance: dev-browser flows, and with a dev-browser cookie.
        for label, cookie in (
            ("dev, no cookies", ""),
            ("dev, __session + uat", f"__session={good}; __client_uat={uat_ok}"),
            (
                "dev, __session + uat + db_jwt",
                f"__session={good}; __client_uat={uat_ok}; __clerk_db_jwt=dvb_parity",
            ),
            (
                "dev, expired __session + uat + db_jwt",
                f"__session={t['s_expired'][0]}; __client_uat={uat_ok}; __clerk_db_jwt=dvb_parity",
            ),
        ):
            for accepts in (None, "any"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("cookie", cookie)] if cookie else [],
                    accepts=accepts,
                    config={"publishable_key": "test"},
                )
        # Rule 6 (development only): suffixed UAT set, plain UAT 0, suffixed session expired ->
        # plain cookies (and so a session without an active client).
        dev_sfx = cookie_suffix(self.test_pk)
        for label, cookie in (
            (
                "dev, rule 6: plain uat 0 + suffixed expired",
                f"__clerk_db_jwt=dvb_parity; __session={good}; __client_uat=0; "
                f"__session_{dev_sfx}={t['s_expired'][0]}; __client_uat_{dev_sfx}={uat_ok}",
            ),
            (
                "dev, rule 6 not met: suffixed valid",
                f"__clerk_db_jwt_{dev_sfx}=dvb_parity; __session={bad}; __client_uat=0; "
                f"__session_{dev_sfx}={good}; __client_uat_{dev_sfx}={uat_ok}",
            ),
        ):
            for accepts in (None, "any"):
                self.add(
                    f"cookie {label} accepts={accepts!r}",
                    token_name="s_valid",
                    headers=[("cookie", cookie)],
                    accepts=accepts,
                    config={"publishable_key": "test"},
                )
        # Page loads with cookies: handshake in Clerk.
        for name in ("s_expired", "s_valid"):
            cookie = f"__session={t[name][0]}; __client_uat={uat_ok}"
            for label, extra in (
                ("document GET", [("sec-fetch-dest", "document")]),
                (
                    "document GET, cross-origin referer",
                    [
                        ("sec-fetch-dest", "document"),
                        ("referer", "https://elsewhere.test/page"),
                        ("host", "app.test"),
                    ],
                ),
                ("text/html GET, no uat", [("accept", "text/html")]),
            ):
                hdrs = [
                    ("cookie", cookie if "no uat" not in label else f"__session={t[name][0]}"),
                    *extra,
                ]
                self.add(
                    f"cookie page-load {label} {name}", token_name=name, headers=hdrs, accepts=None
                )

"""The cookie cases: session cookies on page loads and API calls, under every configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import APP_ORIGIN, AUDIENCE, NOW, OTHER_ISSUER, cookie_suffix

if TYPE_CHECKING:
    from cases import Cases


def cookies(cases: Cases) -> None:
    """Page loads and API calls with session cookies (Clerk's cookie path and handshake)."""
    t = cases.corpus.tokens
    sfx = cases.suffix
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
            f"__session={good}; __client_uat={uat_ok}; __session_{sfx}={bad}; __client_uat_{sfx}=0",
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
                cases.add(
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
            cases.add(
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
            cases.add(
                f"cookie {label} accepts={accepts!r}",
                token_name="s_valid",
                headers=[("cookie", cookie)] if cookie else [],
                accepts=accepts,
                config={"publishable_key": "test"},
            )
    # Rule 6 (development only): suffixed UAT set, plain UAT 0, suffixed session expired ->
    # plain cookies (and so a session without an active client).
    dev_sfx = cookie_suffix(cases.test_pk)
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
            cases.add(
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
            cases.add(
                f"cookie page-load {label} {name}", token_name=name, headers=hdrs, accepts=None
            )


def cookie_config_variants(cases: Cases) -> None:
    """Session cookies under every configuration variant."""
    t = cases.corpus.tokens
    configs: list[tuple[str, dict[str, Any]]] = [
        ("authorized_parties=[app]", {"authorized_parties": [APP_ORIGIN]}),
        ("authorized_parties=[other]", {"authorized_parties": ["https://other.test"]}),
        ("audience", {"audience": [AUDIENCE]}),
        ("issuer=fake", {"issuer": cases.fake.issuer}),
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
                cases.add(
                    f"cookie {name} + uat {label} accepts={accepts!r}",
                    token_name=name,
                    headers=[("cookie", cookie)],
                    accepts=accepts,
                    config=config,
                )

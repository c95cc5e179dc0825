import sqlite3

from webhooks_users import create_app


def rows(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, email, first_name FROM users ORDER BY id").fetchall()


def test_users_follow_clerk(tmp_path, use_fake_webhooks):
    fake = use_fake_webhooks  # the plugin set CLERK_WEBHOOK_SIGNING_SECRET to the fake's
    path = str(tmp_path / "users.db")
    app = create_app(path)

    created = fake.webhook("user.created", {"id": "user_1", "first_name": "Ada"})
    assert fake.deliver(app, created).json() == {"status": "ok"}
    assert rows(path) == [("user_1", "example@example.org", "Ada")]

    assert fake.deliver(app, created).json() == {"status": "duplicate"}  # a retry

    updated_at = int(fake.clock() * 1000) + 1
    changes = {"id": "user_1", "first_name": "Ada L.", "updated_at": updated_at}
    fake.deliver(app, "user.updated", changes)
    assert rows(path) == [("user_1", "example@example.org", "Ada L.")]

    fake.deliver(app, "user.created", {"id": "user_2", "first_name": "Grace"})
    fake.deliver(app, "organization.created")  # acknowledged, ignored
    fake.deliver(app, "user.deleted", {"id": "user_1"})
    assert rows(path) == [("user_2", "example@example.org", "Grace")]

    forged = fake.webhook("user.deleted", {"id": "user_2"}, signing_secret="whsec_" + "A" * 32)
    response = fake.deliver(app, forged)
    assert response.status_code == 400
    assert response.json()["detail"]["reason"] == "invalid_signature"
    assert rows(path) == [("user_2", "example@example.org", "Grace")]

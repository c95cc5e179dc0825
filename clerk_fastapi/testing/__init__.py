"""The testing kit: a fake Clerk, token minting for every type, a frozen clock, overrides.

```python
from clerk_fastapi.testing import FakeClerk

fake = FakeClerk()
app.state.clerk = fake.clerk()          # or: app.dependency_overrides[get_clerk] = fake.clerk
token = fake.session_token(user_id="user_123")
```
"""

from clerk_fastapi.testing.clock import FrozenClock
from clerk_fastapi.testing.fake import FakeClerk, FakeMachine, Fault, RecordedRequest, serve_asgi
from clerk_fastapi.testing.keys import SigningKey, sign_compact
from clerk_fastapi.testing.overrides import override_auth

__all__ = [
    "FakeClerk",
    "FakeMachine",
    "Fault",
    "FrozenClock",
    "RecordedRequest",
    "SigningKey",
    "override_auth",
    "serve_asgi",
    "sign_compact",
]

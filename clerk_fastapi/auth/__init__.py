"""The framework-agnostic request pipeline.

- ``credentials``: read the token a connection carries
- ``accepts``: normalise ``accepts`` (once, against the kinds' registry)
- ``state``: ``RequestState``, the outcome
- ``authenticator``: the decision pipeline
- ``requirements``: what a route requires of a principal (scopes, permissions, ...)
- ``events``: one log record / hook call per decision
"""

"""``python -m clerk_fastapi.testing`` (internal: the command line is the interface).

One job per module: ``args`` (the parser, its help, ``CLIError``), ``mint`` (``mint KIND``),
``serve`` (``serve``), ``state`` (the state file ``serve --state`` writes and ``mint --state``
reads), ``keyfile`` (the signing key ``--key-file`` shares), ``main`` (dispatch). ``mint webhook``
is ``clerk_fastapi.testing.webhook_cli``. The kinds and their formats come from
``clerk_fastapi.testing.fake.control.KINDS``.
"""

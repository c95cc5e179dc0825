"""A small team-notes API protected by clerk-fastapi: every token type in one service."""

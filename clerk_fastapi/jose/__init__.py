"""Strict JWS/JWT handling in Clerk's order: parse, class checks, key, signature, claims."""

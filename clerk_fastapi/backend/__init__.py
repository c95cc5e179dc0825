"""Async client for Clerk's Backend API (BAPI)."""

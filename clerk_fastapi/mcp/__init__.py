"""Protect an MCP server (or any OAuth-protected API) with Clerk as its authorization server.

``MCPResource`` needs no MCP package. The adapters need the extra ``clerk-fastapi[mcp]``:
``clerk_fastapi.mcp.sdk`` (the official ``mcp`` SDK) and ``clerk_fastapi.mcp.fastmcp``.
"""

from clerk_fastapi.mcp.audience import audience_contains, normalize
from clerk_fastapi.mcp.resource import AUDIENCE_MISMATCH, MCPResource, ResourceAuth

__all__ = ["AUDIENCE_MISMATCH", "MCPResource", "ResourceAuth", "audience_contains", "normalize"]

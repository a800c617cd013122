"""Step-up with the official MCP Python SDK (`mcp`, pinned in
requirements.txt), unchanged (issue 29 item 2). The agent connects with
nothing but the URL: the 401 names `scope="read_content"`, so the SDK
registers itself and asks for reading only. Then it calls `create_page`:
pagegrant answers 403 with `insufficient_scope`, the SDK re-authorizes with
the wider scope through the real consent page (the Rust test answers it and
checks that it shows only what is new and keeps the pages), and the SDK
retries the call itself, which now succeeds. The same once more for
`update_page` (a rename needs `update_content`). Run by tests/it/ui_stepup.rs
with:

  PG_MCP_URL     http://127.0.0.1:PORT/mcp
  PG_PARENT_ID   a shared page (create_page under it)

Protocol on stdout: "AUTHORIZE <url>" (the test answers with the redirect URL
on stdin), "SCOPE <granted scope>" after each authorization, "all passed".
"""

import asyncio
import os
import sys
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

URL = os.environ["PG_MCP_URL"]
REDIRECT = "http://127.0.0.1:33417/callback"


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken):
        self.tokens = tokens
        say(f"SCOPE {tokens.scope}")

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info: OAuthClientInformationFull):
        self.client = info


def say(line):
    print(line, flush=True)


async def read_line():
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


redirected = {}
authorizations = []


async def on_redirect(url: str):
    authorizations.append(url)
    say(f"AUTHORIZE {url}")
    redirected["to"] = await read_line()


async def on_callback() -> AuthorizationCodeResult:
    q = parse_qs(urlparse(redirected["to"]).query)
    if "code" not in q:
        raise SystemExit(f"no code in the redirect: {redirected['to']}")
    return AuthorizationCodeResult(
        code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0]
    )


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", file=sys.stderr, flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def caps(scope):
    """The capabilities of a scope (offline_access, which the SDK may add, is none)."""
    return [s for s in (scope or "").split() if s != "offline_access"]


def scope_of(url):
    return caps(parse_qs(urlparse(url).query).get("scope", [""])[0])


async def main():
    storage = Memory()
    auth = OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(
            client_name="Python step-up agent",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=on_redirect,
        callback_handler=on_callback,
    )
    parent = os.environ["PG_PARENT_ID"]
    async with httpx2.AsyncClient(auth=auth, timeout=60) as http:
        async with streamable_http_client(URL, http_client=http, terminate_on_close=False) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                check(len(authorizations) == 1, "one authorization to connect")
                check(scope_of(authorizations[0]) == ["read_content"], f"asked for reading first: {authorizations[0]}")
                check(caps(storage.tokens.scope) == ["read_content"], f"granted {storage.tokens.scope}")

                # Every tool is listed; those it lacks say so. The SDK keeps
                # the output schemas and validates structuredContent by them.
                tools = {t.name: t for t in (await session.list_tools()).tools}
                check(sorted(tools) == ["create_page", "fetch", "request_access", "search", "update_page"], f"tools {sorted(tools)}")
                check(tools["search"].annotations.read_only_hint is True, "search is read-only")
                check(tools["fetch"].title == "Read a page", f"fetch's title {tools['fetch'].title}")
                check(tools["create_page"].annotations.destructive_hint is False, "create_page only adds")
                check("Needs more access" in tools["create_page"].description, "create_page is marked")
                check(tools["search"].output_schema["type"] == "object", "an output schema")
                found = await session.call_tool("search", {"query": ""})
                check(not found.is_error and found.structured_content["results"], "search reads")

                # Step-up: the SDK meets the 403, re-authorizes with the
                # wider scope and retries on its own.
                made = await session.call_tool(
                    "create_page",
                    {"parent_id": parent, "title": "Stepped up", "content": "Written after step-up."},
                )
                check(len(authorizations) == 2, "the 403 sent the person to consent again")
                asked = scope_of(authorizations[1])
                check("insert_content" in asked and "read_content" in asked, f"step-up asked for {asked}")
                check(not made.is_error, f"the retried create_page succeeded: {text_of(made)}")
                check(made.structured_content["title"] == "Stepped up", "its structured result")
                check("insert_content" in caps(storage.tokens.scope), f"granted {storage.tokens.scope}")

                # A rename needs update_content: one more step-up, keeping
                # insert_content (the SDK adds the challenge to what it had).
                renamed = await session.call_tool(
                    "update_page", {"id": made.structured_content["id"], "title": "Stepped up twice"}
                )
                check(len(authorizations) == 3, "the rename asked once more")
                check(not renamed.is_error, f"the retried update_page succeeded: {text_of(renamed)}")
                granted = caps(storage.tokens.scope)
                check(
                    all(c in granted for c in ["read_content", "insert_content", "update_content"]),
                    f"granted {granted}",
                )
                # No further consent for what it now holds.
                again = await session.call_tool(
                    "create_page", {"parent_id": parent, "title": "Once more"}
                )
                check(not again.is_error and len(authorizations) == 3, "no consent for what it holds")
    say("all passed")


asyncio.run(main())

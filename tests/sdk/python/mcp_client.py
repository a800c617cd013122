"""The official MCP Python SDK (`mcp`, pinned in requirements.txt), unchanged,
against pagegrant's /mcp: it gets 401, discovers the authorization server
from the protected-resource metadata, registers itself (RFC 7591), sends the
person to the consent page (the Rust test drives it and hands the redirect
back on stdin), exchanges the code with PKCE and `resource`, then uses the
tools. Run by tests/it/sdk_mcp.rs with:

  PG_MCP_URL        http://127.0.0.1:PORT/mcp
  PG_EXPECT_TITLES  the titles search must return, joined by "|"
  PG_FETCH_ID       a shared page whose fetch must work
  PG_UNSHARED_ID    a page of the workspace that was not shared
  PG_PARENT_ID      a shared page (create_page under it must work)

Protocol on stdout: "AUTHORIZE <url>" (the test answers with the redirect
URL on stdin), "VERSION <negotiated protocol version>", "CONNECTED" (the
test disconnects the connection in Settings and answers "go"), then
"all passed".
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
REDIRECT = "http://127.0.0.1:33418/callback"


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info: OAuthClientInformationFull):
        self.client = info


def say(line):
    print(line, flush=True)


async def read_line():
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


redirected = {}


async def on_redirect(url: str):
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


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main():
    storage = Memory()
    auth = OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(
            client_name="Python MCP agent",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=on_redirect,
        callback_handler=on_callback,
    )
    expect = sorted(t for t in os.environ["PG_EXPECT_TITLES"].split("|") if t)
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with streamable_http_client(URL, http_client=http, terminate_on_close=False) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                say(f"VERSION {init.protocol_version}")
                check(init.server_info.name == "pagegrant", f"server name {init.server_info.name}")
                check(storage.client is not None, "the client registered itself")
                check(storage.tokens is not None and storage.tokens.access_token, "a token")

                # The SDK asks for the 401's scope (reading) and lists every
                # tool; create_page below steps up to writing through the
                # consent page, which the test answers (issue 29).
                tools = sorted(t.name for t in (await session.list_tools()).tools)
                check(tools == ["create_page", "fetch", "request_access", "search", "update_page"], f"tools {tools}")

                found = await session.call_tool("search", {"query": ""})
                check(not found.is_error, f"search: {text_of(found)}")
                titles = sorted(r["title"] for r in found.structured_content["results"])
                check(titles == expect, f"search saw {titles}, expected {expect}")

                page = await session.call_tool("fetch", {"id": os.environ["PG_FETCH_ID"]})
                check(not page.is_error, f"fetch: {text_of(page)}")
                check(page.structured_content["id"] == os.environ["PG_FETCH_ID"], "fetch id")

                other = await session.call_tool("fetch", {"id": os.environ["PG_UNSHARED_ID"]})
                check(other.is_error, "an unshared page is refused")

                # Writing under a shared page works, as the connection's bot...
                made = await session.call_tool(
                    "create_page",
                    {"parent_id": os.environ["PG_PARENT_ID"], "title": "Agent notes",
                     "content": "# Summary\n\n- [ ] follow up\n\nWritten by an agent."},
                )
                check(not made.is_error, f"create_page: {text_of(made)}")
                back = await session.call_tool("fetch", {"id": made.structured_content["id"]})
                check("follow up" in back.structured_content["markdown"], f"content: {text_of(back)}")
                # ...under a page that was not shared, it is refused.
                refused = await session.call_tool(
                    "create_page", {"parent_id": os.environ["PG_UNSHARED_ID"], "title": "Nope"}
                )
                check(refused.is_error, "create_page under an unshared page is refused")

                say("CONNECTED")
                check(await read_line() == "go", "the test's go-ahead")
    # After the disconnect: the same token is refused at the HTTP level.
    token = storage.tokens.access_token
    async with httpx2.AsyncClient(timeout=30) as raw:
        r = await raw.post(
            URL,
            headers={
                "authorization": f"Bearer {token}",
                "accept": "application/json, text/event-stream",
                "content-type": "application/json",
                "mcp-protocol-version": init.protocol_version,
            },
            json={"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                  "params": {"name": "search", "arguments": {"query": ""}}},
        )
        check(r.status_code == 401, f"after disconnect: {r.status_code}")
    say("all passed")


asyncio.run(main())

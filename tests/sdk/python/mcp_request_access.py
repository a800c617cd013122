"""The official MCP Python SDK (`mcp`, pinned in requirements.txt), unchanged,
asking for one more page mid-task (issue 29 item 1): it connects through the
real consent page with one page shared (the Rust test answers it, as for
mcp_client.py), calls `request_access` with a reason and search words, hands
the URL it gets to the person (the Rust test opens it in Chromium, ticks a
page and presses Share), polls the request, and finds the page with its next
`search` on the same session and token, without reconnecting. Run by
tests/it/ui_requests.rs with:

  PG_MCP_URL        http://127.0.0.1:PORT/mcp
  PG_EXPECT_TITLES  the titles search returns before, joined by "|"
  PG_WANTED         the title of the page the agent asks for

Protocol on stdout: "AUTHORIZE <url>" (the test answers with the redirect
URL on stdin), "REQUEST <url>" (the test answers the request in the browser
and writes "go"), then "all passed".
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


async def titles(session, query):
    found = await session.call_tool("search", {"query": query})
    check(not found.is_error, f"search: {text_of(found)}")
    return sorted(r["title"] for r in found.structured_content["results"])


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
    wanted = os.environ["PG_WANTED"]
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with streamable_http_client(URL, http_client=http, terminate_on_close=False) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                say(f"VERSION {init.protocol_version}")
                check("request_access" in (init.instructions or ""), "the instructions name request_access")
                tools = {t.name: t for t in (await session.list_tools()).tools}
                check("request_access" in tools, f"tools {sorted(tools)}")
                check(await titles(session, "") == expect, "the one page shared at first")
                check(await titles(session, wanted) == [], f"{wanted} is not shared yet")
                token = storage.tokens.access_token

                asked = await session.call_tool(
                    "request_access",
                    {"reason": f"To finish the summary I need the page '{wanted}'.", "search": wanted},
                )
                check(not asked.is_error, f"request_access: {text_of(asked)}")
                req = asked.structured_content
                check(req["state"] == "pending", f"state {req}")
                check(req["url"] in text_of(asked), "the text gives the URL")
                still = await session.call_tool("request_access", {"request_id": req["id"]})
                check(still.structured_content["state"] == "pending", f"poll {still.structured_content}")

                say(f"REQUEST {req['url']}")
                check(await read_line() == "go", "the test's go-ahead")

                answered = await session.call_tool("request_access", {"request_id": req["id"]})
                check(not answered.is_error, f"poll: {text_of(answered)}")
                check(answered.structured_content["state"] == "shared", f"poll {answered.structured_content}")
                check(len(answered.structured_content["page_ids"]) == 1, "one page shared")
                # The same session and token: the next search sees the page.
                check(await titles(session, wanted) == [wanted], f"search finds {wanted}")
                page = await session.call_tool("fetch", {"id": answered.structured_content["page_ids"][0]})
                check(not page.is_error, f"fetch: {text_of(page)}")
                check(storage.tokens.access_token == token, "no new token")
    say("all passed")


asyncio.run(main())

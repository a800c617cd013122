"""Drives the Python Notion SDK (notion-client, pinned in requirements.txt)
against a running pagegrant. The Rust e2e test gets the code through the real
consent flow and passes everything in the environment. Exits non-zero on the
first failed expectation."""
import os
import sys

from notion_client import APIErrorCode, APIResponseError, Client

env = os.environ
base = env["PG_BASE"]
client_id, client_secret = env["PG_CLIENT_ID"], env["PG_CLIENT_SECRET"]


def expect(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def expect_code(fn, code, what):
    try:
        fn()
    except APIResponseError as e:
        expect(e.code == code, f"{what} ({e.code})")
        return
    expect(False, f"{what}: no error raised")


anon = Client(base_url=base)
token = anon.oauth.token(client_id=client_id, client_secret=client_secret,
                         grant_type="authorization_code", code=env["PG_CODE"],
                         redirect_uri=env["PG_REDIRECT_URI"])
expect(token["token_type"] == "bearer" and token["refresh_token"].startswith("nrt_"), "oauth.token")
expect(token["workspace_id"] == env["PG_WORKSPACE_ID"], "token names the workspace")
access = token["access_token"]

info = anon.oauth.introspect(client_id=client_id, client_secret=client_secret, token=access)
expect(info["active"] is True, "oauth.introspect of a live token")

notion = Client(auth=access, base_url=base)
me = notion.users.me()
expect(me["type"] == "bot" and me["id"] == token["bot_id"], "users.me")

seen, cursor = [], None
while True:
    kwargs = {"filter": {"property": "object", "value": "page"}, "page_size": 2}
    if cursor:
        kwargs["start_cursor"] = cursor
    page = notion.search(**kwargs)
    seen += [r["id"] for r in page["results"]]
    if not page["has_more"]:
        break
    cursor = page["next_cursor"]
expected = set(env["PG_VISIBLE_IDS"].split(","))
expect(len(seen) == len(set(seen)) and set(seen) == expected, f"search with pagination ({len(seen)} pages)")

p = notion.pages.retrieve(page_id=env["PG_DESCENDANT_ID"])
expect(p["object"] == "page" and p["id"] == env["PG_DESCENDANT_ID"], "pages.retrieve of a shared descendant")
expect_code(lambda: notion.pages.retrieve(page_id=env["PG_UNSHARED_ID"]), APIErrorCode.ObjectNotFound,
            "pages.retrieve of an unshared page")

children = notion.blocks.children.list(block_id=env["PG_PARENT_ID"])
expect(any(b["type"] == "child_page" and b["id"] == env["PG_DESCENDANT_ID"] for b in children["results"]),
       "blocks.children.list")

# Page content: append, insert at the start, list with pagination, update, delete.
def rt(content, **extra):
    return [{"type": "text", "text": {"content": content, "link": None}, **extra}]


appended = notion.blocks.children.append(
    block_id=env["PG_PARENT_ID"],
    children=[
        {"object": "block", "type": "heading_2", "heading_2": {"rich_text": rt("SDK notes")}},
        {"type": "paragraph", "paragraph": {"rich_text": rt("Written by the Python SDK", annotations={"italic": True})}},
        {"type": "to_do", "to_do": {"rich_text": rt("Check it"), "checked": False}},
        {"type": "divider", "divider": {}},
    ],
)
res = appended["results"]
expect(len(res) == 4 and res[1]["paragraph"]["rich_text"][0]["plain_text"] == "Written by the Python SDK"
       and res[1]["paragraph"]["rich_text"][0]["annotations"]["italic"] is True and res[3]["type"] == "divider",
       "blocks.children.append")
notion.blocks.children.append(block_id=env["PG_PARENT_ID"], children=[{"paragraph": {"rich_text": rt("First line")}}],
                              position={"type": "start"})


def list_all(block_id):
    out, nxt = [], None
    while True:
        kwargs = {"block_id": block_id, "page_size": 2}
        if nxt:
            kwargs["start_cursor"] = nxt
        r = notion.blocks.children.list(**kwargs)
        out += r["results"]
        if not r["has_more"]:
            return out
        nxt = r["next_cursor"]


def text(b):
    if b["type"] == "child_page":
        return "page:" + b["child_page"]["title"]
    return "".join(t["plain_text"] for t in b[b["type"]].get("rich_text", [])) or b["type"]


listed = [text(b) for b in list_all(env["PG_PARENT_ID"])]
expect(listed[:5] == ["First line", "SDK notes", "Written by the Python SDK", "Check it", "divider"]
       and all(t.startswith("page:") for t in listed[5:]), f"blocks.children.list, paginated ({len(listed)} children)")
todo_id = res[2]["id"]
updated = notion.blocks.update(block_id=todo_id, to_do={"checked": True})
expect(updated["to_do"]["checked"] is True and updated["to_do"]["rich_text"][0]["plain_text"] == "Check it",
       "blocks.update")
expect(notion.blocks.retrieve(block_id=todo_id)["to_do"]["checked"] is True, "blocks.retrieve")
expect(notion.blocks.delete(block_id=res[1]["id"])["in_trash"] is True, "blocks.delete")
expect("Written by the Python SDK" not in [text(b) for b in list_all(env["PG_PARENT_ID"])],
       "a deleted block is gone from the list")
expect_code(lambda: notion.blocks.children.append(block_id=env["PG_PARENT_ID"],
                                                  children=[{"paragraph": {"rich_text": rt("x" * 2001)}}]),
            APIErrorCode.ValidationError, "2,001 characters are a validation error")
expect_code(lambda: notion.blocks.children.append(block_id=env["PG_UNSHARED_ID"],
                                                  children=[{"paragraph": {"rich_text": rt("x")}}]),
            APIErrorCode.ObjectNotFound, "appending to an unshared page")

expect_code(lambda: Client(auth="not-a-token", base_url=base).users.me(), APIErrorCode.Unauthorized,
            "a bad token is unauthorized")

anon.oauth.revoke(client_id=client_id, client_secret=client_secret, token=access)
expect(anon.oauth.introspect(client_id=client_id, client_secret=client_secret, token=access)["active"] is False,
       "oauth.revoke, then introspect is inactive")
expect_code(lambda: notion.users.me(), APIErrorCode.Unauthorized, "calls after revoke are unauthorized")
print("python sdk interop: all passed")

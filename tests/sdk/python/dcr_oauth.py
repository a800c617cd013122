"""Drives authlib's OAuth 2.0 client (pinned in requirements.txt), unchanged,
against a running pagegrant: RFC 9728 discovery from /v1, RFC 7591
registration (a plain POST: authlib has no registration client), then the
authorization code flow with authlib's OAuth2Session (PKCE S256,
create_authorization_url, fetch_token, refresh_token) and RFC 8707
`resource`. Run by tests/it/sdk_dynamic.rs: the authorization URL goes out on
stdout as `AUTHORIZE <url>`, the redirect comes back on stdin. Exits non-zero
on the first failed expectation; prints "all passed".
"""

import os
import sys

# pagegrant's test server speaks plain http on 127.0.0.1; authlib refuses
# http unless told (OAuth 2.0 requires TLS outside loopback).
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402

BASE = os.environ["PG_BASE"]
REDIRECT = os.environ["PG_REDIRECT_URI"]
RESOURCE = f"{BASE}/v1"


def expect(cond, what):
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


prm = requests.get(f"{BASE}/.well-known/oauth-protected-resource/v1", timeout=10).json()
expect(prm["resource"] == RESOURCE, "protected-resource metadata for /v1")
issuer = prm["authorization_servers"][0]
meta = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
expect(meta["issuer"] == issuer, "authorization server metadata")

reg = requests.post(
    meta["registration_endpoint"],
    json={
        "client_name": "authlib interop",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "read_content read_user_without_email offline_access",
    },
    timeout=10,
)
expect(reg.status_code == 201, f"registered ({reg.status_code} {reg.text[:200]})")
client_id = reg.json()["client_id"]

session = OAuth2Session(
    client_id=client_id,
    redirect_uri=REDIRECT,
    scope="read_content read_user_without_email offline_access",
    code_challenge_method="S256",
    token_endpoint_auth_method="none",
)
verifier = generate_token(64)
url, state = session.create_authorization_url(
    meta["authorization_endpoint"], code_verifier=verifier, resource=RESOURCE
)
print(f"AUTHORIZE {url}", flush=True)
back = sys.stdin.readline().strip()
expect(f"state={state}" in back, "state comes back")

token = session.fetch_token(
    meta["token_endpoint"],
    authorization_response=back,
    code_verifier=verifier,
    resource=RESOURCE,
)
expect(token.get("access_token") and token.get("refresh_token"), "code exchanged with PKCE")
refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
expect(refreshed["access_token"] != token["access_token"], "refreshed")

headers = {"Notion-Version": "2022-06-28"}
me = session.get(f"{RESOURCE}/users/me", headers=headers, timeout=10)
expect(me.status_code == 200, f"/v1/users/me ({me.status_code})")
found = session.post(f"{RESOURCE}/search", json={}, headers=headers, timeout=10)
expect(found.status_code == 200, f"/v1/search ({found.status_code})")
ids = sorted(r["id"].replace("-", "") for r in found.json()["results"])
want = sorted(i.replace("-", "") for i in os.environ["PG_VISIBLE_IDS"].split(","))
expect(ids == want, f"search finds exactly the ticked page and its sub-pages ({ids})")
print("all passed", flush=True)

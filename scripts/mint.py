#!/usr/bin/env python3
"""Mints authorization codes (or refresh tokens) through the real HTTP flow:
log in, open the consent page, press Allow access. Standard library only.

usage: mint.py BASE EMAIL PASSWORD CLIENT_ID REDIRECT_URI COUNT [--exchange SECRET]
Prints one code per line; with --exchange, one refresh token per line.
"""
import base64
import http.client
import json
import re
import sys
import urllib.parse


def main():
    base, email, password, client_id, redirect, count = sys.argv[1:7]
    secret = sys.argv[8] if len(sys.argv) > 8 and sys.argv[7] == "--exchange" else None
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    cookies = {}

    def req(method, path, body=None, headers=None):
        h = dict(headers or {})
        if cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read().decode()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                cookies[name] = rest.split(";")[0]
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def field(html, name):
        m = re.search(r'name="%s" value="([^"]*)"' % name, html)
        return m.group(1).replace("&#38;", "&") if m else ""

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    _, _, page = req("GET", "/login")
    status, _, _ = req("POST", "/login", urllib.parse.urlencode(
        {"csrf": field(page, "csrf"), "email": email, "password": password}), form)
    assert status == 303, f"login failed: {status}"
    query = urllib.parse.urlencode({"client_id": client_id, "response_type": "code",
                                    "redirect_uri": redirect, "state": "bench"})
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode() if secret else None
    out = sys.stdout
    for _ in range(int(count)):
        _, _, page = req("GET", "/v1/oauth/authorize?" + query)
        page_id = re.search(r'name="page" value="([^"]+)"', page).group(1)
        status, headers, _ = req("POST", "/v1/oauth/authorize", urllib.parse.urlencode({
            "request_id": field(page, "request_id"), "csrf": field(page, "csrf"),
            "decision": "allow", "page": page_id}), form)
        assert status == 303, f"consent failed: {status}"
        code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
        if not basic:
            out.write(code + "\n")
            continue
        status, _, body = req("POST", "/v1/oauth/token", urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect}),
            {**form, "Authorization": "Basic " + basic})
        assert status == 200, f"exchange failed: {status} {body}"
        out.write(json.loads(body)["refresh_token"] + "\n")


if __name__ == "__main__":
    main()

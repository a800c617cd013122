// Drives the official MCP TypeScript SDK's OAuth client
// (@modelcontextprotocol/sdk, pinned in package.json), unchanged, against a
// running pagegrant. Run by the Rust e2e tests (tests/it/sdk_dynamic.rs) in
// one of two modes (PG_MODE):
//
//   dcr   the SDK's own `auth()` with an OAuthClientProvider: discovery from
//         /v1's protected-resource metadata, RFC 7591 registration, PKCE and
//         `resource`, then the code exchange and a refresh, all inside auth().
//   cimd  a Client ID Metadata Document (PG_CLIENT_METADATA_URL, served by the
//         Rust test on loopback): the SDK's discovery, startAuthorization,
//         exchangeAuthorization and refreshAuthorization helpers. (auth()
//         itself accepts only an https clientMetadataUrl, and a test cannot
//         serve one pagegrant would trust, so the helpers auth() calls are
//         called directly, in the same order, with the same arguments.)
//
// The authorization URL is handed to the Rust test on stdout as
// `AUTHORIZE <url>`; it logs in, ticks a page on the consent page and writes
// the redirect it got back (the redirect URI with code and state) on stdin.
// Then the token is used on /v1/users/me and /v1/search with plain fetch.
// Exits non-zero on the first failed expectation; prints "all passed".
import {
  auth,
  discoverOAuthServerInfo,
  exchangeAuthorization,
  refreshAuthorization,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import readline from "node:readline";

const env = process.env;
const base = env.PG_BASE;
const serverUrl = `${base}/v1`;
const redirectUrl = env.PG_REDIRECT_URI;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function expect(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

/** Hands the authorization URL over; the redirect that came back. */
async function consent(url) {
  console.log(`AUTHORIZE ${url}`);
  const { value } = await lines.next();
  return new URL(value.trim());
}

function checkAuthorizationUrl(u, clientId) {
  expect(u.href.startsWith(`${base}/v1/oauth/authorize?`), "authorization endpoint from the metadata");
  expect(u.searchParams.get("client_id") === clientId, "client_id in the authorization URL");
  expect(u.searchParams.get("code_challenge_method") === "S256", "PKCE S256");
  expect(u.searchParams.get("resource") === serverUrl, "resource is /v1 (RFC 8707)");
}

/** The SDK's full flow inside auth(), with dynamic registration. */
async function viaAuth() {
  const saved = {};
  let authorizationUrl;
  const provider = {
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return {
        client_name: "MCP SDK interop",
        redirect_uris: [redirectUrl],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      };
    },
    state: () => (saved.state = `st-${Math.random().toString(36).slice(2)}`),
    clientInformation: () => saved.client,
    saveClientInformation: (c) => (saved.client = c),
    tokens: () => saved.tokens,
    saveTokens: (t) => (saved.tokens = t),
    redirectToAuthorization: (u) => (authorizationUrl = u),
    saveCodeVerifier: (v) => (saved.verifier = v),
    codeVerifier: () => saved.verifier,
  };
  expect((await auth(provider, { serverUrl })) === "REDIRECT", "auth() registers and redirects");
  expect(typeof saved.client?.client_id === "string", "registered (RFC 7591)");
  expect(saved.client.client_secret === undefined, "a public client, no secret");
  checkAuthorizationUrl(authorizationUrl, saved.client.client_id);
  const back = await consent(authorizationUrl.href);
  expect(back.searchParams.get("state") === saved.state, "state comes back");
  expect(back.searchParams.get("iss") === base, "iss comes back (RFC 9207)");
  const code = back.searchParams.get("code");
  expect((await auth(provider, { serverUrl, authorizationCode: code })) === "AUTHORIZED", "code exchanged");
  const first = saved.tokens;
  expect(first.refresh_token && first.access_token, "access and refresh tokens");
  // With a refresh token stored, auth() refreshes.
  expect((await auth(provider, { serverUrl })) === "AUTHORIZED", "auth() refreshes");
  expect(saved.tokens.access_token !== first.access_token, "a new access token");
  expect(saved.tokens.refresh_token !== first.refresh_token, "the refresh token rotated");
  return saved.tokens.access_token;
}

/** A Client ID Metadata Document client, through the SDK's helpers. */
async function viaCimd() {
  const clientId = env.PG_CLIENT_METADATA_URL;
  const info = await discoverOAuthServerInfo(serverUrl);
  const metadata = info.authorizationServerMetadata;
  expect(metadata.client_id_metadata_document_supported === true, "CIMD advertised");
  expect(String(info.authorizationServerUrl).startsWith(base), "authorization server from /v1's metadata");
  const resource = new URL(info.resourceMetadata.resource);
  const clientInformation = { client_id: clientId };
  // What auth() asks for: the protected resource's scopes_supported.
  const scope = info.resourceMetadata.scopes_supported.join(" ");
  const state = `st-${Math.random().toString(36).slice(2)}`;
  const { authorizationUrl, codeVerifier } = await startAuthorization(info.authorizationServerUrl, {
    metadata,
    clientInformation,
    redirectUrl,
    scope,
    state,
    resource,
  });
  checkAuthorizationUrl(authorizationUrl, clientId);
  const back = await consent(authorizationUrl.href);
  expect(back.searchParams.get("state") === state, "state comes back");
  const tokens = await exchangeAuthorization(info.authorizationServerUrl, {
    metadata,
    clientInformation,
    authorizationCode: back.searchParams.get("code"),
    codeVerifier,
    redirectUri: redirectUrl,
    resource,
  });
  expect(tokens.access_token && tokens.refresh_token, "code exchanged with PKCE");
  const refreshed = await refreshAuthorization(info.authorizationServerUrl, {
    metadata,
    clientInformation,
    refreshToken: tokens.refresh_token,
    resource,
  });
  expect(refreshed.access_token !== tokens.access_token, "refreshed");
  return refreshed.access_token;
}

const access = env.PG_MODE === "cimd" ? await viaCimd() : await viaAuth();

const headers = {
  Authorization: `Bearer ${access}`,
  "Notion-Version": "2022-06-28",
  "Content-Type": "application/json",
};
const me = await fetch(`${serverUrl}/users/me`, { headers });
expect(me.status === 200, `/v1/users/me (${me.status})`);
const search = await fetch(`${serverUrl}/search`, { method: "POST", headers, body: "{}" });
expect(search.status === 200, `/v1/search (${search.status})`);
const found = (await search.json()).results.map((r) => r.id.replaceAll("-", "")).sort();
const want = env.PG_VISIBLE_IDS.split(",").map((id) => id.replaceAll("-", "")).sort();
expect(JSON.stringify(found) === JSON.stringify(want), `search finds exactly the ticked page and its sub-pages (${found})`);
console.log("all passed");
process.exit(0);

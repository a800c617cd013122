// The official MCP TypeScript SDK's client (@modelcontextprotocol/sdk,
// pinned in package.json), unchanged, against pagegrant's /mcp, identified by
// a Client ID Metadata Document the Rust test serves on loopback (pagegrant
// runs with registration.cimd_dev_loopback). Run by tests/it/sdk_mcp.rs.
//
// It connects with StreamableHTTPClientTransport and an OAuthClientProvider:
// 401, discovery from /mcp's protected-resource metadata, then the SDK's
// auth() with the client id it would have chosen itself from an https
// document (auth() only takes https for `clientMetadataUrl`, so the provider
// hands the same client information over as already known — what auth()
// stores after choosing CIMD). The authorization URL goes to the Rust test
// on stdout (`AUTHORIZE <url>`); it answers the consent page, ticking two
// pages, and writes back the redirect. After finishAuth the client lists
// tools and calls them; on `CONNECTED` the test presses Disconnect and
// answers `go`, and the next call must fail with 401.
//
// env: PG_MCP_URL, PG_CLIENT_METADATA_URL, PG_REDIRECT_URI, PG_ISSUER,
//      PG_EXPECT_TITLES ("|"-joined), PG_FETCH_ID, PG_UNSHARED_ID.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import readline from "node:readline";

const env = process.env;
const url = new URL(env.PG_MCP_URL);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function expect(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.error(`ok: ${what}`);
}

const saved = { client: { client_id: env.PG_CLIENT_METADATA_URL, issuer: env.PG_ISSUER } };
let authorizationUrl;
const provider = {
  get redirectUrl() {
    return env.PG_REDIRECT_URI;
  },
  get clientMetadata() {
    return {
      client_name: "TypeScript MCP agent",
      redirect_uris: [env.PG_REDIRECT_URI],
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

const info = { name: "pagegrant-e2e", version: "1.0.0" };
let client = new Client(info);
let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
try {
  await client.connect(transport);
  expect(false, "the first connect needs authorization");
} catch (e) {
  expect(e instanceof UnauthorizedError, `401 sends the client to authorize (${e})`);
}
expect(authorizationUrl !== undefined, "an authorization URL");
expect(authorizationUrl.searchParams.get("client_id") === env.PG_CLIENT_METADATA_URL, "the CIMD client id");
expect(authorizationUrl.searchParams.get("resource") === url.href, "resource is /mcp (RFC 8707)");
expect(authorizationUrl.searchParams.get("code_challenge_method") === "S256", "PKCE");
console.log(`AUTHORIZE ${authorizationUrl.href}`);
const back = new URL((await lines.next()).value.trim());
expect(back.searchParams.get("state") === saved.state, "state comes back");
await transport.finishAuth(back.searchParams.get("code"));
expect(saved.tokens?.access_token, "code exchanged with PKCE");

client = new Client(info);
transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
await client.connect(transport);
console.log(`VERSION ${transport.protocolVersion ?? "unknown"}`);
expect(client.getServerVersion()?.name === "pagegrant", "serverInfo.name");

const tools = (await client.listTools()).tools.map((t) => t.name).sort();
expect(JSON.stringify(tools) === JSON.stringify(["create_page", "fetch", "request_access", "search", "update_page"]), `tools ${tools}`);

const found = await client.callTool({ name: "search", arguments: { query: "" } });
const titles = found.structuredContent.results.map((r) => r.title).sort();
const expected = env.PG_EXPECT_TITLES.split("|").sort();
expect(JSON.stringify(titles) === JSON.stringify(expected), `search saw ${titles}, expected ${expected}`);

const page = await client.callTool({ name: "fetch", arguments: { id: env.PG_FETCH_ID } });
expect(!page.isError && page.structuredContent.id === env.PG_FETCH_ID, "fetch a ticked page's sub-page");
expect(page.content[0].text.includes(page.structuredContent.title), "the text rendering names the page");

const other = await client.callTool({ name: "fetch", arguments: { id: env.PG_UNSHARED_ID } });
expect(other.isError === true, "an unshared page is refused");

console.log("CONNECTED");
expect((await lines.next()).value.trim() === "go", "the test's go-ahead");

// Disconnected: the token gets 401, the SDK tries its refresh token, which
// is refused too (invalid_grant), and the call fails with that.
let refused = false;
try {
  const r = await client.callTool({ name: "search", arguments: { query: "" } });
  console.error(`after disconnect: ${JSON.stringify(r).slice(0, 300)}`);
  refused = r.isError === true;
} catch (e) {
  console.error(`after disconnect: ${e}`);
  refused = /401|Unauthorized|InvalidGrant/i.test(String(e));
}
expect(refused, "after Disconnect the next call fails");
console.log("all passed");
process.exit(0);

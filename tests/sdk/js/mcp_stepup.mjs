// Step-up with the official MCP TypeScript SDK (@modelcontextprotocol/sdk,
// pinned in package.json), unchanged (issue 29 item 2), as a client
// identified by a Client ID Metadata Document the Rust test serves on
// loopback (see mcp_client.mjs for how the provider hands that id over).
//
// The 401 names scope="read_content": the SDK asks for reading only. Then
// create_page: pagegrant answers 403 with insufficient_scope; the SDK's
// transport takes the challenge's scope and runs auth(), which sends the
// person to the consent page again (`AUTHORIZE <url>` on stdout; the Rust
// test answers it and checks that it shows only what is new and keeps the
// pages) and throws UnauthorizedError, as at the first connect; the agent
// finishes the authorization and calls again, which succeeds.
//
// The provider keeps no refresh token: SDK 1.32.2 tries a refresh before
// re-authorizing on a 403 (typescript-sdk#2255), and a refresh can never
// widen a grant (RFC 6749 §6), so with one it gives up with "Server
// returned 403 after trying upscoping" instead of asking the person.
//
// env: PG_MCP_URL, PG_CLIENT_METADATA_URL, PG_REDIRECT_URI, PG_ISSUER, PG_PARENT_ID.
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
const authorizations = [];
const provider = {
  get redirectUrl() {
    return env.PG_REDIRECT_URI;
  },
  get clientMetadata() {
    return {
      client_name: "TypeScript step-up agent",
      redirect_uris: [env.PG_REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  state: () => (saved.state = `st-${Math.random().toString(36).slice(2)}`),
  clientInformation: () => saved.client,
  saveClientInformation: (c) => (saved.client = c),
  tokens: () => saved.tokens,
  saveTokens: (t) => {
    const { refresh_token, ...kept } = t;
    saved.tokens = kept;
    console.log(`SCOPE ${t.scope ?? ""}`);
  },
  redirectToAuthorization: (u) => authorizations.push(u),
  saveCodeVerifier: (v) => (saved.verifier = v),
  codeVerifier: () => saved.verifier,
};

const caps = (scope) => (scope ?? "").split(" ").filter((s) => s && s !== "offline_access");

// The person answers on the consent page; the agent finishes the authorization.
async function authorizeWith(transport) {
  const u = authorizations[authorizations.length - 1];
  console.log(`AUTHORIZE ${u.href}`);
  const back = new URL((await lines.next()).value.trim());
  expect(back.searchParams.get("state") === saved.state, "state comes back");
  await transport.finishAuth(back.searchParams.get("code"));
}

// A call that may need the person first: the SDK's UnauthorizedError after
// it sent them to authorize, then the same call again.
async function callWithStepUp(client, transport, params) {
  try {
    return await client.callTool(params);
  } catch (e) {
    expect(e instanceof UnauthorizedError, `the 403 sent the person to authorize (${e})`);
    await authorizeWith(transport);
    return await client.callTool(params);
  }
}

const info = { name: "pagegrant-stepup", version: "1.0.0" };
let client = new Client(info);
let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
try {
  await client.connect(transport);
  expect(false, "the first connect needs authorization");
} catch (e) {
  expect(e instanceof UnauthorizedError, `401 sends the client to authorize (${e})`);
}
expect(caps(authorizations[0].searchParams.get("scope")).join(" ") === "read_content", `asked for reading first: ${authorizations[0]}`);
await authorizeWith(transport);
expect(caps(saved.tokens.scope).join(" ") === "read_content", `granted ${saved.tokens.scope}`);

client = new Client(info);
transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
await client.connect(transport);

// Every tool listed, with titles, annotations and output schemas (the SDK
// validates each structuredContent against its tool's outputSchema).
const tools = Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t]));
expect(JSON.stringify(Object.keys(tools).sort()) === JSON.stringify(["create_page", "fetch", "request_access", "search", "update_page"]), "every tool listed");
expect(tools.search.annotations.readOnlyHint === true && tools.fetch.annotations.readOnlyHint === true, "search and fetch are read-only");
expect(tools.create_page.annotations.destructiveHint === false, "create_page only adds");
expect(tools.update_page.annotations.idempotentHint === false, "update_page is not idempotent");
expect(tools.search.title === "Search pages", `search's title ${tools.search.title}`);
expect(tools.create_page.description.includes("Needs more access"), "create_page is marked");
const found = await client.callTool({ name: "search", arguments: { query: "" } });
expect(!found.isError && found.structuredContent.results.length > 0, "search reads");

const made = await callWithStepUp(client, transport, {
  name: "create_page",
  arguments: { parent_id: env.PG_PARENT_ID, title: "Stepped up (TypeScript)", content: "Written after step-up." },
});
expect(authorizations.length === 2, "the step-up asked the person once");
const asked = caps(authorizations[1].searchParams.get("scope"));
expect(asked.includes("read_content") && asked.includes("insert_content"), `step-up asked for ${asked}`);
expect(authorizations[1].searchParams.get("resource") === url.href, "for /mcp");
expect(!made.isError && made.structuredContent.title === "Stepped up (TypeScript)", `the retried create_page succeeded: ${JSON.stringify(made).slice(0, 300)}`);
expect(caps(saved.tokens.scope).includes("insert_content"), `granted ${saved.tokens.scope}`);

const fetched = await client.callTool({ name: "fetch", arguments: { id: made.structuredContent.id } });
expect(!fetched.isError && fetched.structuredContent.markdown.includes("after step-up"), "it reads back");
console.log("all passed");
process.exit(0);

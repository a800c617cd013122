// Drives the official Notion JavaScript SDK (@notionhq/client, pinned in
// package.json) against a running pagegrant. The Rust e2e test gets the code
// through the real consent flow and passes everything in the environment.
// Exits non-zero on the first failed expectation.
import { APIErrorCode, APIResponseError, Client } from "@notionhq/client";

const env = process.env;
const baseUrl = env.PG_BASE;
const creds = { client_id: env.PG_CLIENT_ID, client_secret: env.PG_CLIENT_SECRET };

function expect(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

async function expectCode(fn, code, what) {
  try {
    await fn();
  } catch (e) {
    expect(APIResponseError.isAPIResponseError(e) && e.code === code, `${what} (${e.code})`);
    return;
  }
  expect(false, `${what}: no error raised`);
}

const anon = new Client({ baseUrl, retry: false });
const token = await anon.oauth.token({
  ...creds,
  grant_type: "authorization_code",
  code: env.PG_CODE,
  redirect_uri: env.PG_REDIRECT_URI,
});
expect(token.token_type === "bearer" && token.refresh_token.startsWith("nrt_"), "oauth.token");
expect(token.workspace_id === env.PG_WORKSPACE_ID, "token names the workspace");
const access = token.access_token;

const info = await anon.oauth.introspect({ ...creds, token: access });
expect(info.active === true, "oauth.introspect of a live token");

const notion = new Client({ auth: access, baseUrl, retry: false });
const me = await notion.users.me({});
expect(me.type === "bot" && me.id === token.bot_id, "users.me");

const seen = [];
let cursor;
do {
  const page = await notion.search({
    filter: { property: "object", value: "page" },
    page_size: 2,
    ...(cursor ? { start_cursor: cursor } : {}),
  });
  seen.push(...page.results.map((r) => r.id));
  cursor = page.has_more ? page.next_cursor : undefined;
} while (cursor);
const expected = new Set(env.PG_VISIBLE_IDS.split(","));
expect(
  new Set(seen).size === seen.length && seen.length === expected.size && seen.every((id) => expected.has(id)),
  `search with pagination (${seen.length} pages)`,
);

const p = await notion.pages.retrieve({ page_id: env.PG_DESCENDANT_ID });
expect(p.object === "page" && p.id === env.PG_DESCENDANT_ID, "pages.retrieve of a shared descendant");
await expectCode(() => notion.pages.retrieve({ page_id: env.PG_UNSHARED_ID }), APIErrorCode.ObjectNotFound,
  "pages.retrieve of an unshared page");

const children = await notion.blocks.children.list({ block_id: env.PG_PARENT_ID });
expect(children.results.some((b) => b.type === "child_page" && b.id === env.PG_DESCENDANT_ID), "blocks.children.list");

await expectCode(() => new Client({ auth: "not-a-token", baseUrl, retry: false }).users.me({}),
  APIErrorCode.Unauthorized, "a bad token is unauthorized");

await anon.oauth.revoke({ ...creds, token: access });
const after = await anon.oauth.introspect({ ...creds, token: access });
expect(after.active === false, "oauth.revoke, then introspect is inactive");
await expectCode(() => notion.users.me({}), APIErrorCode.Unauthorized, "calls after revoke are unauthorized");
console.log("js sdk interop: all passed");

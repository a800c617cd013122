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

// Page content: append, insert at the start, list with pagination, update, delete.
const rt = (content, extra = {}) => [{ type: "text", text: { content, link: null }, ...extra }];
const appended = await notion.blocks.children.append({
  block_id: env.PG_PARENT_ID,
  children: [
    { object: "block", type: "heading_2", heading_2: { rich_text: rt("SDK notes") } },
    { type: "paragraph", paragraph: { rich_text: rt("Written by the JS SDK", { annotations: { bold: true } }) } },
    { type: "to_do", to_do: { rich_text: rt("Check it"), checked: false } },
    { type: "code", code: { rich_text: rt("npm ci"), language: "shell" } },
  ],
});
expect(
  appended.results.length === 4 &&
    appended.results[1].type === "paragraph" &&
    appended.results[1].paragraph.rich_text[0].plain_text === "Written by the JS SDK" &&
    appended.results[1].paragraph.rich_text[0].annotations.bold === true &&
    appended.results[3].code.language === "shell",
  "blocks.children.append",
);
await notion.blocks.children.append({
  block_id: env.PG_PARENT_ID,
  children: [{ paragraph: { rich_text: rt("First line") } }],
  position: { type: "start" },
});
async function listAll(block_id) {
  const out = [];
  let next;
  do {
    const r = await notion.blocks.children.list({ block_id, page_size: 2, ...(next ? { start_cursor: next } : {}) });
    out.push(...r.results);
    next = r.has_more ? r.next_cursor : undefined;
  } while (next);
  return out;
}
const text = (b) => (b.type === "child_page" ? `page:${b.child_page.title}` : (b[b.type].rich_text || []).map((t) => t.plain_text).join(""));
let listed = (await listAll(env.PG_PARENT_ID)).map(text);
expect(
  JSON.stringify(listed.slice(0, 5)) === JSON.stringify(["First line", "SDK notes", "Written by the JS SDK", "Check it", "npm ci"]) &&
    listed.slice(5).every((t) => t.startsWith("page:")),
  `blocks.children.list, paginated (${listed.length} children)`,
);
const todoId = appended.results[2].id;
const updated = await notion.blocks.update({ block_id: todoId, to_do: { checked: true } });
expect(updated.to_do.checked === true && updated.to_do.rich_text[0].plain_text === "Check it", "blocks.update");
const got = await notion.blocks.retrieve({ block_id: todoId });
expect(got.type === "to_do" && got.to_do.checked === true, "blocks.retrieve");
const deleted = await notion.blocks.delete({ block_id: appended.results[1].id });
expect(deleted.in_trash === true, "blocks.delete");
listed = (await listAll(env.PG_PARENT_ID)).map(text);
expect(!listed.includes("Written by the JS SDK"), "a deleted block is gone from the list");
await expectCode(
  () => notion.blocks.children.append({ block_id: env.PG_PARENT_ID, children: [{ paragraph: { rich_text: rt("x".repeat(2001)) } }] }),
  APIErrorCode.ValidationError,
  "2,001 characters are a validation error",
);
await expectCode(
  () => notion.blocks.children.append({ block_id: env.PG_UNSHARED_ID, children: [{ paragraph: { rich_text: rt("x") } }] }),
  APIErrorCode.ObjectNotFound,
  "appending to an unshared page",
);

await expectCode(() => new Client({ auth: "not-a-token", baseUrl, retry: false }).users.me({}),
  APIErrorCode.Unauthorized, "a bad token is unauthorized");

await anon.oauth.revoke({ ...creds, token: access });
const after = await anon.oauth.introspect({ ...creds, token: access });
expect(after.active === false, "oauth.revoke, then introspect is inactive");
await expectCode(() => notion.users.me({}), APIErrorCode.Unauthorized, "calls after revoke are unauthorized");
console.log("js sdk interop: all passed");

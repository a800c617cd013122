// node-oidc-provider configured as close to pagegrant as it allows, for
// `scripts/bench --peer` (never run by CI). scripts/bench installs
// `oidc-provider` with npm into a temporary folder, copies this file there and
// runs it pinned to the server core.
//
// - one confidential client (client_secret_basic), PKCE required (S256 only),
//   prompt=consent on every authorization so each flow shows a consent page
//   as pagegrant's does;
// - ES256 JWT access tokens via a resource indicator (RFC 8707), one hour,
//   like pagegrant's RFC 9068 tokens; no `openid` scope, so no ID token;
// - refresh tokens for every code (pagegrant issues one with every grant),
//   rotation on every use, and grants that outlive the login session (as
//   pagegrant's do; by default they would end with it, lacking offline_access);
// - its default adapter: everything in the process's memory (pagegrant
//   writes every grant durably to SQLite), with the adapter's LRU bound
//   raised from 1,000 entries to 10 million: at 1,000 it evicts live codes
//   and refresh tokens within a second of load ("authorization code not
//   found"), and a real deployment would not lose them;
// - login and consent through its dev interactions.
//
// env: PEER_PORT, PEER_CLIENTS_FILE (JSON array of {client_id,
// client_secret}), PEER_REDIRECT. Prints "ready" when it listens.
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PEER_PORT);
const issuer = `http://127.0.0.1:${port}`;
const audience = `${issuer}/v1`;
const redirect = process.env.PEER_REDIRECT;
const clients = JSON.parse(readFileSync(process.env.PEER_CLIENTS_FILE, 'utf8')).map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: [redirect],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  // Its only key is ES256 (no ID token is issued: no `openid` scope).
  id_token_signed_response_alg: 'ES256',
}));

const store = new LRU({ maxSize: 10_000_000 });

const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients,
  adapter: (model) => new MemoryAdapter(model, store),
  jwks: { keys: [jwk] },
  scopes: ['read_content'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Without offline_access its codes and tokens die with the login session;
  // pagegrant's grants outlive the session that consented.
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    RefreshToken: 7776000,
    Interaction: 900,
    Session: 604800,
    Grant: 7776000,
  },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read_content',
        audience,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
// Errors are answers here, not news: keep the console quiet under load.
provider.on('server_error', (ctx, err) => console.error('server_error', err));
// PEER_DEBUG=1 logs why grants were refused (scripts/bench counts them as errors).
if (process.env.PEER_DEBUG) {
  for (const e of ['grant.error', 'introspection.error', 'authorization.error']) {
    provider.on(e, (ctx, err) => console.error(e, err.message, err.error_detail));
  }
}

provider.listen(port, '127.0.0.1', () => console.log('ready'));

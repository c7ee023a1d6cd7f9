// Owns the node side of virga-testkit's OpenID Connect provider: a real
// oidc-provider instance on loopback, configured from JSON in the
// VIRGA_OIDC_CONFIG environment variable, with a password login that checks
// the configured users and grants consent on its own.
//
// Config: { "port": 0, "clients": [client metadata...], "users": [{ "sub",
// "password", "email", "email_verified", "name", "preferred_username",
// "groups" }] }. Once listening it prints one line
// `virga-oidc-provider ready http://127.0.0.1:<port>` on stdout; it exits
// when its stdin closes, so it never outlives the test process that owns it.

import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const READY = 'virga-oidc-provider ready';
const config = JSON.parse(process.env.VIRGA_OIDC_CONFIG ?? '{}');
const users = new Map((config.users ?? []).map((user) => [user.sub, user]));

// The owner holds the write end of our stdin; when it dies, for whatever
// reason, the pipe closes and so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

// Bind before building the provider: with port 0 the issuer URL is only
// known once the kernel has picked the port, and binding first means no
// other process can take it in between.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port ?? 0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// A fresh RS256 key per run: tests must fetch it from jwks_uri rather than
// trust a key baked in somewhere.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig',
};

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map(clientMetadata),
  findAccount,
  // Which claims each scope releases; `groups` is not a standard scope.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // By default claims asked for by scope go only to userinfo when an access
  // token is issued too; Virga reads them from the id_token.
  conformIdTokenClaims: false,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // devInteractions accepts any password; ours below checks them.
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

provider.use(interactions);
server.on('request', provider.callback());
console.log(`${READY} ${issuer}`);

function clientMetadata(client) {
  const metadata = {
    client_id: client.client_id,
    redirect_uris: client.redirect_uris,
    grant_types: client.grant_types ?? ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: client.token_endpoint_auth_method
      ?? (client.client_secret ? 'client_secret_basic' : 'none'),
  };
  if (client.client_secret) metadata.client_secret = client.client_secret;
  if (client.application_type) metadata.application_type = client.application_type;
  return metadata;
}

async function findAccount(_ctx, sub) {
  const user = users.get(sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    // Everything the user has: the provider masks it down to what the
    // granted scopes release.
    async claims() {
      return {
        sub,
        email: user.email,
        email_verified: user.email_verified ?? true,
        name: user.name,
        preferred_username: user.preferred_username,
        groups: user.groups ?? [],
      };
    },
  };
}

// Koa middleware for /interaction/<uid>[/login]: a login form, its POST,
// and automatic consent to whatever the client asked for.
async function interactions(ctx, next) {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    // Typically SessionNotFound: the interaction cookie is missing or stale.
    ctx.status = 400;
    ctx.body = `interaction ${match[1]}: ${err.message}`;
    return undefined;
  }
  const { uid, prompt } = details;
  if (!match[2] && ctx.method === 'GET') {
    if (prompt.name === 'login') return loginForm(ctx, uid, 200, '');
    if (prompt.name === 'consent') return finish(ctx, await consent(details), true);
  } else if (match[2] && ctx.method === 'POST' && prompt.name === 'login') {
    const form = new URLSearchParams(await body(ctx.req));
    const user = checkPassword(form.get('login') ?? '', form.get('password') ?? '');
    if (!user) return loginForm(ctx, uid, 401, 'invalid login or password');
    return finish(ctx, { login: { accountId: user.sub, remember: false } }, false);
  }
  ctx.status = 400;
  ctx.body = `unexpected ${ctx.method} ${ctx.path} at prompt ${prompt.name}`;
  return undefined;
}

async function finish(ctx, result, merge) {
  const to = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: merge,
  });
  ctx.status = 303;
  ctx.redirect(to);
}

// Grants exactly what the consent prompt says is missing.
async function consent({ grantId, params, prompt: { details }, session }) {
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const saved = await grant.save();
  return { consent: grantId ? {} : { grantId: saved } };
}

// The login field names a user by sub or by preferred_username.
function checkPassword(login, password) {
  const user = users.get(login)
    ?? [...users.values()].find((u) => u.preferred_username === login);
  if (!user) return undefined;
  const [given, want] = [Buffer.from(password), Buffer.from(user.password)];
  return given.length === want.length && timingSafeEqual(given, want) ? user : undefined;
}

function loginForm(ctx, uid, status, error) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = `<!doctype html><title>Sign in</title>
<p class="error">${error}</p>
<form method="post" action="/interaction/${uid}/login">
<input name="login"><input name="password" type="password"><button>Sign in</button>
</form>`;
}

async function body(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

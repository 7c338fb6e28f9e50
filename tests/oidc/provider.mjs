// A certified OpenID Connect provider (node-oidc-provider) on loopback, for the tests.
//
// Configured from the environment by tests/oidc_provider.py:
//   OIDC_TEST_PORT      the loopback port to listen on
//   OIDC_TEST_CLIENTS   JSON list of client metadata (client_id, client_secret,
//                       redirect_uris, post_logout_redirect_uris, backchannel_logout_uri)
//   OIDC_TEST_ACCOUNTS  JSON object: account id -> its claims (email, groups, ...)
//   OIDC_TEST_CLOCK_OFFSET  seconds added to this provider's clock (a negative offset
//                       makes tokens that are already expired for the app)
// It prints "listening <issuer>" once it serves. Its sign-in page takes an account id
// (the tests' users have no passwords) and grants what the client asks for; a test may
// change an account's claims with POST /test/accounts/<id> (JSON body) while it runs.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const offset = Number(process.env.OIDC_TEST_CLOCK_OFFSET || 0) * 1000;
if (offset) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}

const port = Number(process.env.OIDC_TEST_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');
const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS || '[]');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    backchannel_logout_session_required: true,
    ...client,
  })),
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
  // Every client must use PKCE (S256), not only public ones.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><main><h1>Sign out of the test provider?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></main></body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // The provider refuses to call loopback addresses (its SSRF guard); the app under test
  // is on loopback, so back-channel logouts go out through a plain fetch.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 3600, Session: 86400, Grant: 86400 },
});

// What the tests' failures need to see: each back-channel logout sent, and errors.
provider.on('backchannel.success', (ctx, client, accountId, sid) => console.log(`backchannel.success ${client.clientId} ${accountId} ${sid}`));
provider.on('backchannel.error', (ctx, error, client) => console.log(`backchannel.error ${client.clientId} ${error}`));
provider.on('end_session.success', () => console.log('end_session.success'));
provider.on('server_error', (ctx, error) => console.log(`server_error ${error}`));

function page(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider</title></head><body><main>${body}</main></body></html>`);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString();
}

async function interaction(req, res, uid, submitted) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'wrong interaction');
  if (details.prompt.name === 'login') {
    if (submitted === undefined) {
      return page(res, 200, `<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${uid}/login"><label for="login">Account</label>
<input id="login" name="login" autofocus><button type="submit">Sign in</button></form>`);
    }
    const login = new URLSearchParams(submitted).get('login') || '';
    if (!accounts[login]) return page(res, 403, 'no such account');
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  // Consent: grant what the client asked for.
  const { missingOIDCScope = [], missingOIDCClaims = [] } = details.prompt.details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  if (missingOIDCScope.length) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims.length) grant.addOIDCClaims(missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const step = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
    if (step) {
      const submitted = req.method === 'POST' ? await readBody(req) : undefined;
      return await interaction(req, res, step[1], submitted);
    }
    const change = url.pathname.match(/^\/test\/accounts\/([\w-]+)$/);
    if (change && req.method === 'POST') {
      const claims = JSON.parse(await readBody(req));
      if (claims === null) delete accounts[change[1]];
      else accounts[change[1]] = claims;
      res.writeHead(204).end();
      return;
    }
    return callback(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) page(res, 500, 'error');
  }
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

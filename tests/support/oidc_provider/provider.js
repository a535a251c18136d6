// A real OpenID provider (panva's oidc-provider) for the Rathaus OIDC sign-in tests.
//
//   OIDC_CLIENTS='[{"client_id": …, "client_secret": …, "redirect_uris": […]}]' node provider.js [PORT]
//
// Listens on 127.0.0.1 only (PORT 0 or absent: a free port chosen by the kernel), then prints one
// line `READY {"issuer": "http://127.0.0.1:PORT"}` on stdout.
//
// Interaction without a browser: instead of the development login and consent pages, the
// interaction route signs in the test user named by the authorization request's standard
// `login_hint` parameter and grants every requested scope in one step; an unknown or missing
// login_hint ends the request with `error=access_denied`, as if the person had refused.
// A test therefore only follows redirects from the authorization URL to its redirect_uri.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';

// Test people, by the name given as login_hint. `sub` differs from the user name on purpose.
const USERS = {
  anna: {
    sub: 'a1b2c3d4-anna',
    preferred_username: 'anna',
    name: 'Anna Schmidt',
    email: 'anna.schmidt@rathaus.example',
    email_verified: true,
    groups: ['ratsmitglieder'],
  },
  // No preferred_username, no name: Rathaus falls back to the e-mail address.
  bernd: {
    sub: 'b2c3d4e5-bernd',
    email: 'bernd@rathaus.example',
  },
  // Nothing but a subject.
  carla: {
    sub: 'c3d4e5f6-carla',
  },
};

const BY_SUB = new Map(Object.values(USERS).map((user) => [user.sub, user]));

function clientsFromEnvironment() {
  const raw = process.env.OIDC_CLIENTS;
  if (!raw) {
    throw new Error('OIDC_CLIENTS (a JSON array of client metadata) is not set');
  }
  return JSON.parse(raw).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...client,
  }));
}

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

function configuration() {
  return {
    clients: clientsFromEnvironment(),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    async findAccount(_ctx, sub) {
      const user = BY_SUB.get(sub);
      if (!user) {
        return undefined;
      }
      return {
        accountId: sub,
        async claims() {
          return { ...user };
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'groups'],
      email: ['email', 'email_verified'],
    },
    // Put the scopes' claims into the ID token, not only into the userinfo response.
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The provider's own error page, without the development stack details.
    renderError(ctx, out) {
      ctx.type = 'text';
      ctx.body = `${out.error}: ${out.error_description ?? ''}`;
    },
  };
}

async function signInByLoginHint(provider, ctx) {
  const { prompt, params, session } = await provider.interactionDetails(ctx.req, ctx.res);
  const user = USERS[params.login_hint];
  let result;
  if (!user) {
    result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  } else {
    const accountId = session?.accountId ?? user.sub;
    const grant = new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    result = {
      ...(prompt.name === 'login' ? { login: { accountId } } : {}),
      consent: { grantId: await grant.save() },
    };
  }
  ctx.status = 303;
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  }));
}

function interactionRoutes(provider) {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) {
      return next();
    }
    try {
      return await signInByLoginHint(provider, ctx);
    } catch (err) {
      if (err instanceof errors.SessionNotFound) {
        ctx.status = 400;
        ctx.body = 'interaction session not found';
        return undefined;
      }
      throw err;
    }
  };
}

const server = http.createServer();
server.listen(Number(process.argv[2] ?? process.env.PORT ?? 0), HOST, () => {
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.use(interactionRoutes(provider));
  server.on('request', provider.callback());
  process.stdout.write(`READY ${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

// Configuration of the node-oidc-provider peer of benchmarks/idp.
//
// Built to do the same work as the GovTrust hub in the benchmark:
//
// * `bench-machine`: client_credentials (client_secret_basic) issuing JWT
//   access tokens (RFC 9068, typ at+jwt) signed ES256 for one resource server,
//   through features.clientCredentials + features.resourceIndicators with
//   accessTokenFormat 'jwt' — the hub signs its access tokens ES256 too;
// * `bench-web`: authorization_code (client_secret_basic) with PKCE S256
//   required, ID tokens RS256 — the hub's default; first party, so an
//   existing grant is made without a consent screen (the hub skips consent
//   for first-party clients too);
// * `bench-3p`: the same, third party: the consent interaction runs.
//
// Storage is the provider's in-memory adapter: per process, no database, no
// disk. The benchmark keeps every login on one TCP connection, so all its
// requests reach the same cluster worker (see server.js).

import { errors } from 'oidc-provider';

export const RESOURCE = 'urn:govtrust:bench:api';
export const MACHINE_SCOPES = 'seal:sign license:issue';
export const FIRST_PARTY = new Set(['bench-web']);

/**
 * @param {object} o
 * @param {string} o.issuer
 * @param {string} o.redirectUri
 * @param {string} o.secret          client secret of every bench client
 * @param {object} o.jwks            private JWK Set (RSA for ID tokens, EC P-256 for access tokens)
 * @param {string[]} o.cookieKeys    keys signing the provider's cookies
 * @param {Map<string, object>} o.accounts  account id -> { id, username, name }
 */
export function providerConfig({ issuer, redirectUri, secret, jwks, cookieKeys, accounts }) {
  const web = (client_id) => ({
    client_id,
    client_secret: secret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    id_token_signed_response_alg: 'RS256',
    scope: 'openid profile',
  });

  return {
    clients: [
      web('bench-web'),
      web('bench-3p'),
      {
        client_id: 'bench-machine',
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: MACHINE_SCOPES,
      },
    ],
    jwks,
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'profile', ...MACHINE_SCOPES.split(' ')],
    claims: { openid: ['sub'], profile: ['name'] },
    pkce: { required: () => true }, // as the hub: every client, S256 only
    features: {
      devInteractions: { enabled: false }, // server.js implements the interactions
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) =>
          oneOf ?? (client.clientId === 'bench-machine' ? RESOURCE : undefined),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: MACHINE_SCOPES,
            audience: RESOURCE,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: 600,
      ClientCredentials: 600,
      AuthorizationCode: 120,
      IdToken: 600,
      Interaction: 900,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    async findAccount(ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, name: account.name };
        },
      };
    },
    // First-party clients get their grant without a consent screen (the usual
    // recipe for skipping consent); others go through the consent interaction.
    async loadExistingGrant(ctx) {
      const { client, session, result, provider } = ctx.oidc;
      const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) return provider.Grant.find(grantId);
      if (!FIRST_PARTY.has(client.clientId)) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile');
      await grant.save();
      session.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
  };
}

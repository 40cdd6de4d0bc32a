// node-oidc-provider peer of benchmarks/idp, run as WORKERS processes (node:cluster),
// like the hub's two gunicorn workers.
//
//   node server.js CONFIG.json
//
// CONFIG.json (written by ../bench.py): { "port", "issuer", "workers",
// "redirect_uri", "secret", "accounts": [{ "id", "username", "password", "name" }] }.
//
// The primary makes the signing keys (RSA-2048 for RS256 ID tokens, P-256 for
// ES256 access tokens) and the cookie keys once and hands them to every worker,
// so that tokens from either worker verify against one JWKS. It prints
// "READY <port>" when every worker listens, and stops the workers on SIGTERM.
//
// Interactions (what the provider's devInteractions would do, minus the UI):
//   GET  /interaction/:uid          the login form, or the consent form
//   POST /interaction/:uid/login    username + password -> interactionFinished({ login })
//   POST /interaction/:uid/confirm  consent -> Grant -> interactionFinished({ consent })
// Passwords are compared in constant time WITHOUT a password hash (the
// provider's example accounts have none) — the hub runs argon2id.

import cluster from 'node:cluster';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

import { providerConfig } from './provider.config.js';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

if (cluster.isPrimary) {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const jwk = (key, alg) => {
    const out = { ...key.export({ format: 'jwk' }), alg, use: 'sig' };
    out.kid = crypto.createHash('sha256').update(JSON.stringify(out)).digest('base64url').slice(0, 16);
    return out;
  };
  const shared = JSON.stringify({
    jwks: { keys: [jwk(rsa, 'RS256'), jwk(ec, 'ES256')] },
    cookieKeys: [crypto.randomBytes(32).toString('base64url')],
  });
  let listening = 0;
  let stopping = false;
  const workers = [];
  for (let i = 0; i < (config.workers || 2); i += 1) {
    const worker = cluster.fork({ BENCH_SHARED: shared });
    worker.on('listening', () => {
      listening += 1;
      if (listening === workers.length) process.stdout.write(`READY ${config.port}\n`);
    });
    workers.push(worker);
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`worker ${worker.process.pid} exited (${code ?? signal})\n`);
      process.exitCode = 1;
    }
  });
  const stop = () => {
    stopping = true;
    for (const w of workers) w.kill('SIGTERM');
    setTimeout(() => process.exit(), 200).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { jwks, cookieKeys } = JSON.parse(process.env.BENCH_SHARED);
  const byId = new Map();
  const byUsername = new Map();
  for (const a of config.accounts) {
    byId.set(a.id, a);
    byUsername.set(a.username, a);
  }
  const provider = new Provider(
    config.issuer,
    providerConfig({
      issuer: config.issuer,
      redirectUri: config.redirect_uri,
      secret: config.secret,
      jwks,
      cookieKeys,
      accounts: byId,
    }),
  );
  const callback = provider.callback();

  const digest = (s) => crypto.createHash('sha256').update(String(s)).digest();
  const passwordOk = (account, password) =>
    crypto.timingSafeEqual(digest(account ? account.password : ''), digest(password)) && !!account;

  const readForm = (req) =>
    new Promise((resolve, reject) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
        if (body.length > 8192) reject(new Error('form too large'));
      });
      req.on('end', () => resolve(new URLSearchParams(body)));
      req.on('error', reject);
    });

  const page = (res, status, html) => {
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(html),
    });
    res.end(html);
  };
  const loginForm = (uid, error) =>
    `<!doctype html><title>Sign in</title>${error ? '<p role="alert">Sign-in failed</p>' : ''}` +
    `<form method="post" action="/interaction/${uid}/login">` +
    '<input type="text" name="username" autocomplete="username" required>' +
    '<input type="password" name="password" autocomplete="current-password" required>' +
    '<button type="submit">Sign in</button></form>';
  const consentForm = (uid, details) =>
    `<!doctype html><title>Consent</title><p>${details.params.client_id} asks for ` +
    `${[...(details.prompt.details.missingOIDCScope || [])].join(' ')}</p>` +
    `<form method="post" action="/interaction/${uid}/confirm">` +
    '<button type="submit" name="decision" value="allow">Allow</button></form>';

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return page(res, 400, 'interaction mismatch');
    const prompt = details.prompt.name;
    if (req.method === 'GET' && !action) {
      return page(res, 200, prompt === 'login' ? loginForm(uid) : consentForm(uid, details));
    }
    if (req.method !== 'POST') return page(res, 405, 'method not allowed');
    const form = await readForm(req);
    if (action === 'login' && prompt === 'login') {
      const account = byUsername.get(form.get('username') || '');
      if (!passwordOk(account, form.get('password') || '')) return page(res, 200, loginForm(uid, true));
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.id } },
        { mergeWithLastSubmission: false },
      );
    }
    if (action === 'confirm' && prompt === 'consent') {
      if (form.get('decision') !== 'allow') {
        return provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: 'the user denied the request',
        });
      }
      const { grantId, session, params } = details;
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      return provider.interactionFinished(
        req,
        res,
        { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true },
      );
    }
    return page(res, 400, `unexpected ${action} during ${prompt}`);
  }

  const route = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm))?$/;
  http
    .createServer((req, res) => {
      const m = route.exec(new URL(req.url, config.issuer).pathname);
      if (!m) return callback(req, res);
      return interaction(req, res, m[1], m[2]).catch((err) => {
        if (!res.headersSent) page(res, err.statusCode || 500, String(err.message || err));
        else res.end();
      });
    })
    .listen(config.port, '127.0.0.1');
}

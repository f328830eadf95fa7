import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

// A stand-in for Backstage's auth backend, for the package tests that run
// the scaffolder actions and cards outside a Backstage app: it signs user
// tokens as the auth backend does by default (ES256, typ vnd.backstage.user,
// sub and no ent claim) and serves the two endpoints Cairn reads, the key
// set and the user info that names the user's groups. The real auth backend
// is tested in app.browser.test.ts.

/** A signed-in user: their entity reference and the groups they belong to. */
export type BackstageUser = { ref: string; groups: string[] };

export type BackstageAuth = {
  /** The backend's base URL; the auth plugin is under /api/auth. */
  url: string;
  /** A user token for user, as the auth backend issues it on sign-in. */
  token(user: BackstageUser, options?: { expiresInSeconds?: number }): string;
  stop(): Promise<void>;
};

const base64url = (data: Buffer | string) =>
  Buffer.from(data).toString('base64url');

export async function startBackstageAuth(): Promise<BackstageAuth> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  const kid = randomUUID();
  const jwk = {
    ...publicKey.export({ format: 'jwk' }),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
  // The references user info answers, by the token it was asked with.
  const ownership = new Map<string, string[]>();

  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/api/auth/.well-known/jwks.json') {
      reply(200, { keys: [jwk] });
      return;
    }
    if (req.url === '/api/auth/v1/userinfo') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const ent = token ? ownership.get(token) : undefined;
      if (!token || !ent) {
        reply(401, { error: { name: 'AuthenticationError' } });
        return;
      }
      reply(200, { claims: { sub: ent[0], ent } });
      return;
    }
    reply(404, { error: { name: 'NotFoundError' } });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token(user, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'ES256', kid, typ: 'vnd.backstage.user' };
      const claims = {
        iss: `${url}/api/auth`,
        sub: user.ref,
        aud: 'backstage',
        iat: now,
        exp: now + (options.expiresInSeconds ?? 3600),
        uip: base64url(randomUUID()),
      };
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(
        JSON.stringify(claims),
      )}`;
      const signature = sign('sha256', Buffer.from(signingInput), {
        key: privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      const token = `${signingInput}.${base64url(signature)}`;
      ownership.set(token, [user.ref, ...user.groups]);
      return token;
    },
    stop: () => new Promise(resolve => server.close(() => resolve())),
  };
}

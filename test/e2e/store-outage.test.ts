import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { type PgCluster, pgClusterUnavailable, startPgCluster } from '../helpers/pg-cluster.js';
import { runCli, type Server, startServer } from '../helpers/process.js';

// A PostgreSQL outage under traffic: an author instance and an IMS on a throwaway cluster of
// their own (never the machine's shared server), the cluster stopped and started again twice
// (a fast stop, then an immediate one, as a crash) while requests keep coming.
const skip = pgClusterUnavailable();
if (skip) console.warn(`skipping the store-outage test: ${skip}`);

const PASSWORD = 'outage-admin-password';
const ADMIN = basic('admin', PASSWORD);
const root = mkdtempSync(join(tmpdir(), 'lk-outage-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  readonly kind: string;
  readonly status: number | 'network';
  readonly error?: string;
  readonly retryAfter?: string | null;
}

describe.skipIf(skip)('store outage', () => {
  let cluster: PgCluster;
  let ims: Server;
  let author: Server;
  let credentials: { clientId: string; clientSecret: string };
  const outcomes: Outcome[] = [];
  /** Writes the servers acknowledged: they must all be there after the outages. */
  const written = { paths: [] as string[], clients: [] as string[] };

  beforeAll(async () => {
    cluster = await startPgCluster();
    ims = await startServer(
      [
        'serve',
        'ims',
        '--port',
        '0',
        '--data',
        join(root, 'ims'),
        '--db',
        `${cluster.url}?schema=ims`,
      ],
      { LATCHKEY_ADMIN_PASSWORD: PASSWORD },
      'ims',
    );
    author = await startServer(
      [
        'serve',
        'author',
        '--port',
        '0',
        '--data',
        join(root, 'author'),
        '--db',
        `${cluster.url}?schema=author`,
        '--ims',
        ims.url,
      ],
      {
        LATCHKEY_ADMIN_PASSWORD: PASSWORD,
        LATCHKEY_IMS_REVOCATION_POLL_MS: '1000',
        // Its log says when the change notifications (LISTEN) are lost and resumed.
        LATCHKEY_LOG_LEVEL: 'info',
      },
      'author',
    );
    const created = await fetch(`${ims.url}/ims/admin/credentials`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams({ environment: 'p1-e1' }),
    });
    expect(created.status).toBe(201);
    const json = (await created.json()) as {
      integration: { technicalAccount: { clientId: string; clientSecret: string } };
    };
    credentials = json.integration.technicalAccount;
    written.clients.push(credentials.clientId);
  }, 120_000);

  afterAll(async () => {
    await author?.stop();
    await ims?.stop();
    cluster?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  /** One request of a kind; every answer is recorded, a write acknowledged is remembered. */
  const request = async (kind: string, n: number): Promise<void> => {
    let res: Response;
    try {
      switch (kind) {
        case 'author write':
          res = await fetch(`${author.url}/content/outage/n${n}`, {
            method: 'POST',
            headers: { authorization: ADMIN },
            body: new URLSearchParams({ 'jcr:title': `write ${n}` }),
          });
          if (res.status === 201) written.paths.push(`/content/outage/n${n}`);
          break;
        case 'author read':
          res = await fetch(`${author.url}/content.1.json`, { headers: { authorization: ADMIN } });
          break;
        case 'ims write':
          res = await fetch(`${ims.url}/ims/admin/credentials`, {
            method: 'POST',
            headers: { authorization: ADMIN },
            body: new URLSearchParams({ environment: 'p1-e1' }),
          });
          if (res.status === 201) {
            const body = (await res.clone().json()) as {
              integration: { technicalAccount: { clientId: string } };
            };
            written.clients.push(body.integration.technicalAccount.clientId);
          }
          break;
        default:
          res = await fetch(`${ims.url}/ims/token/v3`, {
            method: 'POST',
            body: new URLSearchParams({
              grant_type: 'client_credentials',
              client_id: credentials.clientId,
              client_secret: credentials.clientSecret,
            }),
          });
      }
    } catch {
      outcomes.push({ kind, status: 'network' });
      return;
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    outcomes.push({
      kind,
      status: res.status,
      ...(body.error !== undefined ? { error: body.error } : {}),
      retryAfter: res.headers.get('retry-after'),
    });
  };

  /** Requests of every kind, a few at once, until `stop` resolves. */
  const traffic = (stop: Promise<void>) => {
    let running = true;
    void stop.then(() => {
      running = false;
    });
    let n = outcomes.length * 10;
    const worker = async (kind: string) => {
      while (running) {
        await request(kind, n++);
        await sleep(25);
      }
    };
    return Promise.all(
      ['author write', 'author write', 'author read', 'ims write', 'ims token'].map(worker),
    );
  };

  const health = async (server: Server) => {
    const res = await fetch(`${server.url}/system/health`);
    const body = (await res.json()) as {
      status: string;
      checks: { name: string; status: string; message: string }[];
    };
    return { status: res.status, store: body.checks.find((c) => c.name === 'store')! };
  };

  const waitForHealth = async (server: Server, wanted: number) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const h = await health(server);
      if (h.status === wanted) return h;
      if (Date.now() > until) throw new Error(`health stayed ${h.status}: ${h.store.message}`);
      await sleep(200);
    }
  };

  it.each([['fast'], ['immediate']] as const)(
    'PostgreSQL stopped (%s) under traffic: 503 store_unavailable with Retry-After, never a 500; health says so; recovery by itself',
    async (mode) => {
      const from = outcomes.length;
      let endTraffic!: () => void;
      const load = traffic(
        new Promise<void>((r) => {
          endTraffic = r;
        }),
      );
      await sleep(1500);
      const before = outcomes.length;
      expect(before - from).toBeGreaterThan(5);

      cluster.stop(mode);
      const stoppedAt = outcomes.length;
      await sleep(2500);
      // Health says why, on both servers.
      for (const server of [author, ims]) {
        const h = await waitForHealth(server, 503);
        expect(h.store.status).toBe('red');
        expect(h.store.message).toMatch(/^store_unavailable: /);
      }
      const during = outcomes.slice(stoppedAt);

      cluster.start();
      // Nothing restarted on latchkey's side: the same processes recover by themselves.
      await waitForHealth(author, 200);
      await waitForHealth(ims, 200);
      const recoveredAt = outcomes.length;
      await sleep(1500);
      endTraffic();
      await load;
      const after = outcomes.slice(recoveredAt);

      // Never a 500 or a dropped connection: 2xx, or 503 store_unavailable with Retry-After.
      const bad = outcomes
        .slice(from)
        .filter(
          (o) =>
            o.status === 'network' ||
            (o.status >= 300 && !(o.status === 503 && o.error === 'store_unavailable')),
        );
      expect(bad).toEqual([]);
      for (const o of outcomes.slice(from).filter((x) => x.status === 503)) {
        expect(o.retryAfter).toBe('5');
      }
      // Every kind of request met the outage, and every kind works again afterwards.
      for (const kind of ['author write', 'author read', 'ims write', 'ims token']) {
        expect(
          during.filter((o) => o.kind === kind && o.error === 'store_unavailable').length,
          kind,
        ).toBeGreaterThan(0);
        expect(
          after.filter((o) => o.kind === kind && o.status !== 503).length,
          kind,
        ).toBeGreaterThan(0);
        expect(after.slice(-3).filter((o) => o.kind === kind && o.status === 503)).toEqual([]);
      }
      expect(author.child.exitCode).toBe(null);
      expect(ims.child.exitCode).toBe(null);
      // The instance's change-notification connection (LISTEN) came back by itself too, and
      // re-read its caches (what changed meanwhile is not missed). Regression: the resync event
      // was dropped as a local one, so nothing was re-read until the caches expired.
      const resumed = () => (author.stdout().match(/change notifications resumed/g) ?? []).length;
      const until = Date.now() + 15_000; // it reconnects with a growing pause, at most 5 s
      while (resumed() < (mode === 'fast' ? 1 : 2) && Date.now() < until) await sleep(100);
      expect(resumed()).toBe(mode === 'fast' ? 1 : 2);
    },
    180_000,
  );

  it('every write acknowledged before, between and after the outages is there', async () => {
    expect(written.paths.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (let i = 0; i < written.paths.length; i += 20) {
      await Promise.all(
        written.paths.slice(i, i + 20).map(async (path) => {
          const res = await fetch(`${author.url}${path}.json`, {
            headers: { authorization: ADMIN },
          });
          const node = (await res.json()) as { 'jcr:title'?: string };
          if (node['jcr:title'] !== `write ${path.slice('/content/outage/n'.length)}`) {
            missing.push(path);
          }
        }),
      );
    }
    expect(missing).toEqual([]);

    const listed = await runCli([
      'credentials',
      'list',
      '--json',
      '--data',
      join(root, 'ims'),
      '--db',
      `${cluster.url}?schema=ims`,
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const ids = (
      JSON.parse(listed.stdout) as { integrations: { clientId: string }[] }
    ).integrations.map((i) => i.clientId);
    expect(written.clients.filter((c) => !ids.includes(c))).toEqual([]);
  });

  it('revocations reach the instance again: a token revoked now is refused', async () => {
    const token = (await (
      await fetch(`${ims.url}/ims/token/v3`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
        }),
      })
    ).json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${token.access_token}` };
    expect((await fetch(`${author.url}/content.json`, { headers: bearer })).status).toBe(200);
    const revoked = await fetch(`${ims.url}/ims/revoke`, {
      method: 'POST',
      body: new URLSearchParams({
        token: token.access_token,
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
      }),
    });
    expect(revoked.status).toBe(200);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      await sleep(100);
      status = (await fetch(`${author.url}/content.json`, { headers: bearer })).status;
    }
    expect(status).toBe(401);
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { campaign } from '../attack/campaign.js';
import { ADMIN, type TestInstance, testInstance } from '../helpers/instance.js';

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ role: 'publish' });
});
afterAll(() => inst.close());

const segment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%00',
    '%',
    '%zz',
    'a.json',
    'a.1.json',
    'x.infinity.tidy.json',
    '.tokens',
    '*',
    '[0]',
  ),
);
const url = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.option(fc.string({ maxLength: 20 })))
  .map(([segments, query]) => {
    const path = `/${segments.map((s) => s.replace(/[?#]/g, '')).join('/')}`;
    return query === null ? path : `${path}?${encodeURIComponent(query)}`;
  })
  // In-process injection parses the URL itself first; raw paths are tested over a socket.
  .filter((u) => {
    try {
      return (
        new URL(u, 'http://localhost').pathname.length > 0 &&
        !u.startsWith('//') &&
        !u.startsWith('/\\')
      );
    } catch {
      return false;
    }
  });

describe('no input crashes the server', () => {
  it('answers any GET path with JSON and a status below 500', async ({ task }) => {
    await campaign(
      task,
      'instance GET paths',
      fc.tuple(url, fc.boolean()),
      async ([u, asAdmin]) => {
        const res = await inst.app.inject({
          method: 'GET',
          url: u,
          headers: asAdmin ? { authorization: ADMIN } : {},
        });
        if (res.statusCode >= 500) return 'crash';
        res.json();
        return res.statusCode < 400 ? 'accepted' : 'refused';
      },
      { sample: 300, full: 1_000, hangMs: 10_000 },
    );
  });

  it('answers any POST form with a status below 500', async ({ task }) => {
    const pair = fc.tuple(
      fc.oneof(
        fc.string({ maxLength: 15 }),
        fc.constantFrom(':operation', 'a@TypeHint', 'a@Delete', 'jcr:primaryType', 'createUser'),
      ),
      fc.oneof(
        fc.string({ maxLength: 15 }),
        fc.constantFrom('Long', 'Date[]', 'delete', '', 'true'),
      ),
    );
    await campaign(
      task,
      'instance POST forms',
      fc.tuple(url, fc.array(pair, { maxLength: 6 })),
      async ([u, pairs]) => {
        const res = await inst.app.inject({
          method: 'POST',
          url: u,
          payload: new URLSearchParams(pairs).toString(),
          headers: { authorization: ADMIN, 'content-type': 'application/x-www-form-urlencoded' },
        });
        if (res.statusCode >= 500) return 'crash';
        return res.statusCode < 400 ? 'accepted' : 'refused';
      },
      { sample: 300, full: 1_000, hangMs: 10_000 },
    );
  });

  it('answers arbitrary bodies and content types with a status below 500', async ({ task }) => {
    await campaign(
      task,
      'instance raw bodies',
      fc.tuple(
        fc.constantFrom(
          'application/json',
          'multipart/form-data',
          'multipart/form-data; boundary=x',
          'text/plain',
          'application/x-www-form-urlencoded',
          '',
        ),
        fc.uint8Array({ maxLength: 200 }),
      ),
      async ([type, body]) => {
        const res = await inst.app.inject({
          method: 'POST',
          url: '/content/fuzz',
          payload: Buffer.from(body),
          headers: { authorization: ADMIN, ...(type ? { 'content-type': type } : {}) },
        });
        if (res.statusCode >= 500) return 'crash';
        return res.statusCode < 400 ? 'accepted' : 'refused';
      },
      { sample: 200, full: 1_000, hangMs: 10_000 },
    );
  });
});

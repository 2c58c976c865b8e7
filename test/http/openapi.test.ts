import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolePagesOf } from '../../src/http/console/register.js';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

// The OpenAPI documents are generated from the route schemas; this checks them against the routes
// the router really has (read from the router itself, not from the generator): every route is
// documented with a summary and its responses, nothing is documented that does not exist, and the
// documents are valid OpenAPI 3.1.
//
// The consoles' pages (/system/console/…, /ims/console/…: HTML for people, forms and their
// assets) are deliberately left out of the API documents: they are not an interface programs
// call, and their forms change with the pages. Each of them is listed by the console that
// registered it, and this test requires exactly those to be missing from the documents, and
// every one of them to be an HTML page (or the console's own CSS and script), not an API.

type Op = { summary?: string; responses?: Record<string, { description?: string }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Op>> };

/** Method and path of every route, from Fastify's own route tree (HEAD routes are implied). */
function routesOf(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    while (stack.length > depth) stack.pop();
    const parent = stack[stack.length - 1]?.path ?? '';
    // The tree prints a wildcard as a child of the path before its slash (`/*`, `/ims/console/*`).
    const segment = m[2] === '*' && !parent.endsWith('/') ? '/*' : m[2]!;
    const path = parent + segment;
    stack.push({ depth, path });
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      routes.push(asDocumented(`${method} ${path}`));
  }
  return routes.sort();
}

/** A route as the OpenAPI document names it (`{param}`, `{path}` for a wildcard). */
function asDocumented(route: string): string {
  return route.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

function operationsOf(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

async function check(app: FastifyInstance, url: string, described = true) {
  const res = await app.inject({ url });
  expect(res.statusCode).toBe(200);
  const doc = res.json() as Doc;
  expect(doc.openapi).toBe('3.1.0');
  const pages = [...consolePagesOf(app)].map(asDocumented).sort();
  const routes = routesOf(app).filter((r) => !pages.includes(r));
  expect(routes.length).toBeGreaterThan(5);
  expect(operationsOf(doc)).toEqual(routes);
  // Every console page exists, is under its console's path, and answers HTML (or its asset).
  expect(pages.length).toBeGreaterThan(3);
  for (const page of pages) {
    const [method, path] = page.split(' ') as [string, string];
    expect(path, page).toMatch(/^\/(ims|system)\/console(\/|$)/);
    expect(routesOf(app), page).toContain(page);
    if (method !== 'GET') continue;
    const res = await app.inject({ url: path.replace(/\{\w+\}/g, 'x') });
    const type = String(res.headers['content-type']);
    if (res.statusCode === 303) expect(res.headers.location, page).toMatch(/\/console\/login\?/);
    else expect(type, page).toMatch(/^text\/(html|css|javascript)/);
  }
  const undocumented = routes.filter((r) => {
    if (!described) return false;
    const [method, path] = r.split(' ') as [string, string];
    const op = doc.paths[path]?.[method.toLowerCase()];
    return (
      !op?.summary ||
      !op.responses ||
      Object.values(op.responses).some(
        (x) => !x.description || x.description === 'Default Response',
      )
    );
  });
  expect(
    undocumented,
    'routes without schema.summary and described responses: add them in the route file (src/http/schemas/)',
  ).toEqual([]);
  const validation = await new Validator().validate(doc as never);
  expect(validation.errors ?? [], JSON.stringify(validation.errors)).toEqual([]);
  expect(validation.valid).toBe(true);
}

let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
beforeAll(async () => {
  ims = await testIms();
  author = await testInstance({ role: 'author', 'ims.url': 'http://127.0.0.1:1' });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

describe('OpenAPI documents', () => {
  it('/ims/openapi.json documents every IMS route but the Developer Console’s pages, and nothing else', () =>
    check(ims.app, '/ims/openapi.json'));

  it('/system/openapi.json documents every instance route but the System Console’s pages, and nothing else', () =>
    check(author.app, '/system/openapi.json'));
});

describe('schemas validate input through the one error mapper', () => {
  it('a field of the wrong shape is 400 invalid_request in the error JSON, never Fastify’s shape', async () => {
    // A repeated field where one value is expected, urlencoded and multipart.
    const urlencoded = await ims.app.inject({
      method: 'POST',
      url: '/ims/token/v3',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&grant_type=password',
    });
    expect(urlencoded.statusCode).toBe(400);
    expect(urlencoded.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining('grant_type'),
    });
    const boundary = 'x-boundary';
    const multipart = await ims.app.inject({
      method: 'POST',
      url: '/ims/exchange/jwt',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: [
        `--${boundary}`,
        'Content-Disposition: form-data; name="jwt_token"; filename="jwt.txt"',
        'Content-Type: text/plain',
        '',
        'not a text field',
        `--${boundary}--`,
        '',
      ].join('\r\n'),
    });
    expect(multipart.statusCode).toBe(400);
    expect(Object.keys(multipart.json())).toEqual(['error', 'error_description']);
    expect(multipart.json().error).toBe('invalid_request');
  });

  it('the query string is checked too, where an endpoint reads it', async () => {
    const res = await ims.app.inject({
      method: 'POST',
      url: '/ims/token/v3?grant_type=client_credentials&grant_type=password',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining('grant_type'),
    });
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsDeployment, httpsDeployment } from '../helpers/interop.js';

// Every snippet of the README's "Clients" section, run as a user runs it: a module in a folder
// holding credentials.json, NODE_EXTRA_CA_CERTS trusting the IMS's CA, against an IMS over HTTPS.
// The tokens a snippet prints must be accepted by an instance (unless the snippet revoked them).

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const section = readme.slice(
  readme.indexOf('\n## Clients\n'),
  readme.indexOf('\n## ', readme.indexOf('\n## Clients\n') + 1),
);
const snippets = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

let d: HttpsDeployment;
beforeAll(async () => {
  d = await httpsDeployment();
});
afterAll(() => d.close());

describe("the README's client snippets", () => {
  it('are there, one or more per client', () => {
    for (const client of ['openid-client', 'jose', '@adobe/aio-lib-ims', '@adobe/jwt-auth'])
      expect(
        snippets.some((s) => s.includes(`from '${client}'`)),
        client,
      ).toBe(true);
  });

  for (const [n, source] of snippets.entries()) {
    const client = /from '((?:@adobe\/)?[a-z-]+)';\n\n/.exec(source)?.[1] ?? `#${n}`;
    it(`snippet ${n + 1} (${client}) runs and its tokens work on an instance`, async () => {
      const { dir } = await d.workspace();
      const run = await d.node({ source }, dir);
      expect(run.code, run.stderr).toBe(0);
      const tokens = [...new Set(run.stdout.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? [])];
      expect(tokens.length, run.stdout).toBeGreaterThan(0);
      for (const token of tokens) {
        // Asked in process: this test's own process does not trust the throwaway CA.
        const check = (
          await d.ims.app.inject({
            method: 'POST',
            url: '/ims/validate_token/v1',
            payload: new URLSearchParams({ token }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          })
        ).json() as { valid: boolean; reason?: string };
        if (!check.valid && check.reason === 'revoked') continue;
        expect(check.valid).toBe(true);
        expect(await d.onAuthor(token)).toBe(200);
      }
    });
  }
});

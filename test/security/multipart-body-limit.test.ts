import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Unauthenticated out-of-memory through multipart bodies: the multipart parser's limits are per
 * part (a thousand fields of `http.bodyLimit` each), so a request without any credentials made
 * the server buffer a thousand times the body limit before a route answered 401; five at once
 * crashed the process. The whole body is now held to `http.bodyLimit`.
 */
const LIMIT = 64 * 1024;
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  author = await testInstance({ role: 'author', 'http.bodyLimit': LIMIT }, { listen: true });
  ims = await testIms({ 'http.bodyLimit': LIMIT });
  const f = formBody([
    ['createUser', ''],
    ['authorizableId', 'alice'],
    ['rep:password', 'alice-pw'],
  ]);
  const created = await http(`${author.url}/libs/granite/security/post/authorizables`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: basicAuth('admin', ADMIN_PASSWORD) },
  });
  expect(created.status).toBe(201);
  const grant = formBody([
    ['principalId', 'alice'],
    ['privilege@jcr:read', 'granted'],
    ['privilege@jcr:write', 'granted'],
  ]);
  await http(`${author.url}/content.modifyAce.json`, {
    method: 'POST',
    body: grant.body,
    headers: { ...grant.headers, authorization: basicAuth('admin', ADMIN_PASSWORD) },
  });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

interface Sent {
  readonly status: number;
  readonly error: string | undefined;
  /** Body bytes the client had handed to the socket when the answer came. */
  readonly written: number;
  readonly total: number;
}

/**
 * What `curl -F p1=<a.txt -F p2=<a.txt …` sends: `fields` text fields (`-F p1=@a.txt`: files)
 * of `size` bytes each,
 * with a Content-Length or (`chunked`) without one, written as fast as the server takes them and
 * no further once it has answered.
 */
function sendFields(
  url: string,
  fields: number,
  size: number,
  options: { chunked?: boolean; files?: boolean; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const boundary = '----attack9';
  const head = (i: number) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="p${i}"${options.files ? `; filename="a${i}.bin"` : ''}\r\n\r\n`,
    );
  const value = Buffer.alloc(size, 'A');
  const tail = Buffer.from(`\r\n`);
  const end = Buffer.from(`--${boundary}--\r\n`);
  const total = fields * (head(0).length + size + tail.length) + end.length;
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          ...(options.chunked ? {} : { 'content-length': String(total) }),
          ...options.headers,
        },
      },
      (res) => {
        answered = true;
        const at = written;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          let error: string | undefined;
          try {
            error = JSON.parse(Buffer.concat(chunks).toString()).error;
          } catch {}
          resolve({ status: res.statusCode ?? 0, error, written: at, total });
        });
      },
    );
    // Writing into a connection the server has closed after answering is expected.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const write = async () => {
      for (let i = 0; i < fields && !answered; i++) {
        for (const chunk of [head(i), value, tail]) {
          written += chunk.length;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          if (answered) return;
        }
      }
      if (!answered) req.end(end);
    };
    write().catch(() => {});
  });
}

// 1000 fields of 64000 bytes: 64 MB, a thousand times the limit.
const FIELDS = 1000;
const SIZE = 64_000;

describe('multipart bodies are held to http.bodyLimit as a whole', () => {
  it('an unauthenticated 64 MB multipart body is refused with 413 before it is read', async () => {
    for (const url of [
      `${author.url}/content/x`,
      `${author.url}/j_security_check`,
      `${ims.url}/ims/token/v3`,
    ]) {
      const sent = await sendFields(url, FIELDS, SIZE);
      expect({ url, status: sent.status, error: sent.error }).toEqual({
        url,
        status: 413,
        error: 'payload_too_large',
      });
      // Answered while most of the body was still unsent (socket buffers hold a few MB).
      expect(sent.written).toBeLessThan(sent.total / 4);
    }
  });

  it('five concurrent chunked bodies (no Content-Length) are cut off at the limit', async () => {
    const sent = await Promise.all(
      Array.from({ length: 5 }, () =>
        sendFields(`${author.url}/content/x`, FIELDS, SIZE, { chunked: true }),
      ),
    );
    for (const s of sent) {
      expect(s.status).toBe(413);
      expect(s.error).toBe('payload_too_large');
      expect(s.written).toBeLessThan(s.total / 4);
    }
    // The server is still there and answers.
    expect((await http(`${author.url}/system/health`)).status).toBe(200);
  });

  it('an editor cannot store a node larger than the limit in many fields or files', async () => {
    const alice = { authorization: basicAuth('alice', 'alice-pw') };
    const fields = await sendFields(`${author.url}/content/big`, 4, LIMIT / 2, { headers: alice });
    expect(fields.status).toBe(413);
    const chunked = await sendFields(`${author.url}/content/big`, 4, LIMIT / 2, {
      headers: alice,
      chunked: true,
    });
    expect(chunked.status).toBe(413);
    const files = await sendFields(`${author.url}/content/big`, 4, LIMIT / 2, {
      headers: alice,
      chunked: true,
      files: true,
    });
    expect(files.status).toBe(413);
    const missing = await http(`${author.url}/content/big.json`, { headers: alice });
    expect(missing.status).toBe(404);
    // Within the limit, a multipart write works as before.
    const small = await sendFields(`${author.url}/content/small`, 4, LIMIT / 8, { headers: alice });
    expect(small.status).toBe(201);
  });
});

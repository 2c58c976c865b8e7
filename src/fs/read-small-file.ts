import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads a file that must be small and regular: a key file, a `storage` file, a Felix
 * `bundle.info` of a crx-quickstart folder someone hands to latchkey. A device (`/dev/zero`
 * under a key file's name), a FIFO (whose read would block the process for ever) or a file over
 * `maxBytes` fails with an error whose `code` says so (`not_a_regular_file`, `file_too_large`),
 * as a missing file fails with `ENOENT`: callers report codes, never contents.
 *
 * @example
 * ```ts
 * const key = readSmallFile(join(dataDir, 'master'), 4096);
 * ```
 */
export function readSmallFile(path: string, maxBytes: number): Buffer {
  // Non-blocking open: opening a FIFO for reading does not wait for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw fileError(`${path} is not a regular file`, 'not_a_regular_file');
    if (stat.size > maxBytes)
      throw fileError(`${path} is larger than ${maxBytes} bytes`, 'file_too_large');
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function fileError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** The most a key file of an AEM install may hold (AEM's are 16 and 32 bytes). */
export const MAX_KEY_FILE_BYTES = 4096;

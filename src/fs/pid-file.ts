import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<data>/<role>.pid`: which process serves a data folder's role. A server writes it once it
 * listens and removes it when it stops; commands that must not change a folder under a running
 * server (`latchkey admin reset-password`) read it. A file left by a process that died is
 * ignored (no such process).
 */
export function pidFileOf(data: string, role: string): string {
  return join(data, `${role}.pid`);
}

/** Records this process as the server of `role` in `data`; returns what removes the record. */
export function holdDataFolder(data: string, role: string): () => void {
  const file = pidFileOf(data, role);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    // Only our own record: another server of the folder may have replaced it.
    if (runningServer(data, role) === process.pid) rmSync(file, { force: true });
  };
}

/** The process id of a running server of `role` in `data`, if any. */
export function runningServer(data: string, role: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFileOf(data, role), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    // No such process (or another user's, which cannot serve this private folder).
    return undefined;
  }
}

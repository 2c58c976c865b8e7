import { isRevokedBy, type RevocationList } from '../../ims/revocation.js';

/**
 * The IMS's revocation list, pulled every `intervalMs` (an instance needs no inbound connection
 * from the IMS, and a missed poll is made up by the next). A revoked token is refused within
 * `intervalMs` plus one request's time. If the IMS cannot be reached, the last list stays in use.
 * An instance whose store shares a PostgreSQL database with the IMS also pulls at once when the
 * IMS announces a revocation ({@link RevocationPoller.pollSoon}): then within a second.
 */
export class RevocationPoller {
  readonly #url: string;
  #list: RevocationList = { jtis: [], clients: {}, users: {} };
  #jtis = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #lastOk = 0;
  #onError: (err: unknown) => void;
  #inFlight: Promise<void> | undefined;
  #again = false;

  constructor(imsUrl: string, onError: (err: unknown) => void = () => {}) {
    this.#url = `${imsUrl}/ims/revocations`;
    this.#onError = onError;
  }

  /** Starts polling (first poll at once); returns when the first poll ended. */
  async start(intervalMs: number): Promise<void> {
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Pulls now, or right after the pull in progress (whose answer may predate the revocation):
   * a burst of announcements costs at most two pulls.
   */
  pollSoon(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = (async () => {
      do {
        this.#again = false;
        await this.poll();
      } while (this.#again);
    })().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async poll(): Promise<void> {
    try {
      const res = await fetch(this.#url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`IMS revocations answered HTTP ${res.status}`);
      const list = (await res.json()) as RevocationList;
      this.#list = { jtis: list.jtis ?? [], clients: list.clients ?? {}, users: list.users ?? {} };
      this.#jtis = new Set(this.#list.jtis);
      this.#lastOk = Date.now();
    } catch (err) {
      this.#onError(err);
    }
  }

  get lastSuccess(): number {
    return this.#lastOk;
  }

  isRevoked(claims: {
    jti?: string | undefined;
    clientId: string;
    userId: string;
    issuedAt: number | undefined;
    createdAt: number | undefined;
  }): boolean {
    if (claims.jti !== undefined && this.#jtis.has(claims.jti)) return true;
    return isRevokedBy(
      { jtis: [], clients: this.#list.clients, users: this.#list.users },
      {
        client_id: claims.clientId,
        user_id: claims.userId,
        iat: claims.issuedAt === undefined ? undefined : claims.issuedAt / 1000,
        created_at: claims.createdAt === undefined ? undefined : String(claims.createdAt),
      },
    );
  }
}

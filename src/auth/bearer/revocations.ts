import { isRevokedBy, type RevocationList, revocationIdHash } from '../../ims/revocation.js';
import { classify, type ImsConnection, type ImsUnreachableError } from './ims-connection.js';

/**
 * The IMS's revocation list, pulled every `intervalMs` (an instance needs no inbound connection
 * from the IMS, and a missed poll is made up by the next). A revoked token is refused within
 * `intervalMs` plus one request's time. If the IMS cannot be reached, the last list stays in use.
 * An instance whose store shares a PostgreSQL database with the IMS also pulls at once when the
 * IMS announces a revocation ({@link RevocationPoller.pollSoon}): then within a second.
 */
export class RevocationPoller {
  readonly #conn: ImsConnection;
  #list: RevocationList = { jtis: [], clients: {}, users: {} };
  #jtis = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #lastOk = 0;
  #onError: (err: ImsUnreachableError) => void;
  #failure: ImsUnreachableError | undefined;
  #failedAt = 0;
  #inFlight: Promise<void> | undefined;
  #again = false;

  constructor(conn: ImsConnection, onError: (err: ImsUnreachableError) => void = () => {}) {
    this.#conn = conn;
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
      const list = (await this.#conn.getJson('/ims/revocations')) as RevocationList;
      this.#list = { jtis: list.jtis ?? [], clients: list.clients ?? {}, users: list.users ?? {} };
      this.#jtis = new Set(this.#list.jtis);
      this.#lastOk = Date.now();
      this.#failure = undefined;
    } catch (err) {
      this.#failure = classify(err, `${this.#conn.url}/ims/revocations`, 0);
      this.#failedAt = Date.now();
      this.#onError(this.#failure);
    }
  }

  /** When the list in use was pulled (0: never). */
  get lastSuccess(): number {
    return this.#lastOk;
  }

  /** Why the last pull failed, if it did. */
  get failure(): ImsUnreachableError | undefined {
    return this.#failure;
  }

  /** When the last pull failed, if it did (ms since the epoch). */
  get failedAt(): number | undefined {
    return this.#failure ? this.#failedAt : undefined;
  }

  isRevoked(claims: {
    jti?: string | undefined;
    clientId: string;
    userId: string;
    issuedAt: number | undefined;
    createdAt: number | undefined;
  }): boolean {
    if (claims.jti !== undefined && this.#jtis.has(claims.jti)) return true;
    const { clients, users } = this.#list;
    // The list names clients and users by the SHA-256 of their ids (see publishedRevocations).
    const hash = (id: string, ids: Readonly<Record<string, number>>) =>
      Object.keys(ids).length === 0 ? undefined : revocationIdHash(id);
    return isRevokedBy(
      { jtis: [], clients, users },
      {
        client_id: hash(claims.clientId, clients),
        user_id: hash(claims.userId, users),
        iat: claims.issuedAt === undefined ? undefined : claims.issuedAt / 1000,
        created_at: claims.createdAt === undefined ? undefined : String(claims.createdAt),
      },
    );
  }
}

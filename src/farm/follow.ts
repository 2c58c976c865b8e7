import {
  notificationConnection,
  notificationConnectionLosses,
  notificationLag,
} from '../metrics/registry.js';
import { RESYNC, type ReceivedChange, type Store } from '../store/types.js';

export interface ChangeHandlers {
  /** Handlers by event kind, for events of this very store (another process's writes). */
  readonly [kind: string]: (() => void) | undefined;
}

export interface FollowOptions {
  /** Kinds also taken from the other schemas of the database (an IMS's revocations). */
  readonly fromAnyStore?: readonly string[];
  /** Every event received from another process (metrics: notification lag). */
  readonly onEvent?: (event: ReceivedChange) => void;
  readonly log: {
    warn(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
  };
}

/**
 * Subscribes a process to its store's change events and calls the handler of each event's kind.
 * A {@link RESYNC} (the notification connection was lost and is back) calls every handler: what
 * was missed meanwhile is re-read. Returns the function that stops following.
 */
export function followChanges(
  store: Store,
  handlers: ChangeHandlers,
  options: FollowOptions,
): () => void {
  const anyStore = new Set(options.fromAnyStore ?? []);
  return store.subscribe(
    (event) => {
      // First: the feed delivers a resync as its own (local) event, and it must not be dropped
      // with this process's own changes. Regression: after an outage the caches were not
      // re-read, and what changed meanwhile waited for their time to live.
      if (event.kind === RESYNC) {
        options.log.info({}, 'change notifications resumed: re-reading every cache');
        for (const handler of Object.values(handlers)) handler?.();
        return;
      }
      if (event.local) return; // this process dropped its caches when it made the change
      if (!event.sameStore && !anyStore.has(event.kind)) return;
      notificationLag.observe(
        { kind: event.kind },
        Math.max(0, (Date.now() - event.publishedAt) / 1000),
      );
      options.onEvent?.(event);
      handlers[event.kind]?.();
    },
    {
      onConnection: (up, err) => {
        notificationConnection.set(up ? 1 : 0);
        if (!up) notificationConnectionLosses.inc();
        if (!up)
          options.log.warn(
            { err: String(err) },
            'change notification connection lost: reconnecting (caches fall back to their time to live, revocations to the poll)',
          );
        else options.log.info({}, 'change notification connection open');
      },
    },
  );
}

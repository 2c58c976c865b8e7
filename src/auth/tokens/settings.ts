import { audit } from '../../audit/record.js';
import { TtlCache } from '../../cache/ttl-cache.js';
import { LatchkeyError } from '../../errors.js';
import { announce, CHANGE } from '../../farm/changes.js';
import { ensureNode } from '../../repository/ensure-node.js';
import { fromStored, type PropertyType, toStored } from '../../repository/properties.js';
import type { Json, Store } from '../../store/types.js';

/** AEM's token handler configuration PID; its form and JSON are the Felix console's. */
export const TOKEN_PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
export const OSGI_CONFIG_ROOT = '/conf/latchkey/osgi';

export type SameSite = 'Lax' | 'Strict' | 'None';

export interface TokenSettings {
  /** `token.encapsulated`: issue HMAC-signed tokens any instance can validate. */
  readonly encapsulated: boolean;
  /** `token.expiration`: lifetime in ms (default 12 h). */
  readonly expirationMs: number;
  /** `token.samesite.cookie.attr` */
  readonly sameSite: SameSite;
}

export const DEFAULT_TOKEN_SETTINGS: TokenSettings = {
  encapsulated: false,
  expirationMs: 43_200_000,
  sameSite: 'Lax',
};

/** The PID's properties: name, type, default, how a form value converts. */
export const TOKEN_PROPERTIES: readonly {
  name: string;
  type: PropertyType;
  description: string;
}[] = [
  {
    name: 'token.encapsulated',
    type: 'Boolean',
    description: 'Issue encapsulated (HMAC-signed, stateless) tokens',
  },
  { name: 'token.expiration', type: 'Long', description: 'Token lifetime in milliseconds' },
  {
    name: 'token.samesite.cookie.attr',
    type: 'String',
    description: 'SameSite attribute of the login-token cookie: Lax, Strict or None',
  },
];

function invalid(message: string): LatchkeyError {
  return new LatchkeyError('invalid_property', message, 400);
}

/** Validates form values for the PID; returns the stored properties to write. */
export function parseTokenForm(values: ReadonlyMap<string, string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, raw] of values) {
    const v = raw.trim();
    switch (name) {
      case 'token.encapsulated':
        if (!['true', 'false', 'on', ''].includes(v.toLowerCase()))
          throw invalid('token.encapsulated must be true or false');
        out[name] = toStored({
          type: 'Boolean',
          multiple: false,
          values: [v.toLowerCase() === 'true' || v.toLowerCase() === 'on'],
        });
        break;
      case 'token.expiration': {
        if (!/^\d{1,13}$/.test(v) || Number(v) < 60_000)
          throw invalid('token.expiration must be a whole number of milliseconds, at least 60000');
        out[name] = toStored({ type: 'Long', multiple: false, values: [v] });
        break;
      }
      case 'token.samesite.cookie.attr': {
        const canonical = ['Lax', 'Strict', 'None'].find(
          (s) => s.toLowerCase() === v.toLowerCase(),
        );
        if (!canonical) throw invalid('token.samesite.cookie.attr must be Lax, Strict or None');
        out[name] = toStored({ type: 'String', multiple: false, values: [canonical] });
        break;
      }
      default:
        throw invalid(`unknown property ${JSON.stringify(name.slice(0, 60))} for ${TOKEN_PID}`);
    }
  }
  return out;
}

export function settingsFrom(properties: Readonly<Record<string, Json>>): TokenSettings {
  const value = (name: string) => fromStored(properties[name] ?? null)?.values[0];
  const encapsulated = value('token.encapsulated');
  const expiration = value('token.expiration');
  const sameSite = value('token.samesite.cookie.attr');
  return {
    encapsulated:
      typeof encapsulated === 'boolean' ? encapsulated : DEFAULT_TOKEN_SETTINGS.encapsulated,
    expirationMs:
      expiration !== undefined ? Number(expiration) : DEFAULT_TOKEN_SETTINGS.expirationMs,
    sameSite:
      sameSite === 'Lax' || sameSite === 'Strict' || sameSite === 'None'
        ? sameSite
        : DEFAULT_TOKEN_SETTINGS.sameSite,
  };
}

/**
 * The token settings in force, read from the repository and cached for `ttlMs`; a change made
 * through this instance applies at once, and on every other process sharing the store when its
 * change event arrives ({@link TokenSettingsCache.drop}, within a second), or within `ttlMs`.
 */
export class TokenSettingsCache {
  readonly #store: Store;
  readonly #value: TtlCache<'settings', TokenSettings>;

  constructor(store: Store, ttlMs: number) {
    this.#store = store;
    this.#value = new TtlCache({ ttlMs, max: 1 });
  }

  /** Lookups answered from memory and those that read the store (metrics). */
  get stats(): { readonly hits: number; readonly misses: number } {
    return this.#value.stats;
  }

  /** The cached settings while fresh, without waiting; `undefined` when a read is due. */
  peek(): TokenSettings | undefined {
    return this.#value.get('settings');
  }

  get(): Promise<TokenSettings> {
    return this.#value.fetch('settings', async () => {
      const node = await this.#store.getNode(`${OSGI_CONFIG_ROOT}/${TOKEN_PID}`);
      return settingsFrom(node?.properties ?? {});
    });
  }

  /** Forgets the cached settings (another process changed them). */
  drop(): void {
    this.#value.clear();
  }

  async save(properties: Record<string, Json>): Promise<TokenSettings> {
    await this.#store.transaction(async (tx) => {
      const { node } = await ensureNode(
        tx,
        `${OSGI_CONFIG_ROOT}/${TOKEN_PID}`,
        'sling:OsgiConfig',
        'sling:Folder',
      );
      await tx.putNode({ ...node, properties: { ...node.properties, ...properties } });
    });
    this.drop();
    await announce(this.#store, CHANGE.tokenSettings, TOKEN_PID);
    const settings = await this.get();
    await audit({
      type: 'config.changed',
      target: TOKEN_PID,
      details: {
        changed: Object.keys(properties),
        'token.encapsulated': settings.encapsulated,
        'token.expiration': settings.expirationMs,
        'token.samesite.cookie.attr': settings.sameSite,
      },
    });
    return settings;
  }

  /** The PID's current properties, as the Felix console's JSON shows them. */
  async describe(): Promise<Record<string, Json>> {
    const s = await this.get();
    return {
      pid: TOKEN_PID,
      properties: {
        'token.encapsulated': {
          type: 'Boolean',
          value: s.encapsulated,
          description: TOKEN_PROPERTIES[0]!.description,
        },
        'token.expiration': {
          type: 'Long',
          value: s.expirationMs,
          description: TOKEN_PROPERTIES[1]!.description,
        },
        'token.samesite.cookie.attr': {
          type: 'String',
          value: s.sameSite,
          description: TOKEN_PROPERTIES[2]!.description,
        },
      },
    };
  }
}

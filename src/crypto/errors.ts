import { LatchkeyError } from '../errors.js';

/**
 * Crypto failures. Codes: `malformed_protected_value` (not a protected value at all),
 * `unknown_key` (sealed with a key this keyring lacks; the message names its id),
 * `tampered` (authentication failed: modified, truncated or sealed with another key),
 * `keys_missing` (keys the store depends on cannot be found), `invalid_key` (bad key material),
 * `invalid_bundle` (a key bundle that fails to parse or verify).
 */
export class CryptoError extends LatchkeyError {
  override readonly name = 'CryptoError';
  constructor(code: string, message: string, status = 400) {
    super(code, message, status);
  }
}

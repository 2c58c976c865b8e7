import { LatchkeyError } from '../errors.js';

/**
 * IMS errors, answered as Adobe's IMS does: `{"error","error_description"}`, 400 unless said
 * otherwise. Codes: `invalid_request`, `invalid_client`, `invalid_token`, `invalid_signature`,
 * `invalid_scope`, `invalid_jti`.
 */
export class ImsError extends LatchkeyError {
  override readonly name = 'ImsError';
  constructor(code: string, description: string, status = 400) {
    super(code, description, status);
  }
}

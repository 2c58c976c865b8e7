import { randomBytes } from 'node:crypto';
import { LatchkeyError } from '../../../errors.js';
import type { Store } from '../../../store/types.js';

const NS = 'ims.console-form';
const VALID_MS = 24 * 3600 * 1000;

/** A fresh id for a form that creates something shown once (credentials, a token). */
export function formId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Whether this form submission is the first with its id. A reload of the page that showed new
 * credentials resubmits the form: that must not create (and show) a second integration.
 */
export async function firstSubmission(store: Store, id: string | undefined): Promise<boolean> {
  if (!id || !/^[A-Za-z0-9_-]{22}$/.test(id))
    throw new LatchkeyError('invalid_request', 'the form is incomplete: reload the page', 400);
  return store.insertRecord(NS, id, Date.now(), { expiresAt: Date.now() + VALID_MS });
}

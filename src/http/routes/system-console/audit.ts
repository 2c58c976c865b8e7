import type { FastifyInstance } from 'fastify';
import { AUDIT_TYPE_GROUPS, AuditFilterError, parseAuditFilter } from '../../../audit/filter.js';
import { formatDetails } from '../../../audit/format.js';
import { readAuditPage } from '../../../audit/page.js';
import type { AuditSource } from '../../../audit/read.js';
import { AUDIT_TYPES } from '../../../audit/types.js';
import { formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { administrator, MOUNT } from './guard.js';

const PATH = `${MOUNT}/audit`;
const PAGE_SIZE = 50;

type Query = {
  since?: string;
  until?: string;
  user?: string;
  type?: string;
  before?: string;
};

/**
 * Audit: the instance's audit log, newest first, 50 lines a page, filtered by time, user and
 * type as `latchkey audit` filters it (the same parser and reader), for administrators only.
 * The filter form is a GET: it changes nothing, and a filtered page can be bookmarked.
 */
export function auditRoutes(scope: FastifyInstance, source: AuditSource) {
  scope.get<{ Querystring: Query }>(PATH, { schema: { hide: true } }, async (request, reply) => {
    administrator(request, 'the audit log');
    const q = request.query;
    const values = {
      since: q.since ?? '',
      until: q.until ?? '',
      user: q.user ?? '',
      type: q.type ?? '',
    };
    const page = (status: number, data: Record<string, unknown>) =>
      reply.code(status).page(
        'system/audit',
        {
          title: 'Audit log',
          values,
          types: AUDIT_TYPES,
          groups: AUDIT_TYPE_GROUPS,
          errors: {},
          lines: [],
          formatDetails,
          ...data,
        },
        'audit',
      );
    let filter: ReturnType<typeof parseAuditFilter>;
    try {
      filter = parseAuditFilter(values, { since: 'Since', until: 'Until', type: 'Type' });
    } catch (err) {
      if (!(err instanceof AuditFilterError)) throw err;
      return page(400, {
        ...formOutcome(
          { errors: { [err.field]: sentence(err.message) } },
          {},
          'The filter could not be read: see the message in the form.',
        ),
        invalid: true,
      });
    }
    const result = await readAuditPage(source, filter, { size: PAGE_SIZE, before: q.before });
    const filtered = new URLSearchParams(Object.entries(values).filter(([, v]) => v.trim() !== ''));
    const link = (before?: string) => {
      const params = new URLSearchParams(filtered);
      if (before) params.set('before', before);
      const query = params.toString();
      return query ? `${PATH}?${query}` : PATH;
    };
    return page(200, {
      lines: result.lines,
      older: result.next ? link(result.next) : undefined,
      newest: q.before ? link() : undefined,
      filtered: [...filtered.keys()].length > 0,
    });
  });
}

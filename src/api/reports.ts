import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ArtifactStore } from '../artifacts/store';
import { openReportLink } from '../reports/links';
import { ErrorBody } from './schemas';

const ReportLinkQuery = z
  .object({ ref: z.string().min(1).max(4096), expires: z.string().regex(/^\d{1,12}$/), signature: z.string().min(1).max(128) })
  .strict();

/** A report page holds data from users' files: it runs no script and loads nothing, whatever it contains. */
const REPORT_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'private, max-age=300',
};

/**
 * `GET /reports/view`: opens a validation report from the signed link in a run's status and memo (see
 * src/reports/links.ts). Public, like a pre-signed URL: the signature is the authorisation.
 */
export function installReportRoutes(app: FastifyInstance, deps: { store: ArtifactStore; approvalSecret: string }): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/reports/view',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Open a validation report from the signed link in a run’s status (no token needed)',
        security: [],
        querystring: ReportLinkQuery,
        response: { 200: z.string().describe('The report, an HTML page'), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const opened = openReportLink(deps.approvalSecret, request.query);
      if ('refused' in opened) return reply.code(403).send({ error: opened.refused });
      if (!/\/reports\/[0-9a-f]{2}\/[0-9a-f]{64}\.html$/.test(opened.ref.uri)) return reply.code(403).send({ error: 'the link does not open a report' });
      if (!(await deps.store.exists(opened.ref))) return reply.code(404).send({ error: 'the report is no longer stored' });
      return reply.headers(REPORT_HEADERS).send((await deps.store.read(opened.ref)).toString('utf8'));
    },
  );
}

/**
 * Admin routes of the identity links (shared/use-cases/links/): list, explain, import, pull.
 * The pull reads whole channel directories: fine for the admin API's 29 s on small orgs; the
 * daily pull (sync planner tick) is the normal path for large ones.
 */
import { z } from 'zod';
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { ValidationError } from '../../../shared/errors/app-error';
import { json } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import { jsonBody, type Router } from '../../../shared/http/router';
import { requireTenant } from '../../../shared/use-cases/list-tenants';
import type { LinksDeps } from '../../../shared/use-cases/links/links-deps';
import { importLinks, pullLinks } from '../../../shared/use-cases/links/pull-links';
import { explainLinks, listLinks } from '../../../shared/use-cases/links/query-links';

const listQuery = z.object({ channel: z.string().min(1).max(64).optional(), status: z.enum(['linked', 'ambiguous', 'unmatched']).optional(), limit: z.coerce.number().int().min(1).max(5000).optional() }).strict();
const importBody = z.object({ rows: z.array(z.object({ channelId: z.string().min(1).max(64), channelUserId: z.string().min(1).max(256), personId: z.string().min(1).max(256) }).strict()).min(1).max(5000) }).strict();

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(`Bad ${what}: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`, { code: 'ADMIN.BAD_REQUEST' });
}

export function registerLinksRoutes(router: Router, deps: { config: TenantsFile; links: LinksDeps }): void {
  const tenantOf = (id: string) => requireTenant(deps.config, id);
  router
    .on('GET', '/admin/tenants/:tenant/links', async (e, p) => {
      const q = parse(listQuery, singleQuery(e), 'query');
      return json(200, await listLinks(deps.links.links, tenantOf(p.tenant!), { ...(q.channel ? { channelId: q.channel } : {}), ...(q.status ? { status: q.status } : {}), ...(q.limit ? { limit: q.limit } : {}) }));
    })
    .on('GET', '/admin/tenants/:tenant/links/explain/:id', async (_e, p) => json(200, await explainLinks(deps.links.links, tenantOf(p.tenant!), p.id!)))
    .on('POST', '/admin/tenants/:tenant/links/import', async (e, p) => json(200, await importLinks(deps.links, tenantOf(p.tenant!), parse(importBody, jsonBody(e), 'import').rows)))
    .on('POST', '/admin/tenants/:tenant/links/pull', async (_e, p) => json(200, await pullLinks(deps.links, tenantOf(p.tenant!))));
}

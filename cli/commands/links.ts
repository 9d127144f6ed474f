/**
 * `links list | import | explain | pull`: the identity links between channel users (DingTalk,
 * WeCom) and the people of the directory source, through the admin API (cli/commands/sync.ts's
 * transport: in process for the local stack, HTTP where QIYE_ADMIN_URL is set).
 */
import { ValidationError } from '../../shared/errors/app-error';
import type { IdentityLink } from '../../shared/ports/identity-link-store';
import { tenantCommand, type Command } from './command';
import { call, readCsvRows } from './sync';

const base = (tenant: string) => `/admin/tenants/${encodeURIComponent(tenant)}/links`;

function line(l: IdentityLink): string {
  const what = l.status === 'linked' ? `-> ${l.personId}` : l.status === 'ambiguous' ? `ambiguous (${(l.candidates ?? []).join(', ')})` : 'unmatched';
  return `${l.channelId}\t${l.channelUserId}\t${what}\t${l.rule ?? ''}\t${l.origin}`;
}

export const linksList = tenantCommand({
  name: 'links list',
  summary: 'List channel users and the source person each is linked to (filter --status unmatched|ambiguous|linked, --channel <id>).',
  args: '[--channel <id>] [--status linked|ambiguous|unmatched]',
  async run({ values, tenantId: tenant }, ctx) {
    const q = new URLSearchParams();
    if (typeof values.channel === 'string') q.set('channel', values.channel);
    if (typeof values.status === 'string') q.set('status', values.status);
    const res = (await call(ctx, 'GET', `${base(tenant)}${q.size ? `?${q}` : ''}`)) as { links: IdentityLink[]; truncated: boolean };
    ctx.out('channel\tchannelUserId\tlink\trule\torigin');
    for (const l of res.links) ctx.out(line(l));
    ctx.out(`${res.links.length} link(s)${res.truncated ? ' (truncated)' : ''}.`);
  },
});

export const linksImport = tenantCommand({
  name: 'links import',
  summary: 'Link channel users to source people by hand from a CSV (channelId,channelUserId,personId); all rows are checked first, any problem writes nothing.',
  args: '--file links.csv',
  async run({ values, tenantId: tenant }, ctx) {
    const rows = await readCsvRows(values.file, 'channelid,channeluserid,personid');
    const bad = rows.findIndex((r) => r.length !== 3);
    if (bad >= 0) throw new ValidationError(`${values.file} line ${bad + 1}: expected 3 columns (channelId,channelUserId,personId); nothing was imported.`);
    if (rows.length === 0) throw new ValidationError(`${values.file} has no rows.`);
    const body = { rows: rows.map((r) => ({ channelId: r[0]!.trim(), channelUserId: r[1]!.trim(), personId: r[2]!.trim() })) };
    const res = (await call(ctx, 'POST', `${base(tenant)}/import`, body)) as { written: number };
    ctx.out(`Imported ${res.written} link(s) for ${tenant}.`);
  },
});

export const linksExplain = tenantCommand({
  name: 'links explain',
  summary: "Show a person's links (a source person id), or one channel user's (<channelId>:<userid>).",
  args: '<personId | channelId:userid>',
  positionals: 1,
  async run({ positionals, tenantId: tenant }, ctx) {
    const id = positionals[0];
    if (!id) throw new ValidationError('Give a source person id, or <channelId>:<userid>.');
    const res = (await call(ctx, 'GET', `${base(tenant)}/explain/${encodeURIComponent(id)}`)) as { personId?: string; links: IdentityLink[] };
    if (res.links.length === 0) ctx.out(`No link for ${id}.`);
    for (const l of res.links) ctx.out(line(l));
  },
});

export const linksPull = tenantCommand({
  name: 'links pull',
  summary: 'Re-read every linked channel now and re-match its users (the daily pull, on demand).',
  async run({ tenantId: tenant }, ctx) {
    const res = (await call(ctx, 'POST', `${base(tenant)}/pull`)) as { status: string; channels: Array<{ channelId: string; status: string; users: number; linked: number; ambiguous: number; unmatched: number }> };
    for (const c of res.channels) ctx.out(`${c.channelId}: ${c.status}, ${c.users} users, ${c.linked} linked, ${c.ambiguous} ambiguous, ${c.unmatched} unmatched`);
    ctx.out(`links pull ${res.status}.`);
    return res.status === 'ok' ? 0 : 1;
  },
});

export const linksCommands: Command[] = [linksList, linksImport, linksExplain, linksPull];

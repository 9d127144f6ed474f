/** Sign-in, overview, dead letters, audit log and error pages. */
import type { AuditEntry } from '../ports/console-store';
import type { QueueDepth } from '../ports/dead-letters';
import type { TenantOverview } from '../use-cases/console/console-queries';
import type { ConsoleRole } from '../use-cases/console/authorize';
import { html, qs, when, type Html } from './html';
import { t, type MessageKey } from './i18n';
import { postForm, renderPage, statusBadge, tenantBase, type PageContext } from './layout';

const enc = encodeURIComponent;

export function signInPage(ctx: PageContext, tenants: Array<{ id: string; name: string; methods: string[] }>): string {
  const { lang } = ctx;
  const rows = tenants.map(
    (x) => html`<div class="card signin"><h2>${x.name} <span class="muted">(${x.id})</span></h2>${x.methods
      .filter((m) => m !== 'oa')
      .map((m) => html`<a class="button" href="/console/signin/${enc(x.id)}/${m}">${t(lang, `via.${m}` as MessageKey)}</a>`)}${x.methods.includes('oa') ? html`<p class="muted">${t(lang, 'oaHint')}</p>` : ''}</div>`,
  );
  return renderPage(ctx, t(lang, 'signInTitle'), html`${rows}<p class="muted">${t(lang, 'breakglassHint')}</p>`);
}

/** After a sign-in: the cookie is set on this response; the link (and the meta refresh) is a same-site navigation, so the SameSite=Strict cookie goes with it. */
export function continuePage(ctx: PageContext, to: string): string {
  const body = html`<p>${t(ctx.lang, 'signedIn')}</p><p><a id="continue" href="${to}">${t(ctx.lang, 'continue')}</a></p>`;
  return renderPage(ctx, t(ctx.lang, 'signedIn'), body).replace('<head>', `<head><meta http-equiv="refresh" content="0; url=${to.replace(/[^\w/.?=&%-]/g, '')}">`);
}

export function breakGlassPage(ctx: PageContext, query: Record<string, string>, label: string): string {
  const fields = html`${Object.entries(query).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;
  const body = html`<div class="card"><p>${label}</p><form method="post" action="/console/breakglass">${fields}<button type="submit" class="danger">${t(ctx.lang, 'breakglassButton')}</button></form></div>`;
  return renderPage(ctx, t(ctx.lang, 'breakglassTitle'), body);
}

export function errorPage(ctx: PageContext, status: number, message: string, code?: string): string {
  const title = status === 403 || status === 401 ? t(ctx.lang, 'forbidden') : status === 404 ? t(ctx.lang, 'notFound') : t(ctx.lang, 'badRequest');
  return renderPage(ctx, title, html`<p class="error" data-code="${code ?? ''}">${message}</p><p><a href="/console">${t(ctx.lang, 'back')}</a></p>`);
}

function secretsCell(ctx: PageContext, o: TenantOverview): Html {
  return html`${o.secrets.map((s) => html`<span class="badge s-${s.state}" title="${s.name}">${s.channelId === undefined ? s.kind : `${s.kind}/${s.channelId}`}: ${t(ctx.lang, `secret.${s.state}` as MessageKey)}</span> `)}`;
}

/** This month's calls per vendor: metered / free, the projection to the month's end, quota, percent and state. */
function usageCell(ctx: PageContext, o: TenantOverview): Html {
  const { lang } = ctx;
  if (o.apiUsage.state === 'unavailable') return html`<span class="warn">${t(lang, 'usage.unavailable')}</span>`;
  const r = o.apiUsage.report;
  if (r.vendors.length === 0) return html`<span class="muted">${t(lang, 'usage.none')}</span>`;
  const rows = r.vendors.map((v) => {
    const badge = v.quotaSpent || v.level === 'over' ? 'failed' : v.level === 'warning' ? 'warning' : 'ok';
    const state = html`<span class="badge s-${badge}">${t(lang, `usage.level.${v.level}` as MessageKey)}</span>${v.quotaSpent ? html` <span class="badge s-failed" data-quota-spent="1">${t(lang, 'usage.quotaSpent')}</span>` : ''}`;
    return html`<tr data-vendor="${v.vendor}"><td>${v.vendor}</td><td>${v.metered}</td><td>${v.free}</td><td>${v.projection}</td><td>${v.quota > 0 ? v.quota : t(lang, 'usage.unlimited')}</td><td>${v.projectedPercent !== undefined ? `${v.projectedPercent}%` : '—'}</td><td>${state}</td></tr>`;
  });
  return html`<table class="usage"><tr><th>${t(lang, 'usage.vendor')}</th><th>${t(lang, 'usage.metered')}</th><th>${t(lang, 'usage.free')}</th><th>${t(lang, 'usage.projection')}</th><th>${t(lang, 'usage.quota')}</th><th>${t(lang, 'usage.percent')}</th><th>${t(lang, 'status')}</th></tr>${rows}</table><span class="muted">${r.month} · ${t(lang, 'usage.days')} ${r.daysElapsed}/${r.daysInMonth}</span>`;
}

export function overviewPage(ctx: PageContext, items: Array<{ overview: TenantOverview; role: ConsoleRole; token?: { ok: boolean; detail: string } }>, depths: QueueDepth[] | undefined): string {
  const { lang } = ctx;
  if (items.length === 0) return renderPage(ctx, t(lang, 'overview'), html`<p class="warn">${t(lang, 'noTenants')}</p>`);
  const cards = items.map(({ overview: o, role, token }) => {
    const base = tenantBase(o.tenant.id);
    const admin = role !== 'auditor';
    const run = o.lastRun;
    return html`<div class="card" id="tenant-${o.tenant.id}" data-tenant="${o.tenant.id}"><h2><a href="${base}/runs">${o.tenant.displayName ?? o.tenant.id}</a> <span class="muted">${o.tenant.id} · ${t(lang, 'role')}: ${t(lang, `role.${role}` as MessageKey)}</span></h2>
<dl class="kv"><dt>${t(lang, 'source')}</dt><dd>${o.source ?? '—'}</dd>
<dt>${t(lang, 'channels')}</dt><dd>${o.channels.join(', ') || '—'}</dd>
<dt>${t(lang, 'secrets')}</dt><dd>${secretsCell(ctx, o)}</dd>
<dt>${t(lang, 'lastRun')}</dt><dd>${run ? html`<a href="${base}/runs/${enc(run.runId)}">${run.runId}</a> ${statusBadge(run.status)} <span class="muted">${when(run.startedAt)}</span>` : '—'}</dd>
<dt>${t(lang, 'lastCallback')}</dt><dd>${when(o.lastCallbackAt)}</dd>
<dt>${t(lang, 'tokenHealth')}</dt><dd>${token ? html`${statusBadge(token.ok ? 'ok' : 'failed')} ${token.detail}` : ''} ${o.tenant.dingtalk || o.tenant.wecom ? postForm(ctx, `${base}/token-check`, '', t(lang, 'checkToken')) : '—'}</dd>
<dt>${t(lang, 'apiUsage')}</dt><dd>${usageCell(ctx, o)}</dd>
<dt>${t(lang, 'dlqDepth')}</dt><dd>${depths ? depths.map((d) => html`<span class="badge s-${d.deadLetters > 0 ? 'failed' : 'ok'}">${d.queue}: ${d.deadLetters}</span> `) : '—'}</dd></dl>
${admin ? syncForm(ctx, base) : ''}</div>`;
  });
  return renderPage(ctx, t(lang, 'overview'), html`${cards}`);
}

export function syncForm(ctx: PageContext, base: string): Html {
  const { lang } = ctx;
  const fields = html`<select name="mode"><option value="incremental">${t(lang, 'incremental')}</option><option value="full">${t(lang, 'full')}</option></select><label><input type="checkbox" name="dryRun" value="1"> ${t(lang, 'dryRun')}</label>`;
  return postForm(ctx, `${base}/sync`, fields, t(lang, 'syncNow'));
}

export function dlqPage(ctx: PageContext, depths: QueueDepth[]): string {
  const { lang } = ctx;
  const rows = depths.map(
    (d) => html`<tr data-queue="${d.queue}"><td>${d.queue}</td><td>${d.messages}</td><td>${statusBadge(d.deadLetters > 0 ? 'failed' : 'ok')} ${d.deadLetters}</td><td>${d.deadLetters > 0 ? postForm(ctx, `/console/dlq/${enc(d.queue)}/redrive`, '', t(lang, 'redrive')) : ''}</td></tr>`,
  );
  return renderPage(ctx, t(lang, 'dlq'), html`<table><tr><th>${t(lang, 'queue')}</th><th>${t(lang, 'waiting')}</th><th>${t(lang, 'dlqDepth')}</th><th></th></tr>${rows}</table>`);
}

export function auditPage(ctx: PageContext, title: string, entries: AuditEntry[], cursor: string | undefined): string {
  const { lang } = ctx;
  const rows = entries.map(
    (e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target ?? ''}</td><td>${statusBadge(e.outcome)}</td><td>${e.detail ?? ''}</td></tr>`,
  );
  const more = cursor ? html`<p><a href="${ctx.path}${qs({ cursor })}">${t(lang, 'more')} →</a></p>` : '';
  return renderPage(
    ctx,
    title,
    html`<table><tr><th>${t(lang, 'when')}</th><th>${t(lang, 'who')}</th><th>${t(lang, 'what')}</th><th>${t(lang, 'target')}</th><th>${t(lang, 'outcome')}</th><th>${t(lang, 'detail')}</th></tr>${rows}</table>${more}`,
  );
}

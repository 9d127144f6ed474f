/** Runs (list, one run with approve / reject), mappings search and explain. */
import { RUN_COUNT_KEYS, RUN_STATUSES, type RunRecord } from '../ports/run-store';
import type { MappingHit } from '../use-cases/console/console-queries';
import type { ObjectExplanation, RunDetail } from '../use-cases/sync/sync-queries';
import { html, qs, when } from './html';
import { t } from './i18n';
import { postForm, renderPage, statusBadge, tenantBase, type PageContext } from './layout';
import { syncForm } from './pages-main';

const enc = encodeURIComponent;

export function runsPage(ctx: PageContext, tenantId: string, runs: RunRecord[], truncated: boolean, q: Record<string, string | undefined>, canAct: boolean): string {
  const { lang } = ctx;
  const base = tenantBase(tenantId);
  const filter = html`<form method="get" action="${base}/runs" class="inline">${t(lang, 'status')} <select name="status"><option value="">${t(lang, 'any')}</option>${RUN_STATUSES.map(
    (s) => html`<option value="${s}"${q.status === s ? html` selected` : ''}>${s}</option>`,
  )}</select> ${t(lang, 'from')} <input type="date" name="from" value="${q.from ?? ''}"> ${t(lang, 'to')} <input type="date" name="to" value="${q.to ?? ''}"><button type="submit">${t(lang, 'filter')}</button></form>`;
  const rows = runs.map(
    (r) => html`<tr data-run="${r.runId}"><td><a href="${base}/runs/${enc(r.runId)}">${r.runId}</a></td><td>${statusBadge(r.status)}</td><td>${r.trigger}</td><td>${r.mode}${r.dryRun ? ' (dry run)' : ''}</td><td>${when(r.startedAt)}</td><td>${when(r.endedAt)}</td><td class="muted">${RUN_COUNT_KEYS.filter((k) => r.counts[k] > 0).map((k) => `${k} ${r.counts[k]}`).join(', ')}</td></tr>`,
  );
  const body = html`<div class="card">${filter}${canAct ? syncForm(ctx, base) : ''}</div>
<table><tr><th>${t(lang, 'run')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'trigger')}</th><th>${t(lang, 'mode')}</th><th>${t(lang, 'started')}</th><th>${t(lang, 'ended')}</th><th>${t(lang, 'counts')}</th></tr>${rows}</table>${truncated ? html`<p class="muted">${t(lang, 'more')}</p>` : ''}`;
  return renderPage(ctx, `${t(lang, 'runs')} · ${tenantId}`, body);
}

export function runPage(ctx: PageContext, tenantId: string, d: RunDetail, planText: string | undefined, canAct: boolean): string {
  const { lang } = ctx;
  const r = d.run;
  const base = `${tenantBase(tenantId)}/runs/${enc(r.runId)}`;
  const counts = html`<table><tr>${RUN_COUNT_KEYS.map((k) => html`<th>${k}</th>`)}</tr><tr>${RUN_COUNT_KEYS.map((k) => html`<td data-count="${k}">${r.counts[k]}</td>`)}</tr></table>`;
  const parked = r.status === 'awaiting_approval';
  const destructive = parked
    ? html`<h2>${t(lang, 'decision')}</h2><div class="warn"><p>${t(lang, 'parkedWarning')}</p><table id="destructive"><tr><th>${t(lang, 'what')}</th><th>${t(lang, 'sourceId')}</th><th>${t(lang, 'name')}</th><th></th></tr>${(d.destructive ?? []).map(
        (x) => html`<tr><td>${x.kind}</td><td><a href="${tenantBase(tenantId)}/explain/${enc(x.sourceId)}">${x.sourceId}</a></td><td>${x.name}</td><td class="muted">${x.reason ?? ''}</td></tr>`,
      )}</table>${
        canAct
          ? html`<p>${postForm(ctx, `${base}/approve`, html`<input type="text" name="note" placeholder="${t(lang, 'note')}" maxlength="500">`, t(lang, 'approve'), { danger: true })}${postForm(ctx, `${base}/reject`, html`<input type="text" name="note" placeholder="${t(lang, 'note')}" maxlength="500">`, t(lang, 'reject'))}</p>`
          : ''
      }</div>`
    : '';
  const decision = r.decision ? html`<p>${t(lang, 'decision')}: ${statusBadge(r.decision.decision)} ${r.decision.by} · ${when(r.decision.at)} ${r.decision.note ?? ''}</p>` : '';
  const errors = html`<h2>${t(lang, 'failedObjects')} (${d.errors.length}${d.errorsTruncated ? '+' : ''})</h2><table><tr><th>${t(lang, 'type')}</th><th>${t(lang, 'sourceId')}</th><th>${t(lang, 'what')}</th><th>${t(lang, 'outcome')}</th><th>${t(lang, 'detail')}</th></tr>${d.errors.map(
    (e) => html`<tr><td>${e.objectType}</td><td><a href="${tenantBase(tenantId)}/explain/${enc(e.sourceId)}">${e.sourceId}</a></td><td>${e.operation}</td><td>${statusBadge(e.outcome)}</td><td>${e.errorCode ?? ''} ${e.message ?? ''}</td></tr>`,
  )}</table>`;
  const body = html`<div class="card"><dl class="kv"><dt>${t(lang, 'status')}</dt><dd id="run-status">${statusBadge(r.status)}</dd><dt>${t(lang, 'trigger')}</dt><dd>${r.trigger}</dd><dt>${t(lang, 'mode')}</dt><dd>${r.mode}${r.dryRun ? ' (dry run)' : ''}</dd><dt>${t(lang, 'started')}</dt><dd>${when(r.startedAt)}</dd><dt>${t(lang, 'ended')}</dt><dd>${when(r.endedAt)}</dd>${r.error ? html`<dt>error</dt><dd>${r.error.code}: ${r.error.message}</dd>` : ''}</dl>${decision}<p><a href="${base}/results.csv">${t(lang, 'csv')}</a></p></div>
${counts}${destructive}${errors}${planText !== undefined ? html`<h2>${t(lang, 'plan')}</h2><pre>${planText}</pre>` : ''}`;
  return renderPage(ctx, `${t(lang, 'run')} ${r.runId}`, body);
}

export function mappingsPage(ctx: PageContext, tenantId: string, q: string, names: boolean, result: { hits: MappingHit[]; truncated: boolean; sourceRead?: 'ok' | 'failed' } | undefined): string {
  const { lang } = ctx;
  const base = tenantBase(tenantId);
  const form = html`<form method="get" action="${base}/mappings" class="inline"><input type="text" name="q" value="${q}" placeholder="${t(lang, 'searchHint')}" maxlength="100"><label><input type="checkbox" name="names" value="1"${names ? html` checked` : ''}> ${t(lang, 'searchNames')}</label><button type="submit">${t(lang, 'search')}</button></form>`;
  const rows = (result?.hits ?? []).map(
    (h) => html`<tr><td>${h.type}</td><td><a href="${base}/explain/${enc(h.sourceId)}${qs({ type: h.type })}">${h.sourceId}</a></td><td>${h.displayName ?? h.name ?? ''}</td><td>${h.neteaseId}</td><td>${statusBadge(h.status)}</td><td>${when(h.updatedAt)}</td></tr>`,
  );
  const table = result
    ? html`<table id="hits"><tr><th>${t(lang, 'type')}</th><th>${t(lang, 'sourceId')}</th><th>${t(lang, 'name')}</th><th>${t(lang, 'neteaseId')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'when')}</th></tr>${rows}</table>${result.truncated ? html`<p class="muted">${t(lang, 'more')}</p>` : ''}${result.sourceRead === 'failed' ? html`<p class="error">source read failed</p>` : ''}`
    : '';
  return renderPage(ctx, `${t(lang, 'mappings')} · ${tenantId}`, html`<div class="card">${form}</div>${table}`);
}

export function explainPage(ctx: PageContext, tenantId: string, e: ObjectExplanation): string {
  const { lang } = ctx;
  const rec = e.source?.record;
  const body = html`<div class="card"><dl class="kv"><dt>${t(lang, 'sourceId')}</dt><dd>${e.sourceId}</dd><dt>${t(lang, 'type')}</dt><dd>${e.type ?? '—'}</dd>
<dt>${t(lang, 'name')}</dt><dd id="display-name">${rec ? ('displayName' in rec ? rec.displayName : rec.name) : '—'}</dd>
<dt>${t(lang, 'neteaseId')}</dt><dd>${e.mapping ? html`${e.mapping.neteaseId} ${statusBadge(e.mapping.status)}` : t(lang, 'none')}</dd>
<dt>${t(lang, 'decision')}</dt><dd>${e.decision ? html`${e.decision.decision} <span class="muted">(<a href="${tenantBase(tenantId)}/runs/${enc(e.decision.runId)}">${e.decision.runId}</a>)</span>` : '—'}</dd></dl></div>
<h2>${t(lang, 'sourceRecord')}</h2><pre>${rec ? JSON.stringify(rec, null, 2) : (e.source?.read ?? '—')}</pre>
<h2>${t(lang, 'history')}</h2><table><tr><th>${t(lang, 'run')}</th><th>${t(lang, 'what')}</th><th>${t(lang, 'outcome')}</th><th>${t(lang, 'detail')}</th><th>${t(lang, 'when')}</th></tr>${e.history.map(
    (h) => html`<tr><td>${h.runId}</td><td>${h.operation}</td><td>${statusBadge(h.outcome)}</td><td>${h.errorCode ?? ''} ${h.message ?? ''}</td><td>${when(h.at)}</td></tr>`,
  )}</table>`;
  return renderPage(ctx, `${t(lang, 'explain')} · ${e.sourceId}`, body);
}

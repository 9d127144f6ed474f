/** The frame of every console page: header, navigation, language switch, sign-out. */
import { html, type Html } from './html';
import { t, type Lang } from './i18n';

export interface PageContext {
  lang: Lang;
  /** This page's path (for the language switch). */
  path: string;
  /** Set when signed in. */
  me?: { actor: string; csrf: string; deploymentAdmin: boolean };
  /** The tenant whose pages the navigation links to. */
  tenantId?: string;
}

const enc = encodeURIComponent;

export function tenantBase(tenantId: string): string {
  return `/console/t/${enc(tenantId)}`;
}

/** A POST form carrying the session's CSRF token. */
export function postForm(ctx: PageContext, action: string, fields: Html | string, button: Html | string, opts: { danger?: boolean; cls?: string } = {}): Html {
  return html`<form method="post" action="${action}" class="${opts.cls ?? 'inline'}"><input type="hidden" name="_csrf" value="${ctx.me?.csrf ?? ''}">${fields}<button type="submit"${opts.danger ? html` class="danger"` : ''}>${button}</button></form>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge s-${status.replace(/[^a-z_]/g, '')}">${status}</span>`;
}

export function renderPage(ctx: PageContext, title: string, body: Html): string {
  const { lang } = ctx;
  const nav = ctx.me
    ? html`<a href="/console">${t(lang, 'overview')}</a>${
        ctx.tenantId
          ? html`<a href="${tenantBase(ctx.tenantId)}/runs">${t(lang, 'runs')}</a><a href="${tenantBase(ctx.tenantId)}/mappings">${t(lang, 'mappings')}</a><a href="${tenantBase(ctx.tenantId)}/audit">${t(lang, 'audit')}</a>`
          : ''
      }${ctx.me.deploymentAdmin ? html`<a href="/console/dlq">${t(lang, 'dlq')}</a>` : ''}`
    : '';
  const me = ctx.me
    ? html`<span>${t(lang, 'signedInAs')}: <strong>${ctx.me.actor}</strong></span><form method="post" action="/console/signout"><input type="hidden" name="_csrf" value="${ctx.me.csrf}"><button type="submit">${t(lang, 'signOut')}</button></form>`
    : '';
  const page = html`<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${t(lang, 'title')}</title><link rel="stylesheet" href="/console/static/console.css"></head>
<body><header><span class="brand">${t(lang, 'title')}</span><nav>${nav}</nav><span class="me">${me}<span class="lang"><a href="${ctx.path}?lang=zh" lang="zh-CN">中文</a><a href="${ctx.path}?lang=en" lang="en">English</a></span></span></header>
<main><h1>${title}</h1>${body}</main></body></html>`;
  return page.value;
}

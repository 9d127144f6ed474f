/**
 * The simulators' HTML pages: the sign-in picker that stands in for a vendor's login page
 * (DingTalk's login.dingtalk.com/oauth2/auth, WeCom's OAuth and PC login pages) lists the
 * tenant's people so a developer can pick who signs in; the simulator then redirects like
 * the vendor does. Every value written into a page is HTML-escaped.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The pick-who-signs-in page; the form submits `userid` with the `hidden` fields back to `action`. */
export function loginPage(input: {
  action: string;
  title: string;
  orgName: string;
  hidden: Record<string, string>;
  people: ReadonlyArray<{ userid: string; name: string; detail?: string }>;
  error?: string;
}): string {
  const hidden = Object.entries(input.hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n    ');
  const options = input.people
    .map((p) => `<option value="${escapeHtml(p.userid)}">${escapeHtml(p.name)}${p.detail ? ` (${escapeHtml(p.detail)})` : ''}</option>`)
    .join('\n        ');
  return `<!doctype html>
<html lang="zh">
<head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}select,button{font-size:1rem;padding:.4rem}.err{color:#b00}</style></head>
<body>
  <h1>${escapeHtml(input.title)}</h1>
  <p>${escapeHtml(input.orgName)} · simulator: pick who signs in.</p>
  ${input.error ? `<p class="err">${escapeHtml(input.error)}</p>` : ''}
  <form method="get" action="${escapeHtml(input.action)}">
    ${hidden}
    <label>Sign in as
      <select name="userid">
        ${options}
      </select>
    </label>
    <button type="submit">登录 / Sign in</button>
  </form>
</body>
</html>`;
}

/** A bare error page (title and one line of detail). */
export function errorPage(title: string, detail: string): string {
  return `<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></body></html>`;
}

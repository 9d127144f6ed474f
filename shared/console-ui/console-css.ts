/** The console's one stylesheet, served as /console/static/console.css (the CSP allows no inline style). */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2933;background:#f5f7fa;font-size:14px;line-height:1.5}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none;margin-right:.8rem}
header .brand{font-weight:600;margin-right:1.5rem}
header .me{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9em}
header form{display:inline;margin:0}
header button{background:transparent;border:1px solid #9fb3c8;color:#fff;padding:.15rem .6rem;border-radius:3px;cursor:pointer}
main{max-width:72rem;margin:1.2rem auto;padding:0 1.2rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:1rem 1.2rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-weight:600}
.kv{display:grid;grid-template-columns:12rem 1fr;gap:.25rem 1rem}
.kv dt{color:#52606d}.kv dd{margin:0}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85em;background:#e4e7eb}
.s-success,.s-present,.s-ok{background:#c6f7e2;color:#014d40}
.s-warning,.s-awaiting_approval,.s-invalid,.s-refused{background:#fff3c4;color:#8d2b0b}
.s-failed,.s-missing,.s-rejected{background:#ffe3e3;color:#8a041a}
.s-applying,.s-planning{background:#dceefb;color:#0b4f8a}
form.inline{display:inline-flex;gap:.4rem;align-items:center;margin:.2rem .6rem .2rem 0}
button,input,select{font:inherit}
button{background:#2680c2;color:#fff;border:0;border-radius:4px;padding:.3rem .8rem;cursor:pointer}
button.danger{background:#ba2525}
input[type=text],input[type=date],select{border:1px solid #bcccdc;border-radius:4px;padding:.25rem .4rem}
pre{background:#102a43;color:#f0f4f8;padding:.8rem;border-radius:4px;overflow:auto;max-height:28rem;white-space:pre-wrap}
.muted{color:#7b8794}
.warn{background:#fffbea;border:1px solid #f7c948;padding:.6rem .8rem;border-radius:4px}
.error{background:#ffe3e3;border:1px solid #e12d39;padding:.6rem .8rem;border-radius:4px}
.lang a{color:#fff;margin-left:.3rem}
.signin a.button{display:inline-block;background:#2680c2;color:#fff;border-radius:4px;padding:.35rem .9rem;margin:.2rem .4rem .2rem 0;text-decoration:none}
`;

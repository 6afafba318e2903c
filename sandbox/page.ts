/** The sandbox's own small server-rendered pages (patient picker, readable errors). */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
}

/** `bodyHtml` must already be escaped. */
export function renderPage(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · ALK / ROS1 sandbox EHR</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; }
ul.picker { list-style: none; padding: 0; }
ul.picker li { margin: .4rem 0; }
button { font: inherit; padding: .3rem .8rem; border: 1px solid #0b5cad; border-radius: 4px; background: #fff; color: #0b5cad; cursor: pointer; }
button:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
.note { color: #444; font-size: .9rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${bodyHtml}
<p class="note">Local sandbox EHR · synthetic patients only · not for clinical use</p>
</main>
</body>
</html>`;
}

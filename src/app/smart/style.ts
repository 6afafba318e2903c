/**
 * `smart_style_url` [SMART 2.x §Styling, §6 item 51]: the EHR's colours, font and radius, applied as
 * CSS custom properties. Only plain colour / length / font-family values are taken, so a style
 * document cannot inject CSS; a fetch failure leaves the app's own style.
 */
const MAP: Record<string, { prop: string; kind: 'color' | 'length' | 'font' }> = {
  color_background: { prop: '--bg', kind: 'color' },
  color_text: { prop: '--text', kind: 'color' },
  color_highlight: { prop: '--accent', kind: 'color' },
  color_error: { prop: '--danger', kind: 'color' },
  color_success: { prop: '--ok', kind: 'color' },
  dim_border_radius: { prop: '--radius', kind: 'length' },
  dim_font_size: { prop: '--font-size', kind: 'length' },
  dim_spacing_size: { prop: '--space', kind: 'length' },
  font_family_body: { prop: '--font-body', kind: 'font' },
  font_family_heading: { prop: '--font-heading', kind: 'font' },
};

const SAFE = {
  color: /^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|hsla?\([\d\s.,%deg]+\)|[a-z]{3,20})$/i,
  length: /^\d{1,3}(\.\d{1,3})?(px|rem|em|%)$/,
  font: /^[\w\s,'"-]{1,120}$/,
};

export function styleProperties(doc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof doc !== 'object' || doc === null) return out;
  for (const [key, value] of Object.entries(doc)) {
    const m = MAP[key];
    if (m && typeof value === 'string' && SAFE[m.kind].test(value.trim())) out[m.prop] = value.trim();
  }
  return out;
}

export async function applySmartStyle(
  url: string,
  root: HTMLElement = document.documentElement,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  try {
    const res = await fetchImpl(url, { credentials: 'omit', headers: { accept: 'application/json' } });
    if (!res.ok) return false;
    const props = styleProperties(await res.json());
    for (const [k, v] of Object.entries(props)) root.style.setProperty(k, v);
    return Object.keys(props).length > 0;
  } catch {
    return false;
  }
}

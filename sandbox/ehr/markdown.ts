/**
 * Card `detail` markdown, parsed into a small tree that React renders as elements: there is no HTML
 * string anywhere, so nothing in a card can become markup. Supported: paragraphs, bullet and
 * numbered lists, **bold**, *italic* / _italic_, `code`, backslash escapes, character references
 * (`&lt;`…) and links whose target is absolute http(s); any other link (javascript:, data:,
 * relative) is shown as its text only. Raw HTML is shown as text.
 */

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'code'; v: string }
  | { t: 'link'; href: string; c: Inline[] };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'heading'; c: Inline[] }
  | { t: 'ul'; items: Inline[][] }
  | { t: 'ol'; items: Inline[][] };

const BULLET = /^ {0,3}[-*+][ \t]+(.*)$/;
const ORDERED = /^ {0,3}\d{1,9}[.)][ \t]+(.*)$/;
const HEADING = /^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/;
const RULE = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;

/**
 * Text without control characters (tab and newlines kept) or bidirectional embedding, override and
 * isolate controls, which can make text read in another order than it is stored.
 */
export function dropUnsafe(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    const control = (c < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') || (c >= 0x7f && c < 0xa0);
    const bidi = (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    if (!control && !bidi) out += ch;
  }
  return out;
}

export function parseMarkdown(source: string): Block[] {
  const lines = dropUnsafe(source).replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  let list: { t: 'ul' | 'ol'; items: string[] } | undefined;

  const flushPara = () => {
    if (para.length) blocks.push({ t: 'p', c: parseInline(para.join(' ')) });
    para = [];
  };
  const flushList = () => {
    if (list) blocks.push({ t: list.t, items: list.items.map(parseInline) });
    list = undefined;
  };

  for (const raw of lines) {
    const line = raw.replace(/\t/g, '    ');
    if (line.trim() === '') {
      flushPara();
      flushList();
      continue;
    }
    if (RULE.test(line)) {
      flushPara();
      flushList();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flushPara();
      flushList();
      blocks.push({ t: 'heading', c: parseInline(heading[1] ?? '') });
      continue;
    }
    const bullet = BULLET.exec(line);
    const ordered = bullet ? null : ORDERED.exec(line);
    const item = bullet ?? ordered;
    if (item) {
      flushPara();
      const t = bullet ? 'ul' : 'ol';
      if (list && list.t !== t) flushList();
      list ??= { t, items: [] };
      list.items.push(item[1] ?? '');
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      // Continuation of the last list item.
      const last = list.items.length - 1;
      list.items[last] = `${list.items[last]} ${line.trim()}`;
      continue;
    }
    flushList();
    para.push(line.trim());
  }
  flushPara();
  flushList();
  return blocks;
}

const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;

const NAMED: Record<string, string> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  le: '≤',
  ge: '≥',
};

function entityAt(s: string, i: number): { text: string; end: number } | undefined {
  const m = /^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/.exec(s.slice(i, i + 40));
  if (!m) return undefined;
  const body = m[1] as string;
  let text: string | undefined;
  if (body.startsWith('#')) {
    const cp =
      body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
    const valid = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    text = valid ? dropUnsafe(String.fromCodePoint(cp)) : '\ufffd';
  } else {
    text = NAMED[body];
  }
  return text === undefined ? undefined : { text, end: i + m[0].length };
}

/** Index of the closing delimiter for an emphasis run opened just before `from`, or -1. */
function findClosing(s: string, from: number, delim: string): number {
  for (let k = from; k < s.length; k++) {
    const ch = s[k];
    if (ch === '\\') {
      k++;
      continue;
    }
    if (ch === '`') {
      const end = s.indexOf('`', k + 1);
      if (end > 0) k = end;
      continue;
    }
    if (delim.length === 1 && s.startsWith(delim + delim, k)) {
      // A strong delimiter inside emphasis is not its end.
      k++;
      continue;
    }
    if (s.startsWith(delim, k) && k > from && !/\s/.test(s[k - 1] as string)) {
      if (delim[0] === '_' && /[A-Za-z0-9]/.test(s[k + delim.length] ?? '')) continue;
      return k;
    }
  }
  return -1;
}

/** `[text](url)` starting at `i` (s[i] === '['): the label, target and end index. */
function linkAt(s: string, i: number): { label: string; href: string; end: number } | undefined {
  let depth = 0;
  // Link text is at most 999 characters (CommonMark): the scan is bounded.
  for (let k = i; k < s.length && k < i + 1000; k++) {
    const ch = s[k];
    if (ch === '\\') {
      k++;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') {
      depth--;
      if (depth === 0) {
        if (s[k + 1] !== '(') return undefined;
        const m = /^\(\s*<?([^\s()<>]*)>?(?:\s+"[^"]*")?\s*\)/.exec(s.slice(k + 1));
        if (!m) return undefined;
        return { label: s.slice(i + 1, k), href: m[1] ?? '', end: k + 1 + m[0].length };
      }
    }
  }
  return undefined;
}

/** An absolute http(s) URL, normalised; anything else (javascript:, data:, relative…) is refused. */
export function safeLinkTarget(href: string): string | undefined {
  const cleaned = href.replace(/\\([!-/:-@[-`{-~])/g, '$1');
  try {
    const u = new URL(cleaned);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Nesting deeper than this is shown as text: no input can exhaust the stack. */
const MAX_DEPTH = 12;

export function parseInline(s: string, depth = 0): Inline[] {
  if (depth > MAX_DEPTH) return [{ t: 'text', v: s }];
  const out: Inline[] = [];
  /** Per delimiter, the first position from which no closing exists: later openers fail at once. */
  const noClosingFrom = new Map<string, number>();
  let text = '';
  const push = (node: Inline) => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
    out.push(node);
  };

  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const next = s[i + 1] ?? '';

    if (ch === '\\' && PUNCT.test(next)) {
      text += next;
      i++;
      continue;
    }
    if (ch === '&') {
      const e = entityAt(s, i);
      if (e) {
        text += e.text;
        i = e.end - 1;
        continue;
      }
    }
    if (ch === '`') {
      let run = 1;
      while (s[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      const end = s.indexOf(fence, i + run);
      if (end > 0) {
        push({ t: 'code', v: s.slice(i + run, end).replace(/^ (.+) $/, '$1') });
        i = end + run - 1;
        continue;
      }
      text += fence;
      i += run - 1;
      continue;
    }
    if ((ch === '*' || ch === '_') && !/\s/.test(s[i + (next === ch ? 2 : 1)] ?? ' ')) {
      const leftOk = ch === '*' || !/[A-Za-z0-9]/.test(s[i - 1] ?? '');
      const delim = next === ch ? ch + ch : ch;
      const from = i + delim.length;
      let close = -1;
      if (leftOk && from < (noClosingFrom.get(delim) ?? Number.POSITIVE_INFINITY)) {
        close = findClosing(s, from, delim);
        if (close < 0) noClosingFrom.set(delim, from);
      }
      if (close > from) {
        const inner = parseInline(s.slice(from, close), depth + 1);
        push(delim.length === 2 ? { t: 'strong', c: inner } : { t: 'em', c: inner });
        i = close + delim.length - 1;
        continue;
      }
    }
    if (ch === '[') {
      const link = linkAt(s, i);
      if (link) {
        const label = parseInline(link.label, depth + 1);
        const href = safeLinkTarget(link.href);
        if (href) push({ t: 'link', href, c: label });
        else {
          // Not a safe target: the label stays, as text, and the target is dropped.
          if (text) out.push({ t: 'text', v: text });
          text = '';
          out.push(...label);
        }
        i = link.end - 1;
        continue;
      }
    }
    if (ch === '<') {
      const auto = /^<(https?:\/\/[^\s<>]+)>/.exec(s.slice(i));
      const href = auto ? safeLinkTarget(auto[1] as string) : undefined;
      if (auto && href) {
        push({ t: 'link', href, c: [{ t: 'text', v: auto[1] as string }] });
        i += auto[0].length - 1;
        continue;
      }
    }
    text += ch;
  }
  if (text) out.push({ t: 'text', v: text });
  return merge(out);
}

/** Adjacent text nodes joined. */
function merge(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if (n.t === 'text' && last?.t === 'text') last.v += n.v;
    else out.push(n);
  }
  return out;
}

/** Plain text of a tree (for tests and accessible summaries). */
export function inlineText(nodes: readonly Inline[]): string {
  return nodes.map((n) => (n.t === 'text' || n.t === 'code' ? n.v : inlineText(n.c))).join('');
}

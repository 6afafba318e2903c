/**
 * Card `detail` markdown, parsed by markdown-it (CommonMark) into a small tree that React renders as
 * elements: no HTML string is made or inserted anywhere, so nothing in a card can become markup.
 *
 * Safety, in layers: raw HTML is text (`html: false`); markdown-it accepts only https link targets
 * (`validateLink`; a refused target leaves the link with an empty href, which is shown as its label
 * only); the tree keeps only paragraphs, headings (shown as bold paragraphs), bullet and numbered
 * lists, bold, italic, code and links, so any other construct (images, tables, code blocks) becomes
 * text; control and bidirectional-override characters are dropped from every text.
 * {@link https://spec.commonmark.org/0.31.2/}
 */
import MarkdownIt from 'markdown-it';

type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];

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

/** An absolute https URL, normalised; anything else (http:, javascript:, data:, relative…) is refused. */
export function safeLinkTarget(href: string): string | undefined {
  try {
    const u = new URL(href);
    return u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const md = new MarkdownIt('commonmark', {
  html: false,
  linkify: false,
  typographer: false,
  // Deeper nesting is left as text: no input can make a tree that exhausts the stack when rendered.
  maxNesting: 20,
});
/** Deeper inline nesting (emphasis in emphasis…) is shown as its markup text. */
const MAX_INLINE_DEPTH = 12;
// Links only to https. A refused target is emptied here rather than refused by validateLink alone:
// markdown-it would then show the whole `[label](javascript:…)` as text, where the clinician should
// read just the label. validateLink lets through https and that empty target, nothing else.
const normalizeLink = md.normalizeLink.bind(md);
md.normalizeLink = (url: string) => {
  const normal = normalizeLink(url);
  return safeLinkTarget(normal) ? normal : '';
};
md.validateLink = (url: string) => url === '' || safeLinkTarget(url) !== undefined;

/** Adjacent text nodes merged (softbreaks and escapes arrive as separate tokens). */
function merged(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if (n.t === 'text' && last?.t === 'text') last.v += n.v;
    else if (n.t !== 'text' || n.v) out.push(n);
  }
  return out;
}

/** markdown-it's inline tokens → the tree; unknown tokens keep their text. */
function toInline(tokens: readonly Token[]): Inline[] {
  const root: Inline[] = [];
  /** Open nodes; `node` undefined when too deep (its markup is kept as text instead). */
  const stack: { node?: Inline & { c: Inline[] }; close: string; markup: string }[] = [];
  const into = () => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const node = stack[i]?.node;
      if (node) return node.c;
    }
    return root;
  };
  const open = (node: Inline & { c: Inline[] }, tok: Token, close: string) => {
    if (stack.length >= MAX_INLINE_DEPTH) {
      into().push({ t: 'text', v: tok.markup });
      stack.push({ close, markup: tok.markup });
      return;
    }
    into().push(node);
    stack.push({ node, close, markup: tok.markup });
  };
  for (const tok of tokens) {
    switch (tok.type) {
      case 'text':
      case 'text_special':
        into().push({ t: 'text', v: dropUnsafe(tok.content) });
        break;
      case 'softbreak':
      case 'hardbreak':
        into().push({ t: 'text', v: ' ' });
        break;
      case 'code_inline':
        into().push({ t: 'code', v: dropUnsafe(tok.content) });
        break;
      case 'strong_open':
      case 'em_open': {
        const node = { t: tok.type === 'strong_open' ? 'strong' : 'em', c: [] } as Inline & { c: Inline[] };
        open(node, tok, tok.type.replace('_open', '_close'));
        break;
      }
      case 'link_open': {
        const href = safeLinkTarget(String(tok.attrGet('href') ?? '')) ?? '';
        const node = { t: 'link', href, c: [] } as Inline & { c: Inline[] };
        open(node, tok, 'link_close');
        break;
      }
      case 'strong_close':
      case 'em_close':
      case 'link_close':
        if (stack[stack.length - 1]?.close === tok.type) {
          const closed = stack.pop();
          if (closed && !closed.node && tok.type !== 'link_close') into().push({ t: 'text', v: tok.markup });
        }
        break;
      case 'image':
        // Never fetched: an image shows as its description.
        into().push({ t: 'text', v: dropUnsafe(tok.content) });
        break;
      default:
        if (tok.content) into().push({ t: 'text', v: dropUnsafe(tok.content) });
    }
  }
  return tidy(root);
}

/** Text merged at every level; a link whose target was refused becomes its label. */
function tidy(nodes: Inline[]): Inline[] {
  return merged(
    nodes.flatMap((n): Inline[] => {
      if (n.t === 'link') return n.href ? [{ ...n, c: tidy(n.c) }] : tidy(n.c);
      if (n.t === 'strong' || n.t === 'em') return [{ ...n, c: tidy(n.c) }];
      return [n];
    }),
  );
}

export function parseInline(s: string): Inline[] {
  const [block] = md.parseInline(dropUnsafe(s), {});
  return toInline(block?.children ?? []);
}

export function parseMarkdown(source: string): Block[] {
  const tokens = md.parse(dropUnsafe(source), {});
  const blocks: Block[] = [];
  /** Open lists, outermost first; a nested list is shown after its parent (the tree is flat). */
  const lists: { t: 'ul' | 'ol'; items: Inline[][] }[] = [];
  const nested: Block[] = [];
  let heading = false;
  for (const tok of tokens) {
    switch (tok.type) {
      case 'bullet_list_open':
      case 'ordered_list_open':
        lists.push({ t: tok.type === 'bullet_list_open' ? 'ul' : 'ol', items: [] });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close': {
        const list = lists.pop();
        if (!list) break;
        if (lists.length) nested.push(list);
        else blocks.push(list, ...nested.splice(0));
        break;
      }
      case 'list_item_open':
        lists[lists.length - 1]?.items.push([]);
        break;
      case 'heading_open':
        heading = true;
        break;
      case 'heading_close':
        heading = false;
        break;
      case 'inline':
      case 'fence':
      case 'code_block': {
        const c =
          tok.type === 'inline'
            ? toInline(tok.children ?? [])
            : [{ t: 'code' as const, v: dropUnsafe(tok.content.replace(/\n$/, '')) }];
        const list = lists[lists.length - 1];
        const item = list?.items[list.items.length - 1];
        if (item)
          item.splice(
            0,
            item.length,
            ...merged([...item, ...(item.length ? [{ t: 'text' as const, v: ' ' }] : []), ...c]),
          );
        else if (c.length) blocks.push({ t: heading ? 'heading' : 'p', c });
        break;
      }
    }
  }
  return blocks;
}

/** Plain text of a tree (for tests and accessible summaries). */
export function inlineText(nodes: readonly Inline[]): string {
  return nodes.map((n) => (n.t === 'text' || n.t === 'code' ? n.v : inlineText(n.c))).join('');
}

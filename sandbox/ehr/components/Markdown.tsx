/**
 * Renders card markdown (parsed by markdown-it into the tree of `markdown.ts`) as React elements,
 * never as an HTML string, so text from a service or from the record is always text. Only the tree's
 * few node types become elements; links open in a new tab without an opener, and only to https.
 */
import { type ReactNode, useMemo } from 'react';
import { type Inline, parseMarkdown } from '../markdown.ts';

function inline(nodes: readonly Inline[], prefix: string): ReactNode[] {
  return nodes.map((n, i) => {
    const key = `${prefix}.${i}`;
    switch (n.t) {
      case 'text':
        return n.v;
      case 'code':
        return <code key={key}>{n.v}</code>;
      case 'strong':
        return <strong key={key}>{inline(n.c, key)}</strong>;
      case 'em':
        return <em key={key}>{inline(n.c, key)}</em>;
      case 'link':
        // The parser already refused other targets; checked again where the attribute is written.
        if (!n.href.startsWith('https://')) return inline(n.c, key);
        return (
          <a key={key} href={n.href} target="_blank" rel="noopener noreferrer">
            {inline(n.c, key)}
            <span className="visually-hidden"> (opens in a new tab)</span>
          </a>
        );
    }
    return null;
  });
}

export function Markdown({ source, className }: { source: string; className?: string }) {
  const blocks = useMemo(() => parseMarkdown(source), [source]);
  return (
    <div className={className ?? 'markdown'}>
      {blocks.map((b, i) => {
        const key = `b${i}`;
        switch (b.t) {
          case 'p':
            return <p key={key}>{inline(b.c, key)}</p>;
          case 'heading':
            return (
              <p key={key} className="markdown-heading">
                <strong>{inline(b.c, key)}</strong>
              </p>
            );
          case 'ul':
          case 'ol': {
            const items = b.items.map((item, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: list items are positional and never reordered.
              <li key={`${key}.${j}`}>{inline(item, `${key}.${j}`)}</li>
            ));
            return b.t === 'ul' ? <ul key={key}>{items}</ul> : <ol key={key}>{items}</ol>;
          }
        }
        return null;
      })}
    </div>
  );
}

// @vitest-environment jsdom
/**
 * Card markdown parsed by markdown-it (CommonMark) in the sandbox EHR: links only to https, raw HTML
 * and images as text, constructs the tree has no element for (code blocks, nested lists, headings)
 * kept readable, and nothing rendered through an HTML string.
 */
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Markdown } from '../../../sandbox/ehr/components/Markdown.tsx';
import { parseInline, parseMarkdown, safeLinkTarget } from '../../../sandbox/ehr/markdown.ts';

afterEach(cleanup);

const root = (source: string) =>
  render(<Markdown source={source} />).container.firstElementChild as HTMLElement;

describe('markdown (markdown-it): links', () => {
  it('http, relative, mailto and protocol-relative targets show as their label only', () => {
    for (const target of ['http://example.org/x', '/relative', 'mailto:a@b.example', '//evil.example/x']) {
      const el = root(`See [the label](${target}) here.`);
      expect(el.querySelector('a'), target).toBeNull();
      expect(el.textContent).toBe('See the label here.');
    }
  });

  it('safeLinkTarget accepts https only', () => {
    expect(safeLinkTarget('https://example.org/a b')).toBe('https://example.org/a%20b');
    expect(safeLinkTarget('http://example.org/')).toBeUndefined();
    expect(safeLinkTarget('javascript:alert(1)')).toBeUndefined();
    expect(safeLinkTarget('not a url')).toBeUndefined();
  });

  it('an https link inside bold keeps both', () => {
    expect(parseInline('**[FDA label](https://www.fda.gov/x)**')).toEqual([
      { t: 'strong', c: [{ t: 'link', href: 'https://www.fda.gov/x', c: [{ t: 'text', v: 'FDA label' }] }] },
    ]);
  });
});

describe('markdown (markdown-it): what has no element of its own', () => {
  it('an image is never fetched: its description is text', () => {
    const el = root('![a chart](https://example.org/x.png)');
    expect(el.querySelector('img')).toBeNull();
    expect(el.textContent).toBe('a chart');
  });

  it('headings read as bold paragraphs; code blocks as code; nested lists follow their parent', () => {
    expect(parseMarkdown('## Dose\n\n```\n600 mg\n```\n\n- a\n  - b\n- c')).toEqual([
      { t: 'heading', c: [{ t: 'text', v: 'Dose' }] },
      { t: 'p', c: [{ t: 'code', v: '600 mg' }] },
      { t: 'ul', items: [[{ t: 'text', v: 'a' }], [{ t: 'text', v: 'c' }]] },
      { t: 'ul', items: [[{ t: 'text', v: 'b' }]] },
    ]);
  });

  it('raw HTML blocks and inline HTML stay text (html: false)', () => {
    const el = root('<div onclick="x()">block</div>\n\ntext <span style="color:red">inline</span>');
    expect(el.querySelector('div, [onclick], [style]')).toBeNull();
    expect(el.textContent).toContain('<div onclick="x()">block</div>');
    expect(el.textContent).toContain('<span style="color:red">inline</span>');
  });

  it('emphasis nested past the depth limit is shown as its markup, not as deeper elements', () => {
    const deep = `${'*a '.repeat(40)}x${' b*'.repeat(40)}`;
    const el = root(deep);
    let depth = 0;
    for (let e: Element | null = el.querySelector('em'); e; e = e.querySelector(':scope > em')) depth++;
    expect(depth).toBeLessThanOrEqual(12);
    expect(el.textContent).toContain('x');
  });
});

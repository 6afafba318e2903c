// @vitest-environment jsdom
/**
 * Card detail markdown in the sandbox EHR: what it supports (paragraphs, bold, italic, lists, http(s)
 * links, escapes) and that hostile detail (`<script>`, `<img onerror>`, `javascript:` links, raw
 * HTML, bidirectional overrides) comes out as inert text.
 */
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Markdown } from '../../../sandbox/ehr/components/Markdown.tsx';
import { inlineText, parseInline, parseMarkdown } from '../../../sandbox/ehr/markdown.ts';
import { ORDER_SELECT_ALECTINIB_ROS1, PATIENT_VIEW_ROS1 } from './ehr-fixtures.ts';

afterEach(cleanup);

function html(source: string) {
  const { container } = render(<Markdown source={source} />);
  return container.firstElementChild as HTMLElement;
}

describe('markdown: what renders', () => {
  it('paragraphs, bold, italic (* and _), code and bullet lists', () => {
    const root = html(
      'First **bold** and *it* and _also_ with `rule-1`.\nSame paragraph.\n\n- one\n- **two**\n\nLast',
    );
    expect(root.innerHTML).toBe(
      '<p>First <strong>bold</strong> and <em>it</em> and <em>also</em> with <code>rule-1</code>. Same paragraph.</p>' +
        '<ul><li>one</li><li><strong>two</strong></li></ul><p>Last</p>',
    );
  });

  it('numbered lists and continuation lines', () => {
    expect(parseMarkdown('1. first\n   continued\n2. second')).toEqual([
      {
        t: 'ol',
        items: [[{ t: 'text', v: 'first continued' }], [{ t: 'text', v: 'second' }]],
      },
    ]);
  });

  it('an https link opens in a new tab without opener', () => {
    const a = html('See [the label](https://www.accessdata.fda.gov/x.pdf).').querySelector('a');
    expect(a?.getAttribute('href')).toBe('https://www.accessdata.fda.gov/x.pdf');
    expect(a?.getAttribute('target')).toBe('_blank');
    expect(a?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(a?.textContent).toBe('the label (opens in a new tab)');
  });

  it('backslash escapes and character references read as the service meant them', () => {
    expect(inlineText(parseInline('Alectinib \\(Alecensa\\) CrCl 15 to &lt; 30 mL/min, 5 \\* 3'))).toBe(
      'Alectinib (Alecensa) CrCl 15 to < 30 mL/min, 5 * 3',
    );
  });

  it('intraword underscores and lone asterisks are not emphasis', () => {
    expect(parseInline('snake_case_name and 5 * 3 * 2')).toEqual([
      { t: 'text', v: 'snake_case_name and 5 * 3 * 2' },
    ]);
  });

  it('the service’s own cards: bold agent names, italic evidence, no stray markup', () => {
    const therapy = PATIENT_VIEW_ROS1.cards[0]?.detail as string;
    const root = html(therapy);
    expect(root.querySelectorAll('ul').length).toBeGreaterThan(1);
    expect([...root.querySelectorAll('strong')].map((s) => s.textContent)).toContain(
      'Entrectinib (Rozlytrek)',
    );
    expect(root.textContent).not.toMatch(/\\\(|\*\*|&lt;/);
    const concordance = html(ORDER_SELECT_ALECTINIB_ROS1.cards[0]?.detail as string);
    expect(concordance.textContent).toContain('Alectinib (Alecensa) in ROS1-positive NSCLC');
  });
});

describe('markdown: hostile detail is inert', () => {
  const hostile = [
    '<script>window.pwned = 1</script>',
    '<img src=x onerror="window.pwned = 1">',
    '[click me](javascript:window.pwned=1)',
    '[data](data:text/html;base64,PHNjcmlwdD4=)',
    '[spaced](  JaVaScRiPt:alert(1) )',
    '[entity](jav&#x61;script:alert(1))',
    '<a href="javascript:alert(1)">raw anchor</a>',
    '<iframe src="https://evil.example"></iframe>',
    '**<b onmouseover=alert(1)>bold html</b>**',
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    '<https://ok.example/path> and <javascript:alert(1)>',
  ].join('\n\n');

  it('renders no element but p, ul, li, strong, em, code, span and https anchors', () => {
    const root = html(hostile);
    const tags = new Set([...root.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()));
    for (const t of tags) expect(['p', 'ul', 'ol', 'li', 'strong', 'em', 'code', 'a', 'span']).toContain(t);
    expect(root.querySelector('script, img, iframe, b')).toBeNull();
    const hrefs = [...root.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(hrefs).toEqual(['https://ok.example/path']);
    for (const el of root.querySelectorAll('*'))
      for (const attr of el.getAttributeNames()) expect(attr).not.toMatch(/^on/);
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it('the hostile markup stays visible as text, and a refused link keeps only its label', () => {
    const root = html(hostile);
    expect(root.textContent).toContain('<script>window.pwned = 1</script>');
    expect(root.textContent).toContain('<img src=x onerror="window.pwned = 1">');
    expect(root.textContent).toContain('click me');
    expect(root.textContent).not.toContain('javascript:window.pwned');
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });

  it('control and bidirectional-override characters are dropped', () => {
    const [block] = parseMarkdown('abc\u202edef\u0007');
    expect(block?.t === 'p' ? inlineText(block.c) : undefined).toBe('abcdef');
  });

  it('long, deeply nested or unbalanced input parses quickly without blowing the stack', () => {
    const inputs = [
      `${'['.repeat(5000)}x${']'.repeat(5000)}`,
      '**a '.repeat(5000),
      '*a '.repeat(5000) + 'b* '.repeat(5000),
      `${'_'.repeat(20000)}x`,
      '`'.repeat(20000),
      `${'[a]('.repeat(5000)}`,
      '&#x'.repeat(10000),
    ];
    const started = performance.now();
    for (const input of inputs) expect(() => render(<Markdown source={input} />)).not.toThrow();
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

// @vitest-environment jsdom
/**
 * Never a blank screen [issue 6]: a component that throws while rendering is replaced by a readable
 * page (what happened, reload / relaunch), with no stack trace on screen and only a redacted one-line
 * log (error name and message, no token).
 */
import { cleanup, render, screen } from '@testing-library/react';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError, ErrorBoundary } from '../../../src/app/components/ErrorBoundary.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function Thrower(): never {
  throw new TypeError(
    "Cannot read properties of undefined (reading 'gene') at https://ehr.example/cb?code=abc&access_token=SECRET-TOKEN-123 Bearer eyJSECRET.x.y",
  );
}

describe('ErrorBoundary', () => {
  it('shows its children when nothing throws', () => {
    render(
      <ErrorBoundary>
        <p>summary here</p>
      </ErrorBoundary>,
    );
    expect(screen.getByText('summary here')).toBeTruthy();
  });

  it('a child that throws while rendering: a readable page, no stack trace, a redacted log line', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    // React's own reporting of caught errors is replaced in main.tsx; silence it here too.
    render(
      <ErrorBoundary>
        <p>before</p>
        <Thrower />
      </ErrorBoundary>,
      { onCaughtError: () => {} },
    );
    const heading = screen.getByRole('heading', { level: 1 });
    expect(heading.textContent).toBe('The app stopped because of an unexpected problem');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/reload the page/i);
    expect(alert.textContent).toMatch(/relaunch the app from the EHR/);
    expect(screen.getByRole('button', { name: 'Reload the page' })).toBeTruthy();
    // Nothing of the failed tree, no error text, no stack, no token on screen.
    const text = document.body.textContent ?? '';
    expect(text).not.toMatch(/before|TypeError|reading 'gene'|SECRET|\bat\s+\w+\s*\(/);
    expect(document.body.innerHTML).not.toMatch(/SECRET|\.tsx/);

    const ours = logged.mock.calls.map((c) => c.join(' ')).filter((l) => l.startsWith('[alk-ros1-app]'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^\[alk-ros1-app\] render failed: TypeError: Cannot read properties/);
    expect(ours[0]).not.toMatch(/SECRET|access_token=[^…]|code=abc/);
  });

  it('the error page has no WCAG 2.1 A/AA violations axe can find in jsdom (contrast is checked in Chromium)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    render(
      <ErrorBoundary>
        <Thrower />
      </ErrorBoundary>,
      { onCaughtError: () => {} },
    );
    const result = await axe.run(document.body, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      rules: { 'color-contrast': { enabled: false } },
    });
    expect(result.violations.map((v) => v.id)).toEqual([]);
    expect(result.passes.length).toBeGreaterThan(3);
  });

  it('describeError keeps the name and a redacted, bounded message only', () => {
    const e = new Error(`token refused: Bearer abc.def.ghi ${'x'.repeat(500)}`);
    const d = describeError(e);
    expect(d.startsWith('Error: token refused: Bearer …')).toBe(true);
    expect(d).not.toMatch(/abc\.def/);
    expect(d.length).toBeLessThan(220);
    expect(describeError({ patient: 'Jane Doe' })).toBe('object');
  });
});

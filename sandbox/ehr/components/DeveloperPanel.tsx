/**
 * For integrators: the last CDS Hooks service call and the last feedback call, request and
 * response as JSON, with every token redacted (the JWT is only ever shown as `Bearer [redacted]`).
 */
import { useMemo, useState } from 'react';
import type { Exchange } from '../api.ts';
import { redact } from '../hooks.ts';

const pretty = (body: unknown, none: string) =>
  body === undefined ? none : JSON.stringify(redact(body), null, 2);

function ExchangeView({ title, exchange }: { title: string; exchange?: Exchange }) {
  const request = useMemo(() => pretty(exchange?.requestBody, '(no body)'), [exchange]);
  const response = useMemo(() => pretty(exchange?.responseBody, '(empty body)'), [exchange]);
  if (!exchange) {
    return (
      <section>
        <h3>{title}</h3>
        <p className="muted">None yet.</p>
      </section>
    );
  }
  return (
    <section>
      <h3>{title}</h3>
      <p>
        <code>
          {exchange.method} {exchange.url}
        </code>{' '}
        → HTTP {exchange.status} in {exchange.durationMs} ms
      </p>
      <p className="muted">
        Headers: <code>Authorization: Bearer [redacted]</code>, <code>Content-Type: application/json</code>
      </p>
      <h4>Request</h4>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1). */}
      <pre tabIndex={0}>{request}</pre>
      <h4>Response</h4>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1). */}
      <pre tabIndex={0}>{response}</pre>
    </section>
  );
}

export function DeveloperPanel({ hook, feedback }: { hook?: Exchange; feedback?: Exchange }) {
  // Prefetch can be hundreds of kilobytes: the JSON is only laid out while the panel is open.
  const [open, setOpen] = useState(false);
  return (
    <details
      className="panel developer-panel"
      data-testid="developer-panel"
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>Developer: last CDS Hooks request and response</summary>
      {open && (
        <>
          <ExchangeView title="Last hook call" exchange={hook} />
          <ExchangeView title="Last feedback call" exchange={feedback} />
        </>
      )}
    </details>
  );
}

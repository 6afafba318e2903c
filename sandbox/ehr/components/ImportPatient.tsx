/**
 * "Bring your own patient": a FHIR R4 Bundle file (picked or dropped) posted to the sandbox's
 * `POST /sandbox/api/patients`. On success `onImported(id)`; otherwise every problem the server
 * named (its OperationOutcome), each with where in the Bundle it is. Self-contained: it talks to the
 * sandbox itself, so it can sit in the patient picker or anywhere else.
 */
import { type DragEvent, useId, useRef, useState } from 'react';

/** The server refuses more (413); said before the upload rather than after. */
const MAX_BYTES = 20 * 1024 * 1024;

interface Problem {
  severity: string;
  text: string;
  where?: string;
}

type State =
  | { kind: 'idle' }
  | { kind: 'uploading'; file: string }
  | { kind: 'done'; file: string; name: string }
  | { kind: 'failed'; file: string; problems: Problem[] };

/** The problems of an OperationOutcome, or one problem saying what came back instead. */
export function problemsOf(status: number, body: unknown): Problem[] {
  const issues = (body as { resourceType?: unknown; issue?: unknown } | undefined)?.issue;
  if (Array.isArray(issues) && issues.length > 0) {
    return issues.map((raw) => {
      const issue = (raw ?? {}) as {
        severity?: string;
        code?: string;
        diagnostics?: string;
        details?: { text?: string };
        expression?: string[];
      };
      return {
        severity: issue.severity ?? 'error',
        text: issue.diagnostics ?? issue.details?.text ?? issue.code ?? 'unspecified problem',
        ...(issue.expression?.[0] ? { where: issue.expression[0] } : {}),
      };
    });
  }
  return [{ severity: 'error', text: `The sandbox answered HTTP ${status} without saying why.` }];
}

export function ImportPatient({
  onImported,
  endpoint = '/sandbox/api/patients',
}: {
  onImported: (id: string) => void;
  /** Where to post (the sandbox's own API unless told otherwise). */
  endpoint?: string;
}) {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  async function upload(file: File) {
    if (file.size > MAX_BYTES) {
      setState({
        kind: 'failed',
        file: file.name,
        problems: [{ severity: 'error', text: `The file is over 20 MB: import one patient's record.` }],
      });
      return;
    }
    setState({ kind: 'uploading', file: file.name });
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/json' },
        body: file,
      });
      const body: unknown = await res.json().catch(() => undefined);
      const created = body as { id?: unknown; name?: unknown } | undefined;
      if (res.status === 201 && typeof created?.id === 'string') {
        setState({
          kind: 'done',
          file: file.name,
          name: typeof created.name === 'string' ? created.name : created.id,
        });
        onImported(created.id);
        return;
      }
      setState({ kind: 'failed', file: file.name, problems: problemsOf(res.status, body) });
    } catch (e) {
      setState({
        kind: 'failed',
        file: file.name,
        problems: [
          {
            severity: 'error',
            text: `The sandbox could not be reached: ${e instanceof Error ? e.message : e}`,
          },
        ],
      });
    } finally {
      // The same file can be chosen again after it was fixed.
      if (input.current) input.current.value = '';
    }
  }

  const onDrop = (e: DragEvent<HTMLElement>) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void upload(file);
  };

  return (
    <section className="panel" aria-labelledby={`${id}-heading`} data-testid="import-patient">
      <h2 id={`${id}-heading`}>Bring your own patient</h2>
      <p className="muted" id={`${id}-help`}>
        A FHIR R4 Bundle (JSON, type collection, transaction or searchset) with one Patient and its record:
        Conditions, Observations, Medications… Kept in this sandbox until you delete it.
      </p>
      {/* A drop target for mouse users; the file input inside it is the keyboard path. */}
      <section
        aria-label="Drop a Bundle file here"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="import-drop-zone"
        style={{
          border: `2px dashed ${over ? '#0b5cad' : '#9aa5b1'}`,
          borderRadius: 6,
          padding: '1rem',
          background: over ? '#eef5fc' : undefined,
        }}
      >
        <label htmlFor={`${id}-file`}>Choose a Bundle file, or drop it here: </label>
        <input
          ref={input}
          id={`${id}-file`}
          type="file"
          accept=".json,application/json,application/fhir+json"
          aria-describedby={`${id}-help`}
          disabled={state.kind === 'uploading'}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void upload(file);
          }}
        />
      </section>
      <div aria-live="polite">
        {state.kind === 'uploading' && (
          <p role="status">
            <span className="spinner" aria-hidden="true" /> Importing {state.file}…
          </p>
        )}
        {state.kind === 'done' && (
          <p role="status" data-testid="import-done">
            Imported {state.name} from {state.file}.
          </p>
        )}
      </div>
      {state.kind === 'failed' && (
        <div role="alert" className="hook-error" data-testid="import-problems">
          <p>
            <strong>{state.file} was not imported</strong> (nothing in the sandbox changed).{' '}
            {state.problems.length === 1 ? 'One problem:' : `${state.problems.length} problems:`}
          </p>
          <ul>
            {state.problems.map((p, i) => (
              // Problems have no identity of their own; the list is replaced whole.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <li key={i}>
                {p.severity !== 'error' && <strong>{p.severity}: </strong>}
                {p.text}
                {p.where && (
                  <>
                    {' '}
                    <code>{p.where}</code>
                  </>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

/**
 * Client → record → Assessment, as a small state machine (loading → ready | error), aborted on
 * unmount. The only path from React to fhirclient goes through here and `load-patient-data.ts`.
 */
import { useEffect, useReducer } from 'react';
import { type Assessment, evaluate } from '../../core/index.ts';
import { toSnapshot } from '../../fhir/to-snapshot.ts';
import { getKnowledge } from '../../knowledge/index.ts';
import { type AppError, toAppError } from '../smart/errors.ts';
import { type LoadedData, loadPatientData, type SmartClient } from '../smart/load-patient-data.ts';

export interface AssessmentOptions {
  /** ISO time the look-back windows count from (the shell passes the current time). */
  now: string;
  formularyUnavailable?: string[];
  pageCap?: number;
  /** Per-request timeout (see `loadPatientData`). */
  requestTimeoutMs?: number;
}

export interface Ready {
  assessment: Assessment;
  data: Omit<LoadedData, 'resources'>;
  /** Milliseconds from the start of loading to the assessment. */
  elapsedMs: number;
}

export type AssessmentState =
  | { phase: 'loading'; step: 'authorising' | 'loading' }
  | ({ phase: 'ready' } & Ready)
  | { phase: 'error'; error: AppError };

type Action = { type: 'authorised' } | { type: 'ready'; ready: Ready } | { type: 'failed'; error: AppError };

function reducer(state: AssessmentState, action: Action): AssessmentState {
  switch (action.type) {
    case 'authorised':
      return state.phase === 'loading' ? { phase: 'loading', step: 'loading' } : state;
    case 'ready':
      return { phase: 'ready', ...action.ready };
    case 'failed':
      return { phase: 'error', error: action.error };
  }
}

/** The whole pipeline, outside React (the bench and tests call it directly). */
export async function assess(
  client: SmartClient,
  options: AssessmentOptions,
  signal?: AbortSignal,
): Promise<Ready> {
  const started = performance.now();
  const data = await loadPatientData(client, {
    ...(signal ? { signal } : {}),
    ...(options.pageCap ? { pageCap: options.pageCap } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const kb = getKnowledge();
  const snapshot = toSnapshot(data.resources, data.gaps, {
    patientId: data.context.patientId,
    knowledge: kb,
  });
  const assessment = evaluate(snapshot, kb, {
    now: options.now,
    config: { formularyUnavailable: options.formularyUnavailable ?? [] },
  });
  const { resources: _dropped, ...rest } = data;
  return { assessment, data: rest, elapsedMs: performance.now() - started };
}

export function useAssessment(
  getClient: () => Promise<SmartClient>,
  options: AssessmentOptions,
): AssessmentState {
  const [state, dispatch] = useReducer(reducer, { phase: 'loading', step: 'authorising' });
  const { now, pageCap, requestTimeoutMs } = options;
  const formulary = (options.formularyUnavailable ?? []).join('\n');

  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      let authorised = false;
      try {
        const client = await getClient();
        authorised = true;
        if (controller.signal.aborted) return;
        dispatch({ type: 'authorised' });
        const ready = await assess(
          client,
          {
            now,
            formularyUnavailable: formulary ? formulary.split('\n') : [],
            ...(pageCap ? { pageCap } : {}),
            ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
          },
          controller.signal,
        );
        if (!controller.signal.aborted) dispatch({ type: 'ready', ready });
      } catch (e) {
        if (controller.signal.aborted) return;
        dispatch({ type: 'failed', error: toAppError(e, authorised ? 'load' : 'auth') });
      }
    })();
    return () => controller.abort();
  }, [getClient, now, formulary, pageCap, requestTimeoutMs]);

  return state;
}

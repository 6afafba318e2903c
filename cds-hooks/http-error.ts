/**
 * Errors at the HTTP edge: each carries its status and becomes a FHIR OperationOutcome body. Clients
 * never see a stack trace or internal detail.
 */
import type { ZodError } from 'zod';

export type IssueCode =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'security'
  | 'not-found'
  | 'not-supported'
  | 'too-long'
  | 'exception'
  | 'incomplete'
  | 'transient';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly expression?: string[],
    /** A ready OperationOutcome (e.g. every validation issue) instead of the single message. */
    readonly outcome?: OperationOutcome,
    /** Extra response headers (`Retry-After` on a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toOperationOutcome(): OperationOutcome {
    return this.outcome ?? operationOutcome(this.code, this.message, this.expression);
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'error' | 'fatal'; code: IssueCode; diagnostics: string; expression?: string[] }[];
}

export function operationOutcome(
  code: IssueCode,
  diagnostics: string,
  expression?: string[],
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics, ...(expression?.length ? { expression } : {}) }],
  };
}

/** A 400 listing every validation problem, with the path of each. */
export function fromZodError(error: ZodError, prefix = ''): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: error.issues.slice(0, 20).map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return {
        severity: 'error' as const,
        code: 'invalid' as const,
        diagnostics: i.message,
        ...(path ? { expression: [path] } : {}),
      };
    }),
  };
}

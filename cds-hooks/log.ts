/**
 * Structured logs (pino, one JSON line per request). What may be logged is listed here and nowhere
 * else: never a token, never patient data (no patient id, no resource content).
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'alk-ros1-cds' },
      // Defence in depth: even if a caller passes one of these, it is not written.
      redact: {
        paths: [
          'authorization',
          'token',
          'access_token',
          'fhirAuthorization',
          'patientId',
          'req.headers.authorization',
        ],
        remove: true,
      },
    },
    destination,
  );
}

export interface RequestLog {
  route: 'discovery' | 'service' | 'feedback' | 'health' | 'other';
  method: string;
  service?: string;
  hook?: string;
  hookInstance?: string;
  status: number;
  durationMs: number;
  cards?: number;
  fhirCalls?: number;
  gaps?: number;
  feedback?: { inserted: number; duplicates: number };
  iss?: string;
  jti?: string;
  outcome: string;
}

/**
 * Errors the app shows as a full page: each kind has words for the clinician and, where it helps,
 * a relaunch hint. Messages never carry a token or a full URL with a code in it.
 */
export type AppErrorKind =
  | 'config'
  | 'issuer-not-allowed'
  | 'dev-only'
  | 'not-launched'
  | 'auth'
  | 'launch-invalid'
  | 'expired'
  | 'no-patient'
  | 'wrong-patient'
  | 'load';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly kind: AppErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const TITLES: Record<AppErrorKind, string> = {
  config: 'The app is not configured correctly',
  'issuer-not-allowed': 'This EHR is not on the list of allowed servers',
  'dev-only': 'Test launches are disabled',
  'not-launched': 'Open this app from the EHR',
  auth: 'Sign-in to the EHR did not complete',
  'launch-invalid': 'This launch cannot be used',
  expired: 'Your session has expired',
  'no-patient': 'No patient was selected',
  'wrong-patient': 'The record does not match the patient you opened',
  load: 'The patient record could not be loaded',
};

export const errorTitle = (kind: AppErrorKind): string => TITLES[kind];

/** Whether relaunching from the EHR is the way out (it is, except for configuration problems). */
export const relaunchHelps = (kind: AppErrorKind): boolean =>
  kind !== 'config' && kind !== 'issuer-not-allowed' && kind !== 'dev-only';

/** Strips anything token-like and query strings from a message before it is shown. */
export function redact(message: string): string {
  return message
    .replace(/(access_token|refresh_token|id_token|code|code_verifier)=[^&\s]+/gi, '$1=…')
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer …')
    .replace(/\?[^\s]*/g, '')
    .slice(0, 500);
}

/**
 * The error an authorization server sent back to the redirect URI (RFC 6749 §4.1.2.1), in words:
 * an unknown or used-up launch is said as such, not as an expired session.
 */
export function fromAuthorizationError(params: URLSearchParams): AppError | undefined {
  const error = params.get('error');
  if (!error) return undefined;
  const description = redact(params.get('error_description') ?? '');
  if (error === 'invalid_request' && /launch/i.test(description))
    return new AppError(
      'launch-invalid',
      `The EHR did not accept this launch (${description || error}). A launch works once and only for a few minutes: open the app again from the EHR.`,
    );
  if (error === 'access_denied')
    return new AppError('auth', `Access was not granted${description ? ` (${description})` : ''}.`);
  return new AppError('auth', `The EHR's sign-in answered ${error}${description ? `: ${description}` : ''}.`);
}

/** Maps whatever `FHIR.oauth2.ready()` / `authorize()` threw to an AppError. */
export function toAppError(e: unknown, fallback: AppErrorKind = 'auth'): AppError {
  if (e instanceof AppError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const status = typeof e === 'object' && e !== null && 'status' in e ? Number(e.status) : undefined;
  if (status === 401 || /token (has )?expired|invalid_token/i.test(message))
    return new AppError('expired', 'The EHR no longer accepts this session (the access token has expired).');
  if (/No 'state' parameter|No state found/i.test(message))
    return new AppError('not-launched', 'There is no launch in progress in this browser tab.');
  return new AppError(fallback, redact(message));
}

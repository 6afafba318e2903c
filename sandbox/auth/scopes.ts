/**
 * SMART scopes: which requested scopes the sandbox grants, and whether a grant covers a FHIR read
 * or search. Both syntaxes are understood: v1 (`patient/Observation.read`) and v2
 * (`patient/Observation.rs`). Query-constrained v2 scopes (`…rs?category=…`) are not granted: the
 * sandbox cannot enforce the constraint, and granting the unconstrained scope would grant more.
 */

export interface ResourceGrant {
  context: 'patient' | 'user';
  /** A resource type or `*`. */
  type: string;
  read: boolean;
  search: boolean;
}

const IDENTITY_AND_LAUNCH = new Set([
  'launch',
  'launch/patient',
  'launch/encounter',
  'openid',
  'fhirUser',
  'profile',
  'offline_access',
  'online_access',
]);

const RESOURCE_SCOPE = /^(patient|user)\/([A-Z][A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)$/;

export function parseResourceScope(scope: string): ResourceGrant | undefined {
  const m = RESOURCE_SCOPE.exec(scope);
  if (!m) return undefined;
  const [, context, type, permission = ''] = m;
  const v1 = permission === 'read' || permission === 'write' || permission === '*';
  const read = v1 ? permission !== 'write' : permission.includes('r');
  const search = v1 ? permission !== 'write' : permission.includes('s');
  if (!read && !search) return undefined; // write-only: the sandbox FHIR server is read-only
  return { context: context as ResourceGrant['context'], type: type ?? '*', read, search };
}

/** The requested scopes the sandbox grants, in request order, without duplicates. */
export function grantScopes(requested: string): string[] {
  const out: string[] = [];
  for (const scope of requested.split(/\s+/).filter(Boolean)) {
    if (out.includes(scope)) continue;
    if (IDENTITY_AND_LAUNCH.has(scope) || parseResourceScope(scope)) out.push(scope);
  }
  return out;
}

export function resourceGrants(scopes: readonly string[]): ResourceGrant[] {
  return scopes.map(parseResourceScope).filter((g): g is ResourceGrant => g !== undefined);
}

export function allows(
  grants: readonly ResourceGrant[],
  type: string,
  interaction: 'read' | 'search',
): boolean {
  return grants.some((g) => (g.type === '*' || g.type === type) && g[interaction]);
}

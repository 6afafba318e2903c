/**
 * Reads the granted `scope` string: the server may grant less than was asked [SMART 2.x §Scopes:
 * "can be different from the scopes requested"]. A resource type without a read/search grant is not
 * queried; its domains become a data gap instead [§6 item 46].
 */
export function grantsRead(granted: string, resourceType: string): boolean {
  return granted
    .split(/\s+/)
    .filter(Boolean)
    .some((s) => {
      const m = /^(patient|user|system)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(s);
      if (!m) return false;
      const [, , type, perms] = m;
      if (type !== '*' && type !== resourceType) return false;
      // v1: read, *; v2: any in-order subset of cruds containing r and s (a search needs s).
      return perms === 'read' || perms === '*' || (perms?.includes('r') === true && perms.includes('s'));
    });
}

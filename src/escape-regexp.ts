/** `s` as a regular-expression literal: every metacharacter escaped (for issMatch patterns and name lists). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

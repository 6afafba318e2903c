import { createHash, timingSafeEqual } from 'node:crypto';

/** Equal secrets, compared in constant time whatever their lengths (both hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The safety net under the operations and security streams: any 9-digit number that passes the BSN eleven-test
 * becomes `[bsn]`. The streams are designed not to carry personal data at all (they log interactions and
 * resource types, never URLs, ids or values); this only catches what slips through, e.g. a BSN in an error message.
 */
import { isValidBsn } from '../gf/pseudonym/identifier.ts';

// Nine digits not part of a longer digit run (a timestamp or a byte count is not a BSN).
const NINE_DIGITS = /(?<!\d)\d{9}(?!\d)/g;
const ANY_NINE = /(?<!\d)\d{9}(?!\d)/;

export function redactBsn(text: string): string {
  // Fast path: most lines have no nine-digit number at all (a test allocates nothing, a replace does).
  if (!ANY_NINE.test(text)) return text;
  return text.replace(NINE_DIGITS, (m) => (isValidBsn(m) ? '[bsn]' : m));
}

/** Every elfproef-valid nine-digit number in a text (for tests and checks of log output). */
export function bsnLike(text: string): string[] {
  return [...text.matchAll(NINE_DIGITS)].map((m) => m[0]).filter(isValidBsn);
}

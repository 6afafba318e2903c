/**
 * A card's uuid that also says what the card was: its topic and indicator, so that feedback, which
 * carries only the card's uuid (https://cds-hooks.hl7.org/2.0/#feedback), can be reported by topic
 * and indicator with nothing stored beside it, whichever replica issued the card and after restarts.
 *
 * The uuid is an RFC 9562 UUIDv8 (https://www.rfc-editor.org/rfc/rfc9562#section-5.8): version 8,
 * variant 10, the rest ours. Layout (bytes):
 *   0–11  the card's name-based hash (stableUuid), less the version and variant bits: 90 bits
 *  12–13  format marker 0xa151: "one of ours, format 1" (a new format takes a new marker)
 *     14  topic number (TOPIC_NUMBERS)
 *     15  indicator number (INDICATOR_NUMBERS)
 * In text: `xxxxxxxx-xxxx-8xxx-[89ab]xxx-xxxxa151TTII`.
 */
import type { Card } from '../schemas.ts';
import { type Topic, uuidText } from './card-kit.ts';

export type Indicator = Card['indicator'];

export interface CardTag {
  topic: Topic;
  indicator: Indicator;
}

/**
 * Append-only: these numbers are inside uuids already sent to EHRs and stored with their feedback.
 * Never renumber or reuse a number; a new topic takes the next one. (0 is never used.)
 */
const TOPIC_NUMBERS: Readonly<Record<Topic, number>> = {
  'therapy-selection': 1,
  'biomarker-testing': 2,
  'pretherapy-checks': 3,
  'order-concordance': 4,
  'drug-interaction': 5,
  'local-therapy': 6,
};

/** Append-only, as TOPIC_NUMBERS. */
const INDICATOR_NUMBERS: Readonly<Record<Indicator, number>> = { info: 1, warning: 2, critical: 3 };

const MARKER = [0xa1, 0x51] as const;

/** Every topic, in the table's order (which the report also follows). */
export const CARD_TOPICS = Object.keys(TOPIC_NUMBERS) as readonly Topic[];

/** Every indicator, most severe first. */
export const INDICATORS: readonly Indicator[] = ['critical', 'warning', 'info'];

const topicByNumber = new Map(Object.entries(TOPIC_NUMBERS).map(([t, n]) => [n, t as Topic]));
const indicatorByNumber = new Map(Object.entries(INDICATOR_NUMBERS).map(([i, n]) => [n, i as Indicator]));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bytesOf(uuid: string): Buffer | undefined {
  return UUID.test(uuid) ? Buffer.from(uuid.replace(/-/g, ''), 'hex') : undefined;
}

function isTopic(code: string): code is Topic {
  return Object.hasOwn(TOPIC_NUMBERS, code);
}

/**
 * `uuid` (any RFC 9562 uuid, here the card's name-based one) as a UUIDv8 carrying `topic` and
 * `indicator`. Deterministic, and tagging a tagged uuid again with the same tag changes nothing.
 */
export function tagCardUuid(uuid: string, topic: Topic, indicator: Indicator): string {
  const b = bytesOf(uuid);
  if (!b) throw new TypeError('tagCardUuid: not a uuid');
  b[6] = ((b[6] as number) & 0x0f) | 0x80; // version 8
  b[8] = ((b[8] as number) & 0x3f) | 0x80; // variant 10
  b[12] = MARKER[0];
  b[13] = MARKER[1];
  b[14] = TOPIC_NUMBERS[topic];
  b[15] = INDICATOR_NUMBERS[indicator];
  return uuidText(b);
}

/** The topic and indicator a card uuid of ours carries; undefined for any other uuid or text. */
export function readCardTag(uuid: string): CardTag | undefined {
  const b = bytesOf(uuid);
  if (!b) return undefined;
  if ((b[6] as number) >> 4 !== 8 || (b[8] as number) >> 6 !== 0b10) return undefined;
  if (b[12] !== MARKER[0] || b[13] !== MARKER[1]) return undefined;
  const topic = topicByNumber.get(b[14] as number);
  const indicator = indicatorByNumber.get(b[15] as number);
  return topic && indicator ? { topic, indicator } : undefined;
}

/**
 * The card as the service answers it (handle-hook.ts tags every card once): its uuid tagged with
 * its topic and indicator. Suggestion uuids, derived from the untagged uuid, are left as they are.
 */
export function tagCard<C extends Pick<Card, 'uuid' | 'indicator' | 'source'>>(card: C): C {
  const topic = card.source.topic.code;
  // source() only takes a Topic. Were another to slip through, the card still goes out, untagged
  // (reported as "unknown"): a report's bookkeeping never costs a clinician a card.
  if (!isTopic(topic)) return card;
  return { ...card, uuid: tagCardUuid(card.uuid, topic, card.indicator) };
}

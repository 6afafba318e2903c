/**
 * Card uuids that carry their topic and indicator (RFC 9562 UUIDv8): every topic × indicator reads
 * back, any other uuid reads as nothing, and tagging keeps the card uuids of distinct inputs distinct.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stableUuid } from '../../../../cds-hooks/cards/card-kit.ts';
import {
  CARD_TOPICS,
  INDICATORS,
  readCardTag,
  tagCard,
  tagCardUuid,
} from '../../../../cds-hooks/cards/card-tag.ts';
import { Card } from '../../../../cds-hooks/schemas.ts';

const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('tagCardUuid / readCardTag', () => {
  it('every topic × indicator reads back from a valid UUIDv8 (version 8, variant 10)', () => {
    expect(CARD_TOPICS).toHaveLength(6);
    for (const topic of CARD_TOPICS)
      for (const indicator of INDICATORS) {
        const uuid = tagCardUuid(stableUuid('hook-instance', 'service', topic), topic, indicator);
        expect(uuid).toMatch(V8);
        expect(readCardTag(uuid)).toEqual({ topic, indicator });
        // uuids are case-insensitive on input (RFC 9562 §4): an EHR may send it back upper-case.
        expect(readCardTag(uuid.toUpperCase())).toEqual({ topic, indicator });
      }
  });

  it('is deterministic, and tagging again with the same tag changes nothing', () => {
    const base = stableUuid('h', 'k');
    const a = tagCardUuid(base, 'drug-interaction', 'critical');
    expect(tagCardUuid(base, 'drug-interaction', 'critical')).toBe(a);
    expect(tagCardUuid(a, 'drug-interaction', 'critical')).toBe(a);
    // The tag is the last four bytes only: the hash part is the same whatever the tag.
    const b = tagCardUuid(base, 'local-therapy', 'info');
    expect(b).not.toBe(a);
    expect(b.slice(0, 28)).toBe(a.slice(0, 28));
  });

  it('keeps at least 72 bits of the original uuid (90: bytes 0–11 less version and variant)', () => {
    const base = stableUuid('x');
    const tagged = tagCardUuid(base, 'therapy-selection', 'info');
    const hex = (u: string) => u.replace(/-/g, '');
    // Bytes 0–5 and 7, 9–11 unchanged; low nibble of byte 6 and low 6 bits of byte 8 unchanged.
    expect(hex(tagged).slice(0, 12)).toBe(hex(base).slice(0, 12));
    expect(hex(tagged).slice(13, 16)).toBe(hex(base).slice(13, 16));
    expect(Number.parseInt(hex(tagged).slice(16, 18), 16) & 0x3f).toBe(
      Number.parseInt(hex(base).slice(16, 18), 16) & 0x3f,
    );
    expect(hex(tagged).slice(18, 24)).toBe(hex(base).slice(18, 24));
  });

  it('10,000 distinct inputs give 10,000 distinct uuids, under one tag and under mixed tags', () => {
    const same = new Set<string>();
    const mixed = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const base = stableUuid('hook', 'alk-ros1-patient-view', `key-${i}`);
      same.add(tagCardUuid(base, 'therapy-selection', 'info'));
      mixed.add(
        tagCardUuid(
          base,
          CARD_TOPICS[i % CARD_TOPICS.length] ?? 'local-therapy',
          INDICATORS[i % 3] ?? 'info',
        ),
      );
    }
    expect(same.size).toBe(10_000);
    expect(mixed.size).toBe(10_000);
  });

  it('reads nothing from uuids that are not ours', () => {
    const ours = tagCardUuid(stableUuid('h'), 'biomarker-testing', 'warning');
    const notOurs = [
      // The version-5 uuids cards carried before, and other services' uuids.
      stableUuid('h', 'alk-ros1-patient-view', 'therapy-selection'),
      randomUUID(),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      // Another UUIDv8 (ours but with another marker; variant not 10; version not 8).
      `${ours.slice(0, 28)}0000${ours.slice(32)}`,
      `${ours.slice(0, 19)}c${ours.slice(20)}`,
      `${ours.slice(0, 14)}4${ours.slice(15)}`,
      // Our marker with a topic or indicator number that is not in the tables.
      `${ours.slice(0, 32)}0002`,
      `${ours.slice(0, 32)}ff02`,
      `${ours.slice(0, 34)}00`,
      `${ours.slice(0, 34)}04`,
      // Not uuids at all.
      '',
      'card-1',
      ours.replace(/-/g, ''),
      `${ours} `,
      `{${ours}}`,
      `urn:uuid:${ours}`,
      ours.replace(/[0-9]/, 'g'),
    ];
    for (const uuid of notOurs) expect(readCardTag(uuid), uuid).toBeUndefined();
    expect(readCardTag(ours)).toEqual({ topic: 'biomarker-testing', indicator: 'warning' });
  });

  it('refuses to tag something that is not a uuid', () => {
    expect(() => tagCardUuid('not-a-uuid', 'local-therapy', 'info')).toThrow(TypeError);
  });
});

describe('tagCard', () => {
  it('gives the card a tagged uuid from its own topic and indicator, and leaves the rest alone', () => {
    const card = {
      uuid: stableUuid('h', 'k'),
      summary: 'Alectinib does not work in ROS1+ NSCLC',
      indicator: 'critical' as const,
      source: {
        label: 'ALK/ROS1',
        topic: { system: 'urn:alk-ros1-cds:topic', code: 'order-concordance' },
      },
      suggestions: [{ label: 'Replace', uuid: stableUuid(stableUuid('h', 'k'), 's'), actions: [] }],
    };
    const tagged = tagCard(card);
    expect(readCardTag(tagged.uuid)).toEqual({ topic: 'order-concordance', indicator: 'critical' });
    expect({ ...tagged, uuid: card.uuid }).toEqual(card);
    expect(Card.shape.uuid.safeParse(tagged.uuid).success).toBe(true);
  });

  it('leaves a card with a topic outside the table untagged (reported as unknown), never throws it away', () => {
    const card = {
      uuid: stableUuid('h'),
      indicator: 'info' as const,
      source: { label: 'x', topic: { system: 'urn:alk-ros1-cds:topic', code: 'new-topic' } },
    };
    const out = tagCard(card);
    expect(out).toEqual(card);
    expect(readCardTag(out.uuid)).toBeUndefined();
  });
});

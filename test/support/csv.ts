/**
 * An RFC 4180 reader for tests (https://www.rfc-editor.org/rfc/rfc4180#section-2): quoted fields may
 * hold commas, doubled quotes and line breaks; records end in CRLF. Strict: anything else throws, so
 * a test reading the report's CSV also checks that it is well-formed.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\r')
        throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    if (text[i] === ',') {
      record.push(field);
      field = '';
      i++;
      continue;
    }
    if (text[i] === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CR without LF at ${i}`);
      record.push(field);
      records.push(record);
      field = '';
      record = [];
      i += 2;
      continue;
    }
    if (text[i] === '\n') throw new Error(`LF without CR at ${i}`);
    if (text[i] === '"') throw new Error(`quote inside an unquoted field at ${i}`);
    field += text[i++];
  }
  if (field !== '' || record.length > 0) throw new Error('last record does not end in CRLF');
  return records;
}

/** Records as objects keyed by the header row. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  for (const r of rows)
    if (r.length !== header.length) throw new Error(`${r.length} fields, not ${header.length}`);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

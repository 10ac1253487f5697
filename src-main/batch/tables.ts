// The folder-wide outputs: JSONL (one object per line) and CSV (RFC 4180).
import type { DoneRecord } from './types.js';

/** Columns of both files, in order. */
export const COLUMNS = [
  'path',
  'sha256',
  'width',
  'height',
  'model',
  'prompt',
  'text',
  'tokens',
  'ms',
] as const;

type Row = Pick<DoneRecord, (typeof COLUMNS)[number]>;

function row(record: DoneRecord): Row {
  return {
    path: record.path,
    sha256: record.sha256,
    width: record.width,
    height: record.height,
    model: record.model,
    prompt: record.prompt,
    text: record.text,
    tokens: record.tokens,
    ms: Math.round(record.ms),
  };
}

export function renderJsonl(records: readonly DoneRecord[]): string {
  return records.map((r) => `${JSON.stringify(row(r))}\n`).join('');
}

/** RFC 4180: CRLF between records; a field with a comma, quote, CR or LF is quoted, "" inside. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderCsv(records: readonly DoneRecord[]): string {
  const lines = [COLUMNS.join(',')];
  for (const record of records) {
    const r = row(record);
    lines.push(COLUMNS.map((c) => csvField(r[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

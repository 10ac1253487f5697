// The folder-wide outputs: JSONL (one object per line) and CSV (RFC 4180, formula-safe).
import { stringify } from 'csv-stringify/sync';
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

/**
 * RFC 4180 (CRLF between records; a field with a comma, quote, CR or LF quoted, "" inside), by
 * csv-stringify. A text cell beginning with =, +, -, @, tab or CR (or their full-width forms)
 * gets a leading ' so a spreadsheet shows it as text instead of running it as a formula (OWASP's
 * rule for CSV injection). The JSONL keeps the text as it is.
 */
export function renderCsv(records: readonly DoneRecord[]): string {
  return stringify(records.map(row), {
    header: true,
    columns: [...COLUMNS],
    record_delimiter: 'windows',
    // Also a lone LF or CR in a field (by default only the record delimiter would be quoted).
    quote_record_delimiter: true,
    escape_formulas: true,
  });
}

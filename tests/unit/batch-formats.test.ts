import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseKeywords, jobPrompt, defaultMaxTokens } from '../../src-main/batch/presets.js';
import { COLUMNS, renderCsv, renderJsonl } from '../../src-main/batch/tables.js';
import type { DoneRecord } from '../../src-main/batch/types.js';
import { xmlSafe } from '../../src-main/batch/xmp-sidecar.js';

function record(path: string, text: string): DoneRecord {
  return {
    status: 'done',
    path,
    sha256: 'ab'.repeat(32),
    width: 640,
    height: 480,
    model: 'm.gguf',
    prompt: 'Say "hi", then stop.',
    text,
    tokens: 12,
    ms: 1234.56,
    run: 'r',
    at: '2026-01-01T00:00:00.000Z',
  };
}

const awkward = [
  'plain',
  'with, comma',
  'with "quotes" inside',
  'two\nlines',
  'crlf\r\ninside',
  '  leading and trailing  ',
  '=SUM(A1) café ☕ 日本語',
  '',
];

describe('CSV (RFC 4180)', () => {
  it('parses back to the same rows with csv-parse, CRLF between records', () => {
    const records = awkward.map((t, i) => record(`dir/ñ ${i}.jpg`, t));
    const csv = renderCsv(records);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe(
      `dir/ñ 0.jpg,${'ab'.repeat(32)},640,480,m.gguf,"Say ""hi"", then stop.",plain,12,1235`,
    );
    const rows = parse(csv, { columns: true, relax_column_count: false }) as Array<
      Record<string, string>
    >;
    expect(Object.keys(rows[0] ?? {})).toEqual([...COLUMNS]);
    // The formula-looking answer is read back as text, behind the single quote.
    expect(rows.map((r) => r['text'])).toEqual(
      awkward.map((t) => (t.startsWith('=') ? `'${t}` : t)),
    );
    expect(rows.map((r) => r['path'])).toEqual(records.map((r) => r.path));
    expect(rows[0]?.['ms']).toBe('1235');
    expect(rows[0]?.['prompt']).toBe('Say "hi", then stop.');
  });

  it.each(['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd', '＝1+1'])(
    'escapes a cell beginning like a formula (%j) so a spreadsheet shows text',
    (text) => {
      const [row] = parse(renderCsv([record(`${text}.jpg`, text)]), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(row?.['text']).toBe(`'${text}`);
      expect(row?.['path']).toBe(`'${text}.jpg`);
      // Numbers are not text: a number column never gets the quote.
      expect(row?.['width']).toBe('640');
    },
  );

  it('leaves other cells as they are, and writes only the header for no records', () => {
    const [row] = parse(renderCsv([record('a.jpg', 'a = b, + c')]), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(row?.['text']).toBe('a = b, + c');
    expect(renderCsv([])).toBe(`${COLUMNS.join(',')}\r\n`);
  });
});

describe('JSONL', () => {
  it('writes one object per line with the documented fields', () => {
    const lines = renderJsonl(awkward.map((t, i) => record(`p${i}.png`, t)))
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(awkward.length);
    const first = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([...COLUMNS]);
    expect(first['text']).toBe('with, comma');
    // JSONL is data, not a spreadsheet: the formula-looking text stays exactly as answered.
    const formula = JSON.parse(lines[6] ?? '') as Record<string, unknown>;
    expect(formula['text']).toBe('=SUM(A1) café ☕ 日本語');
  });
});

describe('XMP text', () => {
  it('drops characters XML cannot hold', () => {
    expect(xmlSafe('a < b & "c" > d')).toBe('a < b & "c" > d');
    expect(xmlSafe('bell\u0007 nul\u0000 ok\ttab')).toBe('bell nul ok\ttab');
    expect(xmlSafe('lone \uD800 surrogate')).toBe('lone  surrogate');
  });
});

describe('presets', () => {
  it('splits keyword answers, dropping numbering, duplicates and a final full stop', () => {
    expect(parseKeywords('1. Bike, red; street\n- bike\n* Sunset.')).toEqual([
      'Bike',
      'red',
      'street',
      'Sunset',
    ]);
  });

  it('builds the prompt and the token budget', () => {
    expect(jobPrompt({ preset: 'caption' })).toMatch(/caption/);
    expect(jobPrompt({ prompt: 'What?', short: true })).toMatch(/^What\?\n.*single word/);
    expect(jobPrompt({})).toBe('Describe this image in detail.');
    expect(defaultMaxTokens({ preset: 'keywords' })).toBe(64);
    expect(defaultMaxTokens({ prompt: 'x' })).toBe(256);
  });
});

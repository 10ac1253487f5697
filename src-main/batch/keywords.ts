// Keywords that fit a catalogue: a model's keyword list made tidy (case, punctuation, duplicates,
// singular/plural twins), limited, filtered, held to a controlled vocabulary, and merged with the
// keywords an image already has. Pure functions; the job reads the files, this shapes the words.

export type KeywordCase = 'as-is' | 'lower' | 'title';
export const KEYWORD_CASES: readonly KeywordCase[] = ['as-is', 'lower', 'title'];

/** A term of a controlled vocabulary and its place in the keyword tree (root first). */
export interface VocabularyTerm {
  name: string;
  path: readonly string[];
}

/** Terms by the match key of their name and of each synonym. */
export type Vocabulary = ReadonlyMap<string, VocabularyTerm>;

export interface KeywordRules {
  case?: KeywordCase;
  /** Keep at most this many (the first ones: the preset asks for the most important first). */
  max?: number;
  /** Words never kept (compared like duplicates: case, punctuation and plural ignored). */
  exclude?: readonly string[];
  /** When given, only its terms are kept, spelled as it spells them; the rest are reported. */
  vocabulary?: Vocabulary;
}

export interface KeywordResult {
  keywords: string[];
  /** Words the vocabulary does not hold (after normalising), in the order met. */
  notInVocabulary: string[];
  /** For lr:hierarchicalSubject: each kept keyword's path (its vocabulary path, or itself). */
  paths: string[][];
}

// Quotes, brackets and sentence punctuation around a word; '#' of hashtags. Inside a word
// (rock'n'roll, U.S.A, 4x4, black-and-white) they stay.
const EDGE =
  /^[\s"'`´‘’“”«»()[\]{}<>.,;:!?¡¿#*_~|\\/-]+|[\s"'`´‘’“”«»()[\]{}<>.,;:!?¡¿#*_~|\\/-]+$/gu;

/** A keyword with outer punctuation and list markers trimmed and inner spaces collapsed. */
export function cleanKeyword(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/^\s*(?:\d+[.)]|[-*•·])\s+/u, '')
    .replace(EDGE, '')
    .replace(/\s+/gu, ' ');
}

function singularOf(word: string): string {
  const irregular: Record<string, string> = {
    people: 'person',
    children: 'child',
    men: 'man',
    women: 'woman',
    mice: 'mouse',
    geese: 'goose',
    feet: 'foot',
    teeth: 'tooth',
    leaves: 'leaf',
    knives: 'knife',
    wolves: 'wolf',
    lives: 'life',
    wives: 'wife',
    halves: 'half',
    shelves: 'shelf',
  };
  const known = irregular[word];
  if (known !== undefined) return known;
  if (word.length <= 3) return word;
  if (/[^aeiou]ies$/u.test(word)) return `${word.slice(0, -3)}y`;
  if (/(?:ches|shes|sses|xes|zzes)$/u.test(word)) return word.slice(0, -2);
  // Not "glass", "bus", "analysis", "cactus": those end in s in the singular.
  if (/[^su]s$/u.test(word) && !/(?:is|ss|us)$/u.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * What two keywords share when they are the same keyword: case, accents' composition,
 * punctuation around them and a plural on the last word do not count ("Dogs" = "dog",
 * "city lights" = "City light").
 */
export function keywordKey(keyword: string): string {
  const words = cleanKeyword(keyword).toLocaleLowerCase('en').split(' ');
  const last = words.pop() ?? '';
  return [...words, singularOf(last)].join(' ');
}

function applyCase(keyword: string, style: KeywordCase): string {
  if (style === 'lower') return keyword.toLocaleLowerCase();
  if (style === 'title') {
    return keyword
      .toLocaleLowerCase()
      .replace(/(^|[\s-])(\p{L})/gu, (_m, lead: string, c: string) => lead + c.toLocaleUpperCase());
  }
  return keyword;
}

/** Splits a keywords answer on commas, semicolons and lines. */
export function splitKeywords(text: string): string[] {
  return text.split(/[,;\n\r]/u);
}

/**
 * A keyword list, catalogue-ready: cleaned, duplicates and plural twins merged (the first one
 * met is kept), excluded words dropped, held to the vocabulary, cased, and cut to `max`.
 */
export function normaliseKeywords(raw: readonly string[], rules: KeywordRules = {}): KeywordResult {
  const exclude = new Set((rules.exclude ?? []).map(keywordKey));
  const seen = new Set<string>();
  const result: KeywordResult = { keywords: [], notInVocabulary: [], paths: [] };
  const reported = new Set<string>();
  for (const part of raw) {
    const word = cleanKeyword(part);
    if (word === '') continue;
    const key = keywordKey(word);
    if (exclude.has(key)) continue;
    let spelled = applyCase(word, rules.case ?? 'as-is');
    let path: string[] = [spelled];
    if (rules.vocabulary) {
      const term = rules.vocabulary.get(key);
      if (!term) {
        if (!reported.has(key)) result.notInVocabulary.push(word);
        reported.add(key);
        continue;
      }
      spelled = term.name;
      path = [...term.path];
    }
    const finalKey = keywordKey(spelled);
    if (seen.has(finalKey)) continue;
    seen.add(finalKey);
    if (rules.max !== undefined && result.keywords.length >= rules.max) continue;
    result.keywords.push(spelled);
    result.paths.push(path);
  }
  return result;
}

/** The keywords an image has, then the new ones it lacks (same comparison as duplicates). */
export function mergeKeywords(existing: readonly string[], added: readonly string[]): string[] {
  const seen = new Set(existing.map(keywordKey));
  const out = [...existing];
  for (const word of added) {
    const key = keywordKey(word);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(word);
  }
  return out;
}

/**
 * A keyword file: one keyword a line, or Lightroom's keyword export (a tab for each level of
 * the tree, `[Category]` for a keyword that is only a parent, `{synonym}` lines for the keyword
 * above). Blank lines and lines starting with `#` are skipped.
 */
export function parseVocabulary(text: string): Vocabulary {
  const terms = new Map<string, VocabularyTerm>();
  const stack: string[] = [];
  let last: VocabularyTerm | undefined;
  for (const line of text.replace(/^\uFEFF/u, '').split(/\r?\n/u)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const depth = /^\t*/u.exec(line)?.[0].length ?? 0;
    const body = line.trim();
    const synonym = /^\{(.+)\}$/u.exec(body);
    if (synonym?.[1]) {
      const key = keywordKey(synonym[1]);
      if (last && key !== '' && !terms.has(key)) terms.set(key, last);
      continue;
    }
    const category = /^\[(.+)\]$/u.exec(body);
    const name = cleanKeyword(category?.[1] ?? body);
    if (name === '') continue;
    stack.length = Math.min(stack.length, depth);
    stack.push(name);
    if (category) {
      last = undefined;
      continue;
    }
    last = { name, path: [...stack] };
    const key = keywordKey(name);
    if (!terms.has(key)) terms.set(key, last);
  }
  return terms;
}

/** A plain keyword list (--exclude-keywords): the vocabulary format's names, synonyms too. */
export function parseKeywordList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.replace(/^\uFEFF/u, '').split(/\r?\n/u)) {
    const body = line.trim();
    if (body === '' || body.startsWith('#')) continue;
    const word = cleanKeyword(body.replace(/^[[{](.*)[\]}]$/u, '$1'));
    if (word !== '') out.push(word);
  }
  return out;
}

// Global shortcut strings in Electron's accelerator syntax ("CommandOrControl+Shift+Space"),
// parsed and validated before they reach globalShortcut.register, which only answers false.

export type Modifier =
  'CommandOrControl' | 'Command' | 'Control' | 'Alt' | 'AltGr' | 'Shift' | 'Super';

const MODIFIER_ALIASES: Readonly<Record<string, Modifier>> = {
  commandorcontrol: 'CommandOrControl',
  cmdorctrl: 'CommandOrControl',
  command: 'Command',
  cmd: 'Command',
  control: 'Control',
  ctrl: 'Control',
  alt: 'Alt',
  option: 'Alt',
  altgr: 'AltGr',
  shift: 'Shift',
  super: 'Super',
  meta: 'Super',
};

// Display and canonical order, as menus show them.
const MODIFIER_ORDER: readonly Modifier[] = [
  'CommandOrControl',
  'Command',
  'Control',
  'Alt',
  'AltGr',
  'Shift',
  'Super',
];

const NAMED_KEYS: readonly string[] = [
  'Plus',
  'Space',
  'Tab',
  'Capslock',
  'Numlock',
  'Scrolllock',
  'Backspace',
  'Delete',
  'Insert',
  'Return',
  'Up',
  'Down',
  'Left',
  'Right',
  'Home',
  'End',
  'PageUp',
  'PageDown',
  'Escape',
  'PrintScreen',
  'VolumeUp',
  'VolumeDown',
  'VolumeMute',
  'MediaNextTrack',
  'MediaPreviousTrack',
  'MediaStop',
  'MediaPlayPause',
  'numdec',
  'numadd',
  'numsub',
  'nummult',
  'numdiv',
  ...Array.from({ length: 10 }, (_, i) => `num${i}`),
  ...Array.from({ length: 24 }, (_, i) => `F${i + 1}`),
];

const KEY_ALIASES: Readonly<Record<string, string>> = {
  enter: 'Return',
  esc: 'Escape',
  ...Object.fromEntries(NAMED_KEYS.map((key) => [key.toLowerCase(), key])),
};

const PUNCTUATION = new Set([...')!@#$%^&*(:;=<,_->.?/~`{][|\\}"\'']);

/** Keys that are safe as a global shortcut without a modifier: nobody types them. */
const LONE_KEYS = new Set(['PrintScreen', ...Array.from({ length: 12 }, (_, i) => `F${i + 13}`)]);

export const DEFAULT_CAPTURE_SHORTCUT = 'CommandOrControl+Shift+Space';

export interface ParsedShortcut {
  modifiers: Modifier[];
  key: string;
  /** Canonical accelerator to hand to Electron and to store in the settings. */
  accelerator: string;
}

export type ShortcutResult = { ok: true; shortcut: ParsedShortcut } | { ok: false; error: string };

function canonicalKey(raw: string): string | undefined {
  if (/^[a-z0-9]$/i.test(raw)) return raw.toUpperCase();
  if (raw.length === 1 && PUNCTUATION.has(raw)) return raw;
  return KEY_ALIASES[raw.toLowerCase()];
}

/** Parses and checks an accelerator for use as a global shortcut on `platform`. */
export function parseShortcut(input: string, platform: NodeJS.Platform): ShortcutResult {
  const text = input.trim();
  if (text === '') return { ok: false, error: 'The shortcut is empty.' };
  if (/\s/.test(text)) return { ok: false, error: 'Write the shortcut without spaces.' };
  const parts = text.split('+');
  if (parts.some((part) => part === '')) {
    return { ok: false, error: 'A "+" must join two keys; write the plus key as "Plus".' };
  }
  const keyPart = parts.at(-1) ?? '';
  const modifiers: Modifier[] = [];
  for (const part of parts.slice(0, -1)) {
    const modifier = MODIFIER_ALIASES[part.toLowerCase()];
    if (!modifier) return { ok: false, error: `"${part}" is not a modifier key.` };
    if (modifiers.includes(modifier)) return { ok: false, error: `"${part}" appears twice.` };
    modifiers.push(modifier);
  }
  if (MODIFIER_ALIASES[keyPart.toLowerCase()]) {
    return { ok: false, error: 'The shortcut needs a key after its modifiers.' };
  }
  const key = canonicalKey(keyPart);
  if (!key) return { ok: false, error: `"${keyPart}" is not a key Electron knows.` };
  if (platform !== 'darwin' && modifiers.includes('Command')) {
    return { ok: false, error: 'Command exists only on macOS; use CommandOrControl.' };
  }
  if (
    modifiers.includes('CommandOrControl') &&
    (modifiers.includes('Command') || modifiers.includes('Control'))
  ) {
    return { ok: false, error: 'CommandOrControl already stands for Command or Control.' };
  }
  const strong = modifiers.some((modifier) => modifier !== 'Shift');
  if (!strong && !LONE_KEYS.has(key)) {
    return {
      ok: false,
      error: 'A global shortcut needs Control, Command, Alt or Super, or it would steal typing.',
    };
  }
  modifiers.sort((a, b) => MODIFIER_ORDER.indexOf(a) - MODIFIER_ORDER.indexOf(b));
  return { ok: true, shortcut: { modifiers, key, accelerator: [...modifiers, key].join('+') } };
}

const MAC_SYMBOLS: Readonly<Record<Modifier, string>> = {
  CommandOrControl: '⌘',
  Command: '⌘',
  Control: '⌃',
  Alt: '⌥',
  AltGr: '⌥',
  Shift: '⇧',
  Super: '⌘',
};

const OTHER_NAMES: Readonly<Record<Modifier, string>> = {
  CommandOrControl: 'Ctrl',
  Command: 'Cmd',
  Control: 'Ctrl',
  Alt: 'Alt',
  AltGr: 'AltGr',
  Shift: 'Shift',
  Super: 'Super',
};

/** How the shortcut is shown in the UI and in messages. */
export function describeShortcut(shortcut: ParsedShortcut, platform: NodeJS.Platform): string {
  if (platform === 'darwin') {
    return `${shortcut.modifiers.map((m) => MAC_SYMBOLS[m]).join('')}${shortcut.key}`;
  }
  return [...shortcut.modifiers.map((m) => OTHER_NAMES[m]), shortcut.key].join('+');
}

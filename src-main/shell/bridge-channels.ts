// The channel map between the preload and the main process. Plain (no 'electron'), so the
// preload, the main process and unit tests share it. The method and event names come from the
// API contract at run time: the main process passes them to each window's preload through
// `additionalArguments`, so the sandboxed preload needs neither zod nor the contract module.

export const INVOKE_PREFIX = 'llava-desk:invoke:';
export const EVENT_PREFIX = 'llava-desk:event:';

/** Channels of the capture windows (overlay and ask), separate from the API contract. */
export const CAPTURE_CHANNELS = {
  overlayInfo: 'llava-desk:capture:overlay-info',
  overlaySelect: 'llava-desk:capture:overlay-select',
  overlayCancel: 'llava-desk:capture:overlay-cancel',
  askInfo: 'llava-desk:capture:ask-info',
  askContinue: 'llava-desk:capture:ask-continue',
  askClose: 'llava-desk:capture:ask-close',
} as const;

export type WindowRole = 'main' | 'overlay' | 'ask';

/** What the small ask window may use of the API (the main window may use all of it). */
export const ASK_WINDOW_METHODS: readonly string[] = ['chats.create', 'chats.send', 'chats.stop'];
export const ASK_WINDOW_EVENTS: readonly string[] = ['chats.token', 'chats.message'];

/** The windows that may call a method (or receive an event), given the ask window's list. */
export function rolesFor(askNames: readonly string[], name: string): WindowRole[] {
  return askNames.includes(name) ? ['main', 'ask'] : ['main'];
}

const ROLE_ARG = '--llava-desk-role=';
const METHODS_ARG = '--llava-desk-methods=';
const EVENTS_ARG = '--llava-desk-events=';
const NAME_PATTERN = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/;

export function invokeChannel(method: string): string {
  return `${INVOKE_PREFIX}${method}`;
}

export function eventChannel(event: string): string {
  return `${EVENT_PREFIX}${event}`;
}

export interface BridgeConfig {
  role: WindowRole;
  methods: ReadonlySet<string>;
  events: ReadonlySet<string>;
}

/** The arguments a window's preload reads (webPreferences.additionalArguments). */
export function bridgeArguments(
  role: WindowRole,
  methods: readonly string[],
  events: readonly string[],
): string[] {
  for (const name of [...methods, ...events]) {
    if (!NAME_PATTERN.test(name)) throw new Error(`not an API name: ${name}`);
  }
  return [
    `${ROLE_ARG}${role}`,
    `${METHODS_ARG}${methods.join(',')}`,
    `${EVENTS_ARG}${events.join(',')}`,
  ];
}

function listArgument(argv: readonly string[], prefix: string): Set<string> {
  const raw = argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length) ?? '';
  return new Set(raw.split(',').filter((name) => NAME_PATTERN.test(name)));
}

/** Reads the bridge arguments back in the preload; a window without them gets nothing exposed. */
export function readBridgeArguments(argv: readonly string[]): BridgeConfig | undefined {
  const role = argv.find((arg) => arg.startsWith(ROLE_ARG))?.slice(ROLE_ARG.length);
  if (role !== 'main' && role !== 'overlay' && role !== 'ask') return undefined;
  return {
    role,
    methods: listArgument(argv, METHODS_ARG),
    events: listArgument(argv, EVENTS_ARG),
  };
}

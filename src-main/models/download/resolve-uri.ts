import { basename } from 'node:path';
import { LlavaDeskError } from '../../common/errors.js';

/** Default hub base for `hf:` URIs. */
export const DEFAULT_HF_BASE_URL = 'https://huggingface.co';
/** Overrides the hub base (tests point it at a local server; mirrors work the same way). */
export const HF_BASE_URL_ENV = 'LLAVA_DESK_HF_BASE_URL';
/** Optional access token for gated repositories. */
export const HF_TOKEN_ENV = 'HF_TOKEN';

export interface ResolvedModelUri {
  /** The URI as given (`hf:...` or `https://...`). */
  uri: string;
  url: string;
  fileName: string;
  /** Whether the URL points at the hub (the token is sent only there). */
  isHub: boolean;
}

export function hfBaseUrl(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  const chosen = explicit ?? env[HF_BASE_URL_ENV] ?? DEFAULT_HF_BASE_URL;
  return chosen.replace(/\/+$/, '');
}

/**
 * `hf:<owner>/<repo>/<path>` becomes `<base>/<owner>/<repo>/resolve/main/<path>`; http(s) URLs are
 * taken as they are. Anything else is `MODEL_SOURCE_INVALID`.
 */
export function resolveModelUri(
  uri: string,
  baseUrl: string = DEFAULT_HF_BASE_URL,
): ResolvedModelUri {
  const hf = /^hf:([^/\s]+)\/([^/\s]+)\/(\S+)$/.exec(uri);
  if (hf) {
    const [, owner = '', repo = '', path = ''] = hf;
    const encodedPath = path.split('/').map(encodeURIComponent).join('/');
    return {
      uri,
      url: `${baseUrl}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/resolve/main/${encodedPath}`,
      fileName: safeFileName(basename(path)),
      isHub: true,
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', `not an hf: URI or an http(s) URL: ${uri}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', `unsupported URL scheme: ${parsed.protocol}`);
  }
  const last = decodeURIComponent(parsed.pathname.split('/').filter(Boolean).pop() ?? '');
  return {
    uri,
    url: parsed.toString(),
    fileName: safeFileName(last === '' ? 'model.gguf' : last),
    isHub: parsed.origin === new URL(baseUrl).origin,
  };
}

/** A file name that cannot escape its folder or trip up any file system we run on. */
export function safeFileName(name: string): string {
  const visible = [...name].map((c) => (c.charCodeAt(0) < 0x20 ? '_' : c)).join('');
  const cleaned = visible.replace(/[\\/:*?"<>|]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? 'model.gguf' : cleaned.slice(0, 200);
}

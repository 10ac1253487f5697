import { IMAGE_SCHEME } from './image-url.js';

// Content Security Policies sent as response headers for the app's pages (and kept in step with
// the meta tag of src-renderer/index.html): the header also covers responses a meta tag cannot.

const COMMON = [
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

/** The main window's renderer (Svelte app). */
export function rendererCsp(options: { devServerUrl?: string } = {}): string {
  const dev = options.devServerUrl ? new URL(options.devServerUrl) : undefined;
  // Vite's dev server pushes updates over a WebSocket on its own origin.
  const connect = dev ? `'self' ws://${dev.host} ${dev.origin}` : "'self'";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob: ${IMAGE_SCHEME}:`,
    "font-src 'self'",
    `connect-src ${connect}`,
    ...COMMON,
  ].join('; ');
}

/** The capture overlay and the ask window: no scripts at all (their UI comes from the preload). */
export function capturePageCsp(): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src ${IMAGE_SCHEME}: data:`,
    ...COMMON,
  ].join('; ');
}

export const APP_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

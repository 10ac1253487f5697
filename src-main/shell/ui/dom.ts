// The few DOM shapes the capture windows' preload code touches. The main tsconfig has no DOM
// library (it is Node code), so these are declared here instead of widening every file's types.

export interface DomEvent {
  preventDefault(): void;
  key?: string;
  shiftKey?: boolean;
  isComposing?: boolean;
  button?: number;
  clientX?: number;
  clientY?: number;
}

export interface DomStyle {
  display: string;
  left: string;
  top: string;
  width: string;
  height: string;
}

export interface DomElement {
  textContent: string | null;
  hidden: boolean;
  disabled: boolean;
  value: string;
  src: string;
  scrollTop: number;
  scrollHeight: number;
  style: DomStyle;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
  focus(): void;
}

export interface DomDocument {
  getElementById(id: string): DomElement | null;
}

export interface DomWindow {
  innerWidth: number;
  innerHeight: number;
  addEventListener(type: string, listener: (event: DomEvent) => void, options?: object): void;
}

export function dom(): { document: DomDocument; window: DomWindow } {
  const global = globalThis as unknown as { document: DomDocument; window: DomWindow };
  return { document: global.document, window: global.window };
}

export function element(document: DomDocument, id: string): DomElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/** Runs `start` once the page's markup exists (preloads run before it is parsed). */
export function whenReady(window: DomWindow, start: () => void): void {
  window.addEventListener('DOMContentLoaded', () => start(), { once: true });
}

import type { PreloadBridge } from '../../../src-main/api/contract';

declare global {
  interface Window {
    /** Exposed by the Electron preload (src-main/shell/preload.ts); absent in web mode. */
    llavaDesk?: PreloadBridge;
  }
}

export {};

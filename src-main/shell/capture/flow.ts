import type { AddedImage, ApiResponse } from '../../api/contract.js';
import { cropCapture } from '../../capture/crop.js';
import { selectionToCrop, wholeCapture } from '../../capture/geometry.js';
import { screenshotName } from '../../capture/naming.js';
import { blankCaptureMessage, displayServer } from '../../capture/platform-guidance.js';
import type { WindowRegistry } from '../window-registry.js';
import { openAskWindow } from './ask-window.js';
import { pickRegion } from './overlays.js';
import { captureScreens } from './screen-capture.js';

export interface CaptureFlowDeps {
  preloadPath: string;
  windows: WindowRegistry;
  dispatch(method: string, params: unknown): Promise<ApiResponse>;
  /** Tells the user something went wrong; `permission` offers to open the system settings. */
  notify(message: string, kind: 'info' | 'permission'): void;
  continueInMain(conversationId: string): void;
}

/** Screenshot-and-ask: capture, pick a region on an overlay, crop, store, ask. */
export class CaptureFlow {
  readonly #deps: CaptureFlowDeps;
  #running = false;

  constructor(deps: CaptureFlowDeps) {
    this.#deps = deps;
  }

  async run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#run();
    } catch (error) {
      this.#deps.notify(
        `The screen capture failed: ${error instanceof Error ? error.message : String(error)}`,
        'info',
      );
    } finally {
      this.#running = false;
    }
  }

  async #run(): Promise<void> {
    const server = displayServer(process.platform);
    // On Wayland each capture asks the user through the portal: capture one display only.
    const outcome = await captureScreens(server === 'wayland');
    if (!outcome.ok) {
      if (outcome.reason === 'permission') return this.#deps.notify(outcome.message, 'permission');
      const reason = outcome.reason === 'no-source' ? 'empty' : outcome.reason;
      return this.#deps.notify(
        blankCaptureMessage(reason, process.platform, server),
        process.platform === 'darwin' ? 'permission' : 'info',
      );
    }
    const choice = await pickRegion(outcome.captures, this.#deps.preloadPath, this.#deps.windows);
    if (!choice) return;
    const { capture, selection } = choice;
    const region =
      selection.kind === 'whole'
        ? wholeCapture(capture.size)
        : selectionToCrop(selection.rect, capture.display, capture.size);
    if (!region) return;
    const png = await cropCapture(capture.png, region);
    const added = await this.#deps.dispatch('images.add', {
      name: screenshotName(new Date()),
      data: png,
    });
    if (!added.ok) return this.#deps.notify(added.error.message, 'info');
    openAskWindow({
      imageId: (added.value as AddedImage).ref.id,
      display: capture.display,
      preloadPath: this.#deps.preloadPath,
      windows: this.#deps.windows,
      continueInMain: (id) => this.#deps.continueInMain(id),
    });
  }
}

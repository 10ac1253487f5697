import { dragRect, isSelection, type Point } from '../../capture/geometry.js';
import type { OverlaySelection } from '../../capture/messages.js';
import { dom, element, whenReady } from './dom.js';

export interface OverlayActions {
  select(selection: OverlaySelection): void;
  cancel(): void;
}

/** Drag-to-select on a capture overlay: Esc cancels, Enter takes the whole display. */
export function startOverlay(actions: OverlayActions): void {
  const { document, window } = dom();
  whenReady(window, () => {
    const shade = element(document, 'shade');
    const box = element(document, 'selection');
    let start: Point | undefined;
    const area = (): { width: number; height: number } => ({
      width: window.innerWidth,
      height: window.innerHeight,
    });
    const pointOf = (event: { clientX?: number; clientY?: number }): Point => ({
      x: event.clientX ?? 0,
      y: event.clientY ?? 0,
    });
    const draw = (end: Point): void => {
      if (!start) return;
      const rect = dragRect(start, end, area());
      box.style.display = 'block';
      shade.style.display = 'none';
      box.style.left = `${rect.x}px`;
      box.style.top = `${rect.y}px`;
      box.style.width = `${rect.width}px`;
      box.style.height = `${rect.height}px`;
    };
    const reset = (): void => {
      start = undefined;
      box.style.display = 'none';
      shade.style.display = 'block';
    };
    window.addEventListener('mousedown', (event) => {
      if (event.button !== 0) return;
      start = pointOf(event);
      draw(start);
    });
    window.addEventListener('mousemove', (event) => draw(pointOf(event)));
    window.addEventListener('mouseup', (event) => {
      if (!start) return;
      const rect = dragRect(start, pointOf(event), area());
      if (isSelection(rect)) actions.select({ kind: 'region', rect });
      else reset();
    });
    window.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        actions.cancel();
      } else if (event.key === 'Enter') {
        event.preventDefault();
        actions.select({ kind: 'whole' });
      }
    });
  });
}

// The command line's progress text: the download line of `models pull` and the batch bar of
// `describe`. Sizes and durations come from src-main/shared/format.ts, as in the app's views.
import type { ProgressSnapshot } from '../batch/progress.js';
import type { DownloadEvent } from '../models/download/events.js';
import { formatBytes, formatDuration, formatSpeed, textBar } from '../shared/format.js';

/** One terminal line: `[#####.....]  45% 1.8 GB / 4.7 GB  12.3 MB/s  ETA 3m12s  (model)`. */
export function formatProgressLine(
  event: Extract<DownloadEvent, { type: 'progress' }>,
  width = 24,
): string {
  const { doneBytes, totalBytes, bytesPerSecond, etaSeconds } = event.overall;
  const ratio = totalBytes ? Math.min(1, doneBytes / totalBytes) : 0;
  const percent = totalBytes ? `${String(Math.floor(ratio * 100)).padStart(3)}%` : '  ?%';
  const sizes = `${formatBytes(doneBytes)} / ${totalBytes ? formatBytes(totalBytes) : '?'}`;
  const eta = formatDuration(etaSeconds === undefined ? undefined : etaSeconds * 1000);
  return `[${textBar(ratio, width)}] ${percent} ${sizes}  ${formatSpeed(bytesPerSecond)}  ETA ${eta}  (${event.role})`;
}

/** The batch bar: `[####----] 12/40  6.0/min  ETA 4m40s  …/photos/IMG_0042.jpg`. */
export function formatBatchLine(p: ProgressSnapshot, current: string, width = 24): string {
  const finished = p.total - p.remaining;
  const bar = textBar(p.total > 0 ? finished / p.total : 0, width, '-');
  const rate = p.perMinute > 0 ? `${p.perMinute.toFixed(1)}/min` : '-/min';
  const name = current.length > 30 ? `…${current.slice(-29)}` : current;
  return `[${bar}] ${finished}/${p.total}  ${rate}  ETA ${formatDuration(p.etaMs)}  ${name}`;
}

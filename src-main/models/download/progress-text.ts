import type { DownloadEvent } from './events.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** One terminal line: `[#####.....]  45% 1.8 GB / 4.7 GB  12.3 MB/s  ETA 03:12  (model)`. */
export function formatProgressLine(
  event: Extract<DownloadEvent, { type: 'progress' }>,
  width = 24,
): string {
  const { doneBytes, totalBytes, bytesPerSecond, etaSeconds } = event.overall;
  const ratio = totalBytes ? Math.min(1, doneBytes / totalBytes) : 0;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const percent = totalBytes ? `${String(Math.floor(ratio * 100)).padStart(3)}%` : '  ?%';
  const sizes = `${formatBytes(doneBytes)} / ${totalBytes ? formatBytes(totalBytes) : '?'}`;
  return `${bar} ${percent} ${sizes}  ${formatBytes(bytesPerSecond)}/s  ETA ${formatDuration(etaSeconds)}  (${event.role})`;
}

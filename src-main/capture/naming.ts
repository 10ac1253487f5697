/** The stored name of a screen region, as the chat shows it: "Screenshot 2026-11-21 21.30.05.png". */
export function screenshotName(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const time = `${two(date.getHours())}.${two(date.getMinutes())}.${two(date.getSeconds())}`;
  return `Screenshot ${day} ${time}.png`;
}

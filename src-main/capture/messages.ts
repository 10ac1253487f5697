import { z } from 'zod';

// Payloads of the capture windows' channels (bridge-channels.ts CAPTURE_CHANNELS), checked in
// the main process. The preload uses only the types (zod stays out of the sandboxed preload).

const dip = z.number().finite().min(-100_000).max(100_000);

export const overlaySelectSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('region'),
      rect: z
        .object({ x: dip, y: dip, width: dip.nonnegative(), height: dip.nonnegative() })
        .strict(),
    })
    .strict(),
  z.object({ kind: z.literal('whole') }).strict(),
]);
export type OverlaySelection = z.infer<typeof overlaySelectSchema>;

export const askContinueSchema = z
  .object({ conversationId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) })
  .strict();
export type AskContinue = z.infer<typeof askContinueSchema>;

export interface AskInfo {
  imageId: string;
  imageUrl: string;
}

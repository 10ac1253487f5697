import { z } from 'zod';

/** Bumped when the stored shape changes; older files are migrated on read. */
export const CHAT_SCHEMA_VERSION = 1;

export const imageRefSchema = z.object({
  /** sha256 of the original bytes: the image store's key. */
  id: z.string().regex(/^[0-9a-f]{64}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  mime: z.string(),
  /** The file's name when it was added, for display only (the original may move or vanish). */
  name: z.string().optional(),
});

export const answerStatsSchema = z.object({
  imageEncodeMs: z.number().nonnegative(),
  imageTokens: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  promptMs: z.number().nonnegative(),
  generatedTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  timeToFirstTokenMs: z.number().nonnegative(),
});

export const messageSchema = z.object({
  id: z.string().min(1),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  images: z.array(imageRefSchema).default([]),
  createdAt: z.number(),
  /**
   * `streaming` while an answer is being written; `stopped` when the user stopped it or the app
   * quit mid-answer (the partial text is kept); `error` when it failed.
   */
  status: z.enum(['complete', 'streaming', 'stopped', 'error']).default('complete'),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  stats: answerStatsSchema.optional(),
  short: z.boolean().optional(),
  detail: z.enum(['standard', 'high']).optional(),
});

export const conversationSchema = z.object({
  schemaVersion: z.literal(CHAT_SCHEMA_VERSION),
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  title: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  modelId: z.string().optional(),
  system: z.string().optional(),
  messages: z.array(messageSchema),
});

export type ImageRef = z.infer<typeof imageRefSchema>;
export type AnswerStats = z.infer<typeof answerStatsSchema>;
export type ChatMessage = z.infer<typeof messageSchema>;
export type Conversation = z.infer<typeof conversationSchema>;

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: number;
  messageCount: number;
}

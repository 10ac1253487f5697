import type { ApiMessage, Detail } from '../api/contract.js';
import type { PreparedImage } from '../api/engine.js';
import { withShortAnswer, type PromptConversation } from '../engine/prompt/conversation.js';

export interface ChatPrompt {
  conversation: PromptConversation;
  images: PreparedImage[];
}

/**
 * The conversation the engine continues: each user message with the answer after it (a stopped
 * answer keeps its partial text; a failed one counts as empty), up to and excluding the answer
 * being written. Images come first in their message, in order.
 */
export async function promptFromMessages(
  messages: readonly ApiMessage[],
  system: string | undefined,
  prepare: (message: ApiMessage, detail: Detail) => Promise<PreparedImage[]>,
): Promise<ChatPrompt> {
  const turns: { user: string; imageCount: number; assistant?: string }[] = [];
  const images: PreparedImage[] = [];
  for (let i = 0; i < messages.length; i += 1) {
    const message = messages[i] as ApiMessage;
    if (message.role !== 'user') continue;
    const bitmaps =
      message.images.length > 0 ? await prepare(message, message.detail ?? 'standard') : [];
    images.push(...bitmaps);
    const next = messages[i + 1];
    turns.push({
      user: withShortAnswer(message.text, message.short === true),
      imageCount: bitmaps.length,
      ...(next?.role === 'assistant' ? { assistant: next.text } : {}),
    });
  }
  return {
    conversation: { ...(system !== undefined && system !== '' ? { system } : {}), turns },
    images,
  };
}

/** A title from the first question: its first line, cut at a word near 60 characters. */
export function titleFrom(text: string, imageCount: number): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  if (line === '') return imageCount > 1 ? `${imageCount} images` : 'Image';
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(' ');
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

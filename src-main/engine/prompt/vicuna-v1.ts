import type { PromptConversation, PromptTemplate } from './conversation.js';

/** LLaVA-1.5's system prompt (conversation mode `vicuna_v1`). */
export const LLAVA_V1_SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

/**
 * LLaVA-1.5 `vicuna_v1` (SeparatorStyle.TWO, sep " ", sep2 "</s>"), byte for byte:
 * `{system} USER: <image>\n{q} ASSISTANT: {a}</s>USER: {q2} ASSISTANT:`.
 * Image markers open the user message that carries them, each followed by a newline.
 */
export const vicunaV1: PromptTemplate = {
  name: 'vicuna_v1',
  answerTerminator: '</s>',
  render(conversation: PromptConversation, imageMarker: string): string {
    let text = `${conversation.system ?? LLAVA_V1_SYSTEM} `;
    for (const turn of conversation.turns) {
      const images = `${imageMarker}\n`.repeat(turn.imageCount);
      text += `USER: ${images}${turn.user} `;
      text += turn.assistant === undefined ? 'ASSISTANT:' : `ASSISTANT: ${turn.assistant}</s>`;
    }
    return text;
  },
};

import { Template } from '@huggingface/jinja';
import type { PromptConversation, PromptTemplate } from './conversation.js';

interface JinjaMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface JinjaTemplateOptions {
  /** `tokenizer.chat_template` from the GGUF. */
  source: string;
  bosToken: string;
  eosToken: string;
  /** Used when the conversation sets none; undefined leaves the system message out. */
  defaultSystem?: string;
}

/**
 * A model's own chat template (`tokenizer.chat_template`), as newer vision GGUFs carry. The BOS
 * token is left to the tokenizer (add_special), so a template that prints it has it stripped.
 */
export function jinjaTemplate(options: JinjaTemplateOptions): PromptTemplate {
  const template = new Template(options.source);
  return {
    name: 'gguf-jinja',
    answerTerminator: '',
    render(conversation: PromptConversation, imageMarker: string): string {
      const messages: JinjaMessage[] = [];
      const system = conversation.system ?? options.defaultSystem;
      if (system !== undefined) messages.push({ role: 'system', content: system });
      for (const turn of conversation.turns) {
        // Markers directly before the text, as llama.cpp's own tools (mtmd-cli, server) place them.
        const images = imageMarker.repeat(turn.imageCount);
        messages.push({ role: 'user', content: `${images}${turn.user}` });
        if (turn.assistant !== undefined) {
          messages.push({ role: 'assistant', content: turn.assistant });
        }
      }
      const last = conversation.turns.at(-1);
      const text = template.render({
        messages,
        add_generation_prompt: last !== undefined && last.assistant === undefined,
        bos_token: options.bosToken,
        eos_token: options.eosToken,
      });
      return text.startsWith(options.bosToken) ? text.slice(options.bosToken.length) : text;
    },
  };
}

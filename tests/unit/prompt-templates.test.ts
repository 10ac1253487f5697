import { describe, expect, it } from 'vitest';
import { jinjaTemplate } from '../../src-main/engine/prompt/jinja-template.js';
import { SHORT_ANSWER_SUFFIX, withShortAnswer } from '../../src-main/engine/prompt/conversation.js';
import { LLAVA_V1_SYSTEM, vicunaV1 } from '../../src-main/engine/prompt/vicuna-v1.js';

const MARKER = '<__media__>';

describe('the LLaVA-1.5 vicuna_v1 template', () => {
  it('renders a first question byte for byte as LLaVA does', () => {
    const text = vicunaV1.render(
      { turns: [{ user: 'What is in the picture?', imageCount: 1 }] },
      MARKER,
    );
    expect(text).toBe(
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. " +
        'USER: <__media__>\nWhat is in the picture? ASSISTANT:',
    );
    expect(LLAVA_V1_SYSTEM.endsWith("user's questions.")).toBe(true);
  });

  it('closes answers with </s> and continues with the next USER turn', () => {
    const text = vicunaV1.render(
      {
        system: 'SYS',
        turns: [
          { user: 'q1', imageCount: 1, assistant: 'a1' },
          { user: 'q2', imageCount: 0 },
        ],
      },
      MARKER,
    );
    expect(text).toBe('SYS USER: <__media__>\nq1 ASSISTANT: a1</s>USER: q2 ASSISTANT:');
  });

  it('puts every image of a message first, in order, and images of later turns in their turn', () => {
    const text = vicunaV1.render(
      {
        system: 'S',
        turns: [
          { user: 'compare', imageCount: 2, assistant: 'x' },
          { user: 'and this', imageCount: 1 },
        ],
      },
      '<img>',
    );
    expect(text).toBe(
      'S USER: <img>\n<img>\ncompare ASSISTANT: x</s>USER: <img>\nand this ASSISTANT:',
    );
  });

  it('is prefix-stable: a rendered history is a prefix of the next render', () => {
    const history = { system: 'S', turns: [{ user: 'q1', imageCount: 1, assistant: 'a1' }] };
    const next = { ...history, turns: [...history.turns, { user: 'q2', imageCount: 0 }] };
    expect(vicunaV1.render(next, MARKER).startsWith(vicunaV1.render(history, MARKER))).toBe(true);
  });

  it('appends the response-format prompt for short answers', () => {
    expect(withShortAnswer('Color?', true)).toBe(
      'Color?\nAnswer the question using a single word or phrase.',
    );
    expect(withShortAnswer('Color?', false)).toBe('Color?');
    expect(SHORT_ANSWER_SUFFIX.startsWith('\n')).toBe(true);
  });
});

describe('a GGUF Jinja chat template', () => {
  const chatml =
    "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  const template = jinjaTemplate({ source: chatml, bosToken: '<s>', eosToken: '</s>' });

  it('renders messages with image markers and the generation prompt, without a duplicate BOS', () => {
    const text = template.render({ system: 'sys', turns: [{ user: 'hi', imageCount: 1 }] }, MARKER);
    expect(text).toBe(
      '<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\n<__media__>hi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('leaves the generation prompt out once the last turn is answered', () => {
    const text = template.render(
      { turns: [{ user: 'hi', imageCount: 0, assistant: 'yo' }] },
      MARKER,
    );
    expect(text.endsWith('<|im_start|>assistant\nyo<|im_end|>\n')).toBe(true);
  });
});

/** A conversation as the prompt templates see it: text plus a count of images per user turn. */
export interface PromptTurn {
  user: string;
  /** Images attached to this user message; their markers come first, in order. */
  imageCount: number;
  /** The answer, once there is one. The last turn has none while it is being answered. */
  assistant?: string;
}

export interface PromptConversation {
  system?: string;
  turns: readonly PromptTurn[];
}

/** Appended to the question for the "short answer" option (LLaVA-1.5's response-format prompt). */
export const SHORT_ANSWER_SUFFIX = '\nAnswer the question using a single word or phrase.';

export function withShortAnswer(question: string, short: boolean): string {
  return short ? `${question}${SHORT_ANSWER_SUFFIX}` : question;
}

/**
 * A prompt template renders a conversation to text with one image marker per image. The engine
 * evaluates only what is new since the previous render: templates must be prefix-stable (a render
 * of turns 1..k with answers is a prefix of the render of turns 1..k+1).
 */
export interface PromptTemplate {
  readonly name: string;
  /** Renders every turn; ends with the generation prompt when the last turn has no answer. */
  render(conversation: PromptConversation, imageMarker: string): string;
  /** Text that closes an assistant answer in the token stream (e.g. `</s>`), if any. */
  readonly answerTerminator: string;
}

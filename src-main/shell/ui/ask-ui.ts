import type {
  ApiConversation,
  ApiMessage,
  ApiResponse,
  PreloadBridge,
  SendResult,
} from '../../api/contract.js';
import type { AskInfo } from '../../capture/messages.js';
import { dom, element, whenReady, type DomElement } from './dom.js';

export interface AskActions {
  info(): Promise<AskInfo>;
  /** Opens the conversation in the main window (and closes this one). */
  continueInMain(conversationId: string): void;
  close(): void;
}

function failure(response: ApiResponse): string | undefined {
  return response.ok ? undefined : response.error.message;
}

/**
 * The small ask window: the crop, a focused question box and the streamed answer. Model output
 * is shown as plain text (textContent), never as HTML. The conversation is a normal one, so
 * "Continue in the main window" only has to open it there.
 */
export function startAskWindow(api: PreloadBridge, actions: AskActions): void {
  const { document, window } = dom();
  whenReady(window, () => {
    const crop = element(document, 'crop');
    const answer = element(document, 'answer');
    const error = element(document, 'error');
    const form = element(document, 'form');
    const question = element(document, 'question');
    const askButton = element(document, 'ask');
    const continueButton = element(document, 'continue');
    const closeButton = element(document, 'close');
    let conversationId: string | undefined;
    let imageId: string | undefined;
    let answering: string | undefined;
    let sentImage = false;

    const showError = (message: string | undefined): void => {
      error.hidden = message === undefined;
      error.textContent = message ?? '';
    };
    const setBusy = (busy: boolean): void => {
      askButton.disabled = busy;
      question.disabled = busy;
      if (!busy) question.focus();
    };
    const append = (target: DomElement, text: string): void => {
      target.textContent = `${target.textContent ?? ''}${text}`;
      target.scrollTop = target.scrollHeight;
    };

    api.on('chats.token', (payload) => {
      const token = payload as { messageId: string; text: string };
      if (token.messageId === answering) append(answer, token.text);
    });
    api.on('chats.message', (payload) => {
      const { message } = payload as { message: ApiMessage };
      if (message.id !== answering || message.status === 'streaming') return;
      answering = undefined;
      answer.textContent = message.text;
      showError(message.status === 'error' ? message.error?.message : undefined);
      setBusy(false);
    });

    const ask = async (): Promise<void> => {
      const text = question.value.trim();
      if (text === '' || answering !== undefined || imageId === undefined) return;
      setBusy(true);
      showError(undefined);
      if (!conversationId) {
        const created = await api.invoke('chats.create', { title: text.slice(0, 80) });
        if (!created.ok) return finish(failure(created));
        conversationId = (created.value as ApiConversation).id;
        continueButton.disabled = false;
      }
      const sent = await api.invoke('chats.send', {
        conversationId,
        text,
        images: sentImage ? [] : [imageId],
      });
      if (!sent.ok) return finish(failure(sent));
      sentImage = true;
      question.value = '';
      answering = (sent.value as SendResult).answer.id;
      answer.textContent = '';
    };
    const finish = (message: string | undefined): void => {
      showError(message);
      setBusy(false);
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void ask();
    });
    question.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.shiftKey !== true && event.isComposing !== true) {
        event.preventDefault();
        void ask();
      }
    });
    window.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') actions.close();
    });
    continueButton.addEventListener('click', () => {
      if (conversationId) actions.continueInMain(conversationId);
    });
    closeButton.addEventListener('click', () => actions.close());

    void actions.info().then(
      (info) => {
        imageId = info.imageId;
        crop.src = info.imageUrl;
        question.focus();
      },
      (reason: unknown) => showError(String(reason)),
    );
  });
}

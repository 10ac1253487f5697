/** A conversation as the sidebar lists it. */
export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: number;
}

/**
 * The sidebar's list of conversations and the selection. Until the chat store is connected this
 * list lives in memory only.
 */
export class ConversationList {
  items = $state<ConversationSummary[]>([]);
  selectedId = $state<string | null>(null);
  query = $state('');

  get filtered(): ConversationSummary[] {
    const q = this.query.trim().toLowerCase();
    if (q === '') return this.items;
    return this.items.filter((c) => c.title.toLowerCase().includes(q));
  }

  create(title = 'Untitled chat'): ConversationSummary {
    const conversation = { id: crypto.randomUUID(), title, updatedAt: Date.now() };
    this.items = [conversation, ...this.items];
    this.selectedId = conversation.id;
    return conversation;
  }

  select(id: string): void {
    this.selectedId = id;
  }
}

/** What the user is writing, before it is sent. */
export class ComposerState {
  text = $state('');

  get canSend(): boolean {
    return this.text.trim().length > 0;
  }

  clear(): void {
    this.text = '';
  }
}

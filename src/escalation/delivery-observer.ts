/** What the delivery pump reports about the events it handles, e.g. to count them as metrics. */
export interface DeliveryObserver {
  /** One attempt to send an event to `target`: sent (2xx) or failed (any other answer, or none), and how long it took. */
  attempt(target: string, outcome: 'sent' | 'failed', seconds: number): void;
  /** An event moved to the dead letter, never delivered (refused, attempts used up, target gone, or its trigger refused). */
  deadLettered(target: string): void;
}

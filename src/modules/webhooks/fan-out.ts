// The fan-out of events to webhook endpoints, called by recordEvent in the event's own
// transaction (the outbox, DESIGN §4): deliveries commit with their event or not at all, so no
// committed event is ever missed, whatever happens to the process afterwards. A leaf module (it
// imports only the repo), so that the events module can call it without an import cycle.
import * as repo from './webhooks.repo.ts';

/**
 * One delivery per enabled endpoint that takes the event's type (usually none), as SQL over a CTE
 * named `eventCte` that holds the event row, for recordEvent to insert the event and its
 * deliveries in one statement (one round trip on every event). webhook.test goes only to the
 * endpoint it tests (POST /webhooks/:id/test).
 */
export function fanOutStatement(eventCte: string) {
  return repo.fanOutFrom(eventCte);
}

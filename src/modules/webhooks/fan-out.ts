// The fan-out of events to webhook endpoints, called by recordEvent in the event's own
// transaction (the outbox, DESIGN §4): deliveries commit with their event or not at all, so no
// committed event is ever missed, whatever happens to the process afterwards. A leaf module (it
// imports only the repo), so that the events module can call it without an import cycle.
import type { Queryable } from '../../platform/db.ts';
import type { EventRow } from '../events/events.repo.ts';
import * as repo from './webhooks.repo.ts';

/** One delivery per enabled endpoint that takes the event's type: one statement, usually matching none. */
export async function fanOut(tx: Queryable, event: Pick<EventRow, 'id' | 'organization_id' | 'type' | 'created_at'>) {
  // webhook.test goes only to the endpoint it tests (POST /webhooks/:id/test).
  if (event.type === repo.TEST_EVENT_TYPE) return;
  await repo.fanOut(tx, event);
}

/**
 * The same fan-out as SQL over a CTE named `eventCte` that holds the event row, for recordEvent
 * to insert the event and its deliveries in one statement (one round trip on every event).
 */
export function fanOutStatement(eventCte: string) {
  return repo.fanOutFrom(eventCte);
}

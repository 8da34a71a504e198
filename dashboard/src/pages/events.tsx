// Events, newest first, with their payloads and, per event, its webhook deliveries and a resend.
import { useState } from 'preact/hooks';
import { call, get, post, query } from '../api.ts';
import { Notice, Table, useLoad, when, Field } from '../ui.tsx';
import { DeliveryLog, type Delivery } from './deliveries.tsx';

interface Event { id: string; type: string; resourceId: string; createdAt: string; data: unknown }

export function EventsPage() {
  const [type, setType] = useState('');
  const [limit, setLimit] = useState(20);
  const events = useLoad(() => call<Event[]>('GET', `/events${query({ limit, type })}`), [limit, type]);
  const [open, setOpen] = useState<Event | null>(null);
  return (
    <>
      <form class="filters" aria-label="Filter events" onSubmit={(e) => {
        e.preventDefault();
        setType(String(new FormData(e.currentTarget).get('type') ?? '').trim());
      }}>
        <Field label="Event type" name="type" placeholder="card.created" />
        <button type="submit">Filter</button>
        <button type="button" onClick={events.reload}>Refresh</button>
      </form>
      <Notice error={events.error} />
      <Table caption="Events" head={['When', 'Type', 'Resource', '']}>
        {events.data?.data.map((event) => (
          <tr key={event.id} class={open?.id === event.id ? 'selected' : undefined}>
            <td>{when(event.createdAt)}</td>
            <td><code>{event.type}</code></td>
            <td><code>{event.resourceId}</code></td>
            <td><button type="button" aria-label={`Open event ${event.type}`} onClick={() => setOpen(event)}>Open</button></td>
          </tr>
        ))}
      </Table>
      {events.data?.meta?.hasMore && limit < 100 && (
        <button type="button" onClick={() => setLimit(100)}>Show up to 100</button>
      )}
      {open && <EventDetail key={open.id} event={open} />}
    </>
  );
}

function EventDetail({ event }: { event: Event }) {
  const deliveries = useLoad(() => get<Delivery[]>(`/events/${event.id}/deliveries`), [event.id]);
  const [message, setMessage] = useState<{ ok?: string; error?: string }>({});
  const resend = async () => {
    setMessage({});
    await post<unknown[]>(`/events/${event.id}/resend`).then(
      (queued) => { setMessage({ ok: `${queued.length} delivery(ies) queued.` }); deliveries.reload(); },
      (e: Error) => setMessage({ error: e.message }),
    );
  };
  return (
    <section aria-labelledby="event-detail">
      <h2 id="event-detail"><code>{event.type}</code> <small>{event.id}</small></h2>
      <h3>Payload</h3>
      <pre class="payload" tabIndex={0} data-testid="payload">{JSON.stringify(event, null, 2)}</pre>
      <h3>Deliveries</h3>
      <div class="actions">
        <button type="button" onClick={deliveries.reload}>Refresh deliveries</button>
        <button type="button" onClick={resend}>Resend</button>
      </div>
      <Notice error={message.error ?? deliveries.error}>{message.ok}</Notice>
      {deliveries.data && <DeliveryLog deliveries={deliveries.data} caption={`Deliveries of ${event.id}`} />}
    </section>
  );
}

// A delivery log: one row per attempt (status code, latency, answer or error, next try).
import { Status, Table, when } from '../ui.tsx';

export interface Delivery {
  id: string; webhookId: string; eventId: string; eventType: string; reason: string; status: string;
  attempts: Array<{
    attempt: number; attemptedAt: string; succeeded: boolean; statusCode: number | null; latencyMs: number;
    responseExcerpt: string | null; error: string | null; nextAttemptAt: string | null;
  }>;
  createdAt: string;
}

export function DeliveryLog({ deliveries, caption }: { deliveries: Delivery[]; caption: string }) {
  if (deliveries.length === 0) return <p>No deliveries yet.</p>;
  return (
    <Table caption={caption} head={['Delivery', 'Attempt', 'When', 'Result', 'Latency', 'Answer or error', 'Next try']}>
      {deliveries.flatMap((d) => (d.attempts.length ? d.attempts : [null]).map((a, i) => (
        <tr key={`${d.id}-${i}`} data-testid="delivery-attempt">
          <td>{i === 0 ? <><Status value={d.status} /> {d.eventType}<br /><small>{d.reason}, <code>{d.webhookId}</code></small></> : null}</td>
          <td>{a ? `#${a.attempt}` : '—'}</td>
          <td>{a ? when(a.attemptedAt) : when(d.createdAt)}</td>
          <td>{a ? `${a.succeeded ? 'ok' : 'failed'}${a.statusCode ? ` ${a.statusCode}` : ''}` : 'not tried yet'}</td>
          <td class="num">{a ? `${a.latencyMs} ms` : ''}</td>
          <td><small>{a?.error ?? a?.responseExcerpt ?? ''}</small></td>
          <td>{a?.nextAttemptAt ? when(a.nextAttemptAt) : ''}</td>
        </tr>
      )))}
    </Table>
  );
}

// Webhook endpoints: create (the signing secret is shown once), enable/disable, test, and each
// endpoint's delivery log.
import { useState } from 'preact/hooks';
import { call, del, get, post, query } from '../api.ts';
import { CopyButton, Field, Form, Notice, Table, text, useLoad, when } from '../ui.tsx';
import { DeliveryLog, type Delivery } from './deliveries.tsx';

interface Webhook { id: string; url: string; description: string | null; events: string[]; enabled: boolean; createdAt: string }

export function WebhooksPage() {
  const hooks = useLoad(() => get<Webhook[]>(`/webhooks${query({ limit: 100 })}`));
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [open, setOpen] = useState<Webhook | null>(null);
  const [error, setError] = useState<string>();
  const run = (action: () => Promise<unknown>) => async () => {
    setError(undefined);
    await action().then(hooks.reload, (e: Error) => setError(e.message));
  };
  return (
    <>
      <section aria-labelledby="new-webhook">
        <h2 id="new-webhook">New endpoint</h2>
        <Form label="Create webhook endpoint" submit="Create endpoint" onSubmit={async (form) => {
          const events = (text(form, 'events') ?? '*').split(/[\s,]+/).filter(Boolean);
          const hook = await post<Webhook & { secret: string }>('/webhooks', {
            url: text(form, 'url'), events, description: text(form, 'description'),
          });
          setSecret({ url: hook.url, secret: hook.secret });
          hooks.reload();
        }}>
          <Field label="URL" name="url" type="url" required placeholder="https://example.com/paygen/webhooks" />
          <Field label="Event types (comma separated, * for all)" name="events" value="*" />
          <Field label="Description" name="description" placeholder="optional" />
        </Form>
        {secret && (
          <div class="secret" role="status">
            <p>Signing secret of {secret.url}, shown once:</p>
            <code>{secret.secret}</code> <CopyButton text={secret.secret} />
          </div>
        )}
      </section>
      <Notice error={error ?? hooks.error} />
      <Table caption="Webhook endpoints" head={['URL', 'Events', 'Enabled', 'Created', '']}>
        {hooks.data?.map((hook) => (
          <tr key={hook.id}>
            <td><code>{hook.url}</code>{hook.description ? <><br /><small>{hook.description}</small></> : null}</td>
            <td>{hook.events.join(', ')}</td>
            <td>{hook.enabled ? 'yes' : 'no'}</td>
            <td>{when(hook.createdAt)}</td>
            <td class="actions">
              <button type="button" onClick={() => setOpen(hook)}>Deliveries</button>
              <button type="button" onClick={run(() => post(`/webhooks/${hook.id}/test`))}>Send test</button>
              <button type="button" onClick={run(() => call('PATCH', `/webhooks/${hook.id}`, { enabled: !hook.enabled }))}>
                {hook.enabled ? 'Disable' : 'Enable'}
              </button>
              <button type="button" onClick={run(async () => {
                if (confirm(`Delete the endpoint ${hook.url}?`)) await del(`/webhooks/${hook.id}`);
              })}>Delete</button>
            </td>
          </tr>
        ))}
      </Table>
      {open && <WebhookDeliveries key={open.id} hook={open} />}
    </>
  );
}

function WebhookDeliveries({ hook }: { hook: Webhook }) {
  const deliveries = useLoad(() => get<Delivery[]>(`/webhooks/${hook.id}/deliveries${query({ limit: 50 })}`), [hook.id]);
  return (
    <section aria-labelledby="webhook-deliveries">
      <h2 id="webhook-deliveries">Deliveries to <code>{hook.url}</code></h2>
      <button type="button" onClick={deliveries.reload}>Refresh deliveries</button>
      <Notice error={deliveries.error} />
      {deliveries.data && <DeliveryLog deliveries={deliveries.data} caption={`Deliveries to ${hook.url}`} />}
    </section>
  );
}

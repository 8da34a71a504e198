// API keys: create (the key is shown once, with a copy button), list (prefix and last four), revoke.
import { useState } from 'preact/hooks';
import { del, get, post, query } from '../api.ts';
import { CopyButton, Field, Form, Notice, Table, text, useLoad, when } from '../ui.tsx';

interface ApiKey { id: string; name: string; prefix: string; lastFour: string; createdAt: string; revokedAt: string | null }

export function ApiKeysPage() {
  const keys = useLoad(() => get<ApiKey[]>(`/api-keys${query({ limit: 100 })}`));
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<string>();

  const revoke = async (key: ApiKey) => {
    if (!confirm(`Revoke "${key.name}"? Requests with it fail at once.`)) return;
    setError(undefined);
    await del(`/api-keys/${key.id}`).then(keys.reload, (e: Error) => setError(e.message));
  };

  return (
    <>
      <section aria-labelledby="new-key">
        <h2 id="new-key">New API key</h2>
        <Form label="Create API key" submit="Create key" onSubmit={async (form) => {
          const key = await post<{ name: string; key: string }>('/api-keys', { name: text(form, 'name') });
          setCreated(key);
          keys.reload();
        }}>
          <Field label="Name" name="name" required placeholder="Production server" />
        </Form>
        {created && (
          <div class="secret" role="status">
            <p>Key <strong>{created.name}</strong>, shown once: store it now.</p>
            <code data-testid="new-key">{created.key}</code> <CopyButton text={created.key} />
          </div>
        )}
      </section>
      <Notice error={error ?? keys.error} />
      <Table caption="API keys" head={['Name', 'Key', 'Created', 'Status', '']}>
        {keys.data?.map((key) => (
          <tr key={key.id}>
            <td>{key.name}</td>
            <td><code>{key.prefix}…{key.lastFour}</code></td>
            <td>{when(key.createdAt)}</td>
            <td>{key.revokedAt ? `revoked ${when(key.revokedAt)}` : 'active'}</td>
            <td>{!key.revokedAt && <button type="button" onClick={() => revoke(key)}>Revoke</button>}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

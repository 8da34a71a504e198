// Card holders: list with KYC status, create with identity documents (multipart), and the sandbox
// simulator's KYC decision.
import { useState } from 'preact/hooks';
import { call, get, post, query } from '../api.ts';
import { Field, Form, Notice, Select, Status, Table, text, useLoad } from '../ui.tsx';

export interface CardHolder {
  id: string; firstName: string; lastName: string; email: string | null; kycStatus: string; kycReason: string | null;
  documents: Array<{ id: string; kind: string; fileName: string }>;
}

export const listCardHolders = () => get<CardHolder[]>(`/card-holders${query({ limit: 100 })}`);

const FIELDS: Array<[string, string, string, ('email' | 'tel' | 'date')?]> = [
  ['firstName', 'First name', 'Jane'], ['lastName', 'Last name', 'Doe'],
  ['email', 'Email', 'jane.doe@example.com', 'email'], ['phoneNumber', 'Phone (E.164)', '+14155550100', 'tel'],
  ['dateOfBirth', 'Date of birth', '1990-07-14', 'date'], ['nationality', 'Nationality (ISO alpha-2)', 'US'],
  ['addressLine1', 'Address', '123 Main St'], ['city', 'City', 'San Francisco'], ['state', 'State', 'CA'],
  ['postalCode', 'Postal code', '94105'], ['country', 'Country (ISO alpha-2)', 'US'],
];
const DOCUMENTS: Array<[string, string]> = [
  ['idDocumentFront', 'ID document, front'], ['idDocumentBack', 'ID document, back'],
  ['proofOfAddress', 'Proof of address'], ['selfie', 'Selfie'],
];
const KYC: Array<[string, string]> = ['verified', 'pending', 'needs_information', 'rejected'].map((s) => [s, s]);

export function CardHoldersPage() {
  const holders = useLoad(listCardHolders);
  const [error, setError] = useState<string>();
  return (
    <>
      <section aria-labelledby="new-holder">
        <h2 id="new-holder">New card holder</h2>
        <Form label="Create card holder" submit="Create card holder" class="wide" onSubmit={async (form) => {
          // Empty fields and unchosen files are left out, so the API sees only what was given.
          const body = new FormData();
          for (const [name, value] of form.entries()) {
            if (typeof value === 'string' ? value.trim() : value.size > 0) body.append(name, typeof value === 'string' ? value.trim() : value);
          }
          const holder = (await call<CardHolder>('POST', '/card-holders', body)).data;
          holders.reload();
          return `${holder.firstName} ${holder.lastName} created: KYC ${holder.kycStatus}, ${holder.documents.length} document(s).`;
        }}>
          {FIELDS.map(([name, label, placeholder, type]) => (
            <Field key={name} label={label} name={name} type={type ?? 'text'} placeholder={placeholder}
              required={name === 'firstName' || name === 'lastName'} />
          ))}
          {DOCUMENTS.map(([name, label]) => (
            <Field key={name} label={`${label} (JPEG, PNG or PDF)`} name={name} type="file" accept="image/jpeg,image/png,application/pdf" />
          ))}
        </Form>
      </section>
      <Notice error={error ?? holders.error} />
      <Table caption="Card holders" head={['Name', 'Email', 'KYC', 'Documents', 'Simulator: KYC decision']}>
        {holders.data?.map((holder) => (
          <tr key={holder.id}>
            <td>{holder.firstName} {holder.lastName}<br /><small><code>{holder.id}</code></small></td>
            <td>{holder.email ?? '—'}</td>
            <td><Status value={holder.kycStatus} />{holder.kycReason ? <small> {holder.kycReason}</small> : null}</td>
            <td>{holder.documents.map((d) => d.kind).join(', ') || '—'}</td>
            <td>
              <form class="inline" aria-label={`KYC decision for ${holder.firstName} ${holder.lastName}`} onSubmit={async (event) => {
                event.preventDefault();
                const form = new FormData(event.currentTarget);
                setError(undefined);
                await post(`/simulator/card-holders/${holder.id}/kyc`, { status: form.get('status'), reason: text(form, 'reason') })
                  .then(holders.reload, (e: Error) => setError(e.message));
              }}>
                <Select label="Status" name="status" options={KYC} value={holder.kycStatus} />
                <Field label="Reason" name="reason" placeholder="optional" />
                <button type="submit">Set KYC</button>
              </form>
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}

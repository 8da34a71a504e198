// Multipart bodies for the card holder tests, built with the platform's FormData like a client would.
import assert from 'node:assert/strict';
import type { Harness } from '../support/api.ts';

export interface FilePart {
  field: string;
  bytes: Buffer;
  /** The declared Content-Type of the part ('' lets the client choose application/octet-stream). */
  type?: string;
  name?: string;
}

export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
export const JPEG = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAA=', 'base64');
export const PDF = Buffer.from('JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqIDIgMCBvYmo8PC9UeXBlL1BhZ2VzL0tpZHNbXS9Db3VudCAwPj5lbmRvYmoKdHJhaWxlcjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo=', 'base64');

/** The quickstart's text fields: no dateOfBirth, no nationality. */
export const QUICKSTART_FIELDS = {
  firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+1234567890', addressLine1: '123 Main St',
  city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US',
};

export function multipart(fields: Record<string, string>, files: FilePart[] = []) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) form.append(file.field, new Blob([new Uint8Array(file.bytes)], { type: file.type ?? '' }), file.name ?? `${file.field}.bin`);
  return form;
}

export async function createHolder(api: Harness, fields: Record<string, string> = QUICKSTART_FIELDS, files: FilePart[] = [], key?: string) {
  const res = await api.request('POST', '/card-holders', { form: multipart(fields, files), key });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

export async function eventTypes(api: Harness, resourceId: string) {
  const res = await api.request('GET', `/events?resourceId=${resourceId}&sort=createdAt&limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.map((e: any) => e.type) as string[];
}

export function expectError(res: { status: number; body: any; text: string }, status: number, code: string, field?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.error.code, code, res.text);
  assert.equal(res.body.data, null);
  if (field) assert.ok(res.body.error.details.some((d: any) => d.field === field), `no detail for ${field}: ${res.text}`);
}

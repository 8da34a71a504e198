// Every event type Paygen emits, with the resource it describes and a sample of its `data`.
// GET /events/catalog serves this table; recordEvent only accepts types listed here.

interface CatalogEntry {
  resource: string;
  description: string;
  sample: Record<string, unknown>;
}

const account = { id: 'acc_01jd0000000000000000000000', name: 'Primary USD Wallet', currency: 'USD', status: 'active', balance: { available: 10000000, pending: 0, posted: 10000000 } };
const cardHolder = { id: 'ch_01jd0000000000000000000000', firstName: 'Jane', lastName: 'Doe', kycStatus: 'verified', documents: [] };
const program = { id: 'prg_01jd0000000000000000000000', name: 'Visa USD', brand: 'Visa', currency: 'USD', status: 'active' };
const card = { id: 'card_01jd0000000000000000000000', status: 'active', type: 'virtual', brand: 'Visa', currency: 'USD', maskedPan: '453201******1234', balance: { available: 100, pending: 0 } };
const transfer = { id: 'tr_01jd0000000000000000000000', fromAccountId: 'acc_01jd0000000000000000000000', toAccountId: 'acc_01jd0000000000000000000001', amount: 2500, currency: 'USD' };

export const EVENT_CATALOG = {
  'account.created': { resource: 'account', description: 'A funding account was opened.', sample: account },
  'account.updated': { resource: 'account', description: 'An account was renamed, frozen or unfrozen.', sample: account },
  'account.closed': { resource: 'account', description: 'An account was closed.', sample: { ...account, status: 'closed' } },
  'account.deposit_received': { resource: 'account', description: 'Money arrived in an account (sandbox opening deposit or simulated bank transfer).', sample: { accountId: account.id, amount: 10000000, currency: 'USD', entryId: 'tr_01jd0000000000000000000000', balance: account.balance } },
  'transfer.created': { resource: 'transfer', description: 'A book transfer moved money between two accounts.', sample: transfer },
  'card_holder.created': { resource: 'card_holder', description: 'A card holder was onboarded.', sample: cardHolder },
  'card_holder.updated': { resource: 'card_holder', description: 'A card holder\'s details changed.', sample: cardHolder },
  'card_holder.kyc_updated': { resource: 'card_holder', description: 'A card holder\'s KYC status changed.', sample: { ...cardHolder, kycStatus: 'rejected', kycReason: 'document_unreadable' } },
  'card_holder.document_added': { resource: 'card_holder', description: 'A KYC document was uploaded.', sample: { cardHolderId: cardHolder.id, document: { id: 'doc_01jd0000000000000000000000', kind: 'idDocumentFront', contentType: 'image/png', sizeBytes: 70 } } },
  'card_program.created': { resource: 'card_program', description: 'A card program was created.', sample: program },
  'card_program.updated': { resource: 'card_program', description: 'A card program changed.', sample: program },
  'card.created': { resource: 'card', description: 'A card was issued (and funded from its debit account).', sample: card },
  'api_key.created': { resource: 'api_key', description: 'An API key was created.', sample: { id: 'key_01jd0000000000000000000000', name: 'server', prefix: 'sk_sbx_AbCd', lastFour: 'wxyz' } },
  'api_key.revoked': { resource: 'api_key', description: 'An API key was revoked.', sample: { id: 'key_01jd0000000000000000000000', name: 'server', revokedAt: '2026-01-01T00:00:00.000Z' } },
} satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;

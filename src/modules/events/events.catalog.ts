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
const budget = { id: 'bud_01jd0000000000000000000000', accountId: account.id, name: 'Marketing team', currency: 'USD', limit: { amount: 500000, interval: 'monthly' }, status: 'active', spent: 12500, remaining: 487500, period: { start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' }, closedAt: null };

const merchant = { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_12345' };
const authorization = { id: 'auth_01jd0000000000000000000000', cardId: card.id, status: 'pending', approved: true, declineReason: null, requestedAmount: 1250, approvedAmount: 1250, heldAmount: 1250, capturedAmount: 0, currency: 'USD', merchant, entryMode: 'contactless', decisionSource: 'rules', decisionLatencyMs: null, history: [{ kind: 'authorization', amount: 1250, approved: true, reason: null, at: '2026-01-01T00:00:00.000Z' }], networkId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z' };
const cardTransaction = { id: 'txn_01jd0000000000000000000000', type: 'capture', cardId: card.id, authorizationId: authorization.id, relatedTransactionId: null, amount: 1250, refundedAmount: 0, receivableAmount: 0, currency: 'USD', merchant, createdAt: '2026-01-01T00:00:00.000Z' };

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
  'card.updated': { resource: 'card', description: 'A card\'s label, spend controls or metadata changed.', sample: card },
  'card.frozen': { resource: 'card', description: 'The client locked a card.', sample: { ...card, status: 'locked' } },
  'card.unfrozen': { resource: 'card', description: 'The client unlocked a card.', sample: card },
  'card.activated': { resource: 'card', description: 'A physical card was activated.', sample: card },
  'card.cancelled': { resource: 'card', description: 'A card was cancelled; its available balance went back to its debit account.', sample: { ...card, status: 'cancelled' } },
  'card.issued': { resource: 'card', description: 'A pending card passed issuance review.', sample: card },
  'card.rejected': { resource: 'card', description: 'A pending card failed issuance review.', sample: { ...card, status: 'rejected' } },
  'card.shipped': { resource: 'card', description: 'A physical card left for its delivery address.', sample: { ...card, type: 'physical', status: 'digital' } },
  'card.delivered': { resource: 'card', description: 'A physical card arrived.', sample: { ...card, type: 'physical', status: 'digital' } },
  'card.expired': { resource: 'card', description: 'A card expired; its available balance went back to its debit account.', sample: { ...card, status: 'expired' } },
  'card.suspended': { resource: 'card', description: 'The issuer suspended a card.', sample: { ...card, status: 'suspended' } },
  'card.reinstated': { resource: 'card', description: 'The issuer lifted a suspension.', sample: card },
  'card.topped_up': { resource: 'card', description: 'Money moved from the debit account to the card.', sample: card },
  'card.withdrawn': { resource: 'card', description: 'Money moved from the card back to the debit account.', sample: card },
  'card.replaced': { resource: 'card', description: 'A card was replaced by a new one (lost, stolen, damaged, expired).', sample: { ...card, status: 'cancelled' } },
  'card.pin_updated': { resource: 'card', description: 'A card PIN was set or changed (through the API or the hosted PIN page). Never carries the PIN.', sample: { cardId: card.id, isPinSet: true, updatedAt: '2026-01-01T00:00:00.000Z', source: 'api' } },
  'tokenization.created': { resource: 'tokenization', description: 'A card was added to a mobile wallet.', sample: { id: 'wtok_01jd0000000000000000000000', cardId: card.id, dpanRef: 'DPAN5F1C0A7B3E9D2C4A6B81', walletId: null, walletType: 'apple_pay', status: 'completed', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' } },
  'tokenization.updated': { resource: 'tokenization', description: 'A wallet token changed status, following its card (suspended, resumed or terminated).', sample: { id: 'wtok_01jd0000000000000000000000', cardId: card.id, dpanRef: 'DPAN5F1C0A7B3E9D2C4A6B81', walletId: null, walletType: 'apple_pay', status: 'suspended', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' } },
  'api_key.created': { resource: 'api_key', description: 'An API key was created.', sample: { id: 'key_01jd0000000000000000000000', name: 'server', prefix: 'sk_sbx_AbCd', lastFour: 'wxyz' } },
  'api_key.revoked': { resource: 'api_key', description: 'An API key was revoked.', sample: { id: 'key_01jd0000000000000000000000', name: 'server', revokedAt: '2026-01-01T00:00:00.000Z' } },
  'budget.created': { resource: 'budget', description: 'A budget was created over a funding account.', sample: budget },
  'budget.updated': { resource: 'budget', description: 'A budget was renamed or its limit changed.', sample: budget },
  'budget.closed': { resource: 'budget', description: 'A budget was closed; its cards can no longer spend.', sample: { ...budget, status: 'closed', closedAt: '2026-01-31T12:00:00.000Z' } },
  'webhook.test': { resource: 'webhook', description: 'A test event, sent only to the endpoint named in POST /webhooks/:id/test (never to other endpoints, nor by replay).', sample: { webhookId: 'whk_01jd0000000000000000000000', url: 'https://example.com/paygen/webhooks', message: 'A test event sent through POST /webhooks/:id/test.' } },
  'authorization.created': { resource: 'authorization', description: 'The network asked to authorize a card payment: approved (with a hold) or declined (approved false, declineReason).', sample: authorization },
  'authorization.incremented': { resource: 'authorization', description: 'An incremental authorization was approved (more held) or declined (see the last history entry).', sample: { ...authorization, approvedAmount: 1750, heldAmount: 1750 } },
  'authorization.captured': { resource: 'authorization', description: 'An authorization was captured (less, equal or more than held) and closed.', sample: { ...authorization, status: 'closed', heldAmount: 0, capturedAmount: 1250 } },
  'authorization.reversed': { resource: 'authorization', description: 'All or part of an authorization\'s hold was released.', sample: { ...authorization, status: 'reversed', heldAmount: 0 } },
  'authorization.expired': { resource: 'authorization', description: 'An authorization\'s hold expired (holdTtlHours) and was released.', sample: { ...authorization, status: 'expired', heldAmount: 0 } },
  'transaction.created': { resource: 'transaction', description: 'A capture, refund or force capture cleared.', sample: cardTransaction },
} satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;

// Sample `data` of each event type, for GET /events/catalog. Each is typed with the resource's own
// schema type, so the compiler refuses a sample that lacks a field the real events carry; a test
// also checks them against the schemas and against real events.
import type { Static } from '@sinclair/typebox';
import type { Account } from '../accounts/accounts.schemas.ts';
import type { Authorization, Merchant } from '../authorizations/authorizations.schemas.ts';
import type { Budget } from '../budgets/budgets.schemas.ts';
import type { CardHolder, Document } from '../card-holders/card-holders.schemas.ts';
import type { Program } from '../card-programs/card-programs.schemas.ts';
import type { Card } from '../cards/cards.schemas.ts';
import type { ApiKey } from '../organizations/organizations.schemas.ts';
import type { Tokenization } from '../tokenizations/tokenizations.schemas.ts';
import type { Transaction } from '../transactions/transactions.schemas.ts';
import type { Dispute } from '../disputes/disputes.schemas.ts';

const at = '2026-01-01T00:00:00.000Z';
const later = '2026-01-01T00:05:00.000Z';

export const account: Account = {
  id: 'acc_01jd0000000000000000000000', ownerType: 'business', ownerId: '665f1c4f4a4f4a4f4a4f4a4f', name: 'Primary USD Wallet',
  type: 'checking', category: 'fiat', currency: 'USD', status: 'active', balance: { available: 10000000, pending: 0, posted: 10000000 },
  createdAt: at, updatedAt: at, closedAt: null,
};

export const deposit = { id: 'tr_01jd0000000000000000000001', accountId: account.id, amount: 10000000, currency: 'USD', balance: account.balance, createdAt: at };

export const transfer = {
  id: 'tr_01jd0000000000000000000002', fromAccountId: account.id, toAccountId: 'acc_01jd0000000000000000000001', amount: 2500,
  currency: 'USD', description: 'Rent', createdAt: at,
};

export const document: Document = {
  id: 'doc_01jd0000000000000000000000', cardHolderId: 'ch_01jd0000000000000000000000', kind: 'idDocumentFront', fileName: 'passport.png',
  contentType: 'image/png', sizeBytes: 70, sha256: 'b7f6c4c2c0a1b0b8ad2bdbb2ea2e2f4c6f0d4d0c3bd1fd0d25cf2e3c1a9f1a11', createdAt: at,
};

export const cardHolder: CardHolder = {
  id: document.cardHolderId, firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+14155550100',
  dateOfBirth: '1990-07-14', nationality: 'US', addressLine1: '123 Main St', addressLine2: null, city: 'San Francisco', state: 'CA',
  postalCode: '94105', country: 'US', spendControls: null, programId: null, kycStatus: 'verified', kycReason: null, documents: [document],
  createdAt: at, updatedAt: at,
};

export const program: Program = {
  id: 'prg_01jd0000000000000000000000', name: 'Visa USD', brand: 'Visa', bin: '45320100', currency: 'USD', cardTypes: ['virtual', 'physical'],
  status: 'active', requiresVerifiedCardHolder: true, allowNameOnlyIssuance: false, blockedNationalities: [], cardValidityYears: 3,
  holdTtlHours: 168, issuanceReview: false, digitalInTransit: true, defaultSpendControls: null, authorizationWebhook: null,
  requiredDocuments: [], createdAt: at, updatedAt: at,
};

export const tokenization: Tokenization = {
  id: 'wtok_01jd0000000000000000000000', cardId: 'card_01jd0000000000000000000000', dpanRef: 'DPAN5F1C0A7B3E9D2C4A6B81',
  walletId: null, walletType: 'apple_pay', status: 'completed', createdAt: at, updatedAt: at,
};

export const card: Card = {
  id: tokenization.cardId, status: 'active', type: 'virtual', brand: 'Visa', scheme: 'VISA', currency: 'USD', programId: program.id,
  programName: program.name, cardHolderId: cardHolder.id, debitAccountId: account.id, budgetId: null, firstName: 'Jane', lastName: 'Doe',
  balance: { available: 100, pending: 0 }, maskedPan: '45320100****1234', bin: '45320100', lastFour: '1234', expiry: { month: 1, year: 2029 },
  isPinSet: false, isPinBlocked: false, label: null, externalId: null, mobile: '+14155550100', deliveryAddress: null, shipping: null, spendControls: null,
  metadata: {}, tokenizations: [tokenization], replacesCardId: null, replacedByCardId: null, createdAt: at, updatedAt: at,
  activatedAt: at, cancelledAt: null,
};

export const pinStatus = { cardId: card.id, isPinSet: true, updatedAt: at, source: 'api' };
export const pinBlocked = { cardId: card.id, isPinBlocked: true, failedAttempts: 3, blockedAt: at, authorizationId: 'auth_01jd0000000000000000000000' };

export const cardRevealed = {
  cardId: card.id, sessionId: 'revses_01jd0000000000000000000000', revealedAt: at, via: 'page',
  requestedBy: { type: 'api_key', id: 'key_01jd0000000000000000000000' }, ip: '203.0.113.7', userAgent: 'Mozilla/5.0',
};

export const apiKey: Static<typeof ApiKey> = {
  id: 'key_01jd0000000000000000000000', name: 'server', prefix: 'sk_sbx_AbCd', lastFour: 'wxyz', scopes: [], createdAt: at, revokedAt: null,
};

export const signingKey = {
  id: 'sgk_01jd0000000000000000000000', keyId: 'backend-2026', algorithm: 'ed25519',
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n',
  required: false, createdAt: at,
};

export const budget: Budget = {
  id: 'bud_01jd0000000000000000000000', accountId: account.id, name: 'Marketing team', currency: 'USD',
  limit: { amount: 500000, interval: 'monthly' }, status: 'active', spent: 12500, remaining: 487500,
  period: { start: at, end: '2026-02-01T00:00:00.000Z' }, createdAt: at, updatedAt: at, closedAt: null,
};

const merchant: Merchant = { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_12345' };

export const authorization: Authorization = {
  id: 'auth_01jd0000000000000000000000', cardId: card.id, status: 'pending', approved: true, declineReason: null, requestedAmount: 1250,
  approvedAmount: 1250, heldAmount: 1250, capturedAmount: 0, currency: 'USD', merchant, entryMode: 'contactless',
  decisionSource: 'rules', decisionLatencyMs: null,
  history: [{ kind: 'authorization', amount: 1250, approved: true, reason: null, at }],
  networkId: null, createdAt: at, updatedAt: at, expiresAt: '2026-01-08T00:00:00.000Z',
};

export const transaction: Transaction = {
  id: 'txn_01jd0000000000000000000000', type: 'capture', cardId: card.id, authorizationId: authorization.id, relatedTransactionId: null,
  amount: 1250, refundedAmount: 0, receivableAmount: 0, currency: 'USD', merchant, createdAt: later,
};

export const webhookTest = { webhookId: 'whk_01jd0000000000000000000000', url: 'https://example.com/paygen/webhooks', message: 'A test event sent through POST /webhooks/:id/test.' };

export const dispute: Dispute = {
  id: 'dsp_01jd0000000000000000000000', transactionId: transaction.id, cardId: card.id, status: 'unsubmitted', reason: 'canceled',
  amount: 1250, creditedAmount: 0, currency: 'USD',
  evidence: {
    explanation: 'I cancelled the order before it shipped.', productDescription: null, merchantContactedAt: null, trackingNumber: null,
    canceledAt: null, returnedAt: null, files: [],
  },
  resolutionReason: null, createdAt: later, updatedAt: later, submittedAt: null, resolvedAt: null,
};

const evidenced: Dispute = {
  ...dispute,
  evidence: {
    ...dispute.evidence, merchantContactedAt: '2026-01-01T00:04:00.000Z',
    files: [{ id: 'doc_01jd0000000000000000000001', kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', sizeBytes: 18432, sha256: document.sha256, createdAt: later }],
  },
};
const submitted: Dispute = { ...evidenced, status: 'submitted', submittedAt: later };

export const disputes = {
  created: dispute,
  evidenceAdded: evidenced,
  submitted,
  won: { ...submitted, status: 'won', creditedAmount: 1250, resolutionReason: 'merchant_accepted', resolvedAt: later } satisfies Dispute,
  lost: { ...submitted, status: 'lost', resolutionReason: 'merchant_proved_delivery', resolvedAt: later } satisfies Dispute,
};

// Every event type Paygen emits, with the resource it describes and a sample of its `data`.
// GET /events/catalog serves this table; recordEvent only accepts types listed here.
import * as samples from './events.samples.ts';

interface CatalogEntry {
  resource: string;
  description: string;
  sample: Record<string, unknown>;
}

const { account, cardHolder, program, card, transfer, budget, authorization, tokenization } = samples;

export const EVENT_CATALOG = {
  'account.created': { resource: 'account', description: 'A funding account was opened.', sample: account },
  'account.updated': { resource: 'account', description: 'An account was renamed, frozen or unfrozen.', sample: account },
  'account.closed': { resource: 'account', description: 'An account was closed.', sample: { ...account, status: 'closed' } },
  'account.deposit_received': { resource: 'account', description: 'Money arrived in an account (sandbox opening deposit or simulated bank transfer).', sample: samples.deposit },
  'transfer.created': { resource: 'transfer', description: 'A book transfer moved money between two accounts.', sample: transfer },
  'card_holder.created': { resource: 'card_holder', description: 'A card holder was onboarded.', sample: cardHolder },
  'card_holder.updated': { resource: 'card_holder', description: 'A card holder\'s details changed.', sample: cardHolder },
  'card_holder.kyc_updated': { resource: 'card_holder', description: 'A card holder\'s KYC status changed.', sample: { ...cardHolder, kycStatus: 'rejected', kycReason: 'document_unreadable' } },
  'card_holder.document_added': { resource: 'card_holder', description: 'A KYC document was uploaded.', sample: { cardHolderId: cardHolder.id, document: samples.document } },
  'card_program.created': { resource: 'card_program', description: 'A card program was created.', sample: program },
  'card_program.updated': { resource: 'card_program', description: 'A card program changed.', sample: program },
  'card.created': { resource: 'card', description: 'A card was issued (and funded from its debit account).', sample: card },
  'card.updated': { resource: 'card', description: 'A card\'s label, spend controls or metadata changed.', sample: card },
  'card.frozen': { resource: 'card', description: 'The client locked a card.', sample: { ...card, status: 'locked' } },
  'card.unfrozen': { resource: 'card', description: 'The client unlocked a card.', sample: card },
  'card.activated': { resource: 'card', description: 'A physical card was activated.', sample: card },
  'card.cancelled': { resource: 'card', description: 'A card was cancelled; its available balance went back to its debit account.', sample: { ...card, status: 'cancelled' } },
  'card.issued': { resource: 'card', description: 'A pending card passed issuance review.', sample: card },
  'card.rejected': { resource: 'card', description: 'A pending card failed issuance review; its available balance went back to its debit account.', sample: { ...card, status: 'rejected' } },
  'card.shipped': { resource: 'card', description: 'A physical card left for its delivery address.', sample: { ...card, type: 'physical', status: 'digital' } },
  'card.delivered': { resource: 'card', description: 'A physical card arrived.', sample: { ...card, type: 'physical', status: 'digital' } },
  'card.expired': { resource: 'card', description: 'A card expired; its available balance went back to its debit account.', sample: { ...card, status: 'expired' } },
  'card.suspended': { resource: 'card', description: 'The issuer suspended a card.', sample: { ...card, status: 'suspended' } },
  'card.reinstated': { resource: 'card', description: 'The issuer lifted a suspension.', sample: card },
  'card.topped_up': { resource: 'card', description: 'Money moved from the debit account to the card.', sample: card },
  'card.withdrawn': { resource: 'card', description: 'Money moved from the card back to the debit account.', sample: card },
  'card.replaced': { resource: 'card', description: 'A card was replaced by a new one (lost, stolen, damaged, expired).', sample: { ...card, status: 'cancelled' } },
  'card.pin_updated': { resource: 'card', description: 'A card PIN was set or changed (through the API or the hosted PIN page). Never carries the PIN.', sample: samples.pinStatus },
  'card.pin_blocked': { resource: 'card', description: 'A third wrong PIN in a row at the point of sale blocked the card\'s PIN: PIN payments decline as pin_blocked until a new PIN is set. Never carries the PIN.', sample: samples.pinBlocked },
  'card.revealed': { resource: 'card', description: 'A card holder saw the card\'s PAN, CVV and expiry through a reveal session (hosted page or JSON). Says who asked, when and how; never carries the data.', sample: samples.cardRevealed },
  'tokenization.created': { resource: 'tokenization', description: 'A card was added to a mobile wallet.', sample: tokenization },
  'tokenization.updated': { resource: 'tokenization', description: 'A wallet token changed status, following its card (suspended, resumed or terminated).', sample: { ...tokenization, status: 'suspended' } },
  'api_key.created': { resource: 'api_key', description: 'An API key was created.', sample: samples.apiKey },
  'api_key.revoked': { resource: 'api_key', description: 'An API key was revoked.', sample: { ...samples.apiKey, revokedAt: '2026-01-01T00:00:00.000Z' } },
  'signing_key.created': { resource: 'signing_key', description: 'A request-signing key was registered (never carries an hmac-sha256 secret).', sample: samples.signingKey },
  'signing_key.deleted': { resource: 'signing_key', description: 'A request-signing key was deleted; its signatures no longer verify.', sample: samples.signingKey },
  'budget.created': { resource: 'budget', description: 'A budget was created over a funding account.', sample: budget },
  'budget.updated': { resource: 'budget', description: 'A budget was renamed or its limit changed.', sample: budget },
  'budget.closed': { resource: 'budget', description: 'A budget was closed; its cards can no longer spend.', sample: { ...budget, status: 'closed', closedAt: '2026-01-31T12:00:00.000Z' } },
  'webhook.test': { resource: 'webhook', description: 'A test event, sent only to the endpoint named in POST /webhooks/:id/test (never to other endpoints, nor by replay).', sample: samples.webhookTest },
  'authorization.created': { resource: 'authorization', description: 'The network asked to authorize a card payment: approved (with a hold) or declined (approved false, declineReason).', sample: authorization },
  'authorization.incremented': { resource: 'authorization', description: 'An incremental authorization was approved (more held) or declined (see the last history entry).', sample: { ...authorization, approvedAmount: 1750, heldAmount: 1750 } },
  'authorization.captured': { resource: 'authorization', description: 'An authorization was captured (less, equal or more than held) and closed.', sample: { ...authorization, status: 'closed', heldAmount: 0, capturedAmount: 1250 } },
  'authorization.reversed': { resource: 'authorization', description: 'All or part of an authorization\'s hold was released.', sample: { ...authorization, status: 'reversed', heldAmount: 0 } },
  'authorization.expired': { resource: 'authorization', description: 'An authorization\'s hold expired (holdTtlHours) and was released.', sample: { ...authorization, status: 'expired', heldAmount: 0 } },
  'transaction.created': { resource: 'transaction', description: 'A capture, refund or force capture cleared.', sample: samples.transaction },
  'dispute.created': { resource: 'dispute', description: 'A card holder disputed a capture or force capture (status unsubmitted).', sample: samples.disputes.created },
  'dispute.evidence_added': { resource: 'dispute', description: 'Evidence text or files were added to an unsubmitted dispute; previousAttributes holds the evidence before.', sample: samples.disputes.evidenceAdded },
  'dispute.submitted': { resource: 'dispute', description: 'A dispute was sent to the network; the disputed amount moved to dispute suspense.', sample: samples.disputes.submitted },
  'dispute.won': { resource: 'dispute', description: 'The network decided for the card holder: creditedAmount went to the card (the amount less refunds that arrived meanwhile).', sample: samples.disputes.won },
  'dispute.lost': { resource: 'dispute', description: 'The network decided for the merchant: the charge stands and nothing was credited.', sample: samples.disputes.lost },
} satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;

// Card holders (customers): identity, KYC status and documents.
import type { Queryable } from '../../platform/db.ts';
import * as repo from './card-holders.repo.ts';

export type CardHolderRow = repo.CardHolderRow;

/** For other modules: the card holder or undefined (callers choose their error). */
export function findCardHolder(tx: Queryable, organizationId: string, id: string) {
  return repo.findCardHolder(tx, organizationId, id);
}

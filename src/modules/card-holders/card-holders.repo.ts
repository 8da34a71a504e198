import type { Queryable } from '../../platform/db.ts';

export interface CardHolderRow {
  id: string;
  organization_id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
  date_of_birth: string | null;
  nationality: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  country: string | null;
  kyc_status: 'pending' | 'needs_information' | 'verified' | 'rejected';
  kyc_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function findCardHolder(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<CardHolderRow>('SELECT * FROM card_holders WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

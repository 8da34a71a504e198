import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface ProgramRow {
  id: string;
  organization_id: string;
  name: string;
  brand: 'Visa' | 'Mastercard';
  bin: string;
  currency: string;
  card_types: Array<'virtual' | 'physical'>;
  status: 'active' | 'inactive';
  requires_verified_card_holder: boolean;
  allow_name_only_issuance: boolean;
  blocked_nationalities: string[];
  card_validity_years: number;
  hold_ttl_hours: number;
  issuance_review: boolean;
  required_documents: string[];
  digital_in_transit: boolean;
  default_spend_controls: unknown;
  authorization_webhook: unknown;
  /** The decision webhook's signing secret, sealed by the vault; null without a webhook. */
  authorization_webhook_secret_ciphertext: string | null;
  authorization_webhook_secret_key_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const JSON_COLUMNS = new Set(['card_types', 'blocked_nationalities', 'required_documents', 'default_spend_controls', 'authorization_webhook']);
const asParam = (column: string, value: unknown) => (JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value);

/** Returns undefined when the name is taken in this organization. */
export async function insertProgram(db: Queryable, row: ProgramRow) {
  const columns = Object.keys(row);
  const [inserted] = await db.query<ProgramRow>(
    `INSERT INTO card_programs (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (organization_id, name) DO NOTHING RETURNING *`,
    columns.map((c) => asParam(c, row[c as keyof ProgramRow])),
  );
  return inserted;
}

export async function findProgram(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<ProgramRow>('SELECT * FROM card_programs WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

/** How a card request names its program: by id, by name, or the default of a brand, currency and card type. */
export type ProgramLookup = { id: string } | { name: string } | { brand: string; currency: string; type: string };

/**
 * The SELECT of a lookup (the organization in $1, the lookup's values from $2), as SQL for a
 * caller that folds it into its own statement (card issuance reads it with the funding account).
 * The default is the oldest active program that issues the card type.
 */
export function programLookupSql(organizationId: string, lookup: ProgramLookup): { sql: string; params: unknown[] } {
  if ('id' in lookup) return { sql: 'SELECT * FROM card_programs WHERE organization_id = $1 AND id = $2', params: [organizationId, lookup.id] };
  if ('name' in lookup) return { sql: 'SELECT * FROM card_programs WHERE organization_id = $1 AND name = $2', params: [organizationId, lookup.name] };
  return {
    sql: `SELECT * FROM card_programs
      WHERE organization_id = $1 AND brand = $2 AND currency = $3 AND status = 'active' AND card_types @> $4::jsonb
      ORDER BY id LIMIT 1`,
    params: [organizationId, lookup.brand, lookup.currency, JSON.stringify([lookup.type])],
  };
}

export async function findProgramBy(db: Queryable, organizationId: string, lookup: ProgramLookup) {
  const { sql, params } = programLookupSql(organizationId, lookup);
  const [row] = await db.query<ProgramRow>(sql, params);
  return row;
}

export async function lockProgram(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<ProgramRow>('SELECT * FROM card_programs WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

/** Updates the given columns; undefined when another program already has the new name. */
export async function updateProgram(db: Queryable, organizationId: string, id: string, changes: Partial<ProgramRow>) {
  const columns = Object.keys(changes);
  const [row] = await db.query<ProgramRow>(
    `UPDATE card_programs SET ${columns.map((c, i) => `${c} = $${i + 3}`).join(', ')}
      WHERE organization_id = $1 AND id = $2
        AND NOT EXISTS (SELECT 1 FROM card_programs o WHERE o.organization_id = $1 AND o.id <> $2 AND o.name = $${columns.length + 3})
      RETURNING *`,
    [organizationId, id, ...columns.map((c) => asParam(c, changes[c as keyof ProgramRow])), changes.name ?? null],
  );
  return row;
}

export function listPrograms(db: Queryable, organizationId: string, query: ListQuery & { status?: string; brand?: string; currency?: string }) {
  const filters = { status: query.status, brand: query.brand, currency: query.currency };
  return paginate<ProgramRow>(db, { table: 'card_programs', organizationId, filters, query, publicFilters: filters });
}

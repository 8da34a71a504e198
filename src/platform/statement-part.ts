// A piece of one module's SQL that another module folds into its own statement, so that a hot
// path writes several modules' rows in one round trip (DESIGN §3, step 5) while each module keeps
// its own SQL.

export interface StatementPart {
  /** The part's values, bound from parameter $first on. */
  params: unknown[];
  /** CTE text (`name AS (…)`, comma-separated if several) that writes only when the CTE `source` has a row. */
  sql: (source: string, first: number) => string;
}

/** SQLSTATE of paygen_refuse (migration 024): a statement (or a part of it) refused, its message the refusal's code. */
export const REFUSED = 'PY001';

/** The code a statement refused with (paygen_refuse), if that is why it failed. */
export function refusalCode(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string } | null;
  return e && typeof e === 'object' && e.code === REFUSED ? e.message : undefined;
}

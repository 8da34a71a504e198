// A piece of one module's SQL that another module folds into its own statement, so that a hot
// path writes several modules' rows in one round trip (DESIGN §3, step 5) while each module keeps
// its own SQL.

export interface StatementPart {
  /** The part's values, bound from parameter $first on. */
  params: unknown[];
  /** CTE text (`name AS (…)`, comma-separated if several) that writes only when the CTE `source` has a row. */
  sql: (source: string, first: number) => string;
}

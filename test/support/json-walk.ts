// Walks parsed JSON (the OpenAPI document, mostly) for the string values of one key at any depth.

/** Every string value of `key` anywhere under `node`, e.g. every `$ref` or `pattern` of a document. */
export function valuesOfKey(node: unknown, key: string): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === key && typeof v === 'string') found.add(v);
        else walk(v);
      }
    }
  };
  walk(node);
  return found;
}

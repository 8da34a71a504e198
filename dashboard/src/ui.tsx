// Small building blocks shared by the pages: loading state, forms with their error, tables.
import type { ComponentChildren, InputHTMLAttributes } from 'preact';

type InputType = 'text' | 'email' | 'password' | 'file' | 'url' | 'tel' | 'date';
import { useCallback, useEffect, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` now and whenever `deps` change or reload() is called. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error: error.message, loading: false }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function Notice({ error, children }: { error?: string; children?: ComponentChildren }) {
  if (error) return <p class="notice error" role="alert">{error}</p>;
  return children ? <p class="notice" role="status">{children}</p> : null;
}

type Submit = (form: FormData) => Promise<string | void>;

/**
 * A form whose submit runs `onSubmit` with the form's data; while it runs the button is busy, and
 * its error (or the success message it returns) is shown under it.
 */
export function Form({ label, onSubmit, children, submit, class: className }: {
  label: string; onSubmit: Submit; children: ComponentChildren; submit: string; class?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok?: string; error?: string }>({});
  const handle = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setResult({});
    try {
      const ok = await onSubmit(new FormData(form));
      setResult({ ok: ok || undefined });
    } catch (error) {
      setResult({ error: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={`card-form ${className ?? ''}`} aria-label={label} onSubmit={handle}>
      {children}
      <div class="actions"><button type="submit" disabled={busy}>{busy ? 'Working…' : submit}</button></div>
      <Notice error={result.error}>{result.ok}</Notice>
    </form>
  );
}

export function Field({ label, name, type = 'text', required, value, placeholder, ...rest }: {
  label: string; name: string; type?: InputType; required?: boolean; value?: string; placeholder?: string;
  inputMode?: 'numeric' | 'decimal'; accept?: string; autocomplete?: string; pattern?: string;
}) {
  const id = `f-${name}-${useState(() => Math.random().toString(36).slice(2, 8))[0]}`;
  return (
    <label class="field" for={id}>
      <span>{label}</span>
      <input {...({ id, name, type, required, defaultValue: value, placeholder, ...rest } as InputHTMLAttributes<HTMLInputElement>)} />
    </label>
  );
}

export function Select({ label, name, options, value, onChange }: {
  label: string; name: string; options: Array<[string, string]>; value?: string;
  onChange?: (value: string) => void;
}) {
  const id = `s-${name}-${useState(() => Math.random().toString(36).slice(2, 8))[0]}`;
  return (
    <label class="field" for={id}>
      <span>{label}</span>
      <select id={id} name={name} value={value}
        onChange={onChange ? (e) => onChange((e.currentTarget as HTMLSelectElement).value) : undefined}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead><tr>{head.map((h) => <th key={h} scope="col">{h}</th>)}</tr></thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = () => {
    navigator.clipboard.writeText(text).then(() => setDone(true), () => setDone(false));
  };
  return <button type="button" onClick={copy}>{done ? 'Copied' : label}</button>;
}

export function Status({ value }: { value: string }) {
  return <span class={`badge badge-${value}`}>{value}</span>;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** The value of a text field of a form, trimmed; undefined when empty. */
export const text = (form: FormData, name: string) => {
  const value = form.get(name);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
};

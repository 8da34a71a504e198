// The organization at a glance, and the one chart: approved against declined authorization
// amounts over time, from GET /authorizations.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { call, get, query } from '../api.ts';
import { formatMoney, toMajor } from '../money.ts';
import { Notice, useLoad } from '../ui.tsx';
import type { Authorization } from './simulator.tsx';

/** At most this many pages of 100 authorizations feed the chart (the newest ones). */
const MAX_PAGES = 5;

async function recentAuthorizations(): Promise<Authorization[]> {
  const all: Authorization[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await call<Authorization[]>('GET', `/authorizations${query({ limit: 100, cursor })}`);
    all.push(...res.data);
    if (!res.meta?.hasMore || !res.meta.nextCursor) break;
    cursor = res.meta.nextCursor;
  }
  return all;
}

const BUCKETS = [60, 3600, 86_400];

/** Sums per time bucket (a minute, an hour or a day, whichever gives at most ~60 buckets). */
export function bucketize(auths: Authorization[], currency: string) {
  const mine = auths.filter((a) => a.currency === currency);
  if (mine.length === 0) return null;
  const times = mine.map((a) => Date.parse(a.createdAt) / 1000);
  const span = Math.max(...times) - Math.min(...times);
  const size = BUCKETS.find((b) => span / b <= 60) ?? BUCKETS[BUCKETS.length - 1];
  const sums = new Map<number, [number, number]>();
  mine.forEach((a, i) => {
    const at = Math.floor(times[i] / size) * size;
    const sum = sums.get(at) ?? [0, 0];
    if (a.approved) sum[0] += a.approvedAmount;
    else sum[1] += a.requestedAmount;
    sums.set(at, sum);
  });
  // Every bucket from one before the first to one after the last, empty ones as zero: bars keep
  // an even width, and a single bucket is not lost on a wide axis.
  const keys = [...sums.keys()];
  const xs: number[] = [];
  for (let x = Math.min(...keys) - size; x <= Math.max(...keys) + size; x += size) xs.push(x);
  return {
    size,
    totals: xs.reduce((t, x) => [t[0] + (sums.get(x)?.[0] ?? 0), t[1] + (sums.get(x)?.[1] ?? 0)], [0, 0]),
    data: [xs, xs.map((x) => toMajor(sums.get(x)?.[0] ?? 0, currency)), xs.map((x) => toMajor(sums.get(x)?.[1] ?? 0, currency))] as uPlot.AlignedData,
  };
}

function Chart({ auths, currency }: { auths: Authorization[]; currency: string }) {
  const box = useRef<HTMLDivElement>(null);
  const series = bucketize(auths, currency);
  useEffect(() => {
    if (!box.current || !series) return;
    const width = () => Math.max(280, box.current!.clientWidth);
    // Side by side in each bucket: approved left of the bucket's time, declined right of it.
    const bars = (align: -1 | 1) => uPlot.paths.bars!({ size: [0.45, 40], align });
    const plot = new uPlot({
      width: width(), height: 260,
      scales: { x: { time: true } },
      axes: [{}, { label: currency, size: 70 }],
      series: [
        {},
        { label: 'Approved', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.45)', paths: bars(-1), points: { show: false } },
        { label: 'Declined', stroke: '#c62828', fill: 'rgba(198,40,40,0.45)', paths: bars(1), points: { show: false } },
      ],
    }, series.data, box.current);
    const resize = () => plot.setSize({ width: width(), height: 260 });
    addEventListener('resize', resize);
    return () => { removeEventListener('resize', resize); plot.destroy(); };
  }, [auths, currency]);
  if (!series) return null;
  const unit = series.size === 60 ? 'minute' : series.size === 3600 ? 'hour' : 'day';
  return (
    <figure class="chart">
      <div ref={box} data-testid="chart" />
      <figcaption>
        Authorization amounts in {currency} per {unit}: approved {formatMoney(series.totals[0], currency)},
        declined {formatMoney(series.totals[1], currency)} in total.
      </figcaption>
    </figure>
  );
}

export function OverviewPage() {
  const me = useLoad(() => get<{ organization: { id: string; name: string }; user: { email: string } | null }>('/auth/me'));
  const auths = useLoad(recentAuthorizations);
  const currencies = [...new Set((auths.data ?? []).map((a) => a.currency))].sort();
  return (
    <>
      <Notice error={me.error ?? auths.error} />
      {me.data && (
        <p>Organization <strong>{me.data.organization.name}</strong> (<code>{me.data.organization.id}</code>).
          Start with an <a href="#/api-keys">API key</a>, then an <a href="#/accounts">account</a>.</p>
      )}
      <section aria-labelledby="chart-title">
        <h2 id="chart-title">Approved and declined authorizations</h2>
        {auths.data && auths.data.length === 0 && <p>No authorizations yet: try the <a href="#/simulator">simulator</a>.</p>}
        {currencies.map((currency) => <Chart key={currency} auths={auths.data!} currency={currency} />)}
      </section>
    </>
  );
}

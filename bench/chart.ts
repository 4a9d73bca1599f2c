// The latency chart, hand-written SVG: one row per profile, every sample a dot on a
// log-scale ms axis, p50 and p95 marked. A pure function of the numbers it is given.

export interface ChartSeries {
  readonly name: string;
  readonly samplesMs: readonly number[];
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** what the row measures, shown under its name */
  readonly note?: string;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmtMs(v: number): string {
  return v >= 1000 ? `${+(v / 1000).toPrecision(3)} s` : `${+v.toPrecision(3)} ms`;
}

/** 1-2-5 ticks covering [lo, hi] on a log axis. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/** A small deterministic jitter in [-1, 1] so overlapping dots stay visible. */
function jitter(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

export function renderLatencyChart(series: readonly ChartSeries[], title: string, subtitle = ""): string {
  const width = 900;
  const rowH = 110;
  const left = 170;
  const right = 40;
  const top = subtitle ? 70 : 50;
  const legendH = 40;
  const axisH = 60;
  const plotW = width - left - right;
  const plotH = rowH * series.length;
  const height = top + plotH + axisH + legendH;

  const all = series.flatMap((s) => s.samplesMs).filter((v) => v > 0 && Number.isFinite(v));
  const minV = all.length ? Math.min(...all) : 1;
  const maxV = all.length ? Math.max(...all) : 10;
  // Axis ends on 1-2-5 values with some room around the outermost dots.
  const steps = (e: number): number[] => [1, 2, 5].map((m) => m * 10 ** e);
  const candidates = Array.from({ length: 12 }, (_, i) => steps(i - 3)).flat();
  const lo = [...candidates].reverse().find((v) => v <= minV / 1.25) ?? candidates[0];
  const hi = candidates.find((v) => v >= maxV * 1.25) ?? candidates[candidates.length - 1];
  const x = (v: number): number => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;

  const parts: string[] = [];
  parts.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) parts.push(`<text x="${width / 2}" y="48" text-anchor="middle" font-size="11" fill="#555">${esc(subtitle)}</text>`);

  // grid and x axis
  const axisY = top + plotH;
  for (const t of logTicks(lo, hi)) {
    const major = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${axisY}" stroke="${major ? "#ccc" : "#eee"}"/>`);
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${axisY}" x2="${x(t).toFixed(1)}" y2="${axisY + 5}" stroke="#333"/>`);
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${axisY + 18}" text-anchor="middle">${esc(t >= 1000 ? `${t / 1000} s` : `${t} ms`)}</text>`,
    );
  }
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${axisY}" stroke="#333"/>`);
  parts.push(
    `<text x="${left + plotW / 2}" y="${axisY + 40}" text-anchor="middle" font-size="13">propagation latency, write on node01 → served intact (ms, log scale)</text>`,
  );
  parts.push(
    `<text x="18" y="${top + plotH / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${top + plotH / 2})">profile</text>`,
  );

  // rows
  series.forEach((s, r) => {
    const color = COLORS[r % COLORS.length];
    const cy = top + rowH * r + rowH / 2;
    if (r > 0) parts.push(`<line x1="${left}" y1="${top + rowH * r}" x2="${left + plotW}" y2="${top + rowH * r}" stroke="#f0f0f0"/>`);
    parts.push(
      `<text x="${left - 10}" y="${cy - 4}" text-anchor="end" font-size="13" font-weight="bold" fill="${color}">${esc(s.name)}</text>`,
    );
    parts.push(
      `<text x="${left - 10}" y="${cy + 12}" text-anchor="end" font-size="10" fill="#555">${esc(s.note ?? `n = ${s.samplesMs.length}`)}</text>`,
    );
    s.samplesMs.forEach((v, i) => {
      parts.push(
        `<circle cx="${x(v).toFixed(1)}" cy="${(cy + jitter(i + r * 1000) * rowH * 0.24).toFixed(1)}" r="3.5" fill="${color}" fill-opacity="0.55" stroke="${color}" stroke-width="0.8"><title>${esc(`${s.name}: ${fmtMs(v)}`)}</title></circle>`,
      );
    });
    const h = rowH * 0.34;
    parts.push(
      `<line x1="${x(s.p50Ms).toFixed(1)}" y1="${cy - h}" x2="${x(s.p50Ms).toFixed(1)}" y2="${cy + h}" stroke="#000" stroke-width="2.5"/>`,
    );
    parts.push(
      `<line x1="${x(s.p95Ms).toFixed(1)}" y1="${cy - h}" x2="${x(s.p95Ms).toFixed(1)}" y2="${cy + h}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${x(s.p50Ms).toFixed(1)}" y="${cy - h - 3}" text-anchor="middle" font-size="10">p50 ${esc(fmtMs(s.p50Ms))}</text>`,
    );
    parts.push(
      `<text x="${x(s.p95Ms).toFixed(1)}" y="${cy + h + 11}" text-anchor="middle" font-size="10">p95 ${esc(fmtMs(s.p95Ms))}</text>`,
    );
  });

  // legend
  const ly = axisY + axisH + 8;
  let lx = left;
  parts.push(`<text x="${lx}" y="${ly + 14}" font-weight="bold">legend:</text>`);
  lx += 60;
  series.forEach((s, r) => {
    const color = COLORS[r % COLORS.length];
    parts.push(`<circle cx="${lx + 5}" cy="${ly + 10}" r="4" fill="${color}" fill-opacity="0.55" stroke="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly + 14}">${esc(s.name)}</text>`);
    lx += 30 + 8 * s.name.length;
  });
  parts.push(`<text x="${lx}" y="${ly + 14}" fill="#555">(each dot = one sample)</text>`);
  lx += 160;
  parts.push(`<line x1="${lx}" y1="${ly + 3}" x2="${lx}" y2="${ly + 17}" stroke="#000" stroke-width="2.5"/>`);
  parts.push(`<text x="${lx + 6}" y="${ly + 14}">p50</text>`);
  lx += 44;
  parts.push(`<line x1="${lx}" y1="${ly + 3}" x2="${lx}" y2="${ly + 17}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${lx + 6}" y="${ly + 14}">p95</text>`);

  parts.push(`</svg>`);
  return `${parts.join("\n")}\n`;
}

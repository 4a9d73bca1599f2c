// The scale chart, hand-written SVG: cost against node count and against tree size, each
// the program next to its floor measured on the same fixture. A pure function of the results.
import { ScaleResults } from "./scaleReport";

interface Bar {
  readonly series: string;
  readonly value: number;
}
interface Group {
  readonly label: string;
  readonly bars: readonly Bar[];
}
interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly groups: readonly Group[];
}

const PALETTE = ["#1f77b4", "#9ecae1", "#d62728", "#f4a3a3", "#2ca02c", "#a6dba0"];
/**
 * Colours by a series' place in its own panel (each panel has its own legend): handed out
 * across panels by first appearance, a series added to one panel recoloured every later one
 * and wrapped the palette onto the program's own blue.
 */
function palette(p: Panel): (series: string) => string {
  const order = [...new Set(p.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  return (series) => PALETTE[order.indexOf(series) % PALETTE.length];
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
const fmt = (v: number): string => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

const W = 860;
const PANEL_H = 230;

function panel(p: Panel, top: number): string[] {
  const out: string[] = [];
  const left = 60;
  const plotW = W - left - 20;
  const plotTop = top + 30;
  const plotH = PANEL_H - 75;
  const max = Math.max(0.001, ...p.groups.flatMap((g) => g.bars.map((b) => b.value)));
  const y = (v: number) => plotTop + plotH - (v / max) * plotH;
  const color = palette(p);
  out.push(`<text x="${left}" y="${top + 16}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${fmt(v)} ${esc(p.unit)}</text>`);
  }
  const groupW = plotW / Math.max(1, p.groups.length);
  p.groups.forEach((g, gi) => {
    const barW = Math.min(40, (groupW - 20) / Math.max(1, g.bars.length));
    const x0 = left + gi * groupW + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const x = x0 + bi * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(plotTop + plotH - y(b.value)).toFixed(1)}" fill="${color(b.series)}"><title>${esc(`${g.label}, ${b.series}: ${fmt(b.value)} ${p.unit}`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(b.value) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${fmt(b.value)}</text>`,
      );
    });
    out.push(
      `<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${plotTop + plotH + 14}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  const series = [...new Set(p.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  let lx = left;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="${plotTop + plotH + 26}" width="10" height="10" fill="${color(s)}"/>`);
    out.push(`<text x="${lx + 14}" y="${plotTop + plotH + 35}" font-size="11">${esc(s)}</text>`);
    lx += 24 + s.length * 6.2;
  }
  return out;
}

export function renderScaleChart(s: ScaleResults, subtitle: string): string | undefined {
  const panels: Panel[] = [];
  const counts = s.nodeCounts ?? [];
  if (counts.length) {
    panels.push({
      title: `Node count: burst of ${counts[0].burst.files} × 50 kB on node01 until every host has it`,
      unit: "s",
      groups: counts.map((c) => ({
        label: `${c.nodes} nodes`,
        bars: [
          { series: "mesh (defaults)", value: c.burst.seconds },
          { series: "relay-floor to the same nodes", value: c.relayFloorBurst.seconds },
          ...(c.burstRenamed ? [{ series: "mesh, renamed in", value: c.burstRenamed.seconds }] : []),
        ],
      })),
    });
    panels.push({
      title: "Node count: exchange CPU per file per receiving node, and propagation p50",
      unit: "",
      groups: counts.map((c) => ({
        label: `${c.nodes} nodes`,
        bars: [
          { series: "exchange CPU ms per file per node", value: c.burst.exchangeCpuMsPerFilePerNode },
          { series: "p50 s (incl. 1 s quiet period)", value: c.propagation.p50Ms / 1000 },
        ],
      })),
    });
  }
  const sizes = s.treeSizes?.sizes ?? [];
  if (sizes.length) {
    panels.push({
      title: "Tree size: a node restarting on a matching tree, and a new node seeded",
      unit: "s",
      groups: sizes.map((z) => ({
        label: `${z.files.toLocaleString("en")} files`,
        bars: [
          { series: "restart until ready", value: z.restartSeconds },
          { series: "list-only rsync", value: z.listFloorSeconds },
          { series: "seed (seedScript)", value: z.seedSeconds },
          { series: "direct rsync copy", value: z.copyFloorSeconds },
        ],
      })),
    });
  }
  if (!panels.length) return undefined;
  const h = 50 + panels.length * PANEL_H;
  const body = panels.flatMap((p, i) => panel(p, 40 + i * PANEL_H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="22" font-size="15" font-weight="bold">lsyncd-cluster: cost against node count and tree size</text>`,
    `<text x="20" y="38" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

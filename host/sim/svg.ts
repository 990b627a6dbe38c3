/**
 * The simulator's plot, like seed 001's: cache entries over time, with gc_thresh, the aggressive-GC
 * line (gc_elasticity × rhash_entries) and max_size drawn across. Plain SVG, no dependencies.
 */
import type { SimRow } from "./simulate.ts";

export interface PlotLines {
  gcThresh: number;
  aggressive: number;
  maxSize: number;
}

export function plotSvg(rows: SimRow[], lines: PlotLines, title: string): string {
  const W = 900, H = 420, L = 90, R = 20, T = 40, B = 50;
  const tMax = rows.length ? rows[rows.length - 1]!.t_s : 1;
  let peak = lines.aggressive;
  for (const r of rows) peak = Math.max(peak, r.allocated);
  const yTop = peak * 1.15 || 1; // max_size is drawn only when the curve comes near it
  const x = (t: number) => L + ((W - L - R) * t) / tMax;
  const y = (v: number) => T + (H - T - B) * (1 - v / yTop);
  const fmt = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : String(v));
  const pts = rows.map((r) => `${x(r.t_s).toFixed(1)},${y(r.allocated).toFixed(1)}`).join(" ");
  const hline = (v: number, color: string, label: string) =>
    v <= yTop
      ? `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${color}" stroke-dasharray="6 4"/>` +
        `<text x="${W - R - 4}" y="${(y(v) - 5).toFixed(1)}" text-anchor="end" font-size="12" fill="${color}">${label} ${fmt(v)}</text>`
      : "";
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yTop * i) / 5;
    ticks.push(`<text x="${L - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="12">${fmt(Math.round(v))}</text>`);
    const t = (tMax * i) / 5;
    ticks.push(`<text x="${x(t).toFixed(1)}" y="${H - B + 18}" text-anchor="middle" font-size="12">${Math.round(t)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${title.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>
${ticks.join("\n")}
<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle" font-size="13">time (s)</text>
<text x="18" y="${(T + H - B) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${(T + H - B) / 2})">cache entries (allocated)</text>
${hline(lines.gcThresh, "#2a7", "gc_thresh")}
${hline(lines.aggressive, "#d60", "gc_elasticity × rhash_entries")}
${hline(lines.maxSize, "#c22", "max_size")}
<polyline fill="none" stroke="#1f4e9c" stroke-width="1.5" points="${pts}"/>
</svg>
`;
}

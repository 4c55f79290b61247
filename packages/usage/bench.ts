/**
 * Billing page parse benchmark. `benchUsage()` is called by the root
 * `bun run bench`; it is not a test and asserts nothing.
 *
 * The generated page mimics a large dashboard: markup, analytics and i18n
 * scripts, many unrelated hydration queries, with the billing entry settled
 * at the very end (as streamed pages do).
 */
import { parseBillingHtml } from "./src/zen.ts"

const WS = "wrk_01K6XGM22R6FM8JVABE9XDQXGH"
const TARGET_BYTES = 5 * 1024 * 1024
const RUNS_SMALL = 7
const RUNS_LARGE = 7

export type PageShape = "realistic" | "dense"

/** Deterministic filler so runs are comparable. */
function chunk(i: number, slot: number, shape: PageShape): { text: string; slots: number } {
  // Dense pages are half hydration data (worst case); realistic ones are mostly markup and code.
  const modelCount = shape === "dense" ? 8 : 2
  const models = Array.from(
    { length: modelCount },
    (_, j) =>
      `$R[${slot + j}]={id:"model-${i}-${j}",name:"Model \\"${j}\\" caf\\u00e9",cost:{input:${(j * 0.37).toFixed(2)},output:1.5e-6},free:${j % 2 ? "!0" : "!1"},tags:[,"a","b"],created:new Date("2026-0${(j % 9) + 1}-01T00:00:00.000Z")}`,
  )
  const hydration = `<script>_$HY.r["models.list[\\"${i}\\"]"]=$R[${slot + modelCount}]=$R[2]($R[${slot + modelCount + 1}]={p:0,s:0,f:0});$R[16]($R[${slot + modelCount + 1}],[${models.join(",")}]);window.__t${i}=performance.now();</script>\n`
  const markup = `<div class="row" data-hk="0-${i}"><span class="label">Usage for key ${i}</span><span class="value">$${(i % 97).toFixed(2)}</span><a href="/workspace/${WS}/keys/${i}">details</a></div>\n`.repeat(6)
  const analytics = `<script>window.dataLayer=window.dataLayer||[];dataLayer.push({event:"view_${i}",path:"/workspace;billing",meta:{a:[1,2,3],b:"x\\"y;z"}});(function(){var s="</"+"div>";return s})();</script>\n`
  const i18n = `<script>var dict_${i}={"billing.title":"Billing","billing.note":"Balances update every few minutes; reload may take a while.","n":[${i},${i + 1}]};</script>\n`
  const code =
    shape === "dense"
      ? ""
      : `<script type="module">import{a as e${i},b as t}from"/_build/assets/chunk-${i}.js";const n${i}=(o,r)=>{if(!o)return t("[data-x='"+r+"']");for(let i=0;i<o.length;i++){o[i]&&e${i}(o[i],{k:"a;b",v:\`t\${i}\`})}return null};window.__m${i}=n${i};</script>\n` +
        `<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2L2 7l10 5 10-5-10-5zm0 13l-10-5v6l10 5 10-5v-6l-10 5z"/></svg>\n`.repeat(2)
  return { text: hydration + markup + analytics + i18n + code, slots: modelCount + 2 }
}

export function generatePage(targetBytes: number, shape: PageShape = "realistic"): string {
  const parts = [
    `<!DOCTYPE html><html><head><title>Billing</title><script>(self.$R=self.$R||{})["server-fn:0"]=[];_$HY.r["billing.get[\\"${WS}\\"]"]=$R[20]=$R[2]($R[21]={p:0,s:0,f:0});</script></head><body>\n`,
  ]
  let size = parts[0]?.length ?? 0
  let slot = 100
  for (let i = 0; size < targetBytes; i++) {
    const c = chunk(i, slot, shape)
    slot += c.slots
    parts.push(c.text)
    size += c.text.length
  }
  parts.push(
    `<script>$R[16]($R[21],$R[22]={balance:2200000000,monthlyLimit:20,monthlyUsage:12500000,reload:!0,reloadAmount:20,reloadTrigger:5,subscription:null,lite:null,reloadError:void 0});</script></body></html>`,
  )
  return parts.join("")
}

function timeParse(html: string): number {
  // Collect the previous run's garbage first, so one run's heap does not bill the next.
  Bun.gc(true)
  const start = performance.now()
  const b = parseBillingHtml(html, WS)
  const ms = performance.now() - start
  if (b.balanceUSD !== 22) throw new Error("bench page parsed wrongly")
  return ms
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

/** Median 5 MB parse time and the 10x scaling ratio for one page shape. */
function measure(shape: PageShape): { ms: number; ratio: number } {
  const small = generatePage(TARGET_BYTES, shape)
  const large = generatePage(TARGET_BYTES * 10, shape)
  // Warm the JIT so the first figure is not compile time.
  timeParse(small)
  timeParse(small)
  const smallRuns: number[] = []
  const ratios: number[] = []
  // Interleave sizes: on a shared machine both then see the same background load,
  // and the ratio is taken per round before the median.
  for (let round = 0; round < RUNS_LARGE; round++) {
    const s = median(Array.from({ length: 5 }, () => timeParse(small)))
    smallRuns.push(s)
    const l = timeParse(large)
    // Normalise by actual sizes, which differ slightly from exactly 10x.
    ratios.push((l / s) * (10 / (large.length / small.length)))
  }
  for (let i = smallRuns.length; i < RUNS_SMALL; i++) smallRuns.push(timeParse(small))
  return { ms: median(smallRuns), ratio: median(ratios) }
}

export async function benchUsage(): Promise<Record<string, number>> {
  const realistic = measure("realistic")
  const dense = measure("dense")
  return {
    billing_parse_5mb_ms: Number(realistic.ms.toFixed(3)),
    billing_parse_scaling_ratio: Number(realistic.ratio.toFixed(3)),
    // Worst case: half the page is hydration data that must all be built (GC-bound).
    billing_parse_dense_5mb_ms: Number(dense.ms.toFixed(3)),
    billing_parse_dense_scaling_ratio: Number(dense.ratio.toFixed(3)),
  }
}

if (import.meta.main) console.log(await benchUsage())

/**
 * Human-readable error texts. The gateway localises them, so clients must
 * classify by `error.type` and status; French and Chinese variants exist to
 * let tests prove a client does not depend on the English wording.
 */

export type Language = "en" | "fr" | "zh";

type Template = (p: Record<string, string>) => string;

const MESSAGES = {
  // The gateway sends the free daily limit (FreeUsageLimitError) with this same text: only the
  // error type tells the two apart (gateway-drift-2026.md, section 3, row 6).
  rateLimit: {
    en: () => "Rate limit exceeded. Please try again later.",
    fr: () => "Limite de requêtes dépassée. Réessayez plus tard.",
    zh: () => "请求过于频繁，请稍后再试。",
  },
  goUsage: {
    en: (p) => `${p.window} usage limit reached. Resets in ${p.resetsIn}`,
    fr: (p) => `Limite d'utilisation (${p.window}) atteinte. Réinitialisation dans ${p.resetsIn}`,
    zh: (p) => `已达到${p.window}使用额度上限。将在 ${p.resetsIn} 后重置`,
  },
  blackUsage: {
    en: (p) => `Subscription ${p.window} usage limit reached. Resets in ${p.resetsIn}`,
    fr: (p) => `Limite d'utilisation de l'abonnement (${p.window}) atteinte. Réinitialisation dans ${p.resetsIn}`,
    zh: (p) => `订阅${p.window}使用额度已用完。将在 ${p.resetsIn} 后重置`,
  },
} satisfies Record<string, Record<Language, Template>>;

export type MessageID = keyof typeof MESSAGES;

export function localise(id: MessageID, language: Language, params: Record<string, string> = {}): string {
  const templates: Record<Language, Template> = MESSAGES[id];
  return templates[language](params);
}

/** First supported language in the `accept-language` preference order; English otherwise. */
export function pickLanguage(acceptLanguage: string | null): Language {
  if (!acceptLanguage) return "en";
  const ranked = acceptLanguage
    .split(",")
    .map((entry, index) => {
      const [tag = "", ...params] = entry.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { primary: tag.trim().toLowerCase().split("-")[0] ?? "", q: q === undefined ? 1 : Number(q), index };
    })
    .filter((e) => e.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { primary } of ranked) {
    if (primary === "en" || primary === "fr" || primary === "zh") return primary;
  }
  return "en";
}

/** "3hr 12min", "19hr", "45min": the compact form seen in real gateway messages. */
export function formatDuration(seconds: number): string {
  const totalMinutes = Math.ceil(seconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  if (hours === 0) return `${minutes}min`;
  return minutes === 0 ? `${hours}hr` : `${hours}hr ${minutes}min`;
}

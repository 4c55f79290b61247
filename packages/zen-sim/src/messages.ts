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
  // window: "5-hour", "Weekly" or "Monthly"; goPage: the workspace's Go page, where "use balance" is turned on.
  goUsage: {
    en: (p) =>
      `${p.window} usage limit reached. Resets in ${p.resetsIn}. To continue using this model now, enable usage from your available balance: ${p.goPage}`,
    fr: (p) =>
      `Limite d'utilisation (${p.window}) atteinte. Réinitialisation dans ${p.resetsIn}. Pour continuer maintenant, activez l'utilisation de votre solde : ${p.goPage}`,
    zh: (p) => `已达到${p.window}使用额度上限。将在 ${p.resetsIn} 后重置。如需立即继续使用此模型，请启用余额支付：${p.goPage}`,
  },
  blackUsage: {
    en: (p) => `Subscription quota exceeded. Retry in ${p.resetsIn}.`,
    fr: (p) => `Quota de l'abonnement dépassé. Réessayez dans ${p.resetsIn}.`,
    zh: (p) => `订阅额度已用完。请在 ${p.resetsIn} 后重试。`,
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

/**
 * The gateway's retry time: whole days once there is at least one ("2 days", "1 day"), else
 * "3hr 12min" (minutes rounded up, "4hr 0min" included), else "45min".
 */
export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  if (days >= 1) return `${days} day${days > 1 ? "s" : ""}`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.ceil((seconds % 3600) / 60);
  return hours >= 1 ? `${hours}hr ${minutes}min` : `${minutes}min`;
}

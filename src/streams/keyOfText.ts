/**
 * A store key from its changelog key text (its JSON, as the streams runtime writes it). A string
 * key without escapes is its text without the quotes: no parse, which at boot is most of the cost
 * per key of restoring (or viewing) a 100,000-key store.
 */
export const keyOfText = (keyText: string): unknown =>
  keyText.startsWith('"') ? stringOfText(keyText) : JSON.parse(keyText)

/** The string whose JSON text is `text` (which starts with a quote). */
export const stringOfText = (text: string): string =>
  text.indexOf('\\') < 0 && text.length >= 2 && text.endsWith('"')
    ? text.slice(1, -1)
    : (JSON.parse(text) as string)

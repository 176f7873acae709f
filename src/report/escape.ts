/** Text for HTML (elements and quoted attributes): document names, rule names and errors are never markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * JSON inside `<script type="application/json">`: `<` is escaped so no
 * string in it (a document holding `</script>`) can end the element.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

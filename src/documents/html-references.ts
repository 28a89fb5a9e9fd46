/**
 * Cleans an HTML document of everything a renderer would fetch: elements that load other
 * resources (stylesheets, scripts, frames, objects, base and refresh), attributes that name a
 * resource by URL, and CSS `url(...)` and `@import`. `data:` URLs stay (they are in the
 * document); links a reader clicks (`<a href>`) stay, except `file:` ones.
 */
const FETCHING_ELEMENTS = /<(script|iframe|frame|frameset|object|embed|applet|noscript|template|audio|video|portal)\b[\s\S]*?(?:<\/\1\s*>|$)/gi;
const VOID_FETCHING = /<\/?(link|base|meta|iframe|frame|embed|source|track|object|applet)\b[^>]*>/gi;
const TAG = /<([a-z][a-z0-9:-]*)\b([^>]*)>/gi;
const URL_ATTRIBUTES =
  /\s(src|srcset|background|poster|data|lowsrc|dynsrc|longdesc|usemap|codebase|cite|profile|manifest|action|formaction|xlink:href|imagesrcset|ping)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;
const HREF = /\shref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;
const CSS_URL = /url\s*\(\s*(["']?)([^)]*?)\1\s*\)/gi;
const CSS_IMPORT = /@import\b[^;]*;?/gi;

function unquote(value: string): string {
  return value.replace(/^["']|["']$/g, '').trim();
}

const isData = (url: string) => /^data:/i.test(url.replace(/[\s\u0000-\u001f]/g, ''));

export function removeHtmlReferences(html: string): string {
  let out = html.replace(FETCHING_ELEMENTS, '').replace(VOID_FETCHING, '');
  out = out.replace(URL_ATTRIBUTES, (whole, _name: string, value: string) => (isData(unquote(value)) ? whole : ''));
  // Only a reader's click follows <a href>; on any other element (SVG <image>, <use>) href loads.
  out = out.replace(TAG, (_whole, name: string, attributes: string) => {
    const kept = attributes.replace(HREF, (attribute, value: string) =>
      name.toLowerCase() === 'a' && /^\s*(https?:|mailto:|#)/i.test(unquote(value)) ? attribute : '',
    );
    return `<${name}${kept}>`;
  });
  out = out.replace(CSS_IMPORT, '');
  out = out.replace(CSS_URL, (whole, _quote: string, url: string) => (isData(url.trim()) ? whole : 'none'));
  // A character reference can spell a URL scheme so that none of the above sees it.
  out = out.replace(/(&#0*(58|x0*3a);)/gi, ' ');
  return out;
}

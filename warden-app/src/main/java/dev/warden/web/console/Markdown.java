package dev.warden.web.console;

/**
 * Renders the small Markdown subset Warden writes in {@code summary.md} (headings, tables, lists,
 * inline code, paragraphs) as escaped HTML. Anything else is shown as text.
 */
final class Markdown {
    private Markdown() {}

    static String render(String md) {
        StringBuilder out = new StringBuilder();
        boolean inList = false;
        boolean inTable = false;
        boolean inCode = false;
        for (String line : md.split("\n", -1)) {
            if (line.startsWith("```")) {
                out.append(inCode ? "</pre>" : "<pre>");
                inCode = !inCode;
                continue;
            }
            if (inCode) {
                out.append(Html.e(line)).append('\n');
                continue;
            }
            if (inList && !line.startsWith("- ")) {
                out.append("</ul>");
                inList = false;
            }
            if (inTable && !line.startsWith("|")) {
                out.append("</table>");
                inTable = false;
            }
            if (line.startsWith("#")) {
                int level = Math.min(6, (int) line.chars().takeWhile(c -> c == '#').count() + 1);
                out.append("<h").append(level).append('>').append(inline(line.replaceFirst("^#+\\s*", ""))).append("</h").append(level).append('>');
            } else if (line.startsWith("- ")) {
                if (!inList) {
                    out.append("<ul>");
                    inList = true;
                }
                out.append("<li>").append(inline(line.substring(2))).append("</li>");
            } else if (line.startsWith("|")) {
                if (line.matches("\\|[-:| ]+\\|?")) {
                    continue;
                }
                if (!inTable) {
                    out.append("<table>");
                    inTable = true;
                }
                out.append("<tr>");
                String[] cells = line.replaceAll("^\\||\\|$", "").split("\\|", -1);
                for (String c : cells) {
                    out.append("<td>").append(inline(c.strip())).append("</td>");
                }
                out.append("</tr>");
            } else if (!line.isBlank()) {
                out.append("<p>").append(inline(line)).append("</p>");
            }
        }
        if (inList) {
            out.append("</ul>");
        }
        if (inTable) {
            out.append("</table>");
        }
        if (inCode) {
            out.append("</pre>");
        }
        return out.toString();
    }

    /** Escapes, then turns `code` and **bold** spans into elements. */
    private static String inline(String text) {
        String e = Html.e(text);
        e = e.replaceAll("`([^`]+)`", "<code>$1</code>");
        return e.replaceAll("\\*\\*([^*]+)\\*\\*", "<strong>$1</strong>");
    }
}

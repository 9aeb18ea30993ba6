package dev.warden.web.console;

import java.util.List;

/** HTML escaping and the page frame. Every value from data goes through {@link #e}. */
final class Html {
    private Html() {}

    static String e(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static final List<String[]> NAV = List.of(new String[] {"/", "Overview"}, new String[] {"/jobs", "Jobs"},
            new String[] {"/approvals", "Approvals"}, new String[] {"/schedules", "Schedules"},
            new String[] {"/providers", "Providers"}, new String[] {"/ledger", "Ledger"}, new String[] {"/projects", "Projects"});

    /**
     * A page: navigation, and {@code body} inside {@code #live}, which refreshes itself (htmx,
     * triggered by the server-sent events of {@code /console/events}) from {@code selfUrl}.
     */
    static String page(String title, String active, String csrf, String selfUrl, String body) {
        StringBuilder nav = new StringBuilder();
        for (String[] n : NAV) {
            nav.append("<a href=\"").append(n[0]).append('"').append(n[0].equals(active) ? " class=\"active\" aria-current=\"page\"" : "")
                    .append('>').append(n[1]).append("</a>");
        }
        String headers = csrf == null ? "" : " hx-headers='{\"X-CSRF-Token\": \"" + e(csrf) + "\"}'";
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}'>
                <title>%s · Warden</title>
                <link rel="stylesheet" href="/assets/console.css">
                <script src="/webjars/htmx.org/2.0.4/dist/htmx.min.js" defer></script>
                <script src="/assets/console.js" defer></script>
                </head>
                <body%s>
                <header><strong>Warden</strong><nav>%s</nav>%s</header>
                <main>
                <div id="live" hx-get="%s" hx-trigger="warden-update from:body throttle:700ms" hx-select="#live" hx-swap="outerHTML">
                %s
                </div>
                </main></body></html>
                """.formatted(e(title), headers, nav,
                csrf == null ? "" : "<form class=\"logout\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\""
                        + e(csrf) + "\"><button type=\"submit\">Log out</button></form>",
                e(selfUrl), body);
    }

    static String badge(String state) {
        return "<span class=\"badge s-" + e(state.toLowerCase(java.util.Locale.ROOT)) + "\">" + e(state) + "</span>";
    }
}

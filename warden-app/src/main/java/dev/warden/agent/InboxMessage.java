package dev.warden.agent;

/** One message a triage reads: its id (file name or the caller's id), sender, subject and body. */
public record InboxMessage(String id, String from, String subject, String body) {
    public InboxMessage {
        from = from == null ? "" : from;
        subject = subject == null ? "" : subject;
        body = body == null ? "" : body;
    }

    /**
     * Parses a mail-like text: leading {@code Header: value} lines up to the first blank line
     * ({@code From}, {@code Subject}; others ignored), then the body. Without headers the whole
     * text is the body and its first line the subject.
     */
    public static InboxMessage parseText(String id, String text) {
        String from = "";
        String subject = null;
        String[] lines = text.replace("\r\n", "\n").split("\n", -1);
        int i = 0;
        boolean headers = lines.length > 0 && lines[0].matches("[A-Za-z][A-Za-z0-9-]{0,40}:.*");
        if (headers) {
            for (; i < lines.length && !lines[i].isBlank(); i++) {
                int c = lines[i].indexOf(':');
                if (c < 0) {
                    break;
                }
                String name = lines[i].substring(0, c).strip().toLowerCase(java.util.Locale.ROOT);
                String value = lines[i].substring(c + 1).strip();
                if (name.equals("from")) {
                    from = value;
                } else if (name.equals("subject")) {
                    subject = value;
                }
            }
        }
        String body = String.join("\n", java.util.Arrays.asList(lines).subList(Math.min(i + (headers ? 1 : 0), lines.length), lines.length)).strip();
        if (subject == null) {
            String first = body.lines().findFirst().orElse("").strip();
            subject = first.length() > 120 ? first.substring(0, 120) : first;
        }
        return new InboxMessage(id, from, subject, body);
    }
}

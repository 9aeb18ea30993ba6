package dev.warden.app;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.Envelope;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Writes log events in the ledger's envelope shape ({@code warden.event.v1}, without hashes),
 * through the same redaction, so a secret cannot reach a log line either.
 */
public final class EnvelopeLogEncoder extends EncoderBase<ILoggingEvent> {
    private static volatile Redactor redactor = new Redactor(new SecretScrubber());

    /** Makes every log line scrub the secrets this process has loaded. */
    public static void useSecrets(SecretScrubber secrets) {
        redactor = new Redactor(secrets);
    }

    /** A started encoder bound to {@code ctx}. */
    static EnvelopeLogEncoder started(ch.qos.logback.core.Context ctx) {
        EnvelopeLogEncoder enc = new EnvelopeLogEncoder();
        enc.setContext(ctx);
        enc.start();
        return enc;
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent e) {
        ObjectNode n = Json.object();
        n.put("schema", Envelope.SCHEMA);
        n.put("ts", Envelope.formatTs(Instant.ofEpochMilli(e.getTimeStamp())));
        n.put("event", "log");
        n.put("severity", switch (e.getLevel().toInt()) {
            case ch.qos.logback.classic.Level.ERROR_INT -> "error";
            case ch.qos.logback.classic.Level.WARN_INT -> "warn";
            default -> "info";
        });
        String logger = e.getLoggerName();
        n.put("component", logger.substring(logger.lastIndexOf('.') + 1));
        n.putNull("corr_id");
        n.put("actor", e.getThreadName());
        ObjectNode d = n.putObject("details");
        d.put("message", e.getFormattedMessage());
        IThrowableProxy t = e.getThrowableProxy();
        if (t != null) {
            d.put("exception", t.getClassName() + ": " + t.getMessage());
        }
        return (Json.write(redactor.redact(n)) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }
}

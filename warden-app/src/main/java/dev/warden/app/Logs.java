package dev.warden.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** Log set-up for long-running commands: info and above to {@code <data_dir>/logs/warden.log}. */
public final class Logs {
    private Logs() {}

    public static Path toFile(Path dataDir) {
        Path dir = dataDir.resolve("logs");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Path file = dir.resolve("warden.log");
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        EnvelopeLogEncoder enc = EnvelopeLogEncoder.started(ctx);
        FileAppender<ILoggingEvent> app = new FileAppender<>();
        app.setContext(ctx);
        app.setName("FILE");
        app.setFile(file.toString());
        app.setAppend(true);
        app.setEncoder(enc);
        app.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(app);
        root.setLevel(Level.INFO);
        // info goes to the file; the console keeps warnings only
        ch.qos.logback.core.Appender<ILoggingEvent> stderr = root.getAppender("STDERR");
        if (stderr != null) {
            ch.qos.logback.classic.filter.ThresholdFilter f = new ch.qos.logback.classic.filter.ThresholdFilter();
            f.setLevel("WARN");
            f.start();
            stderr.addFilter(f);
        }
        return file;
    }
}

package dev.warden.exec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Runs one process: environment replaced (never inherited), stdin empty, stdout and stderr read
 * concurrently and captured up to a cap (the rest counted and dropped), the whole process tree
 * killed on timeout or when {@code stopRequested} turns true.
 */
public final class ProcessRunner {
    private static final long POLL_MS = 50;

    private ProcessRunner() {}

    /** Thrown when the run was stopped from outside (cancellation, kill switch); the tree is already dead. */
    public static final class Stopped extends RuntimeException {
        Stopped() {
            super("process stopped");
        }
    }

    public static ExecResult run(List<String> command, Path cwd, Map<String, String> env, long timeoutMs, int maxOutput,
                                 String isolation, Path executable, BooleanSupplier stopRequested) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + command.get(0) + ": " + e.getMessage(), e);
        }
        Capture out = new Capture(p.getInputStream(), maxOutput);
        Capture err = new Capture(p.getErrorStream(), maxOutput);
        Thread to = Thread.ofVirtual().start(out);
        Thread te = Thread.ofVirtual().start(err);
        boolean timedOut = false;
        boolean stopped = false;
        try {
            while (!p.waitFor(POLL_MS, TimeUnit.MILLISECONDS)) {
                if (stopRequested.getAsBoolean()) {
                    stopped = true;
                    break;
                }
                if ((System.nanoTime() - t0) / 1_000_000 >= timeoutMs) {
                    timedOut = true;
                    break;
                }
            }
        } catch (InterruptedException e) {
            stopped = true;
        }
        if (timedOut || stopped) {
            killTree(p);
        }
        joinQuietly(to);
        joinQuietly(te);
        if (stopped) {
            throw new Stopped();
        }
        int code = p.exitValue();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        return new ExecResult(code, ms, out.text(), err.text(), out.total.get(), err.total.get(),
                out.truncated() || err.truncated(), timedOut, isolation, executable.toString());
    }

    /** Kills the process and every descendant it still has (SIGKILL). */
    static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // anything forked between the snapshot and the kill
        p.descendants().forEach(ProcessHandle::destroyForcibly);
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Capture implements Runnable {
        private final InputStream in;
        private final int cap;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        final AtomicLong total = new AtomicLong();

        Capture(InputStream in, int cap) {
            this.in = in;
            this.cap = cap;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    long before = total.getAndAdd(n);
                    if (before < cap) {
                        kept.write(buf, 0, (int) Math.min(n, cap - before));
                    }
                }
            } catch (IOException e) {
                // the process was killed or closed its end: what was read is kept
            }
        }

        boolean truncated() {
            return total.get() > cap;
        }

        String text() {
            String s = kept.toString(StandardCharsets.UTF_8);
            long dropped = total.get() - kept.size();
            return dropped > 0 ? s + "\n[warden: output truncated, " + dropped + " more bytes not kept]" : s;
        }
    }
}

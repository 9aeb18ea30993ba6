package dev.warden.cli;

import java.util.concurrent.CountDownLatch;

/** Blocks a long-running command until SIGTERM/SIGINT, running {@code onStop} before the JVM exits. */
final class Signals {
    private Signals() {}

    static void awaitTermination(Runnable onStop) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                onStop.run();
            } finally {
                stopped.countDown();
            }
        }, "warden-shutdown"));
        stopped.await();
    }
}

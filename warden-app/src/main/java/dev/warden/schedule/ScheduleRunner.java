package dev.warden.schedule;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ticks the schedules every interval on a daemon thread; every node may run one. */
public final class ScheduleRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduleRunner.class);

    private final Thread thread;
    private volatile boolean stopped;

    public ScheduleRunner(Schedules schedules, String actor, Duration interval, Runnable onFire) {
        this.thread = Thread.ofPlatform().daemon().name("warden-scheduler").start(() -> {
            while (!stopped) {
                try {
                    if (!schedules.tick(actor).isEmpty()) {
                        onFire.run();
                    }
                } catch (RuntimeException e) {
                    LOG.warn("scheduler tick failed: {}", e.getMessage());
                }
                try {
                    Thread.sleep(interval.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}

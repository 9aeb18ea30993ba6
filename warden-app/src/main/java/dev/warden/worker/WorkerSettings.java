package dev.warden.worker;

import java.time.Duration;

/**
 * Worker tuning. {@code tick} paces heartbeats, cancellation and kill-switch checks (a running job
 * is stopped within a tick plus {@code stopGrace}); {@code pollInterval} is the idle claim interval;
 * {@code claimBatch} is {@code worker.claim_batch} if set (the pool applies {@link WorkerPool#claimBatch}).
 */
public record WorkerSettings(int concurrency, java.util.OptionalInt claimBatch, Duration pollInterval, Duration tick, Duration stopGrace,
                             Duration reapInterval) {
}

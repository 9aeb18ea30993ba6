package dev.warden.queue;

import java.util.Optional;

class SqliteQueueTest extends QueueContract {
    @Override
    Optional<String> storeUrl() {
        return Optional.empty();
    }
}

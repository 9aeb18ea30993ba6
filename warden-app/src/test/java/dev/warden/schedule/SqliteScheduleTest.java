package dev.warden.schedule;

import java.util.Optional;

class SqliteScheduleTest extends ScheduleContract {
    @Override
    Optional<String> storeUrl() {
        return Optional.empty();
    }
}

package dev.warden.schedule;

import dev.warden.testing.TestPostgres;
import java.util.Optional;

class PostgresScheduleTest extends ScheduleContract {
    private final TestPostgres.Database db = new TestPostgres.Database();

    @Override
    Optional<String> storeUrl() {
        return Optional.of(db.url());
    }

    @Override
    void release() {
        db.drop();
    }
}

package dev.warden.schedule;

import dev.warden.testing.TestPostgres;
import java.util.Optional;

class PostgresScheduleTest extends ScheduleContract {
    private String url;

    @Override
    Optional<String> storeUrl() {
        if (url == null) {
            url = TestPostgres.freshDatabase();
        }
        return Optional.of(url);
    }

    @Override
    void release() {
        TestPostgres.drop(url);
    }
}

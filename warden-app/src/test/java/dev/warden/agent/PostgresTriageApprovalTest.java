package dev.warden.agent;

import dev.warden.testing.TestPostgres;
import java.util.Optional;

/** The same triage and approvals flow on PostgreSQL. */
class PostgresTriageApprovalTest extends TriageApprovalTest {
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

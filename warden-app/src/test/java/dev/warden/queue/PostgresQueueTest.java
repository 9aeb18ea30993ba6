package dev.warden.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PostgresQueueTest extends QueueContract {
    private final TestPostgres.Database db = new TestPostgres.Database();

    @Override
    Optional<String> storeUrl() {
        return Optional.of(db.url());
    }

    @Override
    void release() {
        db.drop();
    }

    /** V11: the keys of the claim path compare byte by byte whatever the database's collation. */
    @Test
    void jobIdsStatesAndChainNamesUseTheCCollation() throws Exception {
        List<String> found = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url());
             ResultSet rs = c.createStatement().executeQuery("SELECT table_name || '.' || column_name || ' ' || collation_name "
                     + "FROM information_schema.columns WHERE (table_name, column_name) IN "
                     + "(('jobs', 'id'), ('jobs', 'state'), ('ledger_heads', 'chain'), ('ledger_blocks', 'chain')) ORDER BY 1")) {
            while (rs.next()) {
                found.add(rs.getString(1));
            }
        }
        assertThat(found).containsExactly("jobs.id C", "jobs.state C", "ledger_blocks.chain C", "ledger_heads.chain C");
    }
}

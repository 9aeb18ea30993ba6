package dev.warden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floor's minimal ledger keeps SPEC section 3's chain for real, so that the floor it prices is
 * not cheaper than the contract: each stored entry is the canonical JSON of a
 * {@code warden.event.v1} envelope, its hash is the SHA-256 of that text without the hash, and each
 * entry's {@code prev_hash} is the hash before it.
 */
class MinimalLedgerTest {
    @Test
    void everyStoredEntryIsACanonicalEnvelopeChainedToTheOneBefore(@TempDir Path dir) throws Exception {
        try (Connection c = PeerTarget.sqliteConfig().createConnection("jdbc:sqlite:" + dir.resolve("l.db"))) {
            MinimalLedger ledger = MinimalLedger.create(c, false);
            c.setAutoCommit(false);
            ledger.append(c, List.of(MinimalLedger.enqueued(1), MinimalLedger.enqueued(2)), 1_700_000_000_000L);
            ledger.append(c, List.of(MinimalLedger.claimed(1, 1_700_000_060_000L), MinimalLedger.claimed(2, 1_700_000_060_000L)),
                    1_700_000_000_001L);
            ledger.append(c, List.of(MinimalLedger.succeeded(2)), 1_700_000_000_002L);
            ledger.append(c, List.of(), 1_700_000_000_003L);
            c.commit();
            c.setAutoCommit(true);

            List<String> entries = new ArrayList<>();
            List<Long> jobs = new ArrayList<>();
            try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT seq, job, entry FROM floor_ledger ORDER BY seq")) {
                while (rs.next()) {
                    assertThat(rs.getLong(1)).isEqualTo(entries.size() + 1);
                    jobs.add(rs.getLong(2));
                    entries.add(rs.getString(3));
                }
            }
            assertThat(jobs).containsExactly(1L, 2L, 1L, 2L, 2L);
            String prev = "0".repeat(64);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < entries.size(); i++) {
                ObjectNode e = (ObjectNode) Json.parse(entries.get(i));
                assertThat(Json.canonical(e)).as("stored in canonical form").isEqualTo(entries.get(i));
                assertThat(e.path("schema").asText()).isEqualTo("warden.event.v1");
                assertThat(e.path("seq").asLong()).isEqualTo(i + 1);
                assertThat(e.path("corr_id").asText()).isEqualTo("job-" + jobs.get(i));
                assertThat(e.path("prev_hash").asText()).isEqualTo(prev);
                String hash = e.remove("hash").asText();
                assertThat(hash).isEqualTo(HexFormat.of().formatHex(sha.digest(Json.canonical(e).getBytes(StandardCharsets.UTF_8))));
                prev = hash;
            }
            assertThat(Json.parse(entries.get(0)).path("details").path("spec").asText()).isEqualTo(QueueScenarios.NOOP);
            assertThat(Json.parse(entries.get(2)).path("event").asText()).isEqualTo("job.claimed");
            try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT seq, hash FROM floor_ledger_head")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(5);
                assertThat(rs.getString(2)).isEqualTo(prev);
            }
            assertThat(ledger.note(c)).contains("5 entries");
        }
    }
}

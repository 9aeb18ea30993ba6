package dev.warden.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A closed store stays closed: a read that comes after {@link SqliteStore#close} (a background
 * thread of a process that is shutting down) fails instead of opening a connection again, which
 * recreated the WAL files in a data directory its owner was deleting; a read that was running while
 * the store closed gives its connection back closed.
 */
class SqliteStoreCloseTest {
    @TempDir
    Path dir;

    private List<String> files() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aReadAfterCloseFailsAndLeavesNoWalFilesBehind() throws Exception {
        SqliteStore store = new SqliteStore(dir.resolve("w.db"));
        List<String> chains = store.read(tx -> tx.ledgerChains());
        assertThat(chains).isEmpty();
        store.close();
        assertThat(files()).containsExactly("w.db");

        assertThatThrownBy(() -> store.read(tx -> tx.ledgerChains()))
                .isInstanceOf(StoreException.class).hasMessageContaining("closed");
        assertThat(files()).as("no connection opened again").containsExactly("w.db");
    }

    @Test
    void aReadRunningWhileTheStoreClosesGivesItsConnectionBackClosed() throws Exception {
        SqliteStore store = new SqliteStore(dir.resolve("w.db"));
        CountDownLatch inRead = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Future<List<String>> running = reader.submit(() -> store.read(tx -> {
                inRead.countDown();
                closed.await();
                return tx.ledgerChains();
            }));
            inRead.await();
            store.close();
            closed.countDown();
            assertThat(running.get()).isEmpty();
        } finally {
            reader.shutdownNow();
        }
        // the last connection closed: SQLite removed the WAL and shared-memory files
        assertThat(files()).containsExactly("w.db");
    }
}

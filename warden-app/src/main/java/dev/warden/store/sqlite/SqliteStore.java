package dev.warden.store.sqlite;

import dev.warden.store.Dialect;
import dev.warden.store.JdbcStoreSupport;
import dev.warden.store.StatementCache;
import dev.warden.store.Store;
import dev.warden.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The embedded store: one SQLite file in WAL mode. SQLite allows one writer at a time, so this
 * process funnels its writes through one connection (transactions begin IMMEDIATE, so writers
 * in other processes queue on the busy timeout instead of deadlocking on a lock upgrade); reads use a small pool and
 * see consistent snapshots while a write is in progress.
 */
public final class SqliteStore implements Store {
    private static final int READERS = 4;

    private final Path file;
    private final String url;
    private final StatementCache writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final BlockingQueue<StatementCache> readers = new ArrayBlockingQueue<>(READERS);
    private final java.util.concurrent.atomic.AtomicInteger openedReaders = new java.util.concurrent.atomic.AtomicInteger();

    public SqliteStore(Path file) {
        this.file = file.toAbsolutePath();
        this.url = "jdbc:sqlite:" + this.file;
        try {
            boolean existed = Files.exists(this.file);
            Files.createDirectories(this.file.getParent());
            Connection w = open(false);
            this.writer = new StatementCache(w);
            if (!existed) {
                restrictPermissions();
            }
            JdbcStoreSupport.migrate(w, Dialect.SQLITE);
        } catch (SQLException | IOException e) {
            throw new StoreException("cannot open SQLite store at " + this.file + ": " + e.getMessage(), e);
        }
    }

    private void restrictPermissions() {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException ignored) {
            // non-POSIX file systems: best effort
        }
    }

    private Connection open(boolean readOnly) throws SQLException {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        cfg.setBusyTimeout(60_000);
        cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
        // nothing reads generated keys; with them on, the driver matches every statement against a
        // pattern and runs an extra SELECT last_insert_rowid() (prepared anew) after each INSERT
        cfg.setGetGeneratedKeys(false);
        // auto-commit mode with explicit BEGIN/COMMIT: the driver must not hold a transaction open
        // between units of work, or other processes would find the database locked
        return cfg.createConnection(url);
    }

    @Override
    public <T> T write(Work<T> work) {
        writeLock.lock();
        try {
            return JdbcStoreSupport.inExplicitTransaction(writer, Dialect.SQLITE, "BEGIN IMMEDIATE", work);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public <T> T read(Work<T> work) {
        if (closed) {
            // a reader opened now would recreate the WAL files of a store its owner has let go
            throw new StoreException("the store " + describe() + " is closed", null);
        }
        StatementCache c;
        try {
            c = readers.poll();
            if (c == null) {
                // readers are opened on demand (a short CLI command needs one at most)
                c = openedReaders.getAndIncrement() < READERS ? new StatementCache(open(true)) : readers.take();
            }
        } catch (SQLException e) {
            openedReaders.decrementAndGet();
            throw new StoreException("cannot open a read connection: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a read connection", e);
        }
        try {
            return JdbcStoreSupport.inExplicitTransaction(c, Dialect.SQLITE, "BEGIN", work);
        } finally {
            readers.add(c);
            if (closed) {
                // closed while this read ran: close what close() could not take
                StatementCache left;
                while ((left = readers.poll()) != null) {
                    closeQuietly(left);
                }
            }
        }
    }

    /** A connection of its own for {@link #checkpointWal}, opened on first use. */
    private Connection checkpointer;
    private volatile boolean closed;

    /**
     * Hands the WAL checkpoints to {@link #checkpointWal} (called by a background thread of a
     * long-running process): the writer's commits then run SQLite's automatic checkpoint, with its
     * page copying and two fsyncs while the write lock is held, only once the WAL holds
     * {@code safetyPages} pages (the background thread stopped or cannot keep up) instead of 1,000.
     */
    public void deferAutoCheckpoint(int safetyPages) {
        writeLock.lock();
        try (java.sql.Statement s = writer.connection().createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint=" + safetyPages);
        } catch (SQLException e) {
            throw new StoreException("cannot set wal_autocheckpoint: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Copies the committed WAL frames into the database file (a PASSIVE checkpoint: it neither
     * waits for nor blocks readers or the writer) on a connection of its own, and returns the
     * frames the WAL held. Durability is unchanged: commits are durable exactly as before (WAL,
     * synchronous NORMAL); only the thread that pays for the checkpoint changes.
     */
    public synchronized int checkpointWal() {
        if (closed) {
            return 0;
        }
        try {
            if (checkpointer == null) {
                checkpointer = open(false);
            }
            try (java.sql.Statement s = checkpointer.createStatement();
                 java.sql.ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
                return rs.next() ? rs.getInt(2) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("WAL checkpoint failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return "sqlite:" + file;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        closed = true; // first: no read starts from here on
        writeLock.lock();
        try {
            closeQuietly(writer);
            StatementCache c;
            while ((c = readers.poll()) != null) {
                closeQuietly(c);
            }
            synchronized (this) {
                if (checkpointer != null) {
                    try {
                        checkpointer.close();
                    } catch (SQLException ignored) {
                        // closing: nothing to do
                    }
                    checkpointer = null;
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private static void closeQuietly(StatementCache statements) {
        statements.close();
        try {
            statements.connection().close();
        } catch (SQLException ignored) {
            // closing: nothing to do
        }
    }
}

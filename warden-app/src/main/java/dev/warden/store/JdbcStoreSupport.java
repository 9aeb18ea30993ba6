package dev.warden.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Transaction handling shared by the JDBC stores. */
public final class JdbcStoreSupport {
    private JdbcStoreSupport() {}

    /**
     * Runs {@code work} between explicit {@code begin} and COMMIT statements on a connection in
     * auto-commit mode (SQLite: the driver would otherwise keep a transaction, and with it a lock,
     * open between units of work).
     */
    public static <T> T inExplicitTransaction(StatementCache statements, Dialect dialect, String begin, Store.Work<T> work) {
        Connection c = statements.connection();
        execPrepared(statements, begin);
        try {
            T result = work.run(new JdbcTx(statements, dialect));
            execPrepared(statements, "COMMIT");
            return result;
        } catch (RuntimeException | Error e) {
            explicitRollback(c, e);
            throw e;
        } catch (Exception e) {
            explicitRollback(c, e);
            throw new StoreException(e);
        }
    }

    /**
     * Runs {@code work} in one transaction through the driver's own transaction handling (auto-commit
     * off): pgjdbc sends {@code BEGIN} (or {@code BEGIN READ ONLY}) together with the first statement,
     * so a transaction costs one round trip less than an explicit {@code BEGIN}. For pooled
     * connections that are handed back between units of work, where nothing stays open.
     */
    public static <T> T inDriverTransaction(StatementCache statements, Dialect dialect, boolean readOnly, Store.Work<T> work) {
        Connection c = statements.connection();
        try {
            c.setAutoCommit(false);
            if (readOnly) {
                c.setReadOnly(true);
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
        try {
            T result = work.run(new JdbcTx(statements, dialect));
            c.commit();
            return result;
        } catch (RuntimeException | Error e) {
            driverRollback(c, e);
            throw e;
        } catch (Exception e) {
            driverRollback(c, e);
            throw new StoreException(e);
        } finally {
            try {
                if (readOnly) {
                    c.setReadOnly(false);
                }
                c.setAutoCommit(true);
            } catch (SQLException e) {
                // the pool resets or evicts a connection it cannot restore
            }
        }
    }

    private static void driverRollback(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException r) {
            cause.addSuppressed(r);
        }
    }

    /** BEGIN and COMMIT run on every transaction: kept prepared like the statements of the work. */
    private static void execPrepared(StatementCache statements, String sql) {
        try {
            statements.prepare(sql).execute();
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    private static void explicitRollback(Connection c, Throwable cause) {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("ROLLBACK");
        } catch (SQLException r) {
            // no transaction open (the failure was in BEGIN or COMMIT already ended it)
            if (!String.valueOf(r.getMessage()).contains("no transaction")) {
                cause.addSuppressed(r);
            }
        }
    }

    public static void migrate(Connection c, Dialect dialect) throws SQLException {
        Migrations.apply(c, dialect);
    }
}
